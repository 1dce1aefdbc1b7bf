#!/usr/bin/env bash
# bench/pipeline/bench.sh - the whole pipeline on the services, end to end
# (issue 10). Run it through `bench/run pipeline`, which builds everything
# in Release, brings up a local stack (with OsmoHLR: needs-hlr) and runs this
# with SIMPKI_BUILD_DIR and the stack's variables exported.
#
#   1. References, measured first in the same run: `bench/run ingest` and
#      `bench/run hlr` for the batch's size, each on a stack of its own (ours
#      stands idle meanwhile): the plain COPY time (copy_s) and the raw
#      OsmoHLR CTRL loading time (hlr_raw_s); ref_s is their sum.
#   2. The seven services on this stack, started as deploy/local/run starts
#      them (lib/scenario.sh: sc_init, sc_services_start, sc_setup,
#      sc_vendor), once every consumer has its partitions.
#   3. The pilot: BCYCP's signed order for a vendor new to MobiFone, from
#      its POST to the pilot SIM's test line connected. The vendor (the
#      simulator) and the operators (handover, stock-in, transfer,
#      connection) act as soon as they can see their turn: the database and
#      the vendor's folder are polled every 20 ms. The HLR report's e-mail
#      (B6) is not on the way to "connected" and is not waited for. The
#      time is the wall time less the vendor's part (from the input file
#      seen to the output file in incoming/); target 2 s. It runs twice:
#      for a warm-up vendor right after the services start (pilot_cold_s:
#      one-off costs, such as librdkafka's first message on a topic waiting
#      for its metadata), then for SAOVIET (pilot_s), whose pilot is passed.
#   4. The batch: a second order for the vendor, now connected, of
#      BENCH_PIPELINE_SIMS SIMs in one production batch, released at once.
#      batch_s = released (the POST's answer) -> input file seen, plus output
#      file dropped -> hlr_loads done (ingest, HLR loading, report); the
#      vendor's simulator in between is timed apart (simulate_s).
#   5. The phases of both, from the client's clock, the services' database
#      timestamps and logs (same machine, same clock), and each event's hop
#      from the outbox to its consumers' inbox.
# Ends with: RESULT name=pipeline ratio=<ref_s/batch_s> pilot_s=...
#
# Environment:
#   BENCH_PIPELINE_SIMS    SIMs in the batch (default 100000; 10 to 900000)
#   BENCH_PIPELINE_WAIT_S  longest wait for one step of the batch (default
#                          600; the pilot's steps get SIMPKI_RUN_WAIT_S, 120)
#   BENCH_ROUNDS           passed on to the ingest reference (default 5)
#   SIMPKI_HLR_WINDOW, SIMPKI_HLR_GROUP  the same for the service and the
#                          raw HLR reference
set -u
set -o pipefail

# shellcheck disable=SC2034 # read by common.sh's messages
SP_PROG=bench-pipeline
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/local/lib/common.sh"
# broker.sh (sp_broker_ctl) is what sc_services_start creates the topics with.
[ -f "$SP_LIB_DIR/broker.sh" ] && . "$SP_LIB_DIR/broker.sh"
. "$SP_LIB_DIR/pki.sh"
. "$SP_LIB_DIR/scenario.sh"

N=${BENCH_PIPELINE_SIMS:-100000}
case $N in '' | *[!0-9]*) sp_note "BENCH_PIPELINE_SIMS must be a number of SIMs, not '$N'"; exit 2 ;; esac
((N >= 10 && N <= 900000)) || { sp_note "BENCH_PIPELINE_SIMS must be 10 to 900000, not $N"; exit 2; }
WAIT_S=${BENCH_PIPELINE_WAIT_S:-600}
[ -n "${SIMPKI_STACK_DIR:-}" ] && [ -n "${SIMPKI_DB_URL:-}" ] && [ -n "${SIMPKI_HLR_CTRL:-}" ] ||
	{ sp_note "run it through bench/run pipeline (needs the stack's variables)"; exit 2; }
W=$SIMPKI_STACK_DIR
BP_LOG=$W/logs/bench-pipeline.log
BP_TIMES=$W/bench-times
: >"$BP_TIMES"
: >"$BP_LOG"

bp_die() {
	sp_note "$*"
	[ -s "$W/run/failed" ] && sp_note "step failed: $(cat "$W/run/failed")"
	sp_log_tail "$BP_LOG" 15
	exit 1
}

# ---- client clock and a persistent psql (spawning one per poll costs ~30 ms
# of CPU on this 2-core machine; a query on the open session, ~1 ms) ---------

bp_us() { BP_T=${EPOCHREALTIME//[!0-9]/}; }
declare -A T=()
bp_mark() { # KEY: now (µs since the epoch), kept for the report
	bp_us
	T[$1]=$BP_T
	printf '%s=%s\n' "$1" "$BP_T" >>"$BP_TIMES"
}
bp_set() { T[$1]=$2; printf '%s=%s\n' "$1" "$2" >>"$BP_TIMES"; }

bp_psql_open() {
	coproc BP_PSQL { exec psql -X -A -t -q -F $'\t' "$SIMPKI_DB_URL" 2>&1; }
	BP_PSQL_IN=${BP_PSQL[1]} BP_PSQL_OUT=${BP_PSQL[0]} BP_PID=$!
}
# bp_q SQL: its rows in BP_R (tab-separated columns); 1 if psql is gone.
bp_q() {
	local line
	BP_R=""
	printf '%s;\n\\echo __bp_end__\n' "$1" 2>/dev/null 1>&"$BP_PSQL_IN" || return 1
	while IFS= read -r line <&"$BP_PSQL_OUT"; do
		[ "$line" = __bp_end__ ] && { BP_R=${BP_R%$'\n'}; return 0; }
		BP_R+=$line$'\n'
	done
	return 1
}
trap '[ -n "${BP_PID:-}" ] && kill "$BP_PID" 2>/dev/null' EXIT

# bp_wait WHAT SECONDS INTERVAL CMD...: CMD until it succeeds.
bp_wait() {
	local what=$1 limit=$((EPOCHSECONDS + $2)) secs=$2 every=$3
	shift 3
	until "$@"; do
		((EPOCHSECONDS < limit)) || bp_die "timed out after ${secs}s waiting for $what"
		sleep "$every"
	done
}

bp_json() { # FIELD: a string field of the last answer ($SC_RUN/body.json)
	local body
	body=$(<"$SC_RUN/body.json")
	[[ $body =~ \"$1\"[[:space:]]*:[[:space:]]*\"([^\"]*)\" ]] || return 1
	printf '%s\n' "${BASH_REMATCH[1]}"
}

# ---- the steps, as lib/scenario.sh does them, without its 100 ms polls and
# its wait for the B6 mail ---------------------------------------------------

# bp_order TAG REF QUANTITY PILOT_QUANTITY(0: none): BCYCP signs, then POSTs
# (timed: TAG_post, TAG_answer); ORDER_ID.
bp_order() {
	local tag=$1 ref=$2 qty=$3 pilot=$4 doc sig pq="" body
	doc=$W/notices/$ref.json sig=$W/notices/$ref.p7s
	[ "$pilot" -gt 0 ] && pq="\"pilot_quantity\": $pilot,"
	cat >"$doc" <<JSON
{"bcycp_ref": "$ref", "issued_on": "2026-11-20", "vendor": "$BP_VENDOR",
 "quantity": $qty, "profile": "usim_milenage", $pq
 "contact": {"name": "Nguyễn Văn An", "email": "an.nv@bcy.gov.vn", "phone": "0987654321"},
 "note": "SIM PKI (benchmark)"}
JSON
	sp_svpki_sign "$W/pki" officer "$doc" "$sig" -certfile "$W/pki/sub.pem" -outform DER ||
		bp_die "signing order $ref failed"
	body="{\"document\": \"$(base64 -w0 "$doc")\", \"signature\": \"$(base64 -w0 "$sig")\"}"
	bp_mark "${tag}_post"
	sc_http B1 201 "" POST "$(sc_url order-intake)/v1/orders" "$body" || bp_die "order $ref refused"
	bp_mark "${tag}_answer"
	ORDER_ID=$(bp_json order_id) || bp_die "no order id in the answer to $ref"
}

_bp_input_ready() { # BATCH
	[ -s "$SIMPKI_VENDOR_DIR/$BP_VENDOR/outgoing/$1.inp" ] &&
		bp_q "SELECT count(*) FROM batch_files WHERE batch_id = '$1'" && [ "$BP_R" = 1 ]
}

_bp_loaded() { # BATCH
	bp_q "SELECT state FROM hlr_loads WHERE batch_id = '$1'" || return 1
	[ "$BP_R" = stalled ] && bp_die "the HLR loading of $1 stalled"
	[ "$BP_R" = "done" ]
}

_bp_connected() { # REQUEST_ID
	bp_q "SELECT state FROM connections WHERE request_id = '$1'" && [ -n "$BP_R" ] && [ "$BP_R" != requested ]
}

# bp_produce TAG BATCH WAIT_S EVERY: input file seen (TAG_input_seen), the
# vendor's simulator (TAG_sim_start, TAG_sim_end), the output file in
# incoming/ (TAG_drop), loaded into the HLR and seen so (TAG_loaded_seen).
bp_produce() {
	local tag=$1 batch=$2 wait_s=$3 every=$4 inp out inc
	inp=$SIMPKI_VENDOR_DIR/$BP_VENDOR/outgoing/$batch.inp
	out=$W/vendor-sim/$batch.out inc=$SIMPKI_VENDOR_DIR/$BP_VENDOR/incoming
	bp_wait "the input file of $batch" "$wait_s" "$every" _bp_input_ready "$batch"
	bp_mark "${tag}_input_seen"
	bp_mark "${tag}_sim_start"
	sc_ctl vendor simulate "$inp" --transport-key "$SIMPKI_TRANSPORT_KEY_DIR/$BP_VENDOR.key" \
		-o "$out" >>"$BP_LOG" 2>&1 || bp_die "the vendor simulator failed on $batch"
	bp_mark "${tag}_sim_end"
	mkdir -p "$inc" && cp "$out" "$inc/.$batch.out.part" && mv "$inc/.$batch.out.part" "$inc/$batch.out" ||
		bp_die "could not drop the output file of $batch"
	bp_mark "${tag}_drop"
	bp_wait "the HLR loading of $batch" "$wait_s" "$every" _bp_loaded "$batch"
	bp_mark "${tag}_loaded_seen"
	bp_q "SELECT h.loaded = b.quantity AND h.failed = 0, h.loaded, h.failed, b.quantity
		FROM hlr_loads h JOIN batches b USING (batch_id) WHERE batch_id = '$batch'"
	[ "${BP_R%%$'\t'*}" = t ] || bp_die "batch $batch not wholly loaded (ok, loaded, failed, quantity: ${BP_R//$'\t'/, })"
}

# The timestamps the services wrote for BATCH, as TAG_KEY=µs.
bp_db_times() { # TAG BATCH
	local k v i=0 vals keys=(released input_issued judged output_accepted queued load_start load_end)
	bp_q "SELECT $(for k in b.released_at f.input_issued_at v.judged_at f.output_accepted_at \
		h.queued_at h.started_at h.finished_at; do printf '(extract(epoch FROM %s) * 1e6)::bigint,' "$k"; done) 0
		FROM batches b JOIN batch_files f USING (batch_id) JOIN hlr_loads h USING (batch_id)
		LEFT JOIN vendor_output_files v ON v.sha256 = f.output_sha256 WHERE b.batch_id = '$2'"
	IFS=$'\t' read -r -a vals <<<"$BP_R"
	for k in "${keys[@]}"; do
		v=${vals[$i]:-}
		[ -n "$v" ] && bp_set "${1}_$k" "$v"
		i=$((i + 1))
	done
}

# ---- 1. the references ------------------------------------------------------

# bench/run NAME with BENCH_SIMS=N on a stack of its own; this stack's
# variables are not passed on.
bp_reference() { # NAME: its RESULT line in BP_RESULT
	local name=$1 out=$W/ref-$1.out v unset_vars=()
	while read -r _ v; do unset_vars+=("-u" "${v%%=*}"); done <"$W/stack.env"
	sp_note "reference: bench/run $name with BENCH_SIMS=$N"
	env "${unset_vars[@]}" SIMPKI_BENCH_BUILD_DIR="$SIMPKI_BUILD_DIR" BENCH_SIMS="$N" \
		"$SP_REPO_DIR/bench/run" "$name" >"$out" 2>"$W/logs/ref-$name.log" </dev/null ||
		{ cat "$out" >&2; sp_log_tail "$W/logs/ref-$name.log" 15; bp_die "bench/run $name failed"; }
	sed 's/^/    /' "$out"
	BP_RESULT=$(grep "^RESULT name=$name " "$out" | tail -n1)
	[ -n "$BP_RESULT" ] || bp_die "bench/run $name printed no RESULT line"
}
bp_field() { # LINE KEY
	local f
	for f in $1; do [ "${f%%=*}" = "$2" ] && { printf '%s\n' "${f#*=}"; return 0; }; done
	return 1
}

printf 'Pipeline benchmark: the pilot (5 SIMs) and a batch of %d SIMs; references first.\n\n' "$N"
printf 'Reference 1: vendor file ingest against a plain COPY (bench/run ingest)\n'
bp_reference ingest
ref_ingest=$BP_RESULT
printf 'Reference 2: HLR loading against raw CTRL requests (bench/run hlr)\n'
bp_reference hlr
ref_hlr=$BP_RESULT
copy_ref_s=$(bp_field "$ref_ingest" copy_s) && copy_ref_n=$(bp_field "$ref_ingest" sims) &&
	ingest_ref_s=$(bp_field "$ref_ingest" ingest_s) &&
	raw_rate=$(bp_field "$ref_hlr" raw_sims_per_s) && svc_rate=$(bp_field "$ref_hlr" service_sims_per_s) ||
	bp_die "the references' RESULT lines lack copy_s, sims, ingest_s, raw_sims_per_s or service_sims_per_s"
# RESULT rounds to 10 ms, coarse for a small batch: the best round's rate
# ("round R plain COPY: N rows in S s = RATE rows/s") is exact enough.
best=$(sed -n 's/^round [0-9]* plain COPY: .* = \([0-9]*\) rows\/s$/\1/p' "$W/ref-ingest.out" | sort -n | tail -n1)
[ -n "$best" ] && copy_ref_s=$(awk -v n="$copy_ref_n" -v r="$best" 'BEGIN { printf "%.6f", n / r }')
best=$(sed -n 's/^round [0-9]* ingest *: .* = \([0-9]*\) SIMs\/s,.*$/\1/p' "$W/ref-ingest.out" | sort -n | tail -n1)
[ -n "$best" ] && ingest_ref_s=$(awk -v n="$copy_ref_n" -v r="$best" 'BEGIN { printf "%.6f", n / r }')
echo

# ---- 2. the services --------------------------------------------------------

# One production batch of the whole quantity (order-intake's split, B2.1).
export SIMPKI_ORDER_MAX_BATCH=$((N > 50000 ? N : 50000))
((N <= ${SIMPKI_ORDER_MAX_QUANTITY:-1000000})) || export SIMPKI_ORDER_MAX_QUANTITY=$N
sc_init "$W" >>"$BP_LOG" 2>&1 || bp_die "sc_init failed"
sc_services_start "$W" 2>>"$BP_LOG" || bp_die "the services did not start"
bp_psql_open
sc_setup >>"$BP_LOG" 2>&1 && sc_vendor >>"$BP_LOG" 2>&1 || bp_die "setup failed"
# The warm-up vendor (see 3.), with its agreement and transport key.
SIMPKI_OPERATOR=khdn-an sc_ctl vendor add WARMUP --name "Warm-up vendor (benchmark)" >>"$BP_LOG" 2>&1 &&
	SIMPKI_OPERATOR=khdn-an sc_ctl vendor agreement WARMUP --ref NDA-2026-WARMUP --date 2026-11-02 \
		--signed-by "Ban KHDN" >>"$BP_LOG" 2>&1 &&
	(umask 077 && openssl rand -hex 32 >"$SIMPKI_TRANSPORT_KEY_DIR/WARMUP.key") || bp_die "the warm-up vendor"
# Services that have run for a while: every consumer in its group.
_bp_all_assigned() {
	local s
	for s in "${SC_SERVICES[@]}"; do grep -q '"partitions assigned"' "$W/logs/$s.log" || return 1; done
}
bp_wait "every consumer's partitions" 60 0.2 _bp_all_assigned
sleep 1

# ---- 3. the pilots ----------------------------------------------------------

# bp_pilot TAG REF: BP_VENDOR's first order (5 pilot SIMs, 5 held for
# production) to the pilot's test line connected; P_PROD, P_TEXT.
bp_pilot() {
	local tag=$1 ref=$2 order batch first last r req msisdn a b c d
	bp_order "$tag" "$ref" 5 5
	order=$ORDER_ID
	bp_q "SELECT batch_id FROM batches WHERE order_id = '$order' AND kind = 'pilot'"
	batch=$BP_R
	bp_q "SELECT batch_id FROM batches WHERE order_id = '$order' AND kind = 'production'"
	P_PROD=$BP_R
	[ -n "$batch" ] && [ -n "$P_PROD" ] || bp_die "order $order has no pilot and production batch"
	bp_produce "$tag" "$batch" "$SC_WAIT_S" 0.02
	bp_q "SELECT min(iccid), max(iccid) FROM sims WHERE batch_id = '$batch'"
	IFS=$'\t' read -r first last <<<"$BP_R"
	r='"iccid_first": "'$first'", "iccid_last": "'$last'"'
	sc_move B7 "$T_KHDN" /v1/handovers "{\"ctkv\": \"CTKV1\", \"purpose\": \"testing\", $r}" || bp_die "handover refused"
	bp_mark "${tag}_handover"
	sc_move B8 "$T_CTKV1" /v1/stock-ins "{$r}" || bp_die "stock-in refused"
	bp_mark "${tag}_stockin"
	sc_move B8 "$T_CTKV1" /v1/transfers "{\"shop\": \"HNI-001\", $r}" || bp_die "transfer refused"
	bp_mark "${tag}_transfer"
	sc_http B9 202 "$T_SHOP_HNI" POST "$(sc_url inventory)/v1/connections" \
		"{\"iccid\": \"$first\", \"swap\": false, \"package\": \"PKI-1Y\"}" || bp_die "connection refused"
	bp_mark "${tag}_conn_answer"
	req=$(bp_json request_id) || bp_die "no request id in the connection's answer"
	bp_wait "connection $req" "$SC_WAIT_S" 0.02 _bp_connected "$req"
	bp_mark "${tag}_connected"
	# What the shop's screen shows, after the clock stopped.
	sc_http B9 200 "$T_SHOP_HNI" GET "$(sc_url inventory)/v1/connections/$req" || bp_die "connection $req unknown"
	[ "$(bp_json state)" = "done" ] || bp_die "connection $req: $(bp_json state) $(bp_json reason)"
	msisdn=$(bp_json msisdn)
	bp_db_times "$tag" "$batch"
	bp_q "SELECT (extract(epoch FROM c.requested_at) * 1e6)::bigint, (extract(epoch FROM h.requested_at) * 1e6)::bigint,
		(extract(epoch FROM h.finished_at) * 1e6)::bigint, (extract(epoch FROM c.finished_at) * 1e6)::bigint
		FROM connections c JOIN hlr_connections h USING (request_id) WHERE request_id = '$req'"
	IFS=$'\t' read -r a b c d <<<"$BP_R"
	bp_set "${tag}_conn_requested" "$a"
	bp_set "${tag}_hlr_conn_requested" "$b"
	bp_set "${tag}_hlr_conn_done" "$c"
	bp_set "${tag}_conn_done" "$d"
	# Each event of the pilot: written to the outbox -> applied by a consumer.
	bp_q "SELECT o.event_type, o.producer, coalesce(i.consumer, '-'), (extract(epoch FROM o.created_at) * 1e6)::bigint,
		coalesce((extract(epoch FROM i.handled_at) * 1e6)::bigint, 0)
		FROM outbox o LEFT JOIN inbox i USING (event_id)
		WHERE o.created_at BETWEEN to_timestamp(${T[${tag}_post]} / 1e6) AND to_timestamp(${T[${tag}_connected]} / 1e6)
		ORDER BY o.seq, i.handled_at"
	printf '%s\n' "$BP_R" >"$W/bench-hops-$tag"
	printf '%s\t%s\n' "$tag" "$batch" >>"$W/bench-batches"
	P_TEXT="test line $msisdn on $first"
	printf '  vendor %s, order %s, pilot %s: %s\n' "$BP_VENDOR" "$order" "$batch" "$P_TEXT"
}

# A pilot right after the services start pays one-off costs (librdkafka's
# first message to each topic, connections, caches): first a pilot of a
# warm-up vendor (reported as pilot_cold_s), then the measured one.
: >"$W/bench-batches"
printf 'Pilot 1 (services just started): a warm-up vendor new to MobiFone\n'
BP_VENDOR=WARMUP
bp_pilot c BCYCP-2026-QD-0416
sleep 1
printf 'Pilot 2 (services warm): vendor %s new to MobiFone, 5 pilot SIMs to a test line connected\n' "$SC_VENDOR"
BP_VENDOR=$SC_VENDOR
bp_pilot p BCYCP-2026-QD-0417
SIMPKI_OPERATOR=khdn-an sc_ctl vendor pilot-pass "$SC_VENDOR" \
	--evidence "5/5 SIMs loaded and read back; $P_TEXT (benchmark)" >>"$BP_LOG" 2>&1 ||
	bp_die "pilot-pass refused"
# The order's own production batch (5 SIMs) is released by the pass: let
# vendor-exchange issue its input file before the batch is timed.
bp_wait "the input file of $P_PROD" "$SC_WAIT_S" 0.05 _bp_input_ready "$P_PROD"
sleep 1

# ---- 4. the batch -----------------------------------------------------------

printf 'Batch: a second order for %s (pilot passed), %d SIMs in one production batch\n' "$SC_VENDOR" "$N"
bp_order b BCYCP-2026-QD-0418 "$N" 0
B_ORDER=$ORDER_ID
bp_q "SELECT batch_id, state FROM batches WHERE order_id = '$B_ORDER' AND kind = 'production'"
IFS=$'\t' read -r B_BATCH b_state <<<"$BP_R"
[ "$b_state" = released ] || bp_die "order $B_ORDER: production batch '${BP_R//$'\n'/ | }', not one released batch"
bp_produce b "$B_BATCH" "$WAIT_S" 0.05
bp_db_times b "$B_BATCH"
printf 'b\t%s\n' "$B_BATCH" >>"$W/bench-batches"
printf '  order %s, batch %s: %d SIMs loaded into OsmoHLR\n\n' "$B_ORDER" "$B_BATCH" "$N"

# ---- 5. the figures ---------------------------------------------------------

"$SP_PY" - "$BP_TIMES" "$W" "$N" "$copy_ref_s" "$copy_ref_n" "$ingest_ref_s" "$raw_rate" "$svc_rate" \
	"${SIMPKI_VENDOR_POLL_MS:-1000}" <<'PY'
import datetime, json, sys

times_f, w, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
copy_ref_s, copy_ref_n, ingest_ref_s, raw_rate, svc_rate = map(float, sys.argv[4:9])
poll_ms = sys.argv[9]
T = {}
for line in open(times_f):
    k, _, v = line.strip().partition("=")
    if v:
        T[k] = int(v)
batches = dict(line.split() for line in open(f"{w}/bench-batches") if line.strip())

def log_times(service, msg, batch):
    """µs of each log line MSG about BATCH (the services log UTC, in ms)."""
    out = []
    for line in open(f"{w}/logs/{service}.log", encoding="utf-8", errors="replace"):
        if msg not in line or batch not in line:
            continue
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if j.get("msg") == msg and j.get("batch_id") == batch:
            d = datetime.datetime.strptime(j["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
            out.append(int(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1e6))
    return out

# Points the database cannot give (its timestamps are transactions' starts):
# the ingest's commit, and the loader's start on a batch (hlr_loads.started_at
# is written with the first group's outcome) and its end.
for tag, batch in batches.items():
    for key, svc, msg, pick in (("accepted", "vendor-exchange", "vendor file accepted", -1),
                                ("load_start", "hlr-provisioner", "loading batch into the HLR", 0),
                                ("load_end", "hlr-provisioner", "batch loaded and reported", -1)):
        t = log_times(svc, msg, batch)
        if t:
            T[f"{tag}_{key}"] = t[pick]

def chain(tag, steps):
    """Consecutive phases, each from the point before; the vendor's apart."""
    prev = T[f"{tag}_{steps[0][0]}"]
    rows, total, ours = [], 0.0, 0.0
    for k, text, who in steps[1:]:
        if f"{tag}_{k}" not in T:
            continue
        d = (T[f"{tag}_{k}"] - prev) / 1000.0
        prev = T[f"{tag}_{k}"]
        total += d
        if who != "vendor":
            ours += d
        rows.append((k, text, who, d))
    return rows, total, ours

def show(title, tags, steps):
    res = [chain(t, steps) for t in tags]
    print(title)
    cols = len(tags)
    for i, (k, text, who, _) in enumerate(res[-1][0]):
        ds = "".join(f"{r[0][i][3]:9.1f}" if i < len(r[0]) and r[0][i][0] == k else "        ?" for r in res)
        print(f"  {ds}  {text:<60} {who}")
    line = lambda v, text: print("  " + "".join(f"{x:9.1f}" for x in v) + f"  {text}")
    line([r[1] for r in res], "wall time")
    line([r[1] - r[2] for r in res], "the vendor (input file seen -> output file in incoming/)")
    line([r[2] for r in res], "the services and the automated operators")
    return [(r[1] / 1000.0, r[2] / 1000.0) for r in res]

pilot_steps = [
    ("post", "", ""),
    ("answer", "POST /v1/orders answered (signature, plan, pilot released)", "order-intake"),
    ("input_issued", "-> vendor-exchange starts B3 (relay, Kafka, consumer)", "hop"),
    ("input_seen", "-> input file written and seen (20 ms poll)", "vendor-exchange"),
    ("sim_end", "vendor simulate", "vendor"),
    ("drop", "output file copied into incoming/", "vendor"),
    ("judged", f"-> vendor-exchange picks it up (folder poll {poll_ms} ms)", "vendor-exchange"),
    ("accepted", "ingest: checks, unwrap, seal, COPY, commit", "vendor-exchange"),
    ("queued", "-> queued for the HLR (relay, Kafka, consumer)", "hop"),
    ("load_start", "-> the loader takes it (idle poll 500 ms)", "hlr-provisioner"),
    ("load_end", "HLR load, read back, report", "hlr-provisioner"),
    ("loaded_seen", "-> seen by the operator (20 ms poll)", "operator"),
    ("handover", "POST /v1/handovers (Ban KHDN -> CTKV1)", "inventory"),
    ("stockin", "POST /v1/stock-ins (CTKV1)", "inventory"),
    ("transfer", "POST /v1/transfers (CTKV1 -> HNI-001)", "inventory"),
    ("conn_requested", "-> POST /v1/connections in its transaction", "inventory"),
    ("hlr_conn_requested", "-> hlr-provisioner has the request (relay, Kafka)", "hop"),
    ("hlr_conn_done", "connector: idle poll (200 ms), the CTRL saga", "hlr-provisioner"),
    ("conn_done", "-> inventory has the answer (relay, Kafka)", "hop"),
    ("connected", "-> seen by the shop (20 ms poll)", "operator"),
]
(cold_wall, cold_s), (pilot_wall, pilot_s) = show(
    "Pilot, signed order -> connected, ms (each phase from the end of the one before):\n"
    "  services: just started  warm", ["c", "p"], pilot_steps)

print("\nEvent hops in the pilots (outbox row written -> consumer's inbox row), ms:\n"
      "  just started  warm")
hops, order = {}, []
for i, tag in enumerate(("c", "p")):
    for line in open(f"{w}/bench-hops-{tag}"):
        f = line.rstrip("\n").split("\t")
        if len(f) != 5 or f[2] == "-":
            continue
        key = (f[0], f[1], f[2])
        if key not in hops:
            hops[key] = [None, None]
            order.append(key)
        if hops[key][i] is None:
            hops[key][i] = (int(f[4]) - int(f[3])) / 1000.0
for key in order:
    v = "".join(f"{x:9.1f}" if x is not None else "        -" for x in hops[key])
    print(f"  {v}  {key[0]:<26} {key[1]} -> {key[2]}")

batch_steps = [
    ("answer", "", ""),
    ("input_issued", "released -> vendor-exchange starts B3 (relay, Kafka, consumer)", "hop"),
    ("input_seen", "-> input file written and seen (50 ms poll)", "vendor-exchange"),
    ("sim_end", f"vendor simulate ({n} SIMs)", "vendor"),
    ("drop", "output file copied into incoming/", "vendor"),
    ("judged", f"-> vendor-exchange picks it up (folder poll {poll_ms} ms)", "vendor-exchange"),
    ("accepted", "ingest: checks, unwrap, seal, COPY, commit", "vendor-exchange"),
    ("queued", "-> queued for the HLR (relay, Kafka, consumer)", "hop"),
    ("load_start", "-> the loader takes it (idle poll 500 ms)", "hlr-provisioner"),
    ("load_end", "HLR load, read back, commit per group, report", "hlr-provisioner"),
    ("loaded_seen", "-> seen by the operator (50 ms poll)", "operator"),
]
[(batch_wall, batch_s)] = show(f"\nBatch of {n} SIMs, released (order answered) -> provisioned, ms:", ["b"], batch_steps)
copy_s = copy_ref_s * n / copy_ref_n
ingest_bench_s = ingest_ref_s * n / copy_ref_n
hlr_raw_s = n / raw_rate
hlr_svc_s = n / svc_rate
ref_s = copy_s + hlr_raw_s
simulate_s = (T["b_sim_end"] - T["b_sim_start"]) / 1e6
ingest_s = (T["b_accepted"] - T["b_judged"]) / 1e6 if "b_accepted" in T and "b_judged" in T else float("nan")
load_s = (T["b_load_end"] - T["b_load_start"]) / 1e6
print(f"""
Batch against the references, s:
  {batch_s:8.2f}  the pipeline's part (order answered -> provisioned, less the vendor)
  {ref_s:8.2f}  reference: plain COPY {copy_s:.2f} + raw HLR CTRL loading {hlr_raw_s:.2f}
  {batch_s / ref_s:8.2f}x the pipeline over the reference ({batch_s - ref_s:+.2f} s)
  of the pipeline's part: ingest {ingest_s:.2f} (bench/run ingest: {ingest_bench_s:.2f}), HLR loading {load_s:.2f}
  (bench/run hlr's service path: {hlr_svc_s:.2f}), the rest (hops, polls) {batch_s - ingest_s - load_s:.2f}
  vendor simulate: {simulate_s:.2f} (not counted)

Pilot: {pilot_s:.2f} s of the services' and operators' time ({pilot_wall:.2f} s wall) with warm services,
{cold_s:.2f} s just after they started; target 2 s: {"met" if pilot_s < 2 else "NOT met"}.
""")
print(f"RESULT name=pipeline ratio={ref_s / batch_s:.3f} pilot_s={pilot_s:.2f} pilot_target_s=2 "
      f"pilot_wall_s={pilot_wall:.2f} pilot_cold_s={cold_s:.2f} batch_sims={n} batch_s={batch_s:.2f} "
      f"ref_s={ref_s:.2f} copy_s={copy_s:.3f} hlr_raw_s={hlr_raw_s:.2f} overhead={batch_s / ref_s:.2f} "
      f"simulate_s={simulate_s:.2f}")
PY
