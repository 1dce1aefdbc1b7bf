#!/usr/bin/env bash
# test_sigverify.sh - `simpkictl sig verify` (the sigverify library) against
# a test PKI built here with the openssl command: every verdict, checked by
# exit status, indication and sub-indication, plus damaged input and usage
# errors. Needs no stack.
set -euo pipefail
. "${SIMPKI_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$SIMPKI_SOURCE_DIR/tests/lib/sigverify_pki.sh"

CTL=$(sp_bin simpkictl) || sp_fail "simpkictl is not built"
T=$(mktemp -d "${TMPDIR:-/tmp}/simpki-sigverify.XXXXXX")
sp_on_exit "rm -rf '$T'"
unset SIMPKI_SIG_TRUST_DIR SIMPKI_SIG_CRL_DIR SIMPKI_SIG_POOL_DIR

sp_step "building the test PKI"
P=$T/pki
sp_svpki_build "$P" || sp_fail "cannot build the test PKI"
printf 'BCYCP order B-2026-0001: 500 SIMs, USIM MILENAGE\n' >"$T/doc.txt"
printf 'BCYCP order B-2026-0001: 900 SIMs, USIM MILENAGE\n' >"$T/tampered.txt"
S=$T/sig
mkdir -p "$S" "$T/pool" "$T/pool2" "$T/empty"
cp "$P/sub.pem" "$T/pool/sub.pem"
cp "$P/sub2.pem" "$T/pool2/sub2.pem"

sign() { # NAME OUT [options]: signer NAME, sub-CA in the CMS, DER detached
	local name=$1 out=$2
	shift 2
	sp_svpki_sign "$P" "$name" "$T/doc.txt" "$S/$out" -certfile "$P/sub.pem" -outform DER "$@" ||
		sp_fail "openssl cms -sign failed for $out"
}
sign valid valid.der
sign valid valid.pem -outform PEM
sign valid env.der -nodetach
sign valid env.pem -nodetach -outform PEM
sign valid sha1.der -md sha1
sign valid noattr.der -noattr
sign expired expired.der
sign notyet notyet.der
sign revoked revoked.der
sign keyenc keyenc.der
sign rsa1024 rsa1024.der
sp_svpki_sign "$P" valid "$T/doc.txt" "$S/nochain.der" -outform DER || sp_fail "sign nochain"
sp_svpki_sign "$P" orphan "$T/doc.txt" "$S/orphan.der" -outform DER || sp_fail "sign orphan"
sp_svpki_sign "$P" stranger "$T/doc.txt" "$S/stranger.der" -outform DER || sp_fail "sign stranger"
sp_svpki_sign "$P" stranger "$T/doc.txt" "$S/stranger-root.der" -outform DER \
	-certfile "$P/other/ca.pem" || sp_fail "sign stranger with its root"
openssl cms -sign -binary -in "$T/doc.txt" -outform DER -out "$S/two.der" \
	-signer "$P/valid.pem" -inkey "$P/valid.key" -signer "$P/revoked.pem" \
	-inkey "$P/revoked.key" -certfile "$P/sub.pem" 2>/dev/null || sp_fail "sign two signers"
# Damaged signatures: cut short, a flipped bit in the signature value (the
# last bytes of a detached DER SignedData), trailing bytes, garbage.
size=$(stat -c %s "$S/valid.der")
head -c $((size / 2)) "$S/valid.der" >"$S/truncated.der"
head -c 400 "$S/valid.pem" >"$S/truncated.pem"
/usr/bin/python3 - "$S/valid.der" "$S/badsig.der" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[-5] ^= 0x01
open(sys.argv[2], "wb").write(b)
PY
{ cat "$S/valid.der"; printf 'xx'; } >"$S/trailing.der"
printf 'this is not a signature\n' >"$S/garbage.bin"
: >"$S/empty.der"
printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' >"$S/cert-label.pem"

# field FILE EXPR: a value of the JSON report (python expression on r).
field() {
	/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print("null" if v is None else v)' "$1" "$2"
}

n=0
# verdict NAME RC INDICATION SUB [simpkictl sig verify options...]
verdict() {
	local name=$1 want_rc=$2 want_ind=$3 want_sub=$4 rc=0 out=$T/out/$1.json
	shift 4
	mkdir -p "$T/out"
	"$CTL" sig verify "$@" >"$out" 2>"$T/out/$name.err" || rc=$?
	[ "$rc" = "$want_rc" ] || { cat "$out" "$T/out/$name.err" >&2; sp_fail "$name: exit status $rc, expected $want_rc"; }
	sp_assert_eq "$(field "$out" 'r["indication"]')" "$want_ind" "$name: indication"
	sp_assert_eq "$(field "$out" 'r["sub_indication"]')" "$want_sub" "$name: sub-indication"
	# The decisive check names the same sub-indication.
	if [ "$want_sub" != null ]; then
		field "$out" '[c["sub_indication"] for c in r["checks"] if c["result"] == "failed"]' |
			grep -q "'$want_sub'" || sp_fail "$name: no failed check says $want_sub"
	fi
	n=$((n + 1))
	printf 'ok   - %-28s %s %s\n' "$name" "$want_ind" "$want_sub"
}

V=(--trust "$P/trust" --crl "$P/crl")
D=(--content "$T/doc.txt")
sp_step "verdicts"
verdict valid-der-detached 0 TOTAL_PASSED null "${D[@]}" --signature "$S/valid.der" "${V[@]}"
verdict valid-pem-detached 0 TOTAL_PASSED null "${D[@]}" --signature "$S/valid.pem" "${V[@]}"
verdict valid-der-enveloping 0 TOTAL_PASSED null --content "$S/env.der" "${V[@]}"
verdict valid-pem-enveloping 0 TOTAL_PASSED null --content "$S/env.pem" "${V[@]}"
verdict enveloping-same-content 0 TOTAL_PASSED null "${D[@]}" --signature "$S/env.der" "${V[@]}"
verdict enveloping-other-content 1 TOTAL_FAILED HASH_FAILURE --content "$T/tampered.txt" --signature "$S/env.der" "${V[@]}"
verdict no-signed-attributes 0 TOTAL_PASSED null "${D[@]}" --signature "$S/noattr.der" "${V[@]}"
verdict expired 1 TOTAL_FAILED EXPIRED "${D[@]}" --signature "$S/expired.der" "${V[@]}"
verdict not-yet-valid 1 TOTAL_FAILED NOT_YET_VALID "${D[@]}" --signature "$S/notyet.der" "${V[@]}"
verdict revoked 1 TOTAL_FAILED REVOKED "${D[@]}" --signature "$S/revoked.der" "${V[@]}"
verdict wrong-key-usage 2 INDETERMINATE KEY_USAGE_NOT_ALLOWED "${D[@]}" --signature "$S/keyenc.der" "${V[@]}"
verdict sha1 2 INDETERMINATE CRYPTO_CONSTRAINTS_FAILURE "${D[@]}" --signature "$S/sha1.der" "${V[@]}"
verdict rsa1024 2 INDETERMINATE CRYPTO_CONSTRAINTS_FAILURE "${D[@]}" --signature "$S/rsa1024.der" "${V[@]}"
verdict unknown-root 2 INDETERMINATE NO_CERTIFICATE_CHAIN_FOUND "${D[@]}" --signature "$S/stranger.der" "${V[@]}"
verdict unknown-root-in-cms 2 INDETERMINATE NO_CERTIFICATE_CHAIN_FOUND "${D[@]}" --signature "$S/stranger-root.der" "${V[@]}"
verdict missing-intermediate 2 INDETERMINATE NO_CERTIFICATE_CHAIN_FOUND "${D[@]}" --signature "$S/orphan.der" "${V[@]}" --pool "$T/pool"
verdict intermediate-from-pool2 0 TOTAL_PASSED null "${D[@]}" --signature "$S/orphan.der" "${V[@]}" --pool "$T/pool2"
verdict intermediate-not-in-cms 2 INDETERMINATE NO_CERTIFICATE_CHAIN_FOUND "${D[@]}" --signature "$S/nochain.der" "${V[@]}"
verdict intermediate-from-pool 0 TOTAL_PASSED null "${D[@]}" --signature "$S/nochain.der" "${V[@]}" --pool "$T/pool"
verdict tampered-content 1 TOTAL_FAILED HASH_FAILURE --content "$T/tampered.txt" --signature "$S/valid.der" "${V[@]}"
verdict tampered-no-attributes 1 TOTAL_FAILED SIG_CRYPTO_FAILURE --content "$T/tampered.txt" --signature "$S/noattr.der" "${V[@]}"
verdict bad-signature-value 1 TOTAL_FAILED SIG_CRYPTO_FAILURE "${D[@]}" --signature "$S/badsig.der" "${V[@]}"
verdict truncated-der 1 TOTAL_FAILED FORMAT_FAILURE "${D[@]}" --signature "$S/truncated.der" "${V[@]}"
verdict truncated-pem 1 TOTAL_FAILED FORMAT_FAILURE "${D[@]}" --signature "$S/truncated.pem" "${V[@]}"
verdict trailing-bytes 1 TOTAL_FAILED FORMAT_FAILURE "${D[@]}" --signature "$S/trailing.der" "${V[@]}"
verdict garbage 1 TOTAL_FAILED FORMAT_FAILURE "${D[@]}" --signature "$S/garbage.bin" "${V[@]}"
verdict wrong-pem-label 1 TOTAL_FAILED FORMAT_FAILURE "${D[@]}" --signature "$S/cert-label.pem" "${V[@]}"
verdict empty-signature 1 TOTAL_FAILED FORMAT_FAILURE "${D[@]}" --signature "$S/empty.der" "${V[@]}"
verdict two-signers 1 TOTAL_FAILED FORMAT_FAILURE "${D[@]}" --signature "$S/two.der" "${V[@]}"
verdict detached-without-content 2 INDETERMINATE SIGNED_DATA_NOT_FOUND --content "$S/valid.der" "${V[@]}"
verdict no-crl-folder 2 INDETERMINATE TRY_LATER "${D[@]}" --signature "$S/valid.der" --trust "$P/trust"
verdict crl-folder-empty 2 INDETERMINATE TRY_LATER "${D[@]}" --signature "$S/valid.der" --trust "$P/trust" --crl "$T/empty"
verdict at-after-expiry 2 INDETERMINATE OUT_OF_BOUNDS_NO_POE "${D[@]}" --signature "$S/valid.der" "${V[@]}" --at 2099-06-01T00:00:00Z
verdict at-before-issue 1 TOTAL_FAILED NOT_YET_VALID "${D[@]}" --signature "$S/valid.der" "${V[@]}" --at 2001-01-01T00:00:00+07:00

sp_step "report contents"
R=$T/out/valid-der-detached.json
sp_assert_eq "$(field "$R" 'r["signer"]["subject"]')" "O=simpki test,CN=Valid Signer" "signer subject"
sp_assert_eq "$(field "$R" 'r["signer"]["issuer"]')" "O=simpki test,CN=Test Sub CA" "signer issuer"
want_serial=$(openssl x509 -in "$P/valid.pem" -noout -serial | cut -d= -f2)
sp_assert_eq "$(field "$R" 'r["signer"]["serial"]')" "$want_serial" "signer serial"
want_fp=$(openssl x509 -in "$P/valid.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
sp_assert_eq "$(field "$R" 'r["signer"]["sha256"]')" "$want_fp" "signer fingerprint"
sp_assert_eq "$(field "$R" 'r["encoding"]')" "DER" "encoding"
sp_assert_eq "$(field "$R" 'r["detached"]')" "True" "detached"
sp_assert_eq "$(field "$R" 'r["digest_algorithm"]')" "sha256" "digest"
sp_assert_eq "$(field "$R" 'len(r["checks"])')" "11" "number of checks"
sp_assert_eq "$(field "$R" 'sorted(set(c["result"] for c in r["checks"]))')" "['passed']" "all checks passed"
st=$(field "$R" 'r["signing_time"]')
[[ "$st" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || sp_fail "signing_time '$st'"
sp_assert_eq "$(field "$T/out/valid-pem-enveloping.json" 'r["encoding"], r["detached"]')" "('PEM', False)" "PEM enveloping"
sp_assert_eq "$(field "$T/out/no-signed-attributes.json" 'r["signing_time"]')" "null" "no signing time without attributes"
sp_assert_eq "$(field "$T/out/at-before-issue.json" 'r["validation_time"]')" "2000-12-31T17:00:00Z" "--at with an offset"
sp_assert_eq "$(field "$T/out/truncated-der.json" 'r["signer"]')" "null" "no signer for unreadable input"
field "$T/out/revoked.json" '[c["detail"] for c in r["checks"] if c["name"] == "revocation"][0]' |
	grep -q 'revoked at 20' || sp_fail "revocation detail lacks the revocation time"
field "$T/out/sha1.json" 'r["digest_algorithm"]' | grep -qx sha1 || sp_fail "sha1 report names its digest"
# No key material in any report: no PEM armour, no modulus of any key.
for k in valid revoked rsa1024 keyenc; do
	mod=$(openssl x509 -in "$P/$k.pem" -noout -modulus | cut -d= -f2 | tr A-F a-f)
	if grep -qi -e "${mod:0:32}" -e 'BEGIN' -e 'PRIVATE' "$T"/out/*.json; then
		sp_fail "a report holds key material of $k"
	fi
done
echo "ok   - reports carry signer, times and checks, and no key material"

sp_step "folders from the environment, and junk in them"
cp "$P/valid.key" "$P/trust/dropped-by-mistake.key" # ignored, never parsed as a key
printf 'junk\n' >"$P/crl/README"
rc=0
SIMPKI_SIG_TRUST_DIR=$P/trust SIMPKI_SIG_CRL_DIR=$P/crl SIMPKI_SIG_POOL_DIR=$T/pool \
	"$CTL" sig verify "${D[@]}" --signature "$S/nochain.der" >"$T/env.json" 2>"$T/env.err" || rc=$?
sp_assert_eq "$rc" 0 "verify with folders from SIMPKI_SIG_*"
sp_assert_eq "$(field "$T/env.json" 'r["indication"]')" TOTAL_PASSED "env folders verdict"
grep -q 'dropped-by-mistake.key' "$T/env.err" || sp_fail "the stray key file is not reported"
if grep -q 'PRIVATE KEY' "$T/env.err"; then sp_fail "stderr shows key material"; fi
rm -f "$P/trust/dropped-by-mistake.key" "$P/crl/README"

sp_step "usage errors"
usage() { # NAME WANT_RC ARGS...: exit status, and nothing on stdout for errors
	local name=$1 want=$2 rc=0
	shift 2
	"$CTL" "$@" >"$T/u.out" 2>"$T/u.err" || rc=$?
	[ "$rc" = "$want" ] || sp_fail "$name: exit status $rc, expected $want ($(head -3 "$T/u.err"))"
	if [ "$want" = 64 ]; then
		[ -s "$T/u.err" ] || sp_fail "$name: no message on stderr"
		[ ! -s "$T/u.out" ] || sp_fail "$name: output on stdout"
	fi
	printf 'ok   - usage: %s -> %s\n' "$name" "$want"
}
usage "sig verify --help" 0 sig verify --help
grep -q -- '--signature FILE' "$T/u.out" || sp_fail "verify --help lacks --signature"
usage "sig --help" 0 sig --help
grep -q 'verify' "$T/u.out" || sp_fail "sig --help lacks verify"
usage "sig alone" 64 sig
usage "sig unknown subcommand" 64 sig frobnicate
usage "no --content" 64 sig verify --signature "$S/valid.der" "${V[@]}"
usage "unknown option" 64 sig verify "${D[@]}" --nope "${V[@]}"
usage "option without value" 64 sig verify "${D[@]}" "${V[@]}" --signature
usage "extra argument" 64 sig verify "${D[@]}" --signature "$S/valid.der" "${V[@]}" extra
usage "bad --at" 64 sig verify "${D[@]}" --signature "$S/valid.der" "${V[@]}" --at yesterday
usage "--at without zone" 64 sig verify "${D[@]}" --signature "$S/valid.der" "${V[@]}" --at 2026-01-01T00:00:00
usage "no trust folder" 64 sig verify "${D[@]}" --signature "$S/valid.der" --crl "$P/crl"
usage "missing trust folder" 64 sig verify "${D[@]}" --signature "$S/valid.der" --trust "$T/nope" --crl "$P/crl"
usage "empty trust folder" 64 sig verify "${D[@]}" --signature "$S/valid.der" --trust "$T/empty" --crl "$P/crl"
usage "missing CRL folder" 64 sig verify "${D[@]}" --signature "$S/valid.der" --trust "$P/trust" --crl "$T/nope"
usage "missing content file" 64 sig verify --content "$T/nope.txt" --signature "$S/valid.der" "${V[@]}"
usage "missing signature file" 64 sig verify "${D[@]}" --signature "$T/nope.p7s" "${V[@]}"
usage "content is a folder" 64 sig verify --content "$T" --signature "$S/valid.der" "${V[@]}"

echo "test_sigverify: $n verdicts and the usage errors as expected"
