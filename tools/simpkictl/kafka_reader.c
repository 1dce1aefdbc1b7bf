/* kafka_reader.c - the read-only consumer of events dump, watch and audit
 * replay. */
#include "kafka_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "config.h"
#include "kafka.h"
#include "log.h"

long sp_reader_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* librdkafka logs to stderr in its own format; keep stderr JSON. */
static void json_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                        const char *buf) {
  (void)rk;
  sp_log(level <= 3   ? SP_LOG_ERROR
         : level <= 4 ? SP_LOG_WARN
                      : SP_LOG_DEBUG,
         "kafka", "facility", fac, "message", buf, (const char *)NULL);
}

static rd_kafka_t *reader_new(const char *bootstrap, const char *purpose,
                              const sp_reader_hooks *hooks, int to_end,
                              char *errstr, size_t errlen) {
  unsigned char rnd[8] = {0};
  if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
    unsigned long t =
        (unsigned long)time(NULL) ^ (unsigned long)sp_reader_now_ms();
    memcpy(rnd, &t, sizeof(t) < sizeof(rnd) ? sizeof(t) : sizeof(rnd));
  }
  char group[96];
  int n = snprintf(group, sizeof(group), "simpkictl-%.32s-", purpose);
  for (size_t i = 0; i < sizeof(rnd); i++)
    n += snprintf(group + n, sizeof(group) - (size_t)n, "%02x", rnd[i]);

  /* Defaults for a reader of whole topics, before SIMPKI_KAFKA_CONFIG so
   * that an operator can change them:
   * - librdkafka stops fetching once its queue holds queued.min.messages
   *   or queued.max.messages.kbytes (64 MB by default), and looks again
   *   only on its next one-second tick: a reader slower than the broker
   *   (the audit replay checks each event) drained the 64 MB in half a
   *   second, then sat idle for the other half. A queue that holds more
   *   than a second of checking never runs dry before the tick.
   * - It needs every broker (the partitions' leaders are spread over
   *   them): all connected from the start, in the background, rather than
   *   one by one as the first requests need them, which held the
   *   partitions' ends back 40 ms in three replays of five.
   * - A read to the end: the broker holds a fetch of partitions at their
   *   end for up to fetch.wait.max.ms (500 ms) in case messages come, and
   *   the partitions the window (rd_fill_window) assigns meanwhile wait
   *   for that fetch to return before their own can go. */
  static const char *const reader_kv[][2] = {
      {"queued.min.messages", SP_READER_QUEUED_MIN_MESSAGES},
      {"queued.max.messages.kbytes", SP_READER_QUEUED_MAX_KBYTES},
      {"enable.sparse.connections", "false"},
      {"fetch.wait.max.ms", SP_READER_TO_END_FETCH_WAIT_MS}};
  size_t nkv = sizeof reader_kv / sizeof *reader_kv - (to_end ? 0 : 1);
  const char *extra = NULL;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  for (size_t i = 0; i < nkv; i++)
    if (rd_kafka_conf_set(conf, reader_kv[i][0], reader_kv[i][1], errstr,
                          errlen) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return NULL;
    }
  /* SIMPKI_KAFKA_CONFIG next (security settings), so the settings that
   * keep the reader read-only below always win. */
  if (sp_config_str("SIMPKI_KAFKA_CONFIG", "", &extra, errstr, errlen) ||
      sp_kafka_conf_apply(conf, extra, errstr, errlen)) {
    rd_kafka_conf_destroy(conf);
    return NULL;
  }
  const char *kv[][2] = {
      {"bootstrap.servers", bootstrap},  {"group.id", group},
      {"enable.auto.commit", "false"},   {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"}, {"client.id", "simpkictl"}};
  for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
    if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], errstr, errlen) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return NULL;
    }
  }
  rd_kafka_conf_set_log_cb(conf, hooks && hooks->log_cb ? hooks->log_cb
                                                        : json_log_cb);
  if (hooks && hooks->error_cb)
    rd_kafka_conf_set_error_cb(conf, hooks->error_cb);
  if (hooks)
    rd_kafka_conf_set_opaque(conf, hooks->opaque);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errlen);
  if (!rk)
    rd_kafka_conf_destroy(conf);
  return rk;
}

rd_kafka_t *sp_reader_new(const char *bootstrap, const char *purpose,
                          const sp_reader_hooks *hooks, char *errstr,
                          size_t errlen) {
  return reader_new(bootstrap, purpose, hooks, 0, errstr, errlen);
}

rd_kafka_t *sp_reader_new_to_end(const char *bootstrap, const char *purpose,
                                 char *errstr, size_t errlen) {
  return reader_new(bootstrap, purpose, NULL, 1, errstr, errlen);
}

/* ---- whole topics to their end at start (audit replay) ---- */

struct rd_part {
  const char *topic;
  int32_t partition;
  int64_t low;  /* the partition's first offset at start */
  int64_t high; /* read stops before this offset */
  int done;
  int assigned; /* in the window */
};

struct rd_all {
  rd_kafka_t *rk;
  struct rd_part *parts;
  size_t nparts, ndone;
  long timeout_ms;
  struct rd_part *last;   /* the last partition found */
  size_t next;            /* the next partition the window takes */
  long window;            /* messages of the window's partitions */
  int nwindow;            /* its partitions */
  sp_reader_msg_cb cb;    /* sees each message; the reader lets it go */
  sp_reader_keep_cb keep; /* or: takes each message whole */
};

/* Both ends of each of the topic's partitions (ends[2i] the first offset,
 * ends[2i + 1] the end; -1 where unknown) in one request per broker for
 * each end: ListOffsets with the logical times -2 (earliest) and -1
 * (latest), what rd_kafka_query_watermark_offsets asks one partition at a
 * time. A topic of many partitions is then two round trips, not two per
 * partition. */
static void rd_query_ends(rd_kafka_t *rk, const char *topic,
                          const rd_kafka_metadata_topic_t *t, int64_t *ends,
                          long deadline) {
  for (int i = 0; i < 2 * t->partition_cnt; i++)
    ends[i] = -1;
  for (int e = 0; e < 2 && t->partition_cnt > 0; e++) {
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(t->partition_cnt);
    for (int i = 0; i < t->partition_cnt; i++)
      rd_kafka_topic_partition_list_add(l, topic, t->partitions[i].id)->offset =
          e ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
    long left = deadline - sp_reader_now_ms();
    if (rd_kafka_offsets_for_times(rk, l, left > 0 ? (int)left : 1) ==
        RD_KAFKA_RESP_ERR_NO_ERROR)
      for (int k = 0; k < l->cnt; k++) {
        const rd_kafka_topic_partition_t *r = &l->elems[k];
        /* In the order asked, as a rule; looked for when not. */
        int i = k < t->partition_cnt && t->partitions[k].id == r->partition
                    ? k
                    : -1;
        for (int j = 0; i < 0 && j < t->partition_cnt; j++)
          if (t->partitions[j].id == r->partition)
            i = j;
        if (i >= 0 && !r->err && r->offset >= 0)
          ends[2 * i + e] = r->offset;
      }
    rd_kafka_topic_partition_list_destroy(l);
  }
}

static int rd_add_topic(struct rd_all *d, const char *topic, char *errstr,
                        size_t errlen) {
  long deadline = sp_reader_now_ms() + d->timeout_ms;
  const rd_kafka_metadata_t *md = NULL;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(d->rk, topic, NULL);
  if (!rkt) {
    snprintf(errstr, errlen, "topic %s: %s", topic,
             rd_kafka_err2str(rd_kafka_last_error()));
    return -1;
  }
  for (;;) {
    long left = deadline - sp_reader_now_ms();
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(d->rk, 0, rkt, &md, left > 0 ? (int)left : 1);
    if (err) {
      snprintf(errstr, errlen, "cannot read metadata of topic %s: %s", topic,
               rd_kafka_err2str(err));
      rd_kafka_topic_destroy(rkt);
      return -1;
    }
    err = md->topic_cnt == 1 ? md->topics[0].err
                             : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    if (!err)
      break;
    rd_kafka_metadata_destroy(md);
    md = NULL;
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        sp_reader_now_ms() + 200 >= deadline) {
      snprintf(errstr, errlen, "topic %s: %s", topic, rd_kafka_err2str(err));
      rd_kafka_topic_destroy(rkt);
      return -1;
    }
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
  }
  rd_kafka_topic_destroy(rkt);
  const rd_kafka_metadata_topic_t *t = &md->topics[0];
  struct rd_part *np = realloc(
      d->parts, (d->nparts + (size_t)t->partition_cnt + 1) * sizeof *d->parts);
  if (!np) {
    rd_kafka_metadata_destroy(md);
    snprintf(errstr, errlen, "out of memory");
    return -1;
  }
  d->parts = np;
  int64_t *ends = calloc(2 * (size_t)(t->partition_cnt ? t->partition_cnt : 1),
                         sizeof *ends);
  if (!ends) {
    rd_kafka_metadata_destroy(md);
    snprintf(errstr, errlen, "out of memory");
    return -1;
  }
  rd_query_ends(d->rk, topic, t, ends, deadline);
  for (int i = 0; i < t->partition_cnt; i++) {
    int32_t p = t->partitions[i].id;
    int64_t lo = ends[2 * i], hi = ends[2 * i + 1];
    long left = deadline - sp_reader_now_ms();
    /* One partition at a time where the batch said nothing of it. */
    rd_kafka_resp_err_t err =
        lo >= 0 && hi >= 0
            ? RD_KAFKA_RESP_ERR_NO_ERROR
            : rd_kafka_query_watermark_offsets(d->rk, topic, p, &lo, &hi,
                                               left > 0 ? (int)left : 1);
    if (err) {
      snprintf(errstr, errlen, "cannot read the end of %s [%d]: %s", topic,
               (int)p, rd_kafka_err2str(err));
      free(ends);
      rd_kafka_metadata_destroy(md);
      return -1;
    }
    struct rd_part *pt = &d->parts[d->nparts++];
    pt->topic = topic;
    pt->partition = p;
    pt->low = lo;
    pt->high = hi;
    pt->done = hi <= lo;
    if (pt->done)
      d->ndone++;
  }
  free(ends);
  rd_kafka_metadata_destroy(md);
  return 0;
}

static struct rd_part *rd_find_part(struct rd_all *d, const char *topic,
                                    int32_t p) {
  /* Messages come in runs of one partition: try the last one first. */
  struct rd_part *last = d->last;
  if (last && last->partition == p && !strcmp(last->topic, topic))
    return last;
  for (size_t i = 0; i < d->nparts; i++)
    if (d->parts[i].partition == p && !strcmp(d->parts[i].topic, topic))
      return d->last = &d->parts[i];
  return NULL;
}

/* ---- the window ----
 * With every partition assigned at once, librdkafka fetches the whole
 * topic as fast as the brokers send it, and a reader slower than that (the
 * audit replay checks each event) holds most of the topic in fetched
 * messages: 120 of the 230 MB a replay of 200,000 events took, pages the
 * kernel must clear first. Assigned a window at a time, the partitions
 * still fetched ahead are only the window's. */

/* SP_READER_WINDOW_*; the unit tests make them small. */
static long reader_window_messages = SP_READER_WINDOW_MESSAGES;
static int reader_window_parts = SP_READER_WINDOW_PARTITIONS;

static int rd_assign(struct rd_all *d, rd_kafka_topic_partition_list_t *l,
                     int add, char *errstr, size_t errlen) {
  if (!l->cnt)
    return 0;
  rd_kafka_error_t *e = add ? rd_kafka_incremental_assign(d->rk, l)
                            : rd_kafka_incremental_unassign(d->rk, l);
  if (!e)
    return 0;
  snprintf(errstr, errlen, "cannot %s partitions: %s",
           add ? "assign" : "unassign", rd_kafka_error_string(e));
  rd_kafka_error_destroy(e);
  return -1;
}

/* Assigns the next partitions while the window has room: from each
 * partition's first offset as found at the start (no offset lookup). */
static int rd_fill_window(struct rd_all *d, char *errstr, size_t errlen) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
  for (; d->next < d->nparts; d->next++) {
    struct rd_part *pt = &d->parts[d->next];
    if (pt->done)
      continue;
    long size = (long)(pt->high - pt->low);
    if (d->nwindow >= reader_window_parts &&
        d->window + size > reader_window_messages)
      break;
    rd_kafka_topic_partition_list_add(l, pt->topic, pt->partition)->offset =
        pt->low;
    pt->assigned = 1;
    d->window += size;
    d->nwindow++;
  }
  int rc = rd_assign(d, l, 1, errstr, errlen);
  rd_kafka_topic_partition_list_destroy(l);
  return rc;
}

/* A partition read through leaves the window, and the next come in. */
static int rd_mark_done(struct rd_all *d, struct rd_part *pt, char *errstr,
                        size_t errlen) {
  if (pt->done)
    return 0;
  pt->done = 1;
  d->ndone++;
  if (!pt->assigned)
    return 0;
  pt->assigned = 0;
  d->window -= (long)(pt->high - pt->low);
  d->nwindow--;
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, pt->topic, pt->partition);
  int rc = rd_assign(d, l, 0, errstr, errlen);
  rd_kafka_topic_partition_list_destroy(l);
  return rc ? rc : rd_fill_window(d, errstr, errlen);
}

/* Control records never reach the application: ask for the position. */
static int rd_check_positions(struct rd_all *d, char *errstr, size_t errlen) {
  rd_kafka_topic_partition_list_t *l =
      rd_kafka_topic_partition_list_new(d->nwindow > 0 ? d->nwindow : 1);
  for (size_t i = 0; i < d->nparts; i++)
    if (d->parts[i].assigned)
      rd_kafka_topic_partition_list_add(l, d->parts[i].topic,
                                        d->parts[i].partition);
  int rc = 0;
  if (l->cnt && rd_kafka_position(d->rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < l->cnt && !rc; i++) {
      struct rd_part *pt =
          rd_find_part(d, l->elems[i].topic, l->elems[i].partition);
      if (pt && l->elems[i].offset >= 0 && l->elems[i].offset >= pt->high)
        rc = rd_mark_done(d, pt, errstr, errlen);
    }
  }
  rd_kafka_topic_partition_list_destroy(l);
  return rc;
}

/* Messages taken from the consumer's queue many at a time: one lock and
 * one look at the clock for a batch instead of each message. */
#define BATCH 256

struct batch {
  rd_kafka_queue_t *q; /* the consumer's queue; NULL: one poll at a time */
  rd_kafka_message_t *m[BATCH];
  int n, at;
};

/* The next message: from the batch, else a new batch of what is there,
 * else one poll that waits up to 100 ms. NULL when none came. */
static rd_kafka_message_t *next_message(struct rd_all *d, struct batch *b) {
  if (b->at < b->n)
    return b->m[b->at++];
  b->n = b->at = 0;
  if (b->q) {
    ssize_t n = rd_kafka_consume_batch_queue(b->q, 0, b->m, BATCH);
    if (n > 0) {
      b->n = (int)n;
      b->at = 1;
      return b->m[0];
    }
  }
  return rd_kafka_consumer_poll(d->rk, 100);
}

/* Drops what is left of the batch (a read that stops early). */
static void batch_drop(struct batch *b) {
  while (b->at < b->n)
    rd_kafka_message_destroy(b->m[b->at++]);
}

static int rd_consume_batches(struct rd_all *d, struct batch *b, void *opaque,
                              char *errstr, size_t errlen);

static int rd_consume(struct rd_all *d, void *opaque, char *errstr,
                      size_t errlen) {
  if (rd_fill_window(d, errstr, errlen))
    return -1;
  struct batch b = {rd_kafka_queue_get_consumer(d->rk), {0}, 0, 0};
  int rc = rd_consume_batches(d, &b, opaque, errstr, errlen);
  batch_drop(&b);
  if (b.q)
    rd_kafka_queue_destroy(b.q);
  return rc;
}

static int rd_consume_batches(struct rd_all *d, struct batch *b, void *opaque,
                              char *errstr, size_t errlen) {
  /* The clock is read when a poll comes back empty and every 1024
   * messages, not per message: a message read since the last reading is
   * progress. */
  long last_progress = sp_reader_now_ms(), last_check = 0;
  int progressed = 0;
  unsigned polls = 0;
  while (d->ndone < d->nparts) {
    rd_kafka_message_t *m = next_message(d, b);
    if (!m || (++polls & 1023) == 0) {
      long now = sp_reader_now_ms();
      if (progressed) {
        last_progress = now;
        progressed = 0;
      } else if (now - last_progress > d->timeout_ms) {
        if (m)
          rd_kafka_message_destroy(m);
        snprintf(errstr, errlen,
                 "timed out after %ld ms without progress; %zu of %zu "
                 "partition(s) read to the end",
                 d->timeout_ms, d->ndone, d->nparts);
        return -1;
      }
      if (!m && now - last_check >= 500) {
        if (rd_check_positions(d, errstr, errlen))
          return -1;
        last_check = sp_reader_now_ms();
      }
    }
    if (!m)
      continue;
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        rd_kafka_message_destroy(m);
        continue;
      }
      int fatal = m->err == RD_KAFKA_RESP_ERR__FATAL ||
                  m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                  m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
      snprintf(errstr, errlen, "%s", rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
      if (fatal)
        return -1;
      sp_debug("kafka consumer error", "error", errstr);
      continue;
    }
    struct rd_part *pt =
        rd_find_part(d, rd_kafka_topic_name(m->rkt), m->partition);
    if (pt && !pt->done && m->offset < pt->high) {
      int last = m->offset >= pt->high - 1, stop;
      if (d->keep) {
        stop = d->keep(opaque, pt->topic, m);
        m = NULL; /* the callback's now */
      } else {
        stop = d->cb(opaque, pt->topic, m->partition, m->offset, m->payload,
                     m->payload ? m->len : 0);
      }
      if (stop) {
        if (m)
          rd_kafka_message_destroy(m);
        snprintf(errstr, errlen, "stopped");
        return -2;
      }
      progressed = 1;
      if (last && rd_mark_done(d, pt, errstr, errlen))
        return -1;
    } else if (pt && m->offset >= pt->high) {
      int rc = rd_mark_done(d, pt, errstr, errlen);
      rd_kafka_message_destroy(m);
      if (rc)
        return -1;
      continue;
    }
    if (m)
      rd_kafka_message_destroy(m);
  }
  return 0;
}

static int read_to_end(rd_kafka_t *rk, const char *const *topics,
                       size_t ntopics, long timeout_ms,
                       sp_reader_part_cb on_part, sp_reader_msg_cb cb,
                       sp_reader_keep_cb keep, void *opaque, char *errstr,
                       size_t errlen) {
  struct rd_all d = {
      .rk = rk, .timeout_ms = timeout_ms, .cb = cb, .keep = keep};
  int rc = 0;
  for (size_t i = 0; i < ntopics && !rc; i++)
    rc = rd_add_topic(&d, topics[i], errstr, errlen);
  for (size_t i = 0; !rc && on_part && i < d.nparts; i++)
    on_part(opaque, d.parts[i].topic, d.parts[i].partition, d.parts[i].low,
            d.parts[i].high);
  if (!rc)
    rc = rd_consume(&d, opaque, errstr, errlen);
  free(d.parts);
  return rc;
}

int sp_reader_read_to_end(rd_kafka_t *rk, const char *const *topics,
                          size_t ntopics, long timeout_ms,
                          sp_reader_part_cb on_part, sp_reader_msg_cb cb,
                          void *opaque, char *errstr, size_t errlen) {
  return read_to_end(rk, topics, ntopics, timeout_ms, on_part, cb, NULL, opaque,
                     errstr, errlen);
}

int sp_reader_read_to_end_keep(rd_kafka_t *rk, const char *const *topics,
                               size_t ntopics, long timeout_ms,
                               sp_reader_part_cb on_part, sp_reader_keep_cb cb,
                               void *opaque, char *errstr, size_t errlen) {
  return read_to_end(rk, topics, ntopics, timeout_ms, on_part, NULL, cb, opaque,
                     errstr, errlen);
}
