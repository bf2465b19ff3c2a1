/* Benchmark: one margin pass over many accounts, three ways in the same run.
 *
 *   VM      contracts/margin_math.cas `scan` on the fast interpreter (and, for reference, the
 *           reference interpreter): 4096 accounts per call, records in the call input
 *   native  the same algorithm in C: the VM's MULDIV (64-bit division when the product fits,
 *           else 128-bit) and the same overflow checks
 *   Lua     the same algorithm in Lua 5.4 (`lua5.4` run as a subprocess on a generated script
 *           that times itself with os.clock); plain 64-bit integers, no overflow checks, so it
 *           is, if anything, favoured
 *
 * Per account: value = floor(qty * price / unit); equity = cash + value;
 * requirement = ceil(|value| * mm / 10000); excess = equity - requirement; sum the excesses.
 * All three must produce the same sum. Prints accounts per second, ns per account and the
 * ratios; targets: VM faster than Lua, and within 5x of native. Run from the repository root
 * (`make bench`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contracts/asm/asm.h"
#include "contracts/asm/memhost.h"
#include "contracts/vm/overlay.h"
#include "contracts/vm/vm.h"
#include "crypto/schnorr.h"

#define NACC 4096
#define PRICE 100000000    /* 100 USD in micro-USD */
#define UNIT 1000000       /* 6 decimals */
#define MM_BPS 2500        /* 25% maintenance */
#define MIN_SECONDS 0.5

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The account generator, shared with the Lua script (same LCG, same arithmetic). */
static uint64_t lcg(uint64_t *x) {
    *x = *x * 6364136223846793005u + 1442695040888963407u;
    return *x;
}

static void make_accounts(int64_t *qty, int64_t *cash) {
    uint64_t x = 42;
    for (int i = 0; i < NACC; i++) {
        uint64_t r = lcg(&x);
        qty[i] = ((int64_t)((r >> 33) % 200000u) - 100000) * 1000;
        cash[i] = (int64_t)((r >> 20) % 20000000000u) - 10000000000;
    }
}

/* ---- native C ------------------------------------------------------------------------------ */

/* The VM's MULDIV algorithm (interp_fast.c) in plain C: one 64-bit division when the product
 * fits, else a 128-bit one; floor (up = 0) or ceil (up = 1). */
static int muldiv(int64_t a, int64_t b, int64_t d, int up, int64_t *out) {
    int64_t p64;
    if (!__builtin_mul_overflow(a, b, &p64) && !(p64 == INT64_MIN && d == -1)) {
        int64_t q = p64 / d, r = p64 % d;
        if (r != 0 && ((p64 < 0) != (d < 0)) == !up)
            q += up ? 1 : -1;
        *out = q;
        return 1;
    }
    __int128 p = (__int128)a * b, q = p / d, r = p - q * d;
    if (r != 0 && ((p < 0) != (d < 0)) == !up)
        q += up ? 1 : -1;
    if (q > INT64_MAX || q < INT64_MIN)
        return 0;
    *out = (int64_t)q;
    return 1;
}

static int native_scan(const int64_t *qty, const int64_t *cash, int64_t price, int64_t unit,
                       int64_t mm, int64_t *sum_out) {
    int64_t sum = 0;
    for (int i = 0; i < NACC; i++) {
        int64_t val, req, eq, ex;
        if (!muldiv(qty[i], price, unit, 0, &val) || __builtin_add_overflow(cash[i], val, &eq) ||
            val == INT64_MIN || !muldiv(val < 0 ? -val : val, mm, 10000, 1, &req) ||
            __builtin_sub_overflow(eq, req, &ex) || __builtin_add_overflow(sum, ex, &sum))
            return 0;
    }
    *sum_out = sum;
    return 1;
}

/* ---- Lua 5.4 ------------------------------------------------------------------------------ */

static const char lua_script[] =
    "local N, PRICE, UNIT, MM = %d, %d, %d, %d\n"
    "local qty, cash = {}, {}\n"
    "local x = 42\n"
    "for i = 1, N do\n"
    "  x = x * 6364136223846793005 + 1442695040888963407\n"
    "  qty[i] = (((x >> 33) %% 200000) - 100000) * 1000\n"
    "  cash[i] = ((x >> 20) %% 20000000000) - 10000000000\n"
    "end\n"
    "local function scan()\n"
    "  local sum = 0\n"
    "  for i = 1, N do\n"
    "    local val = (qty[i] * PRICE) // UNIT\n"
    "    local eq = cash[i] + val\n"
    "    if val < 0 then val = -val end\n"
    "    local req = -((-(val * MM)) // 10000)\n"
    "    sum = sum + (eq - req)\n"
    "  end\n"
    "  return sum\n"
    "end\n"
    "local reps, t0, sum = 0, os.clock(), 0\n"
    "repeat sum = scan(); reps = reps + 1 until os.clock() - t0 >= %g\n"
    "local t = os.clock() - t0\n"
    "print(string.format('%%d %%d %%.17g', sum, reps * N, t))\n";

/* Runs the Lua version; returns seconds per account, or a negative value if unavailable. */
static double run_lua(int64_t *sum) {
    char path[] = "/tmp/clearnode-bench-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (!f)
        return -1;
    fprintf(f, lua_script, NACC, PRICE, UNIT, MM_BPS, MIN_SECONDS);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "lua5.4 %s 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    long long s = 0, n = 0;
    char t[64] = {0};
    int got = p ? fscanf(p, "%lld %lld %63s", &s, &n, t) : 0;
    if (p)
        pclose(p);
    remove(path);
    if (got != 3 || n <= 0)
        return -1;
    *sum = s;
    return strtod(t, NULL) / (double)n;
}

/* ---- VM --------------------------------------------------------------------------------------- */

typedef cn_vm_err (*exec_fn)(cn_vm_machine *, const cn_vm_call *, cn_vm_result *);

/* Runs scan over the accounts until MIN_SECONDS pass; returns seconds per account. */
static double run_vm(exec_fn exec, const cn_vm_program *prog, const uint8_t *input,
                     int64_t *sum, uint64_t *gas) {
    cn_vm_machine *m = cn_vm_machine_new();
    cn_asm_memhost *mh = cn_asm_memhost_new();
    if (!m || !mh)
        exit(1);
    cn_vm_host host;
    cn_asm_memhost_table(mh, &host);
    cn_vm_overlay ov;
    cn_vm_overlay_init(&ov);
    int64_t args[4] = {NACC, PRICE, UNIT, MM_BPS};
    cn_vm_call call;
    memset(&call, 0, sizeof call);
    call.prog = prog;
    call.host = &host;
    call.overlay = &ov;
    call.entry = (uint32_t)cn_vm_program_export(prog, "scan");
    call.args = args;
    call.nargs = 4;
    call.gas_limit = 10000000;
    call.input = input;
    call.input_len = NACC * 16;
    long reps = 0;
    double t0 = now(), t;
    cn_vm_result res;
    do {
        if (exec(m, &call, &res) != CN_VM_OK) {
            fprintf(stderr, "bench: VM scan failed: %s\n", cn_vm_strerror(res.status));
            exit(1);
        }
        reps++;
    } while ((t = now() - t0) < MIN_SECONDS);
    *sum = res.value;
    *gas = res.gas_used;
    cn_vm_overlay_free(&ov);
    cn_asm_memhost_free(mh);
    cn_vm_machine_free(m);
    return t / ((double)reps * NACC);
}

static void line(const char *name, double spa) {
    printf("  %-34s %12.0f accounts/s %9.1f ns/account\n", name, 1.0 / spa, spa * 1e9);
}

int main(void) {
    if (!cn_crypto_init())
        return 1;
    static int64_t qty[NACC], cash[NACC];
    static uint8_t input[NACC * 16];
    make_accounts(qty, cash);
    for (int i = 0; i < NACC; i++)
        for (int k = 0; k < 8; k++) {
            input[16 * i + k] = (uint8_t)((uint64_t)qty[i] >> (56 - 8 * k));
            input[16 * i + 8 + k] = (uint8_t)((uint64_t)cash[i] >> (56 - 8 * k));
        }

    uint8_t *bin;
    size_t len;
    cn_asm_diag d;
    if (!cn_asm_build_file("contracts/margin_math.cas", &bin, &len, &d)) {
        fprintf(stderr, "bench: %s (run from the repository root)\n", d.msg);
        return 1;
    }
    cn_vm_program *prog = NULL;
    if (cn_vm_load(bin, len, CN_VM_HOST_ALLOW_ALL, &prog, NULL) != CN_VM_OK)
        return 1;
    free(bin);

    /* native: divisors through volatile so the compiler cannot specialise on constants */
    volatile int64_t vp = PRICE, vu = UNIT, vm = MM_BPS;
    int64_t native_sum = 0;
    long reps = 0;
    double t0 = now(), t;
    do {
        if (!native_scan(qty, cash, vp, vu, vm, &native_sum))
            return 1;
        reps++;
    } while ((t = now() - t0) < MIN_SECONDS);
    double native = t / ((double)reps * NACC);

    int64_t vm_sum = 0, ref_sum = 0, lua_sum = 0;
    uint64_t gas = 0, ref_gas = 0;
    double fast = run_vm(cn_vm_exec_fast, prog, input, &vm_sum, &gas);
    double ref = run_vm(cn_vm_exec_ref, prog, input, &ref_sum, &ref_gas);
    double lua = run_lua(&lua_sum);
    cn_vm_program_free(prog);

    printf("margin pass over %d accounts per call (value, equity, maintenance requirement, "
           "excess)\n", NACC);
    line("native C", native);
    line("VM, fast interpreter", fast);
    line("VM, reference interpreter", ref);
    if (lua > 0)
        line("Lua 5.4", lua);
    else
        printf("  Lua 5.4: not available (lua5.4 not on PATH)\n");
    printf("  gas per call: %llu (%.1f per account)\n", (unsigned long long)gas,
           (double)gas / NACC);
    printf("  VM fast / native:  %.2fx slower (target: within 5x)\n", fast / native);
    if (lua > 0)
        printf("  Lua / VM fast:     %.2fx (target: above 1, the VM is faster)\n", lua / fast);
    int ok = vm_sum == native_sum && ref_sum == native_sum && gas == ref_gas &&
             (lua <= 0 || lua_sum == native_sum);
    printf("  results: native %lld, VM %lld, reference %lld, Lua %lld: %s\n",
           (long long)native_sum, (long long)vm_sum, (long long)ref_sum, (long long)lua_sum,
           ok ? "identical" : "DIFFERENT");
    int met = fast / native <= 5.0 && (lua <= 0 || lua > fast);
    printf("  targets: %s\n", met ? "met" : "NOT MET");
    return ok ? 0 : 1;
}
