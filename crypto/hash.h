/* Tagged SHA-256 (BIP340 style): H_tag(x) = SHA256(SHA256(tag) || SHA256(tag) || x).
 *
 * Every use of a hash in clearnode has its own tag so that a hash made for one purpose can
 * never be replayed as another (a Merkle leaf as a node, a vote as a transaction). The 64-byte
 * tag prefix is one SHA-256 block, so it is absorbed once into a midstate and each hash starts
 * from a copy of it. docs/protocol.md lists every tag.
 *
 * cn_crypto_init() (crypto/schnorr.h) must run before any function here.
 */
#ifndef CLEARNODE_CRYPTO_HASH_H
#define CLEARNODE_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define CN_HASH_LEN 32

/* The tags, one per use. Their strings are in hash.c and docs/protocol.md. */
typedef enum {
    CN_TAG_TX,            /* "clearnode/tx": id of a Signed transaction (its exact bytes) */
    CN_TAG_BLOCK,         /* "clearnode/block": block id, over the encoded Header bytes */
    CN_TAG_COMMIT,        /* "clearnode/commit": last_commit_hash, over the encoded Commit */
    CN_TAG_MERKLE_LEAF,   /* "clearnode/merkle/leaf": tx-root leaf */
    CN_TAG_MERKLE_NODE,   /* "clearnode/merkle/node": tx-root inner node */
    CN_TAG_MERKLE_EMPTY,  /* "clearnode/merkle/empty": root of zero leaves */
    CN_TAG_SIG_TX,        /* "clearnode/sig/tx": message signed for a transaction */
    CN_TAG_SIG_VOTE,      /* "clearnode/sig/vote" */
    CN_TAG_SIG_PROPOSAL,  /* "clearnode/sig/proposal" */
    CN_TAG_SIG_HANDSHAKE, /* "clearnode/sig/handshake": P2P transcript */
    CN_TAG_SIG_API,       /* "clearnode/sig/api": signed HTTP queries (reserve proofs) */
    CN_TAG_WITHDRAW_APPROVE, /* "clearnode/withdraw/approve" */
    CN_TAG_APPHASH,       /* "clearnode/apphash": app hash chain link */
    CN_TAG_WRITESET,      /* "clearnode/writeset": hash of a block's sorted write set */
    CN_TAG_VALIDATORS,    /* "clearnode/validators": validator set hash */
    CN_TAG_POR_LEAF,      /* "clearnode/por/leaf": reserves leaf */
    CN_TAG_POR_NODE,      /* "clearnode/por/node": reserves inner node */
    CN_TAG_POR_PAD,       /* "clearnode/por/pad": reserves padding leaf */
    CN_TAG_POR_ACCOUNT,   /* "clearnode/por/account": hashed account id in a leaf */
    CN_TAG_POR_SALT,      /* "clearnode/por/salt": per-epoch salt derivation */
    CN_TAG_VM_WRITES,     /* "clearnode/vm/writes": digest of a contract call's writes */
    CN_TAG_EVIDENCE,      /* "clearnode/evidence": a block's evidence list (Header.evidence_hash) */
    CN_TAG_COUNT
} cn_tag_id;

/* Returns the tag string of `id` (for docs and diagnostics). */
const char *cn_tag_name(cn_tag_id id);

/* An incremental tagged hash. */
typedef struct {
    crypto_hash_sha256_state st;
} cn_hasher;

/* Computes the midstate of every tag. Called by cn_crypto_init(); idempotent. */
void cn_hash_init_tags(void);

/* Starts a hash with the tag's precomputed midstate. */
void cn_hasher_start(cn_hasher *h, cn_tag_id tag);
/* Starts a hash for a tag given as a string (for tags outside the table: tests, tools). */
void cn_hasher_start_named(cn_hasher *h, const char *tag);
void cn_hasher_update(cn_hasher *h, const void *data, size_t len);
void cn_hasher_u8(cn_hasher *h, uint8_t v);
void cn_hasher_u32(cn_hasher *h, uint32_t v);   /* big-endian */
void cn_hasher_u64(cn_hasher *h, uint64_t v);   /* big-endian */
/* A variable-length field: u32 big-endian length, then the bytes. */
void cn_hasher_bytes(cn_hasher *h, const void *data, size_t len);
void cn_hasher_finish(cn_hasher *h, uint8_t out[CN_HASH_LEN]);

/* One-shot H_tag(data). */
void cn_hash_tagged(uint8_t out[CN_HASH_LEN], cn_tag_id tag, const void *data, size_t len);
/* One-shot H_tag(a || b) of two 32-byte values. */
void cn_hash_pair(uint8_t out[CN_HASH_LEN], cn_tag_id tag, const uint8_t a[CN_HASH_LEN],
                  const uint8_t b[CN_HASH_LEN]);
/* Plain SHA-256, for the benchmark's raw figure and for tag derivation. */
void cn_sha256(uint8_t out[CN_HASH_LEN], const void *data, size_t len);

#endif
