/* sender.c - the queue of messages to their servers. */
#include "sender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "messages.h"
#include "outbox.h"

typedef struct send_tx {
  const nt_sender_conf *conf;
  int found, sent;
} send_tx;

static int send_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  send_tx *t = arg;
  t->found = t->sent = 0;
  PGresult *r = sp_db_query(
      c,
      "SELECT notification_id, event_id, kind, channel, recipient, "
      "coalesce(recipient_name, ''), coalesce(subject, ''), body, "
      "correlation, attempts FROM notifications WHERE state = 'pending' AND "
      "next_attempt_at <= now() ORDER BY next_attempt_at, notification_id "
      "LIMIT 1 FOR UPDATE SKIP LOCKED",
      0, NULL, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return SP_DB_OK;
  }
  t->found = 1;
  char id[24], event_id[40], kind[64], channel[8], corr[128];
  snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
  snprintf(event_id, sizeof event_id, "%s", PQgetvalue(r, 0, 1));
  snprintf(kind, sizeof kind, "%s", PQgetvalue(r, 0, 2));
  snprintf(channel, sizeof channel, "%s", PQgetvalue(r, 0, 3));
  snprintf(corr, sizeof corr, "%s", PQgetvalue(r, 0, 8));
  long attempts = atol(PQgetvalue(r, 0, 9)) + 1;
  const char *to = PQgetvalue(r, 0, 4), *name = PQgetvalue(r, 0, 5);
  char why[512] = "";
  int rc;
  if (!strcmp(channel, "sms")) {
    rc = nt_sms_send(t->conf->sms, to, PQgetvalue(r, 0, 7), why, sizeof why);
  } else {
    char seed[96]; /* the same message, the same Message-ID */
    snprintf(seed, sizeof seed, "%s.%s", event_id, id);
    rc = nt_mail_send(t->conf->mail, to, *name ? name : NULL,
                      PQgetvalue(r, 0, 6), PQgetvalue(r, 0, 7), seed, why,
                      sizeof why);
  }
  char recipient[256];
  snprintf(recipient, sizeof recipient, "%s", to);
  PQclear(r);

  char att[24], delay[24];
  snprintf(att, sizeof att, "%ld", attempts);
  long ms = 1000;
  for (long i = 1; i < attempts && ms < t->conf->retry_max_ms; i++)
    ms *= 2;
  if (ms > t->conf->retry_max_ms)
    ms = t->conf->retry_max_ms;
  snprintf(delay, sizeof delay, "%ld", ms);
  const char *state = rc == NT_SENT ? "sent" : rc == NT_RETRY ? "pending"
                                                              : "failed";
  const char *p[] = {id, state, att, delay, rc == NT_SENT ? NULL : why};
  if (sp_db_exec(c,
                 "UPDATE notifications SET state = $2, attempts = $3::int, "
                 "last_error = $5, next_attempt_at = now() + $4::int * "
                 "interval '1 millisecond', sent_at = CASE WHEN $2 = 'sent' "
                 "THEN now() END WHERE notification_id = $1::bigint",
                 5, p, errstr, errlen) != 1)
    return SP_DB_ERROR;
  if (rc == NT_RETRY) {
    sp_warn("message not sent yet; will retry", "notification_id", id,
            "kind", kind, "attempts", att, "reason", why);
    return SP_DB_OK;
  }
  char subject[64], at[32];
  snprintf(subject, sizeof subject, "notification/%s", id);
  time_t now = time(NULL);
  strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  json_t *data = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I}", "notification_id",
                           (json_int_t)atoll(id), "event_id", event_id,
                           "kind", kind, "channel", channel, "recipient",
                           recipient, "attempts", (json_int_t)attempts);
  if (rc == NT_SENT)
    json_object_set_new(data, "sent_at", json_string(at));
  else
    json_object_set_new(data, "reason", json_string(why));
  if (sp_outbox_publish(c, NT_PRODUCER, NT_SOURCE, NT_TOPIC,
                        rc == NT_SENT ? "notification.sent"
                                      : "notification.failed",
                        subject, corr, data, errstr, errlen))
    return SP_DB_ERROR;
  if (rc == NT_SENT) {
    sp_info("message sent", "notification_id", id, "kind", kind, "channel",
            channel);
    t->sent = 1;
  } else {
    sp_warn("message refused for good", "notification_id", id, "kind", kind,
            "reason", why);
  }
  return SP_DB_OK;
}

int nt_send_due(sp_db *db, const nt_sender_conf *conf, char *errstr,
                size_t errlen) {
  int sent = 0;
  for (;;) {
    send_tx t = {conf, 0, 0};
    if (sp_db_tx(db, send_fn, &t, errstr, errlen) != SP_DB_OK)
      return -1;
    if (!t.found)
      return sent;
    sent += t.sent;
  }
}
