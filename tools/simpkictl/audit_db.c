/* audit_db.c - the database side of `audit replay --against-db`
 * (audit_db.h). */
#include "audit_db.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "db.h"

#define FETCH 10000
#define FETCH_S "10000"

static const char *const queries[AUDIT_TABLES] = {
    [AUDIT_T_SIMS] = "SELECT iccid, state, coalesce(ctkv_id, ''), "
                     "coalesce(shop_id, '') FROM sims",
    [AUDIT_T_ORDERS] = "SELECT order_id, state, NULL, NULL FROM orders",
    [AUDIT_T_BATCHES] = "SELECT batch_id, state, NULL, NULL FROM batches",
    [AUDIT_T_CASES] = "SELECT case_id, state, NULL, NULL FROM "
                      "connection_cases",
};

static int read_table(PGconn *c, audit_table t, audit_state *s,
                      audit_findings *out, char *errstr, size_t errlen) {
  char sql[256];
  snprintf(sql, sizeof sql, "DECLARE audit_rows NO SCROLL CURSOR FOR %s",
           queries[t]);
  if (sp_db_exec(c, sql, 0, NULL, errstr, errlen) < 0)
    return -1;
  for (;;) {
    PGresult *r = sp_db_query(c, "FETCH " FETCH_S " FROM audit_rows", 0, NULL,
                              errstr, errlen);
    if (!r)
      return -1;
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
      int is_sim = t == AUDIT_T_SIMS;
      if (audit_state_check_row(s, t, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                                is_sim ? PQgetvalue(r, i, 2) : NULL,
                                is_sim ? PQgetvalue(r, i, 3) : NULL, out)) {
        PQclear(r);
        return -2;
      }
    }
    PQclear(r);
    if (n < FETCH)
      break;
  }
  return sp_db_exec(c, "CLOSE audit_rows", 0, NULL, errstr, errlen) < 0 ? -1
                                                                        : 0;
}

int audit_db_compare(const char *db_url, audit_state *s, audit_findings *out,
                     char *errstr, size_t errlen) {
  sp_db *db = sp_db_open(db_url, 5000, errstr, errlen);
  if (!db)
    return -1;
  PGconn *c = sp_db_conn(db);
  int rc = 0;
  if (sp_db_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
                 errstr, errlen) < 0)
    rc = -1;
  for (int t = 0; !rc && t < AUDIT_TABLES; t++)
    rc = read_table(c, (audit_table)t, s, out, errstr, errlen);
  if (!rc && sp_db_exec(c, "COMMIT", 0, NULL, errstr, errlen) < 0)
    rc = -1;
  sp_db_close(db);
  if (rc == -2)
    snprintf(errstr, errlen, "out of memory");
  if (!rc && audit_state_finish(s, out)) {
    snprintf(errstr, errlen, "out of memory");
    rc = -2;
  }
  return rc;
}
