/* outbox.c - write events in the caller's transaction; relay them to Kafka.
 *
 * Order per subject holds because sp_outbox_emit() locks the subject's chain
 * head and refuses a writer older (by xid) than the subject's last one, so a
 * subject's events are ordered alike by commit and by (xid, seq); the relay
 * publishes in (xid, seq) order with an idempotent producer (no reordering
 * on retries). */
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
      "SET event_count = c.event_count "
      "RETURNING topic, last_hash, last_xid > pg_current_xact_id()",
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
  /* The relay publishes in xid order, so a subject's events must come from
   * increasing xids. An older transaction that reaches the subject after a
   * newer one committed retries as a new (newer) transaction. */
  if (PQgetvalue(r, 0, 2)[0] == 't') {
    PQclear(r);
    sp_db_set_sqlstate("40001");
    snprintf(errstr, errlen,
             "subject %s was written by a newer transaction; retry",
             ev->subject);
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
      "last_xid = pg_current_xact_id(), event_count = event_count + 1 "
      "WHERE subject = $6) SELECT pg_notify($9, $1)",
      9, p2, errstr, errlen);
  free(payload);
  if (!r)
    return -1;
  PQclear(r);
  return 0;
}

int sp_outbox_publish(PGconn *tx, const char *producer, const char *source,
                      const char *topic, const char *type,
                      const char *subject, const char *correlationid,
                      json_t *data, char *errstr, size_t errlen) {
  sp_event ev;
  if (sp_event_init(&ev, source, type, subject, NULL, correlationid, data,
                    errstr, errlen))
    return -1;
  int rc = sp_outbox_emit(tx, producer, topic, &ev, errstr, errlen);
  sp_event_clear(&ev);
  return rc;
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
  /* Rows in flight, oldest first, in a ring indexed by absolute counters:
   * reading the next rows overlaps with the broker acknowledging the last
   * ones, and the cursor moves over the acknowledged prefix only. */
  struct relay_slot *ring;
  long ring_cap, head, tail;
  char fetch_xid[24], fetch_seq[24];   /* read up to here */
  char cursor_xid[24], cursor_seq[24]; /* acknowledged and stored */
  int session_pid; /* backend whose session settings are applied */
  rd_kafka_topic_t **known; /* topics learnt at start (relay_learn_topics) */
  int nknown;
};

enum { SLOT_IN_FLIGHT = 0, SLOT_ACKED = 1, SLOT_FAILED = 2 };

typedef struct relay_slot {
  char seq[24];
  char xid[24];
  char state;
} relay_slot;

static void relay_dr(rd_kafka_t *rk, const rd_kafka_message_t *m,
                     void *opaque) {
  (void)rk;
  sp_relay *r = opaque;
  long i = (long)(intptr_t)m->_private;
  if (!r->ring || i < r->head || i >= r->tail)
    return;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    r->ring[i % r->ring_cap].state = SLOT_ACKED;
  } else {
    r->ring[i % r->ring_cap].state = SLOT_FAILED;
    sp_warn("relay delivery failed", "topic", rd_kafka_topic_name(m->rkt),
            "error", rd_kafka_err2str(m->err));
  }
}

static void relay_forget_topics(sp_relay *r) {
  for (int i = 0; i < r->nknown; i++)
    rd_kafka_topic_destroy(r->known[i]);
  free(r->known);
  r->known = NULL;
  r->nknown = 0;
}

/* librdkafka holds a producer's first message to a topic it has not used
 * yet until its metadata lookup comes back: 0.8 to 1.8 s measured on the
 * way of the first event of each topic (bench/run pipeline). The
 * topics exist before the services start (the stack and the compose topic
 * job create them), so learn them all now. Best effort: a topic created
 * later is learnt on first use, as before. */
static void relay_learn_topics(sp_relay *r) {
  const rd_kafka_metadata_t *md = NULL;
  rd_kafka_resp_err_t err = rd_kafka_metadata(r->rk, 1, NULL, &md, 2000);
  if (err) {
    sp_warn("relay could not list the topics", "producer", r->producer,
            "error", rd_kafka_err2str(err));
    return;
  }
  r->known = calloc((size_t)md->topic_cnt + 1, sizeof *r->known);
  for (int i = 0; r->known && i < md->topic_cnt; i++) {
    const char *name = md->topics[i].topic;
    if (md->topics[i].err || !strncmp(name, "__", 2))
      continue; /* broken or internal (__consumer_offsets) */
    rd_kafka_topic_t *t = rd_kafka_topic_new(r->rk, name, NULL);
    if (t)
      r->known[r->nknown++] = t;
  }
  rd_kafka_metadata_destroy(md);
  /* Now that the handles exist, one request fills in their partitions. */
  if (r->nknown && !rd_kafka_metadata(r->rk, 0, NULL, &md, 2000))
    rd_kafka_metadata_destroy(md);
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
  if (!r->rk)
    return -1;
  relay_learn_topics(r);
  return 0;
}

sp_relay *sp_relay_new(const sp_relay_conf *conf, char *errstr,
                       size_t errlen) {
  long batch = conf->batch_size, idle = conf->idle_wait_ms, wait_ms;
  if (!batch && sp_config_long("SIMPKI_RELAY_BATCH", 0, 10000, 1, 100000,
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
  r->ring_cap = 4 * batch;
  r->ring = calloc((size_t)r->ring_cap, sizeof *r->ring);
  char labels[160];
  snprintf(labels, sizeof labels, "producer=\"%s\"", conf->producer);
  r->published = sp_metrics_counter("simpki_outbox_published_total",
                                    "Events the relay published", labels);
  r->failures = sp_metrics_counter("simpki_outbox_relay_errors_total",
                                   "Relay drains that failed", labels);
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
  /* One relay per producer publishes; a second instance stands by until
   * the first one's session (and so its lock) ends. */
  const char *p[] = {r->producer};
  PGresult *res = sp_db_query(sp_db_conn(r->db),
                              "SELECT pg_try_advisory_lock(hashtext('simpki "
                              "relay ' || $1))",
                              1, p, errstr, errlen);
  if (!res)
    return -1;
  int leader = PQgetvalue(res, 0, 0)[0] == 't';
  PQclear(res);
  if (!leader) {
    snprintf(errstr, errlen, "another relay publishes for %s; standing by",
             r->producer);
    return 1;
  }
  r->listening = 1;
  return 0;
}

static int relay_load_cursor(sp_relay *r, char *errstr, size_t errlen) {
  const char *p[] = {r->producer};
  PGresult *res = sp_db_query(sp_db_conn(r->db),
                              "SELECT last_xid::text, last_seq FROM "
                              "outbox_cursor WHERE producer = $1",
                              1, p, errstr, errlen);
  if (!res)
    return -1;
  int found = PQntuples(res) == 1;
  snprintf(r->cursor_xid, sizeof r->cursor_xid, "%s",
           found ? PQgetvalue(res, 0, 0) : "0");
  snprintf(r->cursor_seq, sizeof r->cursor_seq, "%s",
           found ? PQgetvalue(res, 0, 1) : "0");
  PQclear(res);
  memcpy(r->fetch_xid, r->cursor_xid, sizeof r->fetch_xid);
  memcpy(r->fetch_seq, r->cursor_seq, sizeof r->fetch_seq);
  return 0;
}

/* The only good plan for the fetch walks outbox_relay_order in order and
 * stops at the limit; right after a burst of writes the statistics say the
 * table is tiny and the planner would sort every pending row instead. The
 * relay's connection runs nothing else that needs a sort. */
static int relay_session(sp_relay *r, char *errstr, size_t errlen) {
  PGconn *c = sp_db_conn(r->db);
  int pid = PQbackendPID(c);
  if (pid == r->session_pid)
    return 0;
  if (sp_db_exec(c, "SET enable_sort = off", 0, NULL, errstr, errlen) < 0 ||
      sp_db_exec(c, "SET enable_bitmapscan = off", 0, NULL, errstr,
                 errlen) < 0)
    return -1;
  r->session_pid = pid;
  return 0;
}

/* Ask (without waiting) for up to batch_size rows after the fetch position,
 * from transactions that have all ended, so no row can later appear behind
 * the cursor. The answer is read by relay_fetch_collect(), which lets the
 * database work while the previous rows are being produced. */
static int relay_fetch_send(sp_relay *r, char *errstr, size_t errlen) {
  char limit[16];
  snprintf(limit, sizeof limit, "%d", r->batch_size);
  const char *p[] = {r->producer, r->fetch_xid, r->fetch_seq, limit};
  if (!PQsendQueryParams(
          sp_db_conn(r->db),
          "SELECT seq, xid::text AS xid_text, topic, partition_key, payload "
          "FROM outbox "
          "WHERE producer = $1 AND (xid, seq) > ($2::xid8, $3::bigint) "
          "AND xid < pg_snapshot_xmin(pg_current_snapshot()) "
          "ORDER BY xid, seq LIMIT $4",
          4, NULL, p, NULL, NULL, 0)) {
    snprintf(errstr, errlen, "cannot read the outbox: %.200s",
             PQerrorMessage(sp_db_conn(r->db)));
    return -1;
  }
  return 0;
}

/* Wait for the rows asked for and move the fetch position past them. */
static PGresult *relay_fetch_collect(sp_relay *r, char *errstr,
                                     size_t errlen) {
  PGresult *res, *last = NULL;
  while ((res = PQgetResult(sp_db_conn(r->db))) != NULL) {
    if (last)
      PQclear(last);
    last = res;
  }
  if (!last || PQresultStatus(last) != PGRES_TUPLES_OK) {
    snprintf(errstr, errlen, "cannot read the outbox: %.200s",
             last ? PQresultErrorMessage(last)
                  : PQerrorMessage(sp_db_conn(r->db)));
    if (last)
      PQclear(last);
    return NULL;
  }
  int n = PQntuples(last);
  if (n > 0) {
    snprintf(r->fetch_seq, sizeof r->fetch_seq, "%s",
             PQgetvalue(last, n - 1, 0));
    snprintf(r->fetch_xid, sizeof r->fetch_xid, "%s",
             PQgetvalue(last, n - 1, 1));
  }
  return last;
}

/* A short text column into a fixed buffer (a bigint or an xid8): no
 * snprintf per row on the relay's hot path. */
static void copy_value(char *dst, size_t cap, const PGresult *res, int row,
                       int col) {
  size_t n = (size_t)PQgetlength(res, row, col);
  if (n >= cap)
    n = cap - 1;
  memcpy(dst, PQgetvalue(res, row, col), n);
  dst[n] = '\0';
}

/* Hand fetched rows to the producer, each with its ring slot. While a
 * fetch is in flight, take in what has arrived of its answer every few
 * hundred rows: libpq reads and parses only when called, and the server
 * stops sending once the socket buffer is full, so without this the next
 * page would be read only after these rows are produced. */
static int relay_produce(sp_relay *r, PGresult *res, int fetching,
                         char *errstr, size_t errlen) {
  int n = PQntuples(res);
  PGconn *c = sp_db_conn(r->db);
  for (int i = 0; i < n; i++) {
    if (fetching && i % 256 == 255 && PQconsumeInput(c))
      (void)PQisBusy(c);
    relay_slot *slot = &r->ring[r->tail % r->ring_cap];
    copy_value(slot->seq, sizeof slot->seq, res, i, 0);
    copy_value(slot->xid, sizeof slot->xid, res, i, 1);
    slot->state = SLOT_IN_FLIGHT;
    long idx = r->tail++;
    if (sp_kafka_produce_event(r->rk, PQgetvalue(res, i, 2),
                               PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
                               (size_t)PQgetlength(res, i, 4),
                               (void *)(intptr_t)idx, errstr, errlen)) {
      slot->state = SLOT_FAILED;
      return -1;
    }
  }
  return 0;
}

/* Move past the acknowledged prefix; store the cursor when store is set. */
static int relay_retire(sp_relay *r, int store, long *published,
                        char *errstr, size_t errlen) {
  long from = r->head;
  while (r->head < r->tail && r->ring[r->head % r->ring_cap].state == SLOT_ACKED)
    r->head++;
  if (r->head > from) {
    relay_slot *last = &r->ring[(r->head - 1) % r->ring_cap];
    memcpy(r->cursor_xid, last->xid, sizeof r->cursor_xid);
    memcpy(r->cursor_seq, last->seq, sizeof r->cursor_seq);
    *published += r->head - from;
    sp_metric_add(r->published, (double)(r->head - from));
  }
  if (!store)
    return 0;
  const char *cp[] = {r->producer, r->cursor_xid, r->cursor_seq};
  return sp_db_exec(sp_db_conn(r->db),
                    "INSERT INTO outbox_cursor (producer, last_xid, last_seq) "
                    "VALUES ($1, $2::xid8, $3::bigint) ON CONFLICT (producer) "
                    "DO UPDATE SET last_xid = EXCLUDED.last_xid, last_seq = "
                    "EXCLUDED.last_seq, updated_at = now() WHERE "
                    "(outbox_cursor.last_xid, outbox_cursor.last_seq) < "
                    "(EXCLUDED.last_xid, EXCLUDED.last_seq)",
                    3, cp, errstr, errlen) < 0
             ? -1
             : 0;
}

/* After a failure: wait for what is in flight, keep the acknowledged
 * prefix, and read again from there next time (after its predecessor). */
static void relay_reset(sp_relay *r, long *published) {
  char err[256];
  for (int i = 0; i < 100 && r->head < r->tail; i++) {
    rd_kafka_poll(r->rk, 100);
    long open = 0;
    for (long k = r->head; k < r->tail; k++)
      open += r->ring[k % r->ring_cap].state == SLOT_IN_FLIGHT;
    if (!open)
      break;
  }
  relay_retire(r, 1, published, err, sizeof err);
  r->head = r->tail;
  memcpy(r->fetch_xid, r->cursor_xid, sizeof r->fetch_xid);
  memcpy(r->fetch_seq, r->cursor_seq, sizeof r->fetch_seq);
}

static void relay_update_lag(sp_relay *r) {
  char err[256];
  const char *p[] = {r->producer};
  PGresult *res = sp_db_query(sp_db_conn(r->db),
                              "SELECT count(*) FROM outbox_pending WHERE "
                              "producer = $1",
                              1, p, err, sizeof err);
  if (res) {
    sp_metric_set(r->lag, atof(PQgetvalue(res, 0, 0)));
    PQclear(res);
  }
}

int sp_relay_drain(sp_relay *r, long *published, char *errstr,
                   size_t errlen) {
  *published = 0;
  errstr[0] = '\0';
  if (sp_db_ensure(r->db, errstr, errlen) || relay_session(r, errstr, errlen))
    return -1;
  /* Read the stored cursor every time: an operator may have moved it back
   * to republish, or another relay instance moved it on. */
  if (relay_load_cursor(r, errstr, errlen))
    return -1;
  int caught_up = 0, asked = 0;
  long since_store = 0;
  for (;;) {
    int stopping = sp_shutdown_requested() || r->stop;
    PGresult *rows = NULL;
    long n = 0;
    if (asked) {
      asked = 0;
      if (!(rows = relay_fetch_collect(r, errstr, errlen)))
        goto failed;
      n = PQntuples(rows);
      caught_up = n < r->batch_size;
    }
    /* The connection is free now: store the cursor when due. */
    long before = *published;
    if (relay_retire(r, 0, published, errstr, errlen))
      goto failed_rows;
    since_store += *published - before;
    if (since_store > 0 &&
        (r->head == r->tail || since_store >= r->batch_size)) {
      if (relay_retire(r, 1, published, errstr, errlen))
        goto failed_rows;
      since_store = 0;
    }
    /* Ask for the next rows before producing these ones. */
    if (!caught_up && !stopping &&
        r->tail - r->head + n + r->batch_size <= r->ring_cap) {
      if (relay_fetch_send(r, errstr, errlen))
        goto failed_rows;
      asked = 1;
    }
    if (rows) {
      int rc = relay_produce(r, rows, asked, errstr, errlen);
      PQclear(rows);
      rows = NULL;
      if (rc)
        goto failed;
    }
    /* Wait only when there is nothing else to do. */
    rd_kafka_poll(r->rk, asked ? 0 : 20);
    if (r->head < r->tail &&
        r->ring[r->head % r->ring_cap].state == SLOT_FAILED) {
      snprintf(errstr, errlen, "the broker refused event seq %s",
               r->ring[r->head % r->ring_cap].seq);
      goto failed;
    }
    int idle = r->head == r->tail;
    if (idle && !asked && (caught_up || stopping)) {
      if (since_store > 0 && relay_retire(r, 1, published, errstr, errlen))
        goto failed;
      return 0;
    }
    if (stopping && !idle && !asked) {
      rd_kafka_flush(r->rk, 5000);
      caught_up = 1;
      if (r->ring[(r->tail - 1) % r->ring_cap].state == SLOT_IN_FLIGHT)
        goto failed;
    }
    continue;
  failed_rows:
    if (rows)
      PQclear(rows);
    goto failed;
  }
failed:
  if (asked) { /* drop the answer still on the wire */
    PGresult *res;
    while ((res = PQgetResult(sp_db_conn(r->db))) != NULL)
      PQclear(res);
  }
  sp_metric_add(r->failures, 1);
  relay_reset(r, published);
  return -1;
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
    if (rc == 1) { /* standby */
      sp_debug("relay standing by", "producer", r->producer, "reason", err);
      nanosleep(&(struct timespec){r->idle_wait_ms / 1000,
                                   (r->idle_wait_ms % 1000) * 1000000L},
                NULL);
      continue;
    }
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
        relay_forget_topics(r);
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
    relay_forget_topics(r);
    rd_kafka_destroy(r->rk);
  }
  sp_db_close(r->db);
  free(r->ring);
  free(r->producer);
  free(r->bootstrap);
  free(r->kafka_extra);
  free(r);
}
