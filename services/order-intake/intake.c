/* intake.c - order-intake's transactions: tables, timeline and events
 * together, or nothing. */
#include "intake.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "log.h"
#include "order.h"
#include "outbox.h"
#include "plan.h"

int oi_conf_load(oi_conf *conf, char *errstr, size_t errlen) {
  memset(conf, 0, sizeof *conf);
  return sp_config_long("SIMPKI_ORDER_MAX_QUANTITY", 0, 1000000, 1,
                        100000000, &conf->max_quantity, errstr, errlen) ||
                 sp_config_long("SIMPKI_ORDER_MAX_BATCH", 0, 50000, 1,
                                10000000, &conf->max_batch, errstr, errlen)
             ? -1
             : 0;
}

/* ---- small helpers ---- */

static int emit(PGconn *c, const char *topic, const char *type,
                const char *subject, const char *correlation, json_t *data,
                char *errstr, size_t errlen) {
  return sp_outbox_publish(c, OI_PRODUCER, OI_SOURCE, topic, type, subject,
                           correlation, data, errstr, errlen);
}

/* A transaction's own refusal: remembered in *err, rolled back. */
__attribute__((format(printf, 5, 6))) static int
reject(oi_error *err, oi_error why, char *errstr, size_t errlen,
       const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errstr, errlen, fmt, ap);
  va_end(ap);
  *err = why;
  return SP_DB_REJECT;
}

static int timeline(PGconn *c, const char *order_id, const char *step,
                    const char *detail, const char *actor, char *errstr,
                    size_t errlen) {
  const char *p[] = {order_id, step, detail, actor};
  return sp_db_exec(c,
                    "INSERT INTO order_timeline (order_id, step, detail, "
                    "actor) VALUES ($1, $2, $3, $4)",
                    4, p, errstr, errlen) < 0
             ? -1
             : 0;
}

static int advisory_lock(PGconn *c, const char *what, const char *key,
                         char *errstr, size_t errlen) {
  const char *p[] = {what, key};
  return sp_db_exec(c, "SELECT pg_advisory_xact_lock(hashtext($1 || $2))", 2,
                    p, errstr, errlen) < 0
             ? -1
             : 0;
}

/* The event that says an input was refused: the only thing written. */
typedef struct reject_tx {
  const char *topic, *type, *ref_key, *ref, *code, *reason, *via;
  const oi_order *order; /* set only when the document's signature passed:
                            its contact is then BCYCP's, and is told */
} reject_tx;

/* BCYCP's contact for the notifier, from an authentic order. */
static json_t *contact_json(const oi_order *o) {
  return json_pack("{s:s, s:s}", "name", o->contact_name, "email",
                   o->contact_email);
}

static int reject_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  reject_tx *r = arg;
  char id[40], subject[64];
  sp_uuid4(id);
  snprintf(subject, sizeof subject, "rejection/%s", id);
  json_t *data = json_pack("{s:s*, s:s, s:s, s:s}", r->ref_key, r->ref,
                           "code", r->code, "reason", r->reason,
                           "received_via", r->via);
  if (r->order && r->order->contact_email[0])
    json_object_set_new(data, "contact", contact_json(r->order));
  return emit(c, r->topic, r->type, subject, r->ref && *r->ref ? r->ref : id,
              data, errstr, errlen)
             ? SP_DB_ERROR
             : SP_DB_OK;
}

static void record_rejection(sp_db *db, reject_tx *r) {
  char err[512];
  if (sp_db_tx(db, reject_fn, r, err, sizeof err) != SP_DB_OK)
    sp_error("cannot record the refusal event", "type", r->type, "error",
             err);
}

/* ---- B1: orders ---- */

typedef struct submit_tx {
  const oi_conf *conf;
  const oi_order *order;
  const char *sha;
  json_t *report;
  const char *via, *actor;
  oi_result *res;
  oi_error err;
} submit_tx;

static json_t *signer_summary(json_t *report) {
  json_t *s = json_object();
  const char *keys[] = {"indication", "sub_indication", "signer",
                        "signing_time"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    json_t *v = json_object_get(report, keys[i]);
    if (v)
      json_object_set(s, keys[i], v);
  }
  return s;
}

static int submit_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  submit_tx *t = arg;
  const oi_order *o = t->order;
  memset(t->res, 0, sizeof *t->res);
  t->err = OI_INTERNAL;
  if (advisory_lock(c, "order ", o->bcycp_ref, errstr, errlen))
    return SP_DB_ERROR;
  const char *pref[] = {o->bcycp_ref};
  PGresult *r = sp_db_query(c,
                            "SELECT order_id, document_sha256, state FROM "
                            "orders WHERE bcycp_ref = $1",
                            1, pref, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  if (PQntuples(r) == 1) {
    int same = !strcmp(PQgetvalue(r, 0, 1), t->sha);
    snprintf(t->res->id, sizeof t->res->id, "%s", PQgetvalue(r, 0, 0));
    snprintf(t->res->state, sizeof t->res->state, "%s", PQgetvalue(r, 0, 2));
    PQclear(r);
    if (!same)
      return reject(&t->err, OI_CONFLICT, errstr, errlen,
                    "order %s already exists for BCYCP reference %s with "
                    "another document; a changed order needs a new reference",
                    t->res->id, o->bcycp_ref);
    t->res->existing = 1;
    t->err = OI_OK;
    return SP_DB_OK;
  }
  PQclear(r);

  const char *pv[] = {o->vendor_id};
  r = sp_db_query(c,
                  "SELECT state, coalesce(blocked_reason, '') FROM vendors "
                  "WHERE vendor_id = $1 FOR UPDATE",
                  1, pv, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return reject(&t->err, OI_UNKNOWN_VENDOR, errstr, errlen,
                  "vendor %s is not in the vendor registry; Ban KHDN adds it "
                  "with simpkictl vendor add",
                  o->vendor_id);
  }
  oi_vendor_state vstate;
  char blocked[512];
  snprintf(blocked, sizeof blocked, "%s", PQgetvalue(r, 0, 1));
  int bad_state = oi_vendor_state_parse(PQgetvalue(r, 0, 0), &vstate);
  PQclear(r);
  if (bad_state) {
    snprintf(errstr, errlen, "vendor %s has an unknown state", o->vendor_id);
    return SP_DB_REJECT;
  }
  oi_plan *plan = malloc(sizeof *plan);
  oi_error pe = oi_plan_order(vstate, blocked, o->quantity, o->pilot_quantity,
                              t->conf->max_batch, plan, errstr, errlen);
  if (pe != OI_OK) {
    free(plan);
    t->err = pe;
    return SP_DB_REJECT;
  }

  char *doc = json_dumps(o->document, JSON_COMPACT);
  char *signer = json_dumps(t->report ? t->report : json_object(),
                            JSON_COMPACT);
  char qty[24];
  snprintf(qty, sizeof qty, "%ld", o->quantity);
  const char *pi[] = {o->bcycp_ref, t->sha,  o->vendor_id,
                      qty,          oi_profile_name(o->profile),
                      plan->order_state, doc, signer, t->via};
  r = sp_db_query(
      c,
      "INSERT INTO orders (order_id, bcycp_ref, document_sha256, vendor_id, "
      "quantity, profile, state, document, signer, received_via) VALUES ("
      "'ORD-' || to_char(now() AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY') || "
      "'-' || lpad(nextval('order_number')::text, 6, '0'), $1, $2, $3, "
      "$4::integer, $5, $6, $7::jsonb, $8::jsonb, $9) RETURNING order_id",
      9, pi, errstr, errlen);
  free(doc);
  free(signer);
  if (!r) {
    free(plan);
    return SP_DB_ERROR;
  }
  char order_id[64];
  snprintf(order_id, sizeof order_id, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);

  char detail[512];
  const char *signer_subject = json_string_value(
      json_object_get(json_object_get(t->report, "signer"), "subject"));
  snprintf(detail, sizeof detail,
           "received over %s; signature passed (signer %s)", t->via,
           signer_subject ? signer_subject : "?");
  if (timeline(c, order_id, "received", detail, t->actor, errstr, errlen))
    goto failed;

  json_t *batches = json_array();
  char pilot_id[80] = "";
  long released = 0, held = 0;
  for (int i = 0; i < plan->nbatches; i++) {
    const oi_batch_plan *b = &plan->batches[i];
    char batch_id[80], seq[16], bq[24];
    if (b->is_pilot)
      snprintf(batch_id, sizeof batch_id, "%s-P%d", order_id, b->seq);
    else
      snprintf(batch_id, sizeof batch_id, "%s-B%03d", order_id, b->seq);
    if (b->is_pilot)
      snprintf(pilot_id, sizeof pilot_id, "%s", batch_id);
    snprintf(seq, sizeof seq, "%d", b->seq);
    snprintf(bq, sizeof bq, "%ld", b->quantity);
    const char *pb[] = {batch_id,  order_id, o->vendor_id,
                        b->is_pilot ? "pilot" : "production",
                        seq,       bq,       oi_profile_name(o->profile),
                        b->released ? "released" : "held"};
    if (sp_db_exec(c,
                   "INSERT INTO batches (batch_id, order_id, vendor_id, kind, "
                   "seq, quantity, profile, state, released_at) VALUES ($1, "
                   "$2, $3, $4, $5::integer, $6::integer, $7, $8, CASE WHEN "
                   "$8 = 'released' THEN now() END)",
                   8, pb, errstr, errlen) < 0) {
      json_decref(batches);
      goto failed;
    }
    json_array_append_new(batches,
                          json_pack("{s:s, s:s, s:I, s:s}", "batch_id",
                                    batch_id, "kind", pb[3], "quantity",
                                    (json_int_t)b->quantity, "state", pb[7]));
    char subject[96];
    snprintf(subject, sizeof subject, "batch/%s", batch_id);
    json_t *data = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:s}", "batch_id", batch_id,
        "order_id", order_id, "bcycp_ref", o->bcycp_ref, "vendor_id",
        o->vendor_id, "kind", pb[3], "seq", b->seq, "quantity",
        (json_int_t)b->quantity, "profile", oi_profile_name(o->profile));
    if (!b->released)
      json_object_set_new(data, "reason",
                          json_string("waiting for the vendor's pilot to "
                                      "pass (B2.2)"));
    if (emit(c, OI_TOPIC_BATCHES, b->released ? "batch.released" : "batch.held",
             subject, order_id, data, errstr, errlen)) {
      json_decref(batches);
      goto failed;
    }
    if (b->released)
      released += b->quantity;
    else
      held += b->quantity;
  }

  json_t *data = json_pack(
      "{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:o, s:o}", "order_id",
      order_id, "bcycp_ref", o->bcycp_ref, "vendor_id", o->vendor_id,
      "quantity", (json_int_t)o->quantity, "profile",
      oi_profile_name(o->profile), "state", plan->order_state,
      "document_sha256", t->sha, "received_via", t->via, "signature",
      signer_summary(t->report), "batches", batches);
  json_object_set_new(data, "contact", contact_json(o));
  char subject[96];
  snprintf(subject, sizeof subject, "order/%s", order_id);
  if (emit(c, OI_TOPIC_ORDERS, "order.accepted", subject, order_id, data,
           errstr, errlen))
    goto failed;
  snprintf(detail, sizeof detail,
           "accepted: %ld SIMs in %d batch(es); %ld released, %ld held "
           "(%s)",
           o->quantity, plan->nbatches, released, held, plan->order_state);
  if (timeline(c, order_id, "accepted", detail, t->actor, errstr, errlen))
    goto failed;

  if (plan->vendor_after != vstate) {
    const char *pu[] = {o->vendor_id, oi_vendor_state_name(plan->vendor_after),
                        pilot_id};
    if (sp_db_exec(c,
                   "UPDATE vendors SET state = $2, pilot_batch_id = "
                   "nullif($3, ''), updated_at = now() WHERE vendor_id = $1",
                   3, pu, errstr, errlen) != 1)
      goto failed;
    snprintf(subject, sizeof subject, "vendor/%s", o->vendor_id);
    data = json_pack("{s:s, s:s, s:s, s:I}", "vendor_id", o->vendor_id,
                     "pilot_batch_id", pilot_id, "order_id", order_id,
                     "quantity", (json_int_t)plan->batches[0].quantity);
    if (emit(c, OI_TOPIC_VENDORS, "vendor.pilot_started", subject, order_id,
             data, errstr, errlen))
      goto failed;
    snprintf(detail, sizeof detail,
             "pilot batch %s released: the vendor is new to MobiFone",
             pilot_id);
    if (timeline(c, order_id, "pilot_started", detail, t->actor, errstr,
                 errlen))
      goto failed;
  }
  snprintf(t->res->id, sizeof t->res->id, "%s", order_id);
  snprintf(t->res->state, sizeof t->res->state, "%s", plan->order_state);
  t->res->count = plan->nbatches;
  t->err = OI_OK;
  free(plan);
  return SP_DB_OK;
failed:
  free(plan);
  return SP_DB_ERROR;
}

/* Parse and check the signature: everything that needs no database. */
static oi_error submit_prepare(const oi_conf *conf, const void *doc,
                               size_t doclen, const void *sig, size_t siglen,
                               oi_order *order, json_t **report,
                               char ref[65], char *errstr, size_t errlen) {
  *report = NULL;
  ref[0] = '\0';
  oi_error e = oi_order_parse(doc, doclen, conf->max_quantity, order, errstr,
                              errlen);
  if (e != OI_OK)
    return e;
  snprintf(ref, 65, "%s", order->bcycp_ref);
  if (!sig || siglen == 0) {
    snprintf(errstr, errlen,
             "the order is not signed: a BCYCP officer's CMS signature over "
             "the document is required");
    return OI_BAD_SIGNATURE;
  }
  char why[512] = "";
  int v = conf->verify ? conf->verify(conf->verify_ctx, doc, doclen, sig,
                                      siglen, report, why, sizeof why)
                       : -1;
  if (v == 1)
    return OI_OK;
  if (v < 0) {
    snprintf(errstr, errlen, "the signature could not be checked: %s",
             why[0] ? why : "no verifier configured");
    return OI_INTERNAL;
  }
  const char *ind = json_string_value(json_object_get(*report, "indication"));
  const char *sub =
      json_string_value(json_object_get(*report, "sub_indication"));
  snprintf(errstr, errlen, "the signature did not pass: %s%s%s%s%s",
           ind ? ind : "FAILED", sub ? " / " : "", sub ? sub : "",
           why[0] ? ": " : "", why);
  return OI_BAD_SIGNATURE;
}

static void submit_log(oi_error e, const oi_result *res, const char *ref,
                       const char *via, const char *reason) {
  if (e == OI_OK)
    sp_info(res->existing ? "order already taken" : "order accepted",
            "order_id", res->id, "bcycp_ref", ref, "state", res->state,
            "via", via);
  else
    sp_warn("order refused", "bcycp_ref", ref, "code", oi_error_code(e),
            "reason", reason, "via", via);
}

oi_error oi_submit_order(sp_db *db, const oi_conf *conf, const void *doc,
                         size_t doclen, const void *sig, size_t siglen,
                         const char *via, const char *actor, oi_result *res,
                         char *errstr, size_t errlen) {
  memset(res, 0, sizeof *res);
  oi_order order;
  json_t *report;
  char ref[65];
  oi_error e = submit_prepare(conf, doc, doclen, sig, siglen, &order, &report,
                              ref, errstr, errlen);
  if (e == OI_OK) {
    char sha[SP_EVENT_HASH_HEX + 1];
    sp_sha256_hex(doc, doclen, sha);
    submit_tx t = {conf, &order, sha, report, via, actor, res, OI_INTERNAL};
    int rc = sp_db_tx(db, submit_fn, &t, errstr, errlen);
    e = rc == SP_DB_OK ? OI_OK
        : rc == SP_DB_REJECT && t.err != OI_OK ? t.err
                                                : OI_INTERNAL;
  }
  if (e != OI_INTERNAL) {
    submit_log(e, res, ref, via, errstr);
    if (e != OI_OK) {
      reject_tx r = {OI_TOPIC_ORDERS, "order.rejected", "bcycp_ref",
                     ref[0] ? ref : NULL, oi_error_code(e), errstr, via,
                     e == OI_BAD_DOCUMENT || e == OI_BAD_SIGNATURE ? NULL
                                                                   : &order};
      record_rejection(db, &r);
    }
  }
  json_decref(report);
  oi_order_clear(&order);
  return e;
}

void oi_reject_order(sp_db *db, oi_error why, const char *reason,
                     const char *via) {
  sp_warn("order refused", "code", oi_error_code(why), "reason", reason,
          "via", via);
  reject_tx r = {OI_TOPIC_ORDERS, "order.rejected", "bcycp_ref", NULL,
                 oi_error_code(why), reason, via, NULL};
  record_rejection(db, &r);
}

oi_error oi_submit_order_tx(PGconn *tx, const oi_conf *conf, const void *doc,
                            size_t doclen, const void *sig, size_t siglen,
                            const char *via, const char *actor,
                            oi_result *res, char *errstr, size_t errlen) {
  memset(res, 0, sizeof *res);
  oi_order order;
  json_t *report;
  char ref[65];
  oi_error e = submit_prepare(conf, doc, doclen, sig, siglen, &order, &report,
                              ref, errstr, errlen);
  if (e == OI_OK) {
    char sha[SP_EVENT_HASH_HEX + 1];
    sp_sha256_hex(doc, doclen, sha);
    submit_tx t = {conf, &order, sha, report, via, actor, res, OI_INTERNAL};
    int rc = submit_fn(tx, &t, errstr, errlen);
    /* A refusal wrote nothing (every check comes before the first write),
     * so the same transaction can carry the event that says so. */
    e = rc == SP_DB_OK ? OI_OK
        : rc == SP_DB_REJECT && t.err != OI_OK ? t.err
                                                : OI_INTERNAL;
  }
  if (e != OI_INTERNAL) {
    submit_log(e, res, ref, via, errstr);
    if (e != OI_OK) {
      reject_tx r = {OI_TOPIC_ORDERS, "order.rejected", "bcycp_ref",
                     ref[0] ? ref : NULL, oi_error_code(e), errstr, via,
                     e == OI_BAD_DOCUMENT || e == OI_BAD_SIGNATURE ? NULL
                                                                   : &order};
      char err2[256];
      if (reject_fn(tx, &r, err2, sizeof err2) != SP_DB_OK) {
        snprintf(errstr, errlen, "cannot record the refusal: %s", err2);
        e = OI_INTERNAL;
      }
    }
  }
  json_decref(report);
  oi_order_clear(&order);
  return e;
}

/* ---- B2: vendors and pilots ---- */

typedef struct vendor_tx {
  const char *id, *name, *ref, *date, *by, *evidence, *actor;
  int action; /* -1 add, else oi_vendor_action */
  oi_result *res;
  oi_error err;
} vendor_tx;

/* Held batches of the vendor, released now that its pilot passed; its
 * orders waiting for the pilot go to production (or are blocked). */
static int pilot_followups(PGconn *c, vendor_tx *t, int passed,
                           char *errstr, size_t errlen) {
  const char *pv[] = {t->id};
  if (passed) {
    PGresult *r = sp_db_query(
        c,
        "UPDATE batches b SET state = 'released', released_at = now() "
        "FROM orders o WHERE b.order_id = o.order_id AND b.vendor_id = $1 "
        "AND b.state = 'held' RETURNING b.batch_id, b.order_id, o.bcycp_ref, "
        "b.seq, b.quantity, b.profile, b.kind",
        1, pv, errstr, errlen);
    if (!r)
      return -1;
    for (int i = 0; i < PQntuples(r); i++) {
      char subject[96];
      snprintf(subject, sizeof subject, "batch/%s", PQgetvalue(r, i, 0));
      json_t *data = json_pack(
          "{s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:s}", "batch_id",
          PQgetvalue(r, i, 0), "order_id", PQgetvalue(r, i, 1), "bcycp_ref",
          PQgetvalue(r, i, 2), "vendor_id", t->id, "kind",
          PQgetvalue(r, i, 6), "seq", atoi(PQgetvalue(r, i, 3)), "quantity",
          (json_int_t)atol(PQgetvalue(r, i, 4)), "profile",
          PQgetvalue(r, i, 5));
      if (emit(c, OI_TOPIC_BATCHES, "batch.released", subject,
               PQgetvalue(r, i, 1), data, errstr, errlen)) {
        PQclear(r);
        return -1;
      }
      t->res->count++;
    }
    PQclear(r);
  }
  const char *pu[] = {t->id, passed ? "in_production" : "blocked",
                      passed ? "" : t->evidence};
  PGresult *r = sp_db_query(
      c,
      "UPDATE orders SET state = $2, blocked_reason = nullif($3, ''), "
      "updated_at = now() WHERE vendor_id = $1 AND state = 'waiting_pilot' "
      "RETURNING order_id, bcycp_ref",
      3, pu, errstr, errlen);
  if (!r)
    return -1;
  for (int i = 0; i < PQntuples(r); i++) {
    const char *oid = PQgetvalue(r, i, 0);
    char subject[96], detail[600];
    snprintf(subject, sizeof subject, "order/%s", oid);
    json_t *data = json_pack("{s:s, s:s, s:s, s:s}", "order_id", oid,
                             "bcycp_ref", PQgetvalue(r, i, 1), "vendor_id",
                             t->id, "state", pu[1]);
    if (!passed)
      json_object_set_new(data, "reason", json_string(t->evidence));
    snprintf(detail, sizeof detail, "vendor %s pilot %s%s%.500s", t->id,
             passed ? "passed: production batches released"
                    : "failed: order blocked",
             passed ? "" : ": ", passed ? "" : t->evidence);
    if (emit(c, OI_TOPIC_ORDERS,
             passed ? "order.in_production" : "order.blocked", subject, oid,
             data, errstr, errlen) ||
        timeline(c, oid, passed ? "in_production" : "blocked", detail,
                 t->actor, errstr, errlen)) {
      PQclear(r);
      return -1;
    }
  }
  PQclear(r);
  return 0;
}

static int vendor_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  vendor_tx *t = arg;
  t->err = OI_INTERNAL;
  if (t->res)
    t->res->count = 0;
  char subject[64];
  snprintf(subject, sizeof subject, "vendor/%s", t->id);
  const char *pv[] = {t->id};
  PGresult *r = sp_db_query(c,
                            "SELECT state, name, coalesce(pilot_batch_id, '') "
                            "FROM vendors WHERE vendor_id = $1 FOR UPDATE",
                            1, pv, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  int found = PQntuples(r) == 1;
  char state[32] = "", name[256] = "", pilot[96] = "";
  if (found) {
    snprintf(state, sizeof state, "%s", PQgetvalue(r, 0, 0));
    snprintf(name, sizeof name, "%s", PQgetvalue(r, 0, 1));
    snprintf(pilot, sizeof pilot, "%s", PQgetvalue(r, 0, 2));
  }
  PQclear(r);
  if (t->action < 0) { /* add */
    if (found) {
      if (strcmp(name, t->name) != 0)
        return reject(&t->err, OI_CONFLICT, errstr, errlen,
                      "vendor %s already exists under the name \"%s\"", t->id,
                      name);
      t->err = OI_OK;
      return SP_DB_OK; /* the same request again */
    }
    const char *pa[] = {t->id, t->name};
    if (sp_db_exec(c, "INSERT INTO vendors (vendor_id, name) VALUES ($1, $2)",
                   2, pa, errstr, errlen) != 1 ||
        emit(c, OI_TOPIC_VENDORS, "vendor.registered", subject, subject,
             json_pack("{s:s, s:s, s:s, s:s}", "vendor_id", t->id, "name",
                       t->name, "state", "new", "by", t->actor),
             errstr, errlen))
      return SP_DB_ERROR;
    t->err = OI_OK;
    return SP_DB_OK;
  }
  if (!found)
    return reject(&t->err, OI_NOT_FOUND, errstr, errlen,
                  "vendor %s is not in the vendor registry", t->id);
  oi_vendor_state from, to;
  if (oi_vendor_state_parse(state, &from))
    return reject(&t->err, OI_INTERNAL, errstr, errlen,
                  "vendor %s has an unknown state %s", t->id, state);
  oi_error e = oi_vendor_next(from, (oi_vendor_action)t->action, &to, errstr,
                              errlen);
  if (e != OI_OK) {
    t->err = e;
    return SP_DB_REJECT;
  }
  if (t->action == OI_VENDOR_SIGN_AGREEMENT) {
    const char *pa[] = {t->id, t->ref, t->date, t->by};
    if (sp_db_exec(c,
                   "UPDATE vendors SET state = 'agreement_signed', "
                   "agreement_ref = $2, agreement_date = $3::date, "
                   "agreement_by = $4, updated_at = now() WHERE vendor_id = "
                   "$1",
                   4, pa, errstr, errlen) != 1 ||
        emit(c, OI_TOPIC_VENDORS, "vendor.agreement_recorded", subject,
             subject,
             json_pack("{s:s, s:s, s:s, s:s, s:s}", "vendor_id", t->id,
                       "agreement_ref", t->ref, "agreement_date", t->date,
                       "signed_by", t->by, "by", t->actor),
             errstr, errlen))
      return SP_DB_ERROR;
    t->err = OI_OK;
    return SP_DB_OK;
  }
  int passed = t->action == OI_VENDOR_PASS_PILOT;
  const char *pp[] = {t->id, oi_vendor_state_name(to), t->evidence};
  if (sp_db_exec(c,
                 passed ? "UPDATE vendors SET state = $2, pilot_evidence = $3, "
                          "updated_at = now() WHERE vendor_id = $1"
                        : "UPDATE vendors SET state = $2, blocked_reason = $3, "
                          "updated_at = now() WHERE vendor_id = $1",
                 3, pp, errstr, errlen) != 1)
    return SP_DB_ERROR;
  const char *pb[] = {pilot, passed ? "passed" : "failed"};
  r = sp_db_query(c,
                  "UPDATE batches SET state = $2 WHERE batch_id = $1 "
                  "RETURNING order_id",
                  2, pb, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  char pilot_order[64] = "";
  if (PQntuples(r) == 1)
    snprintf(pilot_order, sizeof pilot_order, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  char bsubject[128];
  snprintf(bsubject, sizeof bsubject, "batch/%s", pilot);
  if (emit(c, OI_TOPIC_VENDORS,
           passed ? "vendor.pilot_passed" : "vendor.pilot_failed", subject,
           pilot_order[0] ? pilot_order : subject,
           json_pack("{s:s, s:s, s:s, s:s}", "vendor_id", t->id,
                     "pilot_batch_id", pilot,
                     passed ? "evidence" : "reason", t->evidence, "by",
                     t->actor),
           errstr, errlen) ||
      (pilot_order[0] &&
       emit(c, OI_TOPIC_BATCHES, passed ? "batch.passed" : "batch.failed",
            bsubject, pilot_order,
            json_pack("{s:s, s:s, s:s, s:s}", "batch_id", pilot, "order_id",
                      pilot_order, "vendor_id", t->id,
                      passed ? "evidence" : "reason", t->evidence),
            errstr, errlen)) ||
      pilot_followups(c, t, passed, errstr, errlen))
    return SP_DB_ERROR;
  t->err = OI_OK;
  return SP_DB_OK;
}

static oi_error vendor_run(sp_db *db, vendor_tx *t, char *errstr,
                           size_t errlen) {
  oi_result scratch;
  if (!t->res)
    t->res = &scratch;
  memset(t->res, 0, sizeof *t->res);
  if (!t->id || !oi_vendor_id_ok(t->id)) {
    snprintf(errstr, errlen,
             "a vendor id is 2 to 32 capital letters, digits, - and _");
    return OI_BAD_DOCUMENT;
  }
  snprintf(t->res->id, sizeof t->res->id, "%s", t->id);
  int rc = sp_db_tx(db, vendor_fn, t, errstr, errlen);
  if (rc == SP_DB_OK)
    sp_info("vendor changed", "vendor_id", t->id, "by", t->actor);
  return rc == SP_DB_OK ? OI_OK
         : rc == SP_DB_REJECT && t->err != OI_OK ? t->err
                                                  : OI_INTERNAL;
}

static int text_ok(const char *s, size_t max) {
  return s && *s && strlen(s) <= max;
}

oi_error oi_vendor_add(sp_db *db, const char *vendor_id, const char *name,
                       const char *actor, char *errstr, size_t errlen) {
  if (!text_ok(name, 200)) {
    snprintf(errstr, errlen, "the vendor name must be 1 to 200 bytes");
    return OI_BAD_DOCUMENT;
  }
  vendor_tx t = {.id = vendor_id, .name = name, .actor = actor, .action = -1};
  return vendor_run(db, &t, errstr, errlen);
}

oi_error oi_vendor_agreement(sp_db *db, const char *vendor_id,
                             const char *ref, const char *date,
                             const char *signed_by, const char *actor,
                             char *errstr, size_t errlen) {
  if (!text_ok(ref, 64) || !text_ok(signed_by, 200) || !date ||
      !oi_date_ok(date)) {
    snprintf(errstr, errlen,
             "an agreement needs its reference (1 to 64 bytes), its date "
             "(YYYY-MM-DD) and who signed it");
    return OI_BAD_DOCUMENT;
  }
  vendor_tx t = {.id = vendor_id, .ref = ref, .date = date, .by = signed_by,
                 .actor = actor, .action = OI_VENDOR_SIGN_AGREEMENT};
  return vendor_run(db, &t, errstr, errlen);
}

oi_error oi_vendor_pilot_result(sp_db *db, const char *vendor_id, int passed,
                                const char *evidence, const char *actor,
                                oi_result *res, char *errstr, size_t errlen) {
  if (!text_ok(evidence, 2000)) {
    snprintf(errstr, errlen,
             passed ? "passing a pilot needs its evidence (1 to 2000 bytes)"
                    : "failing a pilot needs its reason (1 to 2000 bytes)");
    return OI_BAD_DOCUMENT;
  }
  vendor_tx t = {.id = vendor_id, .evidence = evidence, .actor = actor,
                 .action = passed ? OI_VENDOR_PASS_PILOT : OI_VENDOR_FAIL_PILOT,
                 .res = res};
  return vendor_run(db, &t, errstr, errlen);
}

/* ---- A4: Cục CTS notices ---- */

typedef struct notice_tx {
  const oi_notice *n;
  const char *sha, *via;
  oi_result *res;
  oi_error err;
} notice_tx;

static int notice_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  notice_tx *t = arg;
  const oi_notice *n = t->n;
  memset(t->res, 0, sizeof *t->res);
  t->err = OI_INTERNAL;
  if (advisory_lock(c, "notice ", n->notice_ref, errstr, errlen))
    return SP_DB_ERROR;
  const char *pr[] = {n->notice_ref};
  PGresult *r = sp_db_query(c,
                            "SELECT notice_id, file_sha256, persons FROM "
                            "registration_notices WHERE notice_ref = $1",
                            1, pr, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  if (PQntuples(r) == 1) {
    int same = !strcmp(PQgetvalue(r, 0, 1), t->sha);
    snprintf(t->res->id, sizeof t->res->id, "%s", PQgetvalue(r, 0, 0));
    t->res->count = atol(PQgetvalue(r, 0, 2));
    PQclear(r);
    if (!same)
      return reject(&t->err, OI_CONFLICT, errstr, errlen,
                    "notice %s was already imported from another file (as "
                    "%s)",
                    n->notice_ref, t->res->id);
    t->res->existing = 1;
    t->err = OI_OK;
    return SP_DB_OK;
  }
  PQclear(r);
  /* People already waiting for a connection: ids are digits only, so the
   * array literal needs no quoting. */
  size_t cap = n->count * 14 + 3, len = 0;
  char *ids = malloc(cap);
  ids[len++] = '{';
  for (size_t i = 0; i < n->count; i++)
    len += (size_t)snprintf(ids + len, cap - len, "%s%s", i ? "," : "",
                            n->persons[i].id_number);
  snprintf(ids + len, cap - len, "}");
  const char *pi[] = {ids};
  r = sp_db_query(c,
                  "SELECT id_number, case_id FROM connection_cases WHERE "
                  "state = 'open' AND id_number = ANY($1::text[]) ORDER BY "
                  "case_id LIMIT 1",
                  1, pi, errstr, errlen);
  free(ids);
  if (!r)
    return SP_DB_ERROR;
  if (PQntuples(r) == 1) {
    int line = 0;
    for (size_t i = 0; i < n->count; i++)
      if (!strcmp(n->persons[i].id_number, PQgetvalue(r, 0, 0)))
        line = n->persons[i].line;
    reject(&t->err, OI_DUPLICATE, errstr, errlen,
           "line %d: this person (same id_number) already has an open "
           "connection case %s",
           line, PQgetvalue(r, 0, 1));
    PQclear(r);
    return SP_DB_REJECT;
  }
  PQclear(r);
  char persons[16];
  snprintf(persons, sizeof persons, "%zu", n->count);
  const char *pn[] = {n->notice_ref, t->sha, persons, t->via};
  r = sp_db_query(
      c,
      "INSERT INTO registration_notices (notice_id, notice_ref, file_sha256, "
      "persons, received_via) VALUES ('NOT-' || to_char(now() AT TIME ZONE "
      "'Asia/Ho_Chi_Minh', 'YYYY') || '-' || lpad(nextval('notice_number')"
      "::text, 6, '0'), $1, $2, $3::integer, $4) RETURNING notice_id, "
      "to_char(received_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
      4, pn, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  char notice_id[64], received[40];
  snprintf(notice_id, sizeof notice_id, "%s", PQgetvalue(r, 0, 0));
  snprintf(received, sizeof received, "%s", PQgetvalue(r, 0, 1));
  PQclear(r);
  char subject[96];
  snprintf(subject, sizeof subject, "notice/%s", notice_id);
  if (emit(c, OI_TOPIC_REGISTRATIONS, "registration.imported", subject,
           notice_id,
           json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "notice_id", notice_id,
                     "notice_ref", n->notice_ref, "persons",
                     (json_int_t)n->count, "file_sha256", t->sha,
                     "received_via", t->via, "received_at", received),
           errstr, errlen))
    return SP_DB_ERROR;
  for (size_t i = 0; i < n->count; i++) {
    const oi_person *p = &n->persons[i];
    char line[16];
    snprintf(line, sizeof line, "%d", p->line);
    const char *pc[] = {notice_id,      line,        p->agency,
                        p->full_name,   p->id_number, p->msisdn,
                        p->wants_new_number ? "true" : "false", p->ctkv};
    r = sp_db_query(
        c,
        "INSERT INTO connection_cases (case_id, notice_id, line_no, agency, "
        "full_name, id_number, msisdn, wants_new_number, ctkv_id) VALUES "
        "('CASE-' || to_char(now() AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY') "
        "|| '-' || lpad(nextval('case_number')::text, 6, '0'), $1, "
        "$2::integer, $3, $4, $5, nullif($6, ''), $7::boolean, nullif($8, "
        "'')) RETURNING case_id",
        8, pc, errstr, errlen);
    if (!r)
      return SP_DB_ERROR;
    char case_id[64];
    snprintf(case_id, sizeof case_id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    snprintf(subject, sizeof subject, "case/%s", case_id);
    /* The id number stays in the database: the topics are read widely. */
    json_t *data = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "case_id", case_id,
        "notice_id", notice_id, "notice_ref", n->notice_ref, "agency",
        p->agency, "full_name", p->full_name, "wants_new_number",
        p->wants_new_number, "received_at", received);
    json_object_set_new(data, "msisdn",
                        p->msisdn[0] ? json_string(p->msisdn) : json_null());
    if (p->ctkv[0])
      json_object_set_new(data, "ctkv", json_string(p->ctkv));
    if (emit(c, OI_TOPIC_REGISTRATIONS, "case.opened", subject, notice_id,
             data, errstr, errlen))
      return SP_DB_ERROR;
  }
  snprintf(t->res->id, sizeof t->res->id, "%s", notice_id);
  snprintf(t->res->state, sizeof t->res->state, "imported");
  t->res->count = (long)n->count;
  t->err = OI_OK;
  return SP_DB_OK;
}

oi_error oi_import_notice(sp_db *db, const oi_notice *notice,
                          const char *file_sha256, const char *via,
                          oi_result *res, char *errstr, size_t errlen) {
  notice_tx t = {notice, file_sha256, via, res, OI_INTERNAL};
  int rc = sp_db_tx(db, notice_fn, &t, errstr, errlen);
  oi_error e = rc == SP_DB_OK ? OI_OK
               : rc == SP_DB_REJECT && t.err != OI_OK ? t.err
                                                       : OI_INTERNAL;
  if (e == OI_OK) {
    char count[16];
    snprintf(count, sizeof count, "%ld", res->count);
    sp_info(res->existing ? "notice already imported" : "notice imported",
            "notice_id", res->id, "notice_ref", notice->notice_ref,
            "persons", count, "via", via);
  } else if (e != OI_INTERNAL) {
    oi_reject_notice(db, notice->notice_ref, e, errstr, via);
  }
  return e;
}

void oi_reject_notice(sp_db *db, const char *notice_ref, oi_error why,
                      const char *reason, const char *via) {
  sp_warn("notice refused", "notice_ref", notice_ref ? notice_ref : "",
          "code", oi_error_code(why), "reason", reason, "via", via);
  reject_tx r = {OI_TOPIC_REGISTRATIONS, "registration.rejected", "notice_ref",
                 notice_ref && *notice_ref ? notice_ref : NULL,
                 oi_error_code(why), reason, via, NULL};
  record_rejection(db, &r);
}

/* ---- B9: a connection ends its case ---- */

oi_error oi_close_case_tx(PGconn *tx, const char *case_id, const char *iccid,
                          const char *msisdn, int *closed, char *errstr,
                          size_t errlen) {
  *closed = 0;
  const char *p[] = {case_id};
  /* FOR UPDATE: two connections for one case (a redelivery racing a
   * retry) must not both close it. */
  PGresult *r = sp_db_query(
      tx, "SELECT state, notice_id FROM connection_cases WHERE case_id = $1 "
          "FOR UPDATE",
      1, p, errstr, errlen);
  if (!r)
    return OI_INTERNAL;
  if (PQntuples(r) == 0) {
    PQclear(r);
    snprintf(errstr, errlen, "connection case %s does not exist", case_id);
    return OI_NOT_FOUND;
  }
  char state[32], notice_id[64];
  snprintf(state, sizeof state, "%s", PQgetvalue(r, 0, 0));
  snprintf(notice_id, sizeof notice_id, "%s", PQgetvalue(r, 0, 1));
  PQclear(r);
  if (strcmp(state, "connected") == 0)
    return OI_OK; /* already closed by this or an earlier connection */
  if (strcmp(state, "open") != 0) {
    snprintf(errstr, errlen, "connection case %s is %s, not open", case_id,
             state);
    return OI_BAD_STATE;
  }
  /* A new-number case learns its number here. */
  const char *u[] = {case_id, msisdn};
  r = sp_db_query(
      tx,
      "UPDATE connection_cases SET state = 'connected', closed_at = now(), "
      "msisdn = coalesce(msisdn, $2) WHERE case_id = $1 RETURNING "
      "to_char(closed_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
      2, u, errstr, errlen);
  if (!r)
    return OI_INTERNAL;
  char closed_at[40];
  snprintf(closed_at, sizeof closed_at, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  char subject[96];
  snprintf(subject, sizeof subject, "case/%s", case_id);
  json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:s}", "case_id", case_id,
                           "notice_id", notice_id, "iccid", iccid, "msisdn",
                           msisdn, "closed_at", closed_at);
  if (emit(tx, OI_TOPIC_REGISTRATIONS, "case.closed", subject, notice_id, data,
           errstr, errlen))
    return OI_INTERNAL;
  *closed = 1;
  return OI_OK;
}

/* ---- read models ---- */

static json_t *query_json(sp_db *db, const char *sql, const char *key,
                          oi_error *err, char *errstr, size_t errlen) {
  const char *p[] = {key};
  PGresult *r = sp_db_query(sp_db_ready(db), sql, 1, p, errstr, errlen);
  if (!r) {
    *err = OI_INTERNAL;
    return NULL;
  }
  json_t *out = NULL;
  if (PQntuples(r) == 1)
    out = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
  PQclear(r);
  *err = out ? OI_OK : OI_NOT_FOUND;
  if (!out)
    snprintf(errstr, errlen, "no such %s: %.80s",
             strstr(sql, "FROM vendors") ? "vendor" : "order", key);
  return out;
}

json_t *oi_order_get(sp_db *db, const char *id_or_ref, oi_error *err,
                     char *errstr, size_t errlen) {
  if (sp_db_ensure(db, errstr, errlen)) {
    *err = OI_INTERNAL;
    return NULL;
  }
  return query_json(
      db,
      "SELECT json_build_object('order_id', o.order_id, 'bcycp_ref', "
      "o.bcycp_ref, 'vendor_id', o.vendor_id, 'quantity', o.quantity, "
      "'profile', o.profile, 'state', o.state, 'blocked_reason', "
      "o.blocked_reason, 'document_sha256', o.document_sha256, "
      "'received_via', o.received_via, 'received_at', o.received_at, "
      "'signature', o.signer, "
      "'batches', (SELECT coalesce(json_agg(json_build_object('batch_id', "
      "b.batch_id, 'kind', b.kind, 'seq', b.seq, 'quantity', b.quantity, "
      "'state', b.state, 'released_at', b.released_at) ORDER BY b.kind = "
      "'production', b.seq), '[]') FROM batches b WHERE b.order_id = o.order_id), "
      "'timeline', (SELECT coalesce(json_agg(json_build_object('at', t.at, "
      "'step', t.step, 'detail', t.detail, 'actor', t.actor) ORDER BY t.at), "
      "'[]') FROM order_timeline t WHERE t.order_id = o.order_id))::text "
      "FROM orders o WHERE o.order_id = $1 OR o.bcycp_ref = $1",
      id_or_ref, err, errstr, errlen);
}

json_t *oi_vendor_get(sp_db *db, const char *vendor_id, oi_error *err,
                      char *errstr, size_t errlen) {
  if (sp_db_ensure(db, errstr, errlen)) {
    *err = OI_INTERNAL;
    return NULL;
  }
  return query_json(
      db,
      "SELECT json_build_object('vendor_id', vendor_id, 'name', name, "
      "'state', state, 'agreement_ref', agreement_ref, 'agreement_date', "
      "agreement_date, 'agreement_by', agreement_by, 'pilot_batch_id', "
      "pilot_batch_id, 'pilot_evidence', pilot_evidence, 'blocked_reason', "
      "blocked_reason)::text FROM vendors WHERE vendor_id = $1",
      vendor_id, err, errstr, errlen);
}
