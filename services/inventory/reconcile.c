/* reconcile.c - the reconciliation counts, from one snapshot. */
#include "reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "reason.h"
#include "sim_state.h"

static const char *const amount_keys[] = {"invoices", "subtotal", "vat",
                                          "total",    "paid",     "debt"};
#define NAMOUNTS 6

static json_t *zero_states(void) {
  json_t *o = json_object();
  for (int s = 0; s < IV_ST_COUNT; s++)
    json_object_set_new(o, iv_state_name((iv_state)s), json_integer(0));
  return o;
}

static json_t *zero_amounts(void) {
  json_t *o = json_object();
  for (int i = 0; i < NAMOUNTS; i++)
    json_object_set_new(o, amount_keys[i], json_integer(0));
  return o;
}

/* A group: {"states": {...}, "sims": N, "invoiced": {...}} plus its id. */
static json_t *group(json_t *map, const char *key, const char *idkey) {
  json_t *g = json_object_get(map, key);
  if (!g) {
    g = json_pack("{s:s, s:o, s:I, s:o}", idkey, key, "states", zero_states(),
                  "sims", (json_int_t)0, "invoiced", zero_amounts());
    json_object_set_new(map, key, g);
  }
  return g;
}

static void add(json_t *o, const char *key, json_int_t n) {
  json_object_set_new(o, key,
                      json_integer(json_integer_value(json_object_get(o, key)) +
                                   n));
}

static void add_states(json_t *g, const char *state, json_int_t n) {
  add(json_object_get(g, "states"), state, n);
  add(g, "sims", n);
}

static void add_amounts(json_t *g, json_int_t v[NAMOUNTS]) {
  json_t *a = json_object_get(g, "invoiced");
  for (int i = 0; i < NAMOUNTS; i++)
    add(a, amount_keys[i], v[i]);
}

/* "YYYY-MM-DD", a day the month has: PostgreSQL casts it to a date (a
 * "2026-02-30" would fail there, a database error instead of a 400). */
static int date_ok(const char *s) {
  static const char shape[] = "dddd-dd-dd";
  if (!s || strlen(s) != sizeof shape - 1)
    return 0;
  for (size_t i = 0; shape[i]; i++)
    if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
      return 0;
  int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 &&
         d <= mdays[m - 1] + (m == 2 && leap);
}

int iv_reconcile_filter_check(const iv_reconcile_filter *f, char *errstr,
                              size_t errlen) {
  if ((f->from && !date_ok(f->from)) || (f->to && !date_ok(f->to))) {
    snprintf(errstr, errlen, "dates are YYYY-MM-DD");
    return -1;
  }
  return 0;
}

/* The map's values as a list sorted by key. */
static json_t *as_list(json_t *map) {
  size_t n = json_object_size(map), i = 0;
  const char **keys = malloc((n ? n : 1) * sizeof *keys);
  const char *k;
  json_t *v;
  json_object_foreach(map, k, v) keys[i++] = k;
  for (size_t a = 1; a < n; a++)
    for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
      const char *t = keys[b];
      keys[b] = keys[b - 1];
      keys[b - 1] = t;
    }
  json_t *list = json_array();
  for (i = 0; i < n; i++)
    json_array_append(list, json_object_get(map, keys[i]));
  free(keys);
  return list;
}

json_t *iv_reconcile(PGconn *c, const iv_reconcile_filter *f, int *bad_input,
                     char *errstr, size_t errlen) {
  *bad_input = 0;
  if (iv_reconcile_filter_check(f, errstr, errlen)) {
    *bad_input = 1;
    return NULL;
  }
  const char *p[] = {f->order ? f->order : "", f->from ? f->from : "",
                     f->to ? f->to : "", f->ctkv ? f->ctkv : ""};
  /* One snapshot for both queries: the amounts and the counts agree. */
  PGresult *r = PQexec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  int began = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!began) {
    snprintf(errstr, errlen, "cannot start the snapshot: %s",
             PQerrorMessage(c));
    return NULL;
  }
  json_t *report = NULL;
  PGresult *counts = NULL, *amounts = NULL, *known = NULL;
  if (f->order) {
    known = sp_db_query(c,
                        "SELECT 1 FROM orders WHERE order_id = $1 OR "
                        "bcycp_ref = $1",
                        1, p, errstr, errlen);
    if (!known)
      goto out;
    if (PQntuples(known) == 0) {
      *bad_input = 1;
      char q[65];
      snprintf(errstr, errlen, "no order %s", iv_clip(f->order, 64, q));
      goto out;
    }
  }
#define FILTERS                                                               \
  "($1 = '' OR o.order_id = $1 OR o.bcycp_ref = $1) AND ($4 = '' OR "        \
  "s.ctkv_id = $4) "
#define PERIOD(col)                                                           \
  "AND ($2 = '' OR " col " >= ($2::date::timestamp AT TIME ZONE "            \
  "'Asia/Ho_Chi_Minh')) AND ($3 = '' OR " col " < (($3::date + 1)::timestamp " \
  "AT TIME ZONE 'Asia/Ho_Chi_Minh')) "
  counts = sp_db_query(
      c,
      "SELECT o.order_id, o.bcycp_ref, s.batch_id, coalesce(s.ctkv_id, ''), "
      "s.state, count(*) FROM sims s JOIN batches b USING (batch_id) JOIN "
      "orders o ON o.order_id = b.order_id WHERE " FILTERS PERIOD(
          "s.created_at") "GROUP BY 1, 2, 3, 4, 5",
      4, p, errstr, errlen);
  amounts = counts ? sp_db_query(
                         c,
                         "SELECT o.order_id, o.bcycp_ref, s.batch_id, "
                         "i.ctkv_id, count(*), sum(i.subtotal), sum(i.vat), "
                         "sum(i.total), coalesce(sum(d.amount_paid), 0), "
                         "sum(i.total) - coalesce(sum(d.amount_paid), 0) "
                         "FROM invoices i JOIN sims s USING (iccid) JOIN "
                         "batches b ON b.batch_id = s.batch_id JOIN orders o "
                         "ON o.order_id = b.order_id LEFT JOIN deliveries d "
                         "ON d.iccid = i.iccid WHERE " FILTERS PERIOD(
                             "i.issued_at") "GROUP BY 1, 2, 3, 4",
                         4, p, errstr, errlen)
                   : NULL;
  if (!amounts)
    goto out;
  json_t *orders = json_object(), *ctkvs = json_object();
  json_t *total = json_pack("{s:o, s:I, s:o}", "states", zero_states(),
                            "sims", (json_int_t)0, "invoiced", zero_amounts());
  for (int i = 0; i < PQntuples(counts); i++) {
    const char *oid = PQgetvalue(counts, i, 0), *ctkv = PQgetvalue(counts, i, 3);
    const char *state = PQgetvalue(counts, i, 4);
    json_int_t n = atoll(PQgetvalue(counts, i, 5));
    json_t *o = group(orders, oid, "order_id");
    json_object_set_new(o, "bcycp_ref", json_string(PQgetvalue(counts, i, 1)));
    if (!json_object_get(o, "batches"))
      json_object_set_new(o, "batches", json_object());
    add_states(o, state, n);
    add_states(group(json_object_get(o, "batches"), PQgetvalue(counts, i, 2),
                     "batch_id"),
               state, n);
    if (*ctkv)
      add_states(group(ctkvs, ctkv, "ctkv"), state, n);
    add_states(total, state, n);
  }
  for (int i = 0; i < PQntuples(amounts); i++) {
    json_int_t v[NAMOUNTS];
    for (int k = 0; k < NAMOUNTS; k++)
      v[k] = atoll(PQgetvalue(amounts, i, 4 + k));
    json_t *o = group(orders, PQgetvalue(amounts, i, 0), "order_id");
    json_object_set_new(o, "bcycp_ref", json_string(PQgetvalue(amounts, i, 1)));
    if (!json_object_get(o, "batches"))
      json_object_set_new(o, "batches", json_object());
    add_amounts(o, v);
    add_amounts(group(json_object_get(o, "batches"),
                      PQgetvalue(amounts, i, 2), "batch_id"),
                v);
    add_amounts(group(ctkvs, PQgetvalue(amounts, i, 3), "ctkv"), v);
    add_amounts(total, v);
  }
  /* Batches and orders as sorted lists, for people and diffs. */
  const char *k;
  json_t *o;
  json_object_foreach(orders, k, o) {
    json_t *list = as_list(json_object_get(o, "batches"));
    json_object_set_new(o, "batches", list);
  }
  char now[40];
  time_t t = time(NULL);
  strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
  report = json_pack("{s:s, s:{s:s?, s:s?, s:s?, s:s?}, s:o, s:o, s:o}",
                     "generated_at", now, "filter", "order", f->order, "from",
                     f->from, "to", f->to, "ctkv", f->ctkv, "orders",
                     as_list(orders), "ctkvs", as_list(ctkvs), "total",
                     total);
  json_decref(orders);
  json_decref(ctkvs);
out:
  PQclear(known);
  PQclear(counts);
  PQclear(amounts);
  r = PQexec(c, "COMMIT");
  PQclear(r);
  return report;
}

/* ---- CSV ---- */

typedef struct sbuf {
  char *p;
  size_t len, cap;
} sbuf;

static void put(sbuf *b, const char *s) {
  size_t n = strlen(s);
  if (b->len + n + 1 > b->cap) {
    while (b->len + n + 1 > b->cap)
      b->cap = b->cap ? 2 * b->cap : 4096;
    b->p = realloc(b->p, b->cap);
  }
  memcpy(b->p + b->len, s, n + 1);
  b->len += n;
}

static void row(sbuf *b, const char *level, const char *order,
                const char *batch, const char *ctkv, const json_t *g) {
  char cell[64];
  put(b, level);
  const char *ids[] = {order, batch, ctkv};
  for (int i = 0; i < 3; i++) {
    put(b, ",");
    put(b, ids[i] ? ids[i] : ""); /* ids are [A-Z0-9-]: no quoting needed */
  }
  json_t *st = json_object_get(g, "states"), *am = json_object_get(g, "invoiced");
  for (int s = 0; s < IV_ST_COUNT; s++) {
    snprintf(cell, sizeof cell, ",%lld",
             (long long)json_integer_value(
                 json_object_get(st, iv_state_name((iv_state)s))));
    put(b, cell);
  }
  snprintf(cell, sizeof cell, ",%lld",
           (long long)json_integer_value(json_object_get(g, "sims")));
  put(b, cell);
  for (int i = 0; i < NAMOUNTS; i++) {
    snprintf(cell, sizeof cell, ",%lld",
             (long long)json_integer_value(json_object_get(am, amount_keys[i])));
    put(b, cell);
  }
  put(b, "\r\n");
}

char *iv_reconcile_csv(const json_t *report) {
  sbuf b = {0};
  put(&b, "level,order,batch,ctkv");
  for (int s = 0; s < IV_ST_COUNT; s++) {
    put(&b, ",");
    put(&b, iv_state_name((iv_state)s));
  }
  put(&b, ",sims");
  for (int i = 0; i < NAMOUNTS; i++) {
    put(&b, ",");
    put(&b, amount_keys[i]);
  }
  put(&b, "\r\n");
  size_t i, j;
  json_t *o, *bt, *k;
  json_array_foreach(json_object_get(report, "orders"), i, o) {
    const char *oid = json_string_value(json_object_get(o, "order_id"));
    row(&b, "order", oid, NULL, NULL, o);
    json_array_foreach(json_object_get(o, "batches"), j, bt)
        row(&b, "batch", oid,
            json_string_value(json_object_get(bt, "batch_id")), NULL, bt);
  }
  json_array_foreach(json_object_get(report, "ctkvs"), i, k)
      row(&b, "ctkv", NULL, NULL, json_string_value(json_object_get(k, "ctkv")),
          k);
  row(&b, "total", NULL, NULL, NULL, json_object_get(report, "total"));
  return b.p;
}
