/* The Tendermint consensus core: Algorithm 1 of "The latest gossip on BFT consensus"
 * (Buchman, Kwon, Milosevic, arXiv 1807.04938) as a pure state machine. docs/consensus.md
 * maps every rule of the algorithm to the code.
 *
 * Events in, outputs out. The node calls one cn_cons_on_* function per event (a proposal or
 * vote it decoded and whose signature it checked, a timeout that fired, the block it built
 * when asked for one); the call runs every rule the event enables and leaves a list of
 * outputs that the node performs in order before the next call (cn_cons_outputs):
 *
 *   PERSIST    write .sign (and the message of the next output, once signed) durably, with
 *              fsync, BEFORE performing any later output of the list
 *   PROPOSAL   sign (kind "proposal") and broadcast .proposal (the node sets the timestamp);
 *              .resend = 1: identical to the persisted one, resend that instead of signing
 *   VOTE       sign (kind "vote") and broadcast .vote (the node sets the timestamp);
 *              .resend as above
 *   GET_VALUE  this validator proposes at (.height, .round): build a block and answer with
 *              cn_cons_on_value
 *   TIMEOUT    call cn_cons_on_timeout(.kind, .height, .round) after .ms milliseconds
 *   DECIDE     .proposal's value is decided at its height, in round .round: fetch the commit
 *              (cn_cons_commit_votes), commit the block, then cn_cons_start_height(h + 1)
 *   EVIDENCE   two conflicting votes from one validator (.a counted, .b ignored)
 *   PROPOSAL_CONFLICT  two different proposals from one proposer for one round
 *
 * No I/O, no clock, no allocation, no global state: everything lives in struct cn_cons, which
 * the caller allocates (it is a few hundred kilobytes: use the heap) and owns. Not
 * thread-safe; one thread drives one core.
 *
 * Restart safety: the sign state (signstate.h) passed to cn_cons_init is the last one the
 * node persisted. The core never signs anything the guard refuses, and cn_cons_start_height
 * resumes at the persisted round and step with the persisted lock, so a restarted validator
 * never signs twice for one step and never forgets its lock.
 */
#ifndef CLEARNODE_NODE_CONSENSUS_CORE_H
#define CLEARNODE_NODE_CONSENSUS_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "node/consensus/signstate.h"
#include "node/consensus/types.h"
#include "node/consensus/valset.h"
#include "node/consensus/voteset.h"

/* Rounds of one height kept at once; a message for a round not kept is dropped (gossip
 * brings it again). A message may open a round up to CN_CONS_ROUND_WINDOW above the current
 * one; a higher round only counts toward the f+1 round skip. */
#define CN_CONS_ROUND_SLOTS 16u
#define CN_CONS_ROUND_WINDOW 64u
/* Different proposals kept per round (only a faulty proposer sends more than one). */
#define CN_CONS_MAX_PROPOSALS 4u
#define CN_CONS_MAX_OUTPUTS 64u

/* Timeouts: timeout_X(round) = X_ms + round * X_delta_ms, in milliseconds (saturating).
 * Config names: consensus.timeout_propose_ms, timeout_propose_delta_ms, timeout_prevote_ms,
 * timeout_prevote_delta_ms, timeout_precommit_ms, timeout_precommit_delta_ms. */
typedef struct {
    uint64_t timeout_propose_ms;
    uint64_t timeout_propose_delta_ms;
    uint64_t timeout_prevote_ms;
    uint64_t timeout_prevote_delta_ms;
    uint64_t timeout_precommit_ms;
    uint64_t timeout_precommit_delta_ms;
} cn_cons_config;

typedef enum {
    CN_CONS_OUT_PERSIST = 1,
    CN_CONS_OUT_PROPOSAL = 2,
    CN_CONS_OUT_VOTE = 3,
    CN_CONS_OUT_GET_VALUE = 4,
    CN_CONS_OUT_TIMEOUT = 5,
    CN_CONS_OUT_DECIDE = 6,
    CN_CONS_OUT_EVIDENCE = 7,
    CN_CONS_OUT_PROPOSAL_CONFLICT = 8
} cn_cons_out_kind;

typedef struct {
    uint8_t kind;   /* cn_cons_out_kind */
    uint8_t resend; /* PROPOSAL, VOTE: identical to the persisted message */
    union {
        cn_cons_sign_state sign;  /* PERSIST */
        cn_cons_proposal proposal; /* PROPOSAL */
        cn_cons_vote vote;        /* VOTE */
        struct {
            uint64_t height;
            uint32_t round;
        } get_value; /* GET_VALUE */
        struct {
            uint8_t kind; /* cn_cons_timeout_kind */
            uint64_t height;
            uint32_t round;
            uint64_t ms;
        } timeout; /* TIMEOUT */
        struct {
            uint32_t round;
            cn_cons_proposal proposal;
        } decide; /* DECIDE */
        struct {
            cn_cons_vote a, b;
        } evidence; /* EVIDENCE */
        struct {
            cn_cons_proposal a, b;
        } proposal_conflict; /* PROPOSAL_CONFLICT */
    } u;
} cn_cons_output;

/* Results of the cn_cons_on_* calls. Negative: the message is malformed for this height
 * (the node may score the peer); the others are not errors. */
typedef enum {
    CN_CONS_OK = 0,        /* accepted */
    CN_CONS_DUPLICATE = 1, /* already known */
    CN_CONS_STALE = 2,     /* earlier height or round not kept, or a stale timeout/answer */
    CN_CONS_FUTURE = 3,    /* a later height: the node may hold it until it gets there */
    CN_CONS_CONFLICT = 4,  /* equivocation: evidence output, message not counted */
    CN_CONS_INVALID = -1,  /* bad validator index, wrong proposer, bad round or pol_round */
    CN_CONS_ESTATE = -2    /* no height started */
} cn_cons_result;

typedef struct {
    uint8_t used;
    uint8_t nprops;
    uint8_t prop_conflict_reported;
    uint8_t prevote_timeout_done;   /* line 34 fired in this round */
    uint8_t precommit_timeout_done; /* line 47 fired in this round */
    uint8_t lock_done;              /* line 36 fired in this round */
    uint32_t round;
    uint32_t proposer;
    cn_cons_proposal props[CN_CONS_MAX_PROPOSALS];
    uint8_t prop_valid[CN_CONS_MAX_PROPOSALS];
    cn_cons_voteset prevotes;
    cn_cons_voteset precommits;
} cn_cons_round;

typedef struct {
    cn_cons_config cfg;
    cn_cons_sign_state sign;
    cn_cons_valset vs;      /* priorities at the start of the height */
    cn_cons_valset cursor;  /* proposer cursor: vs after cursor_steps rotation steps */
    uint32_t cursor_steps;
    uint32_t cursor_proposer;
    uint32_t self;          /* index in vs, or CN_CONS_NONE */
    uint8_t started;
    uint8_t decided;
    uint8_t step;           /* cn_cons_step */
    uint8_t awaiting_value; /* GET_VALUE out for (height, round) */
    uint64_t height;
    uint32_t round;
    int64_t locked_round;
    cn_cons_value locked_value;
    int64_t valid_round;
    cn_cons_value valid_value;
    uint8_t seen[CN_CONS_MAX_VALIDATORS];           /* sent anything at this height */
    uint32_t max_round_seen[CN_CONS_MAX_VALIDATORS]; /* highest round it sent */
    uint32_t refused;       /* signatures refused by the guard (diagnostics) */
    uint32_t nout;
    uint8_t overflow;       /* outputs lost: a bug; the node must stop */
    cn_cons_output out[CN_CONS_MAX_OUTPUTS];
    cn_cons_round rounds[CN_CONS_ROUND_SLOTS];
} cn_cons;

/* Prepares a core with timeouts cfg and the last persisted sign state (NULL: never signed).
 * Returns 1, or 0 if the sign state is inconsistent. */
int cn_cons_init(cn_cons *c, const cn_cons_config *cfg, const cn_cons_sign_state *restored);

/* Starts height h with its validator set (priorities at the start of h) and this node's
 * index in it (CN_CONS_NONE for a non-validator). Clears the outputs, then runs StartRound:
 * round 0, or the persisted round and step when the sign state is at h. Returns CN_CONS_OK
 * or CN_CONS_INVALID (bad set or index). */
int cn_cons_start_height(cn_cons *c, uint64_t h, const cn_cons_valset *vs, uint32_t self);

/* A proposal, with the application's validity verdict valid(v) for its block (1 or 0).
 * The node must hold the whole block before calling, and must not call for a proposal it
 * could not judge yet. */
int cn_cons_on_proposal(cn_cons *c, const cn_cons_proposal *p, int valid);
/* A prevote or precommit. */
int cn_cons_on_vote(cn_cons *c, const cn_cons_vote *v);
/* A timeout scheduled by a TIMEOUT output fired. */
int cn_cons_on_timeout(cn_cons *c, cn_cons_timeout_kind kind, uint64_t h, uint32_t r);
/* The answer to GET_VALUE: the id of the block to propose (the node keeps the block). */
int cn_cons_on_value(cn_cons *c, uint64_t h, uint32_t r, const uint8_t id[32]);

/* The outputs of the last call, in order; valid until the next call. */
const cn_cons_output *cn_cons_outputs(const cn_cons *c, size_t *n);

/* Precommits for id in round r of the current height (the commit certificate after DECIDE);
 * writes up to max votes in validator order and returns how many there are. The core keeps
 * one full vote per validator; this node's own vote, and a faulty validator's second vote
 * counted for id, come with timestamp 0: the node takes the signed copies it stored. */
size_t cn_cons_commit_votes(const cn_cons *c, uint32_t r, const uint8_t id[32], cn_cons_vote *out,
                            size_t max);

/* Timeout duration of kind at round r under cfg. */
uint64_t cn_cons_timeout_ms(const cn_cons_config *cfg, cn_cons_timeout_kind kind, uint32_t r);

#endif
