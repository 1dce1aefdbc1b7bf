/* cmd_audit.c - `simpkictl audit replay`: read every event topic from the
 * beginning to its end as of the start (kafka_reader.h, read-only) and prove
 * from the topics alone that nothing was removed, altered or reordered:
 * each message an event whose hash matches its content, each subject's
 * hash chain whole across the topics (audit_chain.c), and the workflow's
 * rules on the events' data (audit_invariants.c), each event against its
 * type's JSON Schema (common/jschema.h), and with --against-db the state
 * the events make against the database's rows (audit_state.c, audit_db.c).
 * Filters choose what is reported; the chains are always checked whole.
 * While the topics are read, worker threads parse, hash and validate the
 * messages in chunks, merged back in reading order (--workers).
 *
 * Exit: 0 clean, 1 findings, 2 usage, 3 the topics (or the database) could
 * not be read. */
#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_chain.h"
#include "audit_db.h"
#include "audit_intern.h"
#include "audit_invariants.h"
#include "audit_map.h"
#include "audit_message.h"
#include "audit_progress.h"
#include "audit_select.h"
#include "audit_state.h"
#include "cli.h"
#include "cmds.h"
#include "config.h"
#include "event.h"
#include "flow.h"
#include "jschema.h"
#include "kafka_reader.h"
#include "log.h"

#define EXIT_UNREADABLE 3
#define DEFAULT_TIMEOUT_MS 10000
#define MAX_TOPICS 64
#define MAX_WORKERS 8

static const char *const default_topics[] = {
    "orders", "vendors",     "batches",       "registrations",
    "sims",   "connections", "notifications", "accounts"};

struct topic_count {
  const char *topic;
  unsigned long messages, events;
  int partitions;
};

struct pipeline;
struct replay {
  const sp_jschema_set *schemas; /* NULL: no schema check */
  audit_checker *checker;        /* the reader's, when it parses itself */
  struct pipeline *pl; /* NULL: the reader parses each message itself */
  /* What is kept of the events: one arena per thread that checks them
   * (arena[MAX_WORKERS] the reader's), freed with the events. */
  audit_arena *arena[MAX_WORKERS + 1];
  audit_event *evs;
  size_t n, cap;
  /* One pointer per subject and per type across the workers' copies:
   * the checks after the read compare them by pointer. */
  audit_intern subjects, types;
  size_t expected;      /* messages the partitions held at the start */
  size_t owning;        /* events with something of their own to free */
  audit_findings early; /* found while reading: not events, lost starts */
  unsigned long not_events;
  struct topic_count topics[MAX_TOPICS];
  size_t ntopics;
  struct topic_count *last_topic;
  const char *last_name; /* the name last_topic was found by */
  unsigned long messages;
  long by_flat, by_tree; /* events each fast path took (the debug log) */
  audit_progress progress;
  int oom;
};

/* Adds what c checked by each fast path to r's counts. */
static void count_paths(struct replay *r, const audit_checker *c) {
  long flat, tree, keyed;
  audit_checker_counts(c, &flat, &tree, &keyed);
  r->by_flat += flat;
  r->by_tree += tree;
}

static void usage_audit(FILE *fp) {
  fprintf(fp, "Usage: simpkictl audit [--help] SUBCOMMAND [OPTIONS]\n\n"
              "Subcommands:\n"
              "  replay  read every event topic and prove nothing was "
              "removed, altered\n"
              "          or reordered, and the workflow's rules held\n\n"
              "Run 'simpkictl audit SUBCOMMAND --help' for its options.\n");
}

static void usage_replay(FILE *fp) {
  fprintf(
      fp,
      "Usage: simpkictl audit replay [--topic T ...] [--order ID|REF]\n"
      "                              [--batch ID] [--sim ICCID]\n"
      "                              [--from DATE] [--to DATE]\n"
      "                              [--format text|json] [--bootstrap B]\n"
      "                              [--timeout-ms N] [--against-db]\n"
      "                              [--workers N] [--progress-ms N]\n\n"
      "Reads each topic from its beginning to its end as of the start, as "
      "a\n"
      "read-only consumer (no consumer group, no offset commits), and "
      "checks:\n"
      "  - every message is an event whose hash matches its content;\n"
      "  - every subject's hash chain, across all topics, runs from the "
      "genesis\n"
      "    with no gap, fork or stranger, and within one topic-partition in "
      "chain\n"
      "    order (redelivered copies of an event are not findings);\n"
      "  - the workflow's rules: no SIM connected before its batch was\n"
      "    provisioned, no ICCID range handed over twice, no sale before "
      "the\n"
      "    SIM's connection, a new vendor's pilot passed before its "
      "production\n"
      "    input files, each batch's counts adding up (a rule whose starting\n"
      "    events were not read, e.g. no output file with --topic sims, says\n"
      "    how many events it did not judge);\n"
      "  - every event against its type's JSON Schema "
      "($SIMPKI_SCHEMA_DIR/events):\n"
      "    a finding invalid with the validator's reason, or unknown type;\n"
      "  - with --against-db, the state the events make against the "
      "database:\n"
      "    sims (state, ctkv_id, shop_id per ICCID), orders, batches and\n"
      "    connection_cases (state), each row that differs a finding drift\n"
      "    (\"table sims row ICCID: state in the database 'in_stock', from "
      "the\n"
      "    events 'at_shop'\"); at most %d rows per table are listed. Run it "
      "when\n"
      "    the outbox is published (nothing in outbox_pending).\n"
      "Each finding names its topic, partition, offset, subject, event id "
      "and\n"
      "type and what is wrong: altered, removed, reordered, forged, "
      "unlinked,\n"
      "malformed, invalid, unknown type, or the rule broken; a partition "
      "whose\n"
      "first messages are gone (retention, deletion) is named as removed; "
      "a drift\n"
      "names its table and row. Prints the verdict (CLEAN or\n"
      "FINDINGS), the events read per topic, the subjects, the events and "
      "SIMs\n"
      "per step per order, and the findings. A replay longer than a second\n"
      "shows its progress on stderr (--progress-ms): events read, the share\n"
      "of the topics, the rate and the time left, then each step after the\n"
      "read.\n\n"
      "Options:\n"
      "  --topic T        topic to read (repeatable; default: orders "
      "vendors\n"
      "                   batches registrations sims connections "
      "notifications\n"
      "                   accounts)\n"
      "  --order ID|REF   report only the events of this order (MobiFone's "
      "order\n"
      "                   id or BCYCP's reference): correlation id or data\n"
      "  --batch ID       report only the events of this batch and its SIMs\n"
      "  --sim ICCID      report only the events of this SIM (and its "
      "ranges)\n"
      "  --from DATE      report only events from this time on (event "
      "time)\n"
      "  --to DATE        report only events before this time; a date "
      "alone\n"
      "                   includes its whole day. DATE: YYYY-MM-DD (a day "
      "in\n"
      "                   Asia/Ho_Chi_Minh) or RFC 3339, e.g.\n"
      "                   2026-11-25T17:30:00Z\n"
      "                   With a filter the chains are still checked "
      "whole;\n"
      "                   findings and counts are those of the selection.\n"
      "  --format F       text (default) or json (one JSON object)\n"
      "  --bootstrap B    bootstrap servers (default "
      "$SIMPKI_KAFKA_BOOTSTRAP)\n"
      "  --timeout-ms N   give up after N ms without progress (default "
      "%d)\n"
      "  --against-db     compare the state the events make with the "
      "database's\n"
      "                   rows ($SIMPKI_DB_URL, read-only, one snapshot);\n"
      "                   drift is reported whatever the selection\n"
      "  --workers N      threads that parse, hash and validate the events "
      "while\n"
      "                   the topics are read (default: one per processor, "
      "at\n"
      "                   most %d; 1: the reader does it alone)\n"
      "  --progress-ms N  the progress on stderr: the first line after N ms, "
      "then\n"
      "                   at most one every N ms (default %d; 0: a line per "
      "event)\n"
      "  --help           show this help\n\n"
      "Exit status: 0 clean, 1 findings, 2 usage (or the schemas cannot be "
      "loaded),\n"
      "3 the topics or the database could not be read (Kafka unreachable, "
      "a topic\n"
      "missing, PostgreSQL unreachable).\n\n"
      "Environment:\n"
      "  SIMPKI_KAFKA_BOOTSTRAP  default bootstrap servers\n"
      "  SIMPKI_KAFKA_CONFIG     extra librdkafka settings "
      "\"key=value,key=value\"\n"
      "  SIMPKI_SCHEMA_DIR       folder holding events/, the event schemas "
      "(default\n"
      "                          %s/schemas)\n"
      "  SIMPKI_DB_URL           the database, for --against-db\n",
      AUDIT_DRIFT_MAX, DEFAULT_TIMEOUT_MS, MAX_WORKERS, AUDIT_PROGRESS_EVERY_MS,
      SIMPKI_SOURCE_DIR);
}

static struct topic_count *topic_of(struct replay *r, const char *topic) {
  /* Messages come in runs from one topic, each naming it with the same
   * pointer: try the last one first. */
  if (r->last_topic && topic == r->last_name)
    return r->last_topic;
  for (size_t i = 0; i < r->ntopics; i++)
    if (r->topics[i].topic == topic || !strcmp(r->topics[i].topic, topic)) {
      r->last_name = topic;
      return r->last_topic = &r->topics[i];
    }
  return NULL;
}

static void progress(struct replay *r, int last) {
  /* The clock is read every 256 messages, not for each (but for each
   * with --progress-ms 0). */
  if (!last && (r->messages & 255) && r->progress.every_ms)
    return;
  char line[160];
  if (audit_progress_line(&r->progress, r->messages, r->expected,
                          sp_reader_now_ms(), last, line, sizeof line))
    fprintf(stderr, "%s\n", line);
}

/* After the read of a long replay: the step that starts now. */
static void progress_step(const struct replay *r, const char *what) {
  char line[160];
  if (audit_progress_step(&r->progress, what, line, sizeof line))
    fprintf(stderr, "%s\n", line);
}

/* A partition whose first offset is above 0 lost its first messages
 * (retention, deletion): the topics can no longer prove them. */
static void on_partition(void *opaque, const char *topic, int32_t partition,
                         int64_t low, int64_t high) {
  struct replay *r = opaque;
  struct topic_count *tc = topic_of(r, topic);
  if (tc)
    tc->partitions++;
  if (high > low && r->expected < (size_t)1 << 26)
    r->expected += (size_t)(high - low);
  if (low > 0 &&
      audit_findings_add(&r->early, AUDIT_REMOVED, NULL, NULL, AUDIT_NONE,
                         topic, partition, low,
                         "the partition starts at offset %lld (ends at %lld): "
                         "its first %lld message(s) are gone (retention or "
                         "deletion)",
                         (long long)low, (long long)high, (long long)low))
    r->oom = 1;
}

/* Adds a parsed message to the replay, in reading order; takes p's
 * allocations. Non-zero when out of memory. */
static int merge_one(struct replay *r, const char *topic, int32_t partition,
                     int64_t offset, audit_parsed *p) {
  struct topic_count *tc = topic_of(r, topic);
  r->messages++;
  if (tc)
    tc->messages++;
  progress(r, 0);
#ifdef SIMPKI_AUDIT_STAGES
  if (p->status == AUDIT_PARSED_SKIPPED) {
    audit_parsed_clear(p);
    return 0;
  }
#endif
  if (p->status) {
    r->not_events++;
    int rc =
        audit_findings_add(&r->early, AUDIT_MALFORMED, NULL, NULL, AUDIT_NONE,
                           topic, partition, offset, "not an event: %s",
                           p->status == 1 ? "the message is empty" : p->why);
    audit_parsed_clear(p);
    return rc;
  }
  if (tc)
    tc->events++;
  if (r->n == r->cap) {
    /* As many as the partitions held at the start, at first: no copy of
     * a large array while reading. Huge pages asked for (the array is
     * written once, through): a small page costs a fault each 4 KiB. */
    size_t cap = r->cap ? r->cap * 2 : r->expected > 1024 ? r->expected : 1024;
    audit_event *v = audit_map_table_new(cap * sizeof *v);
    if (!v) {
      audit_parsed_clear(p);
      return -1;
    }
    if (r->n)
      memcpy(v, r->evs, r->n * sizeof *v);
    audit_map_table_free(r->evs, r->cap * sizeof *r->evs);
    r->evs = v;
    r->cap = cap;
  }
  audit_event *e = &r->evs[r->n++];
  memset(e, 0, sizeof *e);
  e->topic = tc ? tc->topic : topic;
  e->partition = partition;
  e->offset = offset;
  e->id = p->id;
  e->subject = p->subject;
  e->type = p->type;
  if (p->in_arena) { /* the arenas live as long as the events */
    const char *s = audit_intern_get(&r->subjects, p->subject),
               *t = audit_intern_get(&r->types, p->type);
    if (!s || !t) {
      r->n--;
      audit_parsed_clear(p);
      return -1;
    }
    e->subject = s;
    e->type = t;
  }
  e->time = p->time;
  e->correlationid = p->correlationid;
  e->prevhash = p->prevhash;
  e->hash = p->hash;
  e->content_hash = p->content_hash;
  e->data = p->data;
  e->time_ms = p->time_ms;
  e->in_arena = p->in_arena != 0;
  r->owning += !e->in_arena || audit_data_owns(p->data);
  e->h_id = p->h_id;
  e->h_subject = p->h_subject;
  e->h_hash = p->h_hash;
  e->h_prev = p->h_prev;
  e->hashed = 1;
  int rc = 0;
  if (p->schema_rc)
    rc = audit_findings_add(
        &r->early, p->schema_rc < 0 ? AUDIT_UNKNOWN_TYPE : AUDIT_INVALID, NULL,
        r->evs, r->n - 1, NULL, 0, 0, "%s",
        p->schema_rc < 0 ? "no JSON Schema for this event type" : p->why);
  free(p->why);
  memset(p, 0, sizeof *p); /* strs and data now belong to the event */
  return rc;
}

/* ---- the reading, with workers ----
 * The reader's thread puts the messages into chunks as librdkafka gave
 * them (no copy); workers parse, hash and validate a chunk each; the
 * reader merges the chunks in the order they were read and lets their
 * messages go. At most QUEUE chunks are in flight. */
#define CHUNK 512
#define QUEUE 16

struct chunk {
  long seq;
  int n, state; /* 0 free, 1 filling, 2 queued, 3 working, 4 done */
  int oom;
  const char *topic[CHUNK];
  rd_kafka_message_t *msg[CHUNK];
  audit_parsed out[CHUNK];
};

struct pipeline {
  pthread_mutex_t mu;
  pthread_cond_t work, done;
  struct chunk ring[QUEUE];
  struct chunk *filling; /* the reader's, not yet queued; NULL: none */
  long next_seq;         /* the next chunk to fill */
  long merge_seq;        /* the next chunk to merge */
  int stop;
  int nworkers;
  pthread_t tid[MAX_WORKERS];
  audit_checker *checker[MAX_WORKERS];
  struct replay *r;
};

struct worker_arg {
  struct pipeline *pl;
  int k;
};
static struct worker_arg worker_args[MAX_WORKERS];

static void *worker(void *arg) {
  struct worker_arg *wa = arg;
  struct pipeline *pl = wa->pl;
  pthread_mutex_lock(&pl->mu);
  for (;;) {
    struct chunk *c = NULL;
    for (long s = pl->merge_seq; s < pl->next_seq && !c; s++)
      if (pl->ring[s % QUEUE].state == 2)
        c = &pl->ring[s % QUEUE];
    if (!c) {
      if (pl->stop)
        break;
      pthread_cond_wait(&pl->work, &pl->mu);
      continue;
    }
    c->state = 3;
    pthread_mutex_unlock(&pl->mu);
    for (int i = 0; i < c->n; i++)
      if (audit_message_check(pl->checker[wa->k], c->msg[i]->payload,
                              c->msg[i]->payload ? c->msg[i]->len : 0,
                              &c->out[i])) {
        c->oom = 1;
        for (int j = i + 1; j < c->n; j++)
          memset(&c->out[j], 0, sizeof c->out[j]);
        break;
      }
    pthread_mutex_lock(&pl->mu);
    c->state = 4;
    pthread_cond_broadcast(&pl->done);
  }
  pthread_mutex_unlock(&pl->mu);
  return NULL;
}

/* Merges the oldest chunk once done (waiting for it when wait). Returns
 * 1 merged, 0 nothing to merge, -1 out of memory. Called with mu held. */
static int merge_oldest(struct pipeline *pl, int wait) {
  if (pl->merge_seq == pl->next_seq)
    return 0;
  struct chunk *c = &pl->ring[pl->merge_seq % QUEUE];
  if (c->state == 1)
    return 0;
  while (c->state != 4) {
    if (!wait)
      return 0;
    pthread_cond_wait(&pl->done, &pl->mu);
  }
  pthread_mutex_unlock(&pl->mu);
  int rc = c->oom ? -1 : 0;
  for (int i = 0; i < c->n; i++) {
    if (!rc && merge_one(pl->r, c->topic[i], c->msg[i]->partition,
                         c->msg[i]->offset, &c->out[i]))
      rc = -1;
    audit_parsed_clear(&c->out[i]);
    rd_kafka_message_destroy(c->msg[i]);
  }
  pthread_mutex_lock(&pl->mu);
  c->state = 0;
  c->n = 0;
  c->oom = 0;
  pl->merge_seq++;
  return rc ? -1 : 1;
}

static int pipeline_push(struct pipeline *pl) {
  struct chunk *c = pl->filling;
  pl->filling = NULL;
  pthread_mutex_lock(&pl->mu);
  c->state = 2;
  pthread_cond_signal(&pl->work);
  int rc = 0;
  /* Merge what is done; keep a free chunk for the next messages. */
  while (rc >= 0 &&
         (rc = merge_oldest(pl, pl->next_seq - pl->merge_seq >= QUEUE)) > 0)
    ;
  pthread_mutex_unlock(&pl->mu);
  return rc < 0 ? -1 : 0;
}

static int on_message(void *opaque, const char *topic, rd_kafka_message_t *m) {
  struct replay *r = opaque;
  if (!r->pl) {
    audit_parsed p;
    int rc = audit_message_check(r->checker, m->payload,
                                 m->payload ? m->len : 0, &p) ||
             merge_one(r, topic, m->partition, m->offset, &p);
    rd_kafka_message_destroy(m);
    if (rc) {
      audit_parsed_clear(&p);
      r->oom = 1;
      return 1;
    }
    return 0;
  }
  struct pipeline *pl = r->pl;
  struct chunk *c = pl->filling;
  if (!c) {
    /* Free: pipeline_push left fewer than QUEUE chunks in flight. */
    pthread_mutex_lock(&pl->mu);
    c = pl->filling = &pl->ring[pl->next_seq % QUEUE];
    c->state = 1;
    c->seq = pl->next_seq++;
    pthread_mutex_unlock(&pl->mu);
  }
  c->topic[c->n] = topic;
  c->msg[c->n] = m;
  if (++c->n == CHUNK && pipeline_push(pl)) {
    r->oom = 1;
    return 1;
  }
  return 0;
}

/* Starts workers (one per processor, at most MAX_WORKERS); 0 workers
 * when there is one processor: the reader parses itself. */
static int pipeline_start(struct pipeline *pl, struct replay *r, long workers) {
  memset(pl, 0, sizeof *pl);
  long ncpu = workers > 0 ? workers : sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu <= 1)
    return 0;
  int n = ncpu > MAX_WORKERS ? MAX_WORKERS : (int)ncpu;
  pthread_mutex_init(&pl->mu, NULL);
  pthread_cond_init(&pl->work, NULL);
  pthread_cond_init(&pl->done, NULL);
  pl->r = r;
  json_object_seed(0);
  for (int k = 0; k < n; k++) {
    if (!(pl->checker[k] = audit_checker_new(r->schemas)))
      return -1;
    if (!(r->arena[k] = audit_arena_new())) {
      audit_checker_free(pl->checker[k]);
      return -1;
    }
    audit_checker_set_arena(pl->checker[k], r->arena[k]);
    worker_args[k] = (struct worker_arg){pl, k};
    if (pthread_create(&pl->tid[k], NULL, worker, &worker_args[k])) {
      audit_checker_free(pl->checker[k]);
      break;
    }
    pl->nworkers++;
  }
  if (!pl->nworkers)
    return -1;
  r->pl = pl;
  return 0;
}

/* Merges what is left (unless failed), stops the workers. */
static int pipeline_finish(struct pipeline *pl) {
  if (!pl->nworkers)
    return 0;
  pthread_mutex_lock(&pl->mu);
  if (pl->filling) {
    pl->filling->state = 2;
    pl->filling = NULL;
    pthread_cond_broadcast(&pl->work);
  }
  int rc = 0;
  while (rc >= 0 && (rc = merge_oldest(pl, 1)) > 0)
    ;
  pl->stop = 1;
  pthread_cond_broadcast(&pl->work);
  pthread_mutex_unlock(&pl->mu);
  for (int k = 0; k < pl->nworkers; k++) {
    pthread_join(pl->tid[k], NULL);
    count_paths(pl->r, pl->checker[k]);
    audit_checker_free(pl->checker[k]);
  }
  for (int i = 0; i < QUEUE; i++) /* what a failed merge left */
    for (int j = 0; j < pl->ring[i].n; j++) {
      audit_parsed_clear(&pl->ring[i].out[j]);
      rd_kafka_message_destroy(pl->ring[i].msg[j]);
    }
  pthread_mutex_destroy(&pl->mu);
  pthread_cond_destroy(&pl->work);
  pthread_cond_destroy(&pl->done);
  pl->r->pl = NULL;
  pl->nworkers = 0;
  return rc < 0 ? -1 : 0;
}

static void replay_free(struct replay *r) {
  audit_checker_free(r->checker);
  /* Events wholly in the arenas go with them: no pass over them all. */
  for (size_t i = 0; r->owning && i < r->n; i++) {
    audit_event *e = &r->evs[i];
    if (!e->in_arena)
      free((void *)e->id); /* all its strings: one allocation */
    audit_data_free((audit_data *)e->data);
  }
  audit_map_table_free(r->evs, r->cap * sizeof *r->evs);
  audit_intern_free(&r->subjects);
  audit_intern_free(&r->types);
  for (int k = 0; k <= MAX_WORKERS; k++)
    audit_arena_free(r->arena[k]);
  audit_findings_free(&r->early);
}

/* ---- counts per order and step ---- */

struct order_counts {
  const char *order; /* "-" for events of no order */
  const char *bcycp_ref;
  sp_flow flow;
};

static const char *order_of(const audit_event *e) {
  if (!strncmp(e->correlationid, "ORD-", 4))
    return e->correlationid;
  const char *o = audit_data_str(e, "order_id");
  return o ? o : "-";
}

static int by_order(const void *a, const void *b) {
  const struct order_counts *x = a, *y = b;
  int xn = !strcmp(x->order, "-"), yn = !strcmp(y->order, "-");
  if (xn != yn)
    return xn - yn;
  return strcmp(x->order, y->order);
}

/* ---- the report ---- */

static void ev_json(json_t *o, const audit_event *evs, const audit_finding *f) {
  json_object_set_new(o, "topic", json_string(f->topic ? f->topic : ""));
  json_object_set_new(o, "partition", json_integer(f->partition));
  json_object_set_new(o, "offset", json_integer(f->offset));
  if (f->ev != AUDIT_NONE) {
    const audit_event *e = &evs[f->ev];
    json_object_set_new(o, "subject", json_string(e->subject));
    json_object_set_new(o, "id", json_string(e->id));
    json_object_set_new(o, "type", json_string(e->type));
  }
}

/* A kept integer field for sp_flow_sims_by (-1 when there is none). */
static long long kept_int(void *data, const char *field) {
  long long v;
  return audit_data_get_int(data, field, &v) ? v : -1;
}

static int is_reported(const audit_finding *f, const char *sel) {
  return f->ev == AUDIT_NONE || sel[f->ev];
}

/* The selection, its subjects, and the counts per order and step: read
 * only from the events, so it runs beside the invariants' check. */
struct counts {
  const audit_event *evs;
  size_t n;
  const audit_filter *flt;
  char *sel; /* per event: 1 when selected */
  struct order_counts *oc;
  size_t noc, nsel, nsel_subjects;
  int rc; /* -1 out of memory */
};

/* The last types met and their place in the flow, by address: the
 * replay keeps one copy of each type's name (audit_intern.h). */
#define TYPE_CACHE 8
struct type_cache {
  const char *name[TYPE_CACHE];
  const sp_flow_type *type[TYPE_CACHE];
  unsigned next;
};

static const sp_flow_type *flow_type(struct type_cache *c, const char *name) {
  for (int k = 0; k < TYPE_CACHE; k++)
    if (c->name[k] == name && name)
      return c->type[k];
  const sp_flow_type *t = sp_flow_type_of(name);
  c->name[c->next] = name;
  c->type[c->next] = t;
  c->next = (c->next + 1) % TYPE_CACHE;
  return t;
}

static void *count_selection(void *arg) {
  struct counts *c = arg;
  struct type_cache types = {{0}, {0}, 0};
  audit_map subj, om;
  audit_map_init(&subj);
  audit_map_init(&om);
  const char *last_o = NULL;
  size_t last_k = 0;
  c->rc = -1;
  size_t cap = 0;
  c->sel = calloc(c->n ? c->n : 1, 1);
  if (!c->sel)
    goto done;
  for (size_t i = 0; i < c->n; i++) {
    const audit_event *e = &c->evs[i];
    if (i + 8 < c->n) { /* what the next events' counts read */
      __builtin_prefetch(c->evs[i + 8].data);
      __builtin_prefetch(c->evs[i + 8].correlationid);
    }
    if (!audit_filter_match(c->flt, e))
      continue;
    c->sel[i] = 1;
    if (e->copy_of != AUDIT_NONE)
      continue;
    c->nsel++;
    int added = audit_map_put_h(
        &subj, e->subject, audit_event_key_hash(e, e->h_subject, e->subject), i,
        NULL);
    if (added < 0)
      goto done;
    c->nsel_subjects += (size_t)added;
    const char *o = order_of(e);
    size_t k = last_k;
    /* An order's events come in runs: the last one is tried first. */
    if (!last_o || (o != last_o && strcmp(o, last_o))) {
      if (!audit_map_get(&om, o, &k)) {
        if (c->noc == cap) { /* orders are few beside events */
          size_t ncap = cap ? 2 * cap : 16;
          struct order_counts *v = realloc(c->oc, ncap * sizeof *v);
          if (!v)
            goto done;
          c->oc = v;
          cap = ncap;
        }
        k = c->noc++;
        c->oc[k].order = o;
        c->oc[k].bcycp_ref = NULL;
        sp_flow_init(&c->oc[k].flow);
        if (audit_map_put(&om, o, k, NULL) < 0)
          goto done;
      }
      last_o = o;
      last_k = k;
    }
    if (!c->oc[k].bcycp_ref)
      c->oc[k].bcycp_ref = audit_data_str(e, "bcycp_ref");
    const sp_flow_type *ft = flow_type(&types, e->type);
    sp_flow_count_type(&c->oc[k].flow, ft, e->time_ms,
                       sp_flow_type_sims(ft, kept_int, (void *)e->data));
  }
  if (c->noc)
    qsort(c->oc, c->noc, sizeof *c->oc, by_order);
  c->rc = 0;
done:
  audit_map_free(&subj);
  audit_map_free(&om);
  return NULL;
}

/* The replay holds what librdkafka fetched until the workers are done
 * with it, and frees it from the reading thread. With glibc's defaults
 * each broker thread allocates from its own arena, a freed fetch buffer
 * above the (moving) mmap threshold is unmapped and the top of a heap is
 * given back, so nearly every fetch lands in fresh pages that the kernel
 * must clear first (a sixth of the replay's processor time on the dev
 * VM). One arena, a fixed 32 MiB threshold (the most glibc takes) and no
 * trimming let the next fetches reuse the memory the last ones freed.
 * Before librdkafka's threads start; a one-shot process, so the heap it
 * keeps is given back at exit. Advice: a libc without mallopt's options
 * only runs slower. */
static void heap_for_replay(void) {
  (void)mallopt(M_ARENA_MAX, 1);
  (void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
  (void)mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

/* Debug log of how long each phase took (SIMPKI_LOG_LEVEL=debug): where
 * a long replay spends its time. */
static void phase_done(long *since_ms, const char *phase) {
  long now = sp_reader_now_ms();
  char ms[24];
  snprintf(ms, sizeof ms, "%ld", now - *since_ms);
  sp_debug("audit replay phase done", "phase", phase, "ms", ms);
  *since_ms = now;
}

static int replay_run(int argc, char **argv) {
  static const struct option opts[] = {
      {"topic", required_argument, NULL, 't'},
      {"order", required_argument, NULL, 'o'},
      {"batch", required_argument, NULL, 'B'},
      {"sim", required_argument, NULL, 's'},
      {"from", required_argument, NULL, 'f'},
      {"to", required_argument, NULL, 'u'},
      {"format", required_argument, NULL, 'F'},
      {"bootstrap", required_argument, NULL, 'b'},
      {"timeout-ms", required_argument, NULL, 'T'},
      {"against-db", no_argument, NULL, 'D'},
      {"workers", required_argument, NULL, 'W'},
      {"progress-ms", required_argument, NULL, 'P'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *topics[MAX_TOPICS];
  size_t ntopics = 0;
  const char *bootstrap = NULL, *format = "text";
  long timeout_ms = DEFAULT_TIMEOUT_MS;
  int against_db = 0;
  long workers = 0; /* 0: one per processor */
  long progress_ms = AUDIT_PROGRESS_EVERY_MS;
  audit_filter flt;
  audit_filter_init(&flt);
  const char *from = NULL, *to = NULL;
  optind = 0;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    switch (ch) {
    case 't':
      if (ntopics == MAX_TOPICS || !*optarg) {
        fprintf(stderr, "simpkictl audit replay: %s\n",
                *optarg ? "too many topics" : "empty topic name");
        return SP_EXIT_USAGE;
      }
      for (size_t i = 0; i < ntopics; i++)
        if (!strcmp(topics[i], optarg)) {
          fprintf(stderr, "simpkictl audit replay: topic %s given twice\n",
                  optarg);
          return SP_EXIT_USAGE;
        }
      topics[ntopics++] = optarg;
      break;
    case 'o':
      flt.order = optarg;
      break;
    case 'B':
      flt.batch = optarg;
      break;
    case 's':
      flt.sim = optarg;
      break;
    case 'f':
      from = optarg;
      break;
    case 'u':
      to = optarg;
      break;
    case 'F':
      format = optarg;
      break;
    case 'b':
      bootstrap = optarg;
      break;
    case 'T':
      if (sp_cli_long(optarg, 1, 86400000, &timeout_ms)) {
        fprintf(stderr,
                "simpkictl audit replay: --timeout-ms must be a number of "
                "milliseconds between 1 and 86400000, not \"%s\"\n",
                optarg);
        return SP_EXIT_USAGE;
      }
      break;
    case 'P':
      if (sp_cli_long(optarg, 0, 3600000, &progress_ms)) {
        fprintf(stderr,
                "simpkictl audit replay: --progress-ms must be a number of "
                "milliseconds between 0 and 3600000, not \"%s\"\n",
                optarg);
        return SP_EXIT_USAGE;
      }
      break;
    case 'D':
      against_db = 1;
      break;
    case 'W':
      if (sp_cli_long(optarg, 1, MAX_WORKERS, &workers)) {
        fprintf(stderr,
                "simpkictl audit replay: --workers must be a number between "
                "1 and %d, not \"%s\"\n",
                MAX_WORKERS, optarg);
        return SP_EXIT_USAGE;
      }
      break;
    case 'h':
      usage_replay(stdout);
      return SP_EXIT_OK;
    default:
      fprintf(stderr,
              "simpkictl audit replay: bad option or missing value: %s\n\n",
              argv[optind - 1]);
      usage_replay(stderr);
      return SP_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "simpkictl audit replay: unexpected argument \"%s\"\n\n",
            argv[optind]);
    usage_replay(stderr);
    return SP_EXIT_USAGE;
  }
  if (strcmp(format, "text") && strcmp(format, "json")) {
    fprintf(stderr,
            "simpkictl audit replay: --format must be text or json, not "
            "\"%s\"\n",
            format);
    return SP_EXIT_USAGE;
  }
  if ((flt.order && !*flt.order) || (flt.batch && !*flt.batch) ||
      (flt.sim && !*flt.sim)) {
    fprintf(stderr, "simpkictl audit replay: an empty filter value\n");
    return SP_EXIT_USAGE;
  }
  if (flt.sim && strspn(flt.sim, "0123456789") != strlen(flt.sim)) {
    fprintf(stderr,
            "simpkictl audit replay: --sim takes an ICCID (digits), not "
            "\"%s\"\n",
            flt.sim);
    return SP_EXIT_USAGE;
  }
  const char *bad_time = from && audit_filter_time(from, 0, &flt.from_ms) ? from
                         : to && audit_filter_time(to, 1, &flt.to_ms)     ? to
                                                                      : NULL;
  if (bad_time) {
    fprintf(stderr,
            "simpkictl audit replay: --from/--to take YYYY-MM-DD or an RFC "
            "3339 time (2026-11-25T17:30:00Z), not \"%s\"\n",
            bad_time);
    return SP_EXIT_USAGE;
  }
  if (flt.from_ms >= 0 && flt.to_ms >= 0 && flt.from_ms >= flt.to_ms) {
    fprintf(stderr, "simpkictl audit replay: --from is not before --to\n");
    return SP_EXIT_USAGE;
  }
  int any = audit_filter_any(&flt);
  if (!ntopics)
    for (size_t i = 0; i < sizeof default_topics / sizeof *default_topics; i++)
      topics[ntopics++] = default_topics[i];
  char err[512];
  if (!bootstrap && sp_config_str("SIMPKI_KAFKA_BOOTSTRAP", SP_CONFIG_REQUIRED,
                                  &bootstrap, err, sizeof(err)) != 0) {
    fprintf(stderr, "simpkictl audit replay: no --bootstrap given and "
                    "SIMPKI_KAFKA_BOOTSTRAP is not set\n");
    return SP_EXIT_USAGE;
  }

  const char *db_url = NULL;
  if (against_db && sp_config_str("SIMPKI_DB_URL", SP_CONFIG_REQUIRED, &db_url,
                                  err, sizeof err) != 0) {
    fprintf(stderr, "simpkictl audit replay: --against-db needs "
                    "SIMPKI_DB_URL\n");
    return SP_EXIT_USAGE;
  }
  const char *schema_root;
  if (sp_config_str("SIMPKI_SCHEMA_DIR", SIMPKI_SOURCE_DIR "/schemas",
                    &schema_root, err, sizeof err) != 0) {
    fprintf(stderr, "simpkictl audit replay: %s\n", err);
    return SP_EXIT_USAGE;
  }
  char schema_dir[4096];
  snprintf(schema_dir, sizeof schema_dir, "%s/events", schema_root);
#ifdef SIMPKI_AUDIT_STAGES
  const char *stage = getenv("SIMPKI_AUDIT_STAGE");
  if (stage && audit_stage_parse(stage, &audit_stage_stop)) {
    fprintf(stderr,
            "simpkictl audit replay: SIMPKI_AUDIT_STAGE must be all, read, "
            "hash, schema or kept, not %s\n",
            stage);
    return SP_EXIT_USAGE;
  }
#endif
  /* The consumer first: librdkafka connects to the brokers in its own
   * threads while this one loads the schemas. One malloc arena before
   * those threads start (heap_for_replay). */
  long start_ms = sp_reader_now_ms();
  heap_for_replay();
  char kerr[512];
  rd_kafka_t *rk = sp_reader_new_to_end(bootstrap, "audit", kerr, sizeof kerr);
  sp_jschema_set *schemas = sp_jschema_load_dir(schema_dir, err, sizeof err);
  if (!schemas) {
    fprintf(stderr,
            "simpkictl audit replay: cannot load the event schemas from %s "
            "($SIMPKI_SCHEMA_DIR/events): %s\n",
            schema_dir, err);
    if (rk)
      rd_kafka_destroy(rk);
    return SP_EXIT_USAGE;
  }
  if (!rk) {
    sp_error("audit replay failed", "error", kerr);
    sp_jschema_free(schemas);
    return EXIT_UNREADABLE;
  }
  struct replay r = {0};
  r.schemas = schemas;
  if (!(r.checker = audit_checker_new(schemas)) ||
      !(r.arena[MAX_WORKERS] = audit_arena_new())) {
    sp_error("audit replay failed", "error", "out of memory");
    rd_kafka_destroy(rk);
    replay_free(&r);
    sp_jschema_free(schemas);
    return SP_EXIT_FAIL;
  }
  audit_checker_set_arena(r.checker, r.arena[MAX_WORKERS]);
  for (size_t i = 0; i < ntopics; i++)
    r.topics[r.ntopics++].topic = topics[i];
  audit_progress_start(&r.progress, start_ms, progress_ms);
  static struct pipeline pl;
  if (pipeline_start(&pl, &r, workers)) {
    r.oom = 1;
    pipeline_finish(&pl);
  }
  int rrc = r.oom ? 0
                  : sp_reader_read_to_end_keep(rk, topics, ntopics, timeout_ms,
                                               on_partition, on_message, &r,
                                               err, sizeof err);
  if (pipeline_finish(&pl) && !rrc)
    r.oom = 1;
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  progress(&r, 1);
  if (rrc || r.oom) {
    sp_error("audit replay failed", "error", r.oom ? "out of memory" : err);
    replay_free(&r);
    sp_jschema_free(schemas);
    return r.oom ? SP_EXIT_FAIL : EXIT_UNREADABLE;
  }
  sp_jschema_free(schemas);
  r.schemas = NULL;
  long phase_ms = r.progress.start_ms;
  phase_done(&phase_ms, "read");
#ifdef SIMPKI_AUDIT_STAGES
  if (audit_stage_stop != AUDIT_STAGE_ALL) {
    printf("stage: %lu messages read, %zu events kept\n", r.messages, r.n);
    replay_free(&r);
    return 0;
  }
#endif
  if (sp_log_get_level() <= SP_LOG_DEBUG) {
    size_t kept = 0;
    for (int k = 0; k <= MAX_WORKERS; k++)
      kept += audit_arena_size(r.arena[k]);
    char mib[32], per[32];
    snprintf(mib, sizeof mib, "%.1f", (double)kept / 1048576.0);
    snprintf(per, sizeof per, "%.0f", r.n ? (double)kept / (double)r.n : 0.0);
    sp_debug("audit replay holds", "arena_mib", mib, "bytes_per_event", per);
    /* Where the events went: written as the services write them (flat),
     * read as a tree, or by jansson (the rest). */
    count_paths(&r, r.checker);
    char flat[24], tree[24], other[24];
    snprintf(flat, sizeof flat, "%ld", r.by_flat);
    snprintf(tree, sizeof tree, "%ld", r.by_tree);
    snprintf(other, sizeof other, "%ld", (long)r.n - r.by_flat - r.by_tree);
    sp_debug("audit replay paths", "flat", flat, "tree", tree, "jansson",
             other);
  }

  /* The checks. */
  int rc = SP_EXIT_FAIL;
  audit_findings fnd = {0};
  audit_chain_stats cst;
  audit_rule_stats rst[AUDIT_RULES];
  char *sel = NULL;
  struct order_counts *oc = NULL;
  size_t noc = 0;
  json_t *root = NULL;
  audit_state *state = NULL;
  audit_state_stats sst;
  memset(&sst, 0, sizeof sst);
  /* Messages that are no events first, then the chains (which find the
   * redelivered copies), then the schema findings of the first copies. */
  for (size_t i = 0; i < r.early.n; i++)
    if (r.early.v[i].ev == AUDIT_NONE &&
        audit_findings_add(&fnd, r.early.v[i].kind, NULL, NULL, AUDIT_NONE,
                           r.early.v[i].topic, r.early.v[i].partition,
                           r.early.v[i].offset, "%s", r.early.v[i].what))
      goto oom;
  progress_step(&r, "checking each subject's hash chain");
  if (audit_chain_check(r.evs, r.n, &fnd, &cst))
    goto oom;
  phase_done(&phase_ms, "chains");
  for (size_t i = 0; i < r.early.n; i++) {
    const audit_finding *f = &r.early.v[i];
    if (f->ev != AUDIT_NONE && r.evs[f->ev].copy_of == AUDIT_NONE &&
        audit_findings_add(&fnd, f->kind, NULL, r.evs, f->ev, NULL, 0, 0, "%s",
                           f->what))
      goto oom;
  }
  if (audit_filter_resolve(&flt, r.evs, r.n))
    goto oom;
  progress_step(&r, "checking the workflow's rules, counting the steps");
  /* The counts on a second thread while this one checks the rules. */
  struct counts cnt = {.evs = r.evs, .n = r.n, .flt = &flt};
  pthread_t count_tid;
  int counting = sysconf(_SC_NPROCESSORS_ONLN) > 1 &&
                 pthread_create(&count_tid, NULL, count_selection, &cnt) == 0;
  int irc = audit_invariants_check(r.evs, r.n, &fnd, rst);
  if (counting)
    pthread_join(count_tid, NULL);
  else
    count_selection(&cnt);
  sel = cnt.sel;
  oc = cnt.oc;
  noc = cnt.noc;
  size_t nsel = cnt.nsel, nsel_subjects = cnt.nsel_subjects;
  if (irc || cnt.rc)
    goto oom;
  phase_done(&phase_ms, "invariants and counts");
  if (against_db) {
    progress_step(&r, "comparing the state with the database");
    state = audit_state_new();
    if (!state || audit_state_build(state, r.evs, r.n))
      goto oom;
    int drc = audit_db_compare(db_url, state, &fnd, err, sizeof err);
    if (drc == -2)
      goto oom;
    if (drc) {
      sp_error("audit replay failed", "error", err);
      rc = EXIT_UNREADABLE;
      goto done;
    }
    audit_state_stats_get(state, &sst);
  }

  phase_done(&phase_ms, "database");
  size_t nfound = 0;
  for (size_t i = 0; i < fnd.n; i++)
    nfound += is_reported(&fnd.v[i], sel) != 0;
  const char *verdict = nfound ? "FINDINGS" : "CLEAN";

  if (!strcmp(format, "json")) {
    root = json_object();
    json_object_set_new(root, "verdict", json_string(verdict));
    json_t *tp = json_array();
    for (size_t i = 0; i < r.ntopics; i++)
      json_array_append_new(
          tp, json_pack("{s:s,s:i,s:I,s:I}", "topic", r.topics[i].topic,
                        "partitions", r.topics[i].partitions, "messages",
                        (json_int_t)r.topics[i].messages, "events",
                        (json_int_t)r.topics[i].events));
    json_object_set_new(root, "topics", tp);
    json_object_set_new(root, "messages", json_integer((json_int_t)r.messages));
    json_object_set_new(root, "events", json_integer((json_int_t)cst.unique));
    json_object_set_new(root, "not_events",
                        json_integer((json_int_t)r.not_events));
    json_object_set_new(root, "redelivered",
                        json_integer((json_int_t)cst.copies));
    json_object_set_new(root, "subjects",
                        json_integer((json_int_t)cst.subjects));
    if (any) {
      json_t *s = json_object();
      if (flt.order)
        json_object_set_new(s, "order", json_string(flt.order));
      if (flt.batch)
        json_object_set_new(s, "batch", json_string(flt.batch));
      if (flt.sim)
        json_object_set_new(s, "sim", json_string(flt.sim));
      if (from)
        json_object_set_new(s, "from", json_string(from));
      if (to)
        json_object_set_new(s, "to", json_string(to));
      json_object_set_new(s, "events", json_integer((json_int_t)nsel));
      json_object_set_new(s, "subjects",
                          json_integer((json_int_t)nsel_subjects));
      json_object_set_new(root, "selection", s);
    }
    json_t *ords = json_array();
    for (size_t k = 0; k < noc; k++) {
      json_t *steps = json_array();
      for (int st = 0; st < sp_flow_step_count(); st++) {
        const sp_flow_counts *c = &oc[k].flow.step[st];
        if (!c->events)
          continue;
        json_array_append_new(
            steps,
            json_pack("{s:s,s:s,s:I,s:I}", "step", sp_flow_step_at(st)->code,
                      "term", sp_flow_step_at(st)->term, "events",
                      (json_int_t)c->events, "sims", (json_int_t)c->sims));
      }
      json_t *o = json_pack("{s:s?,s:o}", "order",
                            strcmp(oc[k].order, "-") ? oc[k].order : NULL,
                            "steps", steps);
      if (oc[k].bcycp_ref)
        json_object_set_new(o, "bcycp_ref", json_string(oc[k].bcycp_ref));
      json_array_append_new(ords, o);
    }
    json_object_set_new(root, "orders", ords);
    json_t *rules = json_array();
    for (int k = 0; k < AUDIT_RULES; k++)
      json_array_append_new(
          rules, json_pack("{s:s,s:I,s:I,s:I,s:s?}", "rule", rst[k].rule,
                           "checked", (json_int_t)rst[k].checked, "violations",
                           (json_int_t)rst[k].violations, "not_judged",
                           (json_int_t)rst[k].not_judged, "not_judged_why",
                           rst[k].not_judged_why));
    json_object_set_new(root, "rules", rules);
    if (against_db) {
      json_t *db = json_array();
      for (int t = 0; t < AUDIT_TABLES; t++)
        json_array_append_new(db,
                              json_pack("{s:s,s:I,s:I,s:I}", "table",
                                        audit_table_name((audit_table)t),
                                        "from_events", (json_int_t)sst.rows[t],
                                        "rows", (json_int_t)sst.checked[t],
                                        "drift", (json_int_t)sst.drift[t]));
      json_object_set_new(root, "database", db);
    }
    json_t *fa = json_array();
    for (size_t i = 0; i < fnd.n; i++) {
      const audit_finding *f = &fnd.v[i];
      if (!is_reported(f, sel))
        continue;
      json_t *o = json_object();
      json_object_set_new(o, "kind", json_string(audit_kind_name(f->kind)));
      if (f->rule)
        json_object_set_new(o, "rule", json_string(f->rule));
      if (f->kind == AUDIT_DRIFT) {
        json_object_set_new(o, "table", json_string(f->table));
        if (*f->row)
          json_object_set_new(o, "row", json_string(f->row));
      } else
        ev_json(o, r.evs, f);
      json_object_set_new(o, "what", json_string(f->what));
      json_array_append_new(fa, o);
    }
    json_object_set_new(root, "findings", fa);
    if (json_dumpf(root, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF)
      goto oom;
  } else {
    printf("verdict: %s", verdict);
    if (nfound)
      printf(" (%zu finding%s)", nfound, nfound == 1 ? "" : "s");
    printf("\n\nread (to the end as of the start):\n");
    for (size_t i = 0; i < r.ntopics; i++)
      printf("  %-16s %8lu messages, %8lu events, %3d partition%s\n",
             r.topics[i].topic, r.topics[i].messages, r.topics[i].events,
             r.topics[i].partitions, r.topics[i].partitions == 1 ? "" : "s");
    printf("  %lu messages: %zu events, %zu redelivered copies, %lu not "
           "events\n",
           r.messages, cst.unique, cst.copies, r.not_events);
    printf("  %zu subjects, each chain checked whole\n", cst.subjects);
    if (any) {
      printf("\nselection:");
      if (flt.order)
        printf(" --order %s", flt.order);
      if (flt.batch)
        printf(" --batch %s", flt.batch);
      if (flt.sim)
        printf(" --sim %s", flt.sim);
      if (from)
        printf(" --from %s", from);
      if (to)
        printf(" --to %s", to);
      printf(": %zu events, %zu subjects\n", nsel, nsel_subjects);
    }
    printf("\nrules (on all events):\n");
    for (int k = 0; k < AUDIT_RULES; k++) {
      printf("  %-28s %8lu checked, %lu violated", rst[k].rule, rst[k].checked,
             rst[k].violations);
      if (rst[k].not_judged)
        printf(", %lu not judged (%s)", rst[k].not_judged,
               rst[k].not_judged_why);
      putchar('\n');
    }
    if (against_db) {
      printf("\nagainst the database (rows rebuilt from the events):\n");
      for (int t = 0; t < AUDIT_TABLES; t++)
        printf("  %-16s %8lu from the events, %8lu rows, %lu drift\n",
               audit_table_name((audit_table)t), sst.rows[t], sst.checked[t],
               sst.drift[t]);
    }
    printf("\nper order and step:\n");
    for (size_t k = 0; k < noc; k++) {
      if (strcmp(oc[k].order, "-"))
        printf("  order %s%s%s%s\n", oc[k].order,
               oc[k].bcycp_ref ? " (BCYCP " : "",
               oc[k].bcycp_ref ? oc[k].bcycp_ref : "",
               oc[k].bcycp_ref ? ")" : "");
      else
        printf("  no order\n");
      for (int st = 0; st < sp_flow_step_count(); st++) {
        const sp_flow_counts *c = &oc[k].flow.step[st];
        if (c->events)
          printf("    %-5s %-18s %6lu events %8lld SIMs\n",
                 sp_flow_step_at(st)->code, sp_flow_step_at(st)->term,
                 c->events, c->sims);
      }
      if (oc[k].flow.ignored)
        printf("    %-5s %-18s %6lu events\n", "-", "no step",
               oc[k].flow.ignored);
    }
    if (nfound) {
      printf("\nfindings:\n");
      for (size_t i = 0; i < fnd.n; i++) {
        const audit_finding *f = &fnd.v[i];
        if (!is_reported(f, sel))
          continue;
        if (f->kind == AUDIT_DRIFT) {
          printf("  drift: table %s%s%s: %s\n", f->table,
                 *f->row ? " row " : "", f->row, f->what);
          continue;
        }
        printf("  %s", audit_kind_name(f->kind));
        if (f->rule)
          printf(" %s", f->rule);
        printf(": %s[%d]@%lld", f->topic ? f->topic : "", (int)f->partition,
               (long long)f->offset);
        if (f->ev != AUDIT_NONE) {
          const audit_event *e = &r.evs[f->ev];
          printf(" %s event %s (%s)", e->subject, e->id, e->type);
        }
        printf(": %s\n", f->what);
      }
    }
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    sp_error("audit replay failed", "error", "cannot write to stdout");
    rc = SP_EXIT_FAIL;
  } else {
    rc = nfound ? SP_EXIT_FAIL : SP_EXIT_OK;
  }
  goto done;
oom:
  sp_error("audit replay failed", "error", "out of memory");
  rc = SP_EXIT_FAIL;
done:
  audit_state_free(state);
  json_decref(root);
  free(oc);
  free(sel);
  audit_filter_free(&flt);
  audit_findings_free(&fnd);
  phase_done(&phase_ms, "report");
  replay_free(&r);
  phase_done(&phase_ms, "free");
  return rc;
}

int sp_cmd_audit(int argc, char **argv) {
  if (argc < 2) {
    usage_audit(stderr);
    return SP_EXIT_USAGE;
  }
  if (sp_is_help(argv[1])) {
    usage_audit(stdout);
    return SP_EXIT_OK;
  }
  if (!strcmp(argv[1], "replay"))
    return replay_run(argc - 1, argv + 1);
  fprintf(stderr, "simpkictl audit: unknown subcommand \"%s\"\n\n", argv[1]);
  usage_audit(stderr);
  return SP_EXIT_USAGE;
}
