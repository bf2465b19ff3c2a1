/* node/store faults: map growth from a tiny map, the maximum map size, a read-only directory,
 * a bad path, a file size limit (EFBIG) and a full filesystem (ENOSPC). Each must give its
 * specific error code, leave committed data intact, and never crash.
 *
 * Tests that need a process of their own (dropped privileges, RLIMIT_FSIZE, a private tmpfs)
 * fork; the child reports through its exit status: 0 pass, 77 skip, else the failing step. */
#define _GNU_SOURCE /* unshare, CLONE_NEWNS */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "crypto/bytes.h"
#include "node/store/store.h"
#include "tests/unit/tmpdir.h"

#define OK(x)                                                                                 \
    do {                                                                                      \
        cn_store_err e_ = (x);                                                                \
        if (e_ != CN_STORE_OK)                                                                \
            fail_msg("%s: %s (%s)", #x, cn_store_strerror(e_), cn_store_last_detail());       \
    } while (0)
#define EXPECT(x, want)                                                                       \
    do {                                                                                      \
        cn_store_err e_ = (x);                                                                \
        if (e_ != (want))                                                                     \
            fail_msg("%s: got %s, want %s (%s)", #x, cn_store_strerror(e_),                   \
                     cn_store_strerror(want), cn_store_last_detail());                        \
    } while (0)

/* In a forked child: exit with `step` unless cond holds. */
#define CHILD_CHECK(cond, step)                                                               \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "child step %d failed: %s (%s)\n", step, #cond,                  \
                    cn_store_last_detail());                                                  \
            _exit(step);                                                                      \
        }                                                                                     \
    } while (0)

#define SKIP_STATUS 77


static void tdir_make(tdir *t) {
    assert_int_equal(tdir_make_prefixed(t, "cn_store_fault_"), 0);
}


/* Waits for a child; passes, skips (with the reason) or fails on its status. */
static void expect_child(pid_t pid, const char *skip_reason) {
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_STATUS) {
        printf("  skipped: %s\n", skip_reason);
        skip();
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("child failed: status %d (exit %d, signal %d)", status,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Batch `tag`: `count` keys tag || be32(i) of `vlen` bytes each derived from (tag, i). */
static cn_store_err write_batch(cn_store *s, uint8_t tag, uint32_t count, size_t vlen) {
    static uint8_t v[65536];
    cn_store_wtxn *w;
    cn_store_err e = cn_store_begin(s, &w);
    if (e != CN_STORE_OK)
        return e;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t k[5];
        k[0] = tag;
        cn_put_be32(k + 1, i);
        for (size_t j = 0; j < vlen; j++)
            v[j] = (uint8_t)(tag + i + j);
        e = cn_store_put(w, CN_DB_STATE, k, 5, v, vlen);
        if (e != CN_STORE_OK) {
            cn_store_abort(w);
            return e;
        }
    }
    return cn_store_commit(w);
}

/* Returns 1 if batch `tag` is present in full, 0 if fully absent, -1 if partial or wrong. */
static int batch_state(cn_store *s, uint8_t tag, uint32_t count, size_t vlen) {
    cn_store_rtxn *r;
    if (cn_store_read_begin(s, &r) != CN_STORE_OK)
        return -1;
    uint32_t found = 0;
    int bad = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t k[5];
        const void *v;
        size_t vl;
        k[0] = tag;
        cn_put_be32(k + 1, i);
        cn_store_err e = cn_store_read_get(r, CN_DB_STATE, k, 5, &v, &vl);
        if (e == CN_STORE_NOTFOUND)
            continue;
        if (e != CN_STORE_OK || vl != vlen) {
            bad = 1;
            continue;
        }
        for (size_t j = 0; j < vlen; j++)
            if (((const uint8_t *)v)[j] != (uint8_t)(tag + i + j))
                bad = 1;
        found++;
    }
    /* Nothing beyond `count` under this tag. */
    cn_store_iter *it;
    const void *k, *v;
    size_t kl, vl;
    uint32_t total = 0;
    if (cn_store_iter_read(&it, r, CN_DB_STATE, &tag, 1, NULL, 0, 0) != CN_STORE_OK)
        bad = 1;
    else {
        while (cn_store_iter_next(it, &k, &kl, &v, &vl) == CN_STORE_OK)
            total++;
        cn_store_iter_close(it);
    }
    cn_store_read_end(r);
    if (bad || total != found)
        return -1;
    return found == count ? 1 : found == 0 ? 0 : -1;
}

static void test_tiny_map_grows(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store_opts o = {0};
    o.map_size = 64 * 1024;
    cn_store *s;
    OK(cn_store_open(&s, t.data, &o));
    assert_int_equal(cn_store_map_size(s), 64 * 1024);
    /* Many small batches, then one batch of 4 MiB. */
    for (uint8_t tag = 1; tag <= 16; tag++)
        OK(write_batch(s, tag, 64, 512));
    OK(write_batch(s, 100, 1024, 4096));
    size_t grown = cn_store_map_size(s);
    assert_true(grown >= 4 * 1024 * 1024);
    printf("  map 65536 -> %zu bytes\n", grown);
    for (uint8_t tag = 1; tag <= 16; tag++)
        assert_int_equal(batch_state(s, tag, 64, 512), 1);
    assert_int_equal(batch_state(s, 100, 1024, 4096), 1);
    cn_store_close(s);
    /* Reopen with the tiny initial size again: the data is there and writes grow again. */
    OK(cn_store_open(&s, t.data, &o));
    assert_int_equal(batch_state(s, 100, 1024, 4096), 1);
    OK(write_batch(s, 101, 512, 4096));
    assert_int_equal(batch_state(s, 101, 512, 4096), 1);
    cn_store_close(s);
    rm_tree(t.root);
}

static void test_max_map_hit(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store_opts o = {0};
    o.map_size = 64 * 1024;
    o.max_map_size = 1024 * 1024;
    cn_store *s;
    OK(cn_store_open(&s, t.data, &o));
    OK(write_batch(s, 1, 32, 1000));
    /* One batch bigger than the maximum: specific error, nothing written, store usable. */
    EXPECT(write_batch(s, 2, 512, 4096), CN_STORE_MAP_FULL);
    assert_int_equal(cn_store_last_raw(), MDB_MAP_FULL);
    assert_int_equal(cn_store_map_size(s), 1024 * 1024);
    assert_int_equal(batch_state(s, 1, 32, 1000), 1);
    assert_int_equal(batch_state(s, 2, 512, 4096), 0);
    OK(write_batch(s, 3, 8, 100));
    /* Fill to the limit with batches of 64 KiB: every batch is all or nothing. */
    uint8_t tag = 10;
    cn_store_err e;
    while ((e = write_batch(s, tag, 16, 4096)) == CN_STORE_OK) {
        tag++;
        assert_true(tag < 100);
    }
    EXPECT(e, CN_STORE_MAP_FULL);
    for (uint8_t i = 10; i < tag; i++)
        assert_int_equal(batch_state(s, i, 16, 4096), 1);
    assert_int_equal(batch_state(s, tag, 16, 4096), 0);
    printf("  %d batches of 64 KiB fit under a 1 MiB map\n", tag - 10);
    /* Deleting makes room again. */
    cn_store_wtxn *w;
    OK(cn_store_begin(s, &w));
    for (uint8_t i = 10; i < tag; i++)
        for (uint32_t j = 0; j < 16; j++) {
            uint8_t k[5] = {i};
            cn_put_be32(k + 1, j);
            OK(cn_store_del(w, CN_DB_STATE, k, 5));
        }
    OK(cn_store_commit(w));
    /* LMDB reuses pages freed by a transaction only once a later one has committed. */
    OK(write_batch(s, 4, 1, 10));
    OK(write_batch(s, tag, 16, 4096));
    cn_store_close(s);
    OK(cn_store_open(&s, t.data, &o));
    assert_int_equal(batch_state(s, 1, 32, 1000), 1);
    assert_int_equal(batch_state(s, 3, 8, 100), 1);
    assert_int_equal(batch_state(s, tag, 16, 4096), 1);
    cn_store_close(s);
    /* A max too small to create the environment at all. */
    tdir t2;
    tdir_make(&t2);
    cn_store_opts tiny = {0};
    tiny.map_size = 4096;
    tiny.max_map_size = 4096;
    s = NULL;
    cn_store_err oe = cn_store_open(&s, t2.data, &tiny);
    assert_true(oe == CN_STORE_MAP_FULL);
    assert_null(s);
    rm_tree(t2.root);
    rm_tree(t.root);
}

/* Runs fn(dir) in a child without write permission on `dir`: as uid/gid 65534 when running as
 * root (root ignores permission bits), else as ourselves after chmod. */
static void run_unprivileged(const char *dir, void (*fn)(const char *)) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0) {
            if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
                _exit(SKIP_STATUS);
        }
        fn(dir);
        _exit(0);
    }
    expect_child(pid, "cannot drop privileges");
}

static void child_open_expect_ro(const char *dir) {
    cn_store *s = (cn_store *)1;
    cn_store_err e = cn_store_open(&s, dir, NULL);
    CHILD_CHECK(e == CN_STORE_READ_ONLY, 1);
    CHILD_CHECK(s == NULL, 2);
    CHILD_CHECK(cn_store_last_raw() == EACCES, 3);
}

static void test_read_only_dir(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    /* 1. The data directory cannot be created: parent is read-only. */
    assert_int_equal(chmod(t.root, 0555), 0);
    run_unprivileged(t.data, child_open_expect_ro);
    /* 2. An empty, read-only data directory. */
    assert_int_equal(chmod(t.root, 0755), 0);
    assert_int_equal(mkdir(t.data, 0555), 0);
    assert_int_equal(chmod(t.data, 0555), 0);
    run_unprivileged(t.data, child_open_expect_ro);
    /* 3. An existing store whose directory and files are read-only to us. */
    assert_int_equal(chmod(t.data, 0700), 0);
    cn_store *s;
    OK(cn_store_open(&s, t.data, NULL));
    OK(write_batch(s, 1, 4, 10));
    cn_store_close(s);
    char f[160];
    snprintf(f, sizeof f, "%s/data.mdb", t.data);
    assert_int_equal(chmod(f, 0444), 0);
    snprintf(f, sizeof f, "%s/lock.mdb", t.data);
    assert_int_equal(chmod(f, 0444), 0);
    assert_int_equal(chmod(t.data, 0555), 0);
    run_unprivileged(t.data, child_open_expect_ro);
    /* Nothing was harmed. */
    assert_int_equal(chmod(t.data, 0700), 0);
    OK(cn_store_open(&s, t.data, NULL));
    assert_int_equal(batch_state(s, 1, 4, 10), 1);
    cn_store_close(s);
    rm_tree(t.root);
}

static void test_bad_path(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    /* A regular file where the directory should be. */
    FILE *fp = fopen(t.data, "w");
    assert_non_null(fp);
    fputs("not a directory\n", fp);
    fclose(fp);
    cn_store *s = NULL;
    EXPECT(cn_store_open(&s, t.data, NULL), CN_STORE_BAD_PATH);
    assert_null(s);
    /* A missing parent (the store creates only the last component). */
    char deep[160];
    snprintf(deep, sizeof deep, "%s/missing/data", t.root);
    EXPECT(cn_store_open(&s, deep, NULL), CN_STORE_BAD_PATH);
    /* A file as a parent. */
    snprintf(deep, sizeof deep, "%s/sub", t.data);
    EXPECT(cn_store_open(&s, deep, NULL), CN_STORE_BAD_PATH);
    rm_tree(t.root);
}

/* The file size limit turns writes past it into EFBIG (SIGXFSZ ignored), as a full disk. */
static void test_file_size_limit(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    cn_store_opts o = {0};
    o.map_size = 64 * 1024;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        cn_store *s;
        /* Too small even for the lock file: open fails cleanly. */
        struct rlimit rl = {4096, 4096};
        CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0, 1);
        s = (cn_store *)1;
        CHILD_CHECK(cn_store_open(&s, t.data, &o) == CN_STORE_DISK_FULL, 2);
        CHILD_CHECK(s == NULL, 3);
        CHILD_CHECK(cn_store_last_raw() == EFBIG, 4);
        _exit(0);
    }
    expect_child(pid, "");
    rm_tree(t.data);

    /* Room for a small store but not for a 2 MiB batch. */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        cn_store *s;
        struct rlimit rl = {512 * 1024, 512 * 1024};
        CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0, 10);
        CHILD_CHECK(cn_store_open(&s, t.data, &o) == CN_STORE_OK, 11);
        CHILD_CHECK(write_batch(s, 1, 16, 1000) == CN_STORE_OK, 12);
        cn_store_err e = write_batch(s, 2, 512, 4096);
        CHILD_CHECK(e == CN_STORE_DISK_FULL, 13);
        CHILD_CHECK(cn_store_last_raw() == EFBIG, 14);
        CHILD_CHECK(batch_state(s, 1, 16, 1000) == 1, 15);
        CHILD_CHECK(batch_state(s, 2, 512, 4096) == 0, 16);
        cn_store_close(s);
        _exit(0);
    }
    expect_child(pid, "");
    /* Without the limit: the first batch intact, the failed one absent, writes work. */
    cn_store *s;
    OK(cn_store_open(&s, t.data, &o));
    assert_int_equal(batch_state(s, 1, 16, 1000), 1);
    assert_int_equal(batch_state(s, 2, 512, 4096), 0);
    OK(write_batch(s, 2, 512, 4096));
    assert_int_equal(batch_state(s, 2, 512, 4096), 1);
    cn_store_close(s);
    rm_tree(t.root);
}

/* A real ENOSPC: a 1 MiB tmpfs mounted in a private mount namespace of a child, so nothing
 * outlives the child. Skipped where namespaces or mounts are not permitted. */
static void test_disk_full_tmpfs(void **state) {
    (void)state;
    tdir t;
    tdir_make(&t);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) != 0)
            _exit(SKIP_STATUS);
        if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
            _exit(SKIP_STATUS);
        if (mount("tmpfs", t.root, "tmpfs", 0, "size=1m,mode=0700") != 0)
            _exit(SKIP_STATUS);
        cn_store_opts o = {0};
        o.map_size = 64 * 1024;
        cn_store *s;
        CHILD_CHECK(cn_store_open(&s, t.data, &o) == CN_STORE_OK, 1);
        CHILD_CHECK(write_batch(s, 1, 16, 1000) == CN_STORE_OK, 2);
        cn_store_err e = write_batch(s, 2, 512, 4096);
        CHILD_CHECK(e == CN_STORE_DISK_FULL, 3);
        CHILD_CHECK(cn_store_last_raw() == ENOSPC, 4);
        CHILD_CHECK(batch_state(s, 1, 16, 1000) == 1, 5);
        CHILD_CHECK(batch_state(s, 2, 512, 4096) == 0, 6);
        /* Small writes may still fit; whatever happens must be a clean result. */
        e = write_batch(s, 3, 4, 100);
        CHILD_CHECK(e == CN_STORE_OK || e == CN_STORE_DISK_FULL, 7);
        cn_store_close(s);
        /* Reopen on the full filesystem: consistent. */
        CHILD_CHECK(cn_store_open(&s, t.data, &o) == CN_STORE_OK, 8);
        CHILD_CHECK(batch_state(s, 1, 16, 1000) == 1, 9);
        CHILD_CHECK(batch_state(s, 2, 512, 4096) == 0, 10);
        int b3 = batch_state(s, 3, 4, 100);
        CHILD_CHECK(b3 == (e == CN_STORE_OK ? 1 : 0), 11);
        cn_store_close(s);
        _exit(0);
    }
    expect_child(pid, "no private mount namespace (needs root or CAP_SYS_ADMIN)");
    rm_tree(t.root);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_map_grows),
        cmocka_unit_test(test_max_map_hit),
        cmocka_unit_test(test_read_only_dir),
        cmocka_unit_test(test_bad_path),
        cmocka_unit_test(test_file_size_limit),
        cmocka_unit_test(test_disk_full_tmpfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
