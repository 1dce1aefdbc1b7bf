#!/usr/bin/env bash
# accounts (VCSP) on a real stack with Kannel's fake SMSC: an account from a
# connection, its password by SMS, logins (slowed, locked, unlocked), and
# recovery by OTP with the test clock: 4:59 works and 5:01 does not, single
# use, the fourth request in a row locks until an operator unlocks, two
# recoveries at once do not both succeed, a wrong captcha, an unknown number
# answered like a known one. The SMS hold the password and the OTP; no log
# line and no event does.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"

sp_stack_up --without hlr,smtp
W=$SIMPKI_STACK_DIR/work
mkdir -p "$W"
PY=/usr/bin/python3
CTL=$(sp_bin simpkictl)
FORGE=$(sp_bin event_forge)
AC=$(sp_bin accounts)
LOGDIR=$SIMPKI_STACK_DIR/logs
export SIMPKI_LOG_LEVEL=info SIMPKI_OPERATOR=test-hotline
export SIMPKI_CLOCK_FILE=$W/clock
echo "2026-11-26T09:00:00+07:00" >"$SIMPKI_CLOCK_FILE"
clock() { echo "$1" >"$SIMPKI_CLOCK_FILE"; }

"$AC" --help | grep -q "19002665" || sp_fail "accounts --help"
SIMPKI_HTTP_PORT=0 SIMPKI_KAFKA_CONSUMER_CONFIG="session.timeout.ms=6000,heartbeat.interval.ms=500" \
	"$AC" 2>"$LOGDIR/accounts.log" &
echo $! >"$W/ac.pid"
sp_on_exit "kill \$(cat $W/ac.pid) 2>/dev/null || true"
for _ in $(seq 100); do grep -q '"accounts started"' "$LOGDIR/accounts.log" && break; sleep 0.1; done
PORT=$(sed -n 's/.*"accounts started".*"http_port":"\([0-9]*\)".*/\1/p' "$LOGDIR/accounts.log")
[ -n "$PORT" ] || sp_fail "accounts did not start: $(tail -5 "$LOGDIR/accounts.log")"
URL=http://127.0.0.1:$PORT

sms_texts() { $PY "$SIMPKI_SOURCE_DIR/deploy/local/lib/fakesmsc_decode.py" "$SIMPKI_KANNEL_SMSC_LOG" 2>/dev/null || true; }
# last_sms REGEX: the last value captured by REGEX's group in the SMS texts.
last_sms() { sms_texts >"$W/sms"; $PY -c 'import re,sys; m=re.findall(sys.argv[1], open(sys.argv[2]).read()); print(m[-1] if m else "")' "$1" "$W/sms"; }
post() { # PATH JSON: status in $W/status, body in $W/body
	curl -s -o "$W/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$2" "$URL$1" >"$W/status"
}
status() { cat "$W/status"; }
captcha() { # prints "ID ANSWER"
	curl -s "$URL/v1/captcha" >"$W/captcha"
	$PY - "$W/captcha" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
words = {"một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9}
q = c["question"].lower().replace("?", "").split()
a, op, b = words[q[0]], q[1], words[q[2]]
print(c["id"], {"cộng": a + b, "trừ": a - b, "nhân": a * b}[op])
PYEOF
}
recovery() { # LOGIN ID_NUMBER [CAPTCHA_ANSWER_OVERRIDE]
	local id ans
	read -r id ans < <(captcha)
	post /v1/accounts/recovery '{"login": "'"$1"'", "cert_type": "personal", "id_number": "'"$2"'", "captcha_id": "'"$id"'", "captcha_answer": "'"${3:-$ans}"'"}'
}

sp_step "an account from a connection; its password by SMS"
printf 'agency,full_name,id_number,msisdn,wants_new_number\nBộ Tư pháp,Đỗ Thị Hà,001190000101,0901234567,no\n' >"$W/notice.csv"
"$CTL" registration import "$W/notice.csv" --ref CTS-AC-1 >/dev/null 2>&1 || sp_fail "notice import"
CASE=$(sp_psql "SELECT case_id FROM connection_cases")
"$FORGE" --type sim.connected --subject sim/8984010000000000018 \
	--data '{"iccid": "8984010000000000018", "msisdn": "84901234567", "case_id": "'"$CASE"'", "swap": true}' >"$W/conn.jsonl"
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t sims -l "$W/conn.jsonl"
for _ in $(seq 300); do [ -n "$(last_sms 'mat khau: ([A-Za-z0-9]{12})')" ] && break; sleep 0.1; done
PW=$(last_sms 'mat khau: ([A-Za-z0-9]{12})')
[ -n "$PW" ] || sp_fail "no password SMS: $(sms_texts)"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM accounts WHERE login = '84901234567' AND password_hash LIKE 'scrypt\$N=16384,r=8,p=1\$%'")" 1 "the account, with a scrypt hash"
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t sims -l "$W/conn.jsonl"   # redelivered
sleep 2
sp_assert_eq "$(sms_texts | grep -c 'mat khau:' || true)" 1 "one password SMS for a redelivered event"

sp_step "logins: 0... form, wrong passwords slow down and lock, an unknown number"
post /v1/accounts/login '{"login": "0901234567", "password": "'"$PW"'"}'
sp_assert_eq "$(status)" 200 "login in 0... form"
post /v1/accounts/login '{"login": "84901234567", "password": "wrong-one"}'
sp_assert_eq "$(status)" 401 "a wrong password"
cp "$W/body" "$W/wrong.body"
post /v1/accounts/login '{"login": "0909999999", "password": "wrong-one"}'
sp_assert_eq "$(status)" 401 "an unknown number"
cmp -s "$W/body" "$W/wrong.body" || sp_fail "an unknown number is answered differently: $(cat "$W/body")"
post /v1/accounts/login '{"login": "84901234567", "password": "wrong-two"}'
t0=$(date +%s%N)
post /v1/accounts/login '{"login": "84901234567", "password": "wrong-three"}'
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -ge 900 ] || sp_fail "the third failure was not slowed down"
post /v1/accounts/login '{"login": "84901234567", "password": "wrong-four"}'
post /v1/accounts/login '{"login": "84901234567", "password": "wrong-five"}'
post /v1/accounts/login '{"login": "84901234567", "password": "'"$PW"'"}'
sp_assert_eq "$(status)" 401 "the right password while locked"
"$CTL" account unlock 0901234567 >/dev/null 2>"$W/unlock.err" || sp_fail "account unlock: $(cat "$W/unlock.err")"
post /v1/accounts/login '{"login": "84901234567", "password": "'"$PW"'"}'
sp_assert_eq "$(status)" 200 "login after the unlock"

sp_step "recovery: captcha, unknown number, OTP valid 5 minutes, single use"
recovery 84901234567 001190000101 999
sp_assert_eq "$(status)" 400 "a wrong captcha"
recovery 84909999999 001190000101
sp_assert_eq "$(status)" 202 "an unknown number"
cp "$W/body" "$W/unknown.body"
n0=$(sms_texts | grep -c 'ma OTP' || true)
recovery 84901234567 001190000101
sp_assert_eq "$(status)" 202 "a recovery request"
cmp -s "$W/body" "$W/unknown.body" || sp_fail "a known number is answered differently"
for _ in $(seq 100); do [ "$(sms_texts | grep -c 'ma OTP' || true)" -gt "$n0" ] && break; sleep 0.1; done
OTP=$(last_sms 'la ([0-9]{6}), co hieu luc')
[ -n "$OTP" ] || sp_fail "no OTP SMS"
clock "2026-11-26T09:05:01+07:00"
post /v1/accounts/recovery/verify '{"login": "84901234567", "otp": "'"$OTP"'"}'
sp_assert_eq "$(status)" 410 "the OTP at 5:01"
clock "2026-11-26T09:10:00+07:00"
recovery 84901234567 001190000101
sp_assert_eq "$(status)" 202 "a second request"
for _ in $(seq 100); do [ "$(last_sms 'la ([0-9]{6}), co hieu luc')" != "$OTP" ] && break; sleep 0.1; done
OTP=$(last_sms 'la ([0-9]{6}), co hieu luc')
clock "2026-11-26T09:14:59+07:00"
post /v1/accounts/recovery/verify '{"login": "84901234567", "otp": "'"$OTP"'"}'
sp_assert_eq "$(status)" 200 "the OTP at 4:59"
for _ in $(seq 100); do [ -n "$(last_sms 'mat khau moi .* la: ([A-Za-z0-9]{12})')" ] && break; sleep 0.1; done
PW2=$(last_sms 'mat khau moi .* la: ([A-Za-z0-9]{12})')
[ -n "$PW2" ] && [ "$PW2" != "$PW" ] || sp_fail "no new password SMS"
post /v1/accounts/recovery/verify '{"login": "84901234567", "otp": "'"$OTP"'"}'
sp_assert_eq "$(status)" 401 "a used OTP"
post /v1/accounts/login '{"login": "84901234567", "password": "'"$PW2"'"}'
sp_assert_eq "$(status)" 200 "login with the new password"

sp_step "two recoveries at once; wrong codes void one"
recovery 84901234567 001190000101
for _ in $(seq 100); do [ "$(last_sms 'la ([0-9]{6}), co hieu luc')" != "$OTP" ] && break; sleep 0.1; done
OTP=$(last_sms 'la ([0-9]{6}), co hieu luc')
pids=()
for i in 1 2; do
	curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
		--data-binary '{"login": "84901234567", "otp": "'"$OTP"'"}' "$URL/v1/accounts/recovery/verify" >"$W/par$i" &
	pids+=($!)
done
wait "${pids[@]}"
sp_assert_eq "$(cat "$W/par1" "$W/par2" | sort | tr '\n' ' ')" "200 401 " "two recoveries at once"
recovery 84901234567 001190000101
for _ in $(seq 100); do [ "$(last_sms 'la ([0-9]{6}), co hieu luc')" != "$OTP" ] && break; sleep 0.1; done
OTP=$(last_sms 'la ([0-9]{6}), co hieu luc')
for i in 1 2 3 4 5; do post /v1/accounts/recovery/verify '{"login": "84901234567", "otp": "000000"}'; done
post /v1/accounts/recovery/verify '{"login": "84901234567", "otp": "'"$OTP"'"}'
sp_assert_eq "$(status)" 401 "the right code after five wrong ones"

sp_step "the fourth request in a row locks; the operator unlocks"
# In a row since the last successful recovery: the voided code's request
# was the 1st.
recovery 84901234567 001190000101
recovery 84901234567 001190000101
sp_assert_eq "$(status)" 202 "the third request in a row"
sp_assert_eq "$(sp_psql "SELECT recovery_requests FROM accounts")" 3 "requests in a row"
recovery 84901234567 001190000101
sp_assert_eq "$(status)" 423 "the fourth request in a row"
grep -q "19002665" "$W/body" || sp_fail "the hotline in the answer: $(cat "$W/body")"
recovery 84901234567 001190000101
sp_assert_eq "$(status)" 423 "recovery stays locked"
"$CTL" account unlock 84901234567 >/dev/null 2>"$W/unlock.err"
grep -q '"by":"test-hotline"' "$W/unlock.err" || sp_fail "the unlock is logged with who: $(cat "$W/unlock.err")"
recovery 84901234567 001190000101
sp_assert_eq "$(status)" 202 "recovery after the unlock"
rc=0; "$CTL" account unlock 84900000000 >/dev/null 2>&1 || rc=$?
sp_assert_eq "$rc" 1 "unlocking an unknown account"

sp_step "events valid; no password or OTP in a log or an event"
for _ in $(seq 300); do
	[ "$(sp_psql "SELECT count(*) FROM outbox_pending WHERE producer = 'accounts'")" = 0 ] && break
	sleep 0.1
done
"$CTL" events dump --topic accounts >"$W/events.jsonl"
$PY "$SIMPKI_SOURCE_DIR/tests/lib/validate_events.py" "$W/events.jsonl" >&2 || sp_fail "events fail their schemas"
for t in account.created login.failed login.locked otp.sent otp.failed recovery.locked recovery.unlocked password.reset; do
	grep -q "\"$t\"" "$W/events.jsonl" || sp_fail "no $t event"
done
sms_texts | grep -oE '[A-Za-z0-9]{12}\.|la [0-9]{6},' | grep -oE '[A-Za-z0-9]{12}|[0-9]{6}' | sort -u >"$W/secrets"
[ "$(wc -l <"$W/secrets")" -ge 4 ] || sp_fail "secrets found in the SMS: $(cat "$W/secrets")"
cat "$LOGDIR"/accounts.log "$W/events.jsonl" "$W/unlock.err" >"$W/everything"
if grep -F -f "$W/secrets" "$W/everything" >"$W/leaks"; then
	sp_fail "a password or OTP in a log or an event: $(head -c 300 "$W/leaks")"
fi
kill -TERM "$(cat "$W/ac.pid")"
for _ in $(seq 100); do kill -0 "$(cat "$W/ac.pid")" 2>/dev/null || break; sleep 0.1; done
echo "ok - accounts" >&2
