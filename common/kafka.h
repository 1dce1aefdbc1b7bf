/* kafka.h - producer and consumer-group loop over librdkafka.
 *
 * Configuration is librdkafka's own: key=value strings. SIMPKI_KAFKA_CONFIG
 * may add "key=value,key=value" pairs (security settings in production).
 *
 * The consumer loop gives each event to a handler inside a database
 * transaction that also records the event id in the inbox; the Kafka offset
 * is stored only after that transaction committed. Bad messages (too large,
 * malformed, missing attribute, unknown type, altered or unlinked hash chain)
 * go to "<topic>.dlq" with the reason and are never applied. */
#ifndef SIMPKI_KAFKA_H
#define SIMPKI_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "db.h"
#include "event.h"

/* Apply "k=v,k=v" (NULL or "" is fine). */
int sp_kafka_conf_apply(rd_kafka_conf_t *conf, const char *kvlist,
                        char *errstr, size_t errlen);

/* Idempotent producer (enable.idempotence=true, acks=all). dr_cb may be
 * NULL. */
rd_kafka_t *sp_kafka_producer_new(const char *bootstrap, const char *extra,
                                  void (*dr_cb)(rd_kafka_t *,
                                                const rd_kafka_message_t *,
                                                void *),
                                  void *opaque, char *errstr, size_t errlen);

/* Produce one serialized event with its partition key and the
 * content-type header; blocks (polling) while the queue is full. */
int sp_kafka_produce_event(rd_kafka_t *rk, const char *topic, const char *key,
                           const void *value, size_t len, void *msg_opaque,
                           char *errstr, size_t errlen);

typedef enum {
  SP_HANDLE_OK = 0,     /* commit */
  SP_HANDLE_RETRY = 1,  /* transient failure: roll back, try again later */
  SP_HANDLE_REJECT = 2  /* permanent: roll back, dead-letter with errstr */
} sp_handle_result;

/* Runs inside the inbox transaction; every event the consumer sees comes
 * here (ignore the types you do not care about by returning OK). */
typedef sp_handle_result (*sp_event_handler)(PGconn *tx, const sp_event *ev,
                                             void *opaque, char *errstr,
                                             size_t errlen);

typedef struct sp_consumer_conf {
  const char *bootstrap;
  const char *group_id;
  const char *inbox_name;        /* default: group_id */
  const char *const *topics;     /* NULL-terminated */
  const char *const *known_types;/* NULL-terminated; NULL = accept all */
  size_t max_message_bytes;      /* default SIMPKI_MAX_EVENT_BYTES / 1 MiB */
  const char *kafka_extra;       /* default SIMPKI_KAFKA_CONFIG */
  sp_event_handler handler;
  void *opaque;
} sp_consumer_conf;

typedef struct sp_consumer sp_consumer;

sp_consumer *sp_consumer_new(const sp_consumer_conf *conf, sp_db *db,
                             char *errstr, size_t errlen);
/* Poll and handle until sp_shutdown_requested() (or *stop when given);
 * then commit stored offsets. Returns 0 on a clean stop. */
int sp_consumer_run(sp_consumer *c, volatile int *stop);
/* Handle at most one message waiting up to timeout_ms; returns 1 when a
 * message was handled, 0 on timeout, -1 on a fatal error. */
int sp_consumer_poll_once(sp_consumer *c, int timeout_ms);
void sp_consumer_destroy(sp_consumer *c);

#endif
