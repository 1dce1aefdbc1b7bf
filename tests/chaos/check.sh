#!/usr/bin/env bash
# check.sh - the end state after a chaos run (tests/chaos/run), with every
# part back and the pipeline drained: exactly once counted from the outside
# (exactly_once.py: events, notifications, e-mails, SMS, OsmoHLR's own
# table, the HLR loads), then everything the end-to-end test checks
# (tests/integration/end_to_end_check.sh: each SIM's state, the HLR's auth
# data read back against the vendor's keys, files, mails and SMS per
# recipient, invoices, reconciliation against the SIM rows, every event's
# schema, and `simpkictl audit replay --against-db` CLEAN).
# Needs the stack's variables, SIMPKI_RUN_DIR, SIMPKI_RUN_REVEAL_KEYS,
# SIMPKI_RUN_QUANTITY, SIMPKI_SOURCE_DIR, SIMPKI_BUILD_DIR, and CH_FIGURES
# (key=value lines are appended there).
set -uo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"
W=$SIMPKI_RUN_DIR/check-chaos
mkdir -p "$W/events"
CTL=$(sp_bin simpkictl) || exit 1
rc=0

sp_step "exactly once: events, notifications, e-mails, SMS, the HLR"
for t in orders vendors batches registrations sims connections notifications accounts \
	sigverify.requests sigverify.results; do
	"$CTL" events dump --topic "$t" >"$W/events/$t.jsonl" 2>"$W/dump.err" ||
		sp_fail "events dump $t: $(cat "$W/dump.err")"
done
"$SP_PY" "$SIMPKI_SOURCE_DIR/deploy/local/lib/fakesmsc_decode.py" --json "$SIMPKI_KANNEL_SMSC_LOG" >"$W/sms.jsonl" ||
	sp_fail "cannot read the fake SMSC's log"
"$SP_PY" "$SIMPKI_SOURCE_DIR/tests/chaos/exactly_once.py" "$W/events" "$SIMPKI_SMTP_MAILDIR" "$W/sms.jsonl" \
	"$SIMPKI_HLR_DB" "$SIMPKI_DB_URL" "$CH_FIGURES" || rc=1

sp_step "the dead-letter topics are empty"
dlq=0
for t in orders vendors batches registrations sims connections notifications accounts; do
	n=$("$CTL" events dump --topic "$t.dlq" --timeout-ms 3000 2>/dev/null | wc -l)
	[ "$n" -eq 0 ] || { echo "FAIL: $n dead letters on $t.dlq" >&2; dlq=$((dlq + n)); rc=1; }
done
echo "dead_letters=$dlq" >>"$CH_FIGURES"

sp_step "the audit's figures"
if "$CTL" audit replay --against-db --format json >"$W/audit.json" 2>"$W/audit.err"; then
	"$SP_PY" - "$W/audit.json" >>"$CH_FIGURES" <<'PY' || true
import json, sys
a = json.load(open(sys.argv[1]))
def find(o, key):
    if isinstance(o, dict):
        if key in o and not isinstance(o[key], (dict, list)):
            return o[key]
        for v in o.values():
            r = find(v, key)
            if r is not None:
                return r
    return None
for k in ("verdict", "events", "copies", "messages"):
    v = find(a, k)
    if v is not None:
        print("audit_%s=%s" % (k, v))
PY
else
	echo "FAIL: audit replay: $(tail -5 "$W/audit.err")" >&2
	rc=1
fi

sp_step "everything the end-to-end test checks"
bash "$SIMPKI_SOURCE_DIR/tests/integration/end_to_end_check.sh" || rc=1
exit $rc
