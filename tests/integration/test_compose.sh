#!/usr/bin/env bash
# test_compose.sh - static checks of docker-compose.yml and deploy/docker/.
#
# No Docker engine runs here, so the file is checked the way compose would
# read it: it parses; every service has an image with a tag (never
# `latest`; ours carry the project version) or a build whose context,
# Dockerfile and target exist; every depends_on target exists (and has a
# healthcheck when the condition asks for one); every long-running container
# has a healthcheck; published ports do not collide; secrets, volumes and
# bind mounts exist; every SIMPKI_* name is in README.md's configuration
# table; no password is written in the file.
#
# Against the code: every folder under services/ has a container that sets
# every variable its --help calls required (its main.c when not built);
# three KRaft brokers with replication 3 and min.insync.replicas 2; the
# kafka-topics job creates every topic the code names (derived from the C
# sources, dead-letter topics included) and nothing else; OsmoHLR, Kannel
# and the SMTP relay are where the services' addresses point.
#
# The same checks run with the commented service slot enabled, and on
# broken copies, which must fail naming the problem. The scripts of
# deploy/docker run here too: kafka-topics.sh against a stand-in for
# kafka-topics.sh, kannel-entrypoint.sh's rendering with stand-in secrets.
set -u

SRC=${SIMPKI_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SIMPKI_BUILD_DIR:-$SRC/build}
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/simpki-test-compose.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

failures=0
ok() { echo "ok   - $*"; }
not_ok() { echo "FAIL - $*"; failures=$((failures + 1)); }

cat >"$TMP/check_compose.py" <<'EOF'
"""check_compose.py COMPOSE PROJECT_DIR README [--with-slots] [--src DIR]
[--build DIR] | --print-topics SRC

COMPOSE is read the way docker compose reads it, relative to PROJECT_DIR
(build contexts, bind mounts, secret files). The source tree (--src,
default PROJECT_DIR) gives what the code needs: its services, the variables
each requires (its --help from --build, else its main.c), its topics."""
import fnmatch
import os
import re
import subprocess
import sys

import yaml


# --- what the code says ------------------------------------------------------

def c_files(src):
    for top in ("services", "common", "tools"):
        for root, _dirs, files in os.walk(os.path.join(src, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.join(root, f)


def call_args(text, start):
    """The top-level arguments of the call whose '(' is at text[start]."""
    depth, args, cur, i, quote = 0, [], "", start, None
    while i < len(text):
        ch = text[i]
        if quote:
            cur += ch
            if ch == "\\":
                cur += text[i + 1]
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            cur += ch
        elif ch == "(":
            depth += 1
            if depth > 1:
                cur += ch
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append(cur.strip())
                return args
            cur += ch
        elif ch == "," and depth == 1:
            args.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    return args


def code_topics(src):
    """(topics, consumed, problems): every topic the C code names: the
    values of #define *TOPIC* "x", the members of `topics[] = {...}`
    subscription lists, and literal or #defined topic arguments of
    sp_outbox_publish / sp_outbox_emit."""
    texts = {p: open(p, encoding="utf-8", errors="replace").read()
             for p in c_files(src)}
    defines, probs = {}, []
    for text in texts.values():
        for name, value in re.findall(
                r'^\s*#\s*define\s+(\w*TOPIC\w*)\s+"([^"]+)"', text, re.M):
            defines[name] = value
    topics, consumed = set(defines.values()), set()

    def resolve(token):
        token = token.strip()
        m = re.fullmatch(r'"([^"]+)"', token)
        if m:
            return m.group(1)
        if token in defines:
            return defines[token]
        return None

    for path, text in texts.items():
        rel = os.path.relpath(path, src)
        for m in re.finditer(r"\btopics\s*\[\s*\]\s*=\s*\{([^}]*)\}", text):
            for tok in m.group(1).split(","):
                tok = tok.strip()
                if not tok or tok == "NULL":
                    continue
                t = resolve(tok)
                if t is None:
                    probs.append("%s: cannot resolve the subscribed topic %s"
                                 % (rel, tok))
                else:
                    consumed.add(t)
        for m in re.finditer(r"\bsp_outbox_(publish|emit)\s*\(", text):
            args = call_args(text, m.end() - 1)
            idx = 3 if m.group(1) == "publish" else 2
            if len(args) > idx:
                t = resolve(args[idx])
                if t is not None:  # a variable: its callers pass #defines
                    topics.add(t)
    topics |= consumed
    return topics, consumed, probs


def service_dirs(src):
    d = os.path.join(src, "services")
    return sorted(n for n in os.listdir(d)
                  if os.path.isfile(os.path.join(d, n, "main.c")))


def service_env(name, src, build):
    """(required, read, origin) SIMPKI_* names from the service's usage."""
    exe = os.path.join(build, "services", name, name) if build else ""
    if exe and os.access(exe, os.X_OK):
        r = subprocess.run([exe, "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60,
                           universal_newlines=True)
        text, origin = r.stdout, "--help"
    else:
        raw = open(os.path.join(src, "services", name, "main.c"),
                   encoding="utf-8").read()
        text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', raw))
        text, origin = text.replace("\\n", "\n"), "main.c"
    m = re.search(r"Environment:(.*?)\(required\)(.*?)\(see README\)",
                  text, re.S)
    if not m:
        return None, None, origin
    req = re.findall(r"SIMPKI_[A-Z0-9_]+", m.group(1))
    return set(req), set(req) | set(
        re.findall(r"SIMPKI_[A-Z0-9_]+", m.group(2))), origin


def project_version(src):
    m = re.search(r"project\(\s*simpki\s+VERSION\s+([0-9.]+)",
                  open(os.path.join(src, "CMakeLists.txt")).read())
    return m.group(1) if m else None


def readme_table(path):
    """{SIMPKI name: default cell} from README's Configuration tables."""
    rows, inside = {}, False
    for line in open(path, encoding="utf-8"):
        if re.match(r"^## ", line):
            inside = line.strip().lower().startswith("## configuration")
            continue
        if inside and line.lstrip().startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            for n in re.findall(r"SIMPKI_[A-Z0-9_]+", cells[0]):
                rows[n] = cells[-1] if len(cells) > 1 else ""
    return rows


def dockerfile_stages(path):
    """[(base, name, text)] per FROM."""
    stages, cur = [], None
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
        if m:
            cur = [m.group(1), m.group(2), ""]
            stages.append(cur)
        if cur is not None:
            cur[2] += line
    return [tuple(s) for s in stages]


def stage_env(text):
    env = {}
    joined = re.sub(r"\\\n", " ", text)
    for line in joined.splitlines():
        m = re.match(r"^ENV\s+(.*)$", line)
        if m:
            for k, v in re.findall(r"(\w+)=(\S+)", m.group(1)):
                env[k] = v
    return env


if sys.argv[1:2] == ["--print-topics"]:
    t, c, p = code_topics(sys.argv[2])
    for name in sorted(t):
        print("topic %s" % name)
    for name in sorted(c):
        print("dlq %s.dlq" % name)
    for x in p:
        print("problem %s" % x)
    sys.exit(1 if p else 0)


# --- the compose file --------------------------------------------------------

args = sys.argv[1:]
compose, project, readme = args[:3]
opts = args[3:]
with_slots = "--with-slots" in opts


def opt(name, default):
    """The last value given for option NAME."""
    vals = [opts[i + 1] for i in range(len(opts) - 1) if opts[i] == name]
    return vals[-1] if vals else default


src = opt("--src", project)
build = opt("--build", "")
problems = []


def problem(msg):
    problems.append(msg)


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


def as_dict(x):
    if isinstance(x, list):
        return dict(e.split("=", 1) if "=" in e else (e, "") for e in x)
    return x or {}


def deps_of(svc):
    d = svc.get("depends_on") or {}
    if isinstance(d, list):
        d = {n: {"condition": "service_started"} for n in d}
    return d


def cmd_list(x):
    if x is None:
        return []
    return x if isinstance(x, list) else str(x).split()


def mounts(svc):
    """[(source, target)] of the service's volumes."""
    out = []
    for v in svc.get("volumes") or []:
        if isinstance(v, dict):
            out.append((v.get("source"), v.get("target")))
        else:
            parts = str(v).split(":")
            out.append((parts[0], parts[1] if len(parts) > 1 else parts[0]))
    return out


def host_port(value):
    """(host, port) of URL-ish or host:port values."""
    m = re.match(r"^(?:[a-z]+://)?([^/:@]+)(?::(\d+))?", str(value))
    return (m.group(1), m.group(2)) if m else (None, None)


def secret_names(svc):
    return {s.get("source") if isinstance(s, dict) else s
            for s in svc.get("secrets") or []}


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
table = readme_table(readme)
for name in sorted(set(re.findall(r"SIMPKI_[A-Z0-9_]+", text))):
    if name not in table:
        problem("%s is not documented in README.md's configuration table"
                % name)

ports_seen = {}
for name, svc in services.items():
    if not isinstance(svc, dict):
        problem("service %s is not a mapping" % name)
        continue
    if "image" not in svc and "build" not in svc:
        problem("service %s has neither image nor build" % name)
    build_spec = svc.get("build")
    if build_spec is not None:
        if isinstance(build_spec, str):
            build_spec = {"context": build_spec}
        ctx = os.path.normpath(os.path.join(project,
                                            build_spec.get("context", ".")))
        if not os.path.isdir(ctx):
            problem("service %s: build context %s does not exist"
                    % (name, build_spec.get("context")))
        df = os.path.join(ctx, build_spec.get("dockerfile", "Dockerfile"))
        if not os.path.isfile(df):
            problem("service %s: dockerfile %s does not exist"
                    % (name, build_spec.get("dockerfile", "Dockerfile")))
        elif build_spec.get("target"):
            if build_spec["target"] not in [
                    s[1] for s in dockerfile_stages(df)]:
                problem("service %s: build target %s is not a stage of %s"
                        % (name, build_spec["target"],
                           build_spec.get("dockerfile", "Dockerfile")))
    for dep, spec in deps_of(svc).items():
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
    for s in secret_names(svc):
        if s not in top_secrets:
            problem("service %s uses secret %s, which is not declared"
                    % (name, s))
    for src_path, _target in mounts(svc):
        if not src_path:
            continue
        if src_path.startswith((".", "/")):
            if src_path.startswith(".") and not os.path.exists(
                    os.path.join(project, src_path)):
                problem("service %s mounts %s, which does not exist"
                        % (name, src_path))
        elif src_path not in top_volumes:
            problem("service %s uses volume %s, which is not declared"
                    % (name, src_path))
    env = as_dict(svc.get("environment"))
    for k, v in env.items():
        if re.search(r"PASSWORD$", k) and v not in (None, ""):
            problem("service %s sets %s in the file: use a secret" % (name, k))
        m = re.match(r"^/run/secrets/([^/]+)", str(v))
        if m and m.group(1) not in secret_names(svc):
            problem("service %s: %s reads secret %s, which it does not get"
                    % (name, k, m.group(1)))
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
    for k in ("SIMPKI_KAFKA_BOOTSTRAP", "BOOTSTRAP_SERVERS"):
        if env.get(k):
            for hp in str(env[k]).split(","):
                if hp.split(":")[0] not in services:
                    problem("service %s: %s host %s is not a service"
                            % (name, k, hp))
    # The real parts run here: their addresses name services of this file.
    for k in ("SIMPKI_HLR_CTRL", "SIMPKI_SMTP_URL", "SIMPKI_KANNEL_URL"):
        if env.get(k):
            h, _p = host_port(env[k])
            if h not in services:
                problem("service %s: %s host %s is not a service"
                        % (name, k, h))
            elif not (services[h] or {}).get("healthcheck"):
                problem("service %s: %s names %s, which has no healthcheck"
                        % (name, k, h))
    # Images: named, with a tag, never `latest`.
    image = svc.get("image")
    if image is not None:
        m = re.match(r"^(?:[^/]+/)*[^/:@]+(?::([\w][\w.-]{0,127}))?"
                     r"(@sha256:[0-9a-f]{64})?$", str(image))
        if not m or not (m.group(1) or m.group(2)):
            problem("service %s: image %s has no tag" % (name, image))
        elif m.group(1) == "latest":
            problem("service %s: image %s is tagged latest" % (name, image))
    elif build_spec is not None:
        problem("service %s builds an image without naming it (image:)"
                % name)
    # Long-running containers say so and have a health check.
    restart = str(svc.get("restart", ""))
    if restart == "":
        problem("service %s does not say its restart policy" % name)
    elif restart != "no":
        hc = svc.get("healthcheck") or {}
        test = cmd_list(hc.get("test"))
        if not hc or hc.get("disable") or test[:1] == ["NONE"] or not test:
            problem("service %s runs for good but has no healthcheck" % name)

# --- Kafka: three KRaft nodes ------------------------------------------------
brokers = {n: s for n, s in services.items()
           if str((s or {}).get("image", "")).startswith("apache/kafka:")
           and "broker" in str(as_dict((s or {}).get("environment"))
                               .get("KAFKA_PROCESS_ROLES", ""))}
kafka_images = {str(s.get("image")) for s in services.values()
                if "kafka" in str((s or {}).get("image", ""))}
if any(not i.startswith("apache/kafka:") for i in kafka_images):
    problem("kafka must run the official apache/kafka image")
if len(brokers) < 3:
    problem("need three Kafka brokers, found %d (%s)"
            % (len(brokers), ", ".join(sorted(brokers)) or "none"))
voters, node_ids, kvols = {}, {}, {}
for n, s in sorted(brokers.items()):
    kenv = as_dict(s.get("environment"))
    roles = set(str(kenv.get("KAFKA_PROCESS_ROLES", "")).split(","))
    if roles != {"broker", "controller"}:
        problem("%s must run KRaft as broker,controller" % n)
    for k in ("KAFKA_NODE_ID", "KAFKA_CONTROLLER_QUORUM_VOTERS",
              "KAFKA_LISTENERS", "KAFKA_ADVERTISED_LISTENERS",
              "KAFKA_CONTROLLER_LISTENER_NAMES", "CLUSTER_ID"):
        if k not in kenv:
            problem("%s lacks %s" % (n, k))
    nid = str(kenv.get("KAFKA_NODE_ID"))
    if nid in node_ids:
        problem("%s and %s share node id %s" % (node_ids[nid], n, nid))
    node_ids[nid] = n
    voters[n] = str(kenv.get("KAFKA_CONTROLLER_QUORUM_VOTERS", ""))
    if ("INTERNAL://%s:" % n) not in str(kenv.get(
            "KAFKA_ADVERTISED_LISTENERS", "")) and \
            ("PLAINTEXT://%s:" % n) not in str(kenv.get(
                "KAFKA_ADVERTISED_LISTENERS", "")):
        problem("%s does not advertise itself by its service name" % n)
    want = {"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "3",
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "3",
            "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "2",
            "KAFKA_DEFAULT_REPLICATION_FACTOR": "3",
            "KAFKA_MIN_INSYNC_REPLICAS": "2",
            "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
            "KAFKA_LOG_RETENTION_HOURS": "-1"}
    for k, v in want.items():
        if str(kenv.get(k)).lower() != v:
            problem("%s: %s must be %s, not %s" % (n, k, v, kenv.get(k)))
    if not s.get("healthcheck"):
        problem("%s has no healthcheck" % n)
    data = [src_path for src_path, t in mounts(s)
            if t == kenv.get("KAFKA_LOG_DIRS")]
    if not data:
        problem("%s keeps its log folder %s on no volume"
                % (n, kenv.get("KAFKA_LOG_DIRS")))
    for v in data:
        if v in kvols:
            problem("%s and %s share the volume %s" % (kvols[v], n, v))
        kvols[v] = n
if brokers:
    if len(set(voters.values())) != 1:
        problem("the Kafka nodes disagree on KAFKA_CONTROLLER_QUORUM_VOTERS")
    got = {}
    for v in next(iter(voters.values())).split(","):
        m = re.match(r"^(\d+)@([^:]+):\d+$", v.strip())
        if m:
            got[m.group(1)] = m.group(2)
    if got != {i: n for i, n in node_ids.items()}:
        problem("the quorum voters %s are not the nodes %s"
                % (next(iter(voters.values())),
                   ",".join("%s@%s" % kv for kv in sorted(node_ids.items()))))
    if len(got) < 3:
        problem("the controller quorum needs three voters, has %d"
                % len(got))

# --- topics: the job, its list, the code -------------------------------------
job = services.get("kafka-topics")
if not isinstance(job, dict):
    problem("no kafka-topics job creates the topics")
else:
    if brokers and str(job.get("image")) not in {
            str(s.get("image")) for s in brokers.values()}:
        problem("kafka-topics must run the brokers' image")
    if str(job.get("restart", "")) != "no":
        problem("kafka-topics must run once (restart: \"no\")")
    for b in brokers:
        if (deps_of(job).get(b) or {}).get("condition") != "service_healthy":
            problem("kafka-topics must wait for %s to be healthy" % b)
    argv = cmd_list(job.get("entrypoint")) + cmd_list(job.get("command"))
    mnt = {t: s for s, t in mounts(job)}
    script = [a for a in argv if a in mnt and
              os.path.basename(mnt[a]) == "kafka-topics.sh"]
    if not script:
        problem("kafka-topics does not run the mounted "
                "deploy/docker/kafka-topics.sh")
    listing = [a for a in argv if a in mnt and a not in script]
    if not listing:
        problem("kafka-topics is given no mounted topic list")
    else:
        path = os.path.join(project, mnt[listing[-1]])
        listed = {}
        for raw in (open(path, encoding="utf-8") if os.path.isfile(path)
                    else []):
            line = raw.split("#", 1)[0].split()
            if not line:
                continue
            if len(line) != 2 or not re.fullmatch(r"[1-9][0-9]*", line[1]):
                problem("%s: line %r is not NAME PARTITIONS"
                        % (mnt[listing[-1]], raw.strip()))
                continue
            listed[line[0]] = int(line[1])
        wanted, consumed, probs = code_topics(src)
        for p in probs:
            problem(p)
        wanted = wanted | {t + ".dlq" for t in consumed}
        if not consumed:
            problem("found no topic the services subscribe to in %s" % src)
        for t in sorted(wanted - set(listed)):
            problem("topic %s is used by the code but not created by "
                    "kafka-topics" % t)
        for t in sorted(set(listed) - wanted):
            problem("kafka-topics creates %s, which no code uses" % t)
simpki_services = [n for n, s in services.items()
                   if str((s or {}).get("image", "")).startswith("simpki:")
                   and n != "migrate"]
for n in simpki_services:
    for dep in ("migrate", "kafka-topics"):
        if (deps_of(services[n]).get(dep) or {}).get("condition") != \
                "service_completed_successfully":
            problem("service %s must wait for %s to complete" % (n, dep))

# --- the simpki services -------------------------------------------------------
version = project_version(src)
for n, s in services.items():
    img = str((s or {}).get("image", ""))
    if img.startswith(("simpki:", "simpki-")) and \
            img.split(":", 1)[-1] != version:
        problem("service %s: image %s is not tagged with the project "
                "version %s (CMakeLists.txt)" % (n, img, version))
df_path = os.path.join(project, "deploy/docker/Dockerfile")
runtime_env = {}
copies = []
if os.path.isfile(df_path):
    stages = dockerfile_stages(df_path)
    runtime_env = stage_env(stages[-1][2])
    copies = [m.group(1) for m in re.finditer(
        r"^COPY\s+(?!--from)\S+\s+(\S+)\s*$", stages[-1][2], re.M)]
tree_defaults = {n for n, d in table.items() if "source tree's" in d}
if not tree_defaults:
    problem("README's configuration names no default in the source tree")
for n in sorted(tree_defaults):
    v = runtime_env.get(n)
    if not v:
        problem("the runtime image does not set %s (its default is in the "
                "source tree, which the image lacks)" % n)
    elif not any(v.rstrip("/").startswith(c.rstrip("/")) or
                 c.rstrip("/").startswith(v.rstrip("/")) for c in copies):
        problem("the runtime image sets %s=%s, but copies nothing there"
                % (n, v))
by_command = {}
for n, s in services.items():
    cmd = cmd_list((s or {}).get("command"))
    if cmd and str((s or {}).get("image", "")).startswith("simpki:"):
        by_command.setdefault(cmd[0], n)
for name in service_dirs(src):
    cname = by_command.get(name)
    if not cname:
        problem("services/%s has no container" % name)
        continue
    svc = services[cname]
    env = dict(runtime_env)
    env.update({k: v for k, v in as_dict(svc.get("environment")).items()
                if v not in (None, "")})
    req, read, origin = service_env(name, src, build)
    if req is None:
        problem("%s: cannot find its required variables in its %s"
                % (name, origin))
        continue
    for k in sorted(req - set(env)):
        problem("service %s lacks %s (required by its %s)"
                % (cname, k, origin))
    port = env.get("SIMPKI_HTTP_PORT")
    if not port:
        problem("service %s does not set SIMPKI_HTTP_PORT" % cname)
    else:
        test = " ".join(cmd_list((svc.get("healthcheck") or {}).get("test")))
        if ":%s/healthz" % port not in test:
            problem("service %s: its healthcheck does not ask /healthz on "
                    "port %s" % (cname, port))

# --- the parts beside simpki ---------------------------------------------------
def first_env(key):
    for n, s in services.items():
        v = as_dict((s or {}).get("environment")).get(key)
        if v:
            return n, str(v)
    return None, None


def read_conf(service, target):
    for s, t in mounts(services.get(service) or {}):
        if t == target and s and s.startswith("."):
            return open(os.path.join(project, s), encoding="utf-8").read()
    return None


_, hlr = first_env("SIMPKI_HLR_CTRL")
if hlr:
    h, p = host_port(hlr)
    if p != "4259":
        problem("SIMPKI_HLR_CTRL must use OsmoHLR's CTRL port 4259")
    hlr_cfg = os.path.join(project, "deploy/docker/osmo-hlr.cfg")
    if not os.path.isfile(hlr_cfg) or not re.search(
            r"^ctrl\s*\n\s+bind\s+0\.0\.0\.0\s*$",
            open(hlr_cfg).read(), re.M):
        problem("deploy/docker/osmo-hlr.cfg must bind CTRL on 0.0.0.0")
    if (services.get(h) or {}).get("volumes") is None:
        problem("%s keeps its database on no volume" % h)
_, kurl = first_env("SIMPKI_KANNEL_URL")
if kurl:
    h, p = host_port(kurl)
    conf = read_conf(h, "/etc/kannel/kannel.conf")
    if conf is None:
        problem("%s mounts no kannel.conf at /etc/kannel/kannel.conf" % h)
    else:
        groups = [dict(re.findall(r"^([a-z-]+)\s*=\s*\"?([^\"\n]*)\"?\s*$",
                                  g, re.M))
                  for g in re.split(r"\n\s*\n", re.sub(r"(?m)^#.*\n", "",
                                                       conf))]
        kinds = [g.get("group") for g in groups]
        sms = [g for g in groups if g.get("group") == "smsbox"]
        if not sms or sms[0].get("sendsms-port") != p:
            problem("kannel.conf: sendsms-port is not %s (SIMPKI_KANNEL_URL)"
                    % p)
        _, kuser = first_env("SIMPKI_KANNEL_USER")
        if not any(g.get("group") == "sendsms-user" and
                   g.get("username") == kuser for g in groups):
            problem("kannel.conf has no sendsms-user %s (SIMPKI_KANNEL_USER)"
                    % kuser)
        if "smsc" not in kinds:
            problem("kannel.conf has no smsc group (bearerbox stops "
                    "without one)")
        for g in groups:
            for k, v in g.items():
                if "password" in k and not re.fullmatch(r"@[A-Z_]+@", v):
                    problem("kannel.conf writes a password (%s); use a "
                            "placeholder and a secret" % k)
        ep = os.path.join(project, "deploy/docker/kannel-entrypoint.sh")
        for sec in re.findall(r"\bsecret\s+([a-z_]+)\)",
                              open(ep).read() if os.path.isfile(ep) else ""):
            if sec not in secret_names(services[h]):
                problem("%s: its entrypoint reads secret %s, which it does "
                        "not get" % (h, sec))
_, smtp = first_env("SIMPKI_SMTP_URL")
if smtp:
    h, p = host_port(smtp)
    maincf = os.path.join(project, "deploy/docker/postfix-main.cf")
    cf = open(maincf).read() if os.path.isfile(maincf) else ""
    if not re.search(r"^smtpd_relay_restrictions\s*=.*\breject\s*$", cf,
                     re.M):
        problem("postfix-main.cf must reject relaying for strangers")
    if (p or "25") != "25":
        problem("SIMPKI_SMTP_URL must use the relay's port 25")

# --- secrets stay out of git ---------------------------------------------------
ignores = []
gi = os.path.join(project, ".gitignore")
if os.path.isfile(gi):
    ignores = [l.strip() for l in open(gi) if l.strip() and
               not l.startswith("#")]
for sname, spec in top_secrets.items():
    f = os.path.normpath(str((spec or {}).get("file", "")))
    if f and not any(fnmatch.fnmatch(f, pat.rstrip("/")) or
                     fnmatch.fnmatch(f + "/", pat) for pat in ignores):
        problem("secret %s: %s is not ignored by git" % (sname, f))

# --- what this deployment must contain -----------------------------------------
pg = services.get("postgres") or {}
if pg.get("image") != "postgres:15":
    problem("postgres must run postgres:15")
if not pg.get("healthcheck") or not pg.get("volumes"):
    problem("postgres needs a healthcheck and a volume")
mig = services.get("migrate") or {}
if "simpkictl db migrate" not in " ".join(cmd_list(mig.get("command"))):
    problem("migrate must run simpkictl db migrate")
if not isinstance(mig.get("build"), dict) or \
        mig["build"].get("dockerfile") != "deploy/docker/Dockerfile":
    problem("migrate must be built from deploy/docker/Dockerfile")
menv = as_dict(mig.get("environment"))
for k in ("SIMPKI_DB_URL", "SIMPKI_KAFKA_BOOTSTRAP"):
    if k not in menv:
        problem("migrate lacks %s" % k)
if (deps_of(mig).get("postgres") or {}).get("condition") != "service_healthy":
    problem("migrate must wait for postgres to be healthy")
for n in ("osmo-hlr", "kannel", "smtp-relay"):
    if n not in services:
        problem("no %s container" % n)
for n in simpki_services:
    boot = set(str(as_dict(services[n].get("environment"))
                   .get("SIMPKI_KAFKA_BOOTSTRAP", "")).split(","))
    for b in brokers:
        if not any(x.startswith(b + ":") for x in boot):
            problem("service %s: SIMPKI_KAFKA_BOOTSTRAP lacks %s" % (n, b))
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

# check NAME WANT_RC REGEX COMPOSE PROJECT [--with-slots] [--build DIR]
check() {
  local name=$1 want=$2 regex=$3 compose=$4 project=$5
  shift 5
  OUT=$("$PY" "$TMP/check_compose.py" "$compose" "$project" "$SRC/README.md" \
    --src "$SRC" --build "$BUILD" "$@" 2>&1)
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
"$PY" -c 'import yaml' 2>/dev/null || { echo "FAIL - python3-yaml is not installed"; exit 1; }
check "docker-compose.yml passes" 0 '^compose: [0-9]+ services, 0 problems$' "$COMPOSE" "$SRC"
check "docker-compose.yml passes with the service slot enabled" 0 \
  '^compose: 17 services \(slots enabled\), 0 problems$' "$COMPOSE" "$SRC" --with-slots
check "docker-compose.yml passes with variables read from the sources" 0 \
  '^compose: [0-9]+ services, 0 problems$' "$COMPOSE" "$SRC" --build "$TMP/no-build"
if [ -x "$BUILD/services/notifier/notifier" ]; then
  ok "the services' --help come from $BUILD"
else
  echo "note - $BUILD has no service binaries: variables come from main.c only"
fi

# A copy of the project whose deploy/ and docker-compose.yml may be edited;
# the rest links to the source tree.
mkproj() {
  local d=$TMP/proj e
  rm -rf "$d"
  mkdir -p "$d"
  for e in "$SRC"/* "$SRC"/.gitignore; do
    case ${e##*/} in deploy | docker-compose.yml) ;; *) ln -s "$e" "$d/" ;; esac
  done
  cp -r "$SRC/deploy" "$d/deploy"
  cp "$SRC/docker-compose.yml" "$d/docker-compose.yml"
}

# mutate NAME REGEX PYTHON-EDIT [OPTS]: the edit changes docker-compose.yml's
# text `t`; the result must fail naming the problem.
# mutate_file NAME REGEX FILE PYTHON-EDIT [OPTS]: the same for FILE (relative
# to the repository) in a copy of the project.
mutate_file() {
  local name=$1 regex=$2 file=$3 edit=$4
  shift 4
  mkproj
  "$PY" - "$SRC/$file" "$TMP/proj/$file" <<EOF || { not_ok "$name: edit failed"; return; }
import sys
t = open(sys.argv[1]).read()
o = t
$edit
assert t != o, "edit changed nothing"
open(sys.argv[2], "w").write(t)
EOF
  check "broken copy rejected: $name" 1 "$regex" "$TMP/proj/docker-compose.yml" "$TMP/proj" "$@"
}
mutate() {
  local name=$1 regex=$2 edit=$3
  shift 3
  mutate_file "$name" "$regex" docker-compose.yml "$edit" "$@"
}

# What compose itself would refuse.
mutate "not YAML" '^COMPOSE: does not parse as YAML' \
  't = t.replace("services:\n", "services:\n  - [\n", 1)'
mutate "no image or build" '^COMPOSE: service postgres has neither image nor build' \
  't = t.replace("    image: postgres:15\n", "", 1)'
mutate "missing build context" '^COMPOSE: service migrate: build context \./nowhere does not exist' \
  't = t.replace("  context: .\n", "  context: ./nowhere\n", 1)'
mutate "missing Dockerfile" '^COMPOSE: service migrate: dockerfile deploy/docker/Dockerfile\.nope does not exist' \
  't = t.replace("dockerfile: deploy/docker/Dockerfile", "dockerfile: deploy/docker/Dockerfile.nope", 1)'
mutate "build target not a stage" '^COMPOSE: service kannel: build target kanel is not a stage' \
  't = t.replace("target: kannel\n", "target: kanel\n", 1)'
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
mutate "secret not given to its reader" '^COMPOSE: service vendor-exchange: SIMPKI_KEK_FILE reads secret kek, which it does not get' \
  't = t.replace("secrets: [db_password, kek, transport-keys]", "secrets: [db_password, transport-keys]", 1)'
mutate "secret file not ignored by git" '^COMPOSE: secret kannel_smsc_password: deploy/docker/smsc\.pw is not ignored by git' \
  't = t.replace("file: ./deploy/docker/kannel_smsc_password.secret", "file: ./deploy/docker/smsc.pw", 1)'
mutate "undeclared volume" '^COMPOSE: service kafka-1 uses volume kafka-1-data, which is not declared' \
  't = t.replace("\n  kafka-1-data:\n", "\n", 1)'
mutate "missing bind mount" '^COMPOSE: service kafka-topics mounts \./deploy/docker/topic\.txt, which does not exist' \
  't = t.replace("./deploy/docker/topics.txt:", "./deploy/docker/topic.txt:", 1)'
mutate "bootstrap names no service" '^COMPOSE: service migrate: SIMPKI_KAFKA_BOOTSTRAP host broker:9092 is not a service' \
  't = t.replace("SIMPKI_KAFKA_BOOTSTRAP: kafka-1:9092,", "SIMPKI_KAFKA_BOOTSTRAP: broker:9092,", 1)'
mutate "migrate runs something else" '^COMPOSE: migrate must run simpkictl db migrate' \
  't = t.replace("[\"simpkictl\", \"db\", \"migrate\"]", "[\"simpkictl\", \"db\", \"status\"]", 1)'
mutate "a host port published twice" \
  '^COMPOSE: host port 8088/tcp is published by both order-intake and dashboard' \
  't = t.replace("ports: [\"127.0.0.1:8081:8081\"]", "ports: [\"127.0.0.1:8088:8081\"]", 1)'
mutate "a service depends on a missing service" \
  '^COMPOSE: service dashboard depends on kafkaa, which does not exist' \
  'i = t.index("\n  dashboard:\n"); t = t[:i] + t[i:].replace("      <<: *simpki-deps\n", "      <<: *simpki-deps\n      kafkaa: {condition: service_healthy}\n", 1)'

# Images.
mutate "image without a tag" '^COMPOSE: service postgres: image postgres has no tag' \
  't = t.replace("    image: postgres:15\n", "    image: postgres\n", 1)'
mutate "image tagged latest" '^COMPOSE: service kafka-2: image apache/kafka:latest is tagged latest' \
  'i = t.index("\n  kafka-2:\n"); t = t[:i] + t[i:].replace("apache/kafka:3.9.0", "apache/kafka:latest", 1)'
mutate "our image off the project version" '^COMPOSE: service migrate: image simpki:0\.0\.9 is not tagged with the project version' \
  't = t.replace("    image: simpki:0.1.0\n", "    image: simpki:0.0.9\n", 1)'
mutate "a built image without a name" '^COMPOSE: service kannel builds an image without naming it' \
  't = t.replace("    image: simpki-kannel:0.1.0\n", "", 1)'

# Kafka.
mutate "not KRaft" '^COMPOSE: kafka-1 must run KRaft as broker,controller' \
  't = t.replace("KAFKA_PROCESS_ROLES: broker,controller", "KAFKA_PROCESS_ROLES: broker", 1)'
mutate "two brokers" '^COMPOSE: need three Kafka brokers, found 2' \
  'i = t.index("  kafka-3:\n"); j = t.index("\n\n", i); t = t[:i] + t[j + 2:]'
mutate "voters are not the nodes" '^COMPOSE: the quorum voters .* are not the nodes' \
  't = t.replace("3@kafka-3:9093", "3@kafka-4:9093", 1)'
mutate "two nodes, one id" '^COMPOSE: kafka-1 and kafka-2 share node id 1' \
  'i = t.index("\n  kafka-2:\n"); t = t[:i] + t[i:].replace("KAFKA_NODE_ID: 2", "KAFKA_NODE_ID: 1", 1)'
mutate "two nodes, one volume" '^COMPOSE: kafka-1 and kafka-2 share the volume kafka-1-data' \
  't = t.replace("- kafka-2-data:/var/lib/kafka/data", "- kafka-1-data:/var/lib/kafka/data", 1)'
mutate "nodes disagree on the voters" '^COMPOSE: the Kafka nodes disagree on KAFKA_CONTROLLER_QUORUM_VOTERS' \
  'i = t.index("\n  kafka-2:\n"); t = t[:i] + t[i:].replace("      KAFKA_NODE_ID: 2\n", "      KAFKA_NODE_ID: 2\n      KAFKA_CONTROLLER_QUORUM_VOTERS: 2@kafka-2:9093\n", 1)'
mutate "a node advertising another" '^COMPOSE: kafka-2 does not advertise itself by its service name' \
  't = t.replace("INTERNAL://kafka-2:9092", "INTERNAL://kafka-1:9092", 1)'
mutate "a node keeping its log off its volume" '^COMPOSE: kafka-3 keeps its log folder /var/lib/kafka/data on no volume' \
  't = t.replace("- kafka-3-data:/var/lib/kafka/data", "- kafka-3-data:/var/lib/kafka/other", 1)'
mutate "auto topic creation" '^COMPOSE: kafka-1: KAFKA_AUTO_CREATE_TOPICS_ENABLE must be false' \
  't = t.replace("KAFKA_AUTO_CREATE_TOPICS_ENABLE: \"false\"", "KAFKA_AUTO_CREATE_TOPICS_ENABLE: \"true\"", 1)'
mutate "min ISR 1" '^COMPOSE: kafka-1: KAFKA_MIN_INSYNC_REPLICAS must be 2' \
  't = t.replace("KAFKA_MIN_INSYNC_REPLICAS: 2", "KAFKA_MIN_INSYNC_REPLICAS: 1", 1)'
mutate "offsets on one replica" '^COMPOSE: kafka-1: KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR must be 3' \
  't = t.replace("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: 3", "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: 1", 1)'
mutate "bootstrap lacks a broker" '^COMPOSE: service order-intake: SIMPKI_KAFKA_BOOTSTRAP lacks kafka-3' \
  't = t.replace("SIMPKI_KAFKA_BOOTSTRAP: kafka-1:9092,kafka-2:9092,kafka-3:9092", "SIMPKI_KAFKA_BOOTSTRAP: kafka-1:9092,kafka-2:9092", 1)'

# Topics.
mutate "topic job on another image" "^COMPOSE: kafka-topics must run the brokers' image" \
  'i = t.index("\n  kafka-topics:\n"); t = t[:i] + t[i:].replace("apache/kafka:3.9.0", "apache/kafka:3.8.0", 1)'
mutate "topic job restarts" '^COMPOSE: kafka-topics must run once' \
  'i = t.index("\n  kafka-topics:\n"); t = t[:i] + t[i:].replace("    restart: \"no\"\n", "    restart: unless-stopped\n", 1)'
mutate "topic job does not wait for a broker" '^COMPOSE: kafka-topics must wait for kafka-3 to be healthy' \
  'i = t.index("\n  kafka-topics:\n"); t = t[:i] + t[i:].replace("      kafka-3: {condition: service_healthy}\n", "", 1)'
mutate "topic job runs no script" '^COMPOSE: kafka-topics does not run the mounted deploy/docker/kafka-topics.sh' \
  't = t.replace("\"/opt/simpki/kafka-topics.sh\", \"/opt", "\"/opt/kafka/bin/kafka-topics.sh\", \"/opt", 1)'
mutate "services do not wait for the topics" '^COMPOSE: service order-intake must wait for kafka-topics to complete' \
  't = t.replace("  kafka-topics: {condition: service_completed_successfully}\n", "", 1)'
mutate_file "a dead-letter topic not created" '^COMPOSE: topic connections\.dlq is used by the code but not created by kafka-topics' \
  deploy/docker/topics.txt 'import re; t = re.sub(r"(?m)^connections\.dlq .*\n", "", t)'
mutate_file "a topic not created" '^COMPOSE: topic sigverify\.results is used by the code but not created by kafka-topics' \
  deploy/docker/topics.txt 'import re; t = re.sub(r"(?m)^sigverify\.results .*\n", "", t)'
mutate_file "a topic no code uses" '^COMPOSE: kafka-topics creates orders\.old, which no code uses' \
  deploy/docker/topics.txt 't += "orders.old 3\n"'
mutate_file "a topic without a partition count" '^COMPOSE: \./deploy/docker/topics\.txt: line .sims twelve. is not NAME PARTITIONS' \
  deploy/docker/topics.txt 'import re; t = re.sub(r"(?m)^sims +12$", "sims twelve", t)'

# The services.
mutate "a service without a container" '^COMPOSE: services/accounts has no container' \
  't = t.replace("command: [\"accounts\"]", "command: [\"accountz\"]", 1)'
mutate "a required variable unset" '^COMPOSE: service hlr-provisioner lacks SIMPKI_HLR_CTRL \(required by its (--help|main\.c)\)' \
  't = t.replace("      SIMPKI_HLR_CTRL: \"osmo-hlr:4259\"\n", "", 1)'
mutate "a required variable unset (from main.c)" '^COMPOSE: service notifier lacks SIMPKI_SMTP_URL \(required by its main\.c\)' \
  't = t.replace("      SIMPKI_SMTP_URL: \"smtp://smtp-relay:25\"\n", "", 1)' --build "$TMP/no-build"
mutate "no healthcheck" '^COMPOSE: service inventory runs for good but has no healthcheck' \
  'i = t.index("\n  inventory:\n"); j = t.index("    healthcheck:", i); k = t.index("    depends_on:", j); t = t[:j] + t[k:]'
mutate "healthcheck on another port" '^COMPOSE: service notifier: its healthcheck does not ask /healthz on port 8086' \
  't = t.replace("127.0.0.1:8086/healthz", "127.0.0.1:8080/healthz", 1)'
mutate "no restart policy" '^COMPOSE: service osmo-hlr does not say its restart policy' \
  'i = t.index("\n  osmo-hlr:\n"); t = t[:i] + t[i:].replace("    restart: unless-stopped\n", "", 1)'
mutate_file "image without a source-tree default" '^COMPOSE: the runtime image does not set SIMPKI_TEMPLATE_DIR' \
  deploy/docker/Dockerfile 't = t.replace("    SIMPKI_TEMPLATE_DIR=/usr/share/simpki/templates/notifier \\\n", "", 1)'
mutate_file "image lacks the folder it names" '^COMPOSE: the runtime image sets SIMPKI_TEMPLATE_DIR=\S+, but copies nothing there' \
  deploy/docker/Dockerfile 't = t.replace("COPY data/templates/notifier/ /usr/share/simpki/templates/notifier/\n", "", 1)'

# The parts beside simpki.
mutate "SMS gateway outside the file" '^COMPOSE: service notifier: SIMPKI_KANNEL_URL host sms\.mobifone\.internal is not a service' \
  't = t.replace("http://kannel:13013", "http://sms.mobifone.internal:13013", 1)'
mutate "HLR on another port" '^COMPOSE: SIMPKI_HLR_CTRL must use OsmoHLR.s CTRL port 4259' \
  't = t.replace("\"osmo-hlr:4259\"", "\"osmo-hlr:4258\"", 1)'
mutate "Kannel without its SMSC password" '^COMPOSE: kannel: its entrypoint reads secret kannel_smsc_password, which it does not get' \
  't = t.replace("secrets: [kannel_password, kannel_smsc_password]", "secrets: [kannel_password]", 1)'
mutate_file "OsmoHLR CTRL on loopback" '^COMPOSE: deploy/docker/osmo-hlr\.cfg must bind CTRL on 0\.0\.0\.0' \
  deploy/docker/osmo-hlr.cfg 't = t.replace("ctrl\n bind 0.0.0.0", "ctrl\n bind 127.0.0.1", 1)'
mutate_file "Kannel sendsms on another port" '^COMPOSE: kannel\.conf: sendsms-port is not 13013' \
  deploy/docker/kannel.conf 't = t.replace("sendsms-port = 13013", "sendsms-port = 13014", 1)'
mutate_file "Kannel without the services' user" '^COMPOSE: kannel\.conf has no sendsms-user simpki' \
  deploy/docker/kannel.conf 't = t.replace("username = simpki", "username = simpk1", 1)'
mutate_file "Kannel password in the file" '^COMPOSE: kannel\.conf writes a password \(password\)' \
  deploy/docker/kannel.conf 't = t.replace("password = \"@SENDSMS_PASSWORD@\"", "password = \"hunter2\"", 1)'
mutate_file "Kannel without an smsc group" '^COMPOSE: kannel\.conf has no smsc group' \
  deploy/docker/kannel.conf 't = t[:t.index("group = smsc\n")]'
mutate_file "an open mail relay" '^COMPOSE: postfix-main\.cf must reject relaying for strangers' \
  deploy/docker/postfix-main.cf 't = t.replace("smtpd_relay_restrictions = permit_mynetworks, reject", "smtpd_relay_restrictions = permit", 1)'

# --- the topics the code names ---------------------------------------------------
# The derivation itself, on a small made-up tree: #defines, literals,
# subscriptions (whose dead letters are wanted) and outbox calls.
mkdir -p "$TMP/fakesrc/services/demo" "$TMP/fakesrc/tools/ctl"
cat >"$TMP/fakesrc/services/demo/demo.h" <<'EOF'
#define DEMO_TOPIC_OUT "demo.out"
#define DEMO_PRODUCER "demo"
EOF
cat >"$TMP/fakesrc/services/demo/main.c" <<'EOF'
static int f(PGconn *c, const char *topic) {
  sp_outbox_publish(c, DEMO_PRODUCER, "/demo", topic, "t", s, NULL,
                    json_pack("{s:s}", "a", "b"), e, sizeof e);
  return sp_outbox_emit(c, "demo", "demo.audit", &ev, e, sizeof e);
}
int main(void) { const char *topics[] = {"demo.in", DEMO_TOPIC_OUT, NULL}; }
EOF
cat >"$TMP/fakesrc/tools/ctl/cmd.c" <<'EOF'
int g(void) { return sp_outbox_publish(c, "ctl", "/ctl", "demo.ctl", "x", s, NULL, d, e, n); }
EOF
got=$("$PY" "$TMP/check_compose.py" --print-topics "$TMP/fakesrc" 2>&1 | tr '\n' ' ')
want="topic demo.audit topic demo.ctl topic demo.in topic demo.out dlq demo.in.dlq dlq demo.out.dlq "
[ "$got" = "$want" ] && ok "topics are derived from #defines, subscriptions and outbox calls" ||
  not_ok "topic derivation: got '$got', want '$want'"
printf 'int main(void) { const char *topics[] = {MYSTERY_TOPIC, NULL}; }\n' >"$TMP/fakesrc/services/demo/main.c"
got=$("$PY" "$TMP/check_compose.py" --print-topics "$TMP/fakesrc" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && printf '%s\n' "$got" | grep -q 'cannot resolve the subscribed topic MYSTERY_TOPIC' &&
  ok "an unresolvable subscription is a problem, not a silent gap" ||
  not_ok "unresolvable subscription: rc $rc, '$got'"
got=$("$PY" "$TMP/check_compose.py" --print-topics "$SRC" | grep -c '^dlq ')
[ "$got" -ge 5 ] && ok "the source tree subscribes to $got topics (each with a .dlq)" ||
  not_ok "the source tree gives only $got subscribed topics"

# --- deploy/docker/kafka-topics.sh against a stand-in ----------------------------
TOPICS_FILE=$SRC/deploy/docker/topics.txt
KT=$SRC/deploy/docker/kafka-topics.sh
export STUB_DIR=$TMP/stub
mkdir -p "$STUB_DIR/topics"
cat >"$TMP/kafka-topics-stub.sh" <<'EOF'
#!/bin/bash
# Stand-in for kafka-topics.sh: a topic is $STUB_DIR/topics/NAME holding
# "PARTITIONS REPLICATION CONFIGS"; every call is logged to $STUB_DIR/calls.
printf '%s\n' "$*" >>"$STUB_DIR/calls"
[ -e "$STUB_DIR/down" ] && { echo "stub: cluster unreachable" >&2; exit 1; }
mode= topic= parts= rf= configs=
while [ $# -gt 0 ]; do
  case $1 in
  --bootstrap-server) shift 2 ;;
  --list | --create | --describe) mode=${1#--}; shift ;;
  --if-not-exists) shift ;;
  --topic) topic=$2; shift 2 ;;
  --partitions) parts=$2; shift 2 ;;
  --replication-factor) rf=$2; shift 2 ;;
  --config) configs=${configs:+$configs,}$2; shift 2 ;;
  *) echo "stub: unknown argument $1" >&2; exit 2 ;;
  esac
done
case $mode in
list) ls "$STUB_DIR/topics" ;;
create) [ -e "$STUB_DIR/topics/$topic" ] || echo "$parts $rf $configs" >"$STUB_DIR/topics/$topic" ;;
describe)
  for f in "$STUB_DIR"/topics/*; do
    [ -e "$f" ] || continue
    read -r p r c <"$f"
    printf 'Topic: %s\tTopicId: x\tPartitionCount: %s\tReplicationFactor: %s\tConfigs: %s\n' "${f##*/}" "$p" "$r" "$c"
    for ((i = 0; i < p; i++)); do
      printf '\tTopic: %s\tPartition: %d\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,2,3\n' "${f##*/}" "$i"
    done
  done
  ;;
*) echo "stub: no mode" >&2; exit 2 ;;
esac
EOF
chmod +x "$TMP/kafka-topics-stub.sh"
# run_topics FILE: the script as the container runs it, under a strict POSIX sh.
run_topics() {
  TOPICS_OUT=$(BOOTSTRAP_SERVERS=kafka-1:9092,kafka-2:9092,kafka-3:9092 \
    KAFKA_TOPICS_SH=$TMP/kafka-topics-stub.sh KAFKA_TOPICS_ATTEMPTS=1 \
    dash "$KT" "$1" 2>&1)
}
if [ -f "$KT" ] && [ -f "$TOPICS_FILE" ]; then
  dash -n "$KT" && ok "kafka-topics.sh parses (dash)" || not_ok "kafka-topics.sh does not parse"
  run_topics "$TOPICS_FILE"
  rc=$?
  [ "$rc" -eq 0 ] && ok "kafka-topics.sh creates the listed topics" ||
    { not_ok "kafka-topics.sh: exit status $rc"; printf '%s\n' "$TOPICS_OUT" | sed 's/^/       | /' | head -20; }
  "$PY" - "$TOPICS_FILE" "$STUB_DIR/calls" <<'EOF' && ok "every topic is created with its partitions, replication 3, min ISR 2, retention -1, if not there" || not_ok "kafka-topics.sh created something else"
import re, sys
listed = {}
for line in open(sys.argv[1]):
    w = line.split("#", 1)[0].split()
    if w:
        listed[w[0]] = w[1]
made = {}
for call in open(sys.argv[2]):
    if "--create" not in call:
        continue
    m = re.search(r"--topic (\S+) --partitions (\d+)", call)
    for want in ("--if-not-exists", "--replication-factor 3",
                 "--config min.insync.replicas=2", "--config retention.ms=-1"):
        if want not in call:
            sys.exit("missing %s in: %s" % (want, call.strip()))
    made[m.group(1)] = m.group(2)
if made != listed:
    sys.exit("created %s, listed %s" % (made, listed))
EOF
  : >"$STUB_DIR/calls"
  run_topics "$TOPICS_FILE"
  rc=$?
  [ "$rc" -eq 0 ] && ! grep -q -- --create "$STUB_DIR/calls" && ok "a second run creates nothing and passes" ||
    not_ok "second run: exit $rc, calls: $(grep -c -- --create "$STUB_DIR/calls")"
  echo "1 3 min.insync.replicas=2,retention.ms=-1" >"$STUB_DIR/topics/sims"
  run_topics "$TOPICS_FILE"
  rc=$?
  [ "$rc" -ne 0 ] && printf '%s\n' "$TOPICS_OUT" | grep -q 'sims has 1 partitions' &&
    ok "a topic with other partitions stops the job" || not_ok "partition drift: exit $rc: $TOPICS_OUT"
  echo "12 2 retention.ms=-1" >"$STUB_DIR/topics/sims"
  run_topics "$TOPICS_FILE"
  rc=$?
  [ "$rc" -ne 0 ] && printf '%s\n' "$TOPICS_OUT" | grep -q 'sims has replication factor 2' &&
    printf '%s\n' "$TOPICS_OUT" | grep -q 'sims lacks min.insync.replicas=2' &&
    ok "a topic with other replication or configs stops the job" || not_ok "config drift: exit $rc: $TOPICS_OUT"
  rm -f "$STUB_DIR/topics/sims"
  printf 'orders 3\norders 6\n' >"$TMP/dup.txt"
  run_topics "$TMP/dup.txt"
  rc=$?
  [ "$rc" -ne 0 ] && printf '%s\n' "$TOPICS_OUT" | grep -q 'orders is listed twice' &&
    ok "a malformed topic list is refused" || not_ok "malformed list: exit $rc: $TOPICS_OUT"
  touch "$STUB_DIR/down"
  run_topics "$TOPICS_FILE"
  rc=$?
  rm -f "$STUB_DIR/down"
  [ "$rc" -ne 0 ] && printf '%s\n' "$TOPICS_OUT" | grep -q 'cannot list the topics' &&
    ok "an unreachable cluster fails the job" || not_ok "unreachable cluster: exit $rc: $TOPICS_OUT"
else
  not_ok "no deploy/docker/kafka-topics.sh or topics.txt"
fi

# --- deploy/docker/kannel-entrypoint.sh renders its configuration -------------------
KE=$SRC/deploy/docker/kannel-entrypoint.sh
mkdir -p "$TMP/kannel/run" "$TMP/kannel/secrets"
printf 'send&pw|1\n' >"$TMP/kannel/secrets/kannel_password"
printf 'smsc-pw' >"$TMP/kannel/secrets/kannel_smsc_password"
render() {
  KANNEL_TEMPLATE=$SRC/deploy/docker/kannel.conf KANNEL_RUN_DIR=$TMP/kannel/run \
    KANNEL_SECRETS_DIR=$TMP/kannel/secrets bash "$KE" render 2>&1
}
if out=$(render); then
  conf=$TMP/kannel/run/kannel.conf
  if grep -qx 'password = "send&pw|1"' "$conf" && grep -qx 'smsc-password = "smsc-pw"' "$conf" &&
    ! grep -v '^#' "$conf" | grep -q '@[A-Z_]*@' &&
    [ "$(stat -c %a "$conf")" = 600 ] &&
    grep -q "^admin-password = \"$(cat "$TMP/kannel/run/admin.password")\"$" "$conf"; then
    ok "kannel-entrypoint.sh renders the passwords from the secrets (mode 0600)"
  else
    not_ok "kannel-entrypoint.sh rendered a wrong file"
    sed 's/^/       | /' "$conf" | grep -v '^       | #' | head -30
  fi
else
  not_ok "kannel-entrypoint.sh render failed: $out"
fi
rm "$TMP/kannel/secrets/kannel_smsc_password"
out=$(render) && not_ok "kannel-entrypoint.sh renders without the SMSC secret" ||
  { printf '%s' "$out" | grep -q 'secret kannel_smsc_password is missing' &&
    ok "kannel-entrypoint.sh refuses a missing secret" || not_ok "missing secret: $out"; }
printf 'a"b\n' >"$TMP/kannel/secrets/kannel_smsc_password"
out=$(render) && not_ok "kannel-entrypoint.sh renders a quote" ||
  { printf '%s' "$out" | grep -q 'holds a quote' && ok "kannel-entrypoint.sh refuses a password Kannel cannot read" ||
    not_ok "quoted secret: $out"; }

# --- deploy/docker ----------------------------------------------------------
DF="$SRC/deploy/docker/Dockerfile"
if [ -f "$DF" ]; then
  nfrom=$(grep -Ec '^FROM ' "$DF")
  [ "$nfrom" -ge 2 ] && ok "Dockerfile is multi-stage ($nfrom stages)" || not_ok "Dockerfile has $nfrom stage(s)"
  grep -Eq '^FROM debian:12 AS build$' "$DF" && ok "build stage is debian:12" || not_ok "no 'FROM debian:12 AS build' stage"
  bad=$(grep -E '^FROM ' "$DF" | grep -Ev '^FROM debian:12(-slim)? AS [a-z-]+$')
  [ -z "$bad" ] && ok "every stage is Debian 12, named" || not_ok "stages not on Debian 12: $bad"
  # stage NAME: the text of that stage.
  stage() { awk -v n="$1" '/^FROM /{on = ($NF == n)} on' "$DF"; }
  last=$(awk '/^FROM /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$DF")
  printf '%s' "$last" | grep -q '^FROM debian:12-slim AS runtime$' && ok "runtime is the last stage (the default target)" ||
    not_ok "the last stage is not runtime"
  for s in $(grep -E '^FROM ' "$DF" | awk '{print $NF}' | grep -vx build); do
    if stage "$s" | grep -Eq -- '-dev\b|build-essential|cmake|gcc'; then
      not_ok "stage $s installs build tools or -dev packages"
    else
      ok "stage $s carries no build tools"
    fi
  done
  for lib in librdkafka1 libpq5 libjansson4 libssl3 libmicrohttpd12 libcurl4; do
    printf '%s' "$last" | grep -q "$lib" && ok "runtime installs $lib" || not_ok "runtime lacks $lib"
  done
  stage osmo-hlr | grep -qw osmo-hlr && ok "osmo-hlr stage installs Debian's osmo-hlr" || not_ok "osmo-hlr stage lacks osmo-hlr"
  stage kannel | grep -qw kannel && ok "kannel stage installs Debian's kannel" || not_ok "kannel stage lacks kannel"
  stage smtp-relay | grep -qw postfix && ok "smtp-relay stage installs Debian's postfix" || not_ok "smtp-relay stage lacks postfix"
  # The health checks call curl in these images.
  for s in runtime kannel; do
    stage "$s" | grep -qw curl && ok "stage $s installs curl for its health check" || not_ok "stage $s lacks curl"
  done
  # COPY sources from the context exist (paths relative to the repo root);
  # scripts among them are executable and parse.
  while read -r srcpath; do
    if [ ! -e "$SRC/$srcpath" ]; then
      not_ok "COPY source $srcpath does not exist"
      continue
    fi
    ok "COPY source $srcpath exists"
    case $srcpath in
    *.sh)
      [ -x "$SRC/$srcpath" ] && ok "$srcpath is executable" || not_ok "$srcpath is not executable"
      interp=$(head -n1 "$SRC/$srcpath" | sed -n 's|^#! */[a-z/]*/\(env \)\{0,1\}\([a-z]*\).*|\2|p')
      "${interp:-sh}" -n "$SRC/$srcpath" && ok "$srcpath parses ($interp)" || not_ok "$srcpath does not parse"
      ;;
    esac
  done < <(grep -E '^COPY ' "$DF" | grep -v -- '--from=' | awk '{for (i = 2; i < NF; i++) print $i}')
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
