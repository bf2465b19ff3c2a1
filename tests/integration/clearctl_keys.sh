#!/usr/bin/env bash
# clearctl keys: new (encrypted and --dev), show, refusal to overwrite, wrong file errors.
set -euo pipefail
bin=${CLEARNODE_BIN:?CLEARNODE_BIN must point at the built programs}
dir=$(mktemp -d /tmp/cn-keys-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

pub=$(CLEARNODE_PASSPHRASE=correct-horse "$bin/clearctl" keys new --out "$dir/a.key")
[[ $pub =~ ^[0-9a-f]{64}$ ]] || fail "keys new printed '$pub'"
[ "$(stat -c %a "$dir/a.key")" = 600 ] || fail "key file mode is not 0600"
[ "$("$bin/clearctl" keys show "$dir/a.key")" = "$pub" ] || fail "keys show differs"
"$bin/clearctl" keys show "$dir/a.key" --json | grep -q "\"pubkey\":\"$pub\"" || fail "json"
"$bin/clearctl" keys show "$dir/a.key" --json | grep -q '"encrypted":true' || fail "json enc"
grep -q '^mode: encrypted$' "$dir/a.key" || fail "not encrypted"

# No overwrite without --force; the original stays intact.
if CLEARNODE_PASSPHRASE=x "$bin/clearctl" keys new --out "$dir/a.key" 2>"$dir/err"; then
  fail "overwrote an existing key"
fi
grep -q "already exists" "$dir/err" || fail "no clear error for existing file"
[ "$("$bin/clearctl" keys show "$dir/a.key")" = "$pub" ] || fail "original key changed"

# Development mode says what it is.
dev=$("$bin/clearctl" keys new --dev --out "$dir/dev.key" 2>"$dir/err")
grep -q UNENCRYPTED "$dir/err" || fail "no warning for --dev"
grep -q UNENCRYPTED "$dir/dev.key" || fail "dev key file not marked"
[ "$("$bin/clearctl" keys show "$dir/dev.key")" = "$dev" ] || fail "dev show"

# Bad inputs give an error, never a crash.
echo "not a key" > "$dir/junk.key"
if "$bin/clearctl" keys show "$dir/junk.key" 2>"$dir/err"; then fail "accepted junk"; fi
grep -q "not a clearnode-key-v1" "$dir/err" || fail "junk error: $(cat "$dir/err")"
if "$bin/clearctl" keys show "$dir/missing.key" 2>/dev/null; then fail "accepted missing"; fi
if "$bin/clearctl" keys frobnicate 2>/dev/null; then fail "accepted unknown command"; fi
"$bin/clearctl" keys --help | grep -q "keys new" || fail "help"
# Without a passphrase source or a terminal, it refuses instead of writing plaintext.
if setsid "$bin/clearctl" keys new --out "$dir/b.key" </dev/null >/dev/null 2>"$dir/err"; then
  fail "created a key without a passphrase"
fi
[ ! -e "$dir/b.key" ] || fail "half-made key left behind"
echo "clearctl keys: ok"
