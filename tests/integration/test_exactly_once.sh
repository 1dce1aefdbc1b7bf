#!/usr/bin/env bash
# Principle 2 under fire: a producer (table change + outbox + relay) and a
# consumer (inbox + effect) are SIGKILLed at random moments and restarted;
# at the end every event is applied exactly once, in order per subject.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"

TOTAL=${EO_TOTAL:-10000}
MIN_KILLS=${EO_MIN_KILLS:-4}
TOPIC=eo.events
sp_stack_up --without hlr
echo "create $TOPIC 3" > "$SIMPKI_DEVBROKER_CTL"
sp_psql "$(cat "$SIMPKI_SOURCE_DIR/tests/integration/eo_schema.sql")" >/dev/null

PRODUCER=$(sp_bin eo_producer)
CONSUMER=$(sp_bin eo_consumer)
LOGS=$SIMPKI_STACK_DIR/eo-logs
mkdir -p "$LOGS"
export EO_TOTAL=$TOTAL EO_TOPIC=$TOPIC EO_PACE_MS=${EO_PACE_MS:-4}

run=0
start_producer() {
  run=$((run + 1))
  EO_RUN=$run "$PRODUCER" >>"$LOGS/producer.log" 2>&1 &
  PRODUCER_PID=$!
}
start_consumer() {
  # A killed member must leave the group fast for its successor to take over.
  SIMPKI_KAFKA_CONSUMER_CONFIG="session.timeout.ms=6000,heartbeat.interval.ms=500,max.poll.interval.ms=10000" \
    "$CONSUMER" >>"$LOGS/consumer.log" 2>&1 &
  CONSUMER_PID=$!
}
applied() { sp_psql "SELECT count(DISTINCT n) FROM eo_applied"; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Producer kills every 0.3-1.5 s while it runs; consumer kills every 1-4 s,
# and only once the current consumer has applied something, so every kill
# interrupts real work rather than a group join.
start_producer
start_consumer
producer_kills=0 consumer_kills=0 producer_done=0
next_producer_kill=$(( $(now_ms) + 300 + RANDOM % 1200 ))
next_consumer_kill=$(( $(now_ms) + 1000 + RANDOM % 3000 ))
consumer_base=0
t0=$SECONDS
while [ $producer_done = 0 ] || [ $consumer_kills -lt $MIN_KILLS ]; do
  [ $((SECONDS - t0)) -lt 900 ] || sp_fail "gave up after 900 s (producer_done=$producer_done)"
  sleep 0.1
  if [ $producer_done = 0 ] && ! kill -0 "$PRODUCER_PID" 2>/dev/null; then
    wait "$PRODUCER_PID" || sp_fail "producer exited with an error (see $LOGS/producer.log)"
    [ $producer_kills -ge $MIN_KILLS ] ||
      sp_fail "producer finished after only $producer_kills kills; raise EO_PACE_MS"
    producer_done=1
  fi
  now=$(now_ms)
  if [ $producer_done = 0 ] && [ "$now" -ge $next_producer_kill ]; then
    kill -KILL "$PRODUCER_PID" 2>/dev/null || true
    wait "$PRODUCER_PID" 2>/dev/null || true
    producer_kills=$((producer_kills + 1))
    start_producer
    next_producer_kill=$(( now + 300 + RANDOM % 1200 ))
    echo "producer killed ($producer_kills)" >&2
  fi
  if [ "$now" -ge $next_consumer_kill ]; then
    done_now=$(applied)
    if [ "$done_now" -gt "$consumer_base" ] || [ "$done_now" = "$TOTAL" ]; then
      kill -KILL "$CONSUMER_PID" 2>/dev/null || true
      wait "$CONSUMER_PID" 2>/dev/null || true
      consumer_kills=$((consumer_kills + 1))
      consumer_base=$done_now
      start_consumer
      echo "consumer killed ($consumer_kills) at $done_now/$TOTAL applied" >&2
    fi
    next_consumer_kill=$(( now + 1000 + RANDOM % 3000 ))
  fi
done

# Let the last consumer catch up, then stop it gracefully.
t1=$SECONDS
until [ "$(applied)" = "$TOTAL" ]; do
  [ $((SECONDS - t1)) -lt 300 ] || sp_fail "consumer stuck at $(applied)/$TOTAL"
  kill -0 "$CONSUMER_PID" 2>/dev/null || sp_fail "consumer died (see $LOGS/consumer.log)"
  sleep 0.5
done
kill -TERM "$CONSUMER_PID"
wait "$CONSUMER_PID" || sp_fail "consumer did not stop cleanly on SIGTERM"

expected_sum=$(sp_psql "SELECT sum(n % 97 + 1) FROM generate_series(0, $TOTAL - 1) n")
sp_assert_eq "$(sp_psql 'SELECT count(*) FROM eo_ledger')" "$TOTAL" "ledger rows"
sp_assert_eq "$(sp_psql 'SELECT count(*) FROM eo_applied')" "$TOTAL" "events applied (no double application)"
sp_assert_eq "$(sp_psql 'SELECT count(DISTINCT event_id) FROM eo_applied')" "$TOTAL" "distinct events applied"
sp_assert_eq "$(sp_psql 'SELECT sum(amount) FROM eo_applied')" "$expected_sum" "sum applied"
sp_assert_eq "$(sp_psql 'SELECT sum(total) FROM eo_account')" "$expected_sum" "sum per account"
sp_assert_eq "$(sp_psql 'SELECT count(*) FROM eo_violations')" "0" "per-subject order violations"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM outbox_pending")" "0" "unsent outbox rows"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM inbox WHERE consumer = 'eo-consumer'")" "$TOTAL" "inbox rows"

# What is on the topic: every event, valid against its schema, in chain order
# per subject once redelivered copies are set aside; nothing dead-lettered.
CTL=$(sp_bin simpkictl)
"$CTL" events dump --topic "$TOPIC" > "$LOGS/topic.jsonl"
/usr/bin/python3 "$SIMPKI_SOURCE_DIR/tests/integration/check_topic_order.py" "$LOGS/topic.jsonl" "$TOTAL"
/usr/bin/python3 "$SIMPKI_SOURCE_DIR/tests/lib/validate_events.py" "$LOGS/topic.jsonl"
"$CTL" events dump --topic "$TOPIC.dlq" > "$LOGS/dlq.jsonl" 2>/dev/null || true
sp_assert_eq "$(wc -l < "$LOGS/dlq.jsonl")" "0" "dead-lettered events"

echo "exactly-once: $TOTAL events, producer killed $producer_kills x ($run runs), consumer killed $consumer_kills x, $((SECONDS - t0)) s"
