#!/usr/bin/env bash
# test_kek.sh - the key-encryption keys end to end on a real PostgreSQL:
# `simpkictl kek new` writes the KEK file, `kek rotate` re-seals SIM rows
# (whose keys tests/integration/progs/kek_rows.c seals from known values)
# under the current KEK, online and resumable: a rerun after kill -9, a row
# another session holds, a row that does not open, a KEK missing from the
# file, a file others may read. Every command's stdout and stderr is kept
# and, at the end, searched for the hex of every key the test used.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"

sp_stack_up --without hlr,kafka
W=$SIMPKI_STACK_DIR/work
OUT=$W/out
mkdir -p "$OUT" && mkdir -m 700 "$W/keys"
export SIMPKI_LOG_LEVEL=error
export SIMPKI_KEK_FILE=$W/keys/kek.keys
CTL=$(sp_bin simpkictl)
ROWS=$(sp_bin kek_rows)
PY=/usr/bin/python3
K1=kek-2026-01 K2=kek-2026-02 K3=kek-2026-03 K4=kek-2026-04

# run NAME CMD...: stdout and stderr kept as $OUT/NAME.{out,err}; RC set.
run() {
	local name=$1
	shift
	RC=0
	"$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || RC=$?
}
# expect NAME RC CMD...: run, and fail unless the exit status is RC.
expect() {
	local name=$1 want=$2
	shift 2
	run "$name" "$@"
	[ "$RC" = "$want" ] || sp_fail "$name: exit $RC, expected $want: $(cat "$OUT/$name.err")"
}
# says NAME REGEX: NAME's stderr matches.
says() { grep -Eq -- "$2" "$OUT/$1.err" || sp_fail "$1: stderr should match /$2/: $(cat "$OUT/$1.err")"; }
# field NAME EXPR: a Python expression over NAME's JSON stdout (j).
field() { $PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$OUT/$1.out" "$2"; }
count_kek() { sp_psql "SELECT count(*) FROM sims WHERE kek_id = '$1'"; }
# insert KEK FIRST_IMSI FIRST_ICCID N: N SIM rows sealed under KEK.
insert() {
	"$ROWS" seal --batch B-KEK-1 --kek "$1" --first-imsi "$2" --first-iccid "$3" --count "$4" |
		psql -X -q -v ON_ERROR_STOP=1 "$SIMPKI_DB_URL" -c "\\copy sims (iccid, imsi, batch_id, kek_id, secrets_enc) FROM pstdin" ||
		sp_fail "cannot insert $4 rows under $1"
}
verify() { expect "verify-$1" 0 "$ROWS" verify ${2:+--expect-kek "$2"}; }

sp_step "kek new: a fresh KEK file"
expect new1 0 "$CTL" kek new --id $K1 --file "$SIMPKI_KEK_FILE"
sp_assert_eq "$(stat -c %a "$SIMPKI_KEK_FILE")" 600 "mode of a new KEK file"
sp_assert_eq "$(field new1 'j["kek_id"], j["status"], j["keys"]')" "('$K1', 'created', 1)" "kek new summary"
for h in --help -h; do expect "help-kek$h" 0 "$CTL" kek $h; done
for sub in new rotate status; do
	expect "help-$sub" 0 "$CTL" kek $sub --help
	grep -q "Usage: simpkictl kek $sub" "$OUT/help-$sub.out" || sp_fail "kek $sub --help"
done
expect usage-none 2 "$CTL" kek
expect usage-sub 2 "$CTL" kek bogus
expect usage-new 2 "$CTL" kek new --id x
expect usage-badid 2 "$CTL" kek new --id "a/b" --file "$SIMPKI_KEK_FILE"
expect usage-batch 2 "$CTL" kek rotate --batch 0
expect usage-batch2 2 "$CTL" kek rotate --batch 10x
expect usage-arg 2 "$CTL" kek rotate extra
expect usage-status 2 "$CTL" kek status extra

sp_step "SIM rows sealed under $K1"
sp_psql "
INSERT INTO vendors (vendor_id, name, state, agreement_ref) VALUES ('KEK-VN', 'KEK test vendor', 'connected', 'NDA-1');
INSERT INTO orders (order_id, bcycp_ref, document_sha256, vendor_id, quantity, profile, state, document, signer, received_via)
  VALUES ('ORD-KEK-1', 'BCYCP-KEK-1', repeat('0', 64), 'KEK-VN', 30000, 'usim_milenage', 'in_production', '{}', '{}', 'test');
INSERT INTO batches (batch_id, order_id, vendor_id, kind, seq, quantity, profile, state)
  VALUES ('B-KEK-1', 'ORD-KEK-1', 'KEK-VN', 'production', 1, 30000, 'usim_milenage', 'released');
INSERT INTO numbering_blocks (block_id, kind, prefix, digits, first_number, last_number) VALUES
  ('IMSI-KEK', 'imsi', '45201', 15, 452010000000000, 452010009999999),
  ('ICCID-KEK', 'iccid', '898401', 19, 8984010000000000000, 8984010000099999999);
INSERT INTO batch_allocations (batch_id, imsi_block, iccid_block, imsi_range, iccid_range, quantity)
  VALUES ('B-KEK-1', 'IMSI-KEK', 'ICCID-KEK', int8range(452010000000000, 452010000030000),
          int8range(8984010000000000000, 8984010000000030000), 30000);" >/dev/null
insert $K1 452010000000000 8984010000000000000 60
verify k1 $K1
expect status1 0 "$CTL" kek status
sp_assert_eq "$(field status1 '[(s["kek_id"], s["count"], s["in_file"], s["current"]) for s in j["sims"]]')" \
	"[('$K1', 60, True, True)]" "kek status with one key"

sp_step "kek new: a second key becomes current; the first stays"
# Run as root on a service's file, kek new keeps the file's owner.
[ "$(id -u)" -eq 0 ] && chown nobody:nogroup "$SIMPKI_KEK_FILE"
OWNER=$(stat -c %U:%G "$SIMPKI_KEK_FILE")
expect new2 0 "$CTL" kek new --id $K2 --file "$SIMPKI_KEK_FILE"
sp_assert_eq "$(stat -c %U:%G "$SIMPKI_KEK_FILE")" "$OWNER" "owner after kek new"
[ "$(id -u)" -eq 0 ] && chown root:root "$SIMPKI_KEK_FILE"
sp_assert_eq "$(grep -Ev '^(#|$)' "$SIMPKI_KEK_FILE" | cut -d' ' -f1 | tr '\n' ' ')" "$K2 $K1 " "ids in the KEK file"
sp_assert_eq "$(stat -c %a "$SIMPKI_KEK_FILE")" 600 "mode after kek new"
expect new-dup 1 "$CTL" kek new --id $K1 --file "$SIMPKI_KEK_FILE"
says new-dup "KEK id $K1 is already in"
expect status2 0 "$CTL" kek status
sp_assert_eq "$(field status2 'j["current_kek_id"], j["file_keys"], j["not_current"]')" \
	"('$K2', ['$K2', '$K1'], 60)" "kek status after kek new"

sp_step "kek rotate: every row under $K2, same plaintext, bound to its IMSI"
expect rotate1 0 "$CTL" kek rotate --batch 7
sp_assert_eq "$(field rotate1 'j["kek_id"], j["rewrapped"], j["by_old_kek"], j["remaining"]')" \
	"('$K2', 60, {'$K1': 60}, 0)" "rotate summary"
says rotate1 "60/60 rows \(100%\), [0-9]+ rows/s"
sp_assert_eq "$(count_kek $K2)" 60 "rows under $K2"
verify k2 $K2 # also: no value opens with another SIM's IMSI
expect rotate-again 0 "$CTL" kek rotate
sp_assert_eq "$(field rotate-again 'j["rewrapped"], j["remaining"]')" "(0, 0)" "a second rotation"

sp_step "a row another session holds is skipped, not waited for"
expect new3 0 "$CTL" kek new --id $K3 --file "$SIMPKI_KEK_FILE"
HELD=$(sp_psql "SELECT iccid FROM sims ORDER BY iccid OFFSET 10 LIMIT 1")
psql -X -q "$SIMPKI_DB_URL" -c "BEGIN; SELECT 1 FROM sims WHERE iccid = '$HELD' FOR UPDATE; SELECT pg_sleep(6); COMMIT;" \
	>/dev/null 2>&1 &
LOCKER=$!
for _ in $(seq 100); do
	[ "$(sp_psql "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.query LIKE '%pg_sleep(6)%' AND l.mode = 'RowShareLock'")" -gt 0 ] && break
	sleep 0.1
done
t0=$(date +%s)
expect rotate-held 1 "$CTL" kek rotate --batch 5
[ $(($(date +%s) - t0)) -lt 5 ] || sp_fail "rotate waited for the locked row"
says rotate-held "1 SIMs are still under an old KEK .*run again"
sp_assert_eq "$(field rotate-held 'j["rewrapped"], j["remaining"]')" "(59, 1)" "rotation around a held row"
sp_assert_eq "$(sp_psql "SELECT kek_id FROM sims WHERE iccid = '$HELD'")" $K2 "the held row"
wait "$LOCKER"
expect rotate-after-held 0 "$CTL" kek rotate
sp_assert_eq "$(field rotate-after-held 'j["rewrapped"]')" 1 "the held row, once released"
verify k3 $K3

sp_step "a row that does not open stops the rotation; rows before it stay done"
expect new4 0 "$CTL" kek new --id $K4 --file "$SIMPKI_KEK_FILE"
A=$(sp_psql "SELECT iccid FROM sims ORDER BY iccid LIMIT 1")
B=$(sp_psql "SELECT iccid FROM sims ORDER BY iccid OFFSET 29 LIMIT 1")
BIMSI=$(sp_psql "SELECT imsi FROM sims WHERE iccid = '$B'")
# A secrets record copied to another SIM's row: its IMSI is the associated data.
sp_psql "UPDATE sims SET secrets_enc = (SELECT secrets_enc FROM sims WHERE iccid = '$A') WHERE iccid = '$B'" >/dev/null
for try in 1 2; do
	expect "rotate-bad$try" 1 "$CTL" kek rotate --batch 7
	says "rotate-bad$try" "stopped: sim $B: secrets_enc under KEK id $K3: integrity check failed"
	sp_assert_eq "$(count_kek $K4)" 29 "rows re-sealed before the bad one (try $try)"
	sp_assert_eq "$(sp_psql "SELECT count(*) FROM sims WHERE kek_id = '$K4' AND iccid >= '$B'")" 0 "rows re-sealed from the bad one on"
	grep -q "sim $B" "$OUT/rotate-bad$try.out" || sp_fail "the JSON summary should name the row"
done
sp_assert_eq "$(field rotate-bad1 'j["rewrapped"], j["remaining"]')" "(29, 31)" "summary of a stopped rotation"
# Put the row right again (sealed under the old key), then finish.
sp_psql "DELETE FROM sims WHERE iccid = '$B'" >/dev/null
insert $K3 "$BIMSI" "$B" 1
expect rotate-fixed 0 "$CTL" kek rotate --batch 7
sp_assert_eq "$(field rotate-fixed 'j["rewrapped"], j["by_old_kek"]')" "(31, {'$K3': 31})" "rotation after the fix"
verify k4 $K4

sp_step "a KEK missing from the file: status and rotate say so"
cp -p "$SIMPKI_KEK_FILE" "$W/keys/full.keys"
insert $K1 452010000000100 8984010000000000100 3
sed -i "/^$K1 /d" "$SIMPKI_KEK_FILE"
sp_assert_eq "$(stat -c %a "$SIMPKI_KEK_FILE")" 600 "mode after sed -i"
expect status-missing 1 "$CTL" kek status
says status-missing "3 SIMs are sealed under KEK id $K1, which the KEK file lacks"
sp_assert_eq "$(field status-missing '[s["in_file"] for s in j["sims"] if s["kek_id"] == "'$K1'"]')" "[False]" "in_file of a missing KEK"
expect rotate-missing 1 "$CTL" kek rotate
says rotate-missing "stopped: sim 8984010000000000100: sealed under KEK id $K1, which the KEK file lacks"
cp -p "$W/keys/full.keys" "$SIMPKI_KEK_FILE"
expect rotate-restored 0 "$CTL" kek rotate
sp_assert_eq "$(field rotate-restored 'j["by_old_kek"]')" "{'$K1': 3}" "rotation once the key is back"

sp_step "KEK files that are refused"
chmod 640 "$SIMPKI_KEK_FILE"
expect mode-rotate 1 "$CTL" kek rotate
says mode-rotate "KEK file .*kek.keys has mode 0640: it must not be readable or writable by group or others"
expect mode-status 1 "$CTL" kek status
says mode-status "has mode 0640"
expect mode-new 1 "$CTL" kek new --id kek-x --file "$SIMPKI_KEK_FILE"
says mode-new "has mode 0640"
chmod 604 "$SIMPKI_KEK_FILE"
expect mode-others 1 "$CTL" kek rotate
says mode-others "has mode 0604"
chmod 600 "$SIMPKI_KEK_FILE"
# A key line with a typo: named by line, never quoted.
cp -p "$SIMPKI_KEK_FILE" "$W/keys/typo.keys"
printf 'kek-typo %s\n' "$(grep "^$K4 " "$SIMPKI_KEK_FILE" | cut -d' ' -f2 | sed 's/./g/5')" >>"$W/keys/typo.keys"
expect typo 1 env SIMPKI_KEK_FILE="$W/keys/typo.keys" "$CTL" kek rotate
says typo "typo.keys line [0-9]+: the key must be 64 hex digits"
expect no-file 1 env -u SIMPKI_KEK_FILE "$CTL" kek rotate
says no-file "SIMPKI_KEK_FILE is not set"

sp_step "kill -9 in the middle of a rotation, then run it again"
insert $K4 452010000001000 8984010000000001000 20000
expect new5 0 "$CTL" kek new --id kek-2026-05 --file "$SIMPKI_KEK_FILE"
TOTAL=$(sp_psql "SELECT count(*) FROM sims WHERE kek_id <> 'kek-2026-05'")
"$CTL" kek rotate --batch 10 >"$OUT/rotate-killed.out" 2>"$OUT/rotate-killed.err" &
ROT=$!
for _ in $(seq 600); do
	[ "$(count_kek kek-2026-05)" -ge 300 ] && break
	sleep 0.05
done
kill -9 "$ROT" 2>/dev/null || sp_fail "the rotation ended before it could be killed"
wait "$ROT" 2>/dev/null || true
MOVED=$(count_kek kek-2026-05)
[ "$MOVED" -gt 0 ] && [ "$MOVED" -lt "$TOTAL" ] || sp_fail "killed rotation moved $MOVED of $TOTAL rows"
sp_assert_eq "$((MOVED % 10))" 0 "rows moved in whole batches"
verify mixed # every row, whatever its KEK, still opens
expect rotate-resumed 0 "$CTL" kek rotate --batch 500
sp_assert_eq "$(field rotate-resumed 'j["rewrapped"], j["remaining"]')" "($((TOTAL - MOVED)), 0)" "the resumed rotation"
verify k5 kek-2026-05
sp_assert_eq "$(sp_psql "SELECT count(*) FROM sims")" "$((TOTAL))" "no row lost or added"

sp_step "no key in any output"
# Every KEK the test made (the file keeps them all) and the Ki of some SIMs.
mapfile -t SECRETS < <(cat "$W"/keys/*.keys | grep -Ev '^(#|$)' | cut -d' ' -f2 | sort -u)
for imsi in 452010000000000 452010000000007 452010000000059 452010000000101 452010000001000 452010000020999; do
	SECRETS+=("$("$ROWS" ki "$imsi")")
done
[ "${#SECRETS[@]}" -ge 11 ] || sp_fail "expected at least 11 secrets, got ${#SECRETS[@]}"
n=$(ls "$OUT" | wc -l)
[ "$n" -ge 50 ] || sp_fail "only $n output files kept"
for s in "${SECRETS[@]}"; do
	if grep -rqiF -- "$s" "$OUT"; then
		sp_fail "a key appears in $(grep -rliF -- "$s" "$OUT" | tr '\n' ' ')"
	fi
	# Not even half of one.
	if grep -rqiF -- "${s:0:16}" "$OUT" || grep -rqiF -- "${s: -16}" "$OUT"; then
		sp_fail "part of a key appears in $(grep -rliF -- "${s:0:16}" "$OUT" | tr '\n' ' ')"
	fi
done
sp_step "ok"
