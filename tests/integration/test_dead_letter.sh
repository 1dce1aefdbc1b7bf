#!/usr/bin/env bash
# Bad input on a topic: each bad message goes to <topic>.dlq with its reason,
# is never applied, its offset is stored (a restart does not see it again),
# and the consumer goes on with the good ones.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"

sp_stack_up --without hlr
TOPIC=bad.events
echo "create $TOPIC 1" > "$SIMPKI_DEVBROKER_CTL"
sp_psql "$(cat "$SIMPKI_SOURCE_DIR/tests/integration/eo_schema.sql")" >/dev/null
FORGE=$(sp_bin event_forge)
CONSUMER=$(sp_bin eo_consumer)
LOGS=$SIMPKI_STACK_DIR/dlq-logs
mkdir -p "$LOGS"

T=test.eo.credited
good() { echo "{\"n\":$1,\"account\":\"acct/77\",\"amount\":$2,\"producer_run\":0}"; }
e1=$("$FORGE" --type $T --subject acct/77 --data "$(good 1 10)")
h1=$(echo "$e1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["hash"])')
e2=$("$FORGE" --type $T --subject acct/77 --prev "$h1" --data "$(good 2 20)")

# One message per line, in this order (one partition keeps it).
{
  echo "$e1"
  echo '{"specversion":"1.0","id": not json'
  "$FORGE" --type $T --subject acct/77 --prev "$h1" --data "$(good 90 1)" --drop subject
  "$FORGE" --type test.unknown.thing --subject acct/77 --prev "$h1" --data "$(good 91 1)"
  "$FORGE" --type $T --subject acct/77 --prev "$("$FORGE" --type $T --subject acct/77 --hash-only)" --data "$(good 92 1)"
  "$FORGE" --type $T --subject acct/77 --prev "$h1" --data "$(good 93 1)" --tamper
  "$FORGE" --type $T --subject acct/77 --prev "$h1" --data "$(good 94 1)" --pad 4096
  echo "$e2"
} > "$LOGS/input.jsonl"
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t "$TOPIC" -l "$LOGS/input.jsonl"

run_consumer_until() {
  SIMPKI_MAX_EVENT_BYTES=2048 EO_TOPIC=$TOPIC "$CONSUMER" >>"$LOGS/consumer.log" 2>&1 &
  local pid=$! t0=$SECONDS
  until [ "$(sp_psql 'SELECT count(*) FROM eo_applied')" = 2 ] &&
        [ "$(kcat -C -b "$SIMPKI_KAFKA_BOOTSTRAP" -t "$TOPIC.dlq" -e -q -f '%o\n' 2>/dev/null | wc -l)" -ge "$1" ]; do
    [ $((SECONDS - t0)) -lt 120 ] || sp_fail "consumer did not finish (see $LOGS/consumer.log)"
    kill -0 $pid 2>/dev/null || sp_fail "consumer crashed on bad input (see $LOGS/consumer.log)"
    sleep 0.5
  done
  sleep 2 # let it commit its offsets
  kill -TERM $pid
  wait $pid || sp_fail "consumer did not stop cleanly"
}
run_consumer_until 6

kcat -C -b "$SIMPKI_KAFKA_BOOTSTRAP" -t "$TOPIC.dlq" -e -q -f '%h\n' > "$LOGS/dlq-headers.txt"
sp_assert_eq "$(wc -l < "$LOGS/dlq-headers.txt")" "6" "dead letters"
expect_reason() {
  grep -q -- "$1" "$LOGS/dlq-headers.txt" || sp_fail "no dead letter with reason: $1"
}
expect_reason 'simpki-dlq-reason=event is not valid JSON'
expect_reason 'simpki-dlq-reason=event attribute "subject" is missing'
expect_reason 'simpki-dlq-reason=unknown event type "test.unknown.thing"'
expect_reason 'simpki-dlq-reason=hash chain broken for subject acct/77'
expect_reason 'hash does not match its content (altered)'
expect_reason 'simpki-dlq-reason=message too large'
grep -q "simpki-dlq-topic=$TOPIC" "$LOGS/dlq-headers.txt" || sp_fail "dead letter lacks its origin topic"

# Only the two good events were applied, and each once.
sp_assert_eq "$(sp_psql 'SELECT string_agg(n::text, $$,$$ ORDER BY n) FROM eo_applied')" "1,2" "applied events"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM inbox")" "2" "inbox rows"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM eo_violations")" "0" "order violations"

# A restart resumes after the stored offsets: nothing is dead-lettered twice.
run_consumer_until 6
sp_assert_eq "$(kcat -C -b "$SIMPKI_KAFKA_BOOTSTRAP" -t "$TOPIC.dlq" -e -q -f '%o\n' | wc -l)" "6" "dead letters after restart"
sp_assert_eq "$(sp_psql 'SELECT count(*) FROM eo_applied')" "2" "applied after restart"
echo "dead-letter: 6 bad messages refused with their reasons, 2 good applied once"
