#!/usr/bin/env bash
# test_compose.sh - static checks of docker-compose.yml and deploy/docker/.
#
# No Docker engine runs here, so the file is checked the way compose would
# read it: it parses; every service has an image or a build whose context and
# Dockerfile exist; every depends_on target exists (and has a healthcheck when
# the condition asks for one); published ports do not collide; secrets and
# volumes are declared; every SIMPKI_* name is in README.md's configuration
# table; no password is written in the file. The same checks run with the
# commented service slots enabled, and on broken copies, which must fail.
set -u

SRC=${SIMPKI_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/simpki-test-compose.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

failures=0
ok() { echo "ok   - $*"; }
not_ok() { echo "FAIL - $*"; failures=$((failures + 1)); }

cat >"$TMP/check_compose.py" <<'EOF'
"""check_compose.py COMPOSE PROJECT_DIR README [--with-slots]"""
import os
import re
import sys

import yaml

compose, project, readme = sys.argv[1:4]
with_slots = "--with-slots" in sys.argv[4:]
problems = []


def problem(msg):
    problems.append(msg)


def documented_names(path):
    """SIMPKI_* names in the table rows of README's Configuration section."""
    names, inside = set(), False
    for line in open(path, encoding="utf-8"):
        if re.match(r"^## ", line):
            inside = line.strip().lower().startswith("## configuration")
            continue
        if inside and line.lstrip().startswith("|"):
            names.update(re.findall(r"SIMPKI_[A-Z0-9_]+", line))
    return names


def enable_slots(text):
    """Uncomment the service slots: from a '  # name:' header line to the
    next bare '  #' line."""
    out, in_slot = [], False
    for line in text.splitlines():
        if re.match(r"^  # [a-z][a-z0-9-]*:\s*$", line):
            in_slot = True
        if in_slot:
            if line.rstrip() == "  #":
                in_slot = False
                out.append("")
                continue
            if re.match(r"^  # ", line):
                line = "  " + line[4:]
        out.append(line)
    return "\n".join(out) + "\n"


text = open(compose, encoding="utf-8").read()
if with_slots:
    text = enable_slots(text)
try:
    doc = yaml.safe_load(text)
except yaml.YAMLError as e:
    print("COMPOSE: does not parse as YAML: %s" % str(e).replace("\n", " "))
    sys.exit(1)
if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict) \
        or not doc["services"]:
    print("COMPOSE: no services")
    sys.exit(1)
services = doc["services"]
top_secrets = doc.get("secrets") or {}
top_volumes = doc.get("volumes") or {}

# Every SIMPKI_* name anywhere in the file (comments too) is documented.
known = documented_names(readme)
for name in sorted(set(re.findall(r"SIMPKI_[A-Z0-9_]+", text))):
    if name not in known:
        problem("%s is not documented in README.md's configuration table"
                % name)

ports_seen = {}
for name, svc in services.items():
    if not isinstance(svc, dict):
        problem("service %s is not a mapping" % name)
        continue
    if "image" not in svc and "build" not in svc:
        problem("service %s has neither image nor build" % name)
    build = svc.get("build")
    if build is not None:
        if isinstance(build, str):
            build = {"context": build}
        ctx = os.path.normpath(os.path.join(project,
                                            build.get("context", ".")))
        if not os.path.isdir(ctx):
            problem("service %s: build context %s does not exist"
                    % (name, build.get("context")))
        df = os.path.join(ctx, build.get("dockerfile", "Dockerfile"))
        if not os.path.isfile(df):
            problem("service %s: dockerfile %s does not exist"
                    % (name, build.get("dockerfile", "Dockerfile")))
    deps = svc.get("depends_on") or {}
    if isinstance(deps, list):
        deps = {d: {"condition": "service_started"} for d in deps}
    for dep, spec in deps.items():
        if dep not in services:
            problem("service %s depends on %s, which does not exist"
                    % (name, dep))
            continue
        if dep == name:
            problem("service %s depends on itself" % name)
        cond = (spec or {}).get("condition", "service_started")
        if cond not in ("service_started", "service_healthy",
                        "service_completed_successfully"):
            problem("service %s: unknown depends_on condition %s"
                    % (name, cond))
        if cond == "service_healthy" and \
                not (services[dep] or {}).get("healthcheck"):
            problem("service %s waits for %s to be healthy, but %s has no "
                    "healthcheck" % (name, dep, dep))
        if cond == "service_completed_successfully" and \
                str((services[dep] or {}).get("restart", "no")) != "no":
            problem("service %s waits for %s to complete, but %s restarts"
                    % (name, dep, dep))
    for p in svc.get("ports") or []:
        if isinstance(p, dict):
            host, proto = p.get("published"), p.get("protocol", "tcp")
        else:
            m = re.match(r"^(?:(?:\[[^\]]+\]|[0-9.]+):)?(?:(\d+)(?:-\d+)?:)?"
                         r"(\d+)(?:-\d+)?(?:/(tcp|udp))?$", str(p))
            if not m:
                problem("service %s: cannot read port %r" % (name, p))
                continue
            host, proto = m.group(1), m.group(3) or "tcp"
        if host is None:
            continue  # an ephemeral host port cannot collide
        key = (str(host), proto)
        if key in ports_seen:
            problem("host port %s/%s is published by both %s and %s"
                    % (host, proto, ports_seen[key], name))
        else:
            ports_seen[key] = name
    for s in svc.get("secrets") or []:
        sname = s.get("source") if isinstance(s, dict) else s
        if sname not in top_secrets:
            problem("service %s uses secret %s, which is not declared"
                    % (name, sname))
    for v in svc.get("volumes") or []:
        src = v.get("source") if isinstance(v, dict) else str(v).split(":")[0]
        if src and not src.startswith(("/", ".", "~")) and \
                src not in top_volumes:
            problem("service %s uses volume %s, which is not declared"
                    % (name, src))
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    for k, v in env.items():
        if re.search(r"PASSWORD$", k) and v not in (None, ""):
            problem("service %s sets %s in the file: use a secret" % (name, k))
    url = env.get("SIMPKI_DB_URL")
    if url:
        m = re.match(r"^postgres(?:ql)?://([^@/]*@)?([^:/?]+)", str(url))
        if not m:
            problem("service %s: SIMPKI_DB_URL is not a libpq URI" % name)
        else:
            if m.group(1) and ":" in m.group(1):
                problem("service %s: SIMPKI_DB_URL holds a password" % name)
            if m.group(2) not in services:
                problem("service %s: SIMPKI_DB_URL host %s is not a service"
                        % (name, m.group(2)))
    boot = env.get("SIMPKI_KAFKA_BOOTSTRAP")
    if boot:
        for hp in str(boot).split(","):
            if hp.split(":")[0] not in services:
                problem("service %s: SIMPKI_KAFKA_BOOTSTRAP host %s is not a "
                        "service" % (name, hp))

# What this deployment must contain.
kafka = services.get("kafka") or {}
kenv = kafka.get("environment") or {}
if not str(kafka.get("image", "")).startswith("apache/kafka:"):
    problem("kafka must run the official apache/kafka image")
if set(str(kenv.get("KAFKA_PROCESS_ROLES", "")).split(",")) != \
        {"broker", "controller"}:
    problem("kafka must run KRaft as broker,controller")
for k in ("KAFKA_NODE_ID", "KAFKA_CONTROLLER_QUORUM_VOTERS",
          "KAFKA_LISTENERS", "KAFKA_ADVERTISED_LISTENERS",
          "KAFKA_CONTROLLER_LISTENER_NAMES"):
    if k not in kenv:
        problem("kafka lacks %s" % k)
pg = services.get("postgres") or {}
if pg.get("image") != "postgres:15":
    problem("postgres must run postgres:15")
if not pg.get("healthcheck") or not pg.get("volumes"):
    problem("postgres needs a healthcheck and a volume")
mig = services.get("migrate") or {}
if "simpkictl db migrate" not in " ".join(
        mig.get("command") if isinstance(mig.get("command"), list)
        else [str(mig.get("command", ""))]):
    problem("migrate must run simpkictl db migrate")
if not isinstance(mig.get("build"), dict) or \
        mig["build"].get("dockerfile") != "deploy/docker/Dockerfile":
    problem("migrate must be built from deploy/docker/Dockerfile")
menv = mig.get("environment") or {}
for k in ("SIMPKI_DB_URL", "SIMPKI_KAFKA_BOOTSTRAP"):
    if k not in menv:
        problem("migrate lacks %s" % k)
if ((mig.get("depends_on") or {}).get("postgres") or {}).get("condition") \
        != "service_healthy":
    problem("migrate must wait for postgres to be healthy")
slots = ("order-intake", "sigverify", "vendor-exchange", "hlr-provisioner",
         "inventory", "notifier", "accounts", "dashboard")
for s in slots:
    if with_slots and s not in services:
        problem("slot %s is missing" % s)

for p in problems:
    print("COMPOSE: " + p)
print("compose: %d services%s, %d problems"
      % (len(services), " (slots enabled)" if with_slots else "",
         len(problems)))
sys.exit(1 if problems else 0)
EOF

# check NAME WANT_RC REGEX FILE [--with-slots]
check() {
  local name=$1 want=$2 regex=$3
  shift 3
  OUT=$("$PY" "$TMP/check_compose.py" "$1" "$SRC" "$SRC/README.md" "${@:2}" 2>&1)
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    not_ok "$name: exit status $rc, expected $want"
    printf '%s\n' "$OUT" | sed 's/^/       | /' | head -20
  elif ! printf '%s\n' "$OUT" | grep -Eq -- "$regex"; then
    not_ok "$name: output lacks /$regex/"
    printf '%s\n' "$OUT" | sed 's/^/       | /' | head -20
  else
    ok "$name"
  fi
}

COMPOSE="$SRC/docker-compose.yml"
[ -f "$COMPOSE" ] || { echo "FAIL - no docker-compose.yml"; exit 1; }
check "docker-compose.yml passes" 0 '^compose: [0-9]+ services, 0 problems$' "$COMPOSE"
check "docker-compose.yml passes with the service slots enabled" 0 \
  '^compose: 11 services \(slots enabled\), 0 problems$' "$COMPOSE" --with-slots

# mutate NAME REGEX PYTHON-EDIT: the edit changes text `t`; the result must
# fail naming the problem.
mutate() {
  local name=$1 regex=$2 edit=$3
  shift 3
  "$PY" - "$COMPOSE" "$TMP/mut.yml" <<EOF || { not_ok "$name: edit failed"; return; }
import sys
t = open(sys.argv[1]).read()
o = t
$edit
assert t != o, "edit changed nothing"
open(sys.argv[2], "w").write(t)
EOF
  check "broken copy rejected: $name" 1 "$regex" "$TMP/mut.yml" "$@"
}
mutate "not YAML" '^COMPOSE: does not parse as YAML' \
  't = t.replace("services:\n", "services:\n  - [\n", 1)'
mutate "no image or build" '^COMPOSE: service postgres has neither image nor build' \
  't = t.replace("    image: postgres:15\n", "", 1)'
mutate "missing build context" '^COMPOSE: service migrate: build context \./nowhere does not exist' \
  't = t.replace("  context: .\n", "  context: ./nowhere\n", 1)'
mutate "missing Dockerfile" '^COMPOSE: service migrate: dockerfile deploy/docker/Dockerfile\.nope does not exist' \
  't = t.replace("dockerfile: deploy/docker/Dockerfile", "dockerfile: deploy/docker/Dockerfile.nope", 1)'
mutate "unknown depends_on" '^COMPOSE: service migrate depends on pg, which does not exist' \
  't = t.replace("    depends_on:\n      postgres:", "    depends_on:\n      pg:", 1)'
mutate "healthy without healthcheck" '^COMPOSE: service migrate waits for postgres to be healthy, but postgres has no healthcheck' \
  'i = t.index("    healthcheck:\n      test: [\"CMD-SHELL\", \"pg_isready"); j = t.index("\n\n", i); t = t[:i] + t[j + 1:]'
mutate "port collision" '^COMPOSE: host port 5432/tcp is published by both' \
  't = t.replace("\"127.0.0.1:9094:9094\"", "\"127.0.0.1:5432:9094\"", 1)'
mutate "undocumented variable" '^COMPOSE: SIMPKI_NOT_DOCUMENTED is not documented' \
  't = t.replace("  SIMPKI_LOG_LEVEL: info\n", "  SIMPKI_LOG_LEVEL: info\n  SIMPKI_NOT_DOCUMENTED: x\n", 1)'
mutate "password in the URL" '^COMPOSE: service migrate: SIMPKI_DB_URL holds a password' \
  't = t.replace("postgresql://simpki@postgres", "postgresql://simpki:hunter2@postgres", 1)'
mutate "password in the environment" '^COMPOSE: service postgres sets POSTGRES_PASSWORD in the file' \
  't = t.replace("POSTGRES_PASSWORD_FILE: /run/secrets/db_password", "POSTGRES_PASSWORD: hunter2", 1)'
mutate "undeclared secret" '^COMPOSE: service postgres uses secret db_password, which is not declared' \
  't = t.replace("\nsecrets:\n  db_password:\n", "\nsecrets:\n  other:\n", 1)'
mutate "undeclared volume" '^COMPOSE: service kafka uses volume kafka-data, which is not declared' \
  't = t.replace("\n  kafka-data:\n", "\n", 1)'
mutate "bootstrap names no service" '^COMPOSE: service migrate: SIMPKI_KAFKA_BOOTSTRAP host broker:9092 is not a service' \
  't = t.replace("SIMPKI_KAFKA_BOOTSTRAP: kafka:9092", "SIMPKI_KAFKA_BOOTSTRAP: broker:9092", 1)'
mutate "not KRaft" '^COMPOSE: kafka must run KRaft as broker,controller' \
  't = t.replace("KAFKA_PROCESS_ROLES: broker,controller", "KAFKA_PROCESS_ROLES: broker", 1)'
mutate "migrate runs something else" '^COMPOSE: migrate must run simpkictl db migrate' \
  't = t.replace("[\"simpkictl\", \"db\", \"migrate\"]", "[\"simpkictl\", \"db\", \"status\"]", 1)'
mutate "a slot collides when enabled" \
  '^COMPOSE: host port 8080/tcp is published by both order-intake and dashboard' \
  't = t.replace("ports: [\"127.0.0.1:8081:8081\"]", "ports: [\"127.0.0.1:8080:8081\"]", 1)' --with-slots
mutate "a slot depends on a missing service" \
  '^COMPOSE: service dashboard depends on kafkaa, which does not exist' \
  'i = t.index("  # dashboard:"); t = t[:i] + t[i:].replace("#     kafka: {", "#     kafkaa: {", 1)' --with-slots

# --- deploy/docker ----------------------------------------------------------
DF="$SRC/deploy/docker/Dockerfile"
if [ -f "$DF" ]; then
  nfrom=$(grep -Ec '^FROM ' "$DF")
  [ "$nfrom" -ge 2 ] && ok "Dockerfile is multi-stage ($nfrom stages)" || not_ok "Dockerfile has $nfrom stage(s)"
  grep -Eq '^FROM debian:12 AS build$' "$DF" && ok "build stage is debian:12" || not_ok "no 'FROM debian:12 AS build' stage"
  # The last stage installs no -dev package and no compiler.
  last=$(awk '/^FROM /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$DF")
  if printf '%s' "$last" | grep -Eq -- '-dev\b|build-essential|cmake|gcc'; then
    not_ok "the runtime stage installs build tools or -dev packages"
  else
    ok "runtime stage carries runtime libraries only"
  fi
  for lib in librdkafka1 libpq5 libjansson4 libssl3 libmicrohttpd12 libcurl4; do
    printf '%s' "$last" | grep -q "$lib" && ok "runtime installs $lib" || not_ok "runtime lacks $lib"
  done
  # COPY sources from the context exist (paths relative to the repo root).
  while read -r srcpath; do
    [ -e "$SRC/$srcpath" ] && ok "COPY source $srcpath exists" || not_ok "COPY source $srcpath does not exist"
  done < <(grep -E '^COPY ' "$DF" | grep -v -- '--from=' | awk '{for (i = 2; i < NF; i++) print $i}')
  [ -x "$SRC/deploy/docker/entrypoint.sh" ] && ok "entrypoint.sh is executable" || not_ok "entrypoint.sh is not executable"
  sh -n "$SRC/deploy/docker/entrypoint.sh" && ok "entrypoint.sh parses" || not_ok "entrypoint.sh does not parse"
else
  not_ok "no deploy/docker/Dockerfile"
fi

# The entrypoint hands the secret to libpq and runs the command unchanged.
mkdir -p "$TMP/run/secrets"
printf 's3cret' >"$TMP/run/secrets/db_password"
got=$(sed "s#/run/secrets/db_password#$TMP/run/secrets/db_password#" "$SRC/deploy/docker/entrypoint.sh" >"$TMP/ep.sh" &&
  env -u PGPASSWORD sh "$TMP/ep.sh" sh -c 'printf "%s|%s" "$PGPASSWORD" "$1"' _ 'arg with space')
[ "$got" = "s3cret|arg with space" ] && ok "entrypoint exports PGPASSWORD from the secret" ||
  not_ok "entrypoint: got '$got'"
got=$(PGPASSWORD=given sh "$TMP/ep.sh" sh -c 'printf "%s" "$PGPASSWORD"')
[ "$got" = "given" ] && ok "entrypoint keeps an explicit PGPASSWORD" || not_ok "entrypoint overrode PGPASSWORD: '$got'"

echo
if [ "$failures" -ne 0 ]; then
  echo "test_compose: $failures failure(s)"
  exit 1
fi
echo "test_compose: all passed"
