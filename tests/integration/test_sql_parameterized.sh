#!/usr/bin/env bash
# SQL only as constant text with $n parameters (issue 13): every call that
# sends SQL in common/, services/ and tools/ passes constant text, or is in
# tests/lib/sql_allow.txt with the reason it is safe. The checker is shown
# to catch string-built SQL, and to keep its allow list honest.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"
CHECK=$SIMPKI_SOURCE_DIR/tests/lib/check_sql.py
W=$(mktemp -d "${TMPDIR:-/tmp}/simpki-sql.XXXXXX")
sp_on_exit "rm -rf '$W'"
_sp_harness_traps

sp_step "the tree"
(cd "$SIMPKI_SOURCE_DIR" && /usr/bin/python3 "$CHECK" --allow tests/lib/sql_allow.txt common services tools) \
	>"$W/out" 2>"$W/err" || sp_fail "SQL that is not constant text: $(cat "$W/out")"
grep -Eq "check_sql: [0-9]{2,} files, 0 findings" "$W/err" || sp_fail "too few files scanned: $(cat "$W/err")"

sp_step "the checker catches string-built SQL"
mkdir -p "$W/src"
cat >"$W/src/bad.c" <<'C'
/* A comment with sp_db_query(c, buf) is not a call. */
#define BY_ID(col) "WHERE " col " = $1"
static int f(PGconn *c, const char *user, const char *name) {
  char buf[256];
  snprintf(buf, sizeof buf, "SELECT * FROM users WHERE name = '%s'", name);
  PGresult *r = sp_db_query(c, buf, 0, NULL, e, n);
  PQexec(c, user);
  sp_db_exec(c, "UPDATE sims SET state = $2 " BY_ID("iccid"), 2, p, e, n);
  sp_db_query(c, full ? "SELECT 1::text" : "SELECT $1::text", 1, p, e, n);
  PQprepare(c, "stmt", "SELECT a FROM b WHERE c = $1", 1, NULL);
  PQprepare(c, "stmt2", text, 1, NULL);
  return r != NULL;
}
C
rc=0; (cd "$W" && /usr/bin/python3 "$CHECK" src) >"$W/out" 2>&1 || rc=$?
sp_assert_eq "$rc" 1 "string-built SQL"
grep -q "check_sql: 1 files, 4 findings" "$W/out" || sp_fail "findings (buf twice, user, text): $(cat "$W/out")"
grep -q "src/bad.c:5: snprintf() builds SQL text into buf" "$W/out" || sp_fail "the snprintf: $(cat "$W/out")"
grep -q "src/bad.c:6: sp_db_query() is given SQL that is not constant text: buf" "$W/out" || sp_fail "the query: $(cat "$W/out")"
grep -q "src/bad.c:7: PQexec() is given SQL that is not constant text: user" "$W/out" || sp_fail "PQexec: $(cat "$W/out")"
grep -q "src/bad.c:11: PQprepare() is given SQL that is not constant text: text" "$W/out" || sp_fail "PQprepare: $(cat "$W/out")"

sp_step "the allow list: an entry clears its finding, a stale entry is one, a reason is required"
printf 'src/bad.c buf reviewed\nsrc/bad.c user reviewed\nsrc/bad.c text reviewed\n' >"$W/allow"
(cd "$W" && /usr/bin/python3 "$CHECK" --allow allow src) >"$W/out" 2>&1 || sp_fail "allowed: $(cat "$W/out")"
printf 'src/bad.c buf reviewed\nsrc/bad.c user reviewed\nsrc/bad.c text reviewed\nsrc/gone.c sql reviewed\n' >"$W/allow"
rc=0; (cd "$W" && /usr/bin/python3 "$CHECK" --allow allow src) >"$W/out" 2>&1 || rc=$?
sp_assert_eq "$rc" 1 "a stale allow entry"
grep -q "src/gone.c: allow entry for sql matches nothing" "$W/out" || sp_fail "stale entry: $(cat "$W/out")"
printf 'src/bad.c buf\n' >"$W/allow"
rc=0; (cd "$W" && /usr/bin/python3 "$CHECK" --allow allow src) >"$W/out" 2>&1 || rc=$?
sp_assert_eq "$rc" 2 "an allow entry without a reason"
echo "ok - SQL only as constant text" >&2
