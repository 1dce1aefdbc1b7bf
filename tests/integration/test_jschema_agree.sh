#!/usr/bin/env bash
# test_jschema_agree.sh - common/jschema (the C validator an audit replay
# uses) must give the verdict Python's jsonschema gives (Draft202012Validator,
# as tests/lib/validate_events.py loads the schemas) on every event.
#
# The corpus: every event of a real run (deploy/local/run --once, all eight
# topics dumped while its stack is up), and, from up to two events of each
# type (the run's, and tests/fixtures/events/good.jsonl's test.* ones),
# systematic mutations walked along the event's schema (envelope via
# $ref, $defs, oneOf alternatives): each field dropped, each value replaced
# by one of every other JSON type, each pattern, enum and const violated,
# each minLength/maxLength/minimum/maximum/minItems/maxItems probed on both
# sides of its bound, non-integral numbers where integers go, an extra
# property on every object, the type renamed. Both sides judge each line;
# every verdict must agree.
#
# Not in the corpus: a string ending in "\n" where a pattern ends in "$".
# Python's re lets "$" match before a final newline; ECMA-262 (and the C
# validator) does not, so the two would rightly disagree there.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"

PY=/usr/bin/python3
CHECK=${SIMPKI_JSCHEMA_CHECK:-$(sp_bin jschema_check)} || sp_fail "jschema_check is not built"
CTL=$SIMPKI_BUILD_DIR/tools/simpkictl/simpkictl
[ -x "$CTL" ] || sp_fail "simpkictl is not built under $SIMPKI_BUILD_DIR"
SCHEMAS=$SIMPKI_SOURCE_DIR/schemas/events
TOPICS="orders vendors batches registrations sims connections notifications accounts"

W=$(mktemp -d "${TMPDIR:-/tmp}/simpki-jschema.XXXXXX")
chmod 755 "$W" # the run's PostgreSQL cluster lives below it
RUN=$W/run
EV=$W/events
mkdir -p "$EV"
# The run keeps its folder for its files; the test removes it (unless
# SIMPKI_KEEP_STACK=1, as for the harness's stacks: the corpus and both
# sides' verdicts stay for a look).
if [ "${SIMPKI_KEEP_STACK:-0}" = 1 ]; then
	sp_on_exit "'$SIMPKI_SOURCE_DIR/deploy/local/stack' down '$RUN' >/dev/null 2>&1; echo 'kept $W' >&2"
else
	sp_on_exit "'$SIMPKI_SOURCE_DIR/deploy/local/stack' down '$RUN' >/dev/null 2>&1; rm -rf '$W'"
fi
_sp_harness_traps
_sp_watchdog "$RUN"
# The smallest run the scenario takes still emits every type it emits.
export SIMPKI_RUN_QUANTITY=${SIMPKI_RUN_QUANTITY:-400}

sp_step "a run of both workflows; every topic dumped before the stack goes down"
DUMP="set -e; for t in $TOPICS; do '$CTL' events dump --topic \$t >'$EV/'\$t.jsonl; done"
rc=0
"$SIMPKI_SOURCE_DIR/deploy/local/run" --once --no-install --no-build --dir "$RUN" \
	--build-dir "$SIMPKI_BUILD_DIR" --then "$DUMP" >"$W/run.out" 2>"$W/run.err" || rc=$?
if [ "$rc" -ne 0 ]; then
	tail -30 "$W/run.err" >&2
	sp_fail "deploy/local/run --once exited $rc"
fi
"$SIMPKI_SOURCE_DIR/deploy/local/stack" down "$RUN" >/dev/null 2>&1 || true
for t in $TOPICS; do
	[ -f "$EV/$t.jsonl" ] || sp_fail "topic $t was not dumped"
done
cat "$EV"/*.jsonl >"$W/real.jsonl"
[ -s "$W/real.jsonl" ] || sp_fail "the run left no events"

sp_step "the corpus: real events and their mutations"
# corpus.jsonl: one event a line; labels.txt: what each line is.
"$PY" - "$SIMPKI_SOURCE_DIR" "$SCHEMAS" "$W/real.jsonl" "$W/corpus.jsonl" "$W/labels.txt" \
	"$SIMPKI_SOURCE_DIR/tests/fixtures/events/good.jsonl" <<'PYEOF'
import copy, json, sys
from urllib.parse import urljoin
sys.path.insert(0, sys.argv[1] + "/tests/lib")
import validate_events

schemas = validate_events.Schemas(sys.argv[2])
real = [json.loads(l) for l in open(sys.argv[3], encoding="utf-8") if l.strip()]
# The fixtures' test.* events (no run emits them) are mutated too.
fixtures = [json.loads(l) for l in open(sys.argv[6], encoding="utf-8") if l.strip()]
out = open(sys.argv[4], "w", encoding="utf-8")
labels = open(sys.argv[5], "w", encoding="utf-8")
MISSING = object()


def emit(ev, label):
    out.write(json.dumps(ev, ensure_ascii=False) + "\n")
    labels.write(label + "\n")


def deref(ref, base):
    """(schema, base URI) a $ref names; only what our schemas use."""
    url, _, frag = urljoin(base, ref).partition("#")
    node = schemas.by_id[url]
    for part in filter(None, frag.split("/")):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, url


def applicable(node, base):
    """Every (schema, base) that applies at a place: through $ref, allOf
    and the anyOf/oneOf alternatives (each alternative's bounds get probed)."""
    if not isinstance(node, dict):
        return
    yield node, base
    if "$ref" in node:
        yield from applicable(*deref(node["$ref"], base))
    for k in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(k, []):
            yield from applicable(sub, base)


def children(apps, key):
    """The schemas applying to property or item key of a value."""
    got = []
    for s, b in apps:
        if isinstance(key, int):
            sub = s.get("items")
        else:
            sub = s.get("properties", {}).get(key, s.get("additionalProperties"))
        if isinstance(sub, dict):
            got.extend(applicable(sub, b))
    return got


OTHER_TYPES = [None, True, False, 0, -1, 7, 1.5, "", "x", "1", [], [1], {}, {"a": 1}]


def bound_values(apps, value):
    """Values probing each bound and pattern of the schemas at a place."""
    vals = []
    for s, _ in apps:
        for n in (s.get("minLength"), s.get("maxLength")):
            if isinstance(n, int):
                vals += ["a" * n, "é" * n, "a" * (n + 1), "é" * (n + 1)]
                if n > 0:
                    vals += ["a" * (n - 1), "é" * (n - 1)]
        if "pattern" in s and isinstance(value, str):
            vals += [value + "!", "!" + value, value[:-1], value[1:],
                     value.upper(), value.lower(), value + value, " " + value,
                     value.replace("-", "_"), value.replace("0", "a")]
        for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if isinstance(s.get(k), (int, float)):
                m = s[k]
                vals += [m - 1, m, m + 1, m - 0.5, m + 0.5, float(m)]
        if "enum" in s:
            vals += list(s["enum"]) + ["NOT_IN_ENUM", "", 0]
            vals += [e.upper() for e in s["enum"] if isinstance(e, str)]
        if "const" in s:
            c = s["const"]
            vals += [c, "x", 0]
            if isinstance(c, str):
                vals += [c + "x", c.upper(), c[:-1]]
            if isinstance(c, (int, float)) and not isinstance(c, bool):
                vals += [c + 1, c - 1, float(c), c + 0.5]
        if isinstance(value, list) and value:
            for k in ("minItems", "maxItems"):
                if isinstance(s.get(k), int):
                    n = s[k]
                    vals += [value[:1] * max(n - 1, 0), value[:1] * n, value[:1] * (n + 1)]
    if isinstance(value, int) and not isinstance(value, bool):
        vals += [value + 0.5, float(value), value + 1, value - 1, -value,
                 10 ** 12, -(10 ** 12)]
    return vals


def places(value, apps, path):
    """Yield (path, value, schemas) for value and everything inside it."""
    yield path, value, apps
    if isinstance(value, dict):
        for k, v in value.items():
            yield from places(v, children(apps, k), path + [k])
    elif isinstance(value, list):
        for i, v in enumerate(value[:2]):
            yield from places(v, children(apps, i), path + [i])


def set_at(ev, path, new):
    ev = copy.deepcopy(ev)
    node = ev
    for p in path[:-1]:
        node = node[p]
    if new is MISSING:
        del node[path[-1]]
    else:
        node[path[-1]] = new
    return ev


def mutations(ev):
    schema = schemas.by_name[ev["type"] + ".json"][1]
    apps = list(applicable(schema, schema.get("$id", "")))
    for path, value, here in places(ev, apps, []):
        where = "/" + "/".join(map(str, path))
        if isinstance(value, dict):
            for k in value:
                yield set_at(ev, path + [k], MISSING), "drop %s/%s" % (where.rstrip("/"), k)
            extra = dict(value, zz_extra=1)
            yield (set_at(ev, path, extra) if path else extra), "extra property in " + where
        if not path:
            continue
        seen = set()
        for i, v in enumerate(OTHER_TYPES + bound_values(here, value)):
            key = json.dumps(v, sort_keys=True)
            if key in seen or (isinstance(v, str) and v.endswith("\n")):
                continue
            seen.add(key)
            yield set_at(ev, path, v), "%s = %s" % (where, key[:40])


try:  # the regex parser, to write a string a pattern matches
    from re import _parser as sre_parse, _constants as sre_c
except ImportError:
    import sre_parse, sre_constants as sre_c


def rx_sample(parsed, rep):
    """A string the parsed regex matches: first choices, each open-ended
    repeat taken rep times (within its bounds)."""
    out = []
    for op, av in parsed:
        if op == sre_c.LITERAL:
            out.append(chr(av))
        elif op == sre_c.IN:
            kind, val = av[0]
            out.append(chr(val) if kind == sre_c.LITERAL else
                       chr(val[0]) if kind == sre_c.RANGE else "0")
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            lo, hi, sub = av
            out.append(rx_sample(sub, rep) * max(lo, min(hi, rep)))
        elif op == sre_c.SUBPATTERN:
            out.append(rx_sample(av[-1], rep))
        elif op == sre_c.BRANCH:
            out.append(rx_sample(av[1][0], rep))
        elif op != sre_c.AT:
            out.append("a")
    return "".join(out)


def string_sample(pattern, lo, hi):
    """A string matching pattern with lo <= length <= hi, if one is found."""
    parsed = sre_parse.parse(pattern)
    for rep in (1, 2, 3, 4, 8, 16, 32, 64):
        s = rx_sample(parsed, rep)
        if lo <= len(s) <= hi:
            return s
    return s


def synthesize(apps):
    """A value meant to satisfy every schema in apps (checked afterwards):
    each property, the last oneOf/anyOf alternative (ours put null first)."""
    for i, (s, b) in enumerate(apps):
        for k in ("oneOf", "anyOf"):
            if k in s:
                rest = apps[:i] + [({x: y for x, y in s.items() if x != k}, b)]
                return synthesize(rest + apps[i + 1:] +
                                  list(applicable(s[k][-1], b)))
    get = lambda k: next((s[k] for s, _ in apps if k in s), None)
    if any("const" in s for s, _ in apps):
        return get("const")
    if get("enum") is not None:
        return get("enum")[0]
    types = get("type") or "object"
    t = types if isinstance(types, str) else types[0]
    if t == "object":
        keys = []
        for s, _ in apps:
            keys += [k for k in list(s.get("properties", {})) +
                     s.get("required", []) if k not in keys]
        return {k: synthesize(children(apps, k)) for k in keys}
    if t == "array":
        return [synthesize(children(apps, 0))] * max(get("minItems") or 1, 1)
    if t in ("integer", "number"):
        lo = get("minimum")
        return lo if lo is not None else (get("exclusiveMinimum") or 0) + 1
    if t == "string":
        lo, hi = get("minLength") or 0, get("maxLength") or 10 ** 6
        if get("pattern") is not None:
            return string_sample(get("pattern"), lo, hi)
        return "a" * max(lo, 1)
    return {"boolean": True, "null": None}[t]


def shape(value):
    """The paths and JSON types of an event, to pick differing samples."""
    if isinstance(value, dict):
        return tuple(sorted((k, shape(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", shape(value[0]) if value else None)
    return type(value).__name__


for i, ev in enumerate(real):
    emit(ev, "real event %d (%s)" % (i + 1, ev.get("type")))
samples = {}
for ev in real + fixtures:
    t = ev.get("type")
    if t + ".json" not in schemas.by_name:
        continue
    got = samples.setdefault(t, [])
    if len(got) < 2 and shape(ev) not in [shape(e) for e in got]:
        got.append(ev)
# Types no event showed: a synthesized event, when Python finds it valid.
synthesized = 0
for name, (rel, schema) in sorted(schemas.by_name.items()):
    t = name[:-len(".json")]
    if rel == validate_events.ENVELOPE_FILE or t in samples:
        continue
    ev = synthesize(list(applicable(schema, schema.get("$id", ""))))
    if schemas.validator_for(t).is_valid(ev):
        emit(ev, "synthesized event (%s)" % t)
        samples[t] = [ev]
        synthesized += 1
    else:
        sys.stderr.write("no sample event for %s\n" % t)
types = sorted(samples)
n = 0
for t in types:
    for ev in samples[t]:
        for m, label in mutations(ev):
            emit(m, "%s: %s" % (t, label))
            n += 1
        for other in ("no.such_type", types[0] if types[0] != t else types[-1]):
            emit(dict(ev, type=other), "%s: type = %s" % (t, other))
            n += 1
sys.stderr.write("corpus: %d real events, %d synthesized, %d types, %d "
                 "mutations\n" % (len(real), synthesized, len(types), n))
PYEOF

sp_step "Python's verdicts"
"$PY" - "$SIMPKI_SOURCE_DIR" "$SCHEMAS" "$W/corpus.jsonl" >"$W/py.txt" <<'PYEOF'
import json, sys
sys.path.insert(0, sys.argv[1] + "/tests/lib")
import validate_events

schemas = validate_events.Schemas(sys.argv[2])
for line in open(sys.argv[3], encoding="utf-8"):
    ev = json.loads(line)
    t = ev.get("type") if isinstance(ev, dict) else None
    v = schemas.validator_for(t) if isinstance(t, str) else None
    print("valid" if v is not None and v.is_valid(ev) else "invalid")
PYEOF

sp_step "the C validator's verdicts"
"$CHECK" "$SCHEMAS" "$W/corpus.jsonl" >"$W/c.txt" || sp_fail "jschema_check failed"

sp_step "comparing"
n=$(wc -l <"$W/corpus.jsonl")
for f in py c; do
	sp_assert_eq "$(wc -l <"$W/$f.txt")" "$n" "verdicts from $f"
done
paste -d'\t' "$W/py.txt" "$W/c.txt" "$W/labels.txt" |
	awk -F'\t' '{ c = $2; sub(/:.*/, "", c); if ($1 != c) print }' >"$W/disagree.txt"
# Counts by kind of line: real events, synthesized ones, mutations.
paste -d'\t' "$W/c.txt" "$W/labels.txt" | awk -F'\t' '
	{ k = $2 ~ /^real event/ ? "real" : $2 ~ /^synthesized event/ ? "synth" : "mut"
	  n[k]++; if ($1 == "valid") v[k]++ }
	END { printf "%d %d %d %d %d %d\n", n["real"], v["real"], n["synth"], v["synth"],
	      n["mut"], v["mut"] }' >"$W/counts"
read -r real real_valid synth synth_valid mut mut_valid <"$W/counts"
printf 'real events: %d (%d valid); synthesized: %d (%d valid); mutations: %d (%d valid, %d invalid); disagreements: %d\n' \
	"$real" "$real_valid" "$synth" "$synth_valid" "$mut" "$mut_valid" "$((mut - mut_valid))" \
	"$(wc -l <"$W/disagree.txt")" >&2
if [ -s "$W/disagree.txt" ]; then
	printf 'python\tC\twhat\n' >&2
	head -20 "$W/disagree.txt" >&2
	sp_fail "the C validator and Python's jsonschema disagree on $(wc -l <"$W/disagree.txt") events"
fi
[ "$real_valid" -eq "$real" ] || sp_fail "$((real - real_valid)) real events are invalid"
[ "$synth_valid" -eq "$synth" ] || sp_fail "$((synth - synth_valid)) synthesized events are invalid"
if [ "$mut_valid" -eq 0 ] || [ "$mut_valid" -eq "$mut" ]; then
	sp_fail "the mutations are all valid or all invalid"
fi
echo "ok - jschema agrees with jsonschema on $n events" >&2
