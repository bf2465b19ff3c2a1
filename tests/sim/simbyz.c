/* The simulator's Byzantine validator. Part of sim.c's translation unit (sim.c includes this
 * file where its definitions are in scope; it is not compiled on its own).
 *
 * It runs a core like every node but rewrites what it sends, per peer, with probability
 * byz_pm. Random strategy: the real message, another valid value, an invalid value, a
 * made-up pol_round, a nil vote or a vote for another proposed value, both versions, or
 * nothing, plus votes for random rounds at gossip ticks. Mirror strategy: proposals split
 * between two valid values; every vote sent to a peer echoes what that peer voted itself in
 * that round (read from its core), so each side's value gets the Byzantine power: the attack
 * that turns any locking mistake into a fork.
 */

static void byz_pool_add(sim *s, const uint8_t id[32]) {
    for (uint32_t k = 0; k < s->npool; k++)
        if (memcmp(s->byz_pool[k], id, 32) == 0)
            return;
    uint32_t at = s->npool < 8 ? s->npool++ : (uint32_t)sim_rng_below(&s->rng, 8);
    memcpy(s->byz_pool[at], id, 32);
}

/* The value peer j itself voted for in (round, type) at height h, if it did. */
static const cn_cons_value *peer_vote(sim *s, uint32_t j, uint64_t h, uint32_t round, int type) {
    sim_node *pj = &s->nodes[j];
    if (!pj->up || pj->core->height != h)
        return NULL;
    cn_cons_round *sl = cn_cons_find_round(pj->core, round);
    if (!sl)
        return NULL;
    const cn_cons_voteset *set = type == CN_CONS_PREVOTE ? &sl->prevotes : &sl->precommits;
    return set->votes[j].has ? &set->votes[j].vote.value : NULL;
}

/* Mirror strategy: proposals split between two valid values by split_mask; votes echo what
 * the receiving peer voted itself, so each side's value gets the Byzantine power. */
static void byz_mirror_send(sim *s, uint32_t j, const sim_msg *orig) {
    sim_msg m = *orig;
    if (orig->kind == SIM_MSG_PROPOSAL) {
        if (!((s->split_mask >> j) & 1u))
            make_value(m.p.id, m.p.height, s->byz, m.p.round, (m.p.height << 20) | m.p.round | 1);
        byz_pool_add(s, m.p.id);
    } else {
        const cn_cons_value *pv = peer_vote(s, j, m.v.height, m.v.round, m.v.type);
        if (pv)
            m.v.value = *pv;
    }
    send_msg(s, s->byz, j, &m);
}

/* Sends peer j the real message, a conflicting one, both, or nothing. */
static void byz_send(sim *s, uint32_t j, const sim_msg *orig) {
    uint32_t b = s->byz;
    if (!sim_rng_pm(&s->rng, s->byz_pm)) {
        send_msg(s, b, j, orig);
        return;
    }
    if (s->byz_mirror) {
        byz_mirror_send(s, j, orig);
        return;
    }
    sim_msg alt = *orig;
    if (orig->kind == SIM_MSG_PROPOSAL) {
        switch (sim_rng_below(&s->rng, 3)) {
        case 0: /* another valid value */
            make_value(alt.p.id, alt.p.height, b, alt.p.round, sim_rng_next(&s->rng) | 1);
            byz_pool_add(s, alt.p.id);
            break;
        case 1: /* an invalid value */
            make_value(alt.p.id, alt.p.height + 1, b, alt.p.round, 7);
            break;
        default: /* a made-up proof-of-lock round */
            alt.p.pol_round = (int32_t)sim_rng_below(&s->rng, (uint64_t)alt.p.round + 1) - 1;
            break;
        }
    } else if (s->npool > 0 && sim_rng_pm(&s->rng, 600)) {
        alt.v.value.has_value = 1;
        memcpy(alt.v.value.id, s->byz_pool[sim_rng_below(&s->rng, s->npool)], 32);
    } else {
        memset(&alt.v.value, 0, sizeof alt.v.value);
    }
    switch (sim_rng_below(&s->rng, 4)) {
    case 0:
        send_msg(s, b, j, &alt);
        break;
    case 1:
        send_msg(s, b, j, orig);
        send_msg(s, b, j, &alt);
        break;
    case 2:
        break;
    default:
        send_msg(s, b, j, orig);
        break;
    }
}

/* Performs the Byzantine core's outputs, rewriting what it sends. */
static void byz_process(sim *s) {
    uint32_t b = s->byz;
    sim_node *nd = &s->nodes[b];
    cn_cons_output buf[CN_CONS_MAX_OUTPUTS];
    for (;;) {
        size_t n;
        const cn_cons_output *o = cn_cons_outputs(nd->core, &n);
        memcpy(buf, o, n * sizeof *o);
        int decided = 0;
        for (size_t k = 0; k < n; k++) {
            sim_msg m;
            sim_event e;
            memset(&e, 0, sizeof e);
            e.node = b;
            e.epoch = nd->epoch;
            switch ((cn_cons_out_kind)buf[k].kind) {
            case CN_CONS_OUT_PROPOSAL:
            case CN_CONS_OUT_VOTE:
                (void)msg_of(&buf[k], &m, s->now);
                if (m.kind == SIM_MSG_PROPOSAL) {
                    byz_pool_add(s, m.p.id);
                    s->split_mask = (uint32_t)sim_rng_next(&s->rng);
                }
                for (uint32_t j = 0; j < s->n; j++)
                    if (j != b)
                        byz_send(s, j, &m);
                break;
            case CN_CONS_OUT_GET_VALUE:
                e.time = s->now;
                e.type = SIM_EV_VALUE;
                e.h = buf[k].u.get_value.height;
                e.r = buf[k].u.get_value.round;
                push(s, &e);
                break;
            case CN_CONS_OUT_TIMEOUT:
                e.time = s->now + buf[k].u.timeout.ms;
                e.type = SIM_EV_TIMEOUT;
                e.tkind = buf[k].u.timeout.kind;
                e.h = buf[k].u.timeout.height;
                e.r = buf[k].u.timeout.round;
                push(s, &e);
                break;
            case CN_CONS_OUT_DECIDE:
                decided = 1;
                nd->decided_h = buf[k].u.decide.proposal.height;
                break;
            case CN_CONS_OUT_PERSIST:
            case CN_CONS_OUT_EVIDENCE:
            case CN_CONS_OUT_PROPOSAL_CONFLICT:
                break;
            }
        }
        if (!decided || nd->decided_h >= SIM_MAX_H)
            return;
        s->npool = 0;
        cn_cons_start_height(nd->core, nd->decided_h + 1, &s->vs[nd->decided_h + 1], b);
    }
}

/* At a gossip tick: mirror votes to every peer (mirror strategy), or votes for random rounds
 * and values to a random peer. */
static void byz_spray(sim *s) {
    const cn_cons *c = s->nodes[s->byz].core;
    sim_msg m;
    memset(&m, 0, sizeof m);
    if (s->byz_mirror) {
        m.kind = SIM_MSG_VOTE;
        m.v.validator = s->byz;
        m.v.timestamp = s->now;
        for (uint32_t j = 0; j < s->n; j++) {
            sim_node *pj = &s->nodes[j];
            if (j == s->byz || !pj->up)
                continue;
            for (int type = CN_CONS_PREVOTE; type <= CN_CONS_PRECOMMIT; type++) {
                const cn_cons_value *pv =
                    peer_vote(s, j, pj->core->height, pj->core->round, type);
                if (!pv || !sim_rng_pm(&s->rng, s->byz_pm))
                    continue;
                m.v.type = (uint8_t)type;
                m.v.height = pj->core->height;
                m.v.round = pj->core->round;
                m.v.value = *pv;
                send_msg(s, s->byz, j, &m);
            }
        }
        return;
    }
    if (!sim_rng_pm(&s->rng, s->byz_pm / 2))
        return;
    m.kind = SIM_MSG_VOTE;
    m.v.type = sim_rng_pm(&s->rng, 500) ? CN_CONS_PREVOTE : CN_CONS_PRECOMMIT;
    m.v.height = c->height;
    m.v.round = c->round + (uint32_t)sim_rng_below(&s->rng, 12);
    m.v.validator = s->byz;
    m.v.timestamp = s->now;
    if (s->npool > 0 && sim_rng_pm(&s->rng, 500)) {
        m.v.value.has_value = 1;
        memcpy(m.v.value.id, s->byz_pool[sim_rng_below(&s->rng, s->npool)], 32);
    }
    send_msg(s, s->byz, (uint32_t)sim_rng_below(&s->rng, s->n), &m);
}
