/* sla.c - the A5 contact deadlines. */
#include "sla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "messages.h"
#include "outbox.h"

static const char *str(const sp_event *ev, const char *key) {
  return json_string_value(json_object_get(ev->data, key));
}

int nt_sla_open(PGconn *tx, const sp_cal *cal, const sp_event *ev,
                char *errstr, size_t errlen) {
  const char *case_id = str(ev, "case_id"), *received = str(ev, "received_at");
  const char *notice = str(ev, "notice_id"), *agency = str(ev, "agency");
  const char *name = str(ev, "full_name");
  time_t at, deadline;
  if (!case_id || !received || !notice || !agency || !name ||
      sp_cal_parse_time(received, &at, errstr, errlen)) {
    snprintf(errstr, errlen, "case.opened %s lacks a field or its "
             "received_at is not a date-time", ev->id);
    return 1;
  }
  if (sp_cal_deadline(cal, at, NT_SLA_WORKING_DAYS, &deadline, errstr,
                      errlen))
    return 1; /* e.g. "no holiday data for 2028": an operator must add it */
  /* The reminder: at the start of the last working day. */
  time_t remind = deadline - 86399;
  char r[SP_CAL_TIME_LEN + 1], d[SP_CAL_TIME_LEN + 1], m[SP_CAL_TIME_LEN + 1];
  sp_cal_format_time(at, r);
  sp_cal_format_time(deadline, d);
  sp_cal_format_time(remind, m);
  const char *ctkv = str(ev, "ctkv");
  const char *p[] = {case_id, notice, agency, name, ctkv, r, d, m};
  return sp_db_exec(tx,
                    "INSERT INTO sla_cases (case_id, notice_id, agency, "
                    "full_name, ctkv_id, received_at, deadline, remind_at) "
                    "VALUES ($1, $2, $3, $4, $5, $6::timestamptz, "
                    "$7::timestamptz, $8::timestamptz) ON CONFLICT (case_id) "
                    "DO NOTHING",
                    8, p, errstr, errlen) < 0
             ? -1
             : 0;
}

int nt_sla_close(PGconn *tx, const char *case_id, const char *by,
                 char *errstr, size_t errlen) {
  const char *p[] = {case_id, by};
  return sp_db_exec(tx,
                    "UPDATE sla_cases SET closed_at = now(), closed_by = $2 "
                    "WHERE case_id = $1 AND closed_at IS NULL",
                    2, p, errstr, errlen) < 0
             ? -1
             : 0;
}

typedef struct tick_tx {
  const nt_templates *t;
  char now[SP_CAL_TIME_LEN + 1];
  int breach; /* 0 reminders, 1 breaches */
  int acted;
} tick_tx;

/* One due case (locked), its event and its message. */
static int tick_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  tick_tx *t = arg;
  t->acted = 0;
  const char *p[] = {t->now};
  PGresult *r = sp_db_query(
      c,
      t->breach ? "SELECT case_id, notice_id, agency, full_name, "
                  "coalesce(ctkv_id, ''), to_char(deadline AT TIME ZONE "
                  "'Asia/Ho_Chi_Minh', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"') "
                  "FROM sla_cases WHERE "
                  "closed_at IS NULL AND breached_at IS NULL AND deadline < "
                  "$1::timestamptz ORDER BY deadline LIMIT 1 FOR UPDATE SKIP "
                  "LOCKED"
                : "SELECT case_id, notice_id, agency, full_name, "
                  "coalesce(ctkv_id, ''), to_char(deadline AT TIME ZONE "
                  "'Asia/Ho_Chi_Minh', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"') "
                  "FROM sla_cases WHERE "
                  "closed_at IS NULL AND reminded_at IS NULL AND breached_at "
                  "IS NULL AND remind_at <= $1::timestamptz ORDER BY "
                  "remind_at LIMIT 1 FOR UPDATE SKIP LOCKED",
      1, p, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return SP_DB_OK;
  }
  char case_id[40], notice[40], agency[256], name[256], ctkv[16], when[64];
  snprintf(case_id, sizeof case_id, "%s", PQgetvalue(r, 0, 0));
  snprintf(notice, sizeof notice, "%s", PQgetvalue(r, 0, 1));
  snprintf(agency, sizeof agency, "%s", PQgetvalue(r, 0, 2));
  snprintf(name, sizeof name, "%s", PQgetvalue(r, 0, 3));
  snprintf(ctkv, sizeof ctkv, "%s", PQgetvalue(r, 0, 4));
  snprintf(when, sizeof when, "%s", PQgetvalue(r, 0, 5));
  PQclear(r);
  const char *pc[] = {case_id};

  /* The event first: the message is tied to its id. */
  const char *type = t->breach ? "case.breached" : "case.reminded";
  char subject[64];
  snprintf(subject, sizeof subject, "case/%s", case_id);
  const char *to = t->breach || !ctkv[0] ? "ban_khdn" : ctkv;
  json_t *data = json_pack("{s:s, s:s, s:s, s:s}", "case_id", case_id,
                           "notice_id", notice, "deadline", when, "notified",
                           to);
  sp_event ev;
  if (sp_event_init(&ev, NT_SOURCE, type, subject, NULL, notice, data,
                    errstr, errlen))
    return SP_DB_ERROR;
  int rc = sp_outbox_emit(c, NT_PRODUCER, NT_TOPIC_REGISTRATIONS, &ev, errstr,
                          errlen);
  char addr[256], who[256];
  int found = rc ? -1
                 : nt_lookup_mailbox(c, to, addr, sizeof addr, who,
                                     sizeof who, errstr, errlen);
  if (found >= 0) {
    const char *keys[] = {"case_id", "agency", "full_name", "deadline",
                          "region"};
    const char *vals[] = {case_id, agency, name, when,
                          ctkv[0] ? ctkv : "chưa rõ (not known)"};
    nt_message m = {t->breach ? "case_breached" : "case_due", "email",
                    found ? addr : NULL, who, to, keys, vals, 5};
    rc = nt_queue(c, t->t, &ev, &m, errstr, errlen);
  }
  sp_event_clear(&ev);
  if (rc || found < 0)
    return SP_DB_ERROR;
  if (sp_db_exec(c,
                 t->breach ? "UPDATE sla_cases SET breached_at = now() WHERE "
                             "case_id = $1"
                           : "UPDATE sla_cases SET reminded_at = now() WHERE "
                             "case_id = $1",
                 1, pc, errstr, errlen) != 1)
    return SP_DB_ERROR;
  sp_info(t->breach ? "case deadline breached" : "case reminder due",
          "case_id", case_id, "deadline", when, "notified", to);
  t->acted = 1;
  return SP_DB_OK;
}

int nt_sla_tick(sp_db *db, const nt_templates *tmpl, time_t now, time_t *next,
                char *errstr, size_t errlen) {
  tick_tx t = {.t = tmpl};
  sp_cal_format_time(now, t.now);
  int acted = 0;
  for (t.breach = 0; t.breach <= 1; t.breach++) {
    do {
      if (sp_db_tx(db, tick_fn, &t, errstr, errlen) != SP_DB_OK)
        return -1;
      acted += t.acted;
    } while (t.acted);
  }
  /* The next thing to do, for the timer to sleep until. */
  PGresult *r = sp_db_query(
      sp_db_conn(db),
      "SELECT extract(epoch FROM least(min(remind_at) FILTER (WHERE "
      "reminded_at IS NULL), min(deadline) + interval '1 second'))::bigint "
      "FROM sla_cases WHERE closed_at IS NULL AND breached_at IS NULL",
      0, NULL, errstr, errlen);
  if (!r)
    return -1;
  *next = PQgetisnull(r, 0, 0) ? 0 : (time_t)atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return acted;
}
