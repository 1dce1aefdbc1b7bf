#!/usr/bin/env bash
# notifier on a real stack with a real SMTP server and Kannel (fake SMSC):
# who is told what for each event, once; the A5 deadlines moved through
# with the test clock (reminder, breach and escalation, a contact that stops
# it); SMTP and Kannel down then up (each message arrives once); the same
# event twice (one message); a recipient without an address (an event saying
# so); start-up refusals (a template with an unknown placeholder, no holiday
# data for the year).
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"
source "$SIMPKI_SOURCE_DIR/deploy/local/lib/smtp.sh"
source "$SIMPKI_SOURCE_DIR/deploy/local/lib/kannel.sh"

sp_stack_up --without hlr
W=$SIMPKI_STACK_DIR/work
mkdir -p "$W"
PY=/usr/bin/python3
CTL=$(sp_bin simpkictl)
FORGE=$(sp_bin event_forge)
NT=$(sp_bin notifier)
LOGDIR=$SIMPKI_STACK_DIR/logs
export SIMPKI_LOG_LEVEL=info SIMPKI_NOTIFIER_RETRY_MAX_MS=1000
export SIMPKI_CLOCK_FILE=$W/clock
echo "2026-11-26T09:00:00+07:00" >"$SIMPKI_CLOCK_FILE"
"$CTL" org load "$SIMPKI_SOURCE_DIR/deploy/local/org.sample.json" >/dev/null
# CTKV9 has no mailbox on record (a recipient without an address).
sp_psql "UPDATE ctkvs SET email = NULL WHERE ctkv_id = 'CTKV9'" >/dev/null

sp_step "start-up refusals"
"$NT" --help | grep -q "connected_sms\|customer when the connection" || sp_fail "notifier --help"
cp -r "$SIMPKI_SOURCE_DIR/data/templates/notifier" "$W/badtpl"
printf 'Subject: Đơn {{bcycp_ref}}\n\nKính gửi {{nmae}}\n' >"$W/badtpl/order_rejected.txt"
rc=0; SIMPKI_TEMPLATE_DIR=$W/badtpl "$NT" 2>"$W/start.err" || rc=$?
sp_assert_eq "$rc" 2 "a template with an unknown placeholder"
grep -q 'order_rejected.txt.*line 3.*nmae\|order_rejected.txt:3.*nmae' "$W/start.err" || sp_fail "template refusal: $(cat "$W/start.err")"
mkdir -p "$W/holidays" && cp "$SIMPKI_SOURCE_DIR/data/holidays/2027.txt" "$W/holidays/"
rc=0; SIMPKI_HOLIDAY_DIR=$W/holidays "$NT" 2>"$W/start.err" || rc=$?
sp_assert_eq "$rc" 2 "no holiday data for this year"
grep -q 'no holiday data' "$W/start.err" || sp_fail "holiday refusal: $(cat "$W/start.err")"

SIMPKI_HTTP_PORT=0 SIMPKI_KAFKA_CONSUMER_CONFIG="session.timeout.ms=6000,heartbeat.interval.ms=500" \
	"$NT" 2>"$LOGDIR/notifier.log" &
echo $! >"$W/nt.pid"
sp_on_exit "kill \$(cat $W/nt.pid) 2>/dev/null || true"
for _ in $(seq 100); do grep -q '"notifier started"' "$LOGDIR/notifier.log" && break; sleep 0.1; done
grep -q '"notifier started"' "$LOGDIR/notifier.log" || sp_fail "notifier did not start: $(tail -5 "$LOGDIR/notifier.log")"

# publish TOPIC SUBJECT TYPE DATA: one event, its JSON kept in $W/last.jsonl.
publish() {
	"$FORGE" --type "$3" --subject "$2" --data "$4" >"$W/last.jsonl"
	kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t "$1" -l "$W/last.jsonl"
}
mails() { ls "$SIMPKI_SMTP_MAILDIR" 2>/dev/null | wc -l; }
wait_mails() { # N SECONDS
	for _ in $(seq $(($2 * 10))); do [ "$(mails)" -ge "$1" ] && return 0; sleep 0.1; done
	sp_fail "$(mails) mails, not $1, after $2 s: $(grep -v '"level":"info"' "$LOGDIR/notifier.log" | tail -3)"
}
# mail_to ADDR: the decoded To, subject and body of the mails to ADDR.
mail_to() {
	$PY - "$SIMPKI_SMTP_MAILDIR" "$1" <<'PYEOF'
import email, email.policy, os, sys
d, to = sys.argv[1], sys.argv[2]
for f in sorted(os.listdir(d)):
    m = email.message_from_binary_file(open(os.path.join(d, f), "rb"), policy=email.policy.default)
    if to in str(m["To"]):
        print("TO:", m["To"])
        print("SUBJECT:", m["Subject"])
        print(m.get_body(("plain",)).get_content())
PYEOF
}
sms_texts() { $PY "$SIMPKI_SOURCE_DIR/deploy/local/lib/fakesmsc_decode.py" "$SIMPKI_KANNEL_SMSC_LOG"; }
# mail_has ADDR TEXT / sms_has TEXT (through a file: grep -q on a pipe
# would close it under the writer).
mail_has() { mail_to "$1" >"$W/mail_has"; grep -q -- "$2" "$W/mail_has"; }
sms_has() { sms_texts >"$W/sms_has" 2>/dev/null || true; grep -q -- "$1" "$W/sms_has"; }
sent() { sp_psql "SELECT count(*) FROM notifications WHERE kind = '$1' AND state = 'sent'"; }

sp_step "who is told what"
publish orders order/ORD-2026-000001 order.accepted '{"order_id": "ORD-2026-000001", "bcycp_ref": "BCYCP-2026-0042",
  "vendor_id": "THALES-VN", "quantity": 1000, "profile": "usim_milenage", "state": "in_production",
  "document_sha256": "'"$(printf 'a%.0s' $(seq 64))"'", "received_via": "http", "signature": {}, "batches": [],
  "contact": {"name": "Nguyễn Văn An", "email": "an@bcy.gov.vn"}}'
ACCEPTED=$W/accepted.jsonl
cp "$W/last.jsonl" "$ACCEPTED"
publish orders rejection/1 order.rejected '{"code": "bad_signature", "reason": "HASH_FAILURE", "received_via": "http"}'
publish vendors vendor/IDEMIA-VN vendor.pilot_passed '{"vendor_id": "IDEMIA-VN", "pilot_batch_id": "ORD-2026-000002-P1", "evidence": "7 SIM đã ký số thử thành công", "by": "khdn"}'
publish batches batch/ORD-2026-000001-B001 batch.provisioned '{"batch_id": "ORD-2026-000001-B001", "order_id": "ORD-2026-000001",
  "sims": 1000, "loaded": 998, "already_present": 0, "failed": 2, "failures": [{"iccid": "8984010000000000018", "reason": "conflict"}],
  "duration_s": 312.5, "imsi_first": "452019000000000", "imsi_last": "452019000000999"}'
publish sims move/MV-2026-00000001 sims.handed_over '{"move_id": "MV-2026-00000001", "iccid_first": "8984010000000000018",
  "iccid_last": "8984010000000009992", "sims": 1000, "ctkv": "CTKV3", "by": "khdn", "purpose": "customers"}'
publish sims move/MV-2026-00000002 sims.handed_over '{"move_id": "MV-2026-00000002", "iccid_first": "8984010000000010006",
  "iccid_last": "8984010000000010006", "sims": 1, "ctkv": "CTKV9", "by": "khdn", "purpose": "testing"}'
publish sims sim/8984010000000000026 sim.connected '{"iccid": "8984010000000000026", "msisdn": "84901234567",
  "ctkv": "CTKV3", "shop": "DNG-001", "swap": true, "package": "SIM PKI ký số 12 tháng"}'
wait_mails 5 30
mail_to an@bcy.gov.vn >"$W/m.accepted"
grep -q "BCYCP-2026-0042" "$W/m.accepted" || sp_fail "order accepted mail: $(cat "$W/m.accepted")"
grep -q "Nguyễn Văn An" "$W/m.accepted" || sp_fail "the contact's name with diacritics: $(cat "$W/m.accepted")"
mail_to ban.khdn@mobifone.example >"$W/m.khdn"
grep -q "IDEMIA-VN" "$W/m.khdn" && grep -q "ORD-2026-000001-B001" "$W/m.khdn" || sp_fail "Ban KHDN mails: $(cat "$W/m.khdn")"
grep -q "8984010000000000018" "$W/m.khdn" || sp_fail "the batch report lists its failures"
mail_has ban.khcn@mobifone.example "ORD-2026-000001-B001" || sp_fail "Ban KHCN's batch report"
mail_has ctkv3@mobifone.example "MV-2026-00000001" || sp_fail "CTKV3's handover mail"
for _ in $(seq 200); do sms_has "SIM PKI ký số 12 tháng" && break; sleep 0.1; done
sms_has "SIM PKI ký số 12 tháng" || sp_fail "the customer's SMS: $(cat "$W/sms_has")"
# Other subjects, other partitions: they may be taken after the SMS's.
for _ in $(seq 300); do
	[ "$(sp_psql "SELECT count(*) FROM outbox WHERE event_type = 'notification.failed' AND payload LIKE '%no address%'")" -ge 2 ] && break
	sleep 0.1
done
sp_assert_eq "$(sp_psql "SELECT count(*) FROM outbox WHERE event_type = 'notification.failed' AND payload LIKE '%no address%'")" 2 \
	"no-address events (a refused order without contact, CTKV9)"

sp_step "the same event twice: one message"
n=$(mails)
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t orders -l "$ACCEPTED"
sleep 3
sp_assert_eq "$(mails)" "$n" "mails after a redelivered event"
sp_assert_eq "$(sent order_accepted)" 1 "order_accepted messages"

sp_step "SMTP down, then up: the message arrives once"
sp_smtp_down "$SIMPKI_STACK_DIR"
publish orders order/ORD-2026-000003 order.accepted '{"order_id": "ORD-2026-000003", "bcycp_ref": "BCYCP-2026-0043",
  "vendor_id": "THALES-VN", "quantity": 10, "profile": "usim_milenage", "state": "in_production",
  "document_sha256": "'"$(printf 'b%.0s' $(seq 64))"'", "received_via": "http", "signature": {}, "batches": [],
  "contact": {"name": "Trần Thị Bình", "email": "binh@bcy.gov.vn"}}'
for _ in $(seq 100); do
	[ "$(sp_psql "SELECT count(*) FROM notifications WHERE recipient = 'binh@bcy.gov.vn' AND attempts >= 2")" = 1 ] && break
	sleep 0.1
done
sp_assert_eq "$(sp_psql "SELECT state FROM notifications WHERE recipient = 'binh@bcy.gov.vn'")" pending "the message waits while SMTP is down"
sp_smtp_up "$SIMPKI_STACK_DIR"
count_mails() { mail_to "$1" >"$W/count_mails"; grep -c '^SUBJECT:' "$W/count_mails" || true; }
for _ in $(seq 100); do [ "$(count_mails binh@bcy.gov.vn)" = 1 ] && break; sleep 0.1; done
sleep 2
sp_assert_eq "$(count_mails binh@bcy.gov.vn)" 1 "mails to binh after SMTP came back"

sp_step "Kannel down, then up: the SMS arrives once"
sp_kannel_down "$SIMPKI_STACK_DIR"
publish sims sim/8984010000000000034 sim.connected '{"iccid": "8984010000000000034", "msisdn": "84912345678",
  "ctkv": "CTKV3", "shop": "DNG-001", "swap": false, "package": "Gói đặc biệt Đà Nẵng"}'
for _ in $(seq 100); do
	[ "$(sp_psql "SELECT count(*) FROM notifications WHERE recipient = '84912345678' AND attempts >= 2")" = 1 ] && break
	sleep 0.1
done
sp_kannel_up "$SIMPKI_STACK_DIR"
count_sms() { sms_texts >"$W/count_sms" 2>/dev/null || true; grep -c -- "$1" "$W/count_sms" || true; }
for _ in $(seq 300); do [ "$(count_sms 'Gói đặc biệt Đà Nẵng')" -ge 1 ] && break; sleep 0.1; done
sleep 2
sp_assert_eq "$(count_sms 'Gói đặc biệt Đà Nẵng')" 1 "SMS after Kannel came back"

sp_step "A5: reminders, a breach and its escalation, a contact that stops it"
for i in 1 2; do
	publish registrations "case/CASE-2026-00000$i" case.opened '{"case_id": "CASE-2026-00000'"$i"'", "notice_id": "NOT-2026-000001",
	  "notice_ref": "CTS-2026-11-001", "agency": "Bộ Tư pháp", "full_name": "Phạm Văn Cường '"$i"'", "msisdn": null,
	  "wants_new_number": true, "received_at": "2026-11-26T03:00:00.000Z"}'
done
# A case whose notice names its region: its reminder goes to that CTKV.
publish registrations case/CASE-2026-000003 case.opened '{"case_id": "CASE-2026-000003", "notice_id": "NOT-2026-000001",
  "notice_ref": "CTS-2026-11-001", "agency": "Bộ Tư pháp", "full_name": "Phạm Văn Cường 3", "msisdn": null,
  "wants_new_number": true, "received_at": "2026-11-26T03:00:00.000Z", "ctkv": "CTKV3"}'
for _ in $(seq 100); do [ "$(sp_psql "SELECT count(*) FROM sla_cases")" = 3 ] && break; sleep 0.1; done
sp_assert_eq "$(sp_psql "SELECT to_char(deadline AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI:SS') FROM sla_cases WHERE case_id = 'CASE-2026-000001'")" \
	"2026-12-01 23:59:59" "the deadline: 3 working days after Thursday 26 November"
"$CTL" sla list >"$W/list1" 2>/dev/null
grep -q "CASE-2026-000001.*2026-12-01T23:59:59+07:00.*open" "$W/list1" || sp_fail "sla list: $(cat "$W/list1")"
sp_assert_eq "$(sent case_due)" 0 "no reminder before the last working day"
echo "2026-12-01T08:00:00+07:00" >"$SIMPKI_CLOCK_FILE"
for _ in $(seq 100); do [ "$(sent case_due)" = 3 ] && break; sleep 0.1; done
sp_assert_eq "$(sent case_due)" 3 "reminders on the last working day"
mail_has ctkv3@mobifone.example "CASE-2026-000003" || sp_fail "the region's CTKV is reminded"
mail_has ban.khdn@mobifone.example "CASE-2026-000001" || sp_fail "Ban KHDN is reminded of a case without region"
"$CTL" sla contacted CASE-2026-000002 --note "đã gọi điện (called)" >/dev/null
rc=0; "$CTL" sla contacted CASE-2026-000002 --note again >/dev/null 2>&1 || rc=$?
sp_assert_eq "$rc" 1 "a contact recorded twice"
echo "2026-12-02T00:00:01+07:00" >"$SIMPKI_CLOCK_FILE"
for _ in $(seq 100); do [ "$(sent case_breached)" = 2 ] && break; sleep 0.1; done
sleep 1
sp_assert_eq "$(sent case_breached)" 2 "escalations: the contacted case does not breach"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM outbox WHERE event_type = 'case.breached' AND subject = 'case/CASE-2026-000001'")" 1 "case.breached"
"$CTL" sla list --breached >"$W/list2" 2>/dev/null
grep -q "CASE-2026-000001.*breached" "$W/list2" && ! grep -q "CASE-2026-000002" "$W/list2" || sp_fail "sla list --breached: $(cat "$W/list2")"
mail_has ban.khdn@mobifone.example "Quá hạn hồ sơ CASE-2026-000001" && mail_has ban.khdn@mobifone.example "Quá hạn hồ sơ CASE-2026-000003" || sp_fail "the escalation mails"

sp_step "events valid; each message once"
for _ in $(seq 300); do
	[ "$(sp_psql "SELECT count(*) FROM outbox_pending WHERE producer = 'notifier'")" = 0 ] && break
	sleep 0.1
done
"$CTL" events dump --topic notifications >"$W/events.jsonl"
sp_psql "SELECT payload FROM outbox WHERE producer = 'notifier' AND topic = 'registrations'" >>"$W/events.jsonl"
$PY "$SIMPKI_SOURCE_DIR/tests/lib/validate_events.py" "$W/events.jsonl" >&2 || sp_fail "events fail their schemas"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM (SELECT event_id, kind, recipient FROM notifications GROUP BY 1, 2, 3 HAVING count(*) > 1) d")" 0 "duplicated messages"
sp_assert_eq "$(grep -c '"notification.sent"' "$W/events.jsonl")" "$(sp_psql "SELECT count(*) FROM notifications WHERE state = 'sent'")" "one notification.sent per message"
kill -TERM "$(cat "$W/nt.pid")"
for _ in $(seq 100); do kill -0 "$(cat "$W/nt.pid")" 2>/dev/null || break; sleep 0.1; done
kill -0 "$(cat "$W/nt.pid")" 2>/dev/null && sp_fail "notifier did not stop on SIGTERM"
echo "ok - notifier" >&2
