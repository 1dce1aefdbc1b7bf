/* sender.c - the queue of messages to their servers. */
#include "sender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "messages.h"
#include "outbox.h"

/* How long a claimed message is left to its sender before another round
 * may take it: longer than one send can last (each channel bounds a send
 * at 10 s), so only a sender that died with the message sees it taken
 * again. */
#define NT_SEND_LEASE_MS 30000

/* One message, claimed: copied out of its row, which is committed as
 * attempted (and leased) before the server is asked. */
typedef struct send_tx {
  const nt_sender_conf *conf;
  int found, sent;
  long attempts;
  char id[24], event_id[40], kind[64], channel[8], corr[128];
  char *to, *name, *subject, *body;
  int rc;          /* the server's answer: NT_SENT, NT_RETRY, or refused */
  char why[512];
} send_tx;

static void send_tx_clear(send_tx *t) {
  free(t->to);
  free(t->name);
  free(t->subject);
  free(t->body);
  t->to = t->name = t->subject = t->body = NULL;
}

/* The first message due, claimed: its attempt counted and its next try
 * put off by the lease, in a transaction of its own. The message goes to
 * its server only after that commit, so a lost connection (PostgreSQL
 * restarting) after the server took it cannot roll the claim back and send
 * it again: only the outcome is written again. */
static int claim_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  send_tx *t = arg;
  t->found = 0;
  send_tx_clear(t);
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
  snprintf(t->id, sizeof t->id, "%s", PQgetvalue(r, 0, 0));
  snprintf(t->event_id, sizeof t->event_id, "%s", PQgetvalue(r, 0, 1));
  snprintf(t->kind, sizeof t->kind, "%s", PQgetvalue(r, 0, 2));
  snprintf(t->channel, sizeof t->channel, "%s", PQgetvalue(r, 0, 3));
  snprintf(t->corr, sizeof t->corr, "%s", PQgetvalue(r, 0, 8));
  t->attempts = atol(PQgetvalue(r, 0, 9)) + 1;
  t->to = strdup(PQgetvalue(r, 0, 4));
  t->name = strdup(PQgetvalue(r, 0, 5));
  t->subject = strdup(PQgetvalue(r, 0, 6));
  t->body = strdup(PQgetvalue(r, 0, 7));
  PQclear(r);
  if (!t->to || !t->name || !t->subject || !t->body) {
    snprintf(errstr, errlen, "out of memory");
    return SP_DB_ERROR;
  }
  char att[24], lease[24];
  snprintf(att, sizeof att, "%ld", t->attempts);
  snprintf(lease, sizeof lease, "%d", NT_SEND_LEASE_MS);
  const char *p[] = {t->id, att, lease};
  if (sp_db_exec(c,
                 "UPDATE notifications SET attempts = $2::int, "
                 "next_attempt_at = now() + $3::int * interval '1 "
                 "millisecond' WHERE notification_id = $1::bigint",
                 3, p, errstr, errlen) != 1)
    return SP_DB_ERROR;
  t->found = 1;
  return SP_DB_OK;
}

/* The claimed message to its server, outside any transaction. */
static void deliver(send_tx *t) {
  t->why[0] = '\0';
  if (!strcmp(t->channel, "sms")) {
    t->rc = nt_sms_send(t->conf->sms, t->to, t->body, t->why, sizeof t->why);
  } else {
    char seed[96]; /* the same message, the same Message-ID */
    snprintf(seed, sizeof seed, "%s.%s", t->event_id, t->id);
    t->rc = nt_mail_send(t->conf->mail, t->to, *t->name ? t->name : NULL,
                         t->subject, t->body, seed, t->why, sizeof t->why);
  }
}

/* The outcome, with its event; written again as a whole if the connection
 * breaks, never by a round that did not claim this attempt. */
static int record_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  send_tx *t = arg;
  t->sent = 0;
  const char *id = t->id, *event_id = t->event_id, *kind = t->kind,
             *channel = t->channel, *corr = t->corr, *why = t->why;
  const char *recipient = t->to;
  long attempts = t->attempts;
  int rc = t->rc;
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
  long n = sp_db_exec(
      c,
      "UPDATE notifications SET state = $2, last_error = $5, "
      "next_attempt_at = now() + $4::int * interval '1 millisecond', "
      "sent_at = CASE WHEN $2 = 'sent' THEN now() END WHERE notification_id "
      "= $1::bigint AND state = 'pending' AND attempts = $3::int",
      5, p, errstr, errlen);
  if (n < 0)
    return SP_DB_ERROR;
  if (n == 0) {
    /* Another round took the message after the lease: its outcome is the
     * one recorded. */
    sp_warn("message outcome not recorded: the claim was taken over",
            "notification_id", id, "attempts", att);
    return SP_DB_OK;
  }
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
    send_tx t = {.conf = conf};
    if (sp_db_tx(db, claim_fn, &t, errstr, errlen) != SP_DB_OK) {
      send_tx_clear(&t);
      return -1;
    }
    if (!t.found)
      return sent;
    deliver(&t);
    int rc = sp_db_tx(db, record_fn, &t, errstr, errlen);
    send_tx_clear(&t);
    /* Not recorded: the lease brings the message round again. */
    if (rc != SP_DB_OK)
      return -1;
    sent += t.sent;
  }
}
