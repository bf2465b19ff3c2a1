/* The HTTP API server end to end, in process: the server runs on an event loop thread with a
 * fake backend, and the tests talk to it over real loopback sockets with a raw HTTP client,
 * so malformed requests reach the server exactly as written. Covers every route, the error
 * shape, a table of bad requests with their status and code, the rate limit and the
 * connection cap. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "node/rpc/server.h"
#include "proto/codec.h"


#include "tests/unit/rpc_fake.h"

/* ---- raw HTTP client --------------------------------------------------------------------- */

typedef struct {
    int status;
    char head[4096];
    char *body; /* NUL-terminated */
    size_t body_len;
} reply;

static int connect_to(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const void *data, size_t len) {
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may close early (413); the reply is read anyway */
        p += n;
        len -= (size_t)n;
    }
}

/* Reads a whole response until the server closes; fills r (caller frees r->body). */
static void read_reply(int fd, reply *r) {
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    for (;;) {
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    memset(r, 0, sizeof *r);
    r->status = -1;
    if (len >= 12 && strncmp(buf, "HTTP/1.", 7) == 0)
        r->status = atoi(buf + 9);
    char *end = strstr(buf, "\r\n\r\n");
    size_t head_len = end ? (size_t)(end - buf) : len;
    if (head_len >= sizeof r->head)
        head_len = sizeof r->head - 1;
    memcpy(r->head, buf, head_len);
    r->head[head_len] = '\0';
    size_t off = end ? (size_t)(end - buf) + 4 : len;
    r->body_len = len - off;
    r->body = malloc(r->body_len + 1);
    assert_non_null(r->body);
    memcpy(r->body, buf + off, r->body_len);
    r->body[r->body_len] = '\0';
    free(buf);
}

static void raw(uint16_t port, const void *req, size_t len, reply *r) {
    int fd = connect_to(port);
    send_all(fd, req, len);
    read_reply(fd, r);
    close(fd);
}

/* Sends one request with Connection: close; `ctype` NULL omits Content-Type. */
static void http(uint16_t port, const char *method, const char *path, const char *ctype,
                 const void *body, size_t body_len, reply *r) {
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s%s"
                     "Content-Length: %zu\r\n\r\n",
                     method, path, ctype ? "Content-Type: " : "", ctype ? ctype : "",
                     ctype ? "\r\n" : "", body_len);
    assert_true(n > 0 && (size_t)n < sizeof head);
    size_t total = (size_t)n + body_len;
    char *req = malloc(total);
    assert_non_null(req);
    memcpy(req, head, (size_t)n);
    if (body_len)
        memcpy(req + n, body, body_len);
    raw(port, req, total, r);
    free(req);
}

/* The error code of an error body, or "" (asserts the exact error shape). */
static const char *err_code(const reply *r, char *out, size_t cap) {
    out[0] = '\0';
    json_t *o = json_loads(r->body, 0, NULL);
    if (o == NULL)
        return out;
    json_t *e = json_object_get(o, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (json_object_size(o) == 1 && code != NULL && msg != NULL && msg[0] != '\0')
        snprintf(out, cap, "%s", code);
    json_decref(o);
    return out;
}

static void expect(rpc_fake *h, const char *method, const char *path, const char *ctype,
                   const void *body, size_t len, int status, const char *code) {
    reply r;
    http(h->port, method, path, ctype, body, len, &r);
    char got[64];
    err_code(&r, got, sizeof got);
    if (r.status != status || (code != NULL && strcmp(got, code) != 0))
        fail_msg("%s %s: got %d '%s', want %d '%s'\n%s\n%s", method, path, r.status, got, status,
                 code ? code : "", r.head, r.body);
    free(r.body);
}

/* ---- building transactions --------------------------------------------------------------- */

/* Encodes a signed transfer; returns malloc'd Signed bytes. `flip` corrupts the signature. */
static uint8_t *make_tx(const cn_keypair *kp, const char *chain, uint64_t nonce, int flip,
                        size_t *len) {
    uint8_t to[32];
    memset(to, 0x33, sizeof to);
    Clearnode__V1__Transfer tr;
    clearnode__v1__transfer__init(&tr);
    tr.to.data = to;
    tr.to.len = 32;
    tr.asset = (char *)(uintptr_t) "USD";
    tr.amount = 5;
    Clearnode__V1__Tx tx;
    clearnode__v1__tx__init(&tx);
    tx.chain_id = (char *)(uintptr_t)chain;
    tx.nonce = nonce;
    tx.kind_case = CLEARNODE__V1__TX__KIND_TRANSFER;
    tx.transfer = &tr;
    uint8_t *body;
    size_t body_len;
    assert_true(cn_encode(&tx.base, CN_CAP_TX, &body, &body_len));
    uint8_t sig[64];
    assert_true(cn_sign_body(kp, sig, CN_TAG_SIG_TX, chain, body, body_len));
    if (flip)
        sig[10] ^= 1;
    Clearnode__V1__Signed s;
    clearnode__v1__signed__init(&s);
    s.body.data = body;
    s.body.len = body_len;
    s.signer.data = (uint8_t *)(uintptr_t)kp->pub;
    s.signer.len = 32;
    s.sig.data = sig;
    s.sig.len = 64;
    uint8_t *out;
    assert_true(cn_encode(&s.base, CN_CAP_TX, &out, len));
    free(body);
    return out;
}

static char *b64_json(const uint8_t *bytes, size_t len) {
    size_t cap = cn_b64_encoded_len(len) + 16;
    char *out = malloc(cap);
    assert_non_null(out);
    memcpy(out, "{\"tx\":\"", 7);
    cn_b64_encode(out + 7, cap - 7, bytes, len);
    strcat(out, "\"}");
    return out;
}

#define PB "application/x-protobuf"
#define JS "application/json"

/* ---- tests ------------------------------------------------------------------------------- */

static void test_routes_ok(void **state) {
    (void)state;
    rpc_fake *h = rpc_fake_start(NULL);
    reply r;
    http(h->port, "GET", "/v1/status", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "Content-Type: application/json"));
    assert_non_null(strstr(r.body, "\"chain_id\":\"test-chain\""));
    free(r.body);

    /* Submit as protobuf: 202 and the tx id; the receipt is then queryable. */
    size_t len;
    uint8_t *tx = make_tx(&h->kp, RPC_FAKE_CHAIN, 1, 0, &len);
    uint8_t id[32];
    char hex[65], path[128], want[128];
    cn_hash_tagged(id, CN_TAG_TX, tx, len);
    cn_hex_encode(hex, id, 32);
    http(h->port, "POST", "/v1/tx", PB, tx, len, &r);
    assert_int_equal(r.status, 202);
    snprintf(want, sizeof want, "{\"hash\":\"%s\"}", hex);
    assert_non_null(strstr(r.body, want));
    free(r.body);
    snprintf(path, sizeof path, "/v1/tx/%s", hex);
    http(h->port, "GET", path, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"height\":5"));
    free(r.body);
    /* Upper-case hex names the same transaction. */
    for (char *p = path; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    expect(h, "GET", path, NULL, NULL, 0, 200, NULL);
    free(tx);

    /* Submit as JSON base64, with a charset parameter. */
    tx = make_tx(&h->kp, RPC_FAKE_CHAIN, 2, 0, &len);
    char *js = b64_json(tx, len);
    expect(h, "POST", "/v1/tx", "application/json; charset=utf-8", js, strlen(js), 202, NULL);
    free(js);
    free(tx);

    cn_hex_encode(hex, h->kp.pub, 32);
    snprintf(path, sizeof path, "/v1/accounts/%s", hex);
    http(h->port, "GET", path, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"nonce\":2"));
    free(r.body);

    http(h->port, "GET", "/v1/blocks/2", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"height\":2"));
    free(r.body);
    http(h->port, "GET", "/v1/blocks/2?format=proto", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "Content-Type: application/x-protobuf"));
    assert_int_equal(r.body_len, 3);
    assert_memory_equal(r.body, "\x0a\x01\x00", 3);
    free(r.body);
    expect(h, "GET", "/v1/blocks/2?format=json", NULL, NULL, 0, 200, NULL);

    http(h->port, "GET", "/metrics", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "Content-Type: text/plain"));
    assert_non_null(strstr(r.body, "clearnode_height 3\n"));
    assert_non_null(strstr(r.body, "clearnode_rpc_requests_total{route=\"status\",code=\"200\"} 1"));
    assert_non_null(strstr(r.body, "clearnode_rpc_requests_total{route=\"tx_submit\",code=\"202\"} 2"));
    free(r.body);
    rpc_fake_stop(h);
}

/* Keep-alive: several requests on one connection, answered in order. */
static void test_keepalive(void **state) {
    (void)state;
    rpc_fake *h = rpc_fake_start(NULL);
    const char req[] = "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /v1/blocks/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    reply r;
    raw(h->port, req, sizeof req - 1, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "HTTP/1.1 200"));
    assert_non_null(strstr(r.body, "HTTP/1.1 404"));
    free(r.body);
    rpc_fake_stop(h);
}

struct bad {
    const char *name, *method, *path, *ctype;
    const void *body;
    size_t len;
    int status;
    const char *code;
};

static void test_bad_input(void **state) {
    (void)state;
    rpc_fake *h = rpc_fake_start(NULL);
    size_t ok_len, wrong_len, badsig_len, other_len, replay_len;
    uint8_t *ok = make_tx(&h->kp, RPC_FAKE_CHAIN, 1, 0, &ok_len);
    uint8_t *wrong = make_tx(&h->kp, "other-chain", 1, 0, &wrong_len);
    uint8_t *badsig = make_tx(&h->kp, RPC_FAKE_CHAIN, 1, 1, &badsig_len);
    uint8_t *other = make_tx(&h->other, RPC_FAKE_CHAIN, 1, 0, &other_len);
    uint8_t *replay = make_tx(&h->kp, RPC_FAKE_CHAIN, 1, 0, &replay_len); /* same nonce, new signature */
    expect(h, "POST", "/v1/tx", PB, ok, ok_len, 202, NULL);

    uint8_t *big = calloc(1, CN_CAP_TX + 1);
    assert_non_null(big);
    char *js_trunc = b64_json(ok, ok_len - 5);
    const char h64[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    char p63[128], p65[128], pz[128], pslash[128], pacct[128], pacct_bad[128], pspace[128];
    snprintf(p63, sizeof p63, "/v1/tx/%.63s", h64);
    snprintf(p65, sizeof p65, "/v1/tx/%s0", h64);
    snprintf(pz, sizeof pz, "/v1/tx/zz%.62s", h64);
    snprintf(pslash, sizeof pslash, "/v1/tx/%s/", h64);
    snprintf(pacct, sizeof pacct, "/v1/accounts/%s", h64);
    snprintf(pacct_bad, sizeof pacct_bad, "/v1/accounts/0x%.62s", h64);
    snprintf(pspace, sizeof pspace, "/v1/tx/%%20%.61s", h64);
    const char garbage[] = "\xff\xff\xff\xff";

    const struct bad table[] = {
        /* transaction bodies */
        {"truncated protobuf", "POST", "/v1/tx", PB, ok, ok_len - 5, 400, "malformed"},
        {"garbage protobuf", "POST", "/v1/tx", PB, garbage, 4, 400, "malformed"},
        {"truncated protobuf in JSON", "POST", "/v1/tx", JS, js_trunc, strlen(js_trunc), 400,
         "malformed"},
        {"empty body", "POST", "/v1/tx", PB, "", 0, 400, "malformed"},
        {"wrong chain id", "POST", "/v1/tx", PB, wrong, wrong_len, 400, "wrong_chain"},
        {"wrong signature", "POST", "/v1/tx", PB, badsig, badsig_len, 401, "bad_signature"},
        {"unknown signer", "POST", "/v1/tx", PB, other, other_len, 403, "unknown_signer"},
        {"replayed nonce", "POST", "/v1/tx", PB, replay, replay_len, 409, "bad_nonce"},
        {"oversized protobuf", "POST", "/v1/tx", PB, big, CN_CAP_TX + 1, 413, "too_large"},
        {"invalid JSON", "POST", "/v1/tx", JS, "{\"tx\":", 6, 400, "invalid_json"},
        {"JSON not an object", "POST", "/v1/tx", JS, "[\"AAAA\"]", 8, 400, "invalid_json"},
        {"JSON extra member", "POST", "/v1/tx", JS, "{\"tx\":\"AAAA\",\"x\":1}", 19, 400,
         "invalid_json"},
        {"JSON duplicate key", "POST", "/v1/tx", JS, "{\"tx\":\"AAAA\",\"tx\":\"AAAA\"}", 25,
         400, "invalid_json"},
        {"JSON tx not a string", "POST", "/v1/tx", JS, "{\"tx\":12}", 9, 400, "invalid_json"},
        {"JSON trailing junk", "POST", "/v1/tx", JS, "{\"tx\":\"AAAA\"}x", 14, 400,
         "invalid_json"},
        {"invalid base64 char", "POST", "/v1/tx", JS, "{\"tx\":\"!!!!\"}", 13, 400,
         "invalid_base64"},
        {"unpadded base64", "POST", "/v1/tx", JS, "{\"tx\":\"AAA\"}", 12, 400, "invalid_base64"},
        {"base64 with space", "POST", "/v1/tx", JS, "{\"tx\":\"AA AA\"}", 14, 400,
         "invalid_base64"},
        {"empty base64", "POST", "/v1/tx", JS, "{\"tx\":\"\"}", 9, 400, "malformed"},
        {"no content type", "POST", "/v1/tx", NULL, ok, ok_len, 415, "unsupported_media_type"},
        {"text content type", "POST", "/v1/tx", "text/plain", ok, ok_len, 415,
         "unsupported_media_type"},
        /* path parameters */
        {"hash 63 digits", "GET", p63, NULL, NULL, 0, 400, "invalid_hash"},
        {"hash 65 digits", "GET", p65, NULL, NULL, 0, 400, "invalid_hash"},
        {"hash not hex", "GET", pz, NULL, NULL, 0, 400, "invalid_hash"},
        {"hash percent-encoded", "GET", pspace, NULL, NULL, 0, 400, "invalid_hash"},
        {"hash empty", "GET", "/v1/tx/", NULL, NULL, 0, 400, "invalid_hash"},
        {"hash trailing slash", "GET", pslash, NULL, NULL, 0, 404, "not_found"},
        {"unknown tx", "GET", "/v1/tx/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
         NULL, NULL, 0, 404, "not_found"},
        {"pubkey with 0x", "GET", pacct_bad, NULL, NULL, 0, 400, "invalid_pubkey"},
        {"unknown account", "GET", pacct, NULL, NULL, 0, 404, "not_found"},
        {"height 0", "GET", "/v1/blocks/0", NULL, NULL, 0, 400, "invalid_height"},
        {"height negative", "GET", "/v1/blocks/-1", NULL, NULL, 0, 400, "invalid_height"},
        {"height plus", "GET", "/v1/blocks/+1", NULL, NULL, 0, 400, "invalid_height"},
        {"height leading zero", "GET", "/v1/blocks/01", NULL, NULL, 0, 400, "invalid_height"},
        {"height junk", "GET", "/v1/blocks/1a", NULL, NULL, 0, 400, "invalid_height"},
        {"height 2^64", "GET", "/v1/blocks/18446744073709551616", NULL, NULL, 0, 400,
         "invalid_height"},
        {"huge height", "GET", "/v1/blocks/99999999999999999999999999", NULL, NULL, 0, 400,
         "invalid_height"},
        {"height 2^64-1", "GET", "/v1/blocks/18446744073709551615", NULL, NULL, 0, 404,
         "not_found"},
        {"height 2^64-1 proto", "GET", "/v1/blocks/18446744073709551615?format=proto", NULL,
         NULL, 0, 404, "not_found"},
        {"block bad format", "GET", "/v1/blocks/1?format=xml", NULL, NULL, 0, 400,
         "invalid_query"},
        {"status with query", "GET", "/v1/status?x=1", NULL, NULL, 0, 400, "invalid_query"},
        /* routes and methods */
        {"unknown route", "GET", "/v2/status", NULL, NULL, 0, 404, "not_found"},
        {"root", "GET", "/", NULL, NULL, 0, 404, "not_found"},
        {"GET on submit", "GET", "/v1/tx", NULL, NULL, 0, 405, "method_not_allowed"},
        {"POST on status", "POST", "/v1/status", JS, "{}", 2, 405, "method_not_allowed"},
        {"DELETE on tx", "DELETE", pacct, NULL, NULL, 0, 405, "method_not_allowed"},
        {"PUT on block", "PUT", "/v1/blocks/1", JS, "{}", 2, 405, "method_not_allowed"},
        {"OPTIONS", "OPTIONS", "/v1/status", NULL, NULL, 0, 405, "method_not_allowed"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const struct bad *b = &table[i];
        print_message("  %-28s -> %d %s\n", b->name, b->status, b->code);
        expect(h, b->method, b->path, b->ctype, b->body, b->len, b->status, b->code);
    }

    /* Mempool full. */
    size_t n2_len;
    uint8_t *n2 = make_tx(&h->kp, RPC_FAKE_CHAIN, 2, 0, &n2_len);
    h->f.full = 1;
    expect(h, "POST", "/v1/tx", PB, n2, n2_len, 503, "mempool_full");
    h->f.full = 0;
    expect(h, "POST", "/v1/tx", PB, n2, n2_len, 202, NULL);

    /* The rejected transaction's id is in the error when known. */
    reply r;
    http(h->port, "POST", "/v1/tx", PB, replay, replay_len, &r);
    uint8_t id[32];
    char hex[65];
    cn_hash_tagged(id, CN_TAG_TX, replay, replay_len);
    cn_hex_encode(hex, id, 32);
    assert_non_null(strstr(r.body, hex));
    assert_non_null(strstr(r.body, "expected 3"));
    free(r.body);

    /* 405 names the allowed method. */
    http(h->port, "GET", "/v1/tx", NULL, NULL, 0, &r);
    assert_non_null(strstr(r.head, "Allow: POST"));
    free(r.body);

    /* Over the request body cap: evhttp answers 413 before reading the body. */
    const char huge[] = "POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                        "Content-Length: 100000000\r\n\r\nabc";
    raw(h->port, huge, sizeof huge - 1, &r);
    assert_int_equal(r.status, 413);
    free(r.body);
    /* The JSON form is capped too. */
    size_t jl = 300 * 1024;
    char *jbig = malloc(jl);
    assert_non_null(jbig);
    memset(jbig, ' ', jl);
    http(h->port, "POST", "/v1/tx", JS, jbig, 250 * 1024, &r);
    assert_int_equal(r.status, 413);
    char code[64];
    assert_string_equal(err_code(&r, code, sizeof code), "too_large");
    free(r.body);
    free(jbig);

    /* Headers over the cap. */
    char *hbig = malloc(20000);
    assert_non_null(hbig);
    int n = snprintf(hbig, 20000, "GET /v1/status HTTP/1.1\r\nX-Junk: ");
    memset(hbig + n, 'a', 12000);
    memcpy(hbig + n + 12000, "\r\n\r\n", 4);
    raw(h->port, hbig, (size_t)n + 12004, &r);
    assert_true(r.status == 400 || r.status == 413 || r.status == 431 || r.status == -1);
    free(r.body);
    free(hbig);

    /* The server is still fine. */
    expect(h, "GET", "/v1/status", NULL, NULL, 0, 200, NULL);
    free(big);
    free(js_trunc);
    free(ok);
    free(wrong);
    free(badsig);
    free(other);
    free(replay);
    free(n2);
    rpc_fake_stop(h);
}

/* Random and broken request lines and headers never take the server down. */
static void test_garbage_requests(void **state) {
    (void)state;
    rpc_fake *h = rpc_fake_start(NULL);
    const char *fixed[] = {
        "\r\n\r\n",
        "GET\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "GET /v1/status HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        "POST /v1/tx HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        ("POST /v1/tx HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Type: "
         "application/x-protobuf\r\n\r\nffffffff\r\nab\r\n"),
        "GET /v1/tx/\x00\x01 HTTP/1.1\r\n\r\n",
        "BREW /v1/status HTTP/1.1\r\n\r\n",
        "GET /v1/status?%zz HTTP/1.1\r\n\r\n",
        "GET http://evil/v1/status HTTP/1.1\r\n\r\n",
        "GET /v1/blocks/1#frag HTTP/1.1\r\n\r\n",
    };
    reply r;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        int fd = connect_to(h->port);
        send_all(fd, fixed[i], strlen(fixed[i]) + (i == 6 ? 3 : 0));
        shutdown(fd, SHUT_WR);
        read_reply(fd, &r);
        close(fd);
        free(r.body);
    }
    unsigned seed = (unsigned)time(NULL);
    print_message("  garbage seed %u\n", seed);
    srand(seed);
    for (int i = 0; i < 200; i++) {
        char buf[512];
        size_t len = (size_t)(rand() % (int)sizeof buf);
        for (size_t j = 0; j < len; j++)
            buf[j] = (char)(rand() % 4 == 0 ? "\r\n :/?%"[rand() % 7] : rand() % 256);
        int fd = connect_to(h->port);
        send_all(fd, buf, len);
        shutdown(fd, SHUT_WR);
        read_reply(fd, &r);
        close(fd);
        free(r.body);
    }
    expect(h, "GET", "/v1/status", NULL, NULL, 0, 200, NULL);
    rpc_fake_stop(h);
}

static void test_rate_limit(void **state) {
    (void)state;
    cn_rpc_limits lim = {0, 0, 1, 2}; /* 1 request/s, burst 2 */
    rpc_fake *h = rpc_fake_start(&lim);
    expect(h, "GET", "/v1/status", NULL, NULL, 0, 200, NULL);
    expect(h, "GET", "/v1/blocks/1", NULL, NULL, 0, 200, NULL);
    reply r;
    http(h->port, "GET", "/v1/status", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 429);
    char code[64];
    assert_string_equal(err_code(&r, code, sizeof code), "rate_limited");
    assert_non_null(strstr(r.head, "Retry-After: 1"));
    free(r.body);
    expect(h, "POST", "/v1/tx", PB, "x", 1, 429, "rate_limited");
    usleep(1100 * 1000);
    http(h->port, "GET", "/metrics", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "clearnode_rpc_rejected_total{reason=\"rate_limit\"} 2"));
    assert_non_null(strstr(r.body, "clearnode_rpc_requests_total{route=\"none\",code=\"429\"} 2"));
    free(r.body);
    rpc_fake_stop(h);
}

/* Waits up to ms for fd to become readable. */
static int readable(int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

static void test_connection_cap(void **state) {
    (void)state;
    cn_rpc_limits lim = {0, 2, 0, 0};
    rpc_fake *h = rpc_fake_start(&lim);
    int a = connect_to(h->port), b = connect_to(h->port);
    usleep(200 * 1000); /* both accepted; accepting is now paused */
    int c = connect_to(h->port); /* completes in the kernel's listen queue */
    const char req[] = "GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send_all(c, req, sizeof req - 1);
    assert_false(readable(c, 400)); /* not served while two connections are open */
    /* The open connections still work. */
    send_all(a, req, sizeof req - 1);
    reply r;
    read_reply(a, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
    close(a);
    /* Once a slot is free, the waiting client is served. */
    read_reply(c, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
    close(c);
    close(b);
    usleep(300 * 1000);
    http(h->port, "GET", "/metrics", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "clearnode_rpc_rejected_total{reason=\"connection_limit\"}"));
    assert_null(strstr(r.body, "clearnode_rpc_rejected_total{reason=\"connection_limit\"} 0"));
    free(r.body);
    rpc_fake_stop(h);
}

static void test_start_errors(void **state) {
    (void)state;
    struct event_base *base = event_base_new();
    cn_rpc_backend be = {0};
    char err[256] = "";
    assert_null(cn_rpc_server_start(base, "127.0.0.1", 0, NULL, NULL, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(cn_rpc_server_start(base, "256.1.1.1", 0, &be, NULL, err, sizeof err));
    assert_non_null(strstr(err, "cannot listen"));
    /* A port in use. */
    cn_rpc_server *s1 = cn_rpc_server_start(base, "127.0.0.1", 0, &be, NULL, err, sizeof err);
    assert_non_null(s1);
    assert_null(cn_rpc_server_start(base, "127.0.0.1", cn_rpc_server_port(s1), &be, NULL, err,
                                    sizeof err));
    cn_rpc_server_stop(s1);
    cn_rpc_server_stop(NULL);
    event_base_free(base);
}

/* GET /v1/margin/{pubkey}: 200 with the backend's view, 404 without an account, 400 for a
 * malformed key, 503 on a node whose backend has no margin view. */
static void test_margin_route(void **state) {
    (void)state;
    rpc_fake *h = rpc_fake_start(NULL);
    char hex[65], path[96];
    cn_hex_encode(hex, h->kp.pub, 32);
    snprintf(path, sizeof path, "/v1/margin/%s", hex);
    reply r;
    http(h->port, "GET", path, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"equity\":\"2500000000\""));
    free(r.body);
    cn_hex_encode(hex, h->other.pub, 32);
    snprintf(path, sizeof path, "/v1/margin/%s", hex);
    expect(h, "GET", path, NULL, NULL, 0, 404, "not_found");
    expect(h, "GET", "/v1/margin/xyz", NULL, NULL, 0, 400, "invalid_pubkey");
    expect(h, "POST", path, NULL, "x", 1, 405, NULL);
    h->be.get_margin = NULL;
    expect(h, "GET", path, NULL, NULL, 0, 503, "unavailable");
    rpc_fake_stop(h);
}

/* GET /v1/validators/{height}: 200 with the backend's set, 404 above the heights it knows,
 * 400 for a height that is not a positive decimal, 503 without the backend's view. */
static void test_validators_route(void **state) {
    (void)state;
    rpc_fake *h = rpc_fake_start(NULL);
    reply r;
    http(h->port, "GET", "/v1/validators/4", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"height\":4"));
    free(r.body);
    expect(h, "GET", "/v1/validators/5", NULL, NULL, 0, 404, "not_found");
    expect(h, "GET", "/v1/validators/0", NULL, NULL, 0, 400, "invalid_height");
    expect(h, "GET", "/v1/validators/-1", NULL, NULL, 0, 400, "invalid_height");
    expect(h, "GET", "/v1/validators/4?x=1", NULL, NULL, 0, 400, "invalid_query");
    expect(h, "POST", "/v1/validators/4", NULL, "x", 1, 405, NULL);
    h->be.get_validators = NULL;
    expect(h, "GET", "/v1/validators/4", NULL, NULL, 0, 503, "unavailable");
    rpc_fake_stop(h);
}

/* A backend with nothing filled in answers 503, never crashes. */
static void test_empty_backend(void **state) {
    (void)state;
    rpc_fake *h = rpc_fake_start(NULL);
    cn_rpc_backend saved = h->be;
    memset(&h->be, 0, sizeof h->be); /* read by the loop thread only during requests */
    expect(h, "GET", "/v1/status", NULL, NULL, 0, 503, "unavailable");
    expect(h, "GET", "/v1/blocks/1", NULL, NULL, 0, 503, "unavailable");
    expect(h, "POST", "/v1/tx", PB, "x", 1, 503, "unavailable");
    expect(h, "GET", "/metrics", NULL, NULL, 0, 200, NULL);
    h->be = saved;
    rpc_fake_stop(h);
}

int main(void) {
    if (!cn_crypto_init())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_ok),       cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_bad_input),       cmocka_unit_test(test_garbage_requests),
        cmocka_unit_test(test_rate_limit),      cmocka_unit_test(test_connection_cap),
        cmocka_unit_test(test_start_errors),    cmocka_unit_test(test_margin_route),
        cmocka_unit_test(test_validators_route),
        cmocka_unit_test(test_empty_backend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
