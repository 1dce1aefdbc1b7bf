/* inbox.c - event ids a consumer has applied, and the chain it has seen. */
#include "inbox.h"

#include <stdio.h>
#include <string.h>

#include "db.h"

int sp_inbox_claim(PGconn *tx, const char *consumer, const sp_event *ev,
                   char *errstr, size_t errlen) {
  const char *p[] = {consumer, ev->id, ev->type, ev->subject};
  long n = sp_db_exec(tx,
                      "INSERT INTO inbox (consumer, event_id, event_type, "
                      "subject) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                      4, p, errstr, errlen);
  return n < 0 ? -1 : n == 1;
}

int sp_inbox_chain_advance(PGconn *tx, const char *consumer,
                           const sp_event *ev, char *errstr, size_t errlen) {
  /* One round trip in the usual case: the row moves only when its head is
   * the event's predecessor (or when the subject is new to us). */
  const char *p[] = {consumer, ev->subject, ev->prevhash, ev->hash};
  PGresult *r = sp_db_query(
      tx,
      "INSERT INTO inbox_chain AS c (consumer, subject, last_hash) "
      "VALUES ($1, $2, $4) ON CONFLICT (consumer, subject) DO UPDATE "
      "SET last_hash = EXCLUDED.last_hash WHERE c.last_hash = $3 "
      "RETURNING 1",
      4, p, errstr, errlen);
  if (!r)
    return -1;
  int linked = PQntuples(r) == 1;
  PQclear(r);
  if (linked)
    return 1;
  r = sp_db_query(tx,
                  "SELECT last_hash FROM inbox_chain WHERE consumer = $1 AND "
                  "subject = $2",
                  2, p, errstr, errlen);
  if (!r)
    return -1;
  snprintf(errstr, errlen,
           "hash chain broken for subject %s: prevhash %.16s... does not "
           "follow the last applied event %.16s...",
           ev->subject, ev->prevhash,
           PQntuples(r) ? PQgetvalue(r, 0, 0) : "(none)");
  PQclear(r);
  return 0;
}
