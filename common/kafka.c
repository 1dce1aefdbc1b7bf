/* kafka.c - idempotent producer and the inbox-backed consumer loop. */
#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "inbox.h"
#include "log.h"
#include "metrics.h"
#include "shutdown.h"

int sp_kafka_conf_apply(rd_kafka_conf_t *conf, const char *kvlist,
                        char *errstr, size_t errlen) {
  if (!kvlist || !*kvlist)
    return 0;
  char *copy = strdup(kvlist), *save = NULL;
  int rc = 0;
  for (char *kv = strtok_r(copy, ",", &save); kv;
       kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
      snprintf(errstr, errlen,
               "Kafka setting \"%.60s\" must be key=value (in a "
               "comma-separated list)",
               kv);
      rc = -1;
      break;
    }
    *eq = '\0';
    char kerr[256];
    if (rd_kafka_conf_set(conf, kv, eq + 1, kerr, sizeof kerr) !=
        RD_KAFKA_CONF_OK) {
      /* Name the key, not the value: it may be a password. */
      snprintf(errstr, errlen, "Kafka setting %s rejected: %s", kv, kerr);
      rc = -1;
      break;
    }
  }
  free(copy);
  return rc;
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v,
                    char *errstr, size_t errlen) {
  char kerr[256];
  if (rd_kafka_conf_set(conf, k, v, kerr, sizeof kerr) != RD_KAFKA_CONF_OK) {
    snprintf(errstr, errlen, "Kafka setting %s rejected: %s", k, kerr);
    return -1;
  }
  return 0;
}

/* librdkafka logs through us, so its lines are JSON like ours. */
static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                         const char *buf) {
  (void)rk;
  sp_log_level l = level <= 3 ? SP_LOG_ERROR
                   : level <= 5 ? SP_LOG_WARN
                   : level == 6 ? SP_LOG_INFO
                                : SP_LOG_DEBUG;
  sp_log(l, "librdkafka", "facility", fac, "detail", buf, (const char *)NULL);
}

rd_kafka_t *sp_kafka_producer_new(const char *bootstrap, const char *extra,
                                  void (*dr_cb)(rd_kafka_t *,
                                                const rd_kafka_message_t *,
                                                void *),
                                  void *opaque, char *errstr, size_t errlen) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (conf_set(conf, "bootstrap.servers", bootstrap, errstr, errlen) ||
      conf_set(conf, "enable.idempotence", "true", errstr, errlen) ||
      conf_set(conf, "acks", "all", errstr, errlen) ||
      conf_set(conf, "linger.ms", "5", errstr, errlen) ||
      /* Java clients' partitioner: same key, same partition everywhere. */
      conf_set(conf, "partitioner", "murmur2_random", errstr, errlen) ||
      sp_kafka_conf_apply(conf, extra, errstr, errlen)) {
    rd_kafka_conf_destroy(conf);
    return NULL;
  }
  rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
  if (dr_cb)
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  rd_kafka_conf_set_opaque(conf, opaque);
  char kerr[512];
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof kerr);
  if (!rk) {
    snprintf(errstr, errlen, "cannot create Kafka producer: %s", kerr);
    return NULL;
  }
  return rk;
}

int sp_kafka_produce_event(rd_kafka_t *rk, const char *topic, const char *key,
                           const void *value, size_t len, void *msg_opaque,
                           char *errstr, size_t errlen) {
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
        RD_KAFKA_V_VALUE((void *)value, len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADER("content-type", SP_EVENT_CONTENT_TYPE,
                          (ssize_t)strlen(SP_EVENT_CONTENT_TYPE)),
        RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
      return 0;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 50);
      continue;
    }
    snprintf(errstr, errlen, "cannot produce to %s: %s", topic,
             rd_kafka_err2str(err));
    return -1;
  }
}

/* ---- consumer ---- */

struct sp_consumer {
  rd_kafka_t *rk;
  rd_kafka_t *dlq; /* producer for dead letters */
  sp_db *db;
  char *inbox_name;
  const char *const *known_types;
  size_t max_bytes;
  sp_event_handler handler;
  void *opaque;
  long retry_backoff_ms;
  sp_metric *m_ok, *m_dup, *m_dlq, *m_retry, *m_seconds;
};

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
  (void)opaque;
  int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
  char n[16];
  snprintf(n, sizeof n, "%d", parts->cnt);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    sp_info("partitions assigned", "count", n);
    if (cooperative)
      rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
    else
      rd_kafka_assign(rk, parts);
  } else {
    /* Offsets stored so far belong to committed transactions: commit them
     * before another member takes the partitions over. */
    sp_info("partitions revoked", "count", n);
    rd_kafka_commit(rk, NULL, 0);
    if (cooperative)
      rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
    else
      rd_kafka_assign(rk, NULL);
  }
}

sp_consumer *sp_consumer_new(const sp_consumer_conf *cc, sp_db *db,
                             char *errstr, size_t errlen) {
  long max_bytes = (long)cc->max_message_bytes;
  if (!max_bytes && sp_config_long("SIMPKI_MAX_EVENT_BYTES", 0, 1048576, 1024,
                                   100 * 1048576L, &max_bytes, errstr, errlen))
    return NULL;
  const char *extra = cc->kafka_extra, *consumer_extra;
  if (!extra &&
      sp_config_str("SIMPKI_KAFKA_CONFIG", "", &extra, errstr, errlen))
    return NULL;
  if (sp_config_str("SIMPKI_KAFKA_CONSUMER_CONFIG", "", &consumer_extra,
                    errstr, errlen))
    return NULL;
  if (!cc->topics || !cc->topics[0] || !cc->handler || !cc->group_id) {
    snprintf(errstr, errlen, "consumer needs a group id, topics and handler");
    return NULL;
  }
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (conf_set(conf, "bootstrap.servers", cc->bootstrap, errstr, errlen) ||
      conf_set(conf, "group.id", cc->group_id, errstr, errlen) ||
      conf_set(conf, "enable.auto.offset.store", "false", errstr, errlen) ||
      conf_set(conf, "enable.auto.commit", "true", errstr, errlen) ||
      conf_set(conf, "auto.commit.interval.ms", "1000", errstr, errlen) ||
      conf_set(conf, "auto.offset.reset", "earliest", errstr, errlen) ||
      /* A dead member should hand its partitions over in seconds. */
      conf_set(conf, "session.timeout.ms", "10000", errstr, errlen) ||
      conf_set(conf, "heartbeat.interval.ms", "1000", errstr, errlen) ||
      /* A topic its producer creates after we subscribed (sims before
       * inventory's first event) is seen in seconds, not minutes. */
      conf_set(conf, "topic.metadata.refresh.interval.ms", "10000", errstr,
               errlen) ||
      sp_kafka_conf_apply(conf, extra, errstr, errlen) ||
      sp_kafka_conf_apply(conf, consumer_extra, errstr, errlen)) {
    rd_kafka_conf_destroy(conf);
    return NULL;
  }
  rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
  rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
  char kerr[512];
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, kerr, sizeof kerr);
  if (!rk) {
    snprintf(errstr, errlen, "cannot create Kafka consumer: %s", kerr);
    return NULL;
  }
  rd_kafka_poll_set_consumer(rk);
  sp_consumer *c = calloc(1, sizeof *c);
  c->rk = rk;
  c->db = db;
  c->inbox_name = strdup(cc->inbox_name ? cc->inbox_name : cc->group_id);
  c->known_types = cc->known_types;
  c->max_bytes = (size_t)max_bytes;
  c->handler = cc->handler;
  c->opaque = cc->opaque;
  c->retry_backoff_ms = 100;
  c->dlq = sp_kafka_producer_new(cc->bootstrap, extra, NULL, NULL, errstr,
                                 errlen);
  if (!c->dlq) {
    sp_consumer_destroy(c);
    return NULL;
  }
  rd_kafka_topic_partition_list_t *subs =
      rd_kafka_topic_partition_list_new(4);
  for (size_t i = 0; cc->topics[i]; i++)
    rd_kafka_topic_partition_list_add(subs, cc->topics[i],
                                      RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, subs);
  rd_kafka_topic_partition_list_destroy(subs);
  if (err) {
    snprintf(errstr, errlen, "cannot subscribe: %s", rd_kafka_err2str(err));
    sp_consumer_destroy(c);
    return NULL;
  }
  char labels[200];
  const char *help = "Events the consumer loop finished, by result";
#define RESULT_METRIC(res)                                                  \
  (snprintf(labels, sizeof labels, "consumer=\"%s\",result=\"" res "\"",    \
            c->inbox_name),                                                 \
   sp_metrics_counter("simpki_events_handled_total", help, labels))
  c->m_ok = RESULT_METRIC("ok");
  c->m_dup = RESULT_METRIC("duplicate");
  c->m_dlq = RESULT_METRIC("dlq");
  c->m_retry = RESULT_METRIC("retry");
#undef RESULT_METRIC
  snprintf(labels, sizeof labels, "consumer=\"%s\"", c->inbox_name);
  c->m_seconds = sp_metrics_histogram("simpki_event_handle_seconds",
                                      "Time to apply one event", labels,
                                      NULL, 0);
  return c;
}

static int type_known(const sp_consumer *c, const char *type) {
  if (!c->known_types)
    return 1;
  for (size_t i = 0; c->known_types[i]; i++)
    if (!strcmp(c->known_types[i], type))
      return 1;
  return 0;
}

/* Write the message to <topic>.dlq and wait for the broker to take it. */
static int dead_letter(sp_consumer *c, const rd_kafka_message_t *m,
                       const char *reason) {
  const char *topic = rd_kafka_topic_name(m->rkt);
  char dlq[300], part[16], off[24];
  snprintf(dlq, sizeof dlq, "%s.dlq", topic);
  snprintf(part, sizeof part, "%d", m->partition);
  snprintf(off, sizeof off, "%lld", (long long)m->offset);
  sp_warn("event dead-lettered", "topic", topic, "partition", part, "offset",
          off, "reason", reason, "consumer", c->inbox_name);
  size_t len = m->len > c->max_bytes ? c->max_bytes : m->len;
  const char *truncated = len < m->len ? "true" : "false";
  rd_kafka_resp_err_t err = rd_kafka_producev(
      c->dlq, RD_KAFKA_V_TOPIC(dlq), RD_KAFKA_V_KEY(m->key, m->key_len),
      RD_KAFKA_V_VALUE(m->payload, len),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_HEADER("simpki-dlq-reason", reason, -1),
      RD_KAFKA_V_HEADER("simpki-dlq-topic", topic, -1),
      RD_KAFKA_V_HEADER("simpki-dlq-partition", part, -1),
      RD_KAFKA_V_HEADER("simpki-dlq-offset", off, -1),
      RD_KAFKA_V_HEADER("simpki-dlq-consumer", c->inbox_name, -1),
      RD_KAFKA_V_HEADER("simpki-dlq-truncated", truncated, -1),
      RD_KAFKA_V_END);
  if (err) {
    sp_error("cannot write dead letter", "topic", dlq, "error",
             rd_kafka_err2str(err));
    return -1;
  }
  if (rd_kafka_flush(c->dlq, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    sp_error("dead letter not acknowledged", "topic", dlq);
    return -1;
  }
  sp_metric_add(c->m_dlq, 1);
  return 0;
}

typedef struct {
  sp_consumer *c;
  const sp_event *ev;
  int duplicate;
  sp_handle_result result;
} apply_ctx;

static int apply_tx(PGconn *tx, void *arg, char *errstr, size_t errlen) {
  apply_ctx *a = arg;
  a->duplicate = 0;
  a->result = SP_HANDLE_OK;
  int claim = sp_inbox_claim(tx, a->c->inbox_name, a->ev, errstr, errlen);
  if (claim < 0)
    return SP_DB_ERROR;
  if (claim == 0) {
    a->duplicate = 1;
    return SP_DB_OK;
  }
  int linked = sp_inbox_chain_advance(tx, a->c->inbox_name, a->ev, errstr,
                                      errlen);
  if (linked < 0)
    return SP_DB_ERROR;
  if (linked == 0) {
    a->result = SP_HANDLE_REJECT;
    return SP_DB_REJECT;
  }
  a->result = a->c->handler(tx, a->ev, a->c->opaque, errstr, errlen);
  if (a->result == SP_HANDLE_OK)
    return SP_DB_OK;
  return SP_DB_REJECT;
}

/* Put the partition back to this message so the next poll returns it. */
static void rewind_to(sp_consumer *c, const rd_kafka_message_t *m) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt),
                                    m->partition)
      ->offset = m->offset;
  rd_kafka_error_t *e = rd_kafka_seek_partitions(c->rk, l, 5000);
  if (e)
    rd_kafka_error_destroy(e);
  rd_kafka_topic_partition_list_destroy(l);
  sp_metric_add(c->m_retry, 1);
  struct timespec ts = {c->retry_backoff_ms / 1000,
                        (c->retry_backoff_ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  c->retry_backoff_ms =
      c->retry_backoff_ms * 2 > 5000 ? 5000 : c->retry_backoff_ms * 2;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Returns 0 when the message is finished with (offset stored), 1 when it
 * must be seen again. */
static int handle_message(sp_consumer *c, const rd_kafka_message_t *m) {
  char err[512] = "";
  sp_event ev;
  int parsed = 0;
  const char *reason = NULL;
  if (m->len > c->max_bytes) {
    snprintf(err, sizeof err, "message too large: %zu bytes (limit %zu)",
             m->len, c->max_bytes);
    reason = err;
  } else if (sp_event_parse(m->payload, m->len, &ev, err, sizeof err) != 0) {
    reason = err;
  } else {
    parsed = 1;
    if (!type_known(c, ev.type)) {
      snprintf(err, sizeof err, "unknown event type \"%.100s\"", ev.type);
      reason = err;
    } else if (!sp_event_hash_ok(&ev)) {
      snprintf(err, sizeof err,
               "event %s: hash does not match its content (altered)", ev.id);
      reason = err;
    }
  }
  if (!reason) {
    double t0 = now_s();
    apply_ctx a = {c, &ev, 0, SP_HANDLE_OK};
    int rc = sp_db_tx(c->db, apply_tx, &a, err, sizeof err);
    if (rc == SP_DB_OK) {
      sp_metric_add(a.duplicate ? c->m_dup : c->m_ok, 1);
      sp_metric_observe(c->m_seconds, now_s() - t0);
      if (a.duplicate)
        sp_debug("duplicate event skipped", "event_id", ev.id);
    } else if (rc == SP_DB_REJECT && a.result == SP_HANDLE_REJECT) {
      reason = err;
    } else {
      sp_warn("event not applied; will retry", "event_id", ev.id, "subject",
              ev.subject, "error", err);
      sp_event_clear(&ev);
      rewind_to(c, m);
      return 1;
    }
  }
  if (reason && dead_letter(c, m, reason) != 0) {
    if (parsed)
      sp_event_clear(&ev);
    rewind_to(c, m);
    return 1;
  }
  if (parsed)
    sp_event_clear(&ev);
  c->retry_backoff_ms = 100;
  rd_kafka_offset_store(m->rkt, m->partition, m->offset);
  return 0;
}

int sp_consumer_poll_once(sp_consumer *c, int timeout_ms) {
  rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, timeout_ms);
  rd_kafka_poll(c->dlq, 0);
  if (!m)
    return 0;
  if (m->err) {
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
      sp_warn("consumer error", "error", rd_kafka_message_errstr(m));
    int fatal = m->err == RD_KAFKA_RESP_ERR__FATAL;
    rd_kafka_message_destroy(m);
    return fatal ? -1 : 0;
  }
  handle_message(c, m);
  rd_kafka_message_destroy(m);
  return 1;
}

int sp_consumer_run(sp_consumer *c, volatile int *stop) {
  int rc = 0;
  while (!sp_shutdown_requested() && !(stop && *stop)) {
    if (sp_consumer_poll_once(c, 200) < 0) {
      rc = -1;
      break;
    }
  }
  rd_kafka_commit(c->rk, NULL, 0);
  return rc;
}

void sp_consumer_destroy(sp_consumer *c) {
  if (!c)
    return;
  if (c->rk) {
    rd_kafka_commit(c->rk, NULL, 0);
    rd_kafka_consumer_close(c->rk);
    rd_kafka_destroy(c->rk);
  }
  if (c->dlq) {
    rd_kafka_flush(c->dlq, 10000);
    rd_kafka_destroy(c->dlq);
  }
  free(c->inbox_name);
  free(c);
}
