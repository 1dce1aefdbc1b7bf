/* sender.h - sends the queued messages (notifications), one transaction
 * each: the row is locked, the message sent, and the outcome stored with
 * its event (notification.sent / notification.failed) before the lock is
 * let go. A server that is down or slow leaves the message pending with
 * the next attempt backed off (1 s doubling up to a limit); a refusal for
 * good marks it failed.
 *
 * A crash between the server's acceptance and the commit sends the message
 * again after the restart; an e-mail then carries the same Message-ID, so
 * a mailbox shows it once. */
#ifndef NT_SENDER_H
#define NT_SENDER_H

#include "db.h"
#include "mail.h"
#include "sms.h"

typedef struct nt_sender_conf {
  nt_mail *mail;
  nt_sms *sms;
  long retry_max_ms; /* SIMPKI_NOTIFIER_RETRY_MAX_MS */
} nt_sender_conf;

/* Send what is due now, until nothing is; the number sent, or -1. */
int nt_send_due(sp_db *db, const nt_sender_conf *conf, char *errstr,
                size_t errlen);

#endif
