/* Reference arithmetic (arith_ref.h): sign rules, 32-bit limb products and bit-by-bit long
 * division on unsigned magnitudes. Nothing here relies on compiler builtins or __int128.
 */
#include "contracts/vm/arith_ref.h"

#include "contracts/vm/internal.h"
#include "contracts/vm/opcodes.h"

/* Magnitude of a signed value as unsigned (|INT64_MIN| = 2^63 is representable). */
static uint64_t mag(int64_t v) { return v < 0 ? 0u - (uint64_t)v : (uint64_t)v; }

/* Signed value of magnitude m with sign neg, if it fits. */
static cn_vm_err from_mag(uint64_t m, int neg, int64_t *r) {
    if (!neg) {
        if (m > (uint64_t)INT64_MAX)
            return CN_VM_E_OVERFLOW;
        *r = (int64_t)m;
    } else {
        if (m > (uint64_t)INT64_MAX + 1u)
            return CN_VM_E_OVERFLOW;
        *r = cn_vm_s64(0u - m);
    }
    return CN_VM_OK;
}

/* Overflow iff both operands have one sign and the wrapped sum has the other. */
cn_vm_err cn_vm_ref_add(int64_t a, int64_t b, int64_t *r) {
    int64_t s = cn_vm_s64((uint64_t)a + (uint64_t)b);
    if ((a < 0) == (b < 0) && (s < 0) != (a < 0))
        return CN_VM_E_OVERFLOW;
    *r = s;
    return CN_VM_OK;
}

/* Overflow iff the operands differ in sign and the wrapped difference has b's sign. */
cn_vm_err cn_vm_ref_sub(int64_t a, int64_t b, int64_t *r) {
    int64_t s = cn_vm_s64((uint64_t)a - (uint64_t)b);
    if ((a < 0) != (b < 0) && (s < 0) != (a < 0))
        return CN_VM_E_OVERFLOW;
    *r = s;
    return CN_VM_OK;
}

/* 64x64 -> 128 unsigned product from four 32x32 partial products. */
static void mul_wide(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
    uint64_t al = a & 0xffffffffu, ah = a >> 32, bl = b & 0xffffffffu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    *lo = (ll & 0xffffffffu) | mid << 32;
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

cn_vm_err cn_vm_ref_mul(int64_t a, int64_t b, int64_t *r) {
    uint64_t hi, lo;
    mul_wide(mag(a), mag(b), &hi, &lo);
    if (hi)
        return CN_VM_E_OVERFLOW;
    return from_mag(lo, (a < 0) != (b < 0) && lo != 0, r);
}

/* Restoring division of the 128-bit (hi, lo) by d (0 < d <= 2^63): quotient and remainder.
 * The remainder stays below d, so shifting it left one bit never loses a bit. */
static void div_wide(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *qhi, uint64_t *qlo,
                     uint64_t *rem) {
    uint64_t r = 0, q_hi = 0, q_lo = 0;
    for (int i = 127; i >= 0; i--) {
        uint64_t bit = i >= 64 ? hi >> (i - 64) & 1u : lo >> i & 1u;
        r = r << 1 | bit;
        if (r >= d) {
            r -= d;
            if (i >= 64)
                q_hi |= (uint64_t)1 << (i - 64);
            else
                q_lo |= (uint64_t)1 << i;
        }
    }
    *qhi = q_hi;
    *qlo = q_lo;
    *rem = r;
}

/* Works on magnitudes: the exact quotient is q + rem/|d| with sign neg; each mode decides
 * whether the magnitude goes up by one. */
cn_vm_err cn_vm_ref_muldiv(int64_t a, int64_t b, int64_t d, unsigned mode, int64_t *r) {
    if (d == 0)
        return CN_VM_E_DIV_ZERO;
    uint64_t hi, lo, qhi, qlo, rem, dm = mag(d);
    mul_wide(mag(a), mag(b), &hi, &lo);
    div_wide(hi, lo, dm, &qhi, &qlo, &rem);
    int neg = ((a < 0) != (b < 0)) != (d < 0);
    int up = 0;
    if (rem != 0) {
        switch ((cn_vm_round)mode) {
        case CN_VM_ROUND_TRUNC: up = 0; break;
        case CN_VM_ROUND_FLOOR: up = neg; break;
        case CN_VM_ROUND_CEIL: up = !neg; break;
        case CN_VM_ROUND_HALF_EVEN: {
            uint64_t twice = rem << 1; /* rem < dm <= 2^63: no bit lost */
            up = twice > dm || (twice == dm && (qlo & 1u));
            break;
        }
        default: return CN_VM_E_ROUND_MODE; /* the verifier rejects other modes */
        }
    }
    if (qhi)
        return CN_VM_E_OVERFLOW;
    if (up) {
        if (qlo == UINT64_MAX)
            return CN_VM_E_OVERFLOW;
        qlo++;
    }
    return from_mag(qlo, neg && qlo != 0, r);
}
