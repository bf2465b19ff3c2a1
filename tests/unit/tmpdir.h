/* Temporary directories for tests and benchmarks: made under /tmp with mkdtemp, removed
 * recursively (restoring write permission first, for tests that take it away). */
#ifndef CLEARNODE_TESTS_TMPDIR_H
#define CLEARNODE_TESTS_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A temporary root and a "data" path inside it (not created). */
typedef struct {
    char root[64];
    char data[96];
} tdir;

/* Creates /tmp/<prefix>XXXXXX; returns 0 on success, -1 if mkdtemp failed. */
static inline int tdir_make_prefixed(tdir *t, const char *prefix) {
    snprintf(t->root, sizeof t->root, "/tmp/%sXXXXXX", prefix);
    if (!mkdtemp(t->root))
        return -1;
    snprintf(t->data, sizeof t->data, "%s/data", t->root);
    return 0;
}

/* Removes `path` and everything below it; missing paths are ignored. */
static inline void rm_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    chmod(path, 0700);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[4096];
            if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub)
                continue;
            rm_tree(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

static inline void tdir_remove(tdir *t) {
    rm_tree(t->root);
}

#endif
