#!/usr/bin/env bash
# test_audit_replay.sh - `simpkictl audit replay` on a real run's topics:
# deploy/local/run --once drives the whole pipeline, and this script, run
# again with --check through the run's --then (the stack still up), asserts
# that
#   - the replay of the real topics is CLEAN, with counts per step, and its
#     --format json parses;
#   - copies of the topics produced into new topics (keys kept) replay
#     CLEAN too, a redelivered event included;
#   - each tampered copy of the sims topic (an event deleted, a field
#     changed, two events of a SIM swapped, a sealed event forged onto the
#     wrong predecessor, a sale of a SIM never connected) exits 1 and names
#     the finding precisely: kind, topic, subject, event;
#   - a partition whose first messages are gone is named;
#   - an event that fails its type's JSON Schema is "invalid" with the
#     validator's reason, an event of a type with no schema "unknown type";
#   - --against-db on the run's database is clean, and rows changed by hand
#     (a delivered SIM set back to in_stock, a closed case reopened) are
#     each a drift naming the table, the row and both states;
#   - a filter reports only its selection; usage errors exit 2 and an
#     unreachable broker 3.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"

TOPICS="orders vendors batches registrations sims connections notifications accounts"

# Produces a dump (one event per line) into TOPIC, keyed by partitionkey.
produce() {
	"$SP_PY" -c 'import json, sys
for l in open(sys.argv[1]):
    l = l.rstrip("\n")
    if l.strip():
        print(json.loads(l)["partitionkey"] + "\t" + l)' "$2" |
		kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t "$1" -K $'\t'
}

# replay NAME SIMS_TOPIC [ARGS...]: the clean copies of the other topics
# and SIMS_TOPIC; output in $W/NAME.out, exit status in $rc.
replay() {
	local name=$1 sims=$2 t args=()
	shift 2
	for t in $TOPICS; do
		if [ "$t" = sims ]; then args+=(--topic "$sims"); else args+=(--topic "$T.c.$t"); fi
	done
	rc=0
	"$CTL" audit replay "${args[@]}" "$@" >"$W/$name.out" 2>"$W/$name.err" || rc=$?
}

# one_finding NAME REGEX: exactly one finding line, matching REGEX.
one_finding() {
	local n
	n=$(grep -c '^  [a-z]*[ :]' <(sed -n '/^findings:/,$p' "$W/$1.out") || true)
	sp_assert_eq "$n" 1 "$1: findings ($(sed -n '/^findings:/,$p' "$W/$1.out"))"
	grep -Eq "$2" "$W/$1.out" || sp_fail "$1: no finding matching $2: $(sed -n '/^findings:/,$p' "$W/$1.out")"
}

check() {
	W=$1/check
	mkdir -p "$W/ev"
	CTL=$(sp_bin simpkictl)
	FORGE=$(sp_bin event_forge)
	# The tampered copies go to new topics T.N.sims, the clean ones to T.c.*.
	T=audit$$
	# SIMs of the pilot (5) and of the production batch.
	local q=$((${SIMPKI_RUN_QUANTITY:-1000} + 5))

	sp_step "audit replay of the run's topics: CLEAN"
	rc=0
	"$CTL" audit replay >"$W/clean.out" 2>"$W/clean.err" || rc=$?
	sp_assert_eq "$rc" 0 "audit replay of a clean run ($(cat "$W/clean.out" "$W/clean.err"))"
	grep -q '^verdict: CLEAN$' "$W/clean.out" || sp_fail "no CLEAN verdict: $(cat "$W/clean.out")"
	grep -Eq '^  sims +[1-9][0-9]* messages' "$W/clean.out" || sp_fail "events read per topic"
	grep -Eq '^  [1-9][0-9]* subjects, each chain checked whole' "$W/clean.out" || sp_fail "subjects"
	grep -Eq '^  order ORD-[0-9]{4}-[0-9]{6} \(BCYCP ' "$W/clean.out" || sp_fail "no order in the counts"
	for s in 'B1 +order' 'B3 +input file' "B6 +HLR report +2 events +$q SIMs" 'B7 +handover' 'B9 +connection' 'B10 ' 'B11 '; do
		grep -Eq "^    $s" "$W/clean.out" || sp_fail "no count for step $s: $(cat "$W/clean.out")"
	done
	grep -Eq '^  sold-after-connected +[1-9][0-9]* checked, 0 violated' "$W/clean.out" || sp_fail "rules: $(cat "$W/clean.out")"
	grep -Eq '^  connected-after-provisioned +[1-9][0-9]* checked, 0 violated$' "$W/clean.out" || sp_fail "rules: $(cat "$W/clean.out")"
	SIMPKI_LOG_LEVEL=debug "$CTL" audit replay --format json >"$W/clean.json" 2>"$W/clean.log"
	"$SP_PY" - "$W/clean.json" "$q" "$W/clean.log" <<'PYEOF' || sp_fail "audit replay --format json: $(head -c 2000 "$W/clean.json") $(grep paths "$W/clean.log")"
import json, sys
d = json.load(open(sys.argv[1]))
# Where the events went (the debug log): the services' own events mostly
# the flat way.
paths = [json.loads(l) for l in open(sys.argv[3]) if '"audit replay paths"' in l]
assert len(paths) == 1, paths
p = {k: int(paths[0][k]) for k in ("flat", "tree", "jansson")}
assert p["flat"] + p["tree"] + p["jansson"] == d["events"], p
assert p["flat"] * 2 > d["events"], p
assert d["verdict"] == "CLEAN" and d["findings"] == [], d["findings"]
assert {t["topic"] for t in d["topics"]} == set("orders vendors batches registrations sims connections notifications accounts".split())
assert d["events"] > 0 and d["subjects"] > 0 and d["redelivered"] == 0
o = [o for o in d["orders"] if o.get("order")]
assert o and o[0]["bcycp_ref"], d["orders"]
steps = {s["step"]: s for s in o[0]["steps"]}
assert steps["B6"]["sims"] == int(sys.argv[2]) and steps["B10"]["events"] == 2, steps
assert all(r["violations"] == 0 for r in d["rules"]) and any(r["checked"] for r in d["rules"])
PYEOF

	sp_step "a replay of the sims topic alone names the connections it could not judge"
	rc=0
	"$CTL" audit replay --topic sims >"$W/sims.out" 2>"$W/sims.err" || rc=$?
	[ "$rc" -le 1 ] || sp_fail "audit replay --topic sims: exit $rc: $(cat "$W/sims.err")"
	grep -Eq '^  connected-after-provisioned +0 checked, 0 violated, [1-9][0-9]* not judged \(no batch\.output_accepted read\)$' "$W/sims.out" ||
		sp_fail "rules of a replay of sims alone: $(cat "$W/sims.out")"
	"$CTL" audit replay --topic sims --format json >"$W/sims.json" 2>/dev/null || true
	"$SP_PY" - "$W/sims.json" <<'PYEOF' || sp_fail "audit replay --topic sims --format json: $(head -c 2000 "$W/sims.json")"
import json, sys
r = {r["rule"]: r for r in json.load(open(sys.argv[1]))["rules"]}
c = r["connected-after-provisioned"]
assert c["checked"] == 0 and c["not_judged"] > 0 and c["not_judged_why"] == "no batch.output_accepted read", c
assert r["sold-after-connected"]["not_judged"] == 0, r
PYEOF

	sp_step "usage and an unreachable broker"
	"$CTL" audit replay --help | grep -- '--order ID|REF' >/dev/null || sp_fail "audit replay --help"
	"$CTL" --help | grep -q '^  audit ' || sp_fail "simpkictl --help does not list audit"
	for bad in "--format xml" "--sim B001" "--from yesterday" "--from 2026-12-01 --to 2026-11-01" "--bogus" "extra" \
		"--workers 0" "--workers x" "--progress-ms -1" "--progress-ms 1s" "--progress-ms 3600001" \
		"--timeout-ms 99999999999999999999"; do
		rc=0
		# shellcheck disable=SC2086
		"$CTL" audit replay $bad >"$W/bad.out" 2>"$W/bad.err" || rc=$?
		sp_assert_eq "$rc" 2 "audit replay $bad"
		[ ! -s "$W/bad.out" ] || sp_fail "audit replay $bad wrote: $(cat "$W/bad.out")"
		[ -s "$W/bad.err" ] || sp_fail "audit replay $bad: no reason given"
	done
	grep -q -- '--timeout-ms must be a number of milliseconds between 1 and 86400000, not "99999999999999999999"' "$W/bad.err" ||
		sp_fail "--timeout-ms out of range: $(cat "$W/bad.err")"
	rc=0
	"$CTL" audit replay --bootstrap 127.0.0.1:9 --timeout-ms 2000 >/dev/null 2>"$W/unreach.err" || rc=$?
	sp_assert_eq "$rc" 3 "audit replay against no broker"
	# The consumer is made while the schemas load: a folder without them is
	# still a usage error, named, whatever the broker; a consumer that
	# cannot be made (a setting librdkafka refuses) is exit 3, named.
	for boot in "$SIMPKI_KAFKA_BOOTSTRAP" 127.0.0.1:9; do
		rc=0
		SIMPKI_SCHEMA_DIR="$W/no-schemas" "$CTL" audit replay --bootstrap "$boot" --timeout-ms 2000 \
			>"$W/noschema.out" 2>"$W/noschema.err" || rc=$?
		sp_assert_eq "$rc" 2 "audit replay without schemas (broker $boot)"
		[ ! -s "$W/noschema.out" ] || sp_fail "audit replay without schemas wrote: $(cat "$W/noschema.out")"
		grep -q "cannot load the event schemas from $W/no-schemas/events" "$W/noschema.err" ||
			sp_fail "audit replay without schemas: $(cat "$W/noschema.err")"
	done
	rc=0
	SIMPKI_KAFKA_CONFIG=no.such.setting=1 "$CTL" audit replay >"$W/badconf.out" 2>"$W/badconf.err" || rc=$?
	sp_assert_eq "$rc" 3 "audit replay with a setting librdkafka refuses"
	[ ! -s "$W/badconf.out" ] || sp_fail "audit replay with a bad setting wrote: $(cat "$W/badconf.out")"
	grep -q "no.such.setting" "$W/badconf.err" || sp_fail "audit replay with a bad setting: $(cat "$W/badconf.err")"
	rc=0
	SIMPKI_KAFKA_CONFIG=no.such.setting=1 SIMPKI_SCHEMA_DIR="$W/no-schemas" "$CTL" audit replay \
		>/dev/null 2>"$W/both.err" || rc=$?
	sp_assert_eq "$rc" 2 "audit replay without schemas and with a bad setting"

	sp_step "the progress of a replay, asked for at every event"
	rc=0
	"$CTL" audit replay --progress-ms 0 >"$W/progress.out" 2>"$W/progress.err" || rc=$?
	sp_assert_eq "$rc" 0 "audit replay --progress-ms 0 ($(cat "$W/progress.err"))"
	local total
	total=$(awk '$2 == "messages:" {print $1}' "$W/progress.out")
	[ -n "$total" ] || sp_fail "no total of messages: $(cat "$W/progress.out")"
	grep -Eq '^simpkictl audit replay: replayed [1-9][0-9]* events, about [0-9]+% of the topics' "$W/progress.err" ||
		sp_fail "no progress line: $(cat "$W/progress.err")"
	grep -Eq "^simpkictl audit replay: replayed $total events in [0-9.]+ s, [0-9]+/s\$" "$W/progress.err" ||
		sp_fail "no last line with the $total messages: $(cat "$W/progress.err")"
	for s in "checking each subject's hash chain" "checking the workflow's rules, counting the steps"; do
		grep -qx "simpkictl audit replay: $s" "$W/progress.err" || sp_fail "no line for: $s: $(cat "$W/progress.err")"
	done
	grep -q '^verdict: CLEAN$' "$W/progress.out" || sp_fail "verdict with progress: $(head -3 "$W/progress.out")"

	sp_step "the benchmark's stages build stops where told and reads every message"
	STAGES=$(sp_bin simpkictl_stages)
	local nsims
	nsims=$(awk '$1 == "sims" && $3 == "messages," {print $2}' "$W/clean.out")
	[ -n "$nsims" ] || sp_fail "no count of the sims topic: $(cat "$W/clean.out")"
	for st in read hash schema kept; do
		local kept=0
		[ "$st" = kept ] && kept=$nsims
		out=$(SIMPKI_AUDIT_STAGE=$st "$STAGES" audit replay --topic sims 2>"$W/stage.err") ||
			sp_fail "stage $st: $(cat "$W/stage.err")"
		sp_assert_eq "$out" "stage: $nsims messages read, $kept events kept" "stage $st"
	done
	rc=0
	SIMPKI_AUDIT_STAGE=bogus "$STAGES" audit replay --topic sims >"$W/stage.out" 2>"$W/stage.err" || rc=$?
	sp_assert_eq "$rc" 2 "stages build with SIMPKI_AUDIT_STAGE=bogus"
	grep -q 'SIMPKI_AUDIT_STAGE must be all, read, hash, schema or kept, not bogus' "$W/stage.err" ||
		sp_fail "stage bogus: $(cat "$W/stage.err")"
	[ ! -s "$W/stage.out" ] || sp_fail "stage bogus wrote: $(cat "$W/stage.out")"

	sp_step "copies of the topics, keys kept: CLEAN, a redelivery included"
	for t in $TOPICS; do
		"$CTL" events dump --topic "$t" >"$W/ev/$t.jsonl" 2>"$W/dump.err" || sp_fail "events dump $t: $(cat "$W/dump.err")"
		produce "$T.c.$t" "$W/ev/$t.jsonl"
	done
	# The tampered copies of sims, and the ids the findings must name.
	"$SP_PY" - "$W/ev/sims.jsonl" "$W" "$FORGE" >"$W/ids" <<'PYEOF' || sp_fail "preparing the tampered copies"
import json, subprocess, sys
src, w, forge = sys.argv[1:4]
lines = [l.rstrip("\n") for l in open(src) if l.strip()]
evs = [json.loads(l) for l in lines]
by = {}
for i, e in enumerate(evs):
    by.setdefault(e["subject"], []).append(i)
# A SIM connected, sold and delivered, in that order.
subj = next(s for s, ix in by.items() if [evs[i]["type"] for i in ix][:3] == ["sim.connected", "sim.sold", "sim.delivered"])
c, s, d = by[subj][:3]
def write(name, ls):
    with open("%s/%s.jsonl" % (w, name), "w") as f:
        f.write("".join(l + "\n" for l in ls))
write("deleted", [l for i, l in enumerate(lines) if i != s])
changed = list(lines)
e = json.loads(lines[c]); e["data"]["msisdn"] = "84999999999"
changed[c] = json.dumps(e, separators=(",", ":"), ensure_ascii=False)
write("changed", changed)
swapped = list(lines); swapped[s], swapped[d] = lines[d], lines[s]
write("swapped", swapped)
iccid = evs[c]["data"]["iccid"]
forged = subprocess.run([forge, "--type", "sim.returned", "--subject", subj, "--prev", evs[c]["hash"],
                         "--data", json.dumps({"iccid": iccid, "from": "connected", "reason": "audit test", "by": "auditor"})],
                        check=True, capture_output=True, text=True).stdout.strip()
write("forged", lines + [forged])
# A sale of a SIM never connected, well sealed on a subject of its own.
never = "8984017799999999990"
sold = subprocess.run([forge, "--type", "sim.sold", "--subject", "sim/" + never, "--data", json.dumps(
    {"iccid": never, "ctkv": "CTKV1", "shop": "HNI-001", "invoice_series": "AA", "invoice_number": 1, "total": 0,
     "msisdn": "84900000000"})], check=True, capture_output=True, text=True).stdout.strip()
write("unsold", lines + [sold])
write("redelivered", lines[: s + 1] + [lines[s]] + lines[s + 1 :])
other = next(e["data"]["iccid"] for e in evs if e["type"] == "sim.connected" and e["subject"] != subj)
# The SIM's batch (its ICCID in the output file's range), another batch, the order's BCYCP reference.
bevs = [json.loads(l) for l in open(src.replace("sims.jsonl", "batches.jsonl")) if l.strip()]
key = lambda i: (len(i), i)
outs = [e["data"] for e in bevs if e["type"] == "batch.output_accepted"]
mine = next(o["batch_id"] for o in outs if key(o["iccid_first"]) <= key(iccid) <= key(o["iccid_last"]))
notmine = next(o["batch_id"] for o in outs if o["batch_id"] != mine)
ref = next(e["data"]["bcycp_ref"] for e in bevs if e["type"] == "batch.released")
print("SUBJ=%s\nICCID=%s\nOTHER=%s\nC_ID=%s\nS_ID=%s\nD_ID=%s\nF_ID=%s\nN_ID=%s\nNEVER=%s" % (
    subj, iccid, other, evs[c]["id"], evs[s]["id"], evs[d]["id"], json.loads(forged)["id"], json.loads(sold)["id"], never))
print("BATCH=%s\nNOT_BATCH=%s\nREF=%s" % (mine, notmine, ref))
# A copy of a subject's first event, resealed with a field of the wrong
# type, and an event of a type with no schema.
first = next(e for e in evs if e["type"] == "sims.handed_over" and e["prevhash"] == "0" * 64)
data = dict(first["data"])
key = next(k for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool))
data[key] = str(data[key])
bad = subprocess.run([forge, "--type", first["type"], "--subject", first["subject"], "--data", json.dumps(data)],
                     check=True, capture_output=True, text=True).stdout.strip()
odd = subprocess.run([forge, "--type", "sim.teleported", "--subject", "sim/8984017799999999982", "--data", "{}"],
                     check=True, capture_output=True, text=True).stdout.strip()
write("invalid", [bad, odd])
print("BAD_ID=%s\nBAD_SUBJ=%s\nBAD_KEY=%s\nODD_ID=%s" % (json.loads(bad)["id"], first["subject"], key, json.loads(odd)["id"]))
PYEOF
	# shellcheck disable=SC1091
	source "$W/ids"
	produce "$T.0.sims" "$W/redelivered.jsonl"
	replay copies "$T.c.sims"
	sp_assert_eq "$rc" 0 "replay of the copies ($(cat "$W/copies.out" "$W/copies.err"))"
	# The reader alone, without worker threads: the same report.
	replay copies-alone "$T.c.sims" --workers 1
	sp_assert_eq "$rc" 0 "replay of the copies with --workers 1"
	diff "$W/copies.out" "$W/copies-alone.out" >&2 || sp_fail "--workers 1 reports otherwise"
	replay redelivered "$T.0.sims"
	sp_assert_eq "$rc" 0 "a redelivered event is no finding ($(cat "$W/redelivered.out"))"
	grep -q ' 1 redelivered copies' "$W/redelivered.out" || sp_fail "the redelivery is not counted: $(cat "$W/redelivered.out")"

	sp_step "an event deleted"
	produce "$T.1.sims" "$W/deleted.jsonl"
	replay deleted "$T.1.sims"
	sp_assert_eq "$rc" 1 "replay with an event deleted"
	grep -q '^verdict: FINDINGS (1 finding)$' "$W/deleted.out" || sp_fail "verdict: $(head -1 "$W/deleted.out")"
	one_finding deleted "^  removed: $T\.1\.sims\[[0-9]+\]@[0-9]+ $SUBJ event $D_ID \(sim\.delivered\): the event after $C_ID \(sim\.connected\) is missing"
	# The finding is the selection's only for the SIM it concerns.
	replay deleted-other "$T.1.sims" --sim "$OTHER"
	sp_assert_eq "$rc" 0 "another SIM's selection ($(cat "$W/deleted-other.out"))"
	replay deleted-sim "$T.1.sims" --sim "$ICCID" --format json
	sp_assert_eq "$rc" 1 "the SIM's selection"
	"$SP_PY" - "$W/deleted-sim.out" "$D_ID" "$T.1.sims" <<'PYEOF' || sp_fail "json findings: $(cat "$W/deleted-sim.out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "FINDINGS" and d["selection"]["sim"], d
[f] = d["findings"]
assert f["kind"] == "removed" and f["topic"] == sys.argv[3] and f["id"] == sys.argv[2], f
assert f["type"] == "sim.delivered" and isinstance(f["partition"], int) and isinstance(f["offset"], int), f
PYEOF

	replay deleted-batch "$T.1.sims" --batch "$BATCH"
	sp_assert_eq "$rc" 1 "the SIM's batch's selection"
	grep -Eq "^selection: --batch $BATCH: [1-9][0-9]* events" "$W/deleted-batch.out" || sp_fail "selection: $(cat "$W/deleted-batch.out")"
	replay deleted-not-batch "$T.1.sims" --batch "$NOT_BATCH"
	sp_assert_eq "$rc" 0 "another batch's selection ($(cat "$W/deleted-not-batch.out"))"
	replay deleted-ref "$T.1.sims" --order "$REF"
	sp_assert_eq "$rc" 1 "the order's selection by its BCYCP reference"
	one_finding deleted-ref "^  removed: $T\.1\.sims.* event $D_ID "
	replay deleted-later "$T.1.sims" --from 2099-01-01
	sp_assert_eq "$rc" 0 "a selection of no event"
	grep -q "^selection: --from 2099-01-01: 0 events, 0 subjects" "$W/deleted-later.out" || sp_fail "empty selection: $(cat "$W/deleted-later.out")"

	sp_step "a field changed, the hash not recomputed"
	produce "$T.2.sims" "$W/changed.jsonl"
	replay changed "$T.2.sims"
	sp_assert_eq "$rc" 1 "replay with a field changed"
	one_finding changed "^  altered: $T\.2\.sims\[[0-9]+\]@[0-9]+ $SUBJ event $C_ID \(sim\.connected\): hash does not match its content"

	sp_step "two events of one SIM swapped"
	produce "$T.3.sims" "$W/swapped.jsonl"
	replay swapped "$T.3.sims"
	sp_assert_eq "$rc" 1 "replay with two events swapped"
	one_finding swapped "^  reordered: $T\.3\.sims\[[0-9]+\]@[0-9]+ $SUBJ event $D_ID \(sim\.delivered\): comes before its predecessor: event $S_ID \(sim\.sold\)"

	sp_step "a sealed event forged onto the wrong predecessor"
	produce "$T.4.sims" "$W/forged.jsonl"
	replay forged "$T.4.sims"
	sp_assert_eq "$rc" 1 "replay with a forged event"
	one_finding forged "^  forged: $T\.4\.sims\[[0-9]+\]@[0-9]+ $SUBJ event $F_ID \(sim\.returned\): links onto a predecessor that already has a successor: event $S_ID \(sim\.sold\) follows $C_ID"

	sp_step "a sale of a SIM never connected"
	produce "$T.5.sims" "$W/unsold.jsonl"
	replay unsold "$T.5.sims"
	sp_assert_eq "$rc" 1 "replay with a sale of a SIM never connected"
	one_finding unsold "^  invariant sold-after-connected: $T\.5\.sims\[[0-9]+\]@[0-9]+ sim/$NEVER event $N_ID \(sim\.sold\): SIM $NEVER sold, but never connected"
	sp_step "an event that fails its schema, an event of no known type"
	produce "$T.6.sims" "$W/invalid.jsonl"
	rc=0
	"$CTL" audit replay --topic "$T.6.sims" >"$W/invalid.out" 2>"$W/invalid.err" || rc=$?
	sp_assert_eq "$rc" 1 "replay of an invalid event ($(cat "$W/invalid.out" "$W/invalid.err"))"
	grep -q '^verdict: FINDINGS (2 findings)$' "$W/invalid.out" || sp_fail "verdict: $(cat "$W/invalid.out")"
	grep -Eq "^  invalid: $T\.6\.sims\[[0-9]+\]@[0-9]+ $BAD_SUBJ event $BAD_ID \(sims\.handed_over\): /data/$BAD_KEY: \"[0-9]+\" is not of type integer" "$W/invalid.out" ||
		sp_fail "no invalid finding with the reason: $(sed -n '/^findings:/,$p' "$W/invalid.out")"
	grep -Eq "^  unknown type: $T\.6\.sims\[[0-9]+\]@[0-9]+ sim/8984017799999999982 event $ODD_ID \(sim\.teleported\): no JSON Schema" "$W/invalid.out" ||
		sp_fail "no unknown type finding: $(sed -n '/^findings:/,$p' "$W/invalid.out")"
	"$CTL" audit replay --topic "$T.6.sims" --format json >"$W/invalid.json" || true
	"$SP_PY" - "$W/invalid.json" "$BAD_ID" "$BAD_KEY" <<'PYEOF' || sp_fail "json invalid findings: $(cat "$W/invalid.json")"
import json, sys
d = json.load(open(sys.argv[1]))
k = {f["kind"]: f for f in d["findings"]}
assert set(k) == {"invalid", "unknown type"}, k
assert k["invalid"]["id"] == sys.argv[2] and k["invalid"]["what"].startswith("/data/" + sys.argv[3] + ": "), k
PYEOF

	sp_step "against the database: clean, then two rows changed by hand"
	rc=0
	"$CTL" audit replay --against-db >"$W/db.out" 2>"$W/db.err" || rc=$?
	sp_assert_eq "$rc" 0 "audit replay --against-db of a clean run ($(sed -n '/^against/,/^$/p;/^findings:/,$p' "$W/db.out") $(cat "$W/db.err"))"
	grep -Eq "^  sims +$q from the events, +$q rows, 0 drift" "$W/db.out" || sp_fail "sims against the database: $(cat "$W/db.out")"
	grep -Eq '^  connection_cases +[1-9][0-9]* from the events, +[1-9][0-9]* rows, 0 drift' "$W/db.out" || sp_fail "cases against the database: $(cat "$W/db.out")"
	grep -Eq '^  orders +[1-9][0-9]* from the events, +[1-9][0-9]* rows, 0 drift' "$W/db.out" || sp_fail "orders against the database"
	grep -Eq '^  batches +[1-9][0-9]* from the events, +[1-9][0-9]* rows, 0 drift' "$W/db.out" || sp_fail "batches against the database"
	sql() { psql -X -A -t -q -v ON_ERROR_STOP=1 "$SIMPKI_DB_URL" -c "$1"; }
	sp_assert_eq "$(sql "SELECT state FROM sims WHERE iccid = '$ICCID'")" delivered "the SIM $ICCID in the database"
	local case_id
	case_id=$(sql "SELECT case_id FROM connection_cases c WHERE state = 'connected' AND NOT EXISTS (
		SELECT 1 FROM connection_cases o WHERE o.id_number = c.id_number AND o.state = 'open') ORDER BY case_id LIMIT 1")
	[ -n "$case_id" ] || sp_fail "no closed connection case"
	sql "UPDATE sims SET state = 'in_stock' WHERE iccid = '$ICCID'; UPDATE connection_cases SET state = 'open' WHERE case_id = '$case_id'"
	rc=0
	"$CTL" audit replay --against-db >"$W/drift.out" 2>"$W/drift.err" || rc=$?
	sql "UPDATE sims SET state = 'delivered' WHERE iccid = '$ICCID'; UPDATE connection_cases SET state = 'connected' WHERE case_id = '$case_id'"
	sp_assert_eq "$rc" 1 "audit replay --against-db with rows changed by hand ($(cat "$W/drift.out" "$W/drift.err"))"
	grep -q '^verdict: FINDINGS (2 findings)$' "$W/drift.out" || sp_fail "verdict: $(sed -n '1p;/^findings:/,$p' "$W/drift.out")"
	grep -Fxq "  drift: table sims row $ICCID: state in the database 'in_stock', from the events 'delivered'" "$W/drift.out" ||
		sp_fail "the SIM's drift: $(sed -n '/^findings:/,$p' "$W/drift.out")"
	grep -Fxq "  drift: table connection_cases row $case_id: state in the database 'open', from the events 'connected'" "$W/drift.out" ||
		sp_fail "the case's drift: $(sed -n '/^findings:/,$p' "$W/drift.out")"
	rc=0
	SIMPKI_DB_URL='' "$CTL" audit replay --against-db >/dev/null 2>&1 || rc=$?
	sp_assert_eq "$rc" 2 "--against-db without SIMPKI_DB_URL"

	sp_step "a partition that lost its first messages"
	# The dev broker keeps about 5 MB per partition, dropping the oldest.
	"$SP_PY" -c 'print(("x" * 1000 + "\n") * 8000, end="")' |
		kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t "$T.r" -p 0
	rc=0
	"$CTL" audit replay --topic "$T.r" >"$W/retention.out" 2>"$W/retention.err" || rc=$?
	sp_assert_eq "$rc" 1 "replay of a partition that lost its start"
	grep -Eq "^  removed: $T\.r\[0\]@[1-9][0-9]*: the partition starts at offset [1-9][0-9]* \(ends at 8000\): its first [0-9]+ message\(s\) are gone" "$W/retention.out" ||
		sp_fail "the lost start is not named: $(grep -v 'not an event' "$W/retention.out")"
	grep -Eq "^  $T\.r +[0-9]+ messages, +0 events" "$W/retention.out" || sp_fail "messages of $T.r: $(head -5 "$W/retention.out")"
	echo "ok - audit replay checked" >&2
}

if [ "${1:-}" = --check ]; then
	check "$2"
	exit 0
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/simpki-audit.XXXXXX")
chmod 755 "$W"
RUN=$W/run
sp_on_exit "'$SIMPKI_SOURCE_DIR/deploy/local/stack' down '$RUN' >/dev/null 2>&1; rm -rf '$W'"
_sp_harness_traps
_sp_watchdog "$RUN"
export SIMPKI_RUN_WAIT_S=90

sp_step "deploy/local/run --once, then the audit checks"
rc=0
"$SIMPKI_SOURCE_DIR/deploy/local/run" --once --no-install --no-build --dir "$RUN" \
	--build-dir "$SIMPKI_BUILD_DIR" --then "bash '$SIMPKI_SOURCE_DIR/tests/integration/test_audit_replay.sh' --check '$W'" \
	>"$W/run.out" 2>"$W/run.err" || rc=$?
if [ "$rc" -ne 0 ]; then
	tail -40 "$W/run.err" >&2
	sp_fail "deploy/local/run --once --then the audit checks exited $rc"
fi
grep -q "ok - audit replay checked" "$W/run.err" || sp_fail "the checks did not run to their end"
echo "ok - audit replay" >&2
