#!/usr/bin/env bash
# The notifier's channels against the real parts of the local stack: an
# e-mail through the SMTP sink and an SMS through Kannel to its fake SMSC,
# both in Vietnamese, checked on arrival (the .eml decoded with Python's
# email package, fakesmsc's log decoded from UCS-2); the shipped templates
# rendered and sent; then the faults: each server down (retryable, at once),
# hung (retryable, within the timeout), up again (sent exactly once), and
# refusals that are permanent. The Kannel password never shows in an error
# or a log.
set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"
. "$SIMPKI_SOURCE_DIR/deploy/local/lib/smtp.sh"
. "$SIMPKI_SOURCE_DIR/deploy/local/lib/kannel.sh"

SEND=$(sp_bin notify_send) || sp_fail "notify_send not built"
DECODE=$SIMPKI_SOURCE_DIR/deploy/local/lib/fakesmsc_decode.py
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/simpki-nt.XXXXXX")
sp_on_exit "rm -rf '$SCRATCH'"
ERRLOG=$SCRATCH/all-errors.log # every stderr of notify_send, checked at the end
MSISDN=84901234567

sp_stack_up --without kafka,pg,hlr
for v in SIMPKI_SMTP_URL SIMPKI_SMTP_MAILDIR SIMPKI_KANNEL_URL SIMPKI_KANNEL_USER \
	SIMPKI_KANNEL_PASSWORD_FILE SIMPKI_KANNEL_SMSC_LOG; do
	[ -n "${!v:-}" ] || sp_fail "$v not exported by the stack"
done
DIR=$SIMPKI_STACK_DIR
PW=$(cat "$SIMPKI_KANNEL_PASSWORD_FILE")
[ "$(stat -c %a "$SIMPKI_KANNEL_PASSWORD_FILE")" = 600 ] || sp_fail "password file is not 0600"
[ "${#PW}" -ge 16 ] || sp_fail "the stack's Kannel password is too short: ${#PW}"

# send ARGS...: runs notify_send; sets RC, MS (elapsed) and ERR (stderr).
send() {
	local out
	RC=0
	out=$("$SEND" "$@" 2>"$SCRATCH/err") || RC=$?
	MS=${out:-0}
	ERR=$(cat "$SCRATCH/err")
	cat "$SCRATCH/err" >>"$ERRLOG"
}

# expect RC MAX_MS WHAT: the last send's status, and it took under MAX_MS.
expect() {
	sp_assert_eq "$RC" "$1" "$3: exit status (stderr: $ERR)"
	[ "$MS" -lt "$2" ] || sp_fail "$3: took $MS ms, expected under $2 ms"
}

mail_count() { find "$SIMPKI_SMTP_MAILDIR" -name '*.eml' | wc -l; }

# check_eml FILE ADDR NAME SUBJECT BODY SEED: the message as a mail client
# would read it.
check_eml() {
	"$SP_PY" - "$@" <<'PY'
import datetime, email, email.policy, email.utils, hashlib, sys
path, addr, name, subject, body, seed = sys.argv[1:]
raw = open(path, "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
bad = []
def want(what, got, exp):
    if got != exp:
        bad.append("%s: got %r, expected %r" % (what, got, exp))
want("Subject", str(m["Subject"]), subject)
to = m["To"].addresses
want("To count", len(to), 1)
want("To address", to[0].addr_spec, addr)
want("To name", to[0].display_name, name)
want("Delivered-To", m["Delivered-To"], addr)
want("From", str(m["From"]), "MobiFone SIM PKI <simpki@mobifone.vn>")
want("MIME-Version", m["MIME-Version"], "1.0")
want("content type", m.get_content_type(), "text/plain")
want("charset", m.get_content_charset(), "utf-8")
want("transfer encoding", m["Content-Transfer-Encoding"], "base64")
want("body", m.get_content().replace("\r\n", "\n"), body)
want("Message-ID", m["Message-ID"],
     "<%s.simpki@mobifone.vn>" % hashlib.sha256(seed.encode()).hexdigest()[:32])
date = email.utils.parsedate_to_datetime(m["Date"])
want("Date offset", date.utcoffset(), datetime.timedelta(hours=7))
age = abs((datetime.datetime.now(datetime.timezone.utc) - date).total_seconds())
if age > 300:
    bad.append("Date %s is %d s away from now" % (m["Date"], age))
# Plain ASCII on the wire, lines within 78 characters.
for n, line in enumerate(raw.split(b"\r\n"), 1):
    if len(line) > 78 or any(c > 127 for c in line):
        bad.append("line %d: %r" % (n, line[:90]))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
}

# sms_count TEXT: how many messages to MSISDN the fake SMSC got with TEXT.
sms_count() {
	"$SP_PY" "$DECODE" --json --to "$MSISDN" "$SIMPKI_KANNEL_SMSC_LOG" |
		"$SP_PY" -c 'import json, sys
want = sys.argv[1]
print(sum(1 for l in sys.stdin if json.loads(l)["text"] == want))' "$1"
}

sms_count_is() { [ "$(sms_count "$1")" = "$2" ]; }

# ---------------------------------------------------------------------------
sp_step "an e-mail in Vietnamese reaches the sink intact"
SUBJECT="[SIM PKI] Đã tiếp nhận đơn hàng BCYCP-2026-0042 – số lượng 5.000 SIM của nhà sản xuất Thales"
BODY=$'Kính gửi Ban Cơ yếu Chính phủ,\n\nTổng công ty Viễn thông MobiFone xác nhận đã tiếp nhận đơn hàng.\n. (một dòng chỉ có dấu chấm ở trên)\n\nTrân trọng,\nMobiFone'
send mail --to lan.nguyen@bcy.gov.vn --name "Nguyễn Thị Lan" --subject "$SUBJECT" \
	--body "$BODY" --seed evt-0001.mail
expect 0 5000 "e-mail to the sink"
sp_assert_eq "$(mail_count)" 1 "messages in the sink"
check_eml "$SIMPKI_SMTP_MAILDIR/0001.eml" lan.nguyen@bcy.gov.vn "Nguyễn Thị Lan" "$SUBJECT" \
	"$BODY" evt-0001.mail || sp_fail "0001.eml differs from what was sent"

sp_step "an SMS in Vietnamese reaches the fake SMSC intact (two UCS-2 parts)"
TEXT=$'Kính gửi Quý khách Nguyễn Văn Ánh: thuê bao đã được đấu nối SIM PKI.\nKý tự đặc biệt: + & = ? % # \\ “ngoặc” – hết.'
send sms --to 0901234567 --text "$TEXT"
expect 0 5000 "SMS to Kannel"
sp_wait_for 15 sms_count_is "$TEXT" 1 || sp_fail "the SMS did not arrive once: $(sms_count "$TEXT") copies"
"$SP_PY" "$DECODE" --json --to "$MSISDN" "$SIMPKI_KANNEL_SMSC_LOG" | grep -q '"from": "MobiFone"' ||
	sp_fail "the SMS was not sent from MobiFone"
grep -q 'ucs-2\|udh' "$SIMPKI_KANNEL_SMSC_LOG" || sp_fail "the SMS did not travel as UCS-2"

sp_step "the shipped templates, rendered and sent"
out=$("$SEND" render order_accepted order_id=ORD-2026-000042 bcycp_ref=BCYCP-2026-0042 \
	vendor_id=THALES-VN quantity=5000 state="đã tiếp nhận") || sp_fail "render order_accepted"
T_SUBJECT=${out%%$'\n'*}
T_BODY=${out#*$'\n\n'}
sp_assert_eq "$T_SUBJECT" "[SIM PKI] Đã tiếp nhận đơn hàng BCYCP-2026-0042" "rendered subject"
grep -q 'Số lượng: 5000 SIM' <<<"$T_BODY" || sp_fail "rendered body: $T_BODY"
send mail --to bcycp.ops@bcy.gov.vn --subject "$T_SUBJECT" --body "$T_BODY" --seed evt-0002.mail
expect 0 5000 "templated e-mail"
check_eml "$SIMPKI_SMTP_MAILDIR/0002.eml" bcycp.ops@bcy.gov.vn "" "$T_SUBJECT" "$T_BODY" \
	evt-0002.mail || sp_fail "0002.eml differs from the rendered template"
out=$("$SEND" render connected_sms msisdn=$MSISDN full_name= package=PKI50) ||
	sp_fail "render connected_sms"
T_TEXT=${out#*$'\n\n'}
sp_assert_eq "$T_TEXT" \
	"MobiFone: thuê bao $MSISDN của Quý khách đã được đấu nối SIM PKI thành công, gói cước PKI50. Trân trọng!" \
	"connected_sms without a name"
send sms --to $MSISDN --text "$T_TEXT"
expect 0 5000 "templated SMS"
sp_wait_for 15 sms_count_is "$T_TEXT" 1 || sp_fail "the templated SMS did not arrive once"
rc=0
"$SEND" render order_rejected bcycp_ref=X 2>"$SCRATCH/err" >/dev/null || rc=$?
sp_assert_eq "$rc" 2 "render with a value missing"
grep -q 'no value for {{reason}}' "$SCRATCH/err" || sp_fail "missing value: $(cat "$SCRATCH/err")"

sp_step "refusals are permanent and send nothing"
send mail --to reject.me@bcy.gov.vn --subject "Thử" --body "Thử" --seed evt-r1
expect 2 5000 "5xx from the server"
grep -q '550 5.1.1' <<<"$ERR" || sp_fail "the 550 reply is not in the reason: $ERR"
send mail --to tempfail.me@bcy.gov.vn --subject "Thử" --body "Thử" --seed evt-r2
expect 1 5000 "4xx from the server"
grep -q '451 4.3.0' <<<"$ERR" || sp_fail "the 451 reply is not in the reason: $ERR"
send mail --to $'a@bcy.gov.vn\r\nBcc: spy@evil.vn' --subject "Thử" --body "Thử" --seed evt-r3
expect 2 1000 "header injection in the address"
send mail --to a@bcy.gov.vn --name $'Lan\r\nBcc: spy@evil.vn' --subject "Thử" --body "Thử" --seed evt-r4
expect 2 1000 "header injection in the name"
send mail --to a@bcy.gov.vn --subject $'Thử\r\nBcc: spy@evil.vn' --body "Thử" --seed evt-r5
expect 2 1000 "header injection in the subject"
sp_assert_eq "$(mail_count)" 2 "messages in the sink after refusals"
send sms --to 0201234567 --text "Thử"
expect 2 1000 "SMS to a number that is not mobile"
send sms --to $MSISDN --text "Thử 😀"
expect 2 1000 "SMS with a character UCS-2 cannot carry"
printf 'wrong-password-123\n' >"$SCRATCH/wrong.pw"
chmod 600 "$SCRATCH/wrong.pw"
send sms --to $MSISDN --text "Sai mật khẩu" --password-file "$SCRATCH/wrong.pw"
expect 2 5000 "SMS with a wrong password"
grep -q 'HTTP 403.*Authorization failed' <<<"$ERR" || sp_fail "wrong password: $ERR"
grep -q 'wrong-password-123' <<<"$ERR" && sp_fail "the wrong password is in the error: $ERR"
chmod 644 "$SCRATCH/wrong.pw"
send sms --to $MSISDN --text "Thử" --password-file "$SCRATCH/wrong.pw"
sp_assert_eq "$RC" 64 "password file readable by others"
grep -q 'mode 0644' <<<"$ERR" || sp_fail "mode not named: $ERR"
sp_assert_eq "$(sms_count "Sai mật khẩu")" 0 "SMS sent with a wrong password"

sp_step "SMTP down: retryable at once; hung: retryable within the timeout; up: sent once"
sp_smtp_down "$DIR" || sp_fail "sp_smtp_down"
MAIL_SUBJ="Nhắc hạn hồ sơ CASE-0007"
send mail --to ctkv3@mobifone.vn --name "Công ty Dịch vụ MobiFone Khu vực 3" --subject "$MAIL_SUBJ" \
	--body "Hạn hoàn tất: 25/11/2026" --seed evt-0003.mail --timeout-ms 3000
expect 1 2000 "e-mail while the sink is down"
grep -q 'not reachable' <<<"$ERR" || sp_fail "reason: $ERR"
sp_smtp_up "$DIR" || sp_fail "sp_smtp_up"
sp_assert_eq "$(cat "$DIR/smtp/port")" "${SIMPKI_SMTP_URL##*:}" "the sink kept its port"
read -r smtp_pid _ <"$DIR/pids/smtp"
kill -STOP "$smtp_pid"
send mail --to ctkv3@mobifone.vn --name "Công ty Dịch vụ MobiFone Khu vực 3" --subject "$MAIL_SUBJ" \
	--body "Hạn hoàn tất: 25/11/2026" --seed evt-0003.mail --timeout-ms 1500
kill -CONT "$smtp_pid"
expect 1 4000 "e-mail while the sink hangs"
[ "$MS" -ge 1400 ] || sp_fail "a hung server returned after $MS ms, before the 1500 ms timeout"
grep -q 'did not answer in time' <<<"$ERR" || sp_fail "reason: $ERR"
send mail --to ctkv3@mobifone.vn --name "Công ty Dịch vụ MobiFone Khu vực 3" --subject "$MAIL_SUBJ" \
	--body "Hạn hoàn tất: 25/11/2026" --seed evt-0003.mail --timeout-ms 3000
expect 0 5000 "e-mail once the sink is back"
sleep 1 # anything the hung attempt might still deliver
sp_assert_eq "$(mail_count)" 3 "messages in the sink after the outage"
check_eml "$SIMPKI_SMTP_MAILDIR/0003.eml" ctkv3@mobifone.vn "Công ty Dịch vụ MobiFone Khu vực 3" \
	"$MAIL_SUBJ" "Hạn hoàn tất: 25/11/2026" evt-0003.mail || sp_fail "0003.eml differs"

sp_step "Kannel down: retryable at once; up: delivered once"
sp_kannel_down "$DIR" || sp_fail "sp_kannel_down"
DOWN_TEXT="Thuê bao $MSISDN đã được đấu nối (sau sự cố)."
send sms --to $MSISDN --text "$DOWN_TEXT" --timeout-ms 3000
expect 1 2000 "SMS while Kannel is down"
grep -q 'not reachable' <<<"$ERR" || sp_fail "reason: $ERR"
sp_kannel_up "$DIR" || sp_fail "sp_kannel_up"
read -r _ _ _ sendsms_port <"$DIR/kannel/ports"
url_port=${SIMPKI_KANNEL_URL#http://127.0.0.1:}
sp_assert_eq "$sendsms_port" "${url_port%%/*}" "Kannel kept its sendsms port"
send sms --to $MSISDN --text "$DOWN_TEXT"
expect 0 5000 "SMS once Kannel is back"
sp_wait_for 15 sms_count_is "$DOWN_TEXT" 1 || sp_fail "the SMS did not arrive once after the restart"
sleep 1
sp_assert_eq "$(sms_count "$DOWN_TEXT")" 1 "copies of the SMS sent around the outage"

sp_step "SMSC away: Kannel queues (success), delivers once when it is back"
sp_kannel_smsc_down "$DIR" || sp_fail "sp_kannel_smsc_down"
Q_TEXT="Tin nhắn chờ gửi: SMSC tạm ngừng."
send sms --to $MSISDN --text "$Q_TEXT"
expect 0 5000 "SMS while the SMSC is away (queued)"
sleep 1
sp_assert_eq "$(sms_count "$Q_TEXT")" 0 "delivered while the SMSC was away"
sp_kannel_smsc_up "$DIR" || sp_fail "sp_kannel_smsc_up"
sp_wait_for 20 sms_count_is "$Q_TEXT" 1 || sp_fail "the queued SMS was not delivered once"

sp_step "the password is in no error and no log"
for f in "$ERRLOG" "$DIR"/logs/*; do
	if grep -qF -- "$PW" "$f"; then
		sp_fail "the Kannel password appears in $f"
	fi
done

echo "PASS: test_notifier_channels" >&2
