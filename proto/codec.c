/* Capped, arena-bounded decoding. See codec.h. */
#include "proto/codec.h"

#include <stdlib.h>
#include <string.h>

/* Decoding may allocate at most this much for an input of n bytes. Legitimate messages need
 * about 2n (bytes fields are copied, plus small structs); the margin admits them all while a
 * hostile input of many empty sub-messages (up to ~60n) is refused. */
#define BUDGET_FACTOR 8
#define BUDGET_BASE ((size_t)64 * 1024)
#define FIRST_CHUNK ((size_t)2048)
#define ALIGN 16

struct chunk {
    struct chunk *next;
    size_t size, used;
    _Alignas(ALIGN) unsigned char data[];
};

struct arena {
    struct chunk *head;
    size_t budget;   /* bytes the decoder may still obtain */
    int over_budget; /* set when a request was refused for the budget */
};

static const struct {
    const ProtobufCMessageDescriptor *desc;
    size_t cap;
    const char *name;
} kinds[CN_MSG_COUNT] = {
    [CN_MSG_SIGNED] = {&clearnode__v1__signed__descriptor, CN_CAP_TX, "Signed"},
    [CN_MSG_TX] = {&clearnode__v1__tx__descriptor, CN_CAP_TX, "Tx"},
    [CN_MSG_HEADER] = {&clearnode__v1__header__descriptor, CN_CAP_HEADER, "Header"},
    [CN_MSG_BLOCK] = {&clearnode__v1__block__descriptor, CN_CAP_BLOCK, "Block"},
    [CN_MSG_VOTE] = {&clearnode__v1__vote__descriptor, CN_CAP_VOTE, "Vote"},
    [CN_MSG_PROPOSAL] = {&clearnode__v1__proposal__descriptor, CN_CAP_PROPOSAL, "Proposal"},
    [CN_MSG_COMMIT] = {&clearnode__v1__commit__descriptor, CN_CAP_COMMIT, "Commit"},
    [CN_MSG_EVIDENCE] = {&clearnode__v1__duplicate_vote_evidence__descriptor, CN_CAP_EVIDENCE,
                         "DuplicateVoteEvidence"},
    [CN_MSG_RECEIPT] = {&clearnode__v1__receipt__descriptor, CN_CAP_RECEIPT, "Receipt"},
    [CN_MSG_RESERVES_PROOF] = {&clearnode__v1__reserves_proof__descriptor,
                               CN_CAP_RESERVES_PROOF, "ReservesProof"},
    [CN_MSG_ENVELOPE] = {&clearnode__v1__envelope__descriptor, CN_CAP_ENVELOPE, "Envelope"},
};

static const struct {
    const char *code, *text;
} errors[CN_DECODE_ERR_COUNT] = {
    [CN_DECODE_OK] = {"ok", "decoded"},
    [CN_DECODE_EMPTY] = {"empty", "message is empty"},
    [CN_DECODE_TOO_LARGE] = {"too_large", "message exceeds the size cap for its kind"},
    [CN_DECODE_MALFORMED] = {"malformed", "bytes are not a valid protobuf message"},
    [CN_DECODE_TOO_COMPLEX] = {"too_complex", "message expands beyond its decoding budget"},
    [CN_DECODE_NOMEM] = {"no_memory", "out of memory while decoding"},
    [CN_DECODE_BAD_KIND] = {"bad_kind", "unknown message kind"},
};

const char *cn_decode_code(cn_decode_err err) {
    return (unsigned)err < CN_DECODE_ERR_COUNT ? errors[err].code : "unknown";
}

const char *cn_decode_strerror(cn_decode_err err) {
    return (unsigned)err < CN_DECODE_ERR_COUNT ? errors[err].text : "unknown decode error";
}

size_t cn_msg_cap(cn_msg_kind kind) {
    return (unsigned)kind < CN_MSG_COUNT ? kinds[kind].cap : 0;
}

const char *cn_msg_name(cn_msg_kind kind) {
    return (unsigned)kind < CN_MSG_COUNT ? kinds[kind].name : "?";
}

static void *arena_alloc(void *data, size_t size) {
    struct arena *a = data;
    size_t need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < size)
        return NULL;
    struct chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t want = c ? c->size * 2 : FIRST_CHUNK;
        if (want < need)
            want = need;
        if (want > a->budget)
            want = need;
        if (want > a->budget) {
            a->over_budget = 1;
            return NULL;
        }
        c = malloc(sizeof *c + want);
        if (!c)
            return NULL;
        a->budget -= want;
        c->size = want;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += need;
    return p;
}

/* Individual frees are no-ops: the whole arena goes at once. */
static void arena_free(void *data, void *ptr) {
    (void)data;
    (void)ptr;
}

static void arena_destroy(struct arena *a) {
    if (!a)
        return;
    struct chunk *c = a->head;
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

cn_decode_err cn_decode(cn_msg_kind kind, const uint8_t *buf, size_t len, cn_pb *out) {
    out->msg = NULL;
    out->arena = NULL;
    if ((unsigned)kind >= CN_MSG_COUNT)
        return CN_DECODE_BAD_KIND;
    if (len == 0 || !buf)
        return CN_DECODE_EMPTY;
    if (len > kinds[kind].cap)
        return CN_DECODE_TOO_LARGE;
    struct arena *a = calloc(1, sizeof *a);
    if (!a)
        return CN_DECODE_NOMEM;
    a->budget = BUDGET_BASE + BUDGET_FACTOR * len;
    ProtobufCAllocator alloc = {arena_alloc, arena_free, a};
    ProtobufCMessage *m = protobuf_c_message_unpack(kinds[kind].desc, &alloc, len, buf);
    if (!m) {
        cn_decode_err err = a->over_budget ? CN_DECODE_TOO_COMPLEX : CN_DECODE_MALFORMED;
        arena_destroy(a);
        return err;
    }
    out->msg = m;
    out->arena = a;
    return CN_DECODE_OK;
}

void cn_pb_free(cn_pb *pb) {
    arena_destroy(pb->arena);
    pb->arena = NULL;
    pb->msg = NULL;
}

int cn_encode(const ProtobufCMessage *msg, size_t cap, uint8_t **out, size_t *len) {
    size_t n = protobuf_c_message_get_packed_size(msg);
    if (cap && n > cap)
        return 0;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return 0;
    size_t w = protobuf_c_message_pack(msg, buf);
    if (w != n) {
        free(buf);
        return 0;
    }
    *out = buf;
    *len = n;
    return 1;
}
