/* messages.h - the message kinds, their placeholders, and the queue.
 *
 * A message is rendered from its kind's template (template.h) when the
 * event that calls for it is taken, and queued in notifications in the
 * same inbox transaction: one row per event, kind and recipient, so a
 * redelivered event queues nothing twice. The sender (sender.c) sends the
 * queue. */
#ifndef NT_MESSAGES_H
#define NT_MESSAGES_H

#include <libpq-fe.h>
#include <stddef.h>

#include "event.h"
#include "template.h"

#define NT_PRODUCER "notifier"
#define NT_SOURCE "/simpki/notifier"
#define NT_TOPIC "notifications"

/* The kinds and their placeholders: nt_template_specs (template.h). */

typedef struct nt_message {
  const char *kind;
  const char *channel;     /* "email" or "sms" */
  const char *recipient;   /* address or 84... number; NULL or "" = none */
  const char *recipient_name;
  const char *who;         /* for a failure: "Ban KHDN", "CTKV3", ... */
  const char *const *keys; /* placeholder values */
  const char *const *values;
  size_t n;
} nt_message;

/* Render and queue m for ev inside tx. A recipient without an address is
 * recorded as notification.failed ("no address") instead: 0 either way;
 * -1 on database or template trouble (errstr). */
int nt_queue(PGconn *tx, const nt_templates *t, const sp_event *ev,
             const nt_message *m, char *errstr, size_t errlen);

/* The e-mail address and name of a department (ban_khdn...) or a CTKV
 * (CTKV1...): 1 found (address may be "" when none is on record), 0 no
 * such one, -1 error. */
int nt_lookup_mailbox(PGconn *c, const char *who, char *addr, size_t alen,
                      char *name, size_t nlen, char *errstr, size_t errlen);

#endif
