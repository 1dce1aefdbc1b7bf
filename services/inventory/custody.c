/* custody.c - range moves of SIMs, set-based. */
#include "custody.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "numbering.h"
#include "outbox.h"
#include "reason.h"

__attribute__((format(printf, 4, 5))) static iv_move_status
status(iv_move_status s, char *errstr, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errstr, errlen, fmt, ap);
  va_end(ap);
  return s;
}

int iv_shop_ctkv(PGconn *c, const char *shop, char ctkv[IV_ID_MAX + 1],
                 char *errstr, size_t errlen) {
  const char *p[] = {shop};
  PGresult *r = sp_db_query(c, "SELECT ctkv_id FROM shops WHERE shop_id = $1",
                            1, p, errstr, errlen);
  if (!r)
    return -1;
  int found = PQntuples(r) == 1;
  if (found)
    snprintf(ctkv, IV_ID_MAX + 1, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  return found;
}

/* The event type of a move: a range is "sims.<verb>". */
static const char *event_type(iv_action_kind k) {
  switch (k) {
  case IV_ACT_HANDOVER:
    return "sims.handed_over";
  case IV_ACT_STOCK_IN:
    return "sims.stocked_in";
  case IV_ACT_TRANSFER:
    return "sims.transferred";
  case IV_ACT_WALK_IN:
    return "sims.walked_in";
  default:
    return NULL;
  }
}

/* The WHERE clause of a range (params $1 first, $2 last, $3 length) and
 * of the SIMs in it that may move (adds $4 ctkv or shop). ICCIDs of one
 * length sort like their numbers; the length keeps out the ICCIDs of
 * another length that text order would put inside the range. */
#define RANGE "iccid >= $1 AND iccid <= $2 AND length(iccid) = $3::int"

static void eligible_sql(iv_action_kind k, char *out, size_t len) {
  const char *scope;
  switch (iv_action_scope(k)) {
  case IV_SCOPE_CTKV:
  case IV_SCOPE_SHOP_CTKV:
    scope = " AND ctkv_id = $4";
    break;
  case IV_SCOPE_SHOP:
    scope = " AND shop_id = $4";
    break;
  default:
    scope = " AND $4::text IS NOT NULL";
  }
  snprintf(out, len, "state IN (%s)%s", iv_action_from_states_sql(k), scope);
}

static const char *field(json_t *b, const char *key) {
  return json_string_value(json_object_get(b, key));
}

int iv_move_from_body(json_t *body, iv_action_kind kind, const char *own_ctkv,
                      iv_move *m, char *errstr, size_t errlen) {
  memset(m, 0, sizeof *m);
  m->kind = kind;
  m->iccid_first = field(body, "iccid_first");
  m->iccid_last = field(body, "iccid_last");
  switch (kind) {
  case IV_ACT_HANDOVER:
    m->ctkv = field(body, "ctkv");
    m->purpose = field(body, "purpose");
    break;
  case IV_ACT_STOCK_IN:
    m->ctkv = field(body, "ctkv") ? field(body, "ctkv") : own_ctkv;
    break;
  case IV_ACT_WALK_IN:
    m->iccid_first = m->iccid_last = field(body, "iccid");
    /* fall through */
  default: /* transfer, walk_in: the shop (its CTKV is looked up) */
    m->shop = field(body, "shop");
  }
  if ((kind == IV_ACT_HANDOVER || kind == IV_ACT_STOCK_IN) &&
      (!m->ctkv || !*m->ctkv)) {
    snprintf(errstr, errlen, "\"ctkv\" is required");
    return -1;
  }
  if ((kind == IV_ACT_TRANSFER || kind == IV_ACT_WALK_IN) && !m->shop) {
    snprintf(errstr, errlen, "\"shop\" is required");
    return -1;
  }
  return 0;
}

iv_move_status iv_move_check(const iv_move *m, long *sims, char *errstr,
                             size_t errlen) {
  *sims = 0;
  if (!event_type(m->kind))
    return status(IV_MOVE_BAD_INPUT, errstr, errlen,
                  "%s is not a range move", iv_action_name(m->kind));
  long long first, last;
  char why[200] = "it is required", q[25];
  if (!m->iccid_first ||
      vx_iccid_parse(m->iccid_first, strlen(m->iccid_first), &first, why,
                     sizeof why))
    return status(IV_MOVE_BAD_INPUT, errstr, errlen, "first ICCID %s: %s",
                  iv_clip(m->iccid_first, 24, q), why);
  if (!m->iccid_last ||
      vx_iccid_parse(m->iccid_last, strlen(m->iccid_last), &last, why,
                     sizeof why))
    return status(IV_MOVE_BAD_INPUT, errstr, errlen, "last ICCID %s: %s",
                  iv_clip(m->iccid_last, 24, q), why);
  if (strlen(m->iccid_first) != strlen(m->iccid_last) || last < first)
    return status(IV_MOVE_BAD_INPUT, errstr, errlen,
                  "the range %s..%s is empty or mixes ICCID lengths",
                  m->iccid_first, m->iccid_last);
  long long want = last - first + 1;
  if (want > IV_MAX_RANGE)
    return status(IV_MOVE_BAD_INPUT, errstr, errlen,
                  "%lld SIMs in one move; at most %d", want, IV_MAX_RANGE);
  if (m->kind == IV_ACT_HANDOVER &&
      (!m->purpose ||
       (strcmp(m->purpose, "testing") && strcmp(m->purpose, "customers"))))
    return status(IV_MOVE_BAD_INPUT, errstr, errlen,
                  "a handover's purpose is \"testing\" or \"customers\"");
  *sims = (long)want;
  return IV_MOVE_OK;
}

iv_move_status iv_move_range(PGconn *tx, const iv_move *m,
                             iv_move_result *res, char *errstr,
                             size_t errlen) {
  memset(res, 0, sizeof *res);
  long sims;
  iv_move_status st = iv_move_check(m, &sims, errstr, errlen);
  if (st != IV_MOVE_OK)
    return st;
  const char *type = event_type(m->kind);
  long long want = sims;
  char why[200], q[41];

  /* Who receives: a CTKV that exists; a shop, and the CTKV it belongs to. */
  iv_action a = {m->kind, m->ctkv, m->shop};
  if (iv_action_scope(m->kind) == IV_SCOPE_SHOP_CTKV) {
    int found = m->shop ? iv_shop_ctkv(tx, m->shop, res->ctkv, errstr, errlen)
                        : 0;
    if (found < 0)
      return IV_MOVE_DB;
    if (!found)
      return status(IV_MOVE_UNKNOWN, errstr, errlen, "no shop %s",
                    iv_clip(m->shop, 40, q));
    a.ctkv = res->ctkv;
  } else if (m->ctkv) {
    const char *p[] = {m->ctkv};
    PGresult *r = sp_db_query(tx, "SELECT 1 FROM ctkvs WHERE ctkv_id = $1",
                              1, p, errstr, errlen);
    if (!r)
      return IV_MOVE_DB;
    int found = PQntuples(r) == 1;
    PQclear(r);
    if (!found)
      return status(IV_MOVE_UNKNOWN, errstr, errlen, "no CTKV %s",
                    iv_clip(m->ctkv, 40, q));
    snprintf(res->ctkv, sizeof res->ctkv, "%s", m->ctkv);
  } else {
    return status(IV_MOVE_BAD_INPUT, errstr, errlen, "%s needs a CTKV",
                  iv_action_name(m->kind));
  }
  const char *key = iv_action_scope(m->kind) == IV_SCOPE_SHOP ? m->shop
                                                               : a.ctkv;
  char len[24], elig[256], sql[1024];
  snprintf(len, sizeof len, "%zu", strlen(m->iccid_first));
  eligible_sql(m->kind, elig, sizeof elig);
  const char *p[] = {m->iccid_first, m->iccid_last, len, key};

  /* The range as it is: how many SIMs, the first that may not move. */
  snprintf(sql, sizeof sql,
           "SELECT count(*), (SELECT iccid FROM sims WHERE " RANGE
           " AND NOT (%s) ORDER BY iccid LIMIT 1), (SELECT min(b.order_id) "
           "FROM batches b WHERE b.batch_id = min(s.batch_id)) FROM sims s "
           "WHERE " RANGE,
           elig);
  PGresult *r = sp_db_query(tx, sql, 4, p, errstr, errlen);
  if (!r)
    return IV_MOVE_DB;
  long have = atol(PQgetvalue(r, 0, 0));
  char bad[24] = "", order_id[64] = "";
  snprintf(bad, sizeof bad, "%s", PQgetvalue(r, 0, 1));
  snprintf(order_id, sizeof order_id, "%s", PQgetvalue(r, 0, 2));
  PQclear(r);
  if (have != want)
    return status(IV_MOVE_REFUSED, errstr, errlen,
                  "the range %s..%s holds %ld known SIMs, not %lld: a "
                  "range must be whole",
                  m->iccid_first, m->iccid_last, have, want);
  if (bad[0]) {
    const char *pb[] = {bad};
    r = sp_db_query(tx,
                    "SELECT state, coalesce(ctkv_id, ''), coalesce(shop_id, "
                    "'') FROM sims WHERE iccid = $1",
                    1, pb, errstr, errlen);
    if (!r)
      return IV_MOVE_DB;
    iv_sim sim = {(iv_state)iv_state_parse(PQgetvalue(r, 0, 0)), "", ""};
    snprintf(sim.ctkv, sizeof sim.ctkv, "%s", PQgetvalue(r, 0, 1));
    snprintf(sim.shop, sizeof sim.shop, "%s", PQgetvalue(r, 0, 2));
    PQclear(r);
    iv_sim after;
    if (iv_sim_apply(&sim, &a, &after, why, sizeof why) == 0)
      snprintf(why, sizeof why, "it changed meanwhile");
    return status(IV_MOVE_REFUSED, errstr, errlen,
                  "SIM %s of the range may not %s: %s; nothing moved", bad,
                  iv_action_name(m->kind), why);
  }

  /* The move itself: one statement, whatever the size. */
  const char *set_ctkv =
      iv_action_scope(m->kind) == IV_SCOPE_SET_CTKV ? ", ctkv_id = $5" : "";
  const char *set_shop =
      iv_action_scope(m->kind) == IV_SCOPE_SHOP_CTKV ? ", shop_id = $6" : "";
  snprintf(sql, sizeof sql,
           "UPDATE sims SET state = '%s'%s%s WHERE " RANGE
           " AND %s AND $5::text IS NOT NULL AND $6::text IS NOT NULL",
           iv_state_name(iv_action_target(m->kind)), set_ctkv, set_shop, elig);
  const char *pu[] = {m->iccid_first, m->iccid_last, len, key, a.ctkv,
                      m->shop ? m->shop : ""};
  long moved = sp_db_exec(tx, sql, 6, pu, errstr, errlen);
  if (moved < 0)
    return IV_MOVE_DB;
  if (moved != want) /* another move took some of them since the check */
    return status(IV_MOVE_REFUSED, errstr, errlen,
                  "%lld SIMs of the range moved meanwhile; nothing moved",
                  want - moved);
  res->sims = moved;

  char n[24];
  snprintf(n, sizeof n, "%ld", moved);
  const char *pm[] = {iv_action_name(m->kind), a.ctkv, m->shop, m->purpose,
                      m->iccid_first, m->iccid_last, n, m->by};
  r = sp_db_query(
      tx,
      "INSERT INTO custody_moves (move_id, kind, ctkv_id, shop_id, purpose, "
      "iccid_first, iccid_last, sims, by_user) VALUES ('MV-' || "
      "to_char(now() AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY') || '-' || "
      "lpad(nextval('custody_move_number')::text, 8, '0'), $1, $2, $3, $4, "
      "$5, $6, $7::int, $8) RETURNING move_id",
      8, pm, errstr, errlen);
  if (!r)
    return IV_MOVE_DB;
  snprintf(res->move_id, sizeof res->move_id, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  char subject[64];
  snprintf(subject, sizeof subject, "move/%s", res->move_id);
  json_t *data = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "move_id",
                           res->move_id, "iccid_first", m->iccid_first,
                           "iccid_last", m->iccid_last, "sims",
                           (json_int_t)moved, "ctkv", a.ctkv, "by", m->by);
  if (m->shop && iv_action_scope(m->kind) == IV_SCOPE_SHOP_CTKV)
    json_object_set_new(data, "shop", json_string(m->shop));
  if (m->kind == IV_ACT_HANDOVER)
    json_object_set_new(data, "purpose", json_string(m->purpose));
  if (order_id[0])
    json_object_set_new(data, "order_id", json_string(order_id));
  if (sp_outbox_publish(tx, IV_PRODUCER, IV_SOURCE, IV_TOPIC_SIMS, type,
                        subject, order_id[0] ? order_id : res->move_id, data,
                        errstr, errlen))
    return IV_MOVE_DB;
  return IV_MOVE_OK;
}

iv_move_status iv_sim_take(PGconn *tx, const char *iccid, iv_action_kind k,
                           const char *shop, iv_sim_row *out, char *errstr,
                           size_t errlen) {
  if (!iccid || !*iccid)
    return status(IV_MOVE_BAD_INPUT, errstr, errlen, "\"iccid\" is required");
  const char *p[] = {iccid};
  PGresult *r = sp_db_query(
      tx,
      "SELECT s.state, coalesce(s.ctkv_id, ''), coalesce(s.shop_id, ''), "
      "coalesce(b.order_id, '') FROM sims s LEFT JOIN batches b USING "
      "(batch_id) WHERE s.iccid = $1 FOR UPDATE OF s",
      1, p, errstr, errlen);
  if (!r)
    return IV_MOVE_DB;
  if (PQntuples(r) != 1) {
    PQclear(r);
    char q[25];
    return status(IV_MOVE_UNKNOWN, errstr, errlen, "no SIM %s",
                  iv_clip(iccid, 24, q));
  }
  memset(out, 0, sizeof *out);
  out->sim.state = (iv_state)iv_state_parse(PQgetvalue(r, 0, 0));
  snprintf(out->sim.ctkv, sizeof out->sim.ctkv, "%s", PQgetvalue(r, 0, 1));
  snprintf(out->sim.shop, sizeof out->sim.shop, "%s", PQgetvalue(r, 0, 2));
  snprintf(out->order_id, sizeof out->order_id, "%s", PQgetvalue(r, 0, 3));
  PQclear(r);
  iv_action a = {k, out->sim.ctkv, shop ? shop : out->sim.shop};
  iv_sim after;
  char why[256];
  if (iv_sim_apply(&out->sim, &a, &after, why, sizeof why))
    return status(IV_MOVE_REFUSED, errstr, errlen, "SIM %s may not %s: %s",
                  iccid, iv_action_name(k), why);
  return IV_MOVE_OK;
}


iv_move_status iv_mark_check(iv_action_kind kind, const char *reason,
                             char *errstr, size_t errlen) {
  if (kind != IV_ACT_MARK_FAULTY && kind != IV_ACT_RETURN)
    return status(IV_MOVE_BAD_INPUT, errstr, errlen, "not a single-SIM mark");
  if (!reason || !*reason || strlen(reason) > 500)
    return status(IV_MOVE_BAD_INPUT, errstr, errlen,
                  "a reason (up to 500 bytes) is required");
  return IV_MOVE_OK;
}

iv_move_status iv_mark_sim(PGconn *tx, const char *iccid,
                           iv_action_kind kind, const char *reason,
                           const char *by, char *errstr, size_t errlen) {
  iv_move_status st = iv_mark_check(kind, reason, errstr, errlen);
  if (st != IV_MOVE_OK)
    return st;
  iv_sim_row sr;
  st = iv_sim_take(tx, iccid, kind, NULL, &sr, errstr, errlen);
  if (st != IV_MOVE_OK)
    return st;
  const iv_sim sim = sr.sim;
  const char *order_id = sr.order_id;
  const char *pu[] = {iccid, iv_state_name(iv_action_target(kind))};
  if (sp_db_exec(tx, "UPDATE sims SET state = $2 WHERE iccid = $1", 2, pu,
                 errstr, errlen) != 1)
    return IV_MOVE_DB;
  const char *pm[] = {iv_action_name(kind), sim.ctkv[0] ? sim.ctkv : NULL,
                      sim.shop[0] ? sim.shop : NULL, iccid, by};
  if (sp_db_exec(tx,
                 "INSERT INTO custody_moves (move_id, kind, ctkv_id, shop_id, "
                 "iccid_first, iccid_last, sims, by_user) VALUES ('MV-' || "
                 "to_char(now() AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY') || "
                 "'-' || lpad(nextval('custody_move_number')::text, 8, '0'), "
                 "$1, $2, $3, $4, $4, 1, $5)",
                 5, pm, errstr, errlen) != 1)
    return IV_MOVE_DB;
  char subject[48];
  snprintf(subject, sizeof subject, "sim/%s", iccid);
  json_t *data = json_pack("{s:s, s:s, s:s, s:s}", "iccid", iccid, "from",
                           iv_state_name(sim.state), "reason", reason, "by",
                           by);
  if (sim.ctkv[0])
    json_object_set_new(data, "ctkv", json_string(sim.ctkv));
  if (sim.shop[0])
    json_object_set_new(data, "shop", json_string(sim.shop));
  return sp_outbox_publish(tx, IV_PRODUCER, IV_SOURCE, IV_TOPIC_SIMS,
                           kind == IV_ACT_MARK_FAULTY ? "sim.faulty"
                                                      : "sim.returned",
                           subject, order_id[0] ? order_id : subject, data,
                           errstr, errlen)
             ? IV_MOVE_DB
             : IV_MOVE_OK;
}
