/* Reference arithmetic: the slow, portable definitions of the trapping operations.
 *
 * The reference interpreter computes with these; the fast interpreter uses compiler builtins
 * and __int128. Differential tests and fuzzing compare the two, so an error in either shows
 * up as a disagreement (the secp256k1 habit of testing wide arithmetic against a slow model).
 * Each returns CN_VM_OK and the result, or the trap.
 */
#ifndef CLEARNODE_CONTRACTS_VM_ARITH_REF_H
#define CLEARNODE_CONTRACTS_VM_ARITH_REF_H

#include <stdint.h>

#include "contracts/vm/vm.h"

cn_vm_err cn_vm_ref_add(int64_t a, int64_t b, int64_t *r);
cn_vm_err cn_vm_ref_sub(int64_t a, int64_t b, int64_t *r);
cn_vm_err cn_vm_ref_mul(int64_t a, int64_t b, int64_t *r);
/* round(a * b / d, mode) computed exactly; DIV_ZERO if d is 0, OVERFLOW if it does not fit. */
cn_vm_err cn_vm_ref_muldiv(int64_t a, int64_t b, int64_t d, unsigned mode, int64_t *r);

#endif
