/* Tagged SHA-256 with precomputed midstates. See hash.h. */
#include "crypto/hash.h"

#include <string.h>

#include "crypto/bytes.h"

static const char *const tag_names[CN_TAG_COUNT] = {
    [CN_TAG_TX] = "clearnode/tx",
    [CN_TAG_BLOCK] = "clearnode/block",
    [CN_TAG_COMMIT] = "clearnode/commit",
    [CN_TAG_MERKLE_LEAF] = "clearnode/merkle/leaf",
    [CN_TAG_MERKLE_NODE] = "clearnode/merkle/node",
    [CN_TAG_MERKLE_EMPTY] = "clearnode/merkle/empty",
    [CN_TAG_SIG_TX] = "clearnode/sig/tx",
    [CN_TAG_SIG_VOTE] = "clearnode/sig/vote",
    [CN_TAG_SIG_PROPOSAL] = "clearnode/sig/proposal",
    [CN_TAG_SIG_HANDSHAKE] = "clearnode/sig/handshake",
    [CN_TAG_SIG_API] = "clearnode/sig/api",
    [CN_TAG_WITHDRAW_APPROVE] = "clearnode/withdraw/approve",
    [CN_TAG_APPHASH] = "clearnode/apphash",
    [CN_TAG_WRITESET] = "clearnode/writeset",
    [CN_TAG_VALIDATORS] = "clearnode/validators",
    [CN_TAG_POR_LEAF] = "clearnode/por/leaf",
    [CN_TAG_POR_NODE] = "clearnode/por/node",
    [CN_TAG_POR_PAD] = "clearnode/por/pad",
    [CN_TAG_POR_ACCOUNT] = "clearnode/por/account",
    [CN_TAG_POR_SALT] = "clearnode/por/salt",
    [CN_TAG_VM_WRITES] = "clearnode/vm/writes",
    [CN_TAG_EVIDENCE] = "clearnode/evidence",
};

/* Midstates after absorbing SHA256(tag) || SHA256(tag): exactly one 64-byte block. */
static crypto_hash_sha256_state midstates[CN_TAG_COUNT];
static int midstates_ready;

const char *cn_tag_name(cn_tag_id id) {
    return (unsigned)id < CN_TAG_COUNT ? tag_names[id] : "?";
}

static void absorb_tag(crypto_hash_sha256_state *st, const char *tag) {
    uint8_t th[CN_HASH_LEN];
    crypto_hash_sha256(th, (const unsigned char *)tag, strlen(tag));
    crypto_hash_sha256_init(st);
    crypto_hash_sha256_update(st, th, sizeof th);
    crypto_hash_sha256_update(st, th, sizeof th);
}

void cn_hash_init_tags(void) {
    if (midstates_ready)
        return;
    for (int i = 0; i < CN_TAG_COUNT; i++)
        absorb_tag(&midstates[i], tag_names[i]);
    midstates_ready = 1;
}

void cn_hasher_start(cn_hasher *h, cn_tag_id tag) {
    if (!midstates_ready)
        cn_hash_init_tags();
    h->st = midstates[tag];
}

void cn_hasher_start_named(cn_hasher *h, const char *tag) {
    absorb_tag(&h->st, tag);
}

void cn_hasher_update(cn_hasher *h, const void *data, size_t len) {
    crypto_hash_sha256_update(&h->st, data, len);
}

void cn_hasher_u8(cn_hasher *h, uint8_t v) {
    crypto_hash_sha256_update(&h->st, &v, 1);
}

void cn_hasher_u32(cn_hasher *h, uint32_t v) {
    uint8_t b[4];
    cn_put_be32(b, v);
    crypto_hash_sha256_update(&h->st, b, sizeof b);
}

void cn_hasher_u64(cn_hasher *h, uint64_t v) {
    uint8_t b[8];
    cn_put_be64(b, v);
    crypto_hash_sha256_update(&h->st, b, sizeof b);
}

void cn_hasher_bytes(cn_hasher *h, const void *data, size_t len) {
    cn_hasher_u32(h, (uint32_t)len);
    crypto_hash_sha256_update(&h->st, data, len);
}

void cn_hasher_finish(cn_hasher *h, uint8_t out[CN_HASH_LEN]) {
    crypto_hash_sha256_final(&h->st, out);
}

void cn_hash_tagged(uint8_t out[CN_HASH_LEN], cn_tag_id tag, const void *data, size_t len) {
    cn_hasher h;
    cn_hasher_start(&h, tag);
    cn_hasher_update(&h, data, len);
    cn_hasher_finish(&h, out);
}

void cn_hash_pair(uint8_t out[CN_HASH_LEN], cn_tag_id tag, const uint8_t a[CN_HASH_LEN],
                  const uint8_t b[CN_HASH_LEN]) {
    cn_hasher h;
    cn_hasher_start(&h, tag);
    cn_hasher_update(&h, a, CN_HASH_LEN);
    cn_hasher_update(&h, b, CN_HASH_LEN);
    cn_hasher_finish(&h, out);
}

void cn_sha256(uint8_t out[CN_HASH_LEN], const void *data, size_t len) {
    crypto_hash_sha256(out, data, len);
}
