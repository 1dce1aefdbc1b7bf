/* inbox.h - which events a consumer has already applied.
 *
 * Both calls run inside the handler's transaction, so the record of an
 * event and its effect commit together: a redelivered event changes
 * nothing. */
#ifndef SIMPKI_INBOX_H
#define SIMPKI_INBOX_H

#include <libpq-fe.h>
#include <stddef.h>

#include "event.h"

/* Record ev->id for consumer. 1 = new, 0 = already handled, -1 = error. */
int sp_inbox_claim(PGconn *tx, const char *consumer, const sp_event *ev,
                   char *errstr, size_t errlen);

/* Check ev->prevhash against the last hash this consumer applied for the
 * subject and advance it. A subject seen for the first time is accepted
 * (a consumer may join late). 1 = linked, 0 = broken (errstr names the
 * expected hash), -1 = error. */
int sp_inbox_chain_advance(PGconn *tx, const char *consumer,
                           const sp_event *ev, char *errstr, size_t errlen);

#endif
