# scenario.sh - the realistic run deploy/local/run drives once the stack and
# the services are up (sourced; needs common.sh, broker.sh and pki.sh, and the stack's
# variables exported). Every actor's step goes through the operator CLI or
# the services' HTTP APIs, as people would; the services do the rest over
# Kafka. Ids, paths and URLs are read from PostgreSQL, as an operator's
# screen would show them.
#
#   sc_init DIR             folders, the local KEK and vendor keys, BCYCP's
#                           demo PKI (before the services start)
#   sc_services_start DIR   the six services and accounts, on free ports
#   sc_dashboard_start DIR  then the operations dashboard (deploy/local/run)
#   sc_service_restart DIR NAME  start a service (or the dashboard) again on
#                           its port, its log appended (tests/chaos)
#   sc_scenario             A4, B1-B11 for a pilot and a production batch;
#                           progress lines in $SC_PROGRESS; 0 or 1 with the
#                           failing step in $SC_RUN/failed
#   sc_summary              what happened, where the files are, the URLs
#
# Progress file: one line per update, "EPOCH_MS<TAB>STEP<TAB>STATE<TAB>TEXT"
# with STATE run, ok, fail or info (read by `simpkictl watch --progress`).

SC_VENDOR=SAOVIET
SC_BCYCP_REF=BCYCP-2026-QD-0417
SC_NOTICE_REF=CTS-2026-11-0042
SC_QUANTITY=${SIMPKI_RUN_QUANTITY:-1000}
SC_SERVICES=(order-intake sigverify vendor-exchange hlr-provisioner inventory notifier accounts)
# Long enough for a slow machine under tests; each wait names what it waits for.
SC_WAIT_S=${SIMPKI_RUN_WAIT_S:-120}
# How long a call that got no answer (a service or PostgreSQL away for a
# moment: tests/chaos kills them) is tried again; 0, the default, fails the
# step at once as a person would notice.
SC_RETRY_S=${SIMPKI_RUN_RETRY_S:-0}
# The customer who keeps a number: their current SIM, already in the HLR.
SC_OLD_IMSI=452019999000001
SC_SWAP_MSISDN=84901234567

sc_now_ms() { date +%s%3N; }

sc_progress() { # STEP STATE TEXT
	printf '%s\t%s\t%s\t%s\n' "$(sc_now_ms)" "$1" "$2" "$3" >>"$SC_PROGRESS"
}

sc_fail() { # STEP TEXT: record the failing step and say why
	sc_progress "$1" fail "$2"
	printf '%s: %s\n' "$1" "$2" >"$SC_RUN/failed"
	sp_note "step $1 failed: $2"
	return 1
}

sc_sql() {
	[ "$SC_RETRY_S" -gt 0 ] || {
		psql -X -A -t -q -v ON_ERROR_STOP=1 "$SIMPKI_DB_URL" -c "$1"
		return
	}
	# Every query here reads: repeat it while the server is away (psql's
	# exit status 2: no connection, or it broke).
	local out rc t0=$SECONDS err=$SC_RUN/psql.$BASHPID.err
	while :; do
		rc=0
		out=$(psql -X -A -t -q -v ON_ERROR_STOP=1 "$SIMPKI_DB_URL" -c "$1" 2>"$err") || rc=$?
		if [ "$rc" -ne 2 ] || [ $((SECONDS - t0)) -ge "$SC_RETRY_S" ]; then
			cat "$err" >&2
			rm -f "$err"
			[ -n "$out" ] && printf '%s\n' "$out"
			return $rc
		fi
		sleep 0.5
	done
}

sc_ctl() { "$SC_CTL" "$@"; }

# sc_hlr_ctrl "GET 1 var": one CTRL command to the stack's OsmoHLR.
sc_hlr_ctrl() {
	"$SP_PY" "$SP_LIB_DIR/hlr_ctrl.py" "${SIMPKI_HLR_CTRL%:*}" "${SIMPKI_HLR_CTRL##*:}" "$1"
}

_sc_alive() { # DIR NAME: the recorded process NAME still runs
	local pid sig start
	read -r pid sig start <"$1/pids/$2" 2>/dev/null || return 1
	sp_proc_alive "$pid" "$start"
}

# sc_wait STEP WHAT CMD...: CMD until it succeeds, for $SC_WAIT_S seconds.
sc_wait() {
	local step=$1 what=$2
	shift 2
	sp_wait_for "$SC_WAIT_S" "$@" && return 0
	sc_fail "$step" "timed out after ${SC_WAIT_S}s waiting for $what"
}

sc_sql_is() { [ "$(sc_sql "$1" 2>/dev/null)" = "$2" ]; }

# sc_http STEP WANT TOKEN METHOD PATH [JSON [DONE...]]: one call to a
# service; the body is left in $SC_RUN/body.json. Fails the step on another
# status. With SC_RETRY_S, a call that got no answer (or a 5xx) is made
# again; when an earlier try may have been carried out (the connection
# broke after the request went out) and a later one is refused, the command
# DONE... decides: it succeeds, leaving the answer in body.json, when the
# first try's effect is there (as a person would look before trying again).
sc_http() {
	local step=$1 want=$2 token=$3 method=$4 url=$5 data=${6:-} status rc
	local t0=$SECONDS unsure=0
	shift 6 2>/dev/null || shift $#
	local args=(-s -o "$SC_RUN/body.json" -w '%{http_code}' -X "$method"
		-H 'Content-Type: application/json' --max-time 30)
	[ -n "$data" ] && args+=(--data-binary "$data")
	while :; do
		# The token goes through a config on stdin, never on a command line.
		rc=0
		status=$( {
			[ -n "$token" ] && printf 'header = "Authorization: Bearer %s"\n' "$token"
			true
		} | curl -K - "${args[@]}" "$url") || rc=$?
		[ "$rc" -eq 0 ] || status=000
		[ "$status" = "$want" ] && return 0
		[ "$SC_RETRY_S" -gt 0 ] && [ $((SECONDS - t0)) -lt "$SC_RETRY_S" ] || break
		case $status in
		000 | 5??)
			# curl 7: no connection, so nothing was asked; otherwise the
			# service may have done it before it went away.
			[ "$rc" -eq 7 ] || unsure=1
			sleep 0.5
			continue
			;;
		esac
		[ "$unsure" -eq 1 ] && [ $# -gt 0 ] && "$@" && return 0
		break
	done
	sc_fail "$step" "$method ${url#http://127.0.0.1:*/} answered $status, not $want: $(head -c 400 "$SC_RUN/body.json" 2>/dev/null)"
}

sc_json() { # FIELD [FILE]: one field of a JSON object (default the last body)
	"$SP_PY" -c 'import json,sys
v = json.load(open(sys.argv[2]))
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$1" "${2:-$SC_RUN/body.json}"
}

# ---- before the services --------------------------------------------------

sc_init() {
	local dir=$1
	SC_DIR=$dir
	SC_RUN=$dir/run
	SC_OUT=$dir/out
	SC_PROGRESS=$SC_RUN/progress.tsv
	SC_CTL=$SIMPKI_BUILD_DIR/tools/simpkictl/simpkictl
	mkdir -p "$SC_RUN" "$SC_OUT/invoices" "$SC_OUT/reports" "$dir/vendor-sim" "$dir/notices" || return 1
	: >"$SC_PROGRESS"
	rm -f "$SC_RUN/failed" "$SC_RUN/done" "$SC_RUN/rc"
	export SIMPKI_VENDOR_DIR=$dir/vendors
	export SIMPKI_TRANSPORT_KEY_DIR=$dir/transport-keys
	export SIMPKI_KEK_FILE=$dir/kek/keys
	export SIMPKI_TEMPLATE_DIR=$SP_REPO_DIR/data/templates/notifier
	export SIMPKI_HOLIDAY_DIR=$SP_REPO_DIR/data/holidays
	mkdir -p "$SIMPKI_VENDOR_DIR" "$SIMPKI_TRANSPORT_KEY_DIR" "$dir/kek" || return 1
	chmod 700 "$SIMPKI_TRANSPORT_KEY_DIR" "$dir/kek"
	SIMPKI_OPERATOR=khcn-tcn sc_ctl kek new --id kek-local-1 --file "$SIMPKI_KEK_FILE" >/dev/null || return 1
	# The vendor's transport key, agreed out of band with MobiFone (B2).
	(umask 077 && openssl rand -hex 32 >"$SIMPKI_TRANSPORT_KEY_DIR/$SC_VENDOR.key") || return 1
	sp_pki_demo "$dir/pki" || return 1
	export SIMPKI_SIG_TRUST_DIR=$dir/pki/trust SIMPKI_SIG_CRL_DIR=$dir/pki/crl
	export SIMPKI_VENDOR_POLL_MS=200
	export SIMPKI_ORDER_MAX_BATCH=${SIMPKI_ORDER_MAX_BATCH:-5000}
}

# ---- the services ---------------------------------------------------------

# Each service with its HTTP port 0 (the kernel picks) and its log in
# DIR/logs/NAME.log; recorded in DIR/pids so `stack down` stops it. A
# restart (PORT given) takes the same port again and appends to the log.
sc_service_start() {
	local dir=$1 name=$2 want=${3:-0} bin log i port seen=0 limit=300
	bin=$SIMPKI_BUILD_DIR/services/$name/$name
	log=$dir/logs/$name.log
	[ -x "$bin" ] || { sp_note "$name is not built ($bin)"; return 1; }
	if [ "$want" = 0 ]; then
		: >"$log"
	else
		seen=$(grep -c "\"$name started\"" "$log")
		# It may wait for PostgreSQL (SIMPKI_DB_CONNECT_WAIT_MS, 30 s).
		limit=600
	fi
	# The dev broker answers an empty fetch only when its wait ends, not
	# when data arrives as Kafka does: a short wait keeps each hop quick.
	SIMPKI_HTTP_PORT=$want SIMPKI_LOG_LEVEL=${SIMPKI_LOG_LEVEL:-info} \
		SIMPKI_KAFKA_CONSUMER_CONFIG="session.timeout.ms=6000,heartbeat.interval.ms=500,fetch.wait.max.ms=50" \
		sp_start_recorded "$dir" "$name" "$bin" >/dev/null || return 1
	for ((i = 0; i < limit; i++)); do
		port=$(sed -n "s/.*\"$name started\".*\"http_port\":\"\([0-9]*\)\".*/\1/p" "$log" | sed -n "$((seen + 1)),\$p" | tail -n1)
		[ -n "$port" ] && break
		_sc_alive "$dir" "$name" || break
		sleep 0.1
	done
	if [ -z "$port" ]; then
		sp_note "$name did not start"
		sp_log_tail "$log" 10
		return 1
	fi
	[ "$want" = 0 ] && printf '%s http://127.0.0.1:%s\n' "$name" "$port" >>"$SC_RUN/urls"
	sp_note "$name up on http://127.0.0.1:$port"
}

# sc_service_restart DIR NAME: NAME (a service or the dashboard) again, on
# the port it had, so the URLs the actors and the dashboard hold still work.
sc_service_restart() {
	local dir=$1 name=$2 url
	url=$(sc_url "$name")
	[ -n "$url" ] || { sp_note "$name has no recorded URL"; return 1; }
	if [ "$name" = dashboard ]; then
		(export SIMPKI_DASHBOARD_SERVICES="$(_sc_dashboard_services)" &&
			sc_service_start "$dir" "$name" "${url##*:}")
	else
		sc_service_start "$dir" "$name" "${url##*:}"
	fi
}

_sc_dashboard_services() {
	awk '$1 != "dashboard" { printf "%s%s=%s", (n++ ? "," : ""), $1, $2 }' "$SC_RUN/urls"
}

# The topics the services subscribe to, created before they start, as the
# production stack's topic job does: a consumer subscribed to a topic that
# does not exist yet only sees it at its next metadata refresh.
SC_TOPICS=(orders vendors batches registrations sims connections notifications accounts
	bcycp.orders.inbound sigverify.requests sigverify.results)

sc_services_start() {
	local dir=$1 s t i
	: >"$SC_RUN/urls"
	for t in "${SC_TOPICS[@]}"; do
		sp_broker_ctl "$dir" create "$t" 3 || { sp_note "cannot create topic $t"; return 1; }
	done
	for s in "${SC_SERVICES[@]}"; do
		sc_service_start "$dir" "$s" || return 1
	done
	# Steps taken before a consumer has joined its group would wait for the
	# join: the run starts once every service has its partitions.
	for s in "${SC_SERVICES[@]}"; do
		for ((i = 0; i < 300; i++)); do
			grep -q '"partitions assigned","count":"[1-9]' "$dir/logs/$s.log" && break
			sleep 0.1
		done
		[ "$i" -lt 300 ] || { sp_note "$s has not joined its consumer group after 30 s"; sp_log_tail "$dir/logs/$s.log" 5; return 1; }
	done
}

# The operations dashboard, last: it is given the others' URLs (their
# /healthz and /metrics), and joins no consumer group. Its user, of the
# role auditor, gets a token kept in a file of the run only its owner may
# read ($SC_RUN/dashboard.token), never printed.
sc_dashboard_start() {
	local dir=$1 services
	services=$(_sc_dashboard_services)
	(export SIMPKI_DASHBOARD_SERVICES=$services && sc_service_start "$dir" dashboard) || return 1
	rm -f "$SC_RUN/dashboard.token"
	(umask 077 && sc_ctl user add dashboard-auditor --role auditor >"$SC_RUN/dashboard.token" 2>>"$dir/logs/scenario.log") ||
		{ sp_note "cannot create the dashboard's user"; return 1; }
}

sc_url() { awk -v s="$1" '$1 == s { print $2 }' "$SC_RUN/urls"; }

# ---- the scenario's steps -------------------------------------------------

sc_setup() {
	sc_progress setup run "organisation, tariffs, numbers, users, numbering"
	sc_ctl org load "$SP_REPO_DIR/deploy/local/org.sample.json" >/dev/null &&
		sc_ctl tariffs load "$SP_REPO_DIR/deploy/local/tariffs.sample.json" >/dev/null &&
		sc_ctl numbers load "$SP_REPO_DIR/deploy/local/numbers.sample" >/dev/null &&
		SIMPKI_OPERATOR=khcn-tcn sc_ctl numbering load "$SP_REPO_DIR/deploy/local/numbering.sample" >/dev/null ||
		{ sc_fail setup "loading the sample data failed (see $SC_DIR/logs/scenario.log)"; return 1; }
	# The people acting, each with an API token (kept in this shell only).
	T_KHDN=$(sc_ctl user add khdn-an --role ban_khdn) &&
		T_CTKV1=$(sc_ctl user add ctkv1-binh --role ctkv --ctkv CTKV1) &&
		T_CTKV2=$(sc_ctl user add ctkv2-chi --role ctkv --ctkv CTKV2) &&
		T_SHOP_HNI=$(sc_ctl user add hni001-dung --role shop --shop HNI-001) &&
		T_SHOP_HCM=$(sc_ctl user add hcm001-em --role shop --shop HCM-001) &&
		T_CTS=$(sc_ctl user add cts-officer --role bcycp) ||
		{ sc_fail setup "user add failed"; return 1; }
	# The customer keeping her number already has an ordinary MobiFone SIM.
	sc_hlr_ctrl "SET 1 subscriber.create $SC_OLD_IMSI" >/dev/null &&
		sc_hlr_ctrl "SET 2 subscriber.by-imsi-$SC_OLD_IMSI.msisdn $SC_SWAP_MSISDN" >/dev/null ||
		{ sc_fail setup "could not put the customer's current SIM into the HLR"; return 1; }
	sc_progress setup ok "9 CTKVs, 18 shops, 2 tariffs, 200 numbers, 6 users"
}

sc_notice() {
	local f=$SC_DIR/notices/$SC_NOTICE_REF.csv n
	sc_progress A4 run "Cục CTS notice $SC_NOTICE_REF: connection cases"
	cat >"$f" <<'CSV'
agency,full_name,id_number,msisdn,wants_new_number,ctkv
Bộ Tư pháp,Nguyễn Thị Lan,001190000201,0901234567,no,CTKV1
Sở Tư pháp TP. Hồ Chí Minh,Trần Văn Hùng,079085000202,,yes,CTKV2
Bộ Tài chính,Lê Minh Tuấn,001088000203,0912345678,no,CTKV1
Văn phòng Chính phủ,Phạm Thu Hương,001192000204,,yes,CTKV1
UBND TP. Đà Nẵng,Võ Quốc Bảo,048090000205,0935123456,no,CTKV3
CSV
	_sc_notice_post "$f" || { sc_fail A4 "the notice was refused: $(head -c 400 "$SC_RUN/body.json")"; return 1; }
	sc_wait A4 "the notifier to open 5 A5 deadlines" sc_sql_is \
		"SELECT count(*) FROM sla_cases s JOIN registration_notices r USING (notice_id) WHERE r.notice_ref = '$SC_NOTICE_REF'" 5 ||
		return 1
	n=$(sc_sql "SELECT to_char(min(deadline) AT TIME ZONE 'Asia/Ho_Chi_Minh', 'DD/MM/YYYY HH24:MI') FROM sla_cases")
	sc_progress A4 ok "5 cases opened; first contact deadline $n"
}

# The notice over HTTP: 0 once taken (201; or 200, the same notice again,
# after a try the service may have taken before it went away: SC_RETRY_S).
_sc_notice_post() {
	local t0=$SECONDS rc unsure=0 status
	while :; do
		rc=0
		# Cục CTS's officer (role bcycp) sends it; the token on stdin.
		printf 'header = "Authorization: Bearer %s"\n' "$T_CTS" |
			curl -K - -s -o "$SC_RUN/body.json" -w '%{http_code}' -H 'Content-Type: text/csv' \
				--data-binary @"$1" --max-time 30 \
				"$(sc_url order-intake)/v1/registrations?ref=$SC_NOTICE_REF" >"$SC_RUN/status" || rc=$?
		status=$(cat "$SC_RUN/status")
		[ "$status" = 201 ] && return 0
		[ "$status" = 200 ] && [ "$unsure" -eq 1 ] && return 0
		[ "$SC_RETRY_S" -gt 0 ] && [ $((SECONDS - t0)) -lt "$SC_RETRY_S" ] || return 1
		case $status in
		000 | 5??) [ "$rc" -eq 7 ] || unsure=1; sleep 0.5 ;;
		*) return 1 ;;
		esac
	done
}

sc_vendor() {
	sc_progress B2 run "vendor $SC_VENDOR new to MobiFone: agreement"
	SIMPKI_OPERATOR=khdn-an sc_ctl vendor add "$SC_VENDOR" --name "Công ty SIM Sao Việt (demo)" >/dev/null &&
		SIMPKI_OPERATOR=khdn-an sc_ctl vendor agreement "$SC_VENDOR" --ref "NDA-2026-$SC_VENDOR" \
			--date 2026-11-02 --signed-by "Ban KHDN" >/dev/null ||
		{ sc_fail B2 "recording the vendor and its agreement failed"; return 1; }
	sc_progress B2 ok "agreement NDA-2026-$SC_VENDOR recorded"
}

sc_order() {
	local doc=$SC_DIR/notices/$SC_BCYCP_REF.json sig=$SC_DIR/notices/$SC_BCYCP_REF.p7s body
	sc_progress B1 run "BCYCP signs and submits order $SC_BCYCP_REF ($SC_QUANTITY SIMs)"
	cat >"$doc" <<JSON
{"bcycp_ref": "$SC_BCYCP_REF", "issued_on": "2026-11-20", "vendor": "$SC_VENDOR",
 "quantity": $SC_QUANTITY, "profile": "usim_milenage", "pilot_quantity": 5,
 "contact": {"name": "Nguyễn Văn An", "email": "an.nv@bcy.gov.vn", "phone": "0987654321"},
 "note": "SIM PKI cho cán bộ các bộ, ngành (đợt 1)"}
JSON
	sp_svpki_sign "$SC_DIR/pki" officer "$doc" "$sig" -certfile "$SC_DIR/pki/sub.pem" -outform DER ||
		{ sc_fail B1 "signing the order failed"; return 1; }
	body=$("$SP_PY" -c 'import base64,json,sys
print(json.dumps({"document": base64.b64encode(open(sys.argv[1], "rb").read()).decode(),
                  "signature": base64.b64encode(open(sys.argv[2], "rb").read()).decode()}))' "$doc" "$sig")
	sc_http B1 201 "" POST "$(sc_url order-intake)/v1/orders" "$body" _sc_same_again || return 1
	ORDER_ID=$(sc_json order_id) || { sc_fail B1 "no order id in the answer"; return 1; }
	PILOT_BATCH=$(sc_sql "SELECT batch_id FROM batches WHERE order_id = '$ORDER_ID' AND kind = 'pilot'")
	PROD_BATCH=$(sc_sql "SELECT batch_id FROM batches WHERE order_id = '$ORDER_ID' AND kind = 'production' ORDER BY seq LIMIT 1")
	[ -n "$PILOT_BATCH" ] && [ -n "$PROD_BATCH" ] ||
		{ sc_fail B1 "order $ORDER_ID has no pilot and production batch"; return 1; }
	printf 'ORDER_ID=%s\nPILOT_BATCH=%s\nPROD_BATCH=%s\n' "$ORDER_ID" "$PILOT_BATCH" "$PROD_BATCH" >"$SC_RUN/ids"
	sc_progress B1 ok "order $ORDER_ID accepted; pilot $PILOT_BATCH released, $PROD_BATCH waits for it"
}

# sc_produce STEP_SUFFIX BATCH REPORTS: B3 to B6 for one batch; REPORTS is
# how many HLR reports have been mailed once this one is.
sc_produce() {
	local tag=$1 batch=$2 reports=$3 inp out n keys=()
	inp=$SIMPKI_VENDOR_DIR/$SC_VENDOR/outgoing/$batch.inp
	sc_progress "B3$tag" run "vendor-exchange issues the input file of $batch"
	sc_wait "B3$tag" "the input file $inp" test -s "$inp" || return 1
	sc_wait "B3$tag" "the input file to be recorded" sc_sql_is "SELECT count(*) FROM batch_files WHERE batch_id = '$batch'" 1 ||
		return 1
	sc_progress "B3$tag" ok "input file ${inp#"$SC_DIR"/}"
	# The vendor's side: personalise the SIMs, answer with the output file.
	sc_progress "B4$tag" run "the vendor answers; vendor-exchange checks and ingests"
	[ -n "${SIMPKI_RUN_REVEAL_KEYS:-}" ] && keys=(--reveal-keys "$SIMPKI_RUN_REVEAL_KEYS.$batch")
	out=$SC_DIR/vendor-sim/$batch.out
	sc_ctl vendor simulate "$inp" --transport-key "$SIMPKI_TRANSPORT_KEY_DIR/$SC_VENDOR.key" \
		-o "$out" "${keys[@]}" >/dev/null || { sc_fail "B4$tag" "the vendor simulator failed"; return 1; }
	mkdir -p "$SIMPKI_VENDOR_DIR/$SC_VENDOR/incoming" &&
		cp "$out" "$SIMPKI_VENDOR_DIR/$SC_VENDOR/incoming/.$batch.out.part" &&
		mv "$SIMPKI_VENDOR_DIR/$SC_VENDOR/incoming/.$batch.out.part" "$SIMPKI_VENDOR_DIR/$SC_VENDOR/incoming/$batch.out" ||
		{ sc_fail "B4$tag" "could not drop the output file"; return 1; }
	sc_wait "B4$tag" "the output file of $batch to be ingested" sc_sql_is \
		"SELECT count(*) > 0 FROM sims WHERE batch_id = '$batch'" t || return 1
	n=$(sc_sql "SELECT count(*) FROM sims WHERE batch_id = '$batch'")
	sc_progress "B4$tag" ok "$n SIMs ingested, keys sealed under kek-local-1"
	sc_progress "B5$tag" run "hlr-provisioner loads $batch into OsmoHLR"
	SC_WAIT_BATCH=$batch
	sc_wait "B5$tag" "the HLR loading of $batch" _sc_loaded || return 1
	n=$(sc_sql "SELECT loaded || ' loaded, ' || already || ' already there, ' || failed || ' failed' FROM hlr_loads WHERE batch_id = '$batch'")
	[ "$(sc_sql "SELECT failed FROM hlr_loads WHERE batch_id = '$batch'")" = 0 ] ||
		{ sc_fail "B5$tag" "$n"; return 1; }
	sc_progress "B5$tag" ok "$n"
	sc_progress "B6$tag" run "the HLR report (batch.provisioned) to Ban KHDN and Ban KHCN"
	sc_wait "B6$tag" "the report of $batch mailed" sc_sql_is \
		"SELECT count(DISTINCT event_id) >= $reports AND bool_and(state = 'sent') FROM notifications WHERE kind = 'batch_report'" t ||
		return 1
	sc_progress "B6$tag" ok "report of $batch sent"
}

_sc_loaded() {
	local s
	s=$(sc_sql "SELECT state FROM hlr_loads WHERE batch_id = '$SC_WAIT_BATCH'" 2>/dev/null)
	if [ "$s" = stalled ]; then
		sc_progress B5 info "stalled: $(sc_sql "SELECT reason FROM hlr_loads WHERE batch_id = '$SC_WAIT_BATCH'")"
	fi
	[ "$s" = done ]
}

sc_range() { # BATCH FROM COUNT: "first last" ICCIDs of a slice of the batch
	sc_sql "SELECT min(iccid) || ' ' || max(iccid) FROM (SELECT iccid FROM sims WHERE batch_id = '$1' ORDER BY iccid OFFSET $2 LIMIT $3) s"
}

sc_move() { # STEP TOKEN PATH JSON: one range move (201)
	sc_http "$1" 201 "$2" POST "$(sc_url inventory)$3" "$4" _sc_move_done "$3" "$4"
}

# What sc_http's retries ask when a try may have been taken (SC_RETRY_S):
# is its effect there? Each leaves the answer the call would have given.
_sc_same_again() { [ "$status" = 200 ]; } # the same document again: 200
_sc_field() { # FIELD JSON
	"$SP_PY" -c 'import json,sys; print(json.loads(sys.argv[2])[sys.argv[1]])' "$1" "$2"
}
_sc_move_done() { # PATH JSON
	local kind
	case $1 in
	/v1/handovers) kind=handover ;;
	/v1/stock-ins) kind=stock_in ;;
	/v1/transfers) kind=transfer ;;
	*) return 1 ;;
	esac
	sc_sql_is "SELECT count(*) FROM custody_moves WHERE kind = '$kind' AND
		iccid_first = '$(_sc_field iccid_first "$2")' AND iccid_last = '$(_sc_field iccid_last "$2")'" 1
}
_sc_connect_done() { # JSON
	local row
	row=$(sc_sql "SELECT json_build_object('request_id', request_id, 'msisdn', msisdn, 'state', state)
		FROM connections WHERE iccid = '$(_sc_field iccid "$1")' ORDER BY requested_at DESC LIMIT 1")
	[ -n "$row" ] && printf '%s\n' "$row" >"$SC_RUN/body.json"
}
_sc_sale_done() { # ICCID
	local doc
	doc=$(sc_sql "SELECT document::text FROM invoices WHERE iccid = '$1'")
	[ -n "$doc" ] && printf '%s\n' "$doc" >"$SC_RUN/body.json"
}
_sc_delivery_done() { sc_sql_is "SELECT count(*) FROM deliveries WHERE iccid = '$1'" 1; }

# sc_connect STEP TOKEN JSON: a connection (B9), waited for to the end.
sc_connect() {
	local step=$1 token=$2 req state
	sc_http "$step" 202 "$token" POST "$(sc_url inventory)/v1/connections" "$3" _sc_connect_done "$3" || return 1
	req=$(sc_json request_id)
	SC_LAST_MSISDN=$(sc_json msisdn)
	SC_WAIT_REQ=$req SC_WAIT_TOKEN=$token
	sc_wait "$step" "connection $req through the HLR" _sc_connection_settled || return 1
	state=$(sc_json state)
	[ "$state" = done ] || { sc_fail "$step" "connection $req $state: $(sc_json reason 2>/dev/null)"; return 1; }
}

_sc_connection_settled() {
	local s
	sc_http B9 200 "$SC_WAIT_TOKEN" GET "$(sc_url inventory)/v1/connections/$SC_WAIT_REQ" 2>/dev/null || return 1
	s=$(sc_json state)
	[ "$s" != requested ]
}

sc_pilot() {
	local r first last iccid
	sc_produce " pilot" "$PILOT_BATCH" 1 || return 1
	sc_progress "B7-B9 pilot" run "pilot SIMs to CTKV1 for testing, one test line connected"
	read -r first last <<<"$(sc_range "$PILOT_BATCH" 0 5)"
	r='"iccid_first": "'$first'", "iccid_last": "'$last'"'
	sc_move "B7-B9 pilot" "$T_KHDN" /v1/handovers "{\"ctkv\": \"CTKV1\", \"purpose\": \"testing\", $r}" &&
		sc_move "B7-B9 pilot" "$T_CTKV1" /v1/stock-ins "{$r}" &&
		sc_move "B7-B9 pilot" "$T_CTKV1" /v1/transfers "{\"shop\": \"HNI-001\", $r}" || return 1
	iccid=$first
	sc_connect "B7-B9 pilot" "$T_SHOP_HNI" "{\"iccid\": \"$iccid\", \"swap\": false, \"package\": \"PKI-1Y\"}" || return 1
	sc_progress "B7-B9 pilot" ok "test line $SC_LAST_MSISDN on pilot SIM $iccid"
	sc_progress "B2 pilot" run "Ban KHDN passes the pilot"
	SIMPKI_OPERATOR=khdn-an sc_ctl vendor pilot-pass "$SC_VENDOR" \
		--evidence "5/5 SIMs loaded and read back; test call and signature on $iccid" >/dev/null ||
		{ sc_fail "B2 pilot" "pilot-pass refused"; return 1; }
	sc_wait "B2 pilot" "$PROD_BATCH to be released" sc_sql_is \
		"SELECT state <> 'held' FROM batches WHERE batch_id = '$PROD_BATCH'" t || return 1
	sc_progress "B2 pilot" ok "pilot passed; $PROD_BATCH released"
}

sc_production() {
	local half r1 r2 s1 s2 case_swap case_new
	sc_produce "" "$PROD_BATCH" 2 || return 1
	half=$((SC_QUANTITY * 3 / 5))
	sc_progress B7 run "Ban KHDN hands ranges over to CTKV1 and CTKV2"
	read -r s1 r1 <<<"$(sc_range "$PROD_BATCH" 0 "$half")"
	read -r s2 r2 <<<"$(sc_range "$PROD_BATCH" "$half" "$((SC_QUANTITY - half))")"
	sc_move B7 "$T_KHDN" /v1/handovers "{\"ctkv\": \"CTKV1\", \"purpose\": \"customers\", \"iccid_first\": \"$s1\", \"iccid_last\": \"$r1\"}" &&
		sc_move B7 "$T_KHDN" /v1/handovers "{\"ctkv\": \"CTKV2\", \"purpose\": \"customers\", \"iccid_first\": \"$s2\", \"iccid_last\": \"$r2\"}" ||
		return 1
	sc_progress B7 ok "$half SIMs to CTKV1, $((SC_QUANTITY - half)) to CTKV2"
	sc_progress B8 run "each CTKV stocks its range in and moves 100 SIMs to a shop"
	sc_move B8 "$T_CTKV1" /v1/stock-ins "{\"iccid_first\": \"$s1\", \"iccid_last\": \"$r1\"}" &&
		sc_move B8 "$T_CTKV2" /v1/stock-ins "{\"iccid_first\": \"$s2\", \"iccid_last\": \"$r2\"}" || return 1
	read -r s1 r1 <<<"$(sc_range "$PROD_BATCH" 0 100)"
	read -r s2 r2 <<<"$(sc_range "$PROD_BATCH" "$half" 100)"
	sc_move B8 "$T_CTKV1" /v1/transfers "{\"shop\": \"HNI-001\", \"iccid_first\": \"$s1\", \"iccid_last\": \"$r1\"}" &&
		sc_move B8 "$T_CTKV2" /v1/transfers "{\"shop\": \"HCM-001\", \"iccid_first\": \"$s2\", \"iccid_last\": \"$r2\"}" ||
		return 1
	sc_progress B8 ok "stocked in; 100 SIMs at HNI-001, 100 at HCM-001"
	sc_progress B9 run "connections: a swap keeping 0901234567, a new number"
	case_swap=$(sc_sql "SELECT case_id FROM connection_cases WHERE id_number = '001190000201' AND state = 'open'")
	case_new=$(sc_sql "SELECT case_id FROM connection_cases WHERE id_number = '079085000202' AND state = 'open'")
	[ -n "$case_swap" ] && [ -n "$case_new" ] || { sc_fail B9 "the notice's cases are not open"; return 1; }
	SWAP_ICCID=$s1 NEW_ICCID=$s2
	sc_connect B9 "$T_SHOP_HNI" "{\"iccid\": \"$SWAP_ICCID\", \"package\": \"PKI-3Y\", \"case_id\": \"$case_swap\"}" || return 1
	sc_connect B9 "$T_SHOP_HCM" "{\"iccid\": \"$NEW_ICCID\", \"package\": \"PKI-1Y\", \"case_id\": \"$case_new\"}" || return 1
	NEW_MSISDN=$SC_LAST_MSISDN
	printf 'SWAP_ICCID=%s\nNEW_ICCID=%s\nNEW_MSISDN=%s\nSWAP_MSISDN=%s\nOLD_IMSI=%s\n' \
		"$SWAP_ICCID" "$NEW_ICCID" "$NEW_MSISDN" "$SC_SWAP_MSISDN" "$SC_OLD_IMSI" >>"$SC_RUN/ids"
	sc_wait B9 "order-intake to close both cases" sc_sql_is \
		"SELECT count(*) FROM connection_cases WHERE case_id IN ('$case_swap', '$case_new') AND state = 'connected'" 2 ||
		return 1
	sc_progress B9 ok "$SWAP_ICCID keeps $SC_SWAP_MSISDN; $NEW_ICCID got $NEW_MSISDN; cases closed"
	sc_progress B10 run "sales with VAT invoices"
	sc_sell B10 "$T_SHOP_HNI" "$SWAP_ICCID" "Nguyễn Thị Lan" 001190000201 || return 1
	sc_sell B10 "$T_SHOP_HCM" "$NEW_ICCID" "Trần Văn Hùng" 079085000202 || return 1
	sc_progress B10 ok "2 invoices in $SC_OUT/invoices"
	sc_progress B11 run "deliveries and payment"
	sc_deliver "$T_SHOP_HNI" "$SWAP_ICCID" "Nguyễn Thị Lan" || return 1
	sc_deliver "$T_SHOP_HCM" "$NEW_ICCID" "Trần Văn Hùng" || return 1
	sc_progress B11 ok "both SIMs delivered and paid"
}

sc_sell() { # STEP TOKEN ICCID NAME ID_NUMBER: the sale, its invoice kept as HTML
	local series number
	sc_http "$1" 201 "$2" POST "$(sc_url inventory)/v1/sales" \
		"{\"iccid\": \"$3\", \"buyer\": {\"name\": \"$4\", \"id_number\": \"$5\"}}" _sc_sale_done "$3" || return 1
	series=$(sc_json series) number=$(sc_json number)
	cp "$SC_RUN/body.json" "$SC_OUT/invoices/$series-$number.json"
	sc_http "$1" 200 "$2" GET "$(sc_url inventory)/v1/invoices/$series/$number?format=html" || return 1
	cp "$SC_RUN/body.json" "$SC_OUT/invoices/$series-$number.html"
	printf '%s\t%s\n' "$3" "$series-$number" >>"$SC_RUN/invoices"
}

sc_deliver() { # TOKEN ICCID NAME: delivered, paid in full
	local total
	total=$(sc_json total "$SC_OUT/invoices/$(awk -v i="$2" '$1 == i { print $2 }' "$SC_RUN/invoices").json")
	sc_http B11 201 "$1" POST "$(sc_url inventory)/v1/deliveries" \
		"{\"iccid\": \"$2\", \"received_by\": \"$3\", \"amount_paid\": $total}" _sc_delivery_done "$2"
}

sc_reconcile() {
	sc_progress report run "reconciliation (đối soát) with BCYCP"
	sc_ctl report reconcile --order "$SC_BCYCP_REF" >"$SC_OUT/reports/reconcile-$SC_BCYCP_REF.json" &&
		sc_ctl report reconcile --order "$SC_BCYCP_REF" --format csv >"$SC_OUT/reports/reconcile-$SC_BCYCP_REF.csv" ||
		{ sc_fail report "report reconcile failed"; return 1; }
	# Every event out of the outbox before the run says it is done.
	sc_wait report "the outbox relays to catch up" sc_sql_is "SELECT count(*) FROM outbox_pending" 0 || return 1
	sc_progress report ok "reports in $SC_OUT/reports"
}

sc_scenario() {
	local t0 rc=0
	t0=$(sc_now_ms)
	sc_setup && sc_notice && sc_vendor && sc_order && sc_pilot && sc_production && sc_reconcile || rc=1
	printf 'START_MS=%s\nEND_MS=%s\n' "$t0" "$(sc_now_ms)" >>"$SC_RUN/ids"
	printf '%s\n' "$rc" >"$SC_RUN/rc"
	: >"$SC_RUN/done"
	return $rc
}

# ---- the summary ----------------------------------------------------------

sc_summary() {
	local f
	printf '\nsimpki local run: %s\n' "$([ -s "$SC_RUN/failed" ] && printf 'FAILED at %s' "$(cat "$SC_RUN/failed")" || printf 'done')"
	printf '\nTime per step:\n'
	"$SP_PY" - "$SC_PROGRESS" <<'PY'
import sys
first, last, state, text, order = {}, {}, {}, {}, []
for line in open(sys.argv[1], encoding="utf-8"):
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 4 or not parts[0].isdigit():
        continue
    t, step, st, tx = int(parts[0]), parts[1], parts[2], parts[3]
    if step not in first:
        first[step] = t
        order.append(step)
    if st in ("ok", "fail", "run"):
        last[step], state[step] = t, st
        text[step] = tx
for s in order:
    mark = {"ok": "ok  ", "fail": "FAIL", "run": "... "}.get(state.get(s), "    ")
    print("  %-4s %-12s %7.2fs  %s" % (mark, s, (last[s] - first[s]) / 1000.0, text.get(s, "")))
PY
	if [ -n "${SIMPKI_DB_URL:-}" ]; then
		printf '\nSIMs per batch and state:\n'
		sc_sql "SELECT '  ' || rpad(batch_id, 24) || rpad(state, 14) || count(*) FROM sims GROUP BY batch_id, state ORDER BY batch_id, min(created_at), state" 2>/dev/null
		printf '\nConnection cases (A5): '
		sc_sql "SELECT string_agg(state || ' ' || n, ', ') FROM (SELECT state, count(*) n FROM connection_cases GROUP BY state ORDER BY state) s" 2>/dev/null
		printf 'Notifications sent: '
		sc_sql "SELECT string_agg(channel || ' ' || n, ', ') FROM (SELECT channel, count(*) n FROM notifications WHERE state = 'sent' GROUP BY channel ORDER BY channel) s" 2>/dev/null
	fi
	printf '\nFiles:\n'
	printf '  vendor input/output files  %s/%s/{outgoing,processed}/\n' "$SIMPKI_VENDOR_DIR" "$SC_VENDOR"
	printf '  order, signature, notice   %s/notices/\n' "$SC_DIR"
	for f in "$SC_OUT"/invoices/*.html; do
		[ -f "$f" ] && printf '  invoice                    %s\n' "$f"
	done
	printf '  reconciliation             %s/reports/\n' "$SC_OUT"
	printf '  e-mails received (SMTP)    %s/ (%s)\n' "${SIMPKI_SMTP_MAILDIR:-?}" "$(find "${SIMPKI_SMTP_MAILDIR:-/nonexistent}" -name '*.eml' 2>/dev/null | wc -l) messages"
	printf '  SMS received (fake SMSC)   %s (%s messages; read with deploy/local/lib/fakesmsc_decode.py)\n' \
		"${SIMPKI_KANNEL_SMSC_LOG:-?}" "$("$SP_PY" "$SP_LIB_DIR/fakesmsc_decode.py" "${SIMPKI_KANNEL_SMSC_LOG:-/nonexistent}" 2>/dev/null | wc -l)"
	printf '  progress, services, logs   %s/progress.tsv, %s/logs/\n' "$SC_RUN" "$SC_DIR"
	printf '\nServices:\n'
	sed 's/^/  /' "$SC_RUN/urls" 2>/dev/null
	local dash
	dash=$(sc_url dashboard)
	if [ -n "$dash" ]; then
		printf '\nOperations dashboard (bảng điều hành): %s/\n' "$dash"
		printf '  open %s/#token=TOKEN, TOKEN (role auditor) being in %s\n' "$dash" "$SC_RUN/dashboard.token"
		printf '  (or type it into the page; another user: simpkictl user add NAME --role auditor)\n'
	fi
}
