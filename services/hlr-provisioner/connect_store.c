/* connect_store.c - hlr_connections and their answers. */
#include "connect_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outbox.h"
#include "phone.h"
#include "store.h"

/* The answer to a request, on its subject, in tx. */
static int answer(PGconn *tx, const hp_conn *c, const char *case_id,
                  const char *correlation, char *errstr, size_t errlen) {
  char subject[96];
  snprintf(subject, sizeof subject, "connection/%s", c->request_id);
  json_t *data = json_pack("{s:s, s:s, s:s, s:b}", "request_id",
                           c->request_id, "iccid", c->iccid, "msisdn",
                           c->msisdn, "swap", c->swap);
  const char *type;
  if (c->step == HP_CONN_DONE) {
    type = "connection.hlr_done";
    json_object_set_new(data, "imsi", json_string(c->imsi));
    json_object_set_new(data, "old_imsi", c->old_imsi[0]
                                              ? json_string(c->old_imsi)
                                              : json_null());
  } else {
    type = "connection.hlr_failed";
    json_object_set_new(data, "reason", json_string(c->reason));
    json_object_set_new(data, "restored", json_boolean(c->restored));
  }
  if (case_id && *case_id)
    json_object_set_new(data, "case_id", json_string(case_id));
  return sp_outbox_publish(tx, HP_PRODUCER, HP_SOURCE, HP_TOPIC_CONNECTIONS,
                           type, subject, correlation, data, errstr, errlen);
}

int hp_cstore_enqueue(PGconn *tx, const sp_event *ev, char *errstr,
                      size_t errlen) {
  hp_conn c;
  const char *case_id;
  if (hp_conn_from_event(ev, &c, &case_id, errstr, errlen))
    return 1;
  const char *rid = c.request_id, *iccid = c.iccid;
  const char *pr[] = {rid};
  PGresult *r = sp_db_query(
      tx, "SELECT 1 FROM hlr_connections WHERE request_id = $1", 1, pr,
      errstr, errlen);
  if (!r)
    return -1;
  int seen = PQntuples(r) == 1;
  PQclear(r);
  if (seen)
    return 0;
  const char *correlation =
      ev->correlationid[0] ? ev->correlationid : ev->subject;
  const char *pi[] = {iccid};
  r = sp_db_query(tx, "SELECT imsi, state FROM sims WHERE iccid = $1", 1, pi,
                  errstr, errlen);
  if (!r)
    return -1;
  int known = PQntuples(r) == 1;
  /* Loaded once, a SIM stays in the HLR whatever inventory does with it
   * after (handed over, stocked in, at a shop...). */
  int ready = known && strcmp(PQgetvalue(r, 0, 1), "produced") &&
              strcmp(PQgetvalue(r, 0, 1), "hlr_failed");
  if (known)
    snprintf(c.imsi, sizeof c.imsi, "%s", PQgetvalue(r, 0, 0));
  if (!ready) {
    c.step = HP_CONN_FAILED;
    snprintf(c.reason, sizeof c.reason,
             known ? "SIM %s is %s: it was never loaded into the HLR"
                   : "SIM %s is unknown",
             iccid, known ? PQgetvalue(r, 0, 1) : "");
  }
  PQclear(r);
  const char *p[] = {c.request_id, c.iccid,  c.imsi,
                     c.msisdn,     c.swap ? "true" : "false",
                     case_id,      correlation,
                     hp_conn_step_name(c.step), c.reason[0] ? c.reason : NULL};
  if (sp_db_exec(tx,
                 "INSERT INTO hlr_connections (request_id, iccid, imsi, "
                 "msisdn, swap, case_id, correlation, step, reason, "
                 "finished_at) VALUES ($1, $2, $3, $4, $5::boolean, $6, $7, "
                 "$8, $9, CASE WHEN $8 = 'failed' THEN now() END)",
                 9, p, errstr, errlen) != 1)
    return -1;
  if (!ready) {
    sp_warn("connection refused", "request_id", c.request_id, "reason",
            c.reason);
    return answer(tx, &c, case_id, correlation, errstr, errlen) ? -1 : 0;
  }
  sp_info("connection queued", "request_id", c.request_id, "iccid", c.iccid,
          "swap", c.swap ? "true" : "false");
  return 0;
}

int hp_cstore_next(sp_db *db, hp_conn *c, char *errstr, size_t errlen) {
  if (sp_db_ensure(db, errstr, errlen))
    return -1;
  PGresult *r = sp_db_query(
      sp_db_conn(db),
      "SELECT request_id, iccid, imsi, msisdn, swap, coalesce(old_imsi, ''), "
      "step, coalesce(reason, '') FROM hlr_connections WHERE step NOT IN "
      "('done', 'failed') ORDER BY requested_at, request_id LIMIT 1",
      0, NULL, errstr, errlen);
  if (!r)
    return -1;
  int found = PQntuples(r) == 1;
  if (found) {
    memset(c, 0, sizeof *c);
    snprintf(c->request_id, sizeof c->request_id, "%s", PQgetvalue(r, 0, 0));
    snprintf(c->iccid, sizeof c->iccid, "%s", PQgetvalue(r, 0, 1));
    snprintf(c->imsi, sizeof c->imsi, "%s", PQgetvalue(r, 0, 2));
    snprintf(c->msisdn, sizeof c->msisdn, "%s", PQgetvalue(r, 0, 3));
    c->swap = PQgetvalue(r, 0, 4)[0] == 't';
    snprintf(c->old_imsi, sizeof c->old_imsi, "%s", PQgetvalue(r, 0, 5));
    c->step = (hp_conn_step)hp_conn_step_parse(PQgetvalue(r, 0, 6));
    snprintf(c->reason, sizeof c->reason, "%s", PQgetvalue(r, 0, 7));
  }
  PQclear(r);
  return found;
}

typedef struct save_tx {
  const hp_conn *c;
} save_tx;

static int save_fn(PGconn *tx, void *arg, char *errstr, size_t errlen) {
  const hp_conn *c = ((save_tx *)arg)->c;
  int final = c->step == HP_CONN_DONE || c->step == HP_CONN_FAILED;
  const char *p[] = {c->request_id, hp_conn_step_name(c->step),
                     c->old_imsi[0] ? c->old_imsi : NULL,
                     c->restored ? "true" : "false",
                     c->reason[0] ? c->reason : NULL};
  PGresult *r = sp_db_query(
      tx,
      "UPDATE hlr_connections SET step = $2, old_imsi = $3, restored = "
      "$4::boolean, reason = $5, updated_at = now(), finished_at = CASE WHEN "
      "$2 IN ('done', 'failed') THEN now() END WHERE request_id = $1 AND "
      "step NOT IN ('done', 'failed') RETURNING coalesce(case_id, ''), "
      "correlation",
      5, p, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  int updated = PQntuples(r) == 1;
  char case_id[64] = "", corr[128] = "";
  if (updated) {
    snprintf(case_id, sizeof case_id, "%s", PQgetvalue(r, 0, 0));
    snprintf(corr, sizeof corr, "%s", PQgetvalue(r, 0, 1));
  }
  PQclear(r);
  if (!updated) {
    snprintf(errstr, errlen, "connection %s is finished already",
             c->request_id);
    return SP_DB_REJECT;
  }
  if (final && answer(tx, c, case_id, corr, errstr, errlen))
    return SP_DB_ERROR;
  return SP_DB_OK;
}

int hp_cstore_save(sp_db *db, const hp_conn *c, char *errstr, size_t errlen) {
  save_tx t = {c};
  return sp_db_tx(db, save_fn, &t, errstr, errlen) == SP_DB_OK ? 0 : -1;
}
