/* store.c - hlr-provisioner's tables: the load queue, progress, report. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outbox.h"
#include "sim_secrets.h"

static const char *str(const sp_event *ev, const char *key) {
  const char *s = json_string_value(json_object_get(ev->data, key));
  return s ? s : "";
}

int hp_store_enqueue(PGconn *tx, const sp_event *ev, char *errstr,
                     size_t errlen) {
  const char *batch_id = str(ev, "batch_id");
  const char *p[] = {batch_id,
                     str(ev, "output_sha256"),
                     str(ev, "iccid_first"),
                     str(ev, "iccid_last"),
                     str(ev, "imsi_first"),
                     str(ev, "imsi_last")};
  if (!*batch_id || !*p[2] || !*p[3] || !*p[4] || !*p[5]) {
    snprintf(errstr, errlen, "%s %s lacks its batch id or ranges", ev->type,
             ev->id);
    return 1;
  }
  /* Only a batch whose very output file was accepted here: an event that
   * does not match the tables is somebody's mistake, not work to do. */
  PGresult *r = sp_db_query(
      tx,
      "INSERT INTO hlr_loads (batch_id, order_id, profile, sims, "
      "iccid_first, iccid_last, imsi_first, imsi_last) SELECT b.batch_id, "
      "b.order_id, b.profile, a.quantity, $3, $4, $5::bigint, $6::bigint "
      "FROM batches b JOIN batch_files f USING (batch_id) JOIN "
      "batch_allocations a USING (batch_id) WHERE b.batch_id = $1 AND "
      "f.output_sha256 = $2 ON CONFLICT (batch_id) DO NOTHING RETURNING 1",
      6, p, errstr, errlen);
  if (!r)
    return -1;
  int queued = PQntuples(r) == 1;
  PQclear(r);
  if (queued) {
    sp_info("batch queued for the HLR", "batch_id", batch_id, "event_id",
            ev->id);
    return 0;
  }
  const char *q[] = {batch_id};
  r = sp_db_query(tx,
                  "SELECT (SELECT count(*) FROM hlr_loads WHERE batch_id = "
                  "$1), (SELECT count(*) FROM batch_files WHERE batch_id = $1)",
                  1, q, errstr, errlen);
  if (!r)
    return -1;
  int known = atoi(PQgetvalue(r, 0, 0)) == 1;
  int issued = atoi(PQgetvalue(r, 0, 1)) == 1;
  PQclear(r);
  if (known)
    return 0; /* queued by an earlier delivery */
  snprintf(errstr, errlen,
           issued ? "batch %.64s: the output file named by the event was not "
                    "accepted"
                  : "batch %.64s is unknown",
           batch_id);
  return 1;
}

static void batch_from_row(PGresult *r, hp_batch *b) {
  char *dst[] = {b->batch_id,    b->order_id,   b->profile,
                 b->state,       b->iccid_first, b->iccid_last,
                 b->imsi_first,  b->imsi_last};
  size_t len[] = {sizeof b->batch_id,    sizeof b->order_id,
                  sizeof b->profile,     sizeof b->state,
                  sizeof b->iccid_first, sizeof b->iccid_last,
                  sizeof b->imsi_first,  sizeof b->imsi_last};
  for (int i = 0; i < 8; i++)
    snprintf(dst[i], len[i], "%s", PQgetvalue(r, 0, i));
  b->sims = atol(PQgetvalue(r, 0, 8));
}

int hp_store_next(sp_db *db, hp_batch *b, char *errstr, size_t errlen) {
  if (sp_db_ensure(db, errstr, errlen))
    return -1;
  PGresult *r = sp_db_query(
      sp_db_conn(db),
      "SELECT batch_id, order_id, profile, state, iccid_first, iccid_last, "
      "imsi_first, imsi_last, sims FROM hlr_loads WHERE state <> 'done' "
      "ORDER BY queued_at, batch_id LIMIT 1",
      0, NULL, errstr, errlen);
  if (!r)
    return -1;
  int found = PQntuples(r) == 1;
  if (found)
    batch_from_row(r, b);
  PQclear(r);
  return found;
}

/* The SIM's record opened into the auth data to load. */
static int open_keys(sp_keystore *ks, const char *kek_id, const char *hex,
                     hp_sim *s) {
  unsigned char sealed[SP_SIMSEC_SEALED + 16];
  size_t sl = 0;
  sp_sim_secrets sec;
  char why[256];
  if (sp_hex_decode(hex, strlen(hex), sealed, sizeof sealed, &sl)) {
    snprintf(s->reason, sizeof s->reason, "its stored secrets are not a "
                                          "sealed record");
    return -1;
  }
  if (sp_simsec_open(ks, kek_id, s->imsi, sealed, sl, &sec, why,
                     sizeof why)) {
    snprintf(s->reason, sizeof s->reason,
             "its secrets do not open under KEK %.40s: %.120s", kek_id, why);
    return -1;
  }
  int rc = sec.has_opc
               ? hp_aud_set_3g(&s->want, sec.ki, sizeof sec.ki, sec.opc,
                               sizeof sec.opc, 0, why, sizeof why)
               : hp_aud_set_2g(&s->want, HP_AUD_COMP128V1, sec.ki,
                               sizeof sec.ki, why, sizeof why);
  sp_wipe(&sec, sizeof sec);
  if (rc)
    snprintf(s->reason, sizeof s->reason, "%.190s", why);
  return rc;
}

int hp_store_fetch(sp_db *db, sp_keystore *ks, const hp_batch *b,
                   const char *after, hp_sim *sims, size_t max, size_t *n,
                   char *errstr, size_t errlen) {
  *n = 0;
  if (sp_db_ensure(db, errstr, errlen))
    return -1;
  char lim[24];
  snprintf(lim, sizeof lim, "%zu", max);
  /* The ICCID range walks the primary key; batch_id drops the ICCIDs of
   * another length that text order puts inside the range. */
  const char *p[] = {b->batch_id, after, b->iccid_first, b->iccid_last, lim};
  PGresult *r = sp_db_query(
      sp_db_conn(db),
      "SELECT iccid, imsi, kek_id, encode(secrets_enc, 'hex') FROM sims "
      "WHERE iccid > $2 AND iccid >= $3 AND iccid <= $4 AND batch_id = $1 "
      "AND state = 'produced' ORDER BY iccid LIMIT $5::int",
      5, p, errstr, errlen);
  if (!r)
    return -1;
  int rows = PQntuples(r);
  for (int i = 0; i < rows; i++) {
    hp_sim *s = &sims[i];
    memset(s, 0, sizeof *s);
    snprintf(s->iccid, sizeof s->iccid, "%s", PQgetvalue(r, i, 0));
    snprintf(s->imsi, sizeof s->imsi, "%s", PQgetvalue(r, i, 1));
    if (open_keys(ks, PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), s)) {
      hp_aud_wipe(&s->want);
      s->outcome = HP_SIM_FAILED;
    }
  }
  PQclear(r);
  *n = (size_t)rows;
  return 0;
}

/* A Postgres text[] literal of the ICCIDs whose outcome is o. */
static char *iccid_array(const hp_sim *sims, size_t n, hp_sim_outcome o,
                         long *count) {
  char *a = malloc(n * 24 + 3), *p = a;
  if (!a)
    return NULL;
  *p++ = '{';
  *count = 0;
  for (size_t i = 0; i < n; i++)
    if (!sims[i].recorded && sims[i].outcome == o)
      p += sprintf(p, "%s%s", (*count)++ ? "," : "", sims[i].iccid);
  *p++ = '}';
  *p = '\0';
  return a;
}

typedef struct record_tx {
  const hp_batch *b;
  hp_sim *sims;
  size_t n;
} record_tx;

static int record_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  record_tx *t = arg;
  long counts[3] = {0, 0, 0};
  static const hp_sim_outcome kinds[3] = {HP_SIM_LOADED, HP_SIM_ALREADY,
                                          HP_SIM_FAILED};
  for (int k = 0; k < 3; k++) {
    char *arr = iccid_array(t->sims, t->n, kinds[k], &counts[k]);
    if (!arr) {
      snprintf(errstr, errlen, "out of memory");
      return SP_DB_ERROR;
    }
    const char *p[] = {arr, t->b->batch_id};
    long done = counts[k] == 0 ? 0
                : sp_db_exec(c,
                             k < 2 ? "UPDATE sims SET state = 'provisioned' "
                                     "WHERE iccid = ANY($1::text[]) AND "
                                     "batch_id = $2 AND state = 'produced'"
                                   : "UPDATE sims SET state = 'hlr_failed' "
                                     "WHERE iccid = ANY($1::text[]) AND "
                                     "batch_id = $2 AND state = 'produced'",
                             2, p, errstr, errlen);
    free(arr);
    if (done < 0)
      return SP_DB_ERROR;
    if (done != counts[k]) {
      snprintf(errstr, errlen, "%ld of %ld SIMs of %s changed state "
               "meanwhile", counts[k] - done, counts[k], t->b->batch_id);
      return SP_DB_REJECT;
    }
  }
  for (size_t i = 0; i < t->n; i++) {
    const hp_sim *s = &t->sims[i];
    if (s->recorded || s->outcome != HP_SIM_FAILED)
      continue;
    const char *p[] = {s->iccid, t->b->batch_id, s->reason};
    if (sp_db_exec(c,
                   "INSERT INTO hlr_failures (iccid, batch_id, reason) VALUES "
                   "($1, $2, $3) ON CONFLICT (iccid) DO UPDATE SET reason = "
                   "excluded.reason, failed_at = now()",
                   3, p, errstr, errlen) < 0)
      return SP_DB_ERROR;
  }
  char l[24], a[24], f[24];
  snprintf(l, sizeof l, "%ld", counts[0]);
  snprintf(a, sizeof a, "%ld", counts[1]);
  snprintf(f, sizeof f, "%ld", counts[2]);
  const char *p[] = {t->b->batch_id, l, a, f};
  if (sp_db_exec(c,
                 "UPDATE hlr_loads SET loaded = loaded + $2::int, already = "
                 "already + $3::int, failed = failed + $4::int, state = "
                 "'loading', reason = NULL, started_at = coalesce(started_at, "
                 "now()), updated_at = now() WHERE batch_id = $1",
                 4, p, errstr, errlen) != 1)
    return SP_DB_ERROR;
  return SP_DB_OK;
}

int hp_store_record(sp_db *db, const hp_batch *b, hp_sim *sims, size_t n,
                    char *errstr, size_t errlen) {
  record_tx t = {b, sims, n};
  if (sp_db_tx(db, record_fn, &t, errstr, errlen) != SP_DB_OK)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (sims[i].outcome != HP_SIM_PENDING)
      sims[i].recorded = 1;
  return 0;
}

int hp_store_stalled(sp_db *db, const hp_batch *b, const char *reason,
                     char *errstr, size_t errlen) {
  if (sp_db_ensure(db, errstr, errlen))
    return -1;
  const char *p[] = {b->batch_id, reason};
  return sp_db_exec(sp_db_conn(db),
                    "UPDATE hlr_loads SET state = 'stalled', reason = $2, "
                    "updated_at = now() WHERE batch_id = $1 AND state <> "
                    "'done'",
                    2, p, errstr, errlen) < 0
             ? -1
             : 0;
}

typedef struct finish_tx {
  const hp_batch *b;
  int finished;
} finish_tx;

static int finish_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  finish_tx *t = arg;
  const hp_batch *b = t->b;
  t->finished = 0;
  const char *p[] = {b->batch_id, b->iccid_first, b->iccid_last};
  PGresult *r = sp_db_query(
      c,
      "SELECT l.state, l.loaded, l.already, l.failed, EXISTS (SELECT 1 FROM "
      "sims WHERE iccid >= $2 AND iccid <= $3 AND batch_id = $1 AND state = "
      "'produced'), extract(epoch FROM now() - coalesce(l.started_at, "
      "l.queued_at))::numeric(12,3) FROM hlr_loads l WHERE batch_id = $1 "
      "FOR UPDATE",
      3, p, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  if (PQntuples(r) != 1 || !strcmp(PQgetvalue(r, 0, 0), "done")) {
    PQclear(r);
    return SP_DB_OK; /* done before */
  }
  if (PQgetvalue(r, 0, 4)[0] == 't') {
    PQclear(r);
    t->finished = 2;
    return SP_DB_OK;
  }
  json_int_t loaded = atol(PQgetvalue(r, 0, 1));
  json_int_t already = atol(PQgetvalue(r, 0, 2));
  json_int_t failed = atol(PQgetvalue(r, 0, 3));
  double seconds = atof(PQgetvalue(r, 0, 5));
  PQclear(r);
  const char *q[] = {b->batch_id};
  char lim[16];
  snprintf(lim, sizeof lim, "%d", HP_REPORT_FAILURES);
  const char *qf[] = {b->batch_id, lim};
  r = sp_db_query(c,
                  "SELECT iccid, reason FROM hlr_failures WHERE batch_id = "
                  "$1 ORDER BY iccid LIMIT $2::int",
                  2, qf, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  json_t *failures = json_array();
  for (int i = 0; i < PQntuples(r); i++)
    json_array_append_new(failures,
                          json_pack("{s:s, s:s}", "iccid", PQgetvalue(r, i, 0),
                                    "reason", PQgetvalue(r, i, 1)));
  PQclear(r);
  if (sp_db_exec(c,
                 "UPDATE hlr_loads SET state = 'done', reason = NULL, "
                 "finished_at = now(), updated_at = now() WHERE batch_id = $1",
                 1, q, errstr, errlen) != 1) {
    json_decref(failures);
    return SP_DB_ERROR;
  }
  char subject[96];
  snprintf(subject, sizeof subject, "batch/%s", b->batch_id);
  json_t *data = json_pack(
      "{s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:f, s:s, s:s}", "batch_id",
      b->batch_id, "order_id", b->order_id, "sims", (json_int_t)b->sims,
      "loaded", loaded, "already_present", already, "failed", failed,
      "failures", failures, "duration_s", seconds, "imsi_first",
      b->imsi_first, "imsi_last", b->imsi_last);
  if (sp_outbox_publish(c, HP_PRODUCER, HP_SOURCE, HP_TOPIC_BATCHES,
                        "batch.provisioned", subject, b->order_id, data,
                        errstr, errlen))
    return SP_DB_ERROR;
  t->finished = 1;
  return SP_DB_OK;
}

int hp_store_finish(sp_db *db, const hp_batch *b, char *errstr,
                    size_t errlen) {
  finish_tx t = {b, 0};
  if (sp_db_tx(db, finish_fn, &t, errstr, errlen) != SP_DB_OK)
    return -1;
  return t.finished;
}
