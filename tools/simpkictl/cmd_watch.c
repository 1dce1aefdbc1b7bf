/* cmd_watch.c - `simpkictl watch`: a live view of the pipeline.
 *
 * Reads the event topics from their beginning and keeps following them with
 * the read-only consumer of kafka_reader.h (assign()ed partitions, no group
 * membership, no commits: it never disturbs the services), folds every
 * event with common/flow.h, and shows beside it the progress file a script
 * appends to (watch_progress.h) and the SIMs per state in PostgreSQL.
 * watch_view.c draws it. Topics and partitions that appear later are
 * picked up by reading the metadata again every few seconds. */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "config.h"
#include "db.h"
#include "event.h"
#include "flow.h"
#include "kafka_reader.h"
#include "log.h"
#include "shutdown.h"
#include "sim_state.h"
#include "watch_progress.h"
#include "watch_view.h"

#define PROG "simpkictl watch"
#define MAX_TOPICS 64
#define METADATA_EVERY_MS 2000
#define METADATA_TIMEOUT_MS 1000
#define DRAIN_TIMEOUT_MS 5000 /* per broker request when --until fires */
#define UNTIL_CHECK_MS 100
#define DB_RETRY_MS 2000
#define POSITION_CHECK_MS 500

static const char *const default_topics[] = {
    "orders", "vendors",     "batches",       "registrations",
    "sims",   "connections", "notifications", "accounts"};

struct wpart {
  char *topic;
  int32_t partition;
  int64_t next;   /* the offset after the last message read */
  int64_t target; /* --until: read up to here; -1 nothing to wait for */
};

struct watch {
  /* options */
  const char *topics[MAX_TOPICS];
  size_t ntopics;
  const char *progress_path, *until_path, *bootstrap;
  long interval_ms;
  int screen; /* redraw a terminal; else one line per event */

  rd_kafka_t *rk;
  struct wpart *parts;
  size_t nparts;
  unsigned char topic_found[MAX_TOPICS];
  char kafka_error[256];
  int fatal;

  sp_flow flow;
  unsigned long unreadable;
  wp_table progress;
  wp_tail tail;
  char progress_error[256];

  const char *db_url; /* NULL: no SIM states */
  sp_db *db;
  char db_error[512];
  wv_sim_state states[WV_STATES_MAX];
  size_t nstates;
  long next_db;

  int draining; /* --until's file appeared: reading up to the ends */
  char until_note[160];
  long next_position_check;
};

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl watch [--topic T ...] [--progress FILE]\n"
          "                       [--until FILE] [--interval S] [--plain]\n"
          "                       [--bootstrap B]\n\n"
          "A live view of the pipeline. Reads the event topics from the\n"
          "beginning and keeps following them (topics and partitions that\n"
          "appear later too), and shows per workflow step (A4, A5, B1-B11,\n"
          "SHOP, INC, VCSP, MSG; common/flow.h) the events and SIMs seen,\n"
          "the last events, the SIMs per state in the database, and the\n"
          "steps of a progress file. Joins no consumer group and commits\n"
          "nothing, so it never disturbs the services.\n\n"
          "On a terminal the screen is redrawn every S seconds. Otherwise,\n"
          "or with --plain, one line per event (HH:MM:SS STEP type subject)\n"
          "and per progress line (HH:MM:SS [STEP] STATE TEXT), and a table\n"
          "of the steps at the end. Times are local.\n\n"
          "Options:\n"
          "  --topic T        topic to read (repeatable; default: orders\n"
          "                   vendors batches registrations sims connections\n"
          "                   notifications accounts); a topic that does not\n"
          "                   exist yet is waited for\n"
          "  --progress FILE  a file another process appends to, one line\n"
          "                   per update:\n"
          "                   EPOCH_MS<TAB>STEP<TAB>STATE<TAB>TEXT\n"
          "                   with STATE run, ok, fail or info; other lines\n"
          "                   are skipped\n"
          "  --until FILE     once FILE exists, read every partition up to\n"
          "                   its end at that moment, show the final state\n"
          "                   and exit 0\n"
          "  --interval S     seconds between redraws (0.1 to 60, default "
          "0.5)\n"
          "  --plain          lines, not a redrawn screen, even on a terminal\n"
          "  --bootstrap B    bootstrap servers (default "
          "$SIMPKI_KAFKA_BOOTSTRAP)\n"
          "  --help           show this help\n\n"
          "SIGINT and SIGTERM also show the final state and exit 0. While\n"
          "Kafka or the database cannot be reached, the view says so and\n"
          "keeps trying.\n\n"
          "Environment:\n"
          "  SIMPKI_KAFKA_BOOTSTRAP  default bootstrap servers\n"
          "  SIMPKI_KAFKA_CONFIG     extra librdkafka settings "
          "\"key=value,key=value\"\n"
          "  SIMPKI_DB_URL           when set, the SIMs per state are shown\n\n"
          "Exit status: 0 stopped by --until or a signal, 1 failed, 2 "
          "usage.\n");
}

static long long wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_kafka_error(struct watch *w, const char *fmt, ...) {
  char msg[sizeof w->kafka_error];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* Plain mode logs when trouble starts and ends, not each retry's
   * reason; the screen shows the latest. */
  if (!w->screen && msg[0] && !w->kafka_error[0])
    sp_warn("watch: kafka", "error", msg);
  if (!w->screen && !msg[0] && w->kafka_error[0])
    sp_info("watch: kafka reachable again");
  snprintf(w->kafka_error, sizeof w->kafka_error, "%s", msg);
}

/* Served by rd_kafka_consumer_poll (rd_kafka_poll_set_consumer), so it
 * runs on the main thread. */
static void on_kafka_error(rd_kafka_t *rk, int err, const char *reason,
                           void *opaque) {
  struct watch *w = opaque;
  (void)rk;
  if (err == RD_KAFKA_RESP_ERR__FATAL)
    w->fatal = 1;
  set_kafka_error(w, "%s", reason);
}

/* The errors that matter come through on_kafka_error; librdkafka's own
 * lines (each retry's) are debug lines in plain mode and dropped on a
 * redrawn screen, which a log line would scroll. */
static void quiet_log(const rd_kafka_t *rk, int level, const char *fac,
                      const char *buf) {
  (void)rk, (void)level, (void)fac, (void)buf;
}

static void debug_log(const rd_kafka_t *rk, int level, const char *fac,
                      const char *buf) {
  (void)rk, (void)level;
  sp_debug("kafka", "facility", fac, "message", buf);
}

static int wanted_topic(const struct watch *w, const char *name) {
  for (size_t i = 0; i < w->ntopics; i++)
    if (!strcmp(w->topics[i], name))
      return (int)i;
  return -1;
}

static struct wpart *find_part(struct watch *w, const char *topic, int32_t p) {
  for (size_t i = 0; i < w->nparts; i++)
    if (w->parts[i].partition == p && !strcmp(w->parts[i].topic, topic))
      return &w->parts[i];
  return NULL;
}

/* Read the cluster's topics and assign, from their beginning, the
 * partitions of the wanted topics not assigned yet. */
static int refresh_metadata(struct watch *w, int timeout_ms) {
  const rd_kafka_metadata_t *md = NULL;
  rd_kafka_resp_err_t err = rd_kafka_metadata(w->rk, 1, NULL, &md, timeout_ms);
  if (err) {
    set_kafka_error(w, "cannot read the topics: %s", rd_kafka_err2str(err));
    return -1;
  }
  size_t before = w->nparts;
  rd_kafka_topic_partition_list_t *add = rd_kafka_topic_partition_list_new(8);
  int rc = 0;
  for (int i = 0; i < md->topic_cnt && rc == 0; i++) {
    const rd_kafka_metadata_topic_t *t = &md->topics[i];
    int idx = wanted_topic(w, t->topic);
    if (idx < 0 || t->err) /* a fresh topic may lack a leader: later */
      continue;
    w->topic_found[idx] = 1;
    for (int j = 0; j < t->partition_cnt; j++) {
      int32_t p = t->partitions[j].id;
      if (find_part(w, t->topic, p))
        continue;
      struct wpart *np = realloc(w->parts, (w->nparts + 1) * sizeof *np);
      char *name = strdup(t->topic);
      if (!np || !name) {
        free(name);
        if (np)
          w->parts = np;
        rc = -1;
        break;
      }
      w->parts = np;
      w->parts[w->nparts++] =
          (struct wpart){.topic = name, .partition = p, .target = -1};
      rd_kafka_topic_partition_list_add(add, t->topic, p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
  }
  rd_kafka_metadata_destroy(md);
  if (rc == 0 && add->cnt) {
    rd_kafka_error_t *e = rd_kafka_incremental_assign(w->rk, add);
    if (e) {
      set_kafka_error(w, "cannot assign partitions: %s",
                      rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
      rc = -1;
    }
  }
  rd_kafka_topic_partition_list_destroy(add);
  if (rc != 0) { /* forget them: the next refresh tries again */
    for (size_t i = before; i < w->nparts; i++)
      free(w->parts[i].topic);
    w->nparts = before;
    if (!w->kafka_error[0])
      set_kafka_error(w, "out of memory");
    return -1;
  }
  set_kafka_error(w, "%s", "");
  return 0;
}

/* --until's file appeared: every partition's end as of now becomes the
 * target, after a fresh look at the topics so that none is missed. */
static int start_drain(struct watch *w) {
  if (refresh_metadata(w, DRAIN_TIMEOUT_MS) != 0)
    return -1;
  for (size_t i = 0; i < w->nparts; i++) {
    struct wpart *p = &w->parts[i];
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        w->rk, p->topic, p->partition, &lo, &hi, DRAIN_TIMEOUT_MS);
    if (err) {
      set_kafka_error(w, "cannot read the end of %s [%d]: %s", p->topic,
                      (int)p->partition, rd_kafka_err2str(err));
      return -1;
    }
    p->target = hi > lo ? hi : -1; /* empty: nothing to wait for */
  }
  w->draining = 1;
  return 0;
}

/* Control records (transactions) never reach the application, so a
 * partition may end without a message at target-1: ask for the position. */
static void check_positions(struct watch *w) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
  for (size_t i = 0; i < w->nparts; i++)
    if (w->parts[i].target >= 0 && w->parts[i].next < w->parts[i].target)
      rd_kafka_topic_partition_list_add(l, w->parts[i].topic,
                                        w->parts[i].partition);
  if (l->cnt && rd_kafka_position(w->rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < l->cnt; i++) {
      struct wpart *p = find_part(w, l->elems[i].topic, l->elems[i].partition);
      if (p && l->elems[i].offset > p->next)
        p->next = l->elems[i].offset;
    }
  }
  rd_kafka_topic_partition_list_destroy(l);
}

static int drained(struct watch *w) {
  long now = sp_reader_now_ms();
  if (now >= w->next_position_check) {
    check_positions(w);
    w->next_position_check = now + POSITION_CHECK_MS;
  }
  size_t left = 0;
  for (size_t i = 0; i < w->nparts; i++)
    left += w->parts[i].target >= 0 && w->parts[i].next < w->parts[i].target;
  snprintf(w->until_note, sizeof w->until_note,
           "--until: reading to the end, %zu partition(s) left", left);
  return left == 0;
}

static void on_message(struct watch *w, const rd_kafka_message_t *m) {
  const char *topic = rd_kafka_topic_name(m->rkt);
  struct wpart *p = find_part(w, topic, m->partition);
  if (p && m->offset + 1 > p->next)
    p->next = m->offset + 1;
  sp_event ev;
  char err[256] = "no value";
  if (!m->payload ||
      sp_event_parse(m->payload, m->len, &ev, err, sizeof err) != 0) {
    w->unreadable++;
    if (!w->screen) {
      char part[16], off[24];
      snprintf(part, sizeof part, "%d", (int)m->partition);
      snprintf(off, sizeof off, "%lld", (long long)m->offset);
      sp_warn("watch: not an event, skipped", "topic", topic, "partition", part,
              "offset", off, "error", err);
    }
    return;
  }
  int step = sp_flow_apply(&w->flow, ev.type, ev.subject, ev.time, ev.data);
  if (!w->screen) {
    long long t;
    if (sp_flow_parse_time(ev.time, &t) != 0)
      t = 0;
    wv_print_event(stdout, t, step, ev.type, ev.subject);
  }
  sp_event_clear(&ev);
}

static void poll_kafka(struct watch *w, int timeout_ms) {
  /* Take what is there in one go, but come back to redraw in time. */
  for (int n = 0; n < 5000; n++) {
    rd_kafka_message_t *m =
        rd_kafka_consumer_poll(w->rk, n == 0 ? timeout_ms : 0);
    if (!m)
      return;
    if (!m->err)
      on_message(w, m);
    else if (m->err == RD_KAFKA_RESP_ERR__FATAL)
      w->fatal = 1;
    else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
      /* A deleted topic and the like: shown, never the end of the view. */
      set_kafka_error(w, "%s", rd_kafka_message_errstr(m));
    rd_kafka_message_destroy(m);
  }
}

static void on_progress_line(void *arg, const char *line, size_t len) {
  struct watch *w = arg;
  wp_line l;
  if (wp_parse_line(line, len, &l) != 0) {
    w->progress.garbage++;
    return;
  }
  if (wp_table_apply(&w->progress, &l) != 0)
    return;
  if (!w->screen)
    wv_print_progress(stdout, &l);
}

static void read_progress(struct watch *w) {
  if (!w->progress_path)
    return;
  char err[sizeof w->progress_error];
  if (wp_tail_read(&w->tail, on_progress_line, w, err, sizeof err) != 0) {
    if (!w->screen && strcmp(err, w->progress_error))
      sp_warn("watch: progress file", "error", err);
    snprintf(w->progress_error, sizeof w->progress_error, "%s", err);
  } else {
    w->progress_error[0] = '\0';
  }
}

/* SIMs per state, in the order of a SIM's life (sim_state.h). A slow
 * query (a big sims table) is asked less often, so the view does not load
 * the database. */
static void refresh_states(struct watch *w, int force) {
  long start = sp_reader_now_ms();
  if (!w->db_url || (!force && start < w->next_db))
    return;
  char err[512];
  w->next_db = start + DB_RETRY_MS;
  if (!w->db) {
    if (!(w->db = sp_db_open(w->db_url, 0, err, sizeof err))) {
      snprintf(w->db_error, sizeof w->db_error, "%s", err);
      return;
    }
  } else if (sp_db_ensure(w->db, err, sizeof err) != 0) {
    snprintf(w->db_error, sizeof w->db_error, "%s", err);
    return;
  }
  char order[256] = "{";
  for (int s = 0; s < IV_ST_COUNT; s++)
    snprintf(order + strlen(order), sizeof order - strlen(order), "%s%s",
             s ? "," : "", iv_state_name((iv_state)s));
  strncat(order, "}", sizeof order - strlen(order) - 1);
  const char *params[] = {order};
  PGresult *r = sp_db_query(
      sp_db_conn(w->db),
      "SELECT state, count(*) FROM sims GROUP BY state "
      "ORDER BY array_position($1::text[], state) NULLS LAST, state",
      1, params, err, sizeof err);
  if (!r) {
    snprintf(w->db_error, sizeof w->db_error, "%s", err);
    return;
  }
  w->nstates = 0;
  for (int i = 0; i < PQntuples(r) && w->nstates < WV_STATES_MAX; i++) {
    wv_sim_state *s = &w->states[w->nstates++];
    snprintf(s->name, sizeof s->name, "%s", PQgetvalue(r, i, 0));
    s->count = atoll(PQgetvalue(r, i, 1));
  }
  PQclear(r);
  w->db_error[0] = '\0';
  long took = sp_reader_now_ms() - start;
  w->next_db = start + (4 * took > w->interval_ms ? 4 * took : w->interval_ms);
}

static void status_of(struct watch *w, wv_status *s, int final) {
  memset(s, 0, sizeof *s);
  s->flow = &w->flow;
  s->progress = w->progress_path ? &w->progress : NULL;
  s->progress_error = w->progress_error;
  s->db_enabled = w->db_url != NULL;
  s->db_error = w->db_error;
  s->states = w->states;
  s->nstates = w->nstates;
  s->kafka_error = w->kafka_error;
  for (size_t i = 0; i < w->ntopics; i++)
    s->topics_found += w->topic_found[i];
  s->topics_wanted = w->ntopics;
  s->partitions = w->nparts;
  s->unreadable = w->unreadable;
  s->until_note = w->until_note;
  s->now_ms = wall_ms();
  s->final = final;
  struct winsize ws;
  if (w->screen && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
    s->rows = ws.ws_row;
}

static int flush_stdout(void) {
  return fflush(stdout) != 0 || ferror(stdout) ? -1 : 0;
}

static int draw(struct watch *w, int final) {
  wv_status s;
  status_of(w, &s, final);
  if (w->screen)
    wv_draw_screen(stdout, &s);
  else if (final)
    wv_print_summary(stdout, &s);
  return flush_stdout();
}

/* The loop: follow Kafka, redraw, until --until is done or a signal. */
static int run(struct watch *w) {
  long next_metadata = 0, next_draw = 0, next_until = 0;
  for (;;) {
    long now = sp_reader_now_ms();
    if (now >= next_metadata) {
      refresh_metadata(w, METADATA_TIMEOUT_MS);
      next_metadata = sp_reader_now_ms() + METADATA_EVERY_MS;
    }
    if (w->until_path && !w->draining && now >= next_until) {
      next_until = now + UNTIL_CHECK_MS;
      /* While the broker does not answer, the regular metadata refresh
       * finds out when it is back; asking here too would only freeze the
       * view for the drain's longer timeouts. */
      if (access(w->until_path, F_OK) == 0 &&
          (w->kafka_error[0] || start_drain(w) != 0))
        snprintf(w->until_note, sizeof w->until_note,
                 "--until: %.100s is there; waiting for Kafka to read to "
                 "the end",
                 w->until_path);
    }
    if (w->draining && drained(w))
      return 0;
    if (sp_shutdown_requested())
      return 0;
    if (w->fatal) {
      sp_error(PROG " failed", "error",
               w->kafka_error[0] ? w->kafka_error : "fatal Kafka error");
      return -1;
    }
    now = sp_reader_now_ms();
    if (now >= next_draw) {
      read_progress(w);
      if (w->screen)
        refresh_states(w, 0);
      if (draw(w, 0) != 0)
        return -1;
      next_draw = now + w->interval_ms;
    }
    long wait = next_draw - sp_reader_now_ms();
    poll_kafka(w, wait < 10 ? 10 : wait > 100 ? 100 : (int)wait);
  }
}

static int parse_args(struct watch *w, int argc, char **argv, int *plain) {
  static const struct option opts[] = {
      {"topic", required_argument, NULL, 't'},
      {"progress", required_argument, NULL, 'p'},
      {"until", required_argument, NULL, 'u'},
      {"interval", required_argument, NULL, 'i'},
      {"plain", no_argument, NULL, 'P'},
      {"bootstrap", required_argument, NULL, 'b'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  double interval = 0.5;
  optind = 0;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    switch (ch) {
    case 't':
      if (w->ntopics == MAX_TOPICS || !*optarg) {
        fprintf(stderr, PROG ": %s\n",
                *optarg ? "too many topics" : "empty topic name");
        return SP_EXIT_USAGE;
      }
      if (wanted_topic(w, optarg) < 0)
        w->topics[w->ntopics++] = optarg;
      break;
    case 'p':
    case 'u':
      if (!*optarg) {
        fprintf(stderr, PROG ": --%s needs a file name\n",
                ch == 'p' ? "progress" : "until");
        return SP_EXIT_USAGE;
      }
      *(ch == 'p' ? &w->progress_path : &w->until_path) = optarg;
      break;
    case 'i': {
      char *end;
      interval = strtod(optarg, &end);
      if (end == optarg || *end || !(interval >= 0.1 && interval <= 60)) {
        fprintf(stderr,
                PROG ": --interval must be 0.1 to 60 seconds, not \"%s\"\n",
                optarg);
        return SP_EXIT_USAGE;
      }
      break;
    }
    case 'P':
      *plain = 1;
      break;
    case 'b':
      w->bootstrap = optarg;
      break;
    case 'h':
      usage(stdout);
      return SP_EXIT_OK;
    default:
      fprintf(stderr, PROG ": bad option or missing value: %s\n\n",
              argv[optind - 1]);
      usage(stderr);
      return SP_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, PROG ": unexpected argument \"%s\"\n\n", argv[optind]);
    usage(stderr);
    return SP_EXIT_USAGE;
  }
  w->interval_ms = (long)(interval * 1000 + 0.5);
  return -1; /* go on */
}

static void cleanup(struct watch *w) {
  if (w->rk) {
    rd_kafka_consumer_close(w->rk);
    rd_kafka_destroy(w->rk);
  }
  for (size_t i = 0; i < w->nparts; i++)
    free(w->parts[i].topic);
  free(w->parts);
  wp_table_free(&w->progress);
  wp_tail_free(&w->tail);
  sp_db_close(w->db);
}

int sp_cmd_watch(int argc, char **argv) {
  struct watch w;
  memset(&w, 0, sizeof w);
  int plain = 0;
  int rc = parse_args(&w, argc, argv, &plain);
  if (rc >= 0)
    return rc;
  if (!w.ntopics)
    for (size_t i = 0; i < sizeof default_topics / sizeof *default_topics; i++)
      w.topics[w.ntopics++] = default_topics[i];
  char err[512];
  if (!w.bootstrap &&
      sp_config_str("SIMPKI_KAFKA_BOOTSTRAP", SP_CONFIG_REQUIRED, &w.bootstrap,
                    err, sizeof err) != 0) {
    sp_error(PROG " failed", "error",
             "no --bootstrap given and SIMPKI_KAFKA_BOOTSTRAP is not set");
    return SP_EXIT_FAIL;
  }
  const char *db_url = NULL;
  if (sp_config_str("SIMPKI_DB_URL", "", &db_url, err, sizeof err) != 0) {
    sp_error(PROG " failed", "error", err);
    return SP_EXIT_FAIL;
  }
  w.db_url = db_url && *db_url ? db_url : NULL;
  w.screen = !plain && isatty(STDOUT_FILENO);
  w.tail.path = w.progress_path;
  sp_flow_init(&w.flow);
  if (!w.screen)
    setvbuf(stdout, NULL, _IOLBF, 0);

  sp_reader_hooks hooks = {.log_cb = w.screen ? quiet_log : debug_log,
                           .error_cb = on_kafka_error,
                           .opaque = &w};
  if (!(w.rk = sp_reader_new(w.bootstrap, "watch", &hooks, err, sizeof err))) {
    sp_error(PROG " failed", "error", err);
    return SP_EXIT_FAIL;
  }
  /* Errors and logs are served by the poll loop, on this thread. */
  rd_kafka_poll_set_consumer(w.rk);
  sp_shutdown_install();
  if (w.screen)
    fputs("\033[?25l\033[H\033[2J", stdout); /* hide the cursor, clear */

  rc = run(&w) == 0 ? SP_EXIT_OK : SP_EXIT_FAIL;
  /* The final state: whatever the progress file and the database say now. */
  read_progress(&w);
  refresh_states(&w, 1);
  if (draw(&w, 1) != 0)
    rc = SP_EXIT_FAIL;
  if (w.screen) {
    fputs("\033[?25h", stdout);
    flush_stdout();
  }
  if (rc != SP_EXIT_OK && !w.fatal)
    sp_error(PROG " failed", "error", "cannot write to stdout");
  cleanup(&w);
  return rc;
}
