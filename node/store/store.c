/* LMDB storage layer: environment, write batches with an in-memory overlay, read snapshots,
 * merged ordered iteration, and map growth (design and caveats in store.h).
 *
 * Concurrency model, in one place:
 * - write_mu (error-checking mutex) is held from cn_store_begin to commit/abort, so at most one
 *   batch, hence one LMDB write transaction, exists in the process. A second begin in the same
 *   thread gets EDEADLK from the mutex and returns CN_STORE_BUSY.
 * - gate_mu/gate_cv count open read snapshots. mdb_env_set_mapsize() unmaps and remaps the
 *   file, so it runs only with write_mu held (no write transaction), gate_mu held, `growing`
 *   set and `readers` at zero. New snapshots wait while `growing` is set.
 */
#include "node/store/store.h"
#include "node/store/ovtree.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <lmdb.h>

#include "crypto/bytes.h"

/* Names of the databases, indexed by cn_db. Changing one orphans existing data. */
static const char *const db_names[CN_DB_COUNT] = {
    [CN_DB_BLOCKS] = "blocks", [CN_DB_COMMITS] = "commits", [CN_DB_TXS] = "txs",
    [CN_DB_STATE] = "state",   [CN_DB_META] = "meta",       [CN_DB_SIGNER] = "signer",
};

/* Stand-in address for zero-length values, so no NULL reaches memcpy or a caller. */
static const uint8_t empty_value[1] = {0};

/* Per-thread detail of the last failure, for cn_store_last_raw/detail. */
static _Thread_local int tls_raw;

typedef struct snap_link {
    struct snap_link *prev, *next;
} snap_link;

struct cn_store {
    struct cn_store *next_open; /* in the process-wide list of open stores */
    dev_t dev;
    ino_t ino;
    pid_t pid;
    MDB_env *env;
    MDB_dbi dbi[CN_DB_COUNT];
    size_t max_map;
    size_t max_batch;
    size_t page;
    pthread_mutex_t write_mu;
    pthread_mutex_t gate_mu;
    pthread_cond_t gate_cv;
    unsigned readers; /* open snapshots, guarded by gate_mu */
    int growing;      /* guarded by gate_mu */
    snap_link snaps;  /* open snapshots (list head), guarded by gate_mu */
};

struct cn_store_iter {
    cn_store_iter *prev, *next; /* in the owning transaction's list */
    cn_store_iter **head;
    ov_node **root; /* overlay of the db for a write batch, NULL for a snapshot */
    MDB_cursor *cur;
    int reverse;
    int started;
    int done;
    int l_state;   /* 0 not positioned, 1 at (lk, lv), 2 exhausted */
    int l_advance; /* move the cursor before the next use */
    MDB_val lk, lv;
    size_t plen, slen, hlen, lastlen;
    int has_start, has_hi, has_last;
    uint8_t prefix[CN_STORE_MAX_KEY];
    uint8_t start[CN_STORE_MAX_KEY];
    uint8_t hi[CN_STORE_MAX_KEY]; /* successor of the prefix (exclusive bound) */
    uint8_t last[CN_STORE_MAX_KEY];
};

struct cn_store_wtxn {
    cn_store *s;
    MDB_txn *txn;
    size_t txn_id;
    ov_node *root[CN_DB_COUNT];
    size_t bytes; /* accounted against max_batch */
    size_t count; /* PUT and DEL nodes */
    cn_store_iter *iters;
};

struct cn_store_rtxn {
    snap_link link; /* first member: the list holds snapshots */
    cn_store *s;
    MDB_txn *txn;
    pthread_t owner;
    cn_store_iter *iters;
};

/* ---- errors ------------------------------------------------------------------------------- */

static const char *const err_text[CN_STORE_ERR_COUNT] = {
    [CN_STORE_OK] = "ok",
    [CN_STORE_NOTFOUND] = "key not found",
    [CN_STORE_INVALID] = "invalid argument or misuse",
    [CN_STORE_KEY_SIZE] = "key empty or longer than 511 bytes",
    [CN_STORE_VALUE_SIZE] = "value longer than the store's limit",
    [CN_STORE_BATCH_TOO_LARGE] = "write batch too large",
    [CN_STORE_MAP_FULL] = "store map full at its maximum size",
    [CN_STORE_DISK_FULL] = "disk full",
    [CN_STORE_READ_ONLY] = "store directory or files not writable",
    [CN_STORE_BAD_PATH] = "store path is not a directory or its parent is missing",
    [CN_STORE_VERSION] = "unsupported store format version",
    [CN_STORE_CORRUPT] = "store corrupt or not a clearnode store",
    [CN_STORE_BUSY] = "store busy (would deadlock, or no free reader slot)",
    [CN_STORE_CONFLICT] = "store changed by another process",
    [CN_STORE_NOMEM] = "out of memory",
    [CN_STORE_IO] = "store I/O error",
};

const char *cn_store_strerror(cn_store_err e) {
    if ((unsigned)e >= CN_STORE_ERR_COUNT)
        return "unknown store error";
    return err_text[e];
}

int cn_store_last_raw(void) { return tls_raw; }

const char *cn_store_last_detail(void) { return tls_raw ? mdb_strerror(tls_raw) : ""; }

const char *cn_store_db_name(cn_db db) {
    if ((unsigned)db >= CN_DB_COUNT)
        return NULL;
    return db_names[db];
}

/* Maps an LMDB or errno code to cn_store_err and remembers it for cn_store_last_detail. */
static cn_store_err map_rc(int rc) {
    if (rc == 0)
        return CN_STORE_OK;
    tls_raw = rc;
    switch (rc) {
    case MDB_NOTFOUND:
        return CN_STORE_NOTFOUND;
    case MDB_MAP_FULL:
        return CN_STORE_MAP_FULL;
    case MDB_TXN_FULL:
        return CN_STORE_BATCH_TOO_LARGE;
    case MDB_VERSION_MISMATCH:
        return CN_STORE_VERSION;
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INCOMPATIBLE:
        return CN_STORE_CORRUPT;
    case MDB_READERS_FULL:
        return CN_STORE_BUSY;
    case MDB_MAP_RESIZED:
        return CN_STORE_CONFLICT;
    case MDB_BAD_VALSIZE:
        return CN_STORE_KEY_SIZE;
    case ENOSPC:
    case EFBIG:
#ifdef EDQUOT
    case EDQUOT:
#endif
        return CN_STORE_DISK_FULL;
    case EACCES:
    case EPERM:
    case EROFS:
        return CN_STORE_READ_ONLY;
    case ENOTDIR:
    case ENOENT:
        return CN_STORE_BAD_PATH;
    case ENOMEM:
        return CN_STORE_NOMEM;
    default:
        return CN_STORE_IO;
    }
}

/* Records a failure that has no raw code of its own. */
static cn_store_err fail(cn_store_err e) {
    tls_raw = 0;
    return e;
}

/* ---- argument checks ---------------------------------------------------------------------- */

static cn_store_err check_key(const void *key, size_t klen) {
    if (klen == 0 || klen > CN_STORE_MAX_KEY)
        return fail(CN_STORE_KEY_SIZE);
    if (!key)
        return fail(CN_STORE_INVALID);
    return CN_STORE_OK;
}

static int db_ok(cn_db db) { return (unsigned)db < CN_DB_COUNT; }

cn_store_err cn_store_set_durable(cn_store *s, int durable) {
    int rc = mdb_env_set_flags(s->env, MDB_NOSYNC, durable ? 0 : 1);
    if (rc)
        return map_rc(rc);
    return durable ? cn_store_sync(s) : CN_STORE_OK;
}

cn_store_err cn_store_sync(cn_store *s) {
    int rc = mdb_env_sync(s->env, 1);
    return rc ? map_rc(rc) : CN_STORE_OK;
}

/* ---- environment -------------------------------------------------------------------------- */

/* Directories open in this process. LMDB's locks are per process: opening one environment
 * twice and closing either handle would silently drop the other's locks. An entry made before
 * a fork() does not count in the child (pid differs). */
static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
static cn_store *open_list;

/* Registers s (dev/ino/pid set) unless its directory is already open here. */
static int register_open(cn_store *s) {
    pthread_mutex_lock(&open_mu);
    for (cn_store *o = open_list; o; o = o->next_open) {
        if (o->dev == s->dev && o->ino == s->ino && o->pid == s->pid) {
            pthread_mutex_unlock(&open_mu);
            return 0;
        }
    }
    s->next_open = open_list;
    open_list = s;
    pthread_mutex_unlock(&open_mu);
    return 1;
}

static void unregister_open(cn_store *s) {
    pthread_mutex_lock(&open_mu);
    for (cn_store **p = &open_list; *p; p = &(*p)->next_open) {
        if (*p == s) {
            *p = s->next_open;
            break;
        }
    }
    pthread_mutex_unlock(&open_mu);
}

static size_t round_up(size_t v, size_t page) {
    if (v > SIZE_MAX - (page - 1))
        return v / page * page;
    return (v + page - 1) / page * page;
}

/* Replaces the map size with `size` (0: adopt the size another process set). The caller holds
 * write_mu and has no write transaction. Waits until no snapshot is open. */
static cn_store_err set_map_exclusive(cn_store *s, size_t size) {
    pthread_t self = pthread_self();
    pthread_mutex_lock(&s->gate_mu);
    for (snap_link *l = s->snaps.next; l != &s->snaps; l = l->next) {
        const cn_store_rtxn *r = (const cn_store_rtxn *)(const void *)l;
        if (pthread_equal(r->owner, self)) {
            pthread_mutex_unlock(&s->gate_mu);
            return fail(CN_STORE_BUSY);
        }
    }
    s->growing = 1;
    while (s->readers > 0)
        pthread_cond_wait(&s->gate_cv, &s->gate_mu);
    int rc = mdb_env_set_mapsize(s->env, size);
    s->growing = 0;
    pthread_cond_broadcast(&s->gate_cv);
    pthread_mutex_unlock(&s->gate_mu);
    return map_rc(rc);
}

/* Doubles the map, capped at max_map. CN_STORE_MAP_FULL when already at the cap. */
static cn_store_err grow(cn_store *s) {
    MDB_envinfo info;
    pthread_mutex_lock(&s->gate_mu);
    int rc = mdb_env_info(s->env, &info);
    pthread_mutex_unlock(&s->gate_mu);
    if (rc)
        return map_rc(rc);
    size_t cur = info.me_mapsize;
    if (cur >= s->max_map) {
        tls_raw = MDB_MAP_FULL;
        return CN_STORE_MAP_FULL;
    }
    size_t next = cur > s->max_map / 2 ? s->max_map : round_up(cur * 2, s->page);
    if (next > s->max_map)
        next = s->max_map;
    return set_map_exclusive(s, next);
}

size_t cn_store_map_size(cn_store *s) {
    MDB_envinfo info;
    if (!s)
        return 0;
    pthread_mutex_lock(&s->gate_mu);
    int rc = mdb_env_info(s->env, &info);
    pthread_mutex_unlock(&s->gate_mu);
    return rc ? 0 : info.me_mapsize;
}

/* Creates the directory if missing; checks that the path is a directory; gives its identity. */
static cn_store_err prepare_dir(const char *dir, struct stat *st) {
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return map_rc(errno);
    if (stat(dir, st) != 0)
        return map_rc(errno);
    if (!S_ISDIR(st->st_mode)) {
        tls_raw = ENOTDIR;
        return CN_STORE_BAD_PATH;
    }
    return CN_STORE_OK;
}

/* Opens or creates the named databases and checks or writes the format version. Retries
 * after growing the map if even this small transaction does not fit. */
static cn_store_err open_dbs(cn_store *s) {
    for (;;) {
        MDB_txn *txn;
        MDB_dbi main_dbi;
        MDB_stat st;
        int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
        if (rc)
            return map_rc(rc);
        rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
        if (!rc)
            rc = mdb_stat(txn, main_dbi, &st);
        if (rc) {
            mdb_txn_abort(txn);
            return map_rc(rc);
        }
        cn_store_err e = CN_STORE_OK;
        if (st.ms_entries == 0) {
            /* A new environment: create everything, then the version. */
            for (int i = 0; i < CN_DB_COUNT && !rc; i++)
                rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
            if (!rc) {
                uint8_t v[4];
                cn_put_be32(v, CN_STORE_FORMAT_VERSION);
                MDB_val k = {sizeof CN_STORE_META_VERSION_KEY - 1,
                             (void *)(uintptr_t)CN_STORE_META_VERSION_KEY};
                MDB_val d = {sizeof v, v};
                rc = mdb_put(txn, s->dbi[CN_DB_META], &k, &d, 0);
            }
            if (rc)
                e = rc == MDB_NOTFOUND ? fail(CN_STORE_CORRUPT) : map_rc(rc);
        } else {
            /* An existing one: the version first, so an unknown format is named as such. */
            rc = mdb_dbi_open(txn, db_names[CN_DB_META], 0, &s->dbi[CN_DB_META]);
            MDB_val k = {sizeof CN_STORE_META_VERSION_KEY - 1,
                         (void *)(uintptr_t)CN_STORE_META_VERSION_KEY};
            MDB_val d;
            if (!rc)
                rc = mdb_get(txn, s->dbi[CN_DB_META], &k, &d);
            if (rc == MDB_NOTFOUND) {
                tls_raw = rc;
                e = CN_STORE_CORRUPT;
            } else if (rc) {
                e = map_rc(rc);
            } else if (d.mv_size != 4) {
                e = fail(CN_STORE_CORRUPT);
            } else if (cn_get_be32(d.mv_data) != CN_STORE_FORMAT_VERSION) {
                e = fail(CN_STORE_VERSION);
            } else {
                for (int i = 0; i < CN_DB_COUNT && !rc; i++)
                    rc = mdb_dbi_open(txn, db_names[i], 0, &s->dbi[i]);
                if (rc == MDB_NOTFOUND) {
                    tls_raw = rc;
                    e = CN_STORE_CORRUPT;
                } else if (rc) {
                    e = map_rc(rc);
                }
            }
        }
        if (e != CN_STORE_OK && e != CN_STORE_MAP_FULL) {
            mdb_txn_abort(txn);
            return e;
        }
        if (e == CN_STORE_OK) {
            rc = mdb_txn_commit(txn); /* keeps the dbi handles open */
            if (rc != MDB_MAP_FULL)
                return map_rc(rc);
        } else {
            mdb_txn_abort(txn);
        }
        e = grow(s);
        if (e != CN_STORE_OK)
            return e;
    }
}

cn_store_err cn_store_open(cn_store **out, const char *dir, const cn_store_opts *opts) {
    if (!out)
        return fail(CN_STORE_INVALID);
    *out = NULL;
    if (!dir || !*dir || strlen(dir) >= PATH_MAX)
        return fail(CN_STORE_INVALID);
    cn_store_opts o = {0};
    if (opts)
        o = *opts;
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096;
    size_t map = round_up(o.map_size ? o.map_size : CN_STORE_DEFAULT_MAP_SIZE, page);
    size_t max = (o.max_map_size ? o.max_map_size : CN_STORE_DEFAULT_MAX_MAP_SIZE) / page * page;
    if (map > max || max == 0)
        return fail(CN_STORE_INVALID);

    struct stat dst;
    cn_store_err e = prepare_dir(dir, &dst);
    if (e != CN_STORE_OK)
        return e;

    cn_store *s = calloc(1, sizeof *s);
    if (!s)
        return fail(CN_STORE_NOMEM);
    s->dev = dst.st_dev;
    s->ino = dst.st_ino;
    s->pid = getpid();
    if (!register_open(s)) {
        free(s);
        return fail(CN_STORE_BUSY);
    }
    s->max_map = max;
    s->max_batch = o.max_batch_bytes ? o.max_batch_bytes : CN_STORE_DEFAULT_MAX_BATCH;
    s->page = page;
    s->snaps.next = s->snaps.prev = &s->snaps;
    pthread_mutexattr_t ma;
    int sync_ok = pthread_mutexattr_init(&ma) == 0;
    if (sync_ok) {
        sync_ok = pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK) == 0 &&
                  pthread_mutex_init(&s->write_mu, &ma) == 0;
        pthread_mutexattr_destroy(&ma);
    }
    if (!sync_ok) {
        unregister_open(s);
        free(s);
        return fail(CN_STORE_NOMEM);
    }
    if (pthread_mutex_init(&s->gate_mu, NULL) != 0) {
        pthread_mutex_destroy(&s->write_mu);
        unregister_open(s);
        free(s);
        return fail(CN_STORE_NOMEM);
    }
    if (pthread_cond_init(&s->gate_cv, NULL) != 0) {
        pthread_mutex_destroy(&s->gate_mu);
        pthread_mutex_destroy(&s->write_mu);
        unregister_open(s);
        free(s);
        return fail(CN_STORE_NOMEM);
    }

    int rc = mdb_env_create(&s->env);
    if (rc) {
        e = map_rc(rc);
        s->env = NULL;
        goto fail_env;
    }
    unsigned readers = o.max_readers ? o.max_readers : CN_STORE_DEFAULT_MAX_READERS;
    rc = mdb_env_set_maxdbs(s->env, CN_DB_COUNT);
    if (!rc)
        rc = mdb_env_set_maxreaders(s->env, readers);
    if (!rc)
        rc = mdb_env_set_mapsize(s->env, map);
    if (!rc)
        rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600);
    if (rc) {
        e = map_rc(rc);
        goto fail_env;
    }
    if (mdb_env_get_maxkeysize(s->env) < (int)CN_STORE_MAX_KEY) {
        e = fail(CN_STORE_VERSION);
        goto fail_env;
    }
    /* Free reader slots left by processes that died with a snapshot open, so their old
     * pages become reusable. */
    int dead = 0;
    rc = mdb_reader_check(s->env, &dead);
    if (rc) {
        e = map_rc(rc);
        goto fail_env;
    }
    e = open_dbs(s);
    if (e != CN_STORE_OK)
        goto fail_env;
    *out = s;
    return CN_STORE_OK;

fail_env:
    if (s->env)
        mdb_env_close(s->env);
    pthread_cond_destroy(&s->gate_cv);
    pthread_mutex_destroy(&s->gate_mu);
    pthread_mutex_destroy(&s->write_mu);
    unregister_open(s);
    free(s);
    return e;
}

void cn_store_close(cn_store *s) {
    if (!s)
        return;
    mdb_env_close(s->env);
    unregister_open(s);
    pthread_cond_destroy(&s->gate_cv);
    pthread_mutex_destroy(&s->gate_mu);
    pthread_mutex_destroy(&s->write_mu);
    free(s);
}

/* ---- iterators (shared by batches and snapshots) ------------------------------------------ */

static void iter_unlink(cn_store_iter *it) {
    if (it->prev)
        it->prev->next = it->next;
    else
        *it->head = it->next;
    if (it->next)
        it->next->prev = it->prev;
}

static void iter_free(cn_store_iter *it) {
    mdb_cursor_close(it->cur);
    free(it);
}

void cn_store_iter_close(cn_store_iter *it) {
    if (!it)
        return;
    iter_unlink(it);
    iter_free(it);
}

static void iters_close_all(cn_store_iter **head) {
    while (*head)
        cn_store_iter_close(*head);
}

static cn_store_err iter_open(cn_store_iter **out, MDB_txn *txn, MDB_dbi dbi, ov_node **root,
                              cn_store_iter **head, const void *prefix, size_t plen,
                              const void *start, size_t slen, unsigned flags) {
    if (flags & ~CN_STORE_ITER_REVERSE)
        return fail(CN_STORE_INVALID);
    if ((!prefix && plen) || (!start && slen))
        return fail(CN_STORE_INVALID);
    if (plen > CN_STORE_MAX_KEY)
        return fail(CN_STORE_KEY_SIZE);
    if (start && (slen == 0 || slen > CN_STORE_MAX_KEY))
        return fail(CN_STORE_KEY_SIZE);
    cn_store_iter *it = calloc(1, sizeof *it);
    if (!it)
        return fail(CN_STORE_NOMEM);
    int rc = mdb_cursor_open(txn, dbi, &it->cur);
    if (rc) {
        free(it);
        return map_rc(rc);
    }
    it->root = root;
    it->reverse = (flags & CN_STORE_ITER_REVERSE) != 0;
    if (plen)
        memcpy(it->prefix, prefix, plen);
    it->plen = plen;
    if (start) {
        memcpy(it->start, start, slen);
        it->slen = slen;
        it->has_start = 1;
    }
    /* Successor of the prefix: drop trailing 0xff bytes, increment the last byte. */
    size_t h = plen;
    while (h > 0 && it->prefix[h - 1] == 0xff)
        h--;
    if (h > 0) {
        memcpy(it->hi, it->prefix, h);
        it->hi[h - 1]++;
        it->hlen = h;
        it->has_hi = 1;
    }
    it->head = head;
    it->next = *head;
    if (*head)
        (*head)->prev = it;
    *head = it;
    *out = it;
    return CN_STORE_OK;
}

/* The bound where iteration begins: key, length, inclusive. Returns 0 when unbounded. */
static int iter_bound(const cn_store_iter *it, const uint8_t **k, size_t *klen, int *incl) {
    if (!it->reverse) {
        if (it->has_start && cn_ovt_key_cmp(it->start, it->slen, it->prefix, it->plen) > 0) {
            *k = it->start, *klen = it->slen, *incl = 1;
            return 1;
        }
        if (it->plen) {
            *k = it->prefix, *klen = it->plen, *incl = 1;
            return 1;
        }
        return 0;
    }
    if (it->has_start && (!it->has_hi || cn_ovt_key_cmp(it->start, it->slen, it->hi, it->hlen) < 0)) {
        *k = it->start, *klen = it->slen, *incl = 1;
        return 1;
    }
    if (it->has_hi) {
        *k = it->hi, *klen = it->hlen, *incl = 0;
        return 1;
    }
    return 0;
}

/* Positions the LMDB cursor at the first candidate. */
static int iter_position(cn_store_iter *it) {
    const uint8_t *bk;
    size_t bl;
    int incl;
    int bounded = iter_bound(it, &bk, &bl, &incl);
    int rc;
    if (!bounded) {
        rc = mdb_cursor_get(it->cur, &it->lk, &it->lv, it->reverse ? MDB_LAST : MDB_FIRST);
    } else {
        it->lk.mv_data = (void *)(uintptr_t)bk;
        it->lk.mv_size = bl;
        rc = mdb_cursor_get(it->cur, &it->lk, &it->lv, MDB_SET_RANGE);
        if (it->reverse) {
            if (rc == MDB_NOTFOUND) {
                rc = mdb_cursor_get(it->cur, &it->lk, &it->lv, MDB_LAST);
            } else if (rc == 0) {
                int at = cn_ovt_key_cmp(it->lk.mv_data, it->lk.mv_size, bk, bl) == 0;
                if (!(at && incl))
                    rc = mdb_cursor_get(it->cur, &it->lk, &it->lv, MDB_PREV);
            }
        }
    }
    if (rc == MDB_NOTFOUND) {
        it->l_state = 2;
        return 0;
    }
    if (rc)
        return rc;
    it->l_state = 1;
    return 0;
}

static int iter_advance(cn_store_iter *it) {
    int rc = mdb_cursor_get(it->cur, &it->lk, &it->lv, it->reverse ? MDB_PREV : MDB_NEXT);
    if (rc == MDB_NOTFOUND) {
        it->l_state = 2;
        return 0;
    }
    return rc;
}

cn_store_err cn_store_iter_next(cn_store_iter *it, const void **key, size_t *klen,
                                const void **val, size_t *vlen) {
    if (!it || !key || !klen || !val || !vlen)
        return fail(CN_STORE_INVALID);
    if (it->done)
        return CN_STORE_NOTFOUND;
    int rc = 0;
    if (!it->started) {
        it->started = 1;
        rc = iter_position(it);
    } else if (it->l_advance) {
        it->l_advance = 0;
        rc = iter_advance(it);
    }
    if (rc)
        goto err;
    for (;;) {
        ov_node *o = NULL;
        if (it->root) {
            if (it->has_last) {
                o = it->reverse ? cn_ovt_floor(*it->root, it->last, it->lastlen, 1)
                                : cn_ovt_ceil(*it->root, it->last, it->lastlen, 1);
            } else {
                const uint8_t *bk = NULL;
                size_t bl = 0;
                int incl = 1;
                if (!iter_bound(it, &bk, &bl, &incl))
                    bk = NULL;
                o = it->reverse ? cn_ovt_floor(*it->root, bk, bl, !incl)
                                : cn_ovt_ceil(*it->root, bk, bl, !incl);
            }
        }
        int have_l = it->l_state == 1;
        if (!o && !have_l) {
            it->done = 1;
            return CN_STORE_NOTFOUND;
        }
        int use_o;
        if (o && have_l) {
            int c = cn_ovt_key_cmp(o->key, o->klen, it->lk.mv_data, it->lk.mv_size);
            if (it->reverse)
                c = -c;
            use_o = c <= 0;
            if (c == 0) { /* the overlay shadows the committed entry */
                rc = iter_advance(it);
                if (rc)
                    goto err;
            }
        } else {
            use_o = o != NULL;
        }
        const uint8_t *k = use_o ? o->key : it->lk.mv_data;
        size_t kl = use_o ? o->klen : it->lk.mv_size;
        if (it->plen && (kl < it->plen || memcmp(k, it->prefix, it->plen) != 0)) {
            it->done = 1;
            return CN_STORE_NOTFOUND;
        }
        memcpy(it->last, k, kl);
        it->lastlen = kl;
        it->has_last = 1;
        if (use_o) {
            if (o->state != OV_PUT)
                continue;
            *key = o->key;
            *klen = o->klen;
            *val = o->vlen ? o->val : empty_value;
            *vlen = o->vlen;
            return CN_STORE_OK;
        }
        it->l_advance = 1;
        *key = it->lk.mv_data;
        *klen = it->lk.mv_size;
        *val = it->lv.mv_size ? it->lv.mv_data : empty_value;
        *vlen = it->lv.mv_size;
        return CN_STORE_OK;
    }
err:
    it->done = 1;
    return map_rc(rc);
}

/* ---- write batches ------------------------------------------------------------------------ */

cn_store_err cn_store_begin(cn_store *s, cn_store_wtxn **out) {
    if (!out)
        return fail(CN_STORE_INVALID);
    *out = NULL;
    if (!s)
        return fail(CN_STORE_INVALID);
    int m = pthread_mutex_lock(&s->write_mu);
    if (m == EDEADLK)
        return fail(CN_STORE_BUSY);
    if (m)
        return map_rc(m);
    cn_store_wtxn *w = calloc(1, sizeof *w);
    if (!w) {
        pthread_mutex_unlock(&s->write_mu);
        return fail(CN_STORE_NOMEM);
    }
    w->s = s;
    cn_store_err e = CN_STORE_OK;
    int rc = mdb_txn_begin(s->env, NULL, 0, &w->txn);
    if (rc == MDB_MAP_RESIZED) {
        /* Another process grew the map: adopt its size (no transaction is active here). */
        e = set_map_exclusive(s, 0);
        if (e == CN_STORE_OK) {
            rc = mdb_txn_begin(s->env, NULL, 0, &w->txn);
            e = map_rc(rc);
        }
    } else {
        e = map_rc(rc);
    }
    if (e != CN_STORE_OK) {
        free(w);
        pthread_mutex_unlock(&s->write_mu);
        return e;
    }
    w->txn_id = mdb_txn_id(w->txn);
    *out = w;
    return CN_STORE_OK;
}

/* Reads the committed value (ignoring the overlay). */
static int base_get(cn_store_wtxn *w, cn_db db, const void *key, size_t klen, MDB_val *d) {
    MDB_val k = {klen, (void *)(uintptr_t)key};
    return mdb_get(w->txn, w->s->dbi[db], &k, d);
}

/* Adds `add` bytes to the batch budget, or fails without changing it. */
static int budget(cn_store_wtxn *w, size_t add, size_t release) {
    size_t now = w->bytes - release;
    if (add > w->s->max_batch || now > w->s->max_batch - add)
        return 0;
    w->bytes = now + add;
    return 1;
}

cn_store_err cn_store_put(cn_store_wtxn *w, cn_db db, const void *key, size_t klen,
                          const void *val, size_t vlen) {
    if (!w || !db_ok(db) || (!val && vlen))
        return fail(CN_STORE_INVALID);
    cn_store_err e = check_key(key, klen);
    if (e != CN_STORE_OK)
        return e;
    if (vlen > CN_STORE_MAX_VALUE)
        return fail(CN_STORE_VALUE_SIZE);
    ov_node *n = cn_ovt_find(w->root[db], key, klen);
    size_t add = n ? vlen : sizeof *n + klen + vlen;
    size_t release = n ? n->vlen : 0;
    if (!budget(w, add, release))
        return fail(CN_STORE_BATCH_TOO_LARGE);
    uint8_t *copy = NULL;
    if (vlen) {
        copy = malloc(vlen);
        if (!copy) {
            w->bytes = w->bytes - add + release;
            return fail(CN_STORE_NOMEM);
        }
        memcpy(copy, val, vlen);
    }
    if (n) {
        if (n->state == OV_NOP)
            w->count++;
        free(n->val);
        n->val = copy;
        n->vlen = vlen;
        n->state = OV_PUT;
        return CN_STORE_OK;
    }
    n = calloc(1, sizeof *n + klen);
    if (!n) {
        w->bytes -= add;
        free(copy);
        return fail(CN_STORE_NOMEM);
    }
    memcpy(n->key, key, klen);
    n->klen = klen;
    n->val = copy;
    n->vlen = vlen;
    n->height = 1;
    n->state = OV_PUT;
    w->root[db] = cn_ovt_insert(w->root[db], n);
    w->count++;
    return CN_STORE_OK;
}

cn_store_err cn_store_del(cn_store_wtxn *w, cn_db db, const void *key, size_t klen) {
    if (!w || !db_ok(db))
        return fail(CN_STORE_INVALID);
    cn_store_err e = check_key(key, klen);
    if (e != CN_STORE_OK)
        return e;
    ov_node *n = cn_ovt_find(w->root[db], key, klen);
    if (n && n->state != OV_PUT)
        return CN_STORE_NOTFOUND;
    MDB_val d;
    int rc = base_get(w, db, key, klen, &d);
    if (rc && rc != MDB_NOTFOUND)
        return map_rc(rc);
    int in_base = rc == 0;
    if (n) {
        free(n->val);
        n->val = NULL;
        w->bytes -= n->vlen;
        n->vlen = 0;
        if (in_base) {
            n->state = OV_DEL;
        } else {
            n->state = OV_NOP;
            w->count--;
        }
        return CN_STORE_OK;
    }
    if (!in_base)
        return CN_STORE_NOTFOUND;
    if (!budget(w, sizeof *n + klen, 0))
        return fail(CN_STORE_BATCH_TOO_LARGE);
    n = calloc(1, sizeof *n + klen);
    if (!n) {
        w->bytes -= sizeof *n + klen;
        return fail(CN_STORE_NOMEM);
    }
    memcpy(n->key, key, klen);
    n->klen = klen;
    n->height = 1;
    n->state = OV_DEL;
    w->root[db] = cn_ovt_insert(w->root[db], n);
    w->count++;
    return CN_STORE_OK;
}

cn_store_err cn_store_get(cn_store_wtxn *w, cn_db db, const void *key, size_t klen,
                          const void **val, size_t *vlen) {
    if (!w || !db_ok(db) || !val || !vlen)
        return fail(CN_STORE_INVALID);
    cn_store_err e = check_key(key, klen);
    if (e != CN_STORE_OK)
        return e;
    ov_node *n = cn_ovt_find(w->root[db], key, klen);
    if (n) {
        if (n->state != OV_PUT)
            return CN_STORE_NOTFOUND;
        *val = n->vlen ? n->val : empty_value;
        *vlen = n->vlen;
        return CN_STORE_OK;
    }
    MDB_val d;
    int rc = base_get(w, db, key, klen, &d);
    if (rc == MDB_NOTFOUND)
        return CN_STORE_NOTFOUND;
    if (rc)
        return map_rc(rc);
    *val = d.mv_size ? d.mv_data : empty_value;
    *vlen = d.mv_size;
    return CN_STORE_OK;
}

size_t cn_store_batch_count(const cn_store_wtxn *w) { return w ? w->count : 0; }

static int walk(const ov_node *n, cn_store_write_fn fn, void *ctx) {
    while (n) {
        int r = walk(n->kid[0], fn, ctx);
        if (r)
            return r;
        if (n->state == OV_PUT)
            r = fn(ctx, n->key, n->klen, n->vlen ? n->val : empty_value, n->vlen, 0);
        else if (n->state == OV_DEL)
            r = fn(ctx, n->key, n->klen, NULL, 0, 1);
        if (r)
            return r;
        n = n->kid[1];
    }
    return 0;
}

int cn_store_write_set(cn_store_wtxn *w, cn_db db, cn_store_write_fn fn, void *ctx) {
    if (!w || !fn || !db_ok(db))
        return -1;
    return walk(w->root[db], fn, ctx);
}

/* Writes one tree into the LMDB transaction in key order. Returns an LMDB code. */
static int apply(MDB_txn *txn, MDB_dbi dbi, const ov_node *n) {
    while (n) {
        int rc = apply(txn, dbi, n->kid[0]);
        if (rc)
            return rc;
        MDB_val k = {n->klen, (void *)(uintptr_t)n->key};
        if (n->state == OV_PUT) {
            MDB_val d = {n->vlen, n->vlen ? n->val : (void *)(uintptr_t)empty_value};
            rc = mdb_put(txn, dbi, &k, &d, 0);
        } else if (n->state == OV_DEL) {
            rc = mdb_del(txn, dbi, &k, NULL);
        }
        if (rc)
            return rc;
        n = n->kid[1];
    }
    return 0;
}

/* LMDB reports a short write as EIO, which is how ENOSPC and EFBIG usually arrive (the kernel
 * writes what fits and returns a short count). After EIO, look at the causes a node operator
 * can fix: if the filesystem has less free space than the batch plus 1 MiB, or the file size
 * limit (RLIMIT_FSIZE) is that close, report CN_STORE_DISK_FULL with raw ENOSPC or EFBIG. */
static cn_store_err classify_eio(cn_store *s, size_t batch_bytes) {
    size_t margin = (size_t)1 << 20;
    size_t need = batch_bytes > SIZE_MAX - margin ? SIZE_MAX : batch_bytes + margin;
    const char *path = NULL;
    struct statvfs vfs;
    if (mdb_env_get_path(s->env, &path) == 0 && path && statvfs(path, &vfs) == 0) {
        unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
        if (avail < need) {
            tls_raw = ENOSPC;
            return CN_STORE_DISK_FULL;
        }
    }
    struct rlimit rl;
    int fd;
    struct stat st;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        mdb_env_get_fd(s->env, &fd) == 0 && fstat(fd, &st) == 0 && st.st_size >= 0) {
        unsigned long long size = (unsigned long long)st.st_size;
        if (size >= rl.rlim_cur || rl.rlim_cur - size < need) {
            tls_raw = EFBIG;
            return CN_STORE_DISK_FULL;
        }
    }
    tls_raw = EIO;
    return CN_STORE_IO;
}

static void batch_finish(cn_store_wtxn *w) {
    if (w->txn)
        mdb_txn_abort(w->txn);
    for (int i = 0; i < CN_DB_COUNT; i++)
        cn_ovt_free(w->root[i]);
    pthread_mutex_unlock(&w->s->write_mu);
    free(w);
}

cn_store_err cn_store_commit(cn_store_wtxn *w) {
    if (!w)
        return fail(CN_STORE_INVALID);
    if (w->iters)
        return fail(CN_STORE_INVALID);
    cn_store *s = w->s;
    cn_store_err e = CN_STORE_OK;
    if (w->count == 0)
        goto out;
    for (;;) {
        int rc = 0;
        for (int i = 0; i < CN_DB_COUNT && !rc; i++)
            rc = apply(w->txn, s->dbi[i], w->root[i]);
        if (!rc) {
            rc = mdb_txn_commit(w->txn); /* frees the transaction whatever the result */
            w->txn = NULL;
            if (!rc)
                goto out;
        }
        if (rc != MDB_MAP_FULL) {
            /* A delete of a key the batch saw must succeed: the data changed underneath. */
            e = map_rc(rc);
            if (rc == MDB_NOTFOUND)
                e = CN_STORE_CONFLICT;
            else if (rc == EIO)
                e = classify_eio(s, w->bytes);
            goto out;
        }
        if (w->txn) {
            mdb_txn_abort(w->txn);
            w->txn = NULL;
        }
        e = grow(s);
        if (e != CN_STORE_OK)
            goto out;
        rc = mdb_txn_begin(s->env, NULL, 0, &w->txn);
        if (rc) {
            w->txn = NULL;
            e = map_rc(rc);
            goto out;
        }
        if (mdb_txn_id(w->txn) != w->txn_id) {
            e = fail(CN_STORE_CONFLICT);
            goto out;
        }
    }
out:
    batch_finish(w);
    return e;
}

void cn_store_abort(cn_store_wtxn *w) {
    if (!w)
        return;
    iters_close_all(&w->iters);
    batch_finish(w);
}

cn_store_err cn_store_iter_write(cn_store_iter **out, cn_store_wtxn *w, cn_db db,
                                 const void *prefix, size_t plen, const void *start,
                                 size_t slen, unsigned flags) {
    if (!out)
        return fail(CN_STORE_INVALID);
    *out = NULL;
    if (!w || !db_ok(db))
        return fail(CN_STORE_INVALID);
    return iter_open(out, w->txn, w->s->dbi[db], &w->root[db], &w->iters, prefix, plen, start,
                     slen, flags);
}

/* ---- read snapshots ----------------------------------------------------------------------- */

cn_store_err cn_store_read_begin(cn_store *s, cn_store_rtxn **out) {
    if (!out)
        return fail(CN_STORE_INVALID);
    *out = NULL;
    if (!s)
        return fail(CN_STORE_INVALID);
    cn_store_rtxn *r = calloc(1, sizeof *r);
    if (!r)
        return fail(CN_STORE_NOMEM);
    r->s = s;
    r->owner = pthread_self();
    pthread_mutex_lock(&s->gate_mu);
    while (s->growing)
        pthread_cond_wait(&s->gate_cv, &s->gate_mu);
    s->readers++;
    r->link.next = s->snaps.next;
    r->link.prev = &s->snaps;
    s->snaps.next->prev = &r->link;
    s->snaps.next = &r->link;
    pthread_mutex_unlock(&s->gate_mu);
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r->txn);
    if (rc) {
        r->txn = NULL;
        cn_store_read_end(r);
        return map_rc(rc);
    }
    *out = r;
    return CN_STORE_OK;
}

cn_store_err cn_store_read_get(cn_store_rtxn *r, cn_db db, const void *key, size_t klen,
                               const void **val, size_t *vlen) {
    if (!r || !db_ok(db) || !val || !vlen)
        return fail(CN_STORE_INVALID);
    cn_store_err e = check_key(key, klen);
    if (e != CN_STORE_OK)
        return e;
    MDB_val k = {klen, (void *)(uintptr_t)key}, d;
    int rc = mdb_get(r->txn, r->s->dbi[db], &k, &d);
    if (rc == MDB_NOTFOUND)
        return CN_STORE_NOTFOUND;
    if (rc)
        return map_rc(rc);
    *val = d.mv_size ? d.mv_data : empty_value;
    *vlen = d.mv_size;
    return CN_STORE_OK;
}

void cn_store_read_end(cn_store_rtxn *r) {
    if (!r)
        return;
    cn_store *s = r->s;
    iters_close_all(&r->iters);
    if (r->txn)
        mdb_txn_abort(r->txn);
    pthread_mutex_lock(&s->gate_mu);
    r->link.prev->next = r->link.next;
    r->link.next->prev = r->link.prev;
    s->readers--;
    if (s->readers == 0)
        pthread_cond_broadcast(&s->gate_cv);
    pthread_mutex_unlock(&s->gate_mu);
    free(r);
}

cn_store_err cn_store_iter_read(cn_store_iter **out, cn_store_rtxn *r, cn_db db,
                                const void *prefix, size_t plen, const void *start,
                                size_t slen, unsigned flags) {
    if (!out)
        return fail(CN_STORE_INVALID);
    *out = NULL;
    if (!r || !db_ok(db))
        return fail(CN_STORE_INVALID);
    return iter_open(out, r->txn, r->s->dbi[db], NULL, &r->iters, prefix, plen, start, slen,
                     flags);
}
