/* outbox.h - the transactional outbox and its relay.
 *
 * sp_outbox_emit() writes an event in the caller's transaction: it locks the
 * subject's chain head, seals the event onto it and inserts it with a NOTIFY.
 * The relay publishes rows of transactions that have all ended, in (xid,
 * seq) order, with an idempotent producer; it moves its producer's cursor
 * (outbox_cursor) past what the broker acknowledged and sleeps on LISTEN
 * between bursts. A crash between publish and cursor store republishes the
 * same events (same ids): consumers drop them in their inbox. */
#ifndef SIMPKI_OUTBOX_H
#define SIMPKI_OUTBOX_H

#include <libpq-fe.h>
#include <stddef.h>

#include "event.h"

#define SP_OUTBOX_CHANNEL "simpki_outbox"

/* producer: the service's name; its relay publishes only its own rows.
 * A subject's events must all go to one topic: emitting a subject to a
 * second topic is an error. */
int sp_outbox_emit(PGconn *tx, const char *producer, const char *topic,
                   sp_event *ev, char *errstr, size_t errlen);
/* Build and emit in one call: a new event (see sp_event_init; data is
 * stolen) from source, written by producer to topic. */
int sp_outbox_publish(PGconn *tx, const char *producer, const char *source,
                      const char *topic, const char *type,
                      const char *subject, const char *correlationid,
                      json_t *data, char *errstr, size_t errlen);

typedef struct sp_relay_conf {
  const char *producer;    /* rows to publish */
  const char *conninfo;    /* the relay keeps its own connection */
  const char *bootstrap;
  const char *kafka_extra; /* default SIMPKI_KAFKA_CONFIG */
  int batch_size;          /* default SIMPKI_RELAY_BATCH or 10000 */
  int idle_wait_ms;        /* wait on NOTIFY at most this long; default 1000 */
} sp_relay_conf;

typedef struct sp_relay sp_relay;

sp_relay *sp_relay_new(const sp_relay_conf *conf, char *errstr,
                       size_t errlen);
/* Publish everything pending now; *published gets the count. */
int sp_relay_drain(sp_relay *r, long *published, char *errstr, size_t errlen);
/* Loop until sp_shutdown_requested() or *stop. */
int sp_relay_run(sp_relay *r, volatile int *stop);
/* The same loop on a thread of its own. */
int sp_relay_start(sp_relay *r, char *errstr, size_t errlen);
void sp_relay_stop(sp_relay *r);
void sp_relay_destroy(sp_relay *r);

#endif
