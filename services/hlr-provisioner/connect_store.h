/* connect_store.h - the B9 connection requests in PostgreSQL: queued by the
 * consumer, advanced by the connector thread a saved step at a time, and
 * answered with connection.hlr_done / connection.hlr_failed. */
#ifndef HP_CONNECT_STORE_H
#define HP_CONNECT_STORE_H

#include <stddef.h>

#include "connect.h"
#include "db.h"
#include "event.h"

#define HP_TOPIC_CONNECTIONS "connections"

/* Inside the consumer's inbox transaction: queue a connection.requested
 * event. 0 queued (or queued before); 0 too when the SIM cannot take a
 * number (unknown, not provisioned): the request is answered at once with
 * connection.hlr_failed; 1 malformed (errstr: dead-letter it); -1 retry. */
int hp_cstore_enqueue(PGconn *tx, const sp_event *ev, char *errstr,
                      size_t errlen);

/* The oldest request not finished: 1 with *c, 0 none, -1 error. */
int hp_cstore_next(sp_db *db, hp_conn *c, char *errstr, size_t errlen);

/* Save c's step (and, once DONE or FAILED, its answer event). */
int hp_cstore_save(sp_db *db, const hp_conn *c, char *errstr, size_t errlen);

#endif
