/* Peer scoring, bans and backoff (see score.h). Pure functions of their arguments so the
 * unit tests can drive the clock. */
#include "node/p2p/score.h"

int32_t cn_p2p_penalty(cn_p2p_reason r) {
    switch (r) {
    case CN_P2P_R_DECODE:
    case CN_P2P_R_BAD_TAG:
        return 50;
    case CN_P2P_R_OVERSIZED:
    case CN_P2P_R_DECRYPT:
        return 25;
    case CN_P2P_R_NONE:
    case CN_P2P_R_GARBAGE:
    case CN_P2P_R_VERSION:
    case CN_P2P_R_CHAIN:
    case CN_P2P_R_BAD_KEY:
    case CN_P2P_R_UNKNOWN_KEY:
    case CN_P2P_R_WRONG_PEER:
    case CN_P2P_R_SELF:
    case CN_P2P_R_REFLECTED:
    case CN_P2P_R_KX:
    case CN_P2P_R_BAD_AUTH:
    case CN_P2P_R_BAD_SIG:
    case CN_P2P_R_BANNED:
    case CN_P2P_R_DUPLICATE:
    case CN_P2P_R_HS_TIMEOUT:
    case CN_P2P_R_TOO_MANY:
    case CN_P2P_R_EOF:
    case CN_P2P_R_CLOSED:
    case CN_P2P_R_IO:
    case CN_P2P_R_CONNECT:
    case CN_P2P_R_IDLE:
    case CN_P2P_R_SLOW:
    case CN_P2P_R_REPLACED:
    case CN_P2P_R_LOCAL:
    case CN_P2P_R_NOMEM:
    case CN_P2P_R_COUNT:
        break;
    }
    return 0;
}

void cn_p2p_score_recover(cn_p2p_score *s, uint64_t now) {
    if (now <= s->updated_ms)
        return;
    uint64_t pts = (now - s->updated_ms) / CN_P2P_SCORE_RECOVER_MS;
    if (s->score >= 0 || pts == 0) {
        if (s->score >= 0)
            s->updated_ms = now;
        return;
    }
    s->updated_ms += pts * CN_P2P_SCORE_RECOVER_MS;
    if (pts >= (uint64_t)(-(int64_t)s->score))
        s->score = 0;
    else
        s->score += (int32_t)pts;
}

int cn_p2p_score_offence(cn_p2p_score *s, cn_p2p_reason r, uint64_t now, uint32_t ban_base_ms,
                         uint32_t ban_max_ms) {
    int32_t pen = cn_p2p_penalty(r);
    if (pen == 0)
        return 0;
    cn_p2p_score_recover(s, now);
    s->score -= pen;
    if (s->score > CN_P2P_SCORE_BAN)
        return 0;
    uint64_t dur = ban_base_ms;
    for (uint32_t i = 0; i < s->bans && dur < ban_max_ms; i++)
        dur *= 2;
    if (dur > ban_max_ms)
        dur = ban_max_ms;
    s->banned_until_ms = now + dur;
    s->bans++;
    s->score = CN_P2P_SCORE_BAN / 2;
    s->updated_ms = now;
    return 1;
}

uint64_t cn_p2p_ban_left(const cn_p2p_score *s, uint64_t now) {
    return s->banned_until_ms > now ? s->banned_until_ms - now : 0;
}

uint32_t cn_p2p_backoff_ms(uint32_t attempt, uint32_t min_ms, uint32_t max_ms, uint32_t rnd) {
    uint64_t cap = min_ms ? min_ms : 1;
    for (uint32_t i = 0; i < attempt && cap < max_ms; i++)
        cap *= 2;
    if (cap > max_ms)
        cap = max_ms;
    uint64_t half = cap / 2;
    uint64_t span = cap - half + 1; /* [half, cap] inclusive */
    return (uint32_t)(half + (uint64_t)rnd % span);
}
