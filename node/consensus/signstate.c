/* Signing state: guard, record, stored form (see signstate.h).
 *
 * Stored form, version 1, big-endian:
 *   u8 version (1) | u64 height | u32 round | u8 step | u8 has_value | 32 value |
 *   i32 pol_round | i32 locked_round | 32 locked_id                       = 87 bytes
 */
#include "node/consensus/signstate.h"

#include <string.h>

#include "node/consensus/voteset.h"

void cn_cons_sign_state_empty(cn_cons_sign_state *s) {
    memset(s, 0, sizeof *s);
    s->step = CN_CONS_STEP_NONE;
    s->pol_round = -1;
    s->locked_round = -1;
}

/* -1, 0, 1 as (h1, r1, s1) is below, equal to, above (h2, r2, s2). */
static int hrs_cmp(uint64_t h1, uint32_t r1, uint8_t s1, uint64_t h2, uint32_t r2, uint8_t s2) {
    if (h1 != h2)
        return h1 < h2 ? -1 : 1;
    if (r1 != r2)
        return r1 < r2 ? -1 : 1;
    if (s1 != s2)
        return s1 < s2 ? -1 : 1;
    return 0;
}

cn_cons_sign_verdict cn_cons_sign_check(const cn_cons_sign_state *s, uint64_t h, uint32_t r,
                                        cn_cons_step step, const cn_cons_value *value,
                                        int32_t pol_round) {
    if (s->step == CN_CONS_STEP_NONE)
        return CN_CONS_SIGN_NEW;
    int c = hrs_cmp(h, r, (uint8_t)step, s->height, s->round, s->step);
    if (c > 0)
        return CN_CONS_SIGN_NEW;
    if (c < 0)
        return CN_CONS_SIGN_REFUSE;
    if (!cn_cons_value_eq(value, &s->value))
        return CN_CONS_SIGN_REFUSE;
    if (step == CN_CONS_STEP_PROPOSE && pol_round != s->pol_round)
        return CN_CONS_SIGN_REFUSE;
    return CN_CONS_SIGN_SAME;
}

void cn_cons_sign_record(cn_cons_sign_state *s, uint64_t h, uint32_t r, cn_cons_step step,
                         const cn_cons_value *value, int32_t pol_round) {
    if (s->step == CN_CONS_STEP_NONE || h != s->height) {
        s->locked_round = -1;
        memset(s->locked_id, 0, 32);
    }
    s->height = h;
    s->round = r;
    s->step = (uint8_t)step;
    s->value = *value;
    if (!value->has_value)
        memset(s->value.id, 0, 32);
    s->pol_round = step == CN_CONS_STEP_PROPOSE ? pol_round : -1;
    if (step == CN_CONS_STEP_PRECOMMIT && value->has_value) {
        s->locked_round = (int32_t)r;
        memcpy(s->locked_id, value->id, 32);
    }
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint32_t get32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Two's complement conversions (signed to unsigned is defined as modulo 2^32; the way back
 * avoids the implementation-defined out-of-range conversion). */
static uint32_t i32_bits(int32_t v) {
    return (uint32_t)v;
}

static int32_t bits_i32(uint32_t u) {
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : (int32_t)((int64_t)u - 4294967296LL);
}

static int all_zero(const uint8_t *p, size_t n) {
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

void cn_cons_sign_state_encode(const cn_cons_sign_state *s, uint8_t out[CN_CONS_SIGN_STATE_BYTES]) {
    uint8_t *p = out;
    *p++ = 1;
    put64(p, s->height);
    p += 8;
    put32(p, s->round);
    p += 4;
    *p++ = s->step;
    *p++ = s->value.has_value;
    memcpy(p, s->value.id, 32);
    p += 32;
    put32(p, i32_bits(s->pol_round));
    p += 4;
    put32(p, i32_bits(s->locked_round));
    p += 4;
    memcpy(p, s->locked_id, 32);
}

int cn_cons_sign_state_decode(cn_cons_sign_state *s, const uint8_t *in, size_t len) {
    cn_cons_sign_state t;
    if (len != CN_CONS_SIGN_STATE_BYTES || in[0] != 1)
        return 0;
    const uint8_t *p = in + 1;
    t.height = get64(p);
    p += 8;
    t.round = get32(p);
    p += 4;
    t.step = *p++;
    t.value.has_value = *p++;
    memcpy(t.value.id, p, 32);
    p += 32;
    t.pol_round = bits_i32(get32(p));
    p += 4;
    t.locked_round = bits_i32(get32(p));
    p += 4;
    memcpy(t.locked_id, p, 32);

    if (t.step > CN_CONS_STEP_PRECOMMIT || t.value.has_value > 1 || t.round > CN_CONS_MAX_ROUND)
        return 0;
    if (!t.value.has_value && !all_zero(t.value.id, 32))
        return 0;
    if (t.step == CN_CONS_STEP_NONE) {
        if (t.height != 0 || t.round != 0 || t.value.has_value || t.pol_round != -1 ||
            t.locked_round != -1 || !all_zero(t.locked_id, 32))
            return 0;
    } else if (t.height == 0) {
        return 0;
    }
    if (t.step == CN_CONS_STEP_PROPOSE) {
        if (!t.value.has_value || t.pol_round < -1 || (int64_t)t.pol_round >= (int64_t)t.round)
            return 0;
    } else if (t.pol_round != -1) {
        return 0;
    }
    if (t.locked_round < -1 || (int64_t)t.locked_round > (int64_t)t.round)
        return 0;
    if (t.locked_round == -1 && !all_zero(t.locked_id, 32))
        return 0;
    if (t.step == CN_CONS_STEP_PRECOMMIT && t.value.has_value &&
        (t.locked_round != (int32_t)t.round || memcmp(t.locked_id, t.value.id, 32) != 0))
        return 0;
    *s = t;
    return 1;
}
