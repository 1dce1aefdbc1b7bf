#!/usr/bin/env bash
# test_outbox.sh - common/outbox.c and common/inbox.c against a real
# PostgreSQL and the dev broker (the Check program progs/outbox_check.c),
# then what the relay put on the topic, read back from the broker.
set -euo pipefail
. "${SIMPKI_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

check=$(sp_bin outbox_check) || sp_fail "outbox_check is not built"
sp_stack_up --without hlr
"$check" || sp_fail "outbox_check failed"

# The relay test published 9 events on oc.relay: all there, each once,
# linked per subject, valid against their schema.
dump=$SIMPKI_STACK_DIR/oc.relay.jsonl
"$(sp_bin simpkictl)" events dump --topic oc.relay > "$dump"
sp_assert_eq "$(wc -l < "$dump")" "9" "events on oc.relay"
/usr/bin/python3 - "$dump" <<'PY'
import json, sys
last = {}
for line in open(sys.argv[1]):
    ev = json.loads(line)
    want = last.get(ev["subject"], "0" * 64)
    assert ev["prevhash"] == want, f"{ev['subject']}: {ev['prevhash'][:12]} does not follow {want[:12]}"
    last[ev["subject"]] = ev["hash"]
print("chains link:", {k: v[:12] for k, v in last.items()})
PY
/usr/bin/python3 "$SIMPKI_SOURCE_DIR/tests/lib/validate_events.py" "$dump"
