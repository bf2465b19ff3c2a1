# Independent computation of tests/vectors/reserves.txt, the worked example of docs/reserves.md:
# a tree of 3 accounts x 2 assets built with hashlib and a hand-written protobuf encoder,
# sharing no code with the C implementation. With --examples DIR it also writes the files the
# examples of docs/auditor.md use (genesis, a header certified by 3 of 4 validators with the
# BIP340 reference algorithm, proofs, the leaf export, attestations).
# Run: python3 tests/vectors/make_reserves.py > tests/vectors/reserves.txt
#      python3 tests/vectors/make_reserves.py --examples tests/vectors/reserves
import base64
import hashlib
import json
import os
import sys

def th(tag, x):
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + x).digest()

u32 = lambda v: v.to_bytes(4, 'big')
u64 = lambda v: v.to_bytes(8, 'big')
u128 = lambda v: v.to_bytes(16, 'big')
lp = lambda b: u32(len(b)) + b  # length-prefixed field

CHAIN = b'clearnode-test'
EPOCH = 7
HEIGHT = 42
ASSETS = [b'AAPL', b'USD']
ACCOUNTS = [  # (pubkey, secret, balances)
    (bytes([0x11]) * 32, bytes([0xa1]) * 32, [100, 2500]),
    (bytes([0x22]) * 32, bytes([0xa2]) * 32, [0, 700]),
    (bytes([0x33]) * 32, bytes([0xa3]) * 32, [42, 0]),
]
MIN_DEPTH = 4
K = len(ASSETS)

def depth_for(n):
    d = MIN_DEPTH
    while (1 << d) < n:
        d += 1
    return d

n = len(ACCOUNTS)
depth = depth_for(n)
ahash = [th('clearnode/por/account', u64(EPOCH) + pk) for pk, _, _ in ACCOUNTS]
salt = [th('clearnode/por/salt', sec + u64(EPOCH) + pk) for pk, sec, _ in ACCOUNTS]
params = th('clearnode/por/params', lp(CHAIN) + u64(EPOCH) + u64(n) + u32(depth) + u32(K) +
            b''.join(lp(a) for a in ASSETS))
order = sorted(range(n), key=lambda r: ahash[r])

level = []  # (hash, sums) of level 0
for pos in range(1 << depth):
    if pos < n:
        r = order[pos]
        bal = ACCOUNTS[r][2]
        h = th('clearnode/por/leaf', u64(EPOCH) + ahash[r] + salt[r] + u32(K) +
               b''.join(u64(b) for b in bal))
        level.append((h, list(bal)))
    else:
        level.append((th('clearnode/por/pad', u64(EPOCH) + u64(pos)), [0] * K))
levels = [level]
for l in range(1, depth + 1):
    prev, cur = levels[-1], []
    for j in range(len(prev) // 2):
        (hl, sl), (hr, sr) = prev[2 * j], prev[2 * j + 1]
        h = th('clearnode/por/node', params + u32(l) + hl + b''.join(u128(s) for s in sl) +
               hr + b''.join(u128(s) for s in sr))
        cur.append((h, [a + b for a, b in zip(sl, sr)]))
    levels.append(cur)
root, totals = levels[depth][0]

# Protobuf (proto3 as protobuf-c writes it: fields in number order, zero values omitted,
# repeated uint64 packed).
def varint(v):
    o = b''
    while True:
        b = v & 0x7f
        v >>= 7
        if v:
            o += bytes([b | 0x80])
        else:
            return o + bytes([b])

def fld(num, wt, payload):
    key = varint(num << 3 | wt)
    if wt == 0:
        return key + varint(payload) if payload else b''
    return key + varint(len(payload)) + payload if payload else b''

def proof(row):
    pos = order.index(row)
    pk, _, bal = ACCOUNTS[row]
    out = fld(1, 2, CHAIN) + fld(2, 0, EPOCH) + fld(3, 0, HEIGHT) + fld(4, 0, depth)
    out += fld(5, 0, pos) + fld(6, 2, pk) + fld(7, 2, salt[row])
    out += b''.join(fld(8, 2, a) for a in ASSETS)
    out += fld(9, 2, b''.join(varint(b) for b in bal))
    for l in range(depth):
        h, sums = levels[l][(pos >> l) ^ 1]
        step = fld(1, 2, h) + b''.join(fld(2, 2, u128(s)) for s in sums)
        out += fld(10, 2, step)
    out += fld(11, 2, root) + b''.join(fld(12, 2, u128(t)) for t in totals) + fld(13, 0, n)
    return out

def print_vector():
    print('# Worked example of docs/reserves.md, computed by tests/vectors/make_reserves.py')
    print('# (hashlib and a hand-written protobuf encoder, independent of the C code).')
    print('chain_id', CHAIN.decode())
    print('epoch', EPOCH)
    print('height', HEIGHT)
    print('assets', ','.join(a.decode() for a in ASSETS))
    for r, (pk, sec, bal) in enumerate(ACCOUNTS):
        print('account', r, pk.hex(), sec.hex(), ','.join(map(str, bal)))
    for r in range(n):
        print('account_hash', r, ahash[r].hex())
        print('salt', r, salt[r].hex())
    print('depth', depth)
    print('params', params.hex())
    print('order', ','.join(map(str, order)))
    for l in range(depth + 1):
        for j, (h, sums) in enumerate(levels[l]):
            print('node', l, j, h.hex(), ','.join(map(str, sums)))
    print('root', root.hex())
    print('totals', ','.join(map(str, totals)))
    for r in range(n):
        print('proof', r, proof(r).hex())


# ---- example files for docs/auditor.md -----------------------------------------------------
P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)

def ec_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    if p1[0] == p2[0] and p1[1] != p2[1]:
        return None
    if p1 == p2:
        lam = 3 * p1[0] * p1[0] * pow(2 * p1[1], P - 2, P) % P
    else:
        lam = (p2[1] - p1[1]) * pow(p2[0] - p1[0], P - 2, P) % P
    x = (lam * lam - p1[0] - p2[0]) % P
    return (x, (lam * (p1[0] - x) - p1[1]) % P)

def ec_mul(pt, k):
    r = None
    for i in range(256):
        if (k >> i) & 1:
            r = ec_add(r, pt)
        pt = ec_add(pt, pt)
    return r

b32 = lambda x: x.to_bytes(32, 'big')
bint = lambda b: int.from_bytes(b, 'big')

def xonly(sk):
    return b32(ec_mul(G, bint(sk))[0])

def bip340_sign(msg, sk, aux):
    d0 = bint(sk)
    pt = ec_mul(G, d0)
    d = d0 if pt[1] % 2 == 0 else N - d0
    t = bytes(a ^ b for a, b in zip(b32(d), th('BIP0340/aux', aux)))
    k0 = bint(th('BIP0340/nonce', t + b32(pt[0]) + msg)) % N
    r = ec_mul(G, k0)
    k = k0 if r[1] % 2 == 0 else N - k0
    e = bint(th('BIP0340/challenge', b32(r[0]) + b32(pt[0]) + msg)) % N
    return b32(r[0]) + b32((k + e * d) % N)

def write_examples(out):
    os.makedirs(out, exist_ok=True)
    def put(name, data):
        with open(os.path.join(out, name), 'wb' if isinstance(data, bytes) else 'w') as f:
            f.write(data)
    vals = [(bytes([0x10 + i]) * 32, [10, 10, 10, 30][i]) for i in range(4)]
    pubs = [(xonly(sk), pw) for sk, pw in vals]
    genesis = {'chain_id': CHAIN.decode(), 'members': [
        {'name': 'validator-%d' % i, 'pubkey': pk.hex(), 'roles': ['validator'], 'power': pw}
        for i, (pk, pw) in enumerate(pubs)]}
    put('genesis.json', json.dumps(genesis, indent=2) + '\n')
    vh = th('clearnode/validators', b''.join(pk + u64(pw) for pk, pw in sorted(pubs)))
    header = (fld(1, 2, CHAIN) + fld(2, 0, HEIGHT) + fld(3, 0, 1700000000000) +
              fld(8, 2, vh) + fld(9, 2, root))
    block_id = th('clearnode/block', header)
    precommits = b''
    for i in (3, 0, 1):  # power 30 + 10 + 10 = 50 of 60
        sk, pk = vals[i][0], pubs[i][0]
        vote = (fld(1, 0, 2) + fld(2, 0, HEIGHT) + fld(4, 2, block_id) +
                fld(5, 0, 1700000000000 + i) + fld(6, 2, pk))
        digest = th('clearnode/sig/vote', u32(len(CHAIN)) + CHAIN + vote)
        sig = bip340_sign(digest, sk, bytes(32))
        precommits += fld(4, 2, fld(1, 2, vote) + fld(2, 2, pk) + fld(3, 2, sig))
    commit = fld(1, 0, HEIGHT) + fld(3, 2, block_id) + precommits
    b64 = lambda b: base64.b64encode(b).decode()
    put('header.json', json.dumps({'header': b64(header), 'commit': b64(commit)}, indent=2) + '\n')
    for r in range(n):
        put('proof_%d.pb' % r, proof(r))
    pos = order.index(0)
    pj = {'chain_id': CHAIN.decode(), 'epoch': EPOCH, 'height': HEIGHT, 'depth': depth,
          'leaf_count': n, 'leaf_index': pos, 'account': ACCOUNTS[0][0].hex(),
          'salt': salt[0].hex(), 'assets': [a.decode() for a in ASSETS],
          'balances': ACCOUNTS[0][2],
          'path': [{'hash': levels[l][(pos >> l) ^ 1][0].hex(),
                    'sums': [str(x) for x in levels[l][(pos >> l) ^ 1][1]]} for l in range(depth)],
          'root': root.hex(), 'totals': [str(t) for t in totals]}
    put('proof_0.json', json.dumps(pj, indent=2) + '\n')
    lines = ['clearnode-reserves-leaves 1', 'chain_id ' + CHAIN.decode(), 'epoch %d' % EPOCH,
             'assets ' + ','.join(a.decode() for a in ASSETS), 'leaf_count %d' % n,
             'depth %d' % depth, 'root ' + root.hex(), 'totals ' + ','.join(map(str, totals))]
    for r in order:
        lines.append('leaf %s %s %s' % (ahash[r].hex(), salt[r].hex(),
                                        ','.join(map(str, ACCOUNTS[r][2]))))
    put('leaves.txt', '\n'.join(lines + ['end']) + '\n')
    att = lambda aapl, usd: json.dumps({'chain_id': CHAIN.decode(), 'epoch': EPOCH, 'attestations': [
        {'custodian': 'custodian-a', 'holdings': {'AAPL': aapl, 'USD': usd}}]}, indent=2) + '\n'
    put('attestations.json', att(150, '3200'))
    put('attestations_short.json', att(141, '1000000000'))

if len(sys.argv) == 3 and sys.argv[1] == '--examples':
    write_examples(sys.argv[2])
else:
    print_vector()
