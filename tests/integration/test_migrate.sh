#!/usr/bin/env bash
# test_migrate.sh - `simpkictl db migrate` and `db status` against a real
# PostgreSQL: fresh database, idempotent rerun, two migrators at once,
# refusals (changed applied file, bad name, duplicate version, failing SQL)
# that leave the database untouched, and --help / usage exits.
set -euo pipefail
. "${SIMPKI_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

ctl=$(sp_bin simpkictl) || sp_fail "simpkictl is not built"
PY=/usr/bin/python3

sp_stack_up --without kafka,hlr
base_url=${SIMPKI_DB_URL%/*}
work=$(mktemp -d "${TMPDIR:-/tmp}/simpki-migrate.XXXXXX")
sp_on_exit "rm -rf '$work'"
out=$work/out
err=$work/err

# newdb NAME: a fresh empty database; prints its URL.
newdb() {
	sp_psql "CREATE DATABASE $1" >/dev/null
	printf '%s/%s\n' "$base_url" "$1"
}
# q URL SQL: one value.
q() { psql -X -A -t -q -v ON_ERROR_STOP=1 "$1" -c "$2"; }
# run URL ARGS...: simpkictl with that database; sets rc, fills out/err.
run() {
	local url=$1
	shift
	rc=0
	SIMPKI_DB_URL=$url "$ctl" "$@" >"$out" 2>"$err" || rc=$?
}
# Every stderr line of a db command is a JSON log object.
check_json_log() {
	"$PY" - "$1" <<'PYEOF' || sp_fail "stderr is not JSON log lines: $(cat "$1")"
import json, sys
for line in open(sys.argv[1]):
    if line.strip():
        o = json.loads(line)
        assert isinstance(o, dict) and "level" in o and "msg" in o, line
PYEOF
}
expect_rc() { [ "$rc" -eq "$1" ] || sp_fail "$2: exit $rc, expected $1; stderr: $(cat "$err")"; }
expect_err() { grep -qF -- "$1" "$err" || sp_fail "stderr lacks '$1': $(cat "$err")"; }
table_exists() { q "$1" "SELECT to_regclass('$2') IS NOT NULL"; }

sp_step "--help and usage errors"
for args in "--help" "-h" "db --help" "db migrate --help" "db status --help" \
	"events --help" "events dump --help"; do
	# shellcheck disable=SC2086
	run "$SIMPKI_DB_URL" $args
	expect_rc 0 "simpkictl $args"
	grep -q '^Usage: simpkictl' "$out" || sp_fail "simpkictl $args: no usage on stdout"
	[ ! -s "$err" ] || sp_fail "simpkictl $args wrote to stderr: $(cat "$err")"
done
for args in "" "frobnicate" "db" "db frobnicate" "db migrate --bogus" \
	"db migrate --dir" "db migrate extra" "events" "events dump"; do
	# shellcheck disable=SC2086
	run "$SIMPKI_DB_URL" $args
	expect_rc 2 "simpkictl $args"
	grep -q 'Usage: simpkictl' "$err" || sp_fail "simpkictl $args: no usage on stderr"
	[ ! -s "$out" ] || sp_fail "simpkictl $args wrote to stdout"
done

sp_step "the repository's migrations on a fresh database"
repo_sql=$SIMPKI_SOURCE_DIR/schemas/sql
nfiles=$(find "$repo_sql" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]*_*.sql' | wc -l)
top=$(find "$repo_sql" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]*_*.sql' -printf '%f\n' |
	sed 's/_.*//' | sort -n | tail -n1)
top=$((10#$top))
[ "$nfiles" -ge 1 ] || sp_fail "no migrations in $repo_sql"
fresh=$(newdb m_fresh)
run "$fresh" db status
expect_rc 0 "status before migrate"
grep -q "schema at version 0, $nfiles pending" "$out" || sp_fail "status: $(cat "$out")"
[ "$(grep -c ' pending ' "$out")" -eq "$nfiles" ] || sp_fail "status: $(cat "$out")"
[ "$(table_exists "$fresh" schema_migrations)" = f ] || sp_fail "status created schema_migrations"

run "$fresh" db migrate
expect_rc 0 "first migrate"
sp_assert_eq "$(cat "$out")" "applied $nfiles migration(s), schema at version $top" "first migrate summary"
check_json_log "$err"
expect_err '"msg":"migration applied"'
sp_assert_eq "$(q "$fresh" 'SELECT count(*) FROM schema_migrations')" "$nfiles" "rows after first run"
sp_assert_eq "$(table_exists "$fresh" outbox)" t "outbox table"
# Recorded checksums are the files' SHA-256.
for f in "$repo_sql"/[0-9][0-9][0-9][0-9]*_*.sql; do
	name=$(basename "$f")
	sum=$(sha256sum "$f" | cut -d' ' -f1)
	sp_assert_eq "$(q "$fresh" "SELECT sha256 FROM schema_migrations WHERE name = '$name'")" \
		"$sum" "checksum of $name"
done
first_at=$(q "$fresh" 'SELECT max(applied_at) FROM schema_migrations')

sp_step "second run applies nothing"
run "$fresh" db migrate
expect_rc 0 "second migrate"
sp_assert_eq "$(cat "$out")" "applied 0 migration(s), schema at version $top" "second migrate summary"
check_json_log "$err"
sp_assert_eq "$(q "$fresh" 'SELECT count(*) FROM schema_migrations')" "$nfiles" "rows after second run"
sp_assert_eq "$(q "$fresh" 'SELECT max(applied_at) FROM schema_migrations')" "$first_at" "applied_at untouched"

run "$fresh" db status
expect_rc 0 "status after migrate"
[ "$(grep -c ' applied ' "$out")" -eq "$nfiles" ] || sp_fail "status: $(cat "$out")"
grep -q "schema at version $top, 0 pending" "$out" || sp_fail "status: $(cat "$out")"

# The harness's own database was migrated by the same tool.
sp_assert_eq "$(sp_psql 'SELECT count(*) FROM schema_migrations')" "$nfiles" "harness database migrated"

sp_step "SIMPKI_SCHEMA_DIR sets the default folder"
mkdir -p "$work/schema_env/sql"
echo 'CREATE TABLE from_env (x int);' >"$work/schema_env/sql/0001_from_env.sql"
envdb=$(newdb m_env)
rc=0
SIMPKI_SCHEMA_DIR=$work/schema_env SIMPKI_DB_URL=$envdb "$ctl" db migrate >"$out" 2>"$err" || rc=$?
expect_rc 0 "migrate with SIMPKI_SCHEMA_DIR"
sp_assert_eq "$(table_exists "$envdb" from_env)" t "table from SIMPKI_SCHEMA_DIR"

sp_step "two migrators at once"
cdir=$work/concurrent
mkdir -p "$cdir"
cat >"$cdir/0001_slow.sql" <<'SQL'
CREATE TABLE slow (x int);
SELECT pg_sleep(1);
SQL
echo 'CREATE TABLE second (x int);' >"$cdir/0002_second.sql"
printf 'CREATE TABLE third (x int);\nINSERT INTO third VALUES (3);\n' >"$cdir/0010_third.sql"
conc=$(newdb m_conc)
SIMPKI_DB_URL=$conc "$ctl" db migrate --dir "$cdir" >"$work/c1.out" 2>"$work/c1.err" &
p1=$!
SIMPKI_DB_URL=$conc "$ctl" db migrate --dir "$cdir" >"$work/c2.out" 2>"$work/c2.err" &
p2=$!
rc1=0 rc2=0
wait "$p1" || rc1=$?
wait "$p2" || rc2=$?
[ "$rc1" -eq 0 ] || sp_fail "migrator 1 exit $rc1: $(cat "$work/c1.err")"
[ "$rc2" -eq 0 ] || sp_fail "migrator 2 exit $rc2: $(cat "$work/c2.err")"
sp_assert_eq "$(q "$conc" 'SELECT string_agg(version::text, $$,$$ ORDER BY version) FROM schema_migrations')" \
	"1,2,10" "versions recorded once each"
sp_assert_eq "$(q "$conc" 'SELECT count(*) FROM third')" 1 "0010 ran once"
a1=$(sed -n 's/^applied \([0-9]*\) migration(s), schema at version 10$/\1/p' "$work/c1.out")
a2=$(sed -n 's/^applied \([0-9]*\) migration(s), schema at version 10$/\1/p' "$work/c2.out")
{ [ -n "$a1" ] && [ -n "$a2" ]; } || sp_fail "summaries: '$(cat "$work/c1.out")' '$(cat "$work/c2.out")'"
sp_assert_eq "$((a1 + a2))" 3 "migrations applied between both runs"

sp_step "an applied file that changed is refused, nothing else applied"
xdir=$work/changed
mkdir -p "$xdir"
echo 'CREATE TABLE a (x int);' >"$xdir/0001_a.sql"
chg=$(newdb m_changed)
run "$chg" db migrate --dir "$xdir"
expect_rc 0 "migrate before the change"
echo '-- an innocent-looking edit' >>"$xdir/0001_a.sql"
echo 'CREATE TABLE b (x int);' >"$xdir/0002_b.sql"
run "$chg" db migrate --dir "$xdir"
expect_rc 1 "migrate after the change"
expect_err "migration 0001_a.sql was changed after it was applied"
check_json_log "$err"
[ ! -s "$out" ] || sp_fail "refused run printed a summary: $(cat "$out")"
sp_assert_eq "$(table_exists "$chg" b)" f "0002 must not be applied"
sp_assert_eq "$(q "$chg" 'SELECT count(*) FROM schema_migrations')" 1 "rows after refusal"
run "$chg" db status --dir "$xdir"
expect_rc 1 "status of a changed schema"
grep -Eq '^1 +changed ' "$out" || sp_fail "status: $(cat "$out")"
grep -Eq '^2 +pending ' "$out" || sp_fail "status: $(cat "$out")"
expect_err "migration 0001_a.sql was changed after it was applied"

sp_step "a badly named .sql file is refused, nothing applied"
bdir=$work/badname
mkdir -p "$bdir"
echo 'CREATE TABLE a (x int);' >"$bdir/0001_a.sql"
echo 'CREATE TABLE bad (x int);' >"$bdir/2_bad.sql"
echo 'not sql, ignored' >"$bdir/README.md"
bad=$(newdb m_badname)
run "$bad" db migrate --dir "$bdir"
expect_rc 1 "migrate with a bad name"
expect_err '2_bad.sql'
expect_err 'expected NNNN_name.sql'
check_json_log "$err"
[ ! -s "$out" ] || sp_fail "refused run printed a summary"
sp_assert_eq "$(table_exists "$bad" schema_migrations)" f "nothing touched (schema_migrations)"
sp_assert_eq "$(table_exists "$bad" a)" f "nothing applied (a)"

sp_step "duplicate versions are refused, nothing applied"
ddir=$work/dup
mkdir -p "$ddir"
echo 'CREATE TABLE a (x int);' >"$ddir/0001_a.sql"
echo 'CREATE TABLE again (x int);' >"$ddir/00001_again.sql"
run "$bad" db migrate --dir "$ddir"
expect_rc 1 "migrate with duplicate versions"
expect_err 'duplicate migration version 1'
sp_assert_eq "$(table_exists "$bad" schema_migrations)" f "nothing touched after duplicate"
sp_assert_eq "$(table_exists "$bad" a)" f "nothing applied after duplicate"

sp_step "a failing migration is rolled back whole; earlier ones stay"
fdir=$work/failing
mkdir -p "$fdir"
echo 'CREATE TABLE a (x int);' >"$fdir/0001_a.sql"
printf 'CREATE TABLE half (x int);\nSELECT no_such_function();\n' >"$fdir/0002_broken.sql"
echo 'CREATE TABLE c (x int);' >"$fdir/0003_c.sql"
fail=$(newdb m_failing)
run "$fail" db migrate --dir "$fdir"
expect_rc 1 "migrate with a broken file"
expect_err 'migration 0002_broken.sql failed: 42883'
[ ! -s "$out" ] || sp_fail "failed run printed a summary"
sp_assert_eq "$(table_exists "$fail" a)" t "0001 applied"
sp_assert_eq "$(table_exists "$fail" half)" f "0002 left nothing behind"
sp_assert_eq "$(table_exists "$fail" c)" f "0003 not attempted"
sp_assert_eq "$(q "$fail" 'SELECT string_agg(version::text, $$,$$) FROM schema_migrations')" 1 "only 0001 recorded"
printf 'CREATE TABLE half (x int);\n' >"$fdir/0002_broken.sql"
run "$fail" db migrate --dir "$fdir"
expect_rc 0 "migrate after the fix"
sp_assert_eq "$(cat "$out")" "applied 2 migration(s), schema at version 3" "summary after the fix"

sp_step "a pending file below the applied version is refused"
mkdir -p "$work/ooo" && cp "$fdir"/0001_a.sql "$fdir"/0003_c.sql "$work/ooo/"
ooo=$(newdb m_ooo)
run "$ooo" db migrate --dir "$work/ooo"
expect_rc 0 "migrate 1 and 3"
echo 'CREATE TABLE late (x int);' >"$work/ooo/0002_late.sql"
run "$ooo" db migrate --dir "$work/ooo"
expect_rc 1 "migrate an out-of-order file"
expect_err 'out of order'
sp_assert_eq "$(table_exists "$ooo" late)" f "out-of-order file not applied"

sp_step "configuration and connection errors"
run "$fresh" db migrate --dir "$work/no-such-folder"
expect_rc 1 "missing folder"
expect_err 'no-such-folder'
rc=0
env -u SIMPKI_DB_URL "$ctl" db migrate >"$out" 2>"$err" || rc=$?
expect_rc 1 "no SIMPKI_DB_URL"
expect_err 'SIMPKI_DB_URL is not set'
rc=0
SIMPKI_DB_CONNECT_WAIT_MS=300 SIMPKI_DB_URL='postgresql://op:Sekr1t-pw@127.0.0.1:1/simpki' \
	"$ctl" db migrate >"$out" 2>"$err" || rc=$?
expect_rc 1 "unreachable database"
expect_err '127.0.0.1:1/simpki'
check_json_log "$err"
if grep -q 'Sekr1t-pw' "$out" "$err"; then sp_fail "password printed"; fi

sp_step "ok"
