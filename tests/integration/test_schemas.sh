#!/usr/bin/env bash
# test_schemas.sh - the event JSON Schemas and tests/lib/validate_events.py.
#
# Needs no stack: the schema files must be valid and consistent, the good
# example events must pass, and every bad example must be rejected with a
# message naming its defect (tests/fixtures/events/bad/NAME.expect).
set -u

SRC=${SIMPKI_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=/usr/bin/python3
VALIDATE="$SRC/tests/lib/validate_events.py"
SCHEMAS="$SRC/schemas/events"
FIX="$SRC/tests/fixtures/events"

TMP=$(mktemp -d /tmp/simpki-test-schemas.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

failures=0
ok() { echo "ok   - $*"; }
not_ok() { echo "FAIL - $*"; failures=$((failures + 1)); }

# run NAME EXPECTED_RC ARGS...: run the validator, keep its output in $OUT.
run() {
  local name=$1 want=$2
  shift 2
  OUT=$("$PY" "$VALIDATE" "$@" 2>&1)
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    not_ok "$name: exit status $rc, expected $want"
    printf '%s\n' "$OUT" | sed 's/^/       | /' | head -20
    return 1
  fi
  return 0
}

# has NAME REGEX: $OUT must contain a line matching REGEX.
has() {
  if printf '%s\n' "$OUT" | grep -Eq -- "$2"; then
    ok "$1"
  else
    not_ok "$1: output lacks /$2/"
    printf '%s\n' "$OUT" | sed 's/^/       | /' | head -20
  fi
}

# --- the schemas themselves -------------------------------------------------
if run "check-schemas" 0 --check-schemas; then
  has "check-schemas finds no problem" '^schemas: [0-9]+ files, [0-9]+ event types, 0 problems$'
fi
ntypes=$(find "$SCHEMAS" -name '*.json' ! -path "$SCHEMAS/envelope.json" | wc -l)
[ "$ntypes" -ge 2 ] && ok "$ntypes type schemas" || not_ok "only $ntypes type schemas"
for t in test.eo.credited test.bench.tick; do
  [ -f "$SCHEMAS/test/$t.json" ] && ok "schema for $t" || not_ok "no schemas/events/test/$t.json"
done

# --- the fixtures are what the generator writes (hashes included) ------------
"$PY" "$FIX/make_fixtures.py" "$TMP/gen" >/dev/null 2>&1 || not_ok "make_fixtures.py failed"
if diff -r -x make_fixtures.py -x __pycache__ "$FIX" "$TMP/gen" >"$TMP/diff" 2>&1; then
  ok "fixtures match make_fixtures.py"
else
  not_ok "fixtures differ from make_fixtures.py output (rerun it)"
  head -20 "$TMP/diff"
fi

# The good events carry a real hash chain: recompute it.
if "$PY" - "$FIX/good.jsonl" <<'EOF'; then
import hashlib, json, sys
heads = {}
for n, line in enumerate(open(sys.argv[1]), 1):
    ev = json.loads(line)
    body = {k: v for k, v in ev.items() if k != "hash"}
    h = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"),
                                  ensure_ascii=False).encode()).hexdigest()
    want_prev = heads.get(ev["subject"], "0" * 64)
    if ev["hash"] != h or ev["prevhash"] != want_prev:
        sys.exit("good.jsonl:%d: hash chain broken" % n)
    heads[ev["subject"]] = h
EOF
  ok "good.jsonl hash chains recompute"
else
  not_ok "good.jsonl hash chains do not recompute"
fi

# --- good events pass -------------------------------------------------------
ngood=$(grep -c . "$FIX/good.jsonl")
if run "good.jsonl" 0 "$FIX/good.jsonl"; then
  has "good.jsonl: all $ngood valid" "^events: $ngood checked, $ngood valid, 0 invalid$"
  has "summary counts test.eo.credited" '^  test\.eo\.credited +5  \(5 valid\)$'
  has "summary counts test.bench.tick" '^  test\.bench\.tick +3  \(3 valid\)$'
fi
[ "$ngood" -ge 8 ] && ok "$ngood good events" || not_ok "only $ngood good events"

# --- every bad event is rejected, naming its defect ---------------------------
for must in missing_id wrong_specversion bad_hash_hex unknown_type \
            extra_attribute data_amount_string data_missing_field time_without_zone; do
  [ -f "$FIX/bad/$must.jsonl" ] || not_ok "bad example $must.jsonl is missing"
done
nbad=0
for f in "$FIX"/bad/*.jsonl; do
  name=$(basename "$f" .jsonl)
  nbad=$((nbad + 1))
  if [ ! -s "$FIX/bad/$name.expect" ]; then
    not_ok "bad/$name: no .expect file"
    continue
  fi
  expect=$(cat "$FIX/bad/$name.expect")
  if run "bad/$name" 1 "$f"; then
    has "bad/$name rejected: $expect" "^FAIL $f:1: .*$expect"
    has "bad/$name: counted invalid" '^events: 1 checked, 0 valid, 1 invalid$'
    # Only the planted defect is reported: every failure line is about the
    # same value (the envelope and the type schema may both object to it).
    nwhere=$(printf '%s\n' "$OUT" | grep '^FAIL ' | sed -E 's/^(FAIL [^ ]+ ([^:]+: at [^:]+:)?).*/\1/' | sort -u | wc -l)
    [ "$nwhere" -eq 1 ] && ok "bad/$name: only the planted defect" ||
      not_ok "bad/$name: failures about $nwhere different things, expected 1"
  fi
  # The message is specific: the good events do not produce it.
  "$PY" "$VALIDATE" "$FIX/good.jsonl" | grep -Eq -- "$expect" &&
    not_ok "bad/$name: /$expect/ also matches the good run"
done
[ "$nbad" -ge 7 ] && ok "$nbad bad examples" || not_ok "only $nbad bad examples"

# A failure in the middle of a file names its line, and only that line.
{ cat "$FIX/good.jsonl"; echo; cat "$FIX/bad/wrong_specversion.jsonl"; cat "$FIX/good.jsonl"; } >"$TMP/mixed.jsonl"
line=$((ngood + 2))
if run "mixed file" 1 "$TMP/mixed.jsonl"; then
  has "mixed file: the bad line is named" "^FAIL $TMP/mixed.jsonl:$line: type test\.eo\.credited: at \\\$\.specversion"
  has "mixed file: counts" "^events: $((2 * ngood + 1)) checked, $((2 * ngood)) valid, 1 invalid$"
  nfail=$(printf '%s\n' "$OUT" | grep -c '^FAIL ')
  [ "$nfail" -eq 1 ] && ok "mixed file: one failure" || not_ok "mixed file: $nfail failures"
fi

# Several files: each failure names its own file.
if run "two files" 1 "$FIX/good.jsonl" "$FIX/bad/missing_id.jsonl" "$FIX/bad/unknown_type.jsonl"; then
  has "two files: missing_id named" "^FAIL $FIX/bad/missing_id\.jsonl:1: "
  has "two files: unknown_type named" "^FAIL $FIX/bad/unknown_type\.jsonl:1: "
fi

if run "missing file" 1 "$TMP/nope.jsonl"; then
  has "missing file is named" "^FAIL $TMP/nope\.jsonl: cannot open"
fi
run "no arguments is a usage error" 2 && ok "no arguments is a usage error"
run "missing schema folder" 2 --schemas "$TMP/none" "$FIX/good.jsonl" &&
  ok "missing schema folder is an error"

# --schemas and SIMPKI_SCHEMA_DIR pick the folder: without the bench schema
# the bench ticks fail.
mkdir -p "$TMP/s1/events"
cp -r "$SCHEMAS"/. "$TMP/s1/events/"
rm "$TMP/s1/events/test/test.bench.tick.json"
if run "--schemas folder" 1 --schemas "$TMP/s1/events" "$FIX/good.jsonl"; then
  has "--schemas: bench ticks have no schema" "type test\.bench\.tick: no schema for this type"
  has "--schemas: credits still valid" '^  test\.eo\.credited +5  \(5 valid\)$'
fi
OUT=$(SIMPKI_SCHEMA_DIR="$TMP/s1" "$PY" "$VALIDATE" "$FIX/good.jsonl" 2>&1)
[ $? -eq 1 ] && printf '%s\n' "$OUT" | grep -q 'test\.bench\.tick: no schema' &&
  ok "SIMPKI_SCHEMA_DIR is honoured" || not_ok "SIMPKI_SCHEMA_DIR is not honoured"

# --- --check-schemas catches broken schema folders ----------------------------
# broken NAME REGEX EDIT...: copy the schemas, apply a python edit to the
# copy's folder d, expect --check-schemas to fail naming the problem.
broken() {
  local name=$1 expect=$2 edit=$3
  rm -rf "$TMP/b"
  cp -r "$SCHEMAS" "$TMP/b"
  "$PY" - "$TMP/b" <<EOF || { not_ok "$name: edit failed"; return; }
import json, os, sys
d = sys.argv[1]
def load(p): return json.load(open(os.path.join(d, p)))
def save(p, s): json.dump(s, open(os.path.join(d, p), "w"))
$edit
EOF
  if run "check-schemas: $name" 1 --check-schemas --schemas "$TMP/b"; then
    has "check-schemas: $name" "^SCHEMA $TMP/b/.*$expect"
  fi
}
broken "file name differs from type" \
  "test/test\.bench\.tock\.json: file name test\.bench\.tock\.json does not match its type const 'test\.bench\.tick'" \
  'os.rename(os.path.join(d, "test/test.bench.tick.json"), os.path.join(d, "test/test.bench.tock.json"))'
broken "no envelope reference" \
  "test/test\.eo\.credited\.json: does not \\\$ref the envelope" \
  's = load("test/test.eo.credited.json"); del s["$ref"]; save("test/test.eo.credited.json", s)'
broken "invalid schema" \
  "test/test\.eo\.credited\.json: not a valid draft 2020-12 schema: at .*data.*: 5 is not valid" \
  's = load("test/test.eo.credited.json"); s["properties"]["data"]["type"] = 5; save("test/test.eo.credited.json", s)'
broken "dangling ref" \
  "test/test\.bench\.tick\.json: \\\$ref https://simpki\.invalid/schemas/events/nope\.json does not resolve" \
  's = load("test/test.bench.tick.json"); s["properties"]["data"] = {"$ref": "https://simpki.invalid/schemas/events/nope.json"}; save("test/test.bench.tick.json", s)'
broken "other draft" \
  "test/test\.bench\.tick\.json: \\\$schema must be https://json-schema\.org/draft/2020-12/schema" \
  's = load("test/test.bench.tick.json"); s["$schema"] = "http://json-schema.org/draft-07/schema#"; save("test/test.bench.tick.json", s)'
broken "no type const" \
  "test/test\.bench\.tick\.json: has no properties\.type\.const" \
  's = load("test/test.bench.tick.json"); del s["properties"]["type"]; save("test/test.bench.tick.json", s)'
broken "type the envelope rejects" \
  "test/Bench\.json: type const 'Bench' is rejected by the envelope" \
  's = load("test/test.bench.tick.json"); s["properties"]["type"]["const"] = "Bench"; os.remove(os.path.join(d, "test/test.bench.tick.json")); save("test/Bench.json", s)'
broken "envelope missing" \
  "envelope\.json: the envelope schema is missing" \
  'os.remove(os.path.join(d, "envelope.json"))'
broken "not JSON" \
  "test/test\.bench\.tick\.json: cannot load" \
  'open(os.path.join(d, "test/test.bench.tick.json"), "w").write("{")'
broken "duplicate type file" \
  "test\.bench\.tick\.json: file name also used by (other|test)/test\.bench\.tick\.json" \
  'os.mkdir(os.path.join(d, "other")); s = load("test/test.bench.tick.json"); s["$id"] += "2"; save("other/test.bench.tick.json", s)'

# A schema for a type must really be used: an event it rejects fails.
if run "envelope is enforced through \$ref" 1 "$FIX/bad/extra_attribute.jsonl"; then
  ok "envelope is enforced through \$ref"
fi

echo
if [ "$failures" -ne 0 ]; then
  echo "test_schemas: $failures failure(s)"
  exit 1
fi
echo "test_schemas: all passed"
