#!/usr/bin/env bash
# test_db.sh - common/db.c against a real PostgreSQL: runs the Check
# program tests/integration/progs/db_check.c (connect with backoff, a
# server that comes up late, parameterized queries, sp_db_tx commit /
# reject / retry on 40001, 40P01 and a dropped connection).
set -euo pipefail
. "${SIMPKI_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

db_check=$(sp_bin db_check) || sp_fail "db_check is not built"

sp_step "starting PostgreSQL"
sp_stack_up --without kafka,hlr

sp_step "db_check against $SIMPKI_DB_URL"
CK_DEFAULT_TIMEOUT=120 "$db_check" || sp_fail "db_check failed"

# The test left its tables behind on the real server: prove it talked to it.
n=$(sp_psql "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'dbc\_%'")
[ "$n" -ge 10 ] || sp_fail "expected db_check's tables on the server, found $n"

sp_step "ok"
