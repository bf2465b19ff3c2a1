/* Signed transaction building (see txbuild.h). */
#include "node/app/txbuild.h"

#include <stdlib.h>
#include <string.h>

int cn_tx_sign(const cn_keypair *kp, const char *chain_id, Clearnode__V1__Tx *tx,
               uint8_t **out, size_t *len) {
    tx->chain_id = (char *)(uintptr_t)chain_id;
    uint8_t *body;
    size_t blen;
    if (!cn_encode(&tx->base, CN_CAP_TX, &body, &blen))
        return 0;
    uint8_t sig[CN_SIG_LEN];
    int ok = cn_sign_body(kp, sig, CN_TAG_SIG_TX, chain_id, body, blen);
    if (ok) {
        Clearnode__V1__Signed s;
        clearnode__v1__signed__init(&s);
        s.body = (ProtobufCBinaryData){blen, body};
        s.signer = (ProtobufCBinaryData){32, (uint8_t *)(uintptr_t)kp->pub};
        s.sig = (ProtobufCBinaryData){CN_SIG_LEN, sig};
        ok = cn_encode(&s.base, CN_CAP_TX, out, len);
    }
    free(body);
    return ok;
}

int cn_tx_register_client(const cn_keypair *kp, const char *chain_id, uint64_t nonce,
                          const uint8_t client[32], const char *label, uint8_t **out,
                          size_t *len) {
    Clearnode__V1__RegisterClient rc;
    clearnode__v1__register_client__init(&rc);
    rc.pubkey = (ProtobufCBinaryData){32, (uint8_t *)(uintptr_t)client};
    rc.label = (char *)(uintptr_t)(label ? label : "");
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    tx.nonce = nonce;
    tx.kind_case = CLEARNODE__V1__TX__KIND_REGISTER_CLIENT;
    tx.register_client = &rc;
    return cn_tx_sign(kp, chain_id, &tx, out, len);
}

int cn_tx_deposit(const cn_keypair *kp, const char *chain_id, uint64_t nonce,
                  const uint8_t account[32], const char *asset, uint64_t amount,
                  const uint8_t *ref, size_t ref_len, uint8_t **out, size_t *len) {
    Clearnode__V1__DepositAttest d;
    clearnode__v1__deposit_attest__init(&d);
    d.account = (ProtobufCBinaryData){32, (uint8_t *)(uintptr_t)account};
    d.asset = (char *)(uintptr_t)asset;
    d.amount = amount;
    d.deposit_ref = (ProtobufCBinaryData){ref_len, (uint8_t *)(uintptr_t)ref};
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    tx.nonce = nonce;
    tx.kind_case = CLEARNODE__V1__TX__KIND_DEPOSIT_ATTEST;
    tx.deposit_attest = &d;
    return cn_tx_sign(kp, chain_id, &tx, out, len);
}

int cn_tx_transfer(const cn_keypair *kp, const char *chain_id, uint64_t nonce,
                   const uint8_t to[32], const char *asset, uint64_t amount, uint8_t **out,
                   size_t *len) {
    Clearnode__V1__Transfer t;
    clearnode__v1__transfer__init(&t);
    t.to = (ProtobufCBinaryData){32, (uint8_t *)(uintptr_t)to};
    t.asset = (char *)(uintptr_t)asset;
    t.amount = amount;
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    tx.nonce = nonce;
    tx.kind_case = CLEARNODE__V1__TX__KIND_TRANSFER;
    tx.transfer = &t;
    return cn_tx_sign(kp, chain_id, &tx, out, len);
}
