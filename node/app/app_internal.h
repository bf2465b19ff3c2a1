/* Internals shared by app.c (open, admission, proposals) and exec.c (finalize, commit). */
#ifndef CLEARNODE_NODE_APP_APP_INTERNAL_H
#define CLEARNODE_NODE_APP_APP_INTERNAL_H

#include <pthread.h>

#include "node/app/app.h"
#include "node/app/ledger.h"
#include "node/app/state.h"
#include "node/app/validators.h"
#include "proto/codec.h"

struct cn_app {
    cn_store *store;
    const cn_genesis *g;
    cn_validators vnext; /* the set of tip + 1 ('v' 'n' in committed state) */
    cn_validators vlast; /* the set of tip ('v' 'l'), which signed the tip's commit */
    cn_tip tip;
    cn_sigcache sigs;
    cn_block_result *pending;
    pthread_mutex_t stats_mu;
    cn_app_stats stats;
};

/* A tx decoded for checks: the envelope and the body, each in its own arena. */
typedef struct {
    cn_pb spb, tpb;
    const Clearnode__V1__Signed *s;
    const Clearnode__V1__Tx *tx;
} cn_parsed_tx;

void cn_parsed_free(cn_parsed_tx *p);

/* Reloads vnext and vlast from committed state. Returns 1, or 0 with a reason. */
int cn_app_load_validators(cn_app *app, char *err, size_t cap);

/* Stateless admission: decoding, signer and signature lengths, chain id, kind supported,
 * fields. On failure the message is specific. */
cn_txerr cn_app_parse_tx(const cn_app *app, const uint8_t *bytes, size_t len, cn_parsed_tx *p,
                         char *msg, size_t cap);

/* cn_app_parse_tx, except that bytes whose id is in the signature cache are only decoded: the
 * cache takes only ids of bytes that passed cn_app_parse_tx (a pure function of the bytes and
 * genesis), so the verdict is the same and the two x-only key checks are not paid again. */
cn_txerr cn_app_parse_known(cn_app *app, const uint8_t *bytes, size_t len, const uint8_t id[32],
                            cn_parsed_tx *p, char *msg, size_t cap);

/* Signer registered and permitted for the kind; fills acct. */
cn_txerr cn_app_authorize(cn_overlay *ov, const cn_parsed_tx *p, cn_account *acct, char *msg,
                          size_t cap);

/* Verifies the signature unless the id is in the sigcache (consume: remove it). */
cn_txerr cn_app_verify_sig(cn_app *app, const cn_parsed_tx *p, const uint8_t id[32],
                           int consume, char *msg, size_t cap);


#endif
