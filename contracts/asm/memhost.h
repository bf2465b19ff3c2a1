/* An in-memory host for running contracts without a node: clearasm run, the test vectors,
 * the fuzzers and the benchmark use it.
 *
 * It keeps storage (namespaced by contract id, sorted), oracle prices, halted assets and
 * ledger balances in plain sorted arrays, implements the cn_vm_host callbacks over them, and
 * can commit a successful call's overlay, as the node does with its own store. Transfers are
 * judged by balance (balance + pending >= amount) and denied from accounts marked `deny`.
 *
 * State can be written as text lines (state files of `clearasm run --storage`, and .vmt
 * vectors):
 *     storage KEY VALUE            KEY, VALUE: "text" | 0xHEX | integer (8 bytes big-endian),
 *                                  joined with '+', e.g. "pos/"+7
 *     price ASSET MICRO_USD
 *     halted ASSET                 (-1: the whole market)
 *     balance ACCOUNT ASSET AMOUNT ACCOUNT: "name" (zero-padded to 32 bytes) or 0x + 64 hex
 *     deny ACCOUNT
 *
 * It also defines the writes digest used by the vectors and by `make determinism`.
 */
#ifndef CLEARNODE_CONTRACTS_ASM_MEMHOST_H
#define CLEARNODE_CONTRACTS_ASM_MEMHOST_H

#include <stddef.h>
#include <stdint.h>

#include "contracts/asm/lexer.h"
#include "contracts/vm/host.h"
#include "contracts/vm/overlay.h"

typedef struct cn_asm_memhost cn_asm_memhost;

cn_asm_memhost *cn_asm_memhost_new(void);
void cn_asm_memhost_free(cn_asm_memhost *h);
/* Fills *out with callbacks over h. */
void cn_asm_memhost_table(cn_asm_memhost *h, cn_vm_host *out);

/* Setters return 1, or 0 when out of memory. */
int cn_asm_memhost_put(cn_asm_memhost *h, const uint8_t contract[CN_VM_ID_LEN],
                       const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
int cn_asm_memhost_set_price(cn_asm_memhost *h, int64_t asset, int64_t price);
int cn_asm_memhost_set_halted(cn_asm_memhost *h, int64_t asset);
int cn_asm_memhost_set_balance(cn_asm_memhost *h, const uint8_t acct[CN_VM_ID_LEN],
                               int64_t asset, int64_t amount);
int cn_asm_memhost_deny(cn_asm_memhost *h, const uint8_t acct[CN_VM_ID_LEN]);
int64_t cn_asm_memhost_balance(const cn_asm_memhost *h, const uint8_t acct[CN_VM_ID_LEN],
                               int64_t asset);
/* Number of storage entries (all contracts). */
size_t cn_asm_memhost_count(const cn_asm_memhost *h);

/* Applies a successful call's writes and transfers. Returns CN_VM_OK, CN_VM_E_OVERFLOW (a
 * balance would leave int64) or CN_VM_E_NOMEM. */
cn_vm_err cn_asm_memhost_commit(cn_asm_memhost *h, const uint8_t contract[CN_VM_ID_LEN],
                                const cn_vm_overlay *ov);

/* Applies one state line (see above). Returns 1 if applied, 0 if the line is not a state
 * directive, -1 on a malformed one (reason in err). */
int cn_asm_memhost_directive(cn_asm_memhost *h, const uint8_t contract[CN_VM_ID_LEN],
                             const cn_asm_line *ln, char *err, size_t errlen);

/* Parses a byte value starting at token *i ("text" | 0xHEX | integer, joined by '+') into
 * out (cap bytes); advances *i. Returns 1, or 0 with a reason. */
int cn_asm_parse_bytes(const cn_asm_line *ln, int *i, uint8_t *out, size_t cap, size_t *len,
                       char *err, size_t errlen);
/* Parses a 32-byte id: "name" zero-padded, or 0x and 64 hex digits. */
int cn_asm_parse_id(const cn_asm_tok *t, uint8_t out[CN_VM_ID_LEN], char *err, size_t errlen);

/* H_tag("clearnode/vm/writes", ...) over the overlay's writes (sorted), transfers and events
 * (in order), each field length-prefixed; docs/vm.md §8. cn_crypto_init() must have run. */
void cn_asm_writes_digest(const cn_vm_overlay *ov, uint8_t out[32]);

#endif
