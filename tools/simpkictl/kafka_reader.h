/* kafka_reader.h - a Kafka consumer for simpkictl's readers of the topics
 * (events dump, watch, audit replay) that never disturbs the services: the
 * caller assign()s partitions itself; no group membership, no offset
 * commits or stores, a throw-away group id. */
#ifndef SIMPKICTL_KAFKA_READER_H
#define SIMPKICTL_KAFKA_READER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

/* Optional callbacks; a NULL log_cb writes librdkafka's log lines as JSON
 * log lines (stderr), as everything else simpkictl logs. opaque is passed
 * to them through rd_kafka_opaque(). */
typedef struct sp_reader_hooks {
  void (*log_cb)(const rd_kafka_t *rk, int level, const char *fac,
                 const char *buf);
  void (*error_cb)(rd_kafka_t *rk, int err, const char *reason, void *opaque);
  void *opaque;
} sp_reader_hooks;

/* The queue a reader asks librdkafka for (see sp_reader_new), as
 * librdkafka setting values; bench/audit's floor reads with the same. */
#define SP_READER_QUEUED_MIN_MESSAGES "1000000"
#define SP_READER_QUEUED_MAX_KBYTES "262144"
/* A read to the end assigns partitions while those assigned and not yet
 * read through hold fewer messages than this, and at least
 * SP_READER_WINDOW_PARTITIONS of them (they spread over the brokers). */
#define SP_READER_WINDOW_MESSAGES 16384
#define SP_READER_WINDOW_PARTITIONS 4

/* purpose names the reader in its group id ("simpkictl-PURPOSE-<random>").
 * $SIMPKI_KAFKA_CONFIG applies first, so it cannot turn commits on.
 * Returns NULL with errstr. */
rd_kafka_t *sp_reader_new(const char *bootstrap, const char *purpose,
                          const sp_reader_hooks *hooks, char *errstr,
                          size_t errlen);
/* The same for sp_reader_read_to_end*: the broker answers a fetch at once
 * rather than waiting for new messages (fetch.wait.max.ms), since such a
 * read stops at the ends it knows; a reader that follows the topics
 * (watch) keeps librdkafka's long wait. */
rd_kafka_t *sp_reader_new_to_end(const char *bootstrap, const char *purpose,
                                 char *errstr, size_t errlen);
#define SP_READER_TO_END_FETCH_WAIT_MS "10"

/* Milliseconds of the monotonic clock, for the readers' deadlines. */
long sp_reader_now_ms(void);

/* Reads topics[0..ntopics) whole: every partition from its first offset
 * to its high watermark as of the call, the way `events dump` does. First
 * on_part (may be NULL) gets each partition with its first offset (above 0
 * when earlier messages are gone: retention, deletion) and its end; then cb
 * each message with its topic (the pointer given in topics), partition and
 * offset, in each partition's order (partitions interleave). The
 * partitions are read a window at a time (SP_READER_WINDOW_MESSAGES), so
 * that what librdkafka fetches ahead of a slow callback stays bounded
 * when a topic has many partitions. payload may
 * be NULL (len 0); a non-zero return of cb stops the read. Gives up after
 * timeout_ms without progress. 0 when read, -1 with errstr when a topic
 * cannot be read (broker unreachable, unknown topic, timeout), -2 when cb
 * stopped it. */
typedef void (*sp_reader_part_cb)(void *opaque, const char *topic,
                                  int32_t partition, int64_t low, int64_t high);
typedef int (*sp_reader_msg_cb)(void *opaque, const char *topic,
                                int32_t partition, int64_t offset,
                                const void *payload, size_t len);
int sp_reader_read_to_end(rd_kafka_t *rk, const char *const *topics,
                          size_t ntopics, long timeout_ms,
                          sp_reader_part_cb on_part, sp_reader_msg_cb cb,
                          void *opaque, char *errstr, size_t errlen);

/* The same, handing each message over whole: cb owns m and must
 * rd_kafka_message_destroy() it, now or later, from any thread. A reader
 * that checks messages on other threads needs no copy of them. */
typedef int (*sp_reader_keep_cb)(void *opaque, const char *topic,
                                 rd_kafka_message_t *m);
int sp_reader_read_to_end_keep(rd_kafka_t *rk, const char *const *topics,
                               size_t ntopics, long timeout_ms,
                               sp_reader_part_cb on_part, sp_reader_keep_cb cb,
                               void *opaque, char *errstr, size_t errlen);

#endif
