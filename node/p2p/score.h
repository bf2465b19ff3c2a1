/* Peer scoring, bans and reconnect backoff: pure arithmetic on a monotonic clock in ms.
 *
 * Scores start at 0 (clean) and only go down; they recover CN_P2P_SCORE_RECOVER_MS-paced,
 * one point at a time, back to 0. An offence on an authenticated connection subtracts its
 * penalty; at CN_P2P_SCORE_BAN or below the peer is banned for ban_base_ms * 2^(bans so far),
 * capped at ban_max_ms, and its score restarts at CN_P2P_SCORE_BAN / 2, so one further
 * serious offence soon after bans it again, for longer. Penalties (docs/p2p.md, "Scoring"):
 *   DECODE, BAD_TAG       50  proven: the bytes authenticated under the peer's session key
 *   OVERSIZED, DECRYPT    25  may be injected by an on-path attacker, so it takes four
 * Every other reason costs nothing (timeouts, EOF, slowness, handshake refusals).
 *
 * Backoff: the n-th consecutive failed dial waits a uniformly random time in
 * [cap/2, cap], cap = min(backoff_max_ms, backoff_min_ms * 2^n) ("equal jitter").
 */
#ifndef CLEARNODE_NODE_P2P_SCORE_H
#define CLEARNODE_NODE_P2P_SCORE_H

#include <stdint.h>

#include "node/p2p/p2p.h"

#define CN_P2P_SCORE_RECOVER_MS 6000 /* one point back per 6 s: 10 points a minute */

typedef struct {
    int32_t score;
    uint32_t bans;
    uint64_t updated_ms;      /* when recovery was last applied */
    uint64_t banned_until_ms; /* 0 = not banned */
} cn_p2p_score;

/* Penalty (a positive number of points) for ending a connection with `r`. */
int32_t cn_p2p_penalty(cn_p2p_reason r);

/* Applies recovery up to `now`. */
void cn_p2p_score_recover(cn_p2p_score *s, uint64_t now);

/* Records an offence at `now`; returns 1 if it started a ban. */
int cn_p2p_score_offence(cn_p2p_score *s, cn_p2p_reason r, uint64_t now, uint32_t ban_base_ms,
                         uint32_t ban_max_ms);

/* Milliseconds of ban left at `now` (0 = not banned). */
uint64_t cn_p2p_ban_left(const cn_p2p_score *s, uint64_t now);

/* Delay before dial attempt `attempt` (0 = first retry); `rnd` is a uniform 32-bit value. */
uint32_t cn_p2p_backoff_ms(uint32_t attempt, uint32_t min_ms, uint32_t max_ms, uint32_t rnd);

#endif
