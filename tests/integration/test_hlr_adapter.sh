#!/usr/bin/env bash
# The HLR adapter of hlr-provisioner (services/hlr-provisioner/hlr.h over
# OsmoHLR's CTRL, ctrl_client.c) against a real osmo-hlr, driven by
# tests/integration/progs/hlr_adapter_check.c: 2,000 USIM subscribers
# (create + aud3g) pipelined in a window of 32 and 200 2G ones, read back
# and compared; the same SIMs again (already there, same keys) and with
# other keys (conflicts found by comparing, nothing overwritten); MSISDN
# set, taken, moved and cleared; delete; unknown subscribers; osmo-hlr
# stopped and then killed mid-stream (timeouts and broken connections
# reported, never a hang). What the adapter says is checked against the
# HLR itself: its CTRL port through hlr_ctrl.py and its SQLite file, with
# the keys computed here apart from the C code.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"

sp_stack_up --without kafka,pg
export SIMPKI_LOG_LEVEL=error
W=$SIMPKI_STACK_DIR/work
mkdir -p "$W"
CHECK=$(sp_bin hlr_adapter_check)
PY=/usr/bin/python3
read -r HLR_PID _ <"$SIMPKI_STACK_DIR/pids/hlr"
# A stop that fails halfway must not leave osmo-hlr stopped for teardown.
sp_on_exit "kill -CONT $HLR_PID 2>/dev/null"

USIM=452019100000000 # 2,000 USIMs from here
G2=452019100100000   # 200 2G SIMs from here

# key KIND SEED IMSI: the hex key hlr_adapter_check derives (lower case).
key() {
	$PY -c 'import hashlib, sys
print(hashlib.sha256(("%s:%s:%s" % tuple(sys.argv[1:4])).encode()).hexdigest()[:32])' "$@"
}

# sql QUERY: one value from osmo-hlr's SQLite file, read-only.
sql() {
	$PY -c 'import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
print("|".join(str(v) for v in c.execute(sys.argv[2]).fetchone()))' "$SIMPKI_HLR_DB" "$1"
}

# ctrl CMD: the HLR's own answer, read with hlr_ctrl.py.
ctrl() { sp_hlr_ctrl "$1" || true; }

# expect_op WANT ARGS...: hlr_adapter_check op ARGS prints exactly WANT.
expect_op() {
	local want=$1 got
	shift
	got=$("$CHECK" op "$@" 2>"$W/op.err") || sp_fail "op $*: $(cat "$W/op.err")"
	sp_assert_eq "$got" "$want" "op $*"
	echo "ok   - op $*: $got" >&2
}

# aud_of IMSI: the HLR's info-aud reply on one line (TAB -> space, LF -> |).
aud_of() { ctrl "GET 1 subscriber.by-imsi-$1.info-aud" | tr '\t\n' ' |'; }

sp_step "2,000 USIM subscribers, create + aud3g, window 32"
"$CHECK" load $USIM 2000 3g 32 seedA >"$W/load.out" 2>"$W/load.err" || sp_fail "load: $(cat "$W/load.err")"
sp_assert_eq "$(cat "$W/load.out")" "created 2000 same 0 conflict 0 failed 0 unavailable 0" "USIM load"
grep -E "loaded 2000 SIMs \(create \+ aud3g\) .* window of 32: [0-9]+ SIMs/s" "$W/load.err" >&2 ||
	sp_fail "no rate printed: $(cat "$W/load.err")"

sp_step "200 2G subscribers, create + aud2g"
"$CHECK" load $G2 200 2g 32 seedA >"$W/load.out" 2>"$W/load.err" || sp_fail "load 2G: $(cat "$W/load.err")"
sp_assert_eq "$(cat "$W/load.out")" "created 200 same 0 conflict 0 failed 0 unavailable 0" "2G load"

sp_step "the HLR holds exactly those, with the keys computed here"
sp_assert_eq "$(sql 'SELECT count(*) FROM subscriber')" 2200 "subscribers in the HLR"
sp_assert_eq "$(sql 'SELECT count(*) FROM auc_3g')" 2000 "3G auth rows"
sp_assert_eq "$(sql 'SELECT count(*) FROM auc_2g')" 200 "2G auth rows"
sp_assert_eq "$(sql "SELECT min(imsi) || ' ' || max(imsi) FROM subscriber JOIN auc_3g ON auc_3g.subscriber_id = subscriber.id")" \
	"452019100000000 452019100001999" "IMSIs with 3G data"
sp_assert_eq "$(sql "SELECT min(imsi) || ' ' || max(imsi) FROM subscriber JOIN auc_2g ON auc_2g.subscriber_id = subscriber.id")" \
	"452019100100000 452019100100199" "IMSIs with 2G data"
for i in 452019100000000 452019100000999 452019100001999; do
	sp_assert_eq "$(aud_of $i)" \
		"GET_REPLY 1 subscriber.by-imsi-$i.info-aud |aud3g.algo MILENAGE|aud3g.k $(key K seedA $i)|aud3g.opc $(key OPC seedA $i)|aud3g.ind_bitlen 5|aud3g.sqn 0|" \
		"info-aud of $i"
done
for i in 452019100100000 452019100100199; do
	sp_assert_eq "$(aud_of $i)" \
		"GET_REPLY 1 subscriber.by-imsi-$i.info-aud |aud2g.algo COMP128v1|aud2g.ki $(key KI seedA $i)|" \
		"info-aud of $i"
done
sp_assert_eq "$(ctrl "GET 1 subscriber.by-imsi-452019100002000.info")" "ERROR 1 No such subscriber." \
	"the IMSI after the USIM range"

sp_step "every SIM read back and compared"
"$CHECK" verify $USIM 2000 3g 32 seedA >"$W/v.out" 2>"$W/v.err" || sp_fail "verify: $(cat "$W/v.err")"
sp_assert_eq "$(cat "$W/v.out")" "match 2000 differs 0 not_found 0 failed 0 unavailable 0" "USIMs read back"
"$CHECK" verify $G2 200 2g 32 seedA >"$W/v.out" 2>"$W/v.err" || sp_fail "verify 2G: $(cat "$W/v.err")"
sp_assert_eq "$(cat "$W/v.out")" "match 200 differs 0 not_found 0 failed 0 unavailable 0" "2G SIMs read back"
# Compared with other keys, every one differs; past the end, none exist.
"$CHECK" verify 452019100001990 20 3g 8 seedB >"$W/v.out" 2>"$W/v.err" || sp_fail "verify seedB: $(cat "$W/v.err")"
sp_assert_eq "$(cat "$W/v.out")" "match 0 differs 10 not_found 10 failed 0 unavailable 0" "other keys, half unknown"
sp_assert_eq "$(grep -c '^differs 45201910000199[0-9]: aud3g.k differs$' "$W/v.err")" 10 "differences named"

sp_step "the same SIMs again: already there with the same keys"
"$CHECK" load $USIM 100 3g 32 seedA >"$W/load.out" 2>"$W/load.err" || sp_fail "reload: $(cat "$W/load.err")"
sp_assert_eq "$(cat "$W/load.out")" "created 0 same 100 conflict 0 failed 0 unavailable 0" "reload"
# A range half loaded, half new.
"$CHECK" load 452019100001990 20 3g 32 seedA >"$W/load.out" 2>"$W/load.err" || sp_fail "overlap: $(cat "$W/load.err")"
sp_assert_eq "$(cat "$W/load.out")" "created 10 same 10 conflict 0 failed 0 unavailable 0" "half loaded range"
sp_assert_eq "$(sql 'SELECT count(*) FROM auc_3g')" 2010 "3G auth rows after the overlap"

sp_step "conflicting SIMs (other keys) are found, not overwritten"
"$CHECK" load $USIM 10 3g 4 seedB >"$W/load.out" 2>"$W/load.err" || sp_fail "conflict: $(cat "$W/load.err")"
sp_assert_eq "$(cat "$W/load.out")" "created 0 same 0 conflict 10 failed 0 unavailable 0" "conflicting load"
sp_assert_eq "$(grep -c '^conflict 45201910000000[0-9]: aud3g.k differs$' "$W/load.err")" 10 "conflicts named"
# A 2G SIM loaded again as a USIM: the HLR has no 3G data for it.
"$CHECK" load $G2 5 3g 4 seedA >"$W/load.out" 2>"$W/load.err" || sp_fail "2G as 3G: $(cat "$W/load.err")"
sp_assert_eq "$(cat "$W/load.out")" "created 0 same 0 conflict 5 failed 0 unavailable 0" "2G loaded as USIM"
grep -q "^conflict 452019100100000: the HLR has 2G auth data, none was meant$" "$W/load.err" ||
	sp_fail "2G-as-3G reason: $(cat "$W/load.err")"
sp_assert_eq "$(aud_of 452019100000003)" \
	"GET_REPLY 1 subscriber.by-imsi-452019100000003.info-aud |aud3g.algo MILENAGE|aud3g.k $(key K seedA 452019100000003)|aud3g.opc $(key OPC seedA 452019100000003)|aud3g.ind_bitlen 5|aud3g.sqn 0|" \
	"keys of a conflicting SIM unchanged"
sp_assert_eq "$(sql 'SELECT count(*) FROM auc_3g')" 2010 "3G auth rows after the conflicts"
# No key reached the output of a run that compared them.
for k in "$(key K seedA 452019100000003)" "$(key K seedB 452019100000003)" "$(key OPC seedA 452019100000003)"; do
	! grep -qi "$k" "$W/load.out" "$W/load.err" "$W/v.err" || sp_fail "a key was printed"
done

sp_step "single operations"
A=452019100000001 B=452019100000002 C=452019100000003 NONE=452019199999999
expect_op "exists | HLR: Subscriber already exists." create $A
expect_op "ok match" check $A 3g:seedA
expect_op "ok differs: aud3g.k differs" check $A 3g:seedB
expect_op "ok differs: the HLR has no 2G auth data" check $A 2g:seedA
expect_op "ok 2g=none 3g=MILENAGE/OPc msisdn=" read_aud $A
expect_op "ok 2g=COMP128v1 3g=none msisdn=" read_aud $G2
expect_op "ok msisdn=" read_msisdn $A

sp_step "MSISDN: set, taken, moved, cleared"
expect_op "ok" set_msisdn $A 84901000001
expect_op "ok msisdn=84901000001" read_msisdn $A
expect_op "ok imsi=$A" find_msisdn - 84901000001
sp_assert_eq "$(ctrl "GET 7 subscriber.by-imsi-$A.msisdn")" "GET_REPLY 7 subscriber.by-imsi-$A.msisdn 84901000001" \
	"MSISDN in the HLR"
expect_op "ok" set_msisdn $A 84901000001 # the same again is fine
expect_op "msisdn_taken | HLR: Update MSISDN failed" set_msisdn $B 84901000001
expect_op "ok msisdn=" read_msisdn $B
expect_op "ok imsi=$A" find_msisdn - 84901000001
# A SIM swap: clear on the old subscriber, then set on the new one.
expect_op "ok" clear_msisdn $A
expect_op "ok msisdn=" read_msisdn $A
expect_op "not_found | HLR: No such subscriber." find_msisdn - 84901000001
expect_op "ok" set_msisdn $B 84901000001
expect_op "ok imsi=$B" find_msisdn - 84901000001
expect_op "ok 2g=none 3g=MILENAGE/OPc msisdn=84901000001" read_aud $B
sp_assert_eq "$(ctrl "GET 8 subscriber.by-msisdn-84901000001.info" | sed -n 's/^imsi\t//p')" "$B" \
	"the HLR's owner of the MSISDN"

sp_step "delete, and subscribers that do not exist"
expect_op "ok" delete $C
expect_op "not_found | HLR: Subscriber doesn't exist." delete $C
expect_op "not_found | HLR: No such subscriber." read_aud $C
sp_assert_eq "$(ctrl "GET 9 subscriber.by-imsi-$C.info")" "ERROR 9 No such subscriber." "deleted in the HLR"
sp_assert_eq "$(sql "SELECT count(*) FROM subscriber WHERE imsi = '$C'")" 0 "deleted row"
expect_op "not_found | HLR: No such subscriber." read_msisdn $NONE
expect_op "not_found | HLR: No such subscriber." set_msisdn $NONE 84901000009
expect_op "not_found | HLR: No such subscriber." clear_msisdn $NONE
expect_op "not_found | HLR: No such subscriber." set_aud3g $NONE seedA
expect_op "not_found | HLR: No such subscriber." set_aud2g $NONE seedA
expect_op "not_found | HLR: No such subscriber." find_msisdn - 84999999999
# Created again, a deleted IMSI takes new keys.
expect_op "ok id=set" create $C
expect_op "ok" set_aud3g $C seedC
expect_op "ok match" check $C 3g:seedC

sp_step "invalid operations never reach the HLR"
expect_op "failed | the IMSI is not 6-15 digits" create 12345
expect_op "failed | IMSI or MSISDN too long" create 4520191000000012
expect_op "failed | the IMSI is not 6-15 digits" read_aud 45201x100000001
expect_op "failed | the MSISDN is not 1-15 digits" set_msisdn $A +84901000001
expect_op "failed | IMSI or MSISDN too long" find_msisdn - 8490100000100001
expect_op "failed | the MSISDN is not 1-15 digits" find_msisdn - ""
sp_assert_eq "$(sql 'SELECT count(*) FROM subscriber')" 2210 "subscribers after the single operations"

sp_step "osmo-hlr stopped mid-stream: in-flight operations time out"
"$CHECK" stall 452019100200000 2000 32 "$HLR_PID" 800 >"$W/stall.out" 2>"$W/stall.err" ||
	sp_fail "stall: $(cat "$W/stall.err")"
cat "$W/stall.out" >&2
read -r _ _ inflight _ timeouts _ broken _ drained _ resumed <"$W/stall.out"
[ "$inflight" -ge 1 ] && [ "$timeouts" -ge 1 ] || sp_fail "no timeouts: $(cat "$W/stall.out")"
# What was in flight timed out or went with the broken connection (a few
# answers may have left before the stop).
[ $((timeouts + broken)) -le "$inflight" ] && [ $((timeouts + broken)) -ge 1 ] || sp_fail "counts: $(cat "$W/stall.out")"
[ "$drained" -ge 500 ] && [ "$drained" -le 2500 ] || sp_fail "drained in $drained ms, timeout 800"
sp_assert_eq "$resumed" ok "after SIGCONT"
ctrl "GET 1 subscriber.by-imsi-$A.msisdn" | grep -q "^GET_REPLY 1 " || sp_fail "HLR not answering after SIGCONT"

sp_step "osmo-hlr killed mid-stream: broken connection, no hang"
start=$(date +%s%N)
"$CHECK" kill 452019100300000 2000 32 "$HLR_PID" >"$W/kill.out" 2>"$W/kill.err" || sp_fail "kill: $(cat "$W/kill.err")"
took=$((($(date +%s%N) - start) / 1000000))
cat "$W/kill.out" >&2
read -r _ _ inflight _ unavailable _ drained _ rest <"$W/kill.out"
[ "$inflight" -ge 1 ] && [ "$unavailable" -ge 1 ] && [ "$unavailable" -le "$inflight" ] ||
	sp_fail "counts: $(cat "$W/kill.out")"
[ "$drained" -le 1000 ] || sp_fail "in-flight operations took $drained ms to fail after the kill"
[[ $rest == "failed: cannot connect to HLR CTRL $SIMPKI_HLR_CTRL: Connection refused" ]] ||
	sp_fail "reconnect: $rest"
[ "$took" -lt 10000 ] || sp_fail "the kill run took $took ms"
rc=0
sp_hlr_ctrl "GET 1 subscriber.by-imsi-$A.msisdn" >/dev/null 2>&1 || rc=$?
sp_assert_eq "$rc" 1 "hlr_ctrl.py against the killed osmo-hlr"

sp_step "ok"
