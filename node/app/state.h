/* State layout: the keys and value encodings of the `state` database (docs/state.md).
 *
 * Keys start with one module byte; integers are big-endian; a variable-length field is always
 * last so no two logical keys share bytes. Values are fixed-layout binary records with a
 * version byte where they may grow.
 *
 *   'a' pubkey(32)                 account record (members and clients)
 *   'b' pubkey(32) symbol          balance, be64 (int64 >= 1; a zero balance is deleted)
 *   's' symbol                     supply, be64 (int64 >= 0)
 *   't' symbol                     asset record
 *   'd' custodian(32) ref          deposit reference -> be64 height that minted it
 *   'c' name                       contract bytecode
 *   'k' contract id(32) key        contract storage (node/contract/contract.h)
 *   'p' name                       module parameter -> be64 (two's complement int64)
 *   'm' name                       chain meta kept in state: "height", "time", "results"
 */
#ifndef CLEARNODE_NODE_APP_STATE_H
#define CLEARNODE_NODE_APP_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "node/app/overlay.h"
#include "node/genesis/genesis.h"
#include "node/store/keys.h"

enum {
    CN_SK_ACCOUNT = 'a',
    CN_SK_BALANCE = 'b',
    CN_SK_SUPPLY = 's',
    CN_SK_ASSET = 't',
    CN_SK_DEPOSIT = 'd',
    CN_SK_CONTRACT = 'c',
    CN_SK_PARAM = 'p',
    CN_SK_META = 'm',
};

enum { CN_ACCT_MEMBER = 1, CN_ACCT_CLIENT = 2 };

#define CN_LABEL_MAX 64

typedef struct {
    int kind;        /* CN_ACCT_MEMBER or CN_ACCT_CLIENT */
    uint32_t roles;  /* CN_ROLE_* bits; 0 for clients */
    uint64_t nonce;  /* last used nonce; the next valid one is nonce + 1 */
    int64_t power;   /* validator power (members) */
    uint8_t registrar[32]; /* member who registered a client; zero for members */
    size_t label_len;
    char label[CN_LABEL_MAX + 1]; /* member name or the registrar's label */
} cn_account;

#define CN_ACCOUNT_MAX_ENC (1 + 1 + 4 + 8 + 8 + 32 + 1 + CN_LABEL_MAX)

/* Encodes an account; returns the length. */
size_t cn_account_encode(const cn_account *a, uint8_t out[CN_ACCOUNT_MAX_ENC]);
/* Decodes; returns 1, or 0 for a malformed record. */
int cn_account_decode(cn_account *a, const uint8_t *p, size_t n);

/* Asset record: the genesis fields. */
#define CN_ASSET_ENC (1 + 4 * 6 + 8)
void cn_asset_encode(const cn_gen_asset *a, uint8_t out[CN_ASSET_ENC]);
int cn_asset_decode(cn_gen_asset *a, const char *symbol, const uint8_t *p, size_t n);

/* Key builders. */
void cn_sk_account(cn_key *k, const uint8_t pub[32]);
void cn_sk_balance(cn_key *k, const uint8_t pub[32], const char *symbol);
void cn_sk_supply(cn_key *k, const char *symbol);
void cn_sk_asset(cn_key *k, const char *symbol);
void cn_sk_deposit(cn_key *k, const uint8_t custodian[32], const uint8_t *ref, size_t ref_len);
void cn_sk_named(cn_key *k, uint8_t prefix, const char *name);

/* Typed reads and writes through the overlay. Reads return 1 found, 0 absent, -1 storage
 * error or a malformed value. Writes return 1, or 0 when memory ran out. */
int cn_state_get_account(cn_overlay *ov, const uint8_t pub[32], cn_account *a);
int cn_state_put_account(cn_overlay *ov, const uint8_t pub[32], const cn_account *a);
int cn_state_get_i64(cn_overlay *ov, const cn_key *k, int64_t *v); /* absent reads as 0 */
int cn_state_put_i64(cn_overlay *ov, const cn_key *k, int64_t v);
/* Balance: absent reads as 0; writing 0 deletes the key. */
int cn_state_get_balance(cn_overlay *ov, const uint8_t pub[32], const char *sym, int64_t *v);
int cn_state_set_balance(cn_overlay *ov, const uint8_t pub[32], const char *sym, int64_t v);

/* Writes the genesis state (members, assets, supplies, parameters, contracts). */
int cn_state_write_genesis(cn_overlay *ov, const cn_genesis *g);

#endif
