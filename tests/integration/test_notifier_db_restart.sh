#!/usr/bin/env bash
# test_notifier_db_restart.sh - PostgreSQL restarting while the notifier
# waits for the SMTP server's answer must not send the message twice (found
# by tests/chaos: the message was sent inside the transaction that held its
# row, so the lost connection rolled that back, and the retried transaction
# found the message still pending and sent it again).
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"
source "$SIMPKI_SOURCE_DIR/deploy/local/lib/pg.sh"

sp_stack_up --without hlr
W=$SIMPKI_STACK_DIR/work
mkdir -p "$W"
CTL=$(sp_bin simpkictl)
FORGE=$(sp_bin event_forge)
NT=$(sp_bin notifier)
LOGDIR=$SIMPKI_STACK_DIR/logs
export SIMPKI_NOTIFIER_RETRY_MAX_MS=1000
"$CTL" org load "$SIMPKI_SOURCE_DIR/deploy/local/org.sample.json" >/dev/null

SIMPKI_HTTP_PORT=0 SIMPKI_KAFKA_CONSUMER_CONFIG="session.timeout.ms=6000,heartbeat.interval.ms=500" \
	"$NT" 2>"$LOGDIR/notifier.log" &
echo $! >"$W/nt.pid"
sp_on_exit "kill \$(cat $W/nt.pid) 2>/dev/null || true"
for _ in $(seq 100); do grep -q '"notifier started"' "$LOGDIR/notifier.log" && break; sleep 0.1; done
grep -q '"notifier started"' "$LOGDIR/notifier.log" || sp_fail "notifier did not start: $(tail -5 "$LOGDIR/notifier.log")"

publish() { # TOPIC SUBJECT TYPE DATA
	"$FORGE" --type "$3" --subject "$2" --data "$4" >"$W/last.jsonl"
	kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t "$1" -l "$W/last.jsonl"
}
mails_to() { grep -l "^To: .*$1" "$SIMPKI_SMTP_MAILDIR"/*.eml 2>/dev/null | wc -l; }

sp_step "an e-mail: PostgreSQL restarts while the SMTP server takes 3 s to answer"
# The sink keeps a "slow..." recipient's message at once and answers 3 s later.
publish orders order/ORD-2026-000009 order.accepted '{"order_id": "ORD-2026-000009", "bcycp_ref": "BCYCP-2026-0099",
  "vendor_id": "THALES-VN", "quantity": 10, "profile": "usim_milenage", "state": "in_production",
  "document_sha256": "'"$(printf 'c%.0s' $(seq 64))"'", "received_via": "http", "signature": {}, "batches": [],
  "contact": {"name": "Lê Văn Chậm", "email": "slow-pg@bcy.gov.vn"}}'
for _ in $(seq 300); do [ "$(mails_to slow-pg@bcy.gov.vn)" -ge 1 ] && break; sleep 0.1; done
sp_assert_eq "$(mails_to slow-pg@bcy.gov.vn)" 1 "the mail reached the sink"
sp_pg_restart "$SIMPKI_STACK_DIR" || sp_fail "pg restart"
for _ in $(seq 300); do
	[ "$(sp_psql "SELECT state FROM notifications WHERE recipient = 'slow-pg@bcy.gov.vn'" 2>/dev/null)" = sent ] && break
	sleep 0.1
done
sp_assert_eq "$(sp_psql "SELECT state FROM notifications WHERE recipient = 'slow-pg@bcy.gov.vn'")" sent "the notification"
sleep 4 # a second send would have come by now
sp_assert_eq "$(mails_to slow-pg@bcy.gov.vn)" 1 "mails to slow-pg@ (sent once, PostgreSQL restarted meanwhile)"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM outbox WHERE event_type = 'notification.sent' AND payload LIKE '%slow-pg@%'")" 1 \
	"notification.sent events"
echo "ok - the notifier sends once across a PostgreSQL restart" >&2
