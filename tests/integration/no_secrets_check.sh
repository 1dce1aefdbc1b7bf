#!/usr/bin/env bash
# no_secrets_check.sh - run by test_no_secrets.sh through
# `deploy/local/run --then`, while the run's stack is still up. Collects
# every secret the run generated (Ki, OPc, the vendor transport key, the
# KEK, the account passwords and an OTP, the dashboard's API token), then
# scans the run folder, the events on every topic, the HTTP answers and
# the database's text columns for each of them, in hex and in text: none
# may be found. Then proves the scan is not blind with a planted Ki and a
# planted password. Secrets are never printed: a hit names only the kind,
# the place and the first 4 characters.
# Needs the stack's variables, SIMPKI_RUN_DIR, SIMPKI_RUN_REVEAL_KEYS,
# SIMPKI_SOURCE_DIR / SIMPKI_BUILD_DIR, and NS_WORK (a folder outside the
# run folder for the check's own files, which hold the secrets).
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"
# For sp_on_exit: the planted secrets go whatever happens.
_sp_harness_traps
RUN=$SIMPKI_RUN_DIR
[ -n "${NS_WORK:-}" ] || sp_fail "NS_WORK is not set"
case "$(cd "$NS_WORK" && pwd)/" in "$(cd "$RUN" && pwd)/"*) sp_fail "NS_WORK is inside the run folder" ;; esac
W=$NS_WORK
mkdir -p "$W/http" "$W/events" "$W/db"
chmod 700 "$W"
PY=/usr/bin/python3
SCAN=("$PY" "$SIMPKI_SOURCE_DIR/tests/lib/scan_secrets.py")
CTL=$(sp_bin simpkictl)
# shellcheck disable=SC1091
source "$RUN/run/ids"
AC_URL=$(awk '$1 == "accounts" { print $2 }' "$RUN/run/urls")
[ -n "$AC_URL" ] || sp_fail "no accounts URL in $RUN/run/urls"

sms_json() { $PY "$SIMPKI_SOURCE_DIR/deploy/local/lib/fakesmsc_decode.py" --json "$SIMPKI_KANNEL_SMSC_LOG" 2>/dev/null || true; }
# last_sms LOGIN REGEX: the last value captured by REGEX in LOGIN's SMS.
last_sms() {
	sms_json >"$W/sms.jsonl"
	$PY -c 'import json,re,sys
v = [m for l in open(sys.argv[1], encoding="utf-8") if l.strip()
     for m in re.findall(sys.argv[3], json.loads(l)["text"]) if json.loads(l)["to"].lstrip("+") == sys.argv[2]]
print(v[-1] if v else "")' "$W/sms.jsonl" "$1" "$2"
}
N=0
# post NAME PATH JSON: the status is printed, the body kept in $W/http/NAME.body
# (scanned with the rest). The JSON goes on stdin, never on a command line.
post() {
	N=$((N + 1))
	printf '%s' "$3" | curl -s -o "$W/http/$N-$1.body" -w '%{http_code}' --max-time 30 \
		-H 'Content-Type: application/json' --data-binary @- "$AC_URL$2"
}
# captcha: "ID ANSWER". The local captcha backend asks arithmetic in
# Vietnamese words; a client that reads the language answers it.
captcha() {
	N=$((N + 1))
	curl -s --max-time 30 "$AC_URL/v1/captcha" >"$W/http/$N-captcha.body"
	$PY - "$W/http/$N-captcha.body" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
words = {"một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9}
q = c["question"].lower().replace("?", "").split()
a, op, b = words[q[0]], q[1], words[q[2]]
print(c["id"], {"cộng": a + b, "trừ": a - b, "nhân": a * b}[op])
PYEOF
}
wait_sms() { # LOGIN REGEX NOT: until the last match differs from NOT
	local v i
	for ((i = 0; i < 200; i++)); do
		v=$(last_sms "$1" "$2")
		[ -n "$v" ] && [ "$v" != "$3" ] && { printf '%s' "$v"; return 0; }
		sleep 0.1
	done
	return 1
}

sp_step "the accounts service: a login, a recovery by OTP, a login with the new password"
LOGIN=$SWAP_MSISDN
# The last password sent: the account's, or a new one after a recovery.
PWRE='mat khau(?: moi .*? la)?: ([A-Za-z0-9]{12})'
PW=$(last_sms "$LOGIN" "$PWRE")
[ -n "$PW" ] || sp_fail "no account password SMS to $LOGIN"
sp_assert_eq "$(post login /v1/accounts/login '{"login": "'"$LOGIN"'", "password": "'"$PW"'"}')" 200 "login with the SMS password"
OTP0=$(last_sms "$LOGIN" 'la ([0-9]{6}), co hieu luc')
read -r cid cans < <(captcha)
[ -n "$cans" ] || sp_fail "no captcha"
# The swap customer's registered ID number (the scenario's notice).
sp_assert_eq "$(post recovery /v1/accounts/recovery '{"login": "'"$LOGIN"'", "cert_type": "personal", "id_number": "001190000201", "captcha_id": "'"$cid"'", "captcha_answer": "'"$cans"'"}')" \
	202 "a recovery request"
OTP=$(wait_sms "$LOGIN" 'la ([0-9]{6}), co hieu luc' "$OTP0") || sp_fail "no OTP SMS"
sp_assert_eq "$(post verify /v1/accounts/recovery/verify '{"login": "'"$LOGIN"'", "otp": "'"$OTP"'"}')" 200 "the OTP"
PW2=$(wait_sms "$LOGIN" "$PWRE" "$PW") || sp_fail "no new password SMS"
sp_assert_eq "$(post login2 /v1/accounts/login '{"login": "'"$LOGIN"'", "password": "'"$PW2"'"}')" 200 "login with the new password"
sp_assert_eq "$(post login-old /v1/accounts/login '{"login": "'"$LOGIN"'", "password": "'"$PW"'"}')" 401 "the old password no longer works"
unset PW PW2 OTP
# Let the services log and publish what follows from these calls.
sleep 2

sp_step "the secrets the run generated"
sms_json >"$W/sms.jsonl"
keyfiles=()
for f in "$SIMPKI_TRANSPORT_KEY_DIR"/*.key; do keyfiles+=(--transport-key "$f"); done
reveal=()
for f in "$SIMPKI_RUN_REVEAL_KEYS".*; do reveal+=(--reveal "$f"); done
[ "${#reveal[@]}" -gt 0 ] || sp_fail "no revealed vendor keys ($SIMPKI_RUN_REVEAL_KEYS.*)"
"${SCAN[@]}" collect "${reveal[@]}" "${keyfiles[@]}" --kek "$SIMPKI_KEK_FILE" \
	--sms-json "$W/sms.jsonl" --token "$RUN/run/dashboard.token" -o "$W/secrets" 2>"$W/collect.txt" ||
	sp_fail "collecting the secrets: $(cat "$W/collect.txt")"
cat "$W/collect.txt" >&2
read -r -a counts <<<"$(sed 's/^secrets: //' "$W/collect.txt")"
declare -A C=()
for kv in "${counts[@]}"; do C[${kv%=*}]=${kv#*=}; done
Q=${SIMPKI_RUN_QUANTITY:-1000}
sp_assert_eq "${C[ki]:-0}" "$((Q + 5))" "Ki collected (production batch and pilot)"
sp_assert_eq "${C[opc]:-0}" "$((Q + 5))" "OPc collected"
[ "${C[transport_key]:-0}" -ge 1 ] || sp_fail "no transport key collected"
[ "${C[kek]:-0}" -ge 1 ] || sp_fail "no KEK collected"
# 3 accounts' passwords and the new one after the recovery.
[ "${C[password]:-0}" -ge 4 ] || sp_fail "passwords collected: ${C[password]:-0}"
[ "${C[otp]:-0}" -ge 1 ] || sp_fail "no OTP collected"
sp_assert_eq "${C[api_token]:-0}" 1 "the dashboard's API token"

sp_step "events on every topic"
TOPICS="orders vendors batches registrations sims connections notifications accounts bcycp.orders.inbound sigverify.requests sigverify.results"
nev=0
for t in $TOPICS; do
	for tt in "$t" "$t.dlq"; do
		"$CTL" events dump --topic "$tt" >"$W/events/$tt.jsonl" 2>"$W/dump.err" || sp_fail "events dump $tt: $(cat "$W/dump.err")"
		nev=$((nev + $(wc -l <"$W/events/$tt.jsonl")))
	done
done
[ "$nev" -gt 50 ] || sp_fail "only $nev events dumped"
printf 'events: %d on %d topics (and their .dlq)\n' "$nev" "$(wc -w <<<"$TOPICS")" >&2

# dump_db: every table with a text-like column (text, varchar, char, json,
# jsonb, xml, arrays, and bytea, which COPY writes in hex) into
# $W/db/SCHEMA.TABLE.csv, first column the row's primary key (else ctid).
dump_db() {
	rm -f "$W"/db/*.csv
	psql -X -A -t -q -v ON_ERROR_STOP=1 -F $'\t' "$SIMPKI_DB_URL" -c "SELECT n.nspname || '.' || c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname),
		coalesce((SELECT string_agg(quote_ident(a.attname) || '::text', ' || ''/'' || ' ORDER BY a.attnum)
			FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
			WHERE i.indrelid = c.oid AND i.indisprimary), 'ctid::text'),
		(SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) FROM information_schema.columns
			WHERE table_schema = n.nspname AND table_name = c.relname
			AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'xml', 'bytea', 'ARRAY', 'USER-DEFINED'))
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		ORDER BY 1" >"$W/tables.tsv" || sp_fail "listing the tables"
	NTABLES=0 NCOLS=0
	while IFS=$'\t' read -r name qname key cols; do
		[ -n "$cols" ] || continue
		NTABLES=$((NTABLES + 1)) NCOLS=$((NCOLS + $(tr -cd , <<<"$cols" | wc -c) + 1))
		psql -X -q -v ON_ERROR_STOP=1 "$SIMPKI_DB_URL" \
			-c "COPY (SELECT $key AS _key, $cols FROM $qname) TO STDOUT WITH (FORMAT csv, HEADER)" \
			>"$W/db/$name.csv" || sp_fail "dumping $name"
	done <"$W/tables.tsv"
}

# What is not scanned in the run folder, and why:
EXCLUDE=(
	# The vendor's side: the input and output files, which carry the SIMs'
	# keys wrapped under the transport key as the file format requires.
	--exclude "$RUN/vendors" --exclude "$RUN/vendor-sim"
	# The key stores themselves: the KEK file and the vendor transport keys.
	--exclude "$SIMPKI_KEK_FILE" --exclude "$SIMPKI_TRANSPORT_KEY_DIR"
	# PostgreSQL's data directory: binary pages; the database is scanned
	# through SQL instead (every text-like and bytea column).
	--exclude "$SIMPKI_PG_DATA"
	# The fake SMSC's log stands for the customers' handsets, which receive
	# the password and OTP SMS by design.
	--exclude "$SIMPKI_KANNEL_SMSC_LOG"
	# The dashboard's API token is kept in this file of the run (mode 600)
	# for its operator: the token's own store.
	--exclude "$RUN/run/dashboard.token"
	# OsmoHLR's database is the AuC: it holds each SIM's Ki and OPc to
	# authenticate it, which is what B5 loads them there for.
	--exclude "$SIMPKI_HLR_DB" --exclude "$SIMPKI_HLR_DB-wal" --exclude "$SIMPKI_HLR_DB-shm"
	--exclude "$SIMPKI_HLR_DB-journal"
)
TARGETS=("$RUN" "$W/http" "$W/events" "$W/db")
LABELS=(--label "run=$RUN" --label "http=$W/http" --label "topic=$W/events")
# The run's own stdout and stderr so far (the test scans them whole after).
for f in ${NS_RUN_OUTPUT:-}; do [ -f "$f" ] && TARGETS+=("$f"); done

sp_step "the scan: run folder, run output, events, HTTP answers, database"
dump_db
printf 'database: %d tables, %d text-like or bytea columns\n' "$NTABLES" "$NCOLS" >&2
[ "$NTABLES" -gt 10 ] || sp_fail "only $NTABLES tables dumped"
rc=0
"${SCAN[@]}" scan --secrets "$W/secrets" "${EXCLUDE[@]}" "${LABELS[@]}" --db-dir "$W/db" "${TARGETS[@]}" \
	>"$W/hits.txt" 2>"$W/scan.err" || rc=$?
cat "$W/scan.err" >&2
if [ "$rc" -ne 0 ]; then
	head -50 "$W/hits.txt" >&2
	sp_fail "secrets found ($(wc -l <"$W/hits.txt") hits; the first 50 above)"
fi

sp_step "the scan is not blind: a planted Ki in a file, a planted password in a row"
reveal_files=("$SIMPKI_RUN_REVEAL_KEYS".*)
KI=$(awk '{ print $2; exit }' "${reveal_files[0]}")
PLANT=$RUN/logs/planted.$$.tmp
printf 'some line\nprefix %s suffix\n' "$KI" >"$PLANT"
unset KI
sp_on_exit "rm -f '$PLANT'; psql -X -q '$SIMPKI_DB_URL' -c 'DROP TABLE IF EXISTS ns_planted' >/dev/null 2>&1"
PWP=$(awk -F'\t' '$1 == "password" { print $3; exit }' "$W/secrets")
sp_psql "CREATE TABLE ns_planted (id text PRIMARY KEY, note text)" >/dev/null
printf '%s' "$PWP" | psql -X -q -v ON_ERROR_STOP=1 "$SIMPKI_DB_URL" \
	-c "CREATE TEMP TABLE pw (v text)" -c "COPY pw FROM STDIN" \
	-c "INSERT INTO ns_planted SELECT 'row-1', 'the password is ' || v FROM pw" >/dev/null ||
	sp_fail "planting a password"
unset PWP
dump_db
rc=0
"${SCAN[@]}" scan --secrets "$W/secrets" "${EXCLUDE[@]}" "${LABELS[@]}" --db-dir "$W/db" "${TARGETS[@]}" \
	>"$W/hits2.txt" 2>"$W/scan2.err" || rc=$?
sp_assert_eq "$rc" 1 "the scan with planted secrets"
grep -q "^HIT ki in run/logs/planted.$$.tmp:2 " "$W/hits2.txt" || sp_fail "the planted Ki was not found: $(cat "$W/hits2.txt")"
grep -q "^HIT password in public.ns_planted.note (row row-1) " "$W/hits2.txt" ||
	sp_fail "the planted password was not found: $(cat "$W/hits2.txt")"
sp_assert_eq "$(wc -l <"$W/hits2.txt")" 2 "hits with the planted secrets"
rm -f "$PLANT"
sp_psql "DROP TABLE ns_planted" >/dev/null
echo "ok - no secrets found" >&2
