/* clearnode storage: one LMDB environment per node (DESIGN.md §6).
 *
 * What it is
 * ----------
 * A thin, strict layer over LMDB. One environment lives in a directory (the node uses
 * `<home>/data`, holding data.mdb and lock.mdb) with these named databases:
 *
 *   blocks   height (be64) -> encoded block
 *   commits  height (be64) -> encoded commit certificate of that height
 *   txs      tx hash (32 bytes) -> height, index, result
 *   state    module-prefixed keys (big-endian integers, see keys.h) -> module values
 *   meta     ASCII names -> node-wide values; the store owns the key "format_version"
 *   signer   last signed height/round/step and the signed message (consensus owns the layout)
 *
 * Keys compare as raw bytes (memcmp, shorter first on a tie), so big-endian integers iterate
 * in numeric order. No other database exists; adding one means adding it to cn_db, to the
 * name table in store.c and to docs/storage.md, with the reason written next to it.
 *
 * Write batches: buffered in memory, applied at commit
 * ----------------------------------------------------
 * A block's writes go into a write batch (cn_store_wtxn). cn_store_put/cn_store_del do not
 * touch LMDB: they go into an in-memory ordered overlay. cn_store_get and the iterators read
 * the overlay over an LMDB write transaction that the batch holds open (so reads see the
 * batch's own writes, and no other writer can commit in between). cn_store_commit applies the
 * overlay in key order to that transaction and commits it with a full sync.
 *
 * Why this design rather than a replay callback: the only clean way to grow an LMDB map is to
 * abort the write transaction, call mdb_env_set_mapsize() while no transaction is active in the
 * process, and redo the writes. With the overlay the store can redo them itself, so
 * MDB_MAP_FULL never reaches the caller unless the map is at its maximum, and the caller never
 * has to make block execution re-runnable. The overlay is also exactly the block's sorted write
 * set, which the app hash needs (DESIGN.md §6); cn_store_write_set() walks it. The cost is
 * memory for the write set, bounded by cn_store_opts.max_batch_bytes.
 *
 * Durability: every commit is synced (LMDB default flags: no MDB_NOSYNC, no MDB_NOMETASYNC,
 * no MDB_WRITEMAP). When cn_store_commit returns CN_STORE_OK the batch is on disk; on any
 * other result none of it is. There is no option to weaken this.
 *
 * Map growth: when applying a batch hits MDB_MAP_FULL, the store aborts the LMDB transaction,
 * waits until no read snapshot of this store is open in any thread, doubles the map size
 * (capped at max_map_size), starts a new write transaction, checks that no other writer
 * committed in between (mdb_txn_id unchanged), and applies the batch again. This repeats
 * until the batch fits or the map is at max_map_size (CN_STORE_MAP_FULL). The data file grows
 * only as pages are written; the map size is address space.
 *
 * Errors: every function returning cn_store_err gives CN_STORE_OK (0) or one specific code
 * below; cn_store_strerror() names it. The raw LMDB or errno code behind the last failure in
 * the calling thread is kept for logs: cn_store_last_raw(), cn_store_last_detail().
 *
 * A full disk: LMDB turns a short write into EIO, which is how ENOSPC and EFBIG usually show
 * up. After EIO in a commit the store checks free space on the filesystem and RLIMIT_FSIZE;
 * if either is below the batch size plus 1 MiB it reports CN_STORE_DISK_FULL with raw ENOSPC
 * or EFBIG, else CN_STORE_IO with raw EIO. Nothing of the batch is committed either way, and
 * the node should stop: after a failed sync the state of the page cache is not known.
 *
 * Threads: MDB_NOTLS is set, so a read snapshot may be started in one thread and used or ended
 * in another (one thread at a time), and any number of threads may hold snapshots while the
 * block thread writes. Write batches are serialized by the store: a second cn_store_begin from
 * another thread blocks until the first batch ends.
 *
 * Caveats (what breaks if misused)
 * --------------------------------
 * - A write batch must be begun, committed or aborted in the same thread (LMDB's writer lock
 *   belongs to a thread). cn_store_begin in a thread that already has a batch open returns
 *   CN_STORE_BUSY instead of deadlocking.
 * - The thread committing a batch should hold no read snapshot: growing the map waits for all
 *   snapshots to end, so the store refuses to grow with CN_STORE_BUSY rather than wait for
 *   itself. (The check knows the thread that began each snapshot; a snapshot begun
 *   elsewhere and handed to the committing thread would deadlock the growth.) Long-lived
 *   snapshots in other threads delay a commit that needs to grow.
 * - Pointers returned by get/iterators into a write batch are valid until the next put, del,
 *   commit or abort on that batch; from a read snapshot, until the snapshot ends. Copy what
 *   you keep.
 * - Close every iterator before ending its transaction (see cn_store_commit, cn_store_abort).
 * - Open a directory at most once per process (a second cn_store_open of it returns
 *   CN_STORE_BUSY), and only one process may write to it. Read-only tools (mdb_stat,
 *   mdb_dump) may run alongside. Do not use a store across fork(); open it in the child.
 * - End every transaction before cn_store_close().
 */
#ifndef CLEARNODE_NODE_STORE_STORE_H
#define CLEARNODE_NODE_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CN_STORE_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CN_STORE_WARN_UNUSED
#endif

/* Error codes. Numeric values are stable (they may appear in logs). */
typedef enum {
    CN_STORE_OK = 0,
    CN_STORE_NOTFOUND,       /* key absent; also the end of an iteration */
    CN_STORE_INVALID,        /* bad argument or misuse (NULL, unknown db, iterator open) */
    CN_STORE_KEY_SIZE,       /* key empty or longer than CN_STORE_MAX_KEY */
    CN_STORE_VALUE_SIZE,     /* value longer than CN_STORE_MAX_VALUE */
    CN_STORE_BATCH_TOO_LARGE, /* batch over max_batch_bytes, or over LMDB's dirty-page limit */
    CN_STORE_MAP_FULL,       /* the batch does not fit even at max_map_size */
    CN_STORE_DISK_FULL,      /* ENOSPC, EDQUOT or EFBIG while writing */
    CN_STORE_READ_ONLY,      /* directory or files not writable (EACCES, EPERM, EROFS) */
    CN_STORE_BAD_PATH,       /* path is not a directory, or its parent does not exist */
    CN_STORE_VERSION,        /* unknown store format version, or LMDB file version */
    CN_STORE_CORRUPT,        /* not a clearnode store, or LMDB reports corruption */
    CN_STORE_BUSY,           /* would deadlock (see Caveats), or no free reader slot */
    CN_STORE_CONFLICT,       /* another process changed the environment (wrote, resized) */
    CN_STORE_NOMEM,          /* out of memory */
    CN_STORE_IO,             /* any other I/O or LMDB error; see cn_store_last_detail() */
    CN_STORE_ERR_COUNT
} cn_store_err;

/* The named databases. */
typedef enum {
    CN_DB_BLOCKS = 0,
    CN_DB_COMMITS,
    CN_DB_TXS,
    CN_DB_STATE,
    CN_DB_META,
    CN_DB_SIGNER,
    CN_DB_COUNT
} cn_db;

#define CN_STORE_MAX_KEY 511u                 /* LMDB's default maximum key size */
#define CN_STORE_MAX_VALUE (16u * 1024u * 1024u) /* largest value accepted by put */
#define CN_STORE_FORMAT_VERSION 1u            /* meta "format_version", be32 */
#define CN_STORE_META_VERSION_KEY "format_version"

#define CN_STORE_DEFAULT_MAP_SIZE ((size_t)64 << 20)      /* 64 MiB */
#define CN_STORE_DEFAULT_MAX_MAP_SIZE ((size_t)1 << 40)   /* 1 TiB */
#define CN_STORE_DEFAULT_MAX_BATCH ((size_t)1 << 30)      /* 1 GiB */
#define CN_STORE_DEFAULT_MAX_READERS 126u

/* Options for cn_store_open. Zero in a field means its default. */
typedef struct {
    size_t map_size;        /* initial map size in bytes; rounded up to the page size */
    size_t max_map_size;    /* growth stops here; rounded down to the page size */
    size_t max_batch_bytes; /* cap on one batch's buffered keys, values and overhead */
    unsigned max_readers;   /* concurrent read snapshots (LMDB reader slots) */
} cn_store_opts;

typedef struct cn_store cn_store;
typedef struct cn_store_wtxn cn_store_wtxn; /* a write batch */
typedef struct cn_store_rtxn cn_store_rtxn; /* a read snapshot */
typedef struct cn_store_iter cn_store_iter;

/* Returns a short, fixed description of `e` ("key not found", ...); never NULL. */
const char *cn_store_strerror(cn_store_err e);

/* The raw LMDB or errno code behind the last error returned in this thread (0 if none), and
 * its text from mdb_strerror (LMDB codes and errno values alike). For logs only. */
int cn_store_last_raw(void);
const char *cn_store_last_detail(void);

/* Returns the name of a database ("blocks", ...) or NULL if `db` is out of range. */
const char *cn_store_db_name(cn_db db);

/* Opens the store in `dir`, creating the directory (mode 0700, parent must exist) and the
 * environment if missing. A new environment gets every named database and the format version;
 * an existing one must have the current version and every database.
 * In: dir (NUL-terminated), opts (NULL for defaults). Out: *out, NULL on failure.
 * Returns: CN_STORE_OK; CN_STORE_INVALID (NULL argument, map_size > max_map_size, dir too
 * long); CN_STORE_BAD_PATH (dir exists and is not a directory, or parent missing);
 * CN_STORE_READ_ONLY (cannot create or write the directory or files); CN_STORE_DISK_FULL;
 * CN_STORE_VERSION (format version not CN_STORE_FORMAT_VERSION, or an LMDB file of another
 * LMDB format); CN_STORE_CORRUPT (not an LMDB file, or an LMDB environment that is not a
 * clearnode store); CN_STORE_MAP_FULL (max_map_size too small to create it); CN_STORE_BUSY
 * (this directory is already open in this process); CN_STORE_NOMEM; CN_STORE_IO.
 * Reader slots left by dead processes are cleared (mdb_reader_check). */
cn_store_err cn_store_open(cn_store **out, const char *dir, const cn_store_opts *opts)
    CN_STORE_WARN_UNUSED;

/* Closes the store. All batches and snapshots must have ended. NULL is a no-op. */
void cn_store_close(cn_store *s);

/* Current map size in bytes (grows on demand). */
size_t cn_store_map_size(cn_store *s);

/* Durability of commits. By default (durable = 1) cn_store_commit returns only after the
 * data and the meta page are on disk. With durable = 0 commits skip the flush (MDB_NOSYNC):
 * a process crash loses nothing (the writes are in the OS page cache), a power loss may
 * undo the latest commits, and on a filesystem that reorders writes could damage the file.
 * The node uses it only while catching up on blocks it can fetch again, and syncs with
 * cn_store_sync before it signs anything. Returns CN_STORE_OK or CN_STORE_IO. */
cn_store_err cn_store_set_durable(cn_store *s, int durable);
/* Flushes every commit so far to disk (mdb_env_sync, forced). CN_STORE_OK or CN_STORE_IO. */
cn_store_err cn_store_sync(cn_store *s);

/* ---- write batches ----------------------------------------------------------------------- */

/* Starts a write batch. Blocks while another thread has a batch open.
 * Returns: CN_STORE_OK; CN_STORE_INVALID (NULL); CN_STORE_BUSY (this thread already has a
 * batch open); CN_STORE_NOMEM; CN_STORE_CONFLICT (another process resized the map and it
 * could not be adopted); CN_STORE_DISK_FULL, CN_STORE_IO (LMDB could not begin). */
cn_store_err cn_store_begin(cn_store *s, cn_store_wtxn **out) CN_STORE_WARN_UNUSED;

/* Sets key -> val in db, replacing any value. Copies both. vlen 0 is a valid empty value.
 * Returns: CN_STORE_OK; CN_STORE_INVALID (NULL batch or key, NULL val with vlen > 0, unknown
 * db); CN_STORE_KEY_SIZE (klen 0 or > CN_STORE_MAX_KEY); CN_STORE_VALUE_SIZE (vlen >
 * CN_STORE_MAX_VALUE); CN_STORE_BATCH_TOO_LARGE (max_batch_bytes would be exceeded; the
 * batch is unchanged and still usable); CN_STORE_NOMEM (batch unchanged). */
cn_store_err cn_store_put(cn_store_wtxn *w, cn_db db, const void *key, size_t klen,
                          const void *val, size_t vlen) CN_STORE_WARN_UNUSED;

/* Deletes key from db as seen by this batch.
 * Returns: CN_STORE_OK; CN_STORE_NOTFOUND (no such key; batch unchanged); CN_STORE_INVALID;
 * CN_STORE_KEY_SIZE; CN_STORE_BATCH_TOO_LARGE; CN_STORE_NOMEM; CN_STORE_CORRUPT, CN_STORE_IO
 * (LMDB read failed). */
cn_store_err cn_store_del(cn_store_wtxn *w, cn_db db, const void *key, size_t klen)
    CN_STORE_WARN_UNUSED;

/* Reads key from db including this batch's own puts and deletes. *val points into the batch
 * or the map (see Caveats); a zero-length value gives a non-NULL *val and *vlen 0.
 * Returns: CN_STORE_OK; CN_STORE_NOTFOUND; CN_STORE_INVALID; CN_STORE_KEY_SIZE;
 * CN_STORE_CORRUPT, CN_STORE_IO. */
cn_store_err cn_store_get(cn_store_wtxn *w, cn_db db, const void *key, size_t klen,
                          const void **val, size_t *vlen) CN_STORE_WARN_UNUSED;

/* Number of keys the batch writes (puts and deletes of existing keys). */
size_t cn_store_batch_count(const cn_store_wtxn *w);

/* Callback for cn_store_write_set: one write, in key order. `deleted` is 1 for a delete
 * (then val is NULL, vlen 0). Return 0 to continue, anything else to stop. */
typedef int (*cn_store_write_fn)(void *ctx, const uint8_t *key, size_t klen,
                                 const uint8_t *val, size_t vlen, int deleted);

/* Walks the batch's writes to db in key order: the final value of each key put, and each key
 * deleted that existed before the batch (a key put and then deleted in the same batch, which
 * did not exist before it, leaves no write). This is the sorted write set of DESIGN.md §6.
 * Returns 0 when every write was visited, the callback's nonzero value if it stopped, or -1
 * for a NULL batch or callback or an unknown db. */
int cn_store_write_set(cn_store_wtxn *w, cn_db db, cn_store_write_fn fn, void *ctx);

/* Applies the batch and commits it durably (synced), growing the map as needed (see top).
 * The batch is always finished when this returns, except for CN_STORE_INVALID with an iterator
 * still open, which leaves the batch unchanged and open. An empty batch commits nothing.
 * Returns: CN_STORE_OK (all writes on disk); CN_STORE_INVALID (NULL, or an iterator is open);
 * CN_STORE_MAP_FULL (does not fit at max_map_size; nothing written); CN_STORE_BUSY (the map
 * must grow but this thread holds a read snapshot; nothing written); CN_STORE_CONFLICT
 * (another process committed while the map grew; nothing written); CN_STORE_DISK_FULL;
 * CN_STORE_BATCH_TOO_LARGE (LMDB dirty-page limit); CN_STORE_READ_ONLY; CN_STORE_NOMEM;
 * CN_STORE_CORRUPT; CN_STORE_IO (nothing written; after CN_STORE_IO with raw MDB_PANIC the
 * store must be closed). */
cn_store_err cn_store_commit(cn_store_wtxn *w) CN_STORE_WARN_UNUSED;

/* Discards the batch. Iterators still open on it are closed and must not be used again.
 * NULL is a no-op. */
void cn_store_abort(cn_store_wtxn *w);

/* ---- read snapshots ---------------------------------------------------------------------- */

/* Starts a read snapshot: a consistent view of the last commit at this moment, unaffected by
 * later commits. Cheap; any thread. Waits while the map is being grown.
 * Returns: CN_STORE_OK; CN_STORE_INVALID; CN_STORE_BUSY (no free reader slot: max_readers
 * snapshots are open); CN_STORE_CONFLICT (another process resized the map; the next write
 * batch adopts the new size); CN_STORE_NOMEM; CN_STORE_IO. */
cn_store_err cn_store_read_begin(cn_store *s, cn_store_rtxn **out) CN_STORE_WARN_UNUSED;

/* Reads key from db in the snapshot. *val is valid until the snapshot ends.
 * Returns: CN_STORE_OK; CN_STORE_NOTFOUND; CN_STORE_INVALID; CN_STORE_KEY_SIZE;
 * CN_STORE_CORRUPT, CN_STORE_IO. */
cn_store_err cn_store_read_get(cn_store_rtxn *r, cn_db db, const void *key, size_t klen,
                               const void **val, size_t *vlen) CN_STORE_WARN_UNUSED;

/* Ends the snapshot. Iterators still open on it are closed and must not be used again.
 * NULL is a no-op. */
void cn_store_read_end(cn_store_rtxn *r);

/* ---- ordered iteration ------------------------------------------------------------------- */

#define CN_STORE_ITER_REVERSE 1u /* descending key order */

/* Opens an iterator over the keys of db that start with prefix[0..plen) (plen 0: all keys),
 * in ascending key order; with CN_STORE_ITER_REVERSE, descending. `start` (NULL for none)
 * bounds where it begins: ascending, the first key returned is the first >= start; descending,
 * the first key returned is the last <= start. Over a write batch the iterator merges the
 * batch's writes with the committed data; each step sees the batch as it is at that step.
 * Returns: CN_STORE_OK; CN_STORE_INVALID (NULL out or transaction, unknown db or flag, prefix
 * or start NULL with a nonzero length); CN_STORE_KEY_SIZE (plen > CN_STORE_MAX_KEY, or start
 * given with slen 0 or > CN_STORE_MAX_KEY); CN_STORE_NOMEM; CN_STORE_IO. */
cn_store_err cn_store_iter_write(cn_store_iter **out, cn_store_wtxn *w, cn_db db,
                                 const void *prefix, size_t plen, const void *start,
                                 size_t slen, unsigned flags) CN_STORE_WARN_UNUSED;
cn_store_err cn_store_iter_read(cn_store_iter **out, cn_store_rtxn *r, cn_db db,
                                const void *prefix, size_t plen, const void *start,
                                size_t slen, unsigned flags) CN_STORE_WARN_UNUSED;

/* Moves to the next key. *key and *val stay valid as described in Caveats, and until the next
 * step of this iterator.
 * Returns: CN_STORE_OK; CN_STORE_NOTFOUND (no more keys; stays at the end); CN_STORE_INVALID;
 * CN_STORE_CORRUPT, CN_STORE_IO. */
cn_store_err cn_store_iter_next(cn_store_iter *it, const void **key, size_t *klen,
                                const void **val, size_t *vlen) CN_STORE_WARN_UNUSED;

/* Closes the iterator. NULL is a no-op. */
void cn_store_iter_close(cn_store_iter *it);

#endif
