/* kafka_reader.h - a Kafka consumer for simpkictl's readers of the topics
 * (events dump, watch) that never disturbs the services: the caller
 * assign()s partitions itself; no group membership, no offset commits or
 * stores, a throw-away group id. */
#ifndef SIMPKICTL_KAFKA_READER_H
#define SIMPKICTL_KAFKA_READER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* Optional callbacks; a NULL log_cb writes librdkafka's log lines as JSON
 * log lines (stderr), as everything else simpkictl logs. opaque is passed
 * to them through rd_kafka_opaque(). */
typedef struct sp_reader_hooks {
  void (*log_cb)(const rd_kafka_t *rk, int level, const char *fac,
                 const char *buf);
  void (*error_cb)(rd_kafka_t *rk, int err, const char *reason, void *opaque);
  void *opaque;
} sp_reader_hooks;

/* purpose names the reader in its group id ("simpkictl-PURPOSE-<random>").
 * $SIMPKI_KAFKA_CONFIG applies first, so it cannot turn commits on.
 * Returns NULL with errstr. */
rd_kafka_t *sp_reader_new(const char *bootstrap, const char *purpose,
                          const sp_reader_hooks *hooks, char *errstr,
                          size_t errlen);

/* Milliseconds of the monotonic clock, for the readers' deadlines. */
long sp_reader_now_ms(void);

#endif
