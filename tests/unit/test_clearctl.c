/* clearctl tx/query against an in-process API server with the fake backend (rpc_fake.h):
 * the real clearctl binary (build/<variant>/bin/clearctl, next to this test's directory)
 * is run as a child process and its exit code and output are checked. Covers chain id and
 * nonce discovery, submit, --wait with success and failure receipts, offline sign + send,
 * node errors, usage errors and an unreachable node. */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "tests/unit/rpc_fake.h"

static char clearctl[PATH_MAX];
static char dir[] = "/tmp/cn-clearctl-XXXXXX";
static char out[1 << 16], err[1 << 16];

/* Runs clearctl with up to 24 arguments (NULL-terminated); returns its exit code. */
static int run(const char *first, ...) {
    const char *argv[32] = {clearctl, first};
    int argc = 2;
    va_list ap;
    va_start(ap, first);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 30)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    char op[PATH_MAX], ep[PATH_MAX];
    snprintf(op, sizeof op, "%s/out", dir);
    snprintf(ep, sizeof ep, "%s/err", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0)
            _exit(127);
        dup2(o, 1);
        dup2(e, 2);
        unsetenv("CLEARNODE_NODE");
        execv(clearctl, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    FILE *f = fopen(op, "r");
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
    f = fopen(ep, "r");
    n = f ? fread(err, 1, sizeof err - 1, f) : 0;
    err[n] = '\0';
    if (f)
        fclose(f);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

#define RUN(...) run(__VA_ARGS__, (const char *)NULL)
#define EXPECT(code, ...)                                                                      \
    do {                                                                                       \
        int rc_ = RUN(__VA_ARGS__);                                                            \
        if (rc_ != (code))                                                                     \
            fail_msg("exit %d, want %d\nstdout: %s\nstderr: %s", rc_, (code), out, err);      \
    } while (0)

static int setup(void **state) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    if (strlen(self) + 20 > sizeof clearctl)
        return -1;
    memcpy(clearctl, self, strlen(self));
    memcpy(clearctl + strlen(self), "/../bin/clearctl", 17);
    if (mkdtemp(dir) == NULL)
        return -1;
    *state = NULL;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_key(const char *name, uint8_t fill, char *path, size_t cap) {
    uint8_t sec[32];
    memset(sec, fill, sizeof sec);
    snprintf(path, cap, "%s/%s", dir, name);
    assert_int_equal(cn_keyfile_write(path, sec, NULL, 0, 1), CN_KEYFILE_OK);
}

static void test_clearctl(void **state) {
    (void)state;
    if (access(clearctl, X_OK) != 0) {
        print_message("clearctl not built at %s\n", clearctl);
        skip();
    }
    rpc_fake *h = rpc_fake_start(NULL);
    char node[64], key[PATH_MAX], other[PATH_MAX], file[PATH_MAX], to[65], member[65];
    snprintf(node, sizeof node, "http://127.0.0.1:%u", h->port);
    write_key("member.key", 0x11, key, sizeof key);
    write_key("other.key", 0x22, other, sizeof other);
    cn_hex_encode(member, h->kp.pub, 32);
    memset(to, '3', 64);
    to[64] = '\0';

    /* Queries. */
    EXPECT(0, "query", "status", "--node", node);
    assert_non_null(strstr(out, "chain_id"));
    assert_non_null(strstr(out, "test-chain"));
    EXPECT(0, "query", "status", "--node", node, "--json");
    assert_non_null(strstr(out, "{\"chain_id\":\"test-chain\""));
    EXPECT(0, "query", "account", member, "--node", node);
    assert_non_null(strstr(out, "custodian"));
    EXPECT(0, "query", "block", "2", "--node", node, "--json");
    EXPECT(1, "query", "block", "9", "--node", node);
    assert_non_null(strstr(err, "not_found"));
    assert_non_null(strstr(err, "HTTP 404"));
    EXPECT(1, "query", "block", "9", "--node", node, "--json");
    assert_non_null(strstr(out, "{\"error\":{\"code\":\"not_found\""));
    snprintf(file, sizeof file, "%s/block.pb", dir);
    EXPECT(0, "query", "block", "1", "--node", node, "--proto", file);
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_size, 3);

    /* Submit with chain id and nonce discovered from the node. */
    EXPECT(0, "tx", "transfer", "--to", to, "--asset", "USD", "--amount", "5", "--key", key,
           "--node", node);
    assert_non_null(strstr(out, "accepted "));
    EXPECT(0, "tx", "deposit", "--account", to, "--asset", "USD", "--amount", "100", "--ref",
           "wire-1", "--key", key, "--node", node, "--json");
    assert_non_null(strstr(out, "{\"hash\":\""));
    /* --wait prints the receipt. */
    EXPECT(0, "tx", "register-client", "--pubkey", to, "--label", "c1", "--key", key, "--node",
           node, "--wait");
    assert_non_null(strstr(out, "committed "));
    h->f.fail_receipts = 1;
    EXPECT(1, "tx", "transfer", "--to", to, "--asset", "USD", "--amount", "5", "--key", key,
           "--node", node, "--wait", "--timeout", "5");
    assert_non_null(strstr(err, "insufficient_funds"));
    h->f.fail_receipts = 0;

    /* Node errors: code and status shown, exit 1. */
    EXPECT(1, "tx", "transfer", "--to", to, "--asset", "USD", "--amount", "5", "--key", key,
           "--node", node, "--nonce", "1");
    assert_non_null(strstr(err, "bad_nonce"));
    assert_non_null(strstr(err, "409"));
    EXPECT(1, "tx", "transfer", "--to", to, "--asset", "USD", "--amount", "5", "--key", key,
           "--node", node, "--chain-id", "other-chain");
    assert_non_null(strstr(err, "wrong_chain"));
    EXPECT(1, "tx", "transfer", "--to", to, "--asset", "USD", "--amount", "5", "--key", other,
           "--node", node, "--chain-id", "test-chain", "--nonce", "1");
    assert_non_null(strstr(err, "unknown_signer"));
    EXPECT(1, "tx", "transfer", "--to", to, "--asset", "USD", "--amount", "5", "--key", other,
           "--node", node);
    assert_non_null(strstr(err, "not a registered account"));
    h->f.full = 1;
    EXPECT(1, "tx", "transfer", "--to", to, "--asset", "USD", "--amount", "5", "--key", key,
           "--node", node, "--json");
    assert_non_null(strstr(out, "mempool_full"));
    h->f.full = 0;

    /* Offline sign, then send (twice: the replay is refused). */
    snprintf(file, sizeof file, "%s/tx.pb", dir);
    char nonce[24];
    snprintf(nonce, sizeof nonce, "%llu", (unsigned long long)h->f.next_nonce);
    EXPECT(0, "tx", "sign", "transfer", "--to", to, "--asset", "USD", "--amount", "7", "--key",
           key, "--chain-id", "test-chain", "--nonce", nonce, "--out", file);
    assert_non_null(strstr(out, "signed "));
    EXPECT(1, "tx", "sign", "transfer", "--to", to, "--asset", "USD", "--amount", "7", "--key",
           key, "--chain-id", "test-chain", "--nonce", nonce, "--out", file);
    assert_non_null(strstr(err, "--force"));
    EXPECT(0, "tx", "send", file, "--node", node, "--wait");
    assert_non_null(strstr(out, "committed"));
    EXPECT(1, "tx", "send", file, "--node", node);
    assert_non_null(strstr(err, "bad_nonce"));
    snprintf(file, sizeof file, "%s/junk.pb", dir);
    FILE *f = fopen(file, "w");
    fputs("\xff\xff junk", f);
    fclose(f);
    EXPECT(1, "tx", "send", file, "--node", node);

    /* Usage errors never reach the node. */
    EXPECT(2, "tx", "transfer", "--asset", "USD", "--amount", "5", "--key", key, "--node", node);
    EXPECT(2, "tx", "transfer", "--to", "abc", "--asset", "USD", "--amount", "5", "--key", key);
    EXPECT(2, "tx", "transfer", "--to", to, "--asset", "usd", "--amount", "5", "--key", key);
    EXPECT(2, "tx", "transfer", "--to", to, "--asset", "USD", "--amount", "0", "--key", key);
    EXPECT(2, "tx", "transfer", "--to", to, "--asset", "USD", "--amount", "-5", "--key", key);
    EXPECT(2, "tx", "transfer", "--to", to, "--asset", "USD", "--amount", "9223372036854775808",
           "--key", key);
    EXPECT(2, "tx", "transfer", "--to", to, "--asset", "USD", "--amount", "5", "--ref", "x",
           "--key", key);
    EXPECT(2, "tx", "deposit", "--account", to, "--asset", "USD", "--amount", "5", "--key", key);
    EXPECT(2, "tx", "sign", "transfer", "--to", to, "--asset", "USD", "--amount", "5", "--key",
           key, "--chain-id", "c", "--out", file);
    EXPECT(2, "tx", "frobnicate");
    EXPECT(2, "query", "tx", "1234");
    EXPECT(2, "query", "block", "01");
    EXPECT(2, "query", "nothing");
    EXPECT(0, "tx", "--help");
    EXPECT(0, "query", "--help");

    /* An unreachable node. */
    EXPECT(3, "query", "status", "--node", "http://127.0.0.1:1");
    assert_non_null(strstr(err, "unreachable"));
    EXPECT(3, "tx", "transfer", "--to", to, "--asset", "USD", "--amount", "5", "--key", key,
           "--node", "http://127.0.0.1:1");
    EXPECT(2, "query", "status", "--node", "ftp://x");
    EXPECT(2, "query", "status", "--node", "http://127.0.0.1:99999");
    rpc_fake_stop(h);
}

int main(void) {
    if (!cn_crypto_init())
        return 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_clearctl)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
