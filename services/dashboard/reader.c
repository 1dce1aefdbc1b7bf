/* reader.c - the topic follower (reader.h), in the manner of simpkictl
 * watch: the cluster's topics are looked at every few seconds, and every
 * partition of a wanted topic not yet assigned is assigned from its
 * beginning. */
#include "reader.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "kafka_reader.h"
#include "log.h"

#define METADATA_EVERY_MS 2000
#define METADATA_TIMEOUT_MS 1000
#define POLL_MS 200
#define BURST 500 /* messages folded under one hold of the lock */

const char *const ds_topics[] = {"orders",      "vendors",      "batches",
                                 "registrations", "sims",       "connections",
                                 "notifications", "accounts"};
const size_t ds_ntopics = sizeof ds_topics / sizeof *ds_topics;

struct rpart {
  char topic[64];
  int32_t partition;
  int64_t next; /* after the last message read */
  int64_t end;  /* the end when it was assigned: caught up past it */
};

struct ds_reader {
  ds_shared *sh;
  rd_kafka_t *rk;
  pthread_t thread;
  struct rpart *parts;
  size_t nparts;
  int found_all;
};

static void set_error(ds_reader *r, const char *msg) {
  pthread_mutex_lock(&r->sh->lock);
  if (strcmp(r->sh->kafka_error, msg)) {
    if (msg[0])
      sp_warn("dashboard: kafka", "error", msg);
    else
      sp_info("dashboard: kafka reachable again");
    snprintf(r->sh->kafka_error, sizeof r->sh->kafka_error, "%s", msg);
    ds_shared_changed(r->sh);
  }
  pthread_mutex_unlock(&r->sh->lock);
}

static void on_kafka_error(rd_kafka_t *rk, int err, const char *reason,
                           void *opaque) {
  (void)rk;
  (void)err;
  set_error(opaque, reason);
}

static void debug_log(const rd_kafka_t *rk, int level, const char *fac,
                      const char *buf) {
  (void)rk, (void)level;
  sp_debug("kafka", "facility", fac, "message", buf);
}

static struct rpart *find_part(ds_reader *r, const char *topic, int32_t p) {
  for (size_t i = 0; i < r->nparts; i++)
    if (r->parts[i].partition == p && !strcmp(r->parts[i].topic, topic))
      return &r->parts[i];
  return NULL;
}

static int wanted(const char *topic) {
  for (size_t i = 0; i < ds_ntopics; i++)
    if (!strcmp(ds_topics[i], topic))
      return 1;
  return 0;
}

static void refresh(ds_reader *r) {
  const rd_kafka_metadata_t *md = NULL;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(r->rk, 1, NULL, &md, METADATA_TIMEOUT_MS);
  if (err) {
    char msg[200];
    snprintf(msg, sizeof msg, "cannot read the topics: %s",
             rd_kafka_err2str(err));
    set_error(r, msg);
    return;
  }
  rd_kafka_topic_partition_list_t *add = rd_kafka_topic_partition_list_new(8);
  size_t before = r->nparts, found = 0;
  for (int i = 0; i < md->topic_cnt; i++) {
    const rd_kafka_metadata_topic_t *t = &md->topics[i];
    if (!wanted(t->topic) || t->err || strlen(t->topic) >= 64)
      continue;
    found++;
    for (int j = 0; j < t->partition_cnt; j++) {
      int32_t p = t->partitions[j].id;
      if (find_part(r, t->topic, p))
        continue;
      struct rpart *np = realloc(r->parts, (r->nparts + 1) * sizeof *np);
      if (!np)
        break;
      r->parts = np;
      struct rpart *rp = &r->parts[r->nparts++];
      memset(rp, 0, sizeof *rp);
      snprintf(rp->topic, sizeof rp->topic, "%s", t->topic);
      rp->partition = p;
      int64_t lo = 0, hi = 0;
      rp->end = rd_kafka_query_watermark_offsets(r->rk, t->topic, p, &lo, &hi,
                                                 METADATA_TIMEOUT_MS)
                    ? -1
                    : hi;
      rd_kafka_topic_partition_list_add(add, t->topic, p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
  }
  rd_kafka_metadata_destroy(md);
  r->found_all = found == ds_ntopics;
  if (add->cnt) {
    rd_kafka_error_t *e = rd_kafka_incremental_assign(r->rk, add);
    if (e) {
      char msg[200];
      snprintf(msg, sizeof msg, "cannot assign partitions: %s",
               rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
      r->nparts = before; /* again at the next look */
      set_error(r, msg);
    } else {
      char n[16];
      snprintf(n, sizeof n, "%d", add->cnt);
      sp_info("dashboard: partitions assigned", "count", n);
      set_error(r, "");
    }
  } else {
    set_error(r, "");
  }
  rd_kafka_topic_partition_list_destroy(add);
}

static int caught_up(const ds_reader *r) {
  if (!r->found_all)
    return 0;
  for (size_t i = 0; i < r->nparts; i++)
    if (r->parts[i].end < 0 || r->parts[i].next < r->parts[i].end)
      return 0;
  return 1;
}

/* Fold one message; the caller holds the lock. */
static void fold(ds_reader *r, const rd_kafka_message_t *m) {
  struct rpart *p = find_part(r, rd_kafka_topic_name(m->rkt), m->partition);
  if (p && m->offset + 1 > p->next)
    p->next = m->offset + 1;
  sp_event ev;
  char err[256];
  if (!m->payload ||
      sp_event_parse(m->payload, m->len, &ev, err, sizeof err) != 0) {
    ds_state_unreadable(r->sh->state);
    return;
  }
  ds_state_apply(r->sh->state, &ev);
  sp_event_clear(&ev);
}

static void *run(void *arg) {
  ds_reader *r = arg;
  ds_shared *sh = r->sh;
  long next_refresh = 0;
  while (!sh->stop) {
    long now = sp_reader_now_ms();
    if (now >= next_refresh) {
      refresh(r);
      next_refresh = sp_reader_now_ms() + METADATA_EVERY_MS;
    }
    /* Taken without the lock: polling serves the error callback, which
     * takes it. */
    rd_kafka_message_t *batch[BURST];
    size_t nb = 0;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, POLL_MS);
    while (m) {
      batch[nb++] = m;
      m = nb < BURST ? rd_kafka_consumer_poll(r->rk, 0) : NULL;
    }
    pthread_mutex_lock(&sh->lock);
    for (size_t i = 0; i < nb; i++)
      if (!batch[i]->err)
        fold(r, batch[i]);
    if (nb)
      ds_shared_changed(sh);
    if (!nb && !sh->caught_up && caught_up(r)) {
      sh->caught_up = 1;
      char n[24];
      snprintf(n, sizeof n, "%lu", ds_state_events(sh->state));
      sp_info("dashboard: caught up with the topics", "events", n);
      ds_shared_changed(sh);
    }
    pthread_mutex_unlock(&sh->lock);
    for (size_t i = 0; i < nb; i++) {
      if (batch[i]->err && batch[i]->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        set_error(r, rd_kafka_message_errstr(batch[i]));
      rd_kafka_message_destroy(batch[i]);
    }
  }
  return NULL;
}

ds_reader *ds_reader_start(const char *bootstrap, ds_shared *sh,
                           char *errstr, size_t errlen) {
  ds_reader *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(errstr, errlen, "out of memory");
    return NULL;
  }
  r->sh = sh;
  sp_reader_hooks hooks = {
      .log_cb = debug_log, .error_cb = on_kafka_error, .opaque = r};
  if (!(r->rk = sp_reader_new(bootstrap, "dashboard", &hooks, errstr,
                              errlen))) {
    free(r);
    return NULL;
  }
  rd_kafka_poll_set_consumer(r->rk);
  if (pthread_create(&r->thread, NULL, run, r)) {
    snprintf(errstr, errlen, "cannot start the topic reader");
    rd_kafka_destroy(r->rk);
    free(r);
    return NULL;
  }
  return r;
}

void ds_reader_stop(ds_reader *r) {
  if (!r)
    return;
  pthread_join(r->thread, NULL);
  rd_kafka_consumer_close(r->rk);
  rd_kafka_destroy(r->rk);
  free(r->parts);
  free(r);
}
