/* cmd_events.c - `simpkictl events`: read event topics.
 *
 * dump reads each partition from its first offset to the end as it was
 * when the command started (the high watermark), with a plain assign()ed
 * consumer (kafka_reader.h): no group membership, no offset commits, so it
 * never disturbs the services' consumer groups. */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "config.h"
#include "kafka_reader.h"
#include "log.h"

#define DEFAULT_TIMEOUT_MS 10000
#define MAX_TOPICS 64

struct part {
  const char *topic;
  int32_t partition;
  int64_t high; /* dump stops before this offset */
  int done;
};

struct dump {
  rd_kafka_t *rk;
  struct part *parts;
  size_t nparts, ndone;
  long timeout_ms;
  unsigned long printed;
};

static void usage_events(FILE *fp) {
  fprintf(fp, "Usage: simpkictl events [--help] SUBCOMMAND [OPTIONS]\n\n"
              "Subcommands:\n"
              "  dump  print every event of the given topics, one per line\n\n"
              "Run 'simpkictl events SUBCOMMAND --help' for its options.\n");
}

static void usage_dump(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl events dump --topic T [--topic T2 ...]\n"
          "                             [--bootstrap B] [--timeout-ms N]\n\n"
          "Reads the topics from the beginning up to their end at start-up\n"
          "and prints each message value as one line on stdout. Commits no\n"
          "offsets and joins no consumer group.\n\n"
          "Options:\n"
          "  --topic T        topic to read (repeatable, at least one)\n"
          "  --bootstrap B    bootstrap servers (default "
          "$SIMPKI_KAFKA_BOOTSTRAP)\n"
          "  --timeout-ms N   give up after N ms without progress "
          "(default %d)\n"
          "  --help           show this help\n\n"
          "Environment:\n"
          "  SIMPKI_KAFKA_BOOTSTRAP  default bootstrap servers\n"
          "  SIMPKI_KAFKA_CONFIG     extra librdkafka settings "
          "\"key=value,key=value\"\n",
          DEFAULT_TIMEOUT_MS);
}

/* Partitions of one topic with their high watermarks. Retries the
 * transient "leader not available" of a fresh topic until the deadline. */
static int add_topic(struct dump *d, const char *topic, char *errstr,
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
  struct part *np =
      realloc(d->parts, (d->nparts + (size_t)t->partition_cnt + 1) *
                            sizeof(*d->parts));
  if (!np) {
    rd_kafka_metadata_destroy(md);
    snprintf(errstr, errlen, "out of memory");
    return -1;
  }
  d->parts = np;
  for (int i = 0; i < t->partition_cnt; i++) {
    int32_t p = t->partitions[i].id;
    int64_t lo = 0, hi = 0;
    long left = deadline - sp_reader_now_ms();
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        d->rk, topic, p, &lo, &hi, left > 0 ? (int)left : 1);
    if (err) {
      snprintf(errstr, errlen, "cannot read the end of %s [%d]: %s", topic,
               (int)p, rd_kafka_err2str(err));
      rd_kafka_metadata_destroy(md);
      return -1;
    }
    struct part *pt = &d->parts[d->nparts++];
    pt->topic = topic;
    pt->partition = p;
    pt->high = hi;
    pt->done = hi <= lo; /* empty: nothing to wait for */
    if (pt->done)
      d->ndone++;
  }
  rd_kafka_metadata_destroy(md);
  return 0;
}

static struct part *find_part(struct dump *d, const char *topic, int32_t p) {
  for (size_t i = 0; i < d->nparts; i++)
    if (d->parts[i].partition == p && !strcmp(d->parts[i].topic, topic))
      return &d->parts[i];
  return NULL;
}

static void mark_done(struct dump *d, struct part *pt) {
  if (!pt->done) {
    pt->done = 1;
    d->ndone++;
  }
}

/* Control records (transactions) never reach the application, so a
 * partition may end without a message at high-1: ask for the position. */
static void check_positions(struct dump *d) {
  rd_kafka_topic_partition_list_t *l =
      rd_kafka_topic_partition_list_new((int)d->nparts);
  for (size_t i = 0; i < d->nparts; i++)
    if (!d->parts[i].done)
      rd_kafka_topic_partition_list_add(l, d->parts[i].topic,
                                        d->parts[i].partition);
  if (l->cnt && rd_kafka_position(d->rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < l->cnt; i++) {
      struct part *pt = find_part(d, l->elems[i].topic, l->elems[i].partition);
      if (pt && l->elems[i].offset >= 0 && l->elems[i].offset >= pt->high)
        mark_done(d, pt);
    }
  }
  rd_kafka_topic_partition_list_destroy(l);
}

static int consume(struct dump *d, char *errstr, size_t errlen) {
  rd_kafka_topic_partition_list_t *l =
      rd_kafka_topic_partition_list_new((int)d->nparts + 1);
  for (size_t i = 0; i < d->nparts; i++)
    if (!d->parts[i].done)
      rd_kafka_topic_partition_list_add(l, d->parts[i].topic,
                                        d->parts[i].partition)
          ->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_resp_err_t err = rd_kafka_assign(d->rk, l);
  rd_kafka_topic_partition_list_destroy(l);
  if (err) {
    snprintf(errstr, errlen, "cannot assign partitions: %s",
             rd_kafka_err2str(err));
    return -1;
  }
  long last_progress = sp_reader_now_ms(), last_check = 0;
  while (d->ndone < d->nparts) {
    if (sp_reader_now_ms() - last_progress > d->timeout_ms) {
      snprintf(errstr, errlen,
               "timed out after %ld ms without progress; %zu of %zu "
               "partition(s) read to the end, %lu event(s) printed",
               d->timeout_ms, d->ndone, d->nparts, d->printed);
      return -1;
    }
    rd_kafka_message_t *m = rd_kafka_consumer_poll(d->rk, 100);
    if (!m) {
      if (sp_reader_now_ms() - last_check >= 500) {
        check_positions(d);
        last_check = sp_reader_now_ms();
      }
      continue;
    }
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
    struct part *pt =
        find_part(d, rd_kafka_topic_name(m->rkt), m->partition);
    if (pt && !pt->done && m->offset < pt->high) {
      if (m->payload) {
        fwrite(m->payload, 1, m->len, stdout);
        fputc('\n', stdout);
        d->printed++;
      }
      last_progress = sp_reader_now_ms();
      if (m->offset >= pt->high - 1)
        mark_done(d, pt);
    } else if (pt && m->offset >= pt->high) {
      mark_done(d, pt);
    }
    rd_kafka_message_destroy(m);
  }
  return 0;
}

static int dump(int argc, char **argv) {
  static const struct option opts[] = {
      {"topic", required_argument, NULL, 't'},
      {"bootstrap", required_argument, NULL, 'b'},
      {"timeout-ms", required_argument, NULL, 'T'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *topics[MAX_TOPICS];
  size_t ntopics = 0;
  const char *bootstrap = NULL;
  long timeout_ms = DEFAULT_TIMEOUT_MS;
  optind = 0;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "+t:b:T:h", opts, NULL)) != -1) {
    switch (ch) {
    case 't':
      if (ntopics == MAX_TOPICS || !*optarg) {
        fprintf(stderr, "simpkictl events dump: %s\n",
                *optarg ? "too many topics" : "empty topic name");
        return SP_EXIT_USAGE;
      }
      topics[ntopics++] = optarg;
      break;
    case 'b':
      bootstrap = optarg;
      break;
    case 'T': {
      char *end;
      timeout_ms = strtol(optarg, &end, 10);
      if (end == optarg || *end || timeout_ms <= 0 || timeout_ms > 86400000) {
        fprintf(stderr,
                "simpkictl events dump: --timeout-ms must be a number of "
                "milliseconds between 1 and 86400000, not \"%s\"\n",
                optarg);
        return SP_EXIT_USAGE;
      }
      break;
    }
    case 'h':
      usage_dump(stdout);
      return SP_EXIT_OK;
    default:
      fprintf(stderr, "simpkictl events dump: bad option or missing value: "
                      "%s\n\n", argv[optind - 1]);
      usage_dump(stderr);
      return SP_EXIT_USAGE;
    }
  }
  if (optind < argc || ntopics == 0) {
    if (optind < argc)
      fprintf(stderr, "simpkictl events dump: unexpected argument \"%s\"\n\n",
              argv[optind]);
    else
      fprintf(stderr, "simpkictl events dump: --topic is required\n\n");
    usage_dump(stderr);
    return SP_EXIT_USAGE;
  }
  char err[512];
  if (!bootstrap && sp_config_str("SIMPKI_KAFKA_BOOTSTRAP", SP_CONFIG_REQUIRED,
                                  &bootstrap, err, sizeof(err)) != 0) {
    sp_error("events dump failed", "error",
             "no --bootstrap given and SIMPKI_KAFKA_BOOTSTRAP is not set");
    return SP_EXIT_FAIL;
  }

  struct dump d = {0};
  d.timeout_ms = timeout_ms;
  if (!(d.rk = sp_reader_new(bootstrap, "dump", NULL, err, sizeof(err)))) {
    sp_error("events dump failed", "error", err);
    return SP_EXIT_FAIL;
  }
  int rc = SP_EXIT_OK;
  for (size_t i = 0; i < ntopics && rc == SP_EXIT_OK; i++)
    if (add_topic(&d, topics[i], err, sizeof(err)) != 0)
      rc = SP_EXIT_FAIL;
  if (rc == SP_EXIT_OK && consume(&d, err, sizeof(err)) != 0)
    rc = SP_EXIT_FAIL;
  if (fflush(stdout) != 0 || ferror(stdout)) {
    snprintf(err, sizeof(err), "cannot write to stdout");
    rc = SP_EXIT_FAIL;
  }
  if (rc != SP_EXIT_OK)
    sp_error("events dump failed", "error", err);
  else {
    char n[24];
    snprintf(n, sizeof(n), "%lu", d.printed);
    sp_info("events dumped", "count", n);
  }
  rd_kafka_consumer_close(d.rk);
  rd_kafka_destroy(d.rk);
  free(d.parts);
  return rc;
}

int sp_cmd_events(int argc, char **argv) {
  if (argc < 2) {
    usage_events(stderr);
    return SP_EXIT_USAGE;
  }
  if (sp_is_help(argv[1])) {
    usage_events(stdout);
    return SP_EXIT_OK;
  }
  if (!strcmp(argv[1], "dump"))
    return dump(argc - 1, argv + 1);
  fprintf(stderr, "simpkictl events: unknown subcommand \"%s\"\n\n", argv[1]);
  usage_events(stderr);
  return SP_EXIT_USAGE;
}
