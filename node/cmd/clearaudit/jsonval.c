/* clearaudit: strict readers for numbers and hashes in JSON inputs. Integers above 2^53 are
 * written as decimal strings by careful producers, so both spellings are accepted; nothing
 * else (no fractions, no signs, no leading zeros in strings). */
#include <string.h>

#include "crypto/encoding.h"
#include "node/cmd/clearaudit/clearaudit.h"

int ca_json_u128(json_t *v, cn_u128 *out, int *negative) {
    if (negative)
        *negative = 0;
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 0) {
            if (negative)
                *negative = 1;
            return 0;
        }
        *out = (cn_u128)(uint64_t)x;
        return 1;
    }
    if (!json_is_string(v))
        return 0;
    const char *s = json_string_value(v);
    if (s[0] == '-') {
        if (negative)
            *negative = 1;
        return 0;
    }
    return strlen(s) == json_string_length(v) && cn_por_u128_from_dec(out, s);
}

int ca_json_u64(json_t *v, uint64_t *out, int *negative) {
    cn_u128 x;
    if (!ca_json_u128(v, &x, negative) || x > UINT64_MAX)
        return 0;
    *out = (uint64_t)x;
    return 1;
}

int ca_json_hex32(json_t *v, uint8_t out[32]) {
    return json_is_string(v) && json_string_length(v) == 64 &&
           cn_hex_decode_exact(out, 32, json_string_value(v));
}
