/* Governance actions and thresholds (gov_actions.c), shared by gov.c. */
#ifndef CLEARNODE_NODE_APP_GOV_ACTIONS_H
#define CLEARNODE_NODE_APP_GOV_ACTIONS_H

#include "node/app/gov.h"

/* Machine name of an action ("param_change"). */
const char *cn_gov_action_name(int action_case);
/* Approvals a proposal needs given M (governance.threshold) and N governors. */
uint32_t cn_gov_threshold(const Clearnode__V1__GovernancePropose *a, uint32_t m, uint32_t n);
/* 1 if the action waits governance.policy_delay_ms after its approvals (approver_policy). */
int cn_gov_action_delayed(const Clearnode__V1__GovernancePropose *a);
/* Stateless checks of the action's fields. */
cn_txerr cn_gov_action_validate(const Clearnode__V1__GovernancePropose *a, char *msg, size_t cap);
/* Checks against state and applies; on failure the caller rolls back to its mark. */
cn_txerr cn_gov_action_apply(cn_overlay *ov, uint64_t height, uint64_t now, uint64_t self_id,
                             const Clearnode__V1__GovernancePropose *a, char *msg, size_t cap);
/* Removes id from the open-proposal list; 1, or 0 on failure. */
int cn_gov_unopen(cn_overlay *ov, uint64_t id);

#endif
