/* The parameter registry: which named parameters governance may change and the rule each
 * owning module puts on the value (docs/governance.md lists them).
 *
 * A row names the parameter, its inclusive range, and optionally a check that needs state
 * (governance.threshold must stay <= the number of governors). Tier parameters are not here:
 * they change only through an approver_policy proposal (a higher threshold and a delay).
 * A module adds its parameters by adding rows, or, like the oracle module ("oracle.*",
 * "breakers.*": cn_oracle_param_check), by owning a name prefix with its own check.
 */
#include "node/app/gov.h"

#include <stdio.h>
#include <string.h>

#include "node/app/custody.h"
#include "node/app/oracle.h"

#define DAY INT64_C(86400000)

typedef int (*param_check_fn)(cn_overlay *ov, int64_t v, char *msg, size_t cap);

static int check_threshold(cn_overlay *ov, int64_t v, char *msg, size_t cap) {
    uint8_t set[CN_GOV_MAX_GOVERNORS][32];
    int n = cn_gov_governors(ov, set);
    if (n < 0)
        return -1;
    if (v > n) {
        snprintf(msg, cap, "governance.threshold: %lld exceeds the %d governors",
                 (long long)v, n);
        return 0;
    }
    return 1;
}

static const struct {
    const char *name, *owner;
    int64_t min, max;
    param_check_fn check;
} rows[] = {
    {"custody.allowlist_delay_ms", "custody", 0, 30 * DAY, NULL},
    {"custody.velocity_period_ms", "custody", 60000, 30 * DAY, NULL},
    {"custody.velocity_client_usd", "custody", 0, INT64_MAX, NULL},
    {"custody.velocity_global_usd", "custody", 0, INT64_MAX, NULL},
    {"custody.withdraw_max_expiry_ms", "custody", 60000, 365 * DAY, NULL},
    {"governance.threshold", "governance", 1, CN_GOV_MAX_GOVERNORS, check_threshold},
    {"governance.max_expiry_ms", "governance", 60000, 365 * DAY, NULL},
    {"governance.policy_delay_ms", "governance", 0, 30 * DAY, NULL},
};

size_t cn_gov_param_count(void) { return sizeof rows / sizeof rows[0]; }

const char *cn_gov_param_name(size_t i) { return i < cn_gov_param_count() ? rows[i].name : NULL; }

cn_txerr cn_gov_param_check(cn_overlay *ov, const char *name, int64_t value, char *msg,
                            size_t cap) {
    /* The oracle module owns "oracle.*" and "breakers.*" and checks them itself. */
    if (strncmp(name, "oracle.", 7) == 0 || strncmp(name, "breakers.", 9) == 0)
        return cn_oracle_param_check(name, value, msg, cap) ? CN_TX_OK : CN_TX_BAD_PARAM;
    for (size_t i = 0; i < cn_gov_param_count(); i++) {
        if (strcmp(rows[i].name, name) != 0)
            continue;
        if (value < rows[i].min || value > rows[i].max) {
            snprintf(msg, cap, "param_change: %s must be %lld..%lld", name,
                     (long long)rows[i].min, (long long)rows[i].max);
            return CN_TX_BAD_PARAM;
        }
        if (rows[i].check) {
            int r = rows[i].check(ov, value, msg, cap);
            if (r < 0) {
                snprintf(msg, cap, "state read failed");
                return CN_TX_INTERNAL;
            }
            if (!r)
                return CN_TX_BAD_PARAM;
        }
        return CN_TX_OK;
    }
    snprintf(msg, cap, "param_change: '%s' is not a governable parameter", name);
    return CN_TX_BAD_PARAM;
}
