#!/usr/bin/env bash
# Services refuse to start with an exposed or empty secret (issue 13): the
# KEK file of vendor-exchange and hlr-provisioner readable or writable by
# group or others, empty, or not named; the Kannel password file of the
# notifier and accounts readable by others, or empty. Each exits non-zero
# before it connects anywhere, naming the file and its mode, and prints no
# key. (No service takes a shared token or HMAC secret: API tokens are random
# per user, only their SHA-256 stored; see README, "Access".) The same
# checks at the library level: tests/unit/test_crypto.c (sp_keystore_open_file,
# sp_secret_file_read) and tests/unit/test_notifier_channels.c.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/simpki-refusals.XXXXXX")
sp_on_exit "rm -rf '$W'"
_sp_harness_traps
chmod 700 "$W"
mkdir -m 700 "$W/kek" "$W/tk" "$W/vendors"
CTL=$(sp_bin simpkictl)
KEK=$W/kek/keys
"$CTL" kek new --id kek-refusals --file "$KEK" >/dev/null 2>&1 || sp_fail "kek new"
KEYHEX=$(awk '!/^#/ && NF == 2 { print $2 }' "$KEK")
[ "${#KEYHEX}" -eq 64 ] || sp_fail "no key in $KEK"
printf 'kannel-password\n' >"$W/kannel.pw"
chmod 600 "$W/kannel.pw"

# Nothing listens on port 1: a service that got past its secrets would wait
# for the database, and then fail for that reason instead.
export SIMPKI_DB_URL=postgresql://simpki@127.0.0.1:1/simpki SIMPKI_DB_CONNECT_WAIT_MS=500
export SIMPKI_KAFKA_BOOTSTRAP=127.0.0.1:1 SIMPKI_HTTP_PORT=0
export SIMPKI_VENDOR_DIR=$W/vendors SIMPKI_TRANSPORT_KEY_DIR=$W/tk SIMPKI_HLR_CTRL=127.0.0.1:1
export SIMPKI_SMTP_URL=smtp://127.0.0.1:1 SIMPKI_KANNEL_URL=http://127.0.0.1:1/cgi-bin/sendsms
export SIMPKI_KANNEL_USER=simpki SIMPKI_KANNEL_PASSWORD_FILE=$W/kannel.pw

# refused SERVICE REASON_REGEX [VAR=VALUE...]: exits non-zero within 20 s,
# the reason on stderr, no key in it.
refused() {
	local svc=$1 reason=$2 rc=0
	shift 2
	env "$@" timeout 20 "$(sp_bin "$svc")" >"$W/out" 2>"$W/err" || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || sp_fail "$svc started (exit $rc) with $*: $(tail -2 "$W/err")"
	grep -Eq "$reason" "$W/err" || sp_fail "$svc with $*: $(tail -2 "$W/err")"
	grep -qiF "$KEYHEX" "$W/out" "$W/err" && sp_fail "$svc printed the KEK"
	grep -qF "kannel-password" "$W/out" "$W/err" && sp_fail "$svc printed the Kannel password"
	echo "ok   - $svc refused to start: $*" >&2
}

sp_step "a KEK file others may read or write, an empty one, none"
for svc in vendor-exchange hlr-provisioner; do
	for mode in 644 640 604 620 602 666; do
		chmod "$mode" "$KEK"
		refused "$svc" "KEK file $KEK has mode 0$mode: it must not be readable or writable by group or others" \
			SIMPKI_KEK_FILE="$KEK"
	done
	chmod 600 "$KEK"
	: >"$W/kek/empty"
	chmod 600 "$W/kek/empty"
	refused "$svc" "holds no key" SIMPKI_KEK_FILE="$W/kek/empty"
	refused "$svc" "SIMPKI_KEK_FILE is not set" SIMPKI_KEK_FILE=
	# With the file as it must be, the KEK is no reason to stop: the next
	# one is the database nobody runs.
	rc=0
	env SIMPKI_KEK_FILE="$KEK" timeout 20 "$(sp_bin "$svc")" >/dev/null 2>"$W/err" || rc=$?
	[ "$rc" -ne 0 ] || sp_fail "$svc ran without a database"
	grep -q "KEK" "$W/err" && sp_fail "$svc refused a KEK file of mode 0600: $(tail -2 "$W/err")"
done

sp_step "a Kannel password file others may read, an empty one"
for svc in notifier accounts; do
	chmod 644 "$W/kannel.pw"
	refused "$svc" "Kannel password file $W/kannel.pw has mode 0644" SIMPKI_KANNEL_PASSWORD_FILE="$W/kannel.pw"
	chmod 600 "$W/kannel.pw"
	: >"$W/empty.pw"
	chmod 600 "$W/empty.pw"
	refused "$svc" "Kannel password file $W/empty.pw is empty" SIMPKI_KANNEL_PASSWORD_FILE="$W/empty.pw"
	printf '\n' >"$W/empty.pw"
	refused "$svc" "Kannel password file $W/empty.pw is empty" SIMPKI_KANNEL_PASSWORD_FILE="$W/empty.pw"
	refused "$svc" "SIMPKI_KANNEL_PASSWORD_FILE is not set" SIMPKI_KANNEL_PASSWORD_FILE=
done
echo "ok - startup refusals" >&2
