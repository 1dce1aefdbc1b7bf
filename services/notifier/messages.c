/* messages.c - kinds, recipients and the queue of messages. */
#include "messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "outbox.h"

static int failed_no_address(PGconn *tx, const sp_event *ev,
                             const nt_message *m, char *errstr,
                             size_t errlen) {
  sp_warn("no address to send to", "kind", m->kind, "recipient",
          m->who ? m->who : "?", "event_id", ev->id);
  char subject[96];
  snprintf(subject, sizeof subject, "notification/%s-%s", ev->id, m->kind);
  json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "event_id",
                           ev->id, "kind", m->kind, "channel", m->channel,
                           "recipient", m->who ? m->who : "?", "reason",
                           "no address on record", "attempts",
                           (json_int_t)0);
  return sp_outbox_publish(tx, NT_PRODUCER, NT_SOURCE, NT_TOPIC,
                           "notification.failed", subject,
                           ev->correlationid[0] ? ev->correlationid
                                                : ev->subject,
                           data, errstr, errlen);
}

int nt_queue(PGconn *tx, const nt_templates *t, const sp_event *ev,
             const nt_message *m, char *errstr, size_t errlen) {
  if (!m->recipient || !*m->recipient)
    return failed_no_address(tx, ev, m, errstr, errlen) ? -1 : 0;
  char *subject = NULL, *body = NULL;
  if (nt_template_render(t, m->kind, m->keys, m->values, m->n, &subject,
                         &body, errstr, errlen))
    return -1;
  const char *p[] = {ev->id,
                     m->kind,
                     m->channel,
                     m->recipient,
                     m->recipient_name,
                     subject,
                     body,
                     ev->correlationid[0] ? ev->correlationid : ev->subject};
  long added = sp_db_exec(
      tx,
      "INSERT INTO notifications (event_id, kind, channel, recipient, "
      "recipient_name, subject, body, correlation) VALUES ($1::uuid, $2, $3, "
      "$4, $5, $6, $7, $8) ON CONFLICT (event_id, kind, recipient) DO "
      "NOTHING",
      8, p, errstr, errlen);
  free(subject);
  free(body);
  return added < 0 ? -1 : 0;
}

int nt_lookup_mailbox(PGconn *c, const char *who, char *addr, size_t alen,
                      char *name, size_t nlen, char *errstr, size_t errlen) {
  const char *p[] = {who};
  PGresult *r = sp_db_query(
      c,
      "SELECT coalesce(email, ''), name FROM departments WHERE dept_id = $1 "
      "UNION ALL SELECT coalesce(email, ''), name FROM ctkvs WHERE ctkv_id "
      "= $1",
      1, p, errstr, errlen);
  if (!r)
    return -1;
  int found = PQntuples(r) > 0;
  if (found) {
    snprintf(addr, alen, "%s", PQgetvalue(r, 0, 0));
    snprintf(name, nlen, "%s", PQgetvalue(r, 0, 1));
  } else {
    addr[0] = name[0] = '\0';
  }
  PQclear(r);
  return found;
}
