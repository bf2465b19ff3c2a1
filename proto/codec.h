/* The one way into the wire format.
 *
 * Every decode of external bytes goes through cn_decode(), which
 *   1. rejects input longer than the message kind's cap before protobuf-c sees it, and
 *   2. runs protobuf-c with a bounded arena allocator, so that a small hostile input that
 *      expands into many tiny objects fails with CN_DECODE_TOO_COMPLEX instead of exhausting
 *      memory.
 * The decoded message lives in the arena; cn_pb_free() releases all of it at once.
 *
 * Caps are part of the protocol (docs/protocol.md) because every validator must accept and
 * reject the same bytes.
 */
#ifndef CLEARNODE_PROTO_CODEC_H
#define CLEARNODE_PROTO_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "proto/clearnode.pb-c.h"

/* Size caps in bytes of one encoded message of each kind. */
#define CN_CAP_TX ((size_t)128 * 1024)        /* a Signed transaction (envelope included) */
#define CN_CAP_TX_COUNT 10000                 /* transactions in one block */
#define CN_CAP_HEADER ((size_t)1024)
#define CN_CAP_VOTE ((size_t)512)             /* a Signed vote */
#define CN_CAP_PROPOSAL ((size_t)512)         /* a Signed proposal */
#define CN_CAP_COMMIT ((size_t)256 * 1024)
#define CN_CAP_EVIDENCE ((size_t)2 * CN_CAP_VOTE + 16)
#define CN_CAP_BLOCK ((size_t)4 * 1024 * 1024)
#define CN_CAP_RECEIPT ((size_t)64 * 1024)
#define CN_CAP_RESERVES_PROOF ((size_t)64 * 1024)
#define CN_CAP_ENVELOPE (CN_CAP_BLOCK + CN_CAP_COMMIT + 1024) /* one P2P frame */

/* The kinds of message that are ever decoded from outside. */
typedef enum {
    CN_MSG_SIGNED,         /* Clearnode__V1__Signed, cap CN_CAP_TX */
    CN_MSG_TX,             /* Clearnode__V1__Tx (a Signed body), cap CN_CAP_TX */
    CN_MSG_HEADER,         /* Clearnode__V1__Header */
    CN_MSG_BLOCK,          /* Clearnode__V1__Block */
    CN_MSG_VOTE,           /* Clearnode__V1__Vote (a Signed body) */
    CN_MSG_PROPOSAL,       /* Clearnode__V1__Proposal (a Signed body) */
    CN_MSG_COMMIT,         /* Clearnode__V1__Commit */
    CN_MSG_EVIDENCE,       /* Clearnode__V1__DuplicateVoteEvidence */
    CN_MSG_RECEIPT,        /* Clearnode__V1__Receipt */
    CN_MSG_RESERVES_PROOF, /* Clearnode__V1__ReservesProof */
    CN_MSG_ENVELOPE,       /* Clearnode__V1__Envelope (P2P frame payload) */
    CN_MSG_COUNT
} cn_msg_kind;

typedef enum {
    CN_DECODE_OK = 0,
    CN_DECODE_EMPTY,        /* zero bytes where a message is required */
    CN_DECODE_TOO_LARGE,    /* longer than the kind's cap */
    CN_DECODE_MALFORMED,    /* protobuf-c rejected the bytes */
    CN_DECODE_TOO_COMPLEX,  /* decoding needed more memory than the kind's budget */
    CN_DECODE_NOMEM,        /* the system is out of memory */
    CN_DECODE_BAD_KIND,     /* the caller passed an unknown kind */
    CN_DECODE_ERR_COUNT
} cn_decode_err;

/* A decoded message and the arena it lives in. */
typedef struct {
    ProtobufCMessage *msg;
    void *arena; /* private */
} cn_pb;

/* Stable short codes ("too_large", ...) and human messages for each error. */
const char *cn_decode_code(cn_decode_err err);
const char *cn_decode_strerror(cn_decode_err err);

/* Cap in bytes for `kind` (0 for an unknown kind). */
size_t cn_msg_cap(cn_msg_kind kind);
/* Name of the kind ("Signed", "Tx", ...). */
const char *cn_msg_name(cn_msg_kind kind);

/* Decodes `len` bytes of `buf` as `kind` into `out`.
 * Returns CN_DECODE_OK and fills `out`, or an error and leaves out->msg NULL.
 * Errors: CN_DECODE_EMPTY, CN_DECODE_TOO_LARGE, CN_DECODE_MALFORMED, CN_DECODE_TOO_COMPLEX,
 * CN_DECODE_NOMEM, CN_DECODE_BAD_KIND. On error nothing needs freeing (cn_pb_free is safe). */
cn_decode_err cn_decode(cn_msg_kind kind, const uint8_t *buf, size_t len, cn_pb *out);

/* Frees a decoded message (safe on a zeroed or already freed cn_pb). */
void cn_pb_free(cn_pb *pb);

/* Encodes `msg` into a fresh malloc'd buffer. Returns 1 and sets *out and *len (caller frees), or
 * 0 if the encoding would exceed `cap` (0 = no cap) or memory ran out. */
int cn_encode(const ProtobufCMessage *msg, size_t cap, uint8_t **out, size_t *len);

#endif
