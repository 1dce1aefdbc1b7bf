#!/usr/bin/python3
"""validate_events.py - check simpki events against their JSON Schemas.

  validate_events.py [--schemas DIR] FILE...
  validate_events.py [--schemas DIR] --check-schemas [FILE...]

Each FILE holds one event JSON per line (the output of `simpkictl events
dump`); blank lines are skipped. Each event is validated against the schema
whose file name is its type + ".json", found anywhere under DIR (default
$SIMPKI_SCHEMA_DIR/events, else <repo>/schemas/events). An event whose type
has no schema fails.

--check-schemas checks every schema file under DIR: it is a valid draft
2020-12 schema, envelope.json aside its name is <type const>.json, and it
$refs the envelope.

Exit status: 0 when everything checked is valid, 1 otherwise, 2 on usage
errors. Run it with /usr/bin/python3 (Debian's python3-jsonschema 4.10).
"""

import argparse
import json
import os
import sys
from collections import OrderedDict

try:
    import jsonschema
    from jsonschema import Draft202012Validator, RefResolver
except ImportError:  # plain `python3` on PATH may not see Debian's packages
    sys.stderr.write("validate_events.py: python3-jsonschema is missing; "
                     "run it with /usr/bin/python3\n")
    sys.exit(2)

META_2020_12 = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_FILE = "envelope.json"
MAX_ERRORS_PER_EVENT = 10


def default_schema_dir():
    env = os.environ.get("SIMPKI_SCHEMA_DIR")
    if env:
        return os.path.join(env, "events")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    return os.path.join(repo, "schemas", "events")


def json_path(error):
    """'$.data.amount' style path of the offending value."""
    out = "$"
    for p in error.absolute_path:
        out += "[%d]" % p if isinstance(p, int) else "." + str(p)
    return out


class Schemas:
    """All schema files under a folder, indexed by $id and by file name."""

    def __init__(self, root):
        self.root = root
        self.files = []        # (path relative to root, schema or None)
        self.load_errors = []  # (relpath, message)
        self.by_id = {}
        self.by_name = {}      # "x.y.json" -> (relpath, schema)
        self.envelope = None
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in sorted(filenames):
                if not fn.endswith(".json"):
                    continue
                path = os.path.join(dirpath, fn)
                rel = os.path.relpath(path, root)
                try:
                    with open(path, encoding="utf-8") as fp:
                        schema = json.load(fp)
                except (OSError, ValueError) as e:
                    self.load_errors.append((rel, "cannot load: %s" % e))
                    self.files.append((rel, None))
                    continue
                self.files.append((rel, schema))
                if not isinstance(schema, dict):
                    continue
                sid = schema.get("$id")
                if isinstance(sid, str):
                    if sid in self.by_id:
                        self.load_errors.append(
                            (rel, "$id %s is also used by another schema" % sid))
                    self.by_id[sid] = schema
                if fn in self.by_name:
                    self.load_errors.append(
                        (rel, "file name also used by %s" % self.by_name[fn][0]))
                else:
                    self.by_name[fn] = (rel, schema)
                if rel == ENVELOPE_FILE:
                    self.envelope = schema
        self._validators = {}

    def validator_for(self, etype):
        """A validator for an event type, or None when it has no schema."""
        if etype in self._validators:
            return self._validators[etype]
        entry = self.by_name.get(etype + ".json")
        v = None
        if entry and entry[0] != ENVELOPE_FILE and isinstance(entry[1], dict):
            schema = entry[1]
            # Resolve $refs from the loaded files only: nothing is fetched.
            resolver = RefResolver(base_uri=schema.get("$id", ""),
                                   referrer=schema, store=dict(self.by_id))
            v = Draft202012Validator(schema, resolver=resolver)
        self._validators[etype] = v
        return v


def refs_in(node):
    """Every $ref value anywhere in a schema."""
    if isinstance(node, dict):
        for k, val in node.items():
            if k == "$ref" and isinstance(val, str):
                yield val
            else:
                yield from refs_in(val)
    elif isinstance(node, list):
        for val in node:
            yield from refs_in(val)


def check_schemas(schemas, out):
    problems = list(schemas.load_errors)
    env = schemas.envelope
    env_id = env.get("$id") if isinstance(env, dict) else None
    if env is None:
        problems.append((ENVELOPE_FILE, "the envelope schema is missing"))
    elif not isinstance(env_id, str):
        problems.append((ENVELOPE_FILE, "the envelope has no $id"))
    ntypes = 0
    for rel, schema in schemas.files:
        if schema is None:
            continue
        if not isinstance(schema, dict):
            problems.append((rel, "a schema must be a JSON object"))
            continue
        if schema.get("$schema") != META_2020_12:
            problems.append((rel, "$schema must be %s, not %r" %
                             (META_2020_12, schema.get("$schema"))))
        try:
            Draft202012Validator.check_schema(schema)
        except jsonschema.exceptions.SchemaError as e:
            problems.append((rel, "not a valid draft 2020-12 schema: at %s: %s"
                             % (json_path(e), e.message)))
            continue
        if not isinstance(schema.get("$id"), str):
            problems.append((rel, "has no $id"))
        if rel == ENVELOPE_FILE:
            continue
        ntypes += 1
        name = os.path.basename(rel)
        tconst = schema.get("properties", {}).get("type", {})
        tconst = tconst.get("const") if isinstance(tconst, dict) else None
        if not isinstance(tconst, str):
            problems.append((rel, "has no properties.type.const naming its "
                             "event type"))
        elif name != tconst + ".json":
            problems.append((rel, "file name %s does not match its type "
                             "const %r (expected %s.json)" %
                             (name, tconst, tconst)))
        elif env is not None:
            # The type must also be acceptable to the envelope itself.
            pat = env.get("properties", {}).get("type", {})
            errs = list(Draft202012Validator(pat).iter_errors(tconst))
            if errs:
                problems.append((rel, "type const %r is rejected by the "
                                 "envelope: %s" % (tconst, errs[0].message)))
        if env_id and env_id not in list(refs_in(schema)):
            problems.append((rel, "does not $ref the envelope (%s)" % env_id))
        # Every $ref must resolve within the loaded schemas.
        resolver = RefResolver(base_uri=schema.get("$id", ""),
                               referrer=schema, store=dict(schemas.by_id))
        for ref in refs_in(schema):
            try:
                resolver.resolve(ref)
            except Exception as e:  # RefResolutionError and friends
                problems.append((rel, "$ref %s does not resolve: %s"
                                 % (ref, e)))
    for rel, msg in problems:
        out.write("SCHEMA %s: %s\n" % (os.path.join(schemas.root, rel), msg))
    out.write("schemas: %d files, %d event types, %d problems\n" %
              (len(schemas.files), ntypes, len(problems)))
    return not problems


def validate_files(schemas, files, out):
    counts = OrderedDict()  # type -> [total, valid]
    failures = []
    total = 0
    for fname in files:
        try:
            fp = open(fname, encoding="utf-8")
        except OSError as e:
            failures.append("%s: cannot open: %s" % (fname, e.strerror))
            continue
        with fp:
            for lineno, line in enumerate(fp, 1):
                if not line.strip():
                    continue
                total += 1
                where = "%s:%d" % (fname, lineno)
                try:
                    ev = json.loads(line)
                except ValueError as e:
                    failures.append("%s: not JSON: %s" % (where, e))
                    counts.setdefault("(not JSON)", [0, 0])[0] += 1
                    continue
                etype = ev.get("type") if isinstance(ev, dict) else None
                if not isinstance(etype, str):
                    failures.append("%s: event has no string \"type\" "
                                    "attribute" % where)
                    counts.setdefault("(no type)", [0, 0])[0] += 1
                    continue
                c = counts.setdefault(etype, [0, 0])
                c[0] += 1
                v = schemas.validator_for(etype)
                if v is None:
                    failures.append("%s: type %s: no schema for this type "
                                    "(%s.json under %s)" %
                                    (where, etype, etype, schemas.root))
                    continue
                # The envelope and the type schema may both reject the
                # same value: report each (path, message) once.
                seen = {}
                for e in v.iter_errors(ev):
                    seen.setdefault((json_path(e), e.message), e)
                errs = [seen[k] for k in sorted(seen)]
                if not errs:
                    c[1] += 1
                    continue
                for e in errs[:MAX_ERRORS_PER_EVENT]:
                    failures.append("%s: type %s: at %s: %s" %
                                    (where, etype, json_path(e), e.message))
                if len(errs) > MAX_ERRORS_PER_EVENT:
                    failures.append("%s: type %s: %d more errors" %
                                    (where, etype,
                                     len(errs) - MAX_ERRORS_PER_EVENT))
    valid = sum(c[1] for c in counts.values())
    out.write("events: %d checked, %d valid, %d invalid\n" %
              (total, valid, total - valid))
    for etype, (n, ok) in sorted(counts.items()):
        out.write("  %-40s %8d  (%d valid)\n" % (etype, n, ok))
    for f in failures:
        out.write("FAIL %s\n" % f)
    return not failures


def main(argv):
    ap = argparse.ArgumentParser(
        description="Validate simpki events (one JSON per line) against "
                    "their JSON Schemas.")
    ap.add_argument("--schemas", metavar="DIR", default=None,
                    help="schema folder (default: $SIMPKI_SCHEMA_DIR/events "
                         "or <repo>/schemas/events)")
    ap.add_argument("--check-schemas", action="store_true",
                    help="check the schema files themselves")
    ap.add_argument("files", nargs="*", metavar="FILE")
    args = ap.parse_args(argv)
    if not args.files and not args.check_schemas:
        ap.error("give event files and/or --check-schemas")
    root = args.schemas or default_schema_dir()
    if not os.path.isdir(root):
        sys.stderr.write("validate_events.py: schema folder %s does not "
                         "exist\n" % root)
        return 2
    schemas = Schemas(root)
    ok = True
    if args.check_schemas:
        ok = check_schemas(schemas, sys.stdout) and ok
    if args.files:
        ok = validate_files(schemas, args.files, sys.stdout) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
