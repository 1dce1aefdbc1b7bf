/* outbox.c - write events in the caller's transaction; relay them to Kafka.
 *
 * Order per subject holds because sp_outbox_emit() locks the subject's chain
 * head: two writers of one subject commit one after the other, so their seq
 * order is their commit order, and the relay publishes in seq order with an
 * idempotent producer (no reordering on retries). */
#include "outbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "shutdown.h"

int sp_outbox_emit(PGconn *tx, const char *producer, const char *topic,
                   sp_event *ev, char *errstr, size_t errlen) {
  /* The no-op update takes the row lock and hands back the current head. */
  const char *p1[] = {ev->subject, topic, SP_EVENT_GENESIS};
  PGresult *r = sp_db_query(
      tx,
      "INSERT INTO event_chain AS c (subject, topic, last_hash, event_count) "
      "VALUES ($1, $2, $3, 0) ON CONFLICT (subject) DO UPDATE "
      "SET event_count = c.event_count RETURNING topic, last_hash",
      3, p1, errstr, errlen);
  if (!r)
    return -1;
  if (strcmp(PQgetvalue(r, 0, 0), topic) != 0) {
    snprintf(errstr, errlen,
             "subject %s belongs to topic %s; refusing to emit it on %s",
             ev->subject, PQgetvalue(r, 0, 0), topic);
    PQclear(r);
    return -1;
  }
  int sealed = sp_event_seal(ev, PQgetvalue(r, 0, 1));
  PQclear(r);
  if (sealed != 0) {
    snprintf(errstr, errlen, "cannot seal event %s: bad chain head", ev->id);
    return -1;
  }
  char *payload = sp_event_serialize(ev, NULL);
  if (!payload) {
    snprintf(errstr, errlen, "cannot serialize event %s", ev->id);
    return -1;
  }
  const char *p2[] = {producer,    topic,        ev->partitionkey, ev->id,
                      ev->type,    ev->subject,  payload,          ev->hash,
                      SP_OUTBOX_CHANNEL};
  r = sp_db_query(
      tx,
      "WITH o AS (INSERT INTO outbox (producer, topic, partition_key, "
      "event_id, event_type, subject, payload) VALUES ($1, $2, $3, $4, $5, "
      "$6, $7)), h AS (UPDATE event_chain SET last_hash = $8, "
      "event_count = event_count + 1 WHERE subject = $6) "
      "SELECT pg_notify($9, $1)",
      9, p2, errstr, errlen);
  free(payload);
  if (!r)
    return -1;
  PQclear(r);
  return 0;
}

/* ---- relay ---- */

struct sp_relay {
  char *producer;
  sp_db *db;
  rd_kafka_t *rk;
  char *bootstrap;
  char *kafka_extra;
  int batch_size;
  int idle_wait_ms;
  int listening;
  volatile int stop;
  pthread_t thread;
  int thread_started;
  sp_metric *published;
  sp_metric *lag;
  sp_metric *failures;
  struct relay_batch *batch; /* the round in flight, for delivery reports */
};

/* Per-message delivery outcome, indexed by the msg_opaque we hand over. */
typedef struct relay_batch {
  char *acked;
  long pending;
} relay_batch;

static void relay_dr(rd_kafka_t *rk, const rd_kafka_message_t *m,
                     void *opaque) {
  (void)rk;
  relay_batch *b = ((sp_relay *)opaque)->batch;
  if (!b)
    return;
  long i = (long)(intptr_t)m->_private;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
    b->acked[i] = 1;
  else
    sp_warn("relay delivery failed", "topic", rd_kafka_topic_name(m->rkt),
            "error", rd_kafka_err2str(m->err));
  b->pending--;
}

static int relay_connect_kafka(sp_relay *r, char *errstr, size_t errlen) {
  /* message.timeout.ms=0: keep retrying through broker outages rather than
   * fail a message and risk publishing its successors first. */
  char extra[1024];
  snprintf(extra, sizeof extra, "message.timeout.ms=0%s%s",
           r->kafka_extra && *r->kafka_extra ? "," : "",
           r->kafka_extra ? r->kafka_extra : "");
  r->rk = sp_kafka_producer_new(r->bootstrap, extra, relay_dr, r, errstr,
                                errlen);
  return r->rk ? 0 : -1;
}

sp_relay *sp_relay_new(const sp_relay_conf *conf, char *errstr,
                       size_t errlen) {
  long batch = conf->batch_size, idle = conf->idle_wait_ms, wait_ms;
  if (!batch && sp_config_long("SIMPKI_RELAY_BATCH", 0, 2000, 1, 100000,
                               &batch, errstr, errlen))
    return NULL;
  if (!idle && sp_config_long("SIMPKI_RELAY_IDLE_MS", 0, 1000, 1, 600000,
                              &idle, errstr, errlen))
    return NULL;
  if (sp_config_long("SIMPKI_DB_CONNECT_WAIT_MS", 0, 30000, 0, 86400000,
                     &wait_ms, errstr, errlen))
    return NULL;
  const char *extra = conf->kafka_extra;
  if (!extra && sp_config_str("SIMPKI_KAFKA_CONFIG", "", &extra, errstr,
                              errlen))
    return NULL;
  sp_relay *r = calloc(1, sizeof *r);
  r->producer = strdup(conf->producer);
  r->bootstrap = strdup(conf->bootstrap);
  r->kafka_extra = strdup(extra);
  r->batch_size = (int)batch;
  r->idle_wait_ms = (int)idle;
  char labels[160];
  snprintf(labels, sizeof labels, "producer=\"%s\"", conf->producer);
  r->published = sp_metrics_counter("simpki_outbox_published_total",
                                    "Events the relay published", labels);
  r->failures = sp_metrics_counter("simpki_outbox_relay_errors_total",
                                   "Relay rounds that failed", labels);
  r->lag = sp_metrics_gauge("simpki_outbox_lag",
                            "Events written to the outbox and not yet "
                            "published",
                            labels);
  r->db = sp_db_open(conf->conninfo, wait_ms, errstr, errlen);
  if (!r->db || relay_connect_kafka(r, errstr, errlen)) {
    sp_relay_destroy(r);
    return NULL;
  }
  return r;
}

static int relay_listen(sp_relay *r, char *errstr, size_t errlen) {
  if (sp_db_ensure(r->db, errstr, errlen))
    return -1;
  if (sp_db_exec(sp_db_conn(r->db), "LISTEN " SP_OUTBOX_CHANNEL, 0, NULL,
                 errstr, errlen) < 0)
    return -1;
  r->listening = 1;
  return 0;
}

/* One round: read up to batch_size unsent rows, publish, wait for the
 * broker's acknowledgements, mark the acknowledged ones sent. */
static long relay_round(sp_relay *r, char *errstr, size_t errlen) {
  PGconn *c = sp_db_conn(r->db);
  char limit[16];
  snprintf(limit, sizeof limit, "%d", r->batch_size);
  const char *p[] = {r->producer, limit};
  PGresult *res = sp_db_query(
      c,
      "SELECT seq, topic, partition_key, payload FROM outbox "
      "WHERE producer = $1 AND sent_at IS NULL ORDER BY seq LIMIT $2",
      2, p, errstr, errlen);
  if (!res)
    return -1;
  long n = PQntuples(res);
  if (n <= 0) {
    PQclear(res);
    sp_metric_set(r->lag, 0);
    return 0;
  }
  relay_batch b = {calloc((size_t)n, 1), n};
  r->batch = &b;
  rd_kafka_t *rk = r->rk;
  long produced = 0;
  for (long i = 0; i < n; i++) {
    if (sp_kafka_produce_event(rk, PQgetvalue(res, (int)i, 1),
                               PQgetvalue(res, (int)i, 2),
                               PQgetvalue(res, (int)i, 3),
                               (size_t)PQgetlength(res, (int)i, 3),
                               (void *)(intptr_t)i, errstr, errlen)) {
      break;
    }
    produced++;
  }
  b.pending -= n - produced;
  while (b.pending > 0 && !sp_shutdown_requested() && !r->stop)
    rd_kafka_poll(rk, 100);
  /* On shutdown with messages still in flight, wait a bounded while. */
  if (b.pending > 0)
    rd_kafka_flush(rk, 5000);
  r->batch = NULL;

  /* Mark the acknowledged prefix only: a row after a failed one stays unsent
   * so the next round republishes it after its predecessor. */
  size_t cap = 16 + (size_t)n * 21;
  char *arr = malloc(cap);
  size_t len = 0;
  long acked = 0;
  arr[len++] = '{';
  for (long i = 0; i < n && b.acked[i]; i++, acked++)
    len += (size_t)snprintf(arr + len, cap - len, "%s%s", i ? "," : "",
                            PQgetvalue(res, (int)i, 0));
  arr[len++] = '}';
  arr[len] = '\0';
  PQclear(res);
  free(b.acked);
  if (acked > 0) {
    const char *mp[] = {arr};
    if (sp_db_exec(c, "UPDATE outbox SET sent_at = now() WHERE seq = ANY($1::bigint[])",
                   1, mp, errstr, errlen) < 0) {
      free(arr);
      return -1;
    }
    sp_metric_add(r->published, (double)acked);
  }
  free(arr);
  if (acked < n && !errstr[0])
    snprintf(errstr, errlen, "%ld of %ld events not acknowledged",
             n - acked, n);
  return acked < n ? -1 : acked;
}

static void relay_update_lag(sp_relay *r) {
  char err[256];
  const char *p[] = {r->producer};
  PGresult *res = sp_db_query(sp_db_conn(r->db),
                              "SELECT count(*) FROM outbox WHERE producer = "
                              "$1 AND sent_at IS NULL",
                              1, p, err, sizeof err);
  if (res) {
    sp_metric_set(r->lag, atof(PQgetvalue(res, 0, 0)));
    PQclear(res);
  }
}

int sp_relay_drain(sp_relay *r, long *published, char *errstr,
                   size_t errlen) {
  *published = 0;
  for (;;) {
    errstr[0] = '\0';
    if (sp_db_ensure(r->db, errstr, errlen))
      return -1;
    long n = relay_round(r, errstr, errlen);
    if (n < 0) {
      sp_metric_add(r->failures, 1);
      return -1;
    }
    *published += n;
    if (n < r->batch_size)
      return 0;
    if (sp_shutdown_requested() || r->stop)
      return 0;
  }
}

/* Sleep until a NOTIFY arrives on the relay's connection or timeout. */
static void relay_wait(sp_relay *r) {
  PGconn *c = sp_db_conn(r->db);
  int fd = PQsocket(c);
  if (fd < 0) {
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    return;
  }
  fd_set set;
  FD_ZERO(&set);
  FD_SET(fd, &set);
  int wait = r->idle_wait_ms < 250 ? r->idle_wait_ms : 250;
  struct timeval tv = {wait / 1000, (wait % 1000) * 1000};
  if (select(fd + 1, &set, NULL, NULL, &tv) > 0) {
    PQconsumeInput(c);
    PGnotify *n;
    while ((n = PQnotifies(c)) != NULL)
      PQfreemem(n);
  }
  rd_kafka_poll(r->rk, 0);
}

int sp_relay_run(sp_relay *r, volatile int *stop) {
  char err[512];
  long backoff_ms = 100;
  struct timespec last_lag = {0, 0};
  while (!sp_shutdown_requested() && !(stop && *stop) && !r->stop) {
    err[0] = '\0';
    long n = 0;
    int rc = (!r->listening || PQstatus(sp_db_conn(r->db)) != CONNECTION_OK)
                 ? relay_listen(r, err, sizeof err)
                 : 0;
    if (rc == 0)
      rc = sp_relay_drain(r, &n, err, sizeof err);
    if (rc != 0) {
      r->listening = 0;
      sp_warn("relay round failed; will retry", "producer", r->producer,
              "error", err);
      struct timespec ts = {backoff_ms / 1000, (backoff_ms % 1000) * 1000000L};
      nanosleep(&ts, NULL);
      backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
      if (rd_kafka_fatal_error(r->rk, NULL, 0)) {
        sp_error("relay producer hit a fatal error; recreating it",
                 "producer", r->producer);
        rd_kafka_destroy(r->rk);
        r->rk = NULL;
        while (relay_connect_kafka(r, err, sizeof err) != 0 &&
               !sp_shutdown_requested())
          nanosleep(&(struct timespec){1, 0}, NULL);
      }
      continue;
    }
    backoff_ms = 100;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - last_lag.tv_sec >= 5) {
      relay_update_lag(r);
      last_lag = now;
    }
    if (n > 0)
      sp_debug("relay published", "producer", r->producer);
    else
      relay_wait(r);
  }
  if (r->rk)
    rd_kafka_flush(r->rk, 10000);
  return 0;
}

static void *relay_thread(void *arg) {
  sp_relay *r = arg;
  sp_relay_run(r, NULL);
  return NULL;
}

int sp_relay_start(sp_relay *r, char *errstr, size_t errlen) {
  int e = pthread_create(&r->thread, NULL, relay_thread, r);
  if (e) {
    snprintf(errstr, errlen, "cannot start relay thread: %s", strerror(e));
    return -1;
  }
  r->thread_started = 1;
  return 0;
}

void sp_relay_stop(sp_relay *r) {
  r->stop = 1;
  if (r->thread_started) {
    pthread_join(r->thread, NULL);
    r->thread_started = 0;
  }
}

void sp_relay_destroy(sp_relay *r) {
  if (!r)
    return;
  sp_relay_stop(r);
  if (r->rk) {
    rd_kafka_flush(r->rk, 10000);
    rd_kafka_destroy(r->rk);
  }
  sp_db_close(r->db);
  free(r->producer);
  free(r->bootstrap);
  free(r->kafka_extra);
  free(r);
}
