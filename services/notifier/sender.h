/* sender.h - sends the queued messages (notifications), one at a time: the
 * message is claimed in a transaction of its own (its attempt counted, its
 * next try put off by a 30 s lease), sent, and its outcome stored with its
 * event (notification.sent / notification.failed) in a second one, which
 * is written again if the connection breaks (PostgreSQL restarting) but
 * never sends again. A server that is down or slow leaves the message
 * pending with the next attempt backed off (1 s doubling up to a limit); a
 * refusal for good marks it failed.
 *
 * A crash of the notifier between the server's acceptance and the second
 * commit (or PostgreSQL away longer than the retry budget) sends the
 * message again once the lease has passed; an e-mail then carries the same
 * Message-ID, so a mailbox shows it once. */
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
