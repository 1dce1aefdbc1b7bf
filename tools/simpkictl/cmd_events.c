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

#include "cli.h"
#include "cmds.h"
#include "config.h"
#include "kafka_reader.h"
#include "log.h"

#define DEFAULT_TIMEOUT_MS 10000
#define MAX_TOPICS 64

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

/* Each event as one line on stdout. */
static int print_event(void *opaque, const char *topic, int32_t partition,
                       int64_t offset, const void *payload, size_t len) {
  (void)topic;
  (void)partition;
  (void)offset;
  unsigned long *printed = opaque;
  if (payload) {
    fwrite(payload, 1, len, stdout);
    fputc('\n', stdout);
    (*printed)++;
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
    case 'T':
      if (sp_cli_long(optarg, 1, 86400000, &timeout_ms)) {
        fprintf(stderr,
                "simpkictl events dump: --timeout-ms must be a number of "
                "milliseconds between 1 and 86400000, not \"%s\"\n",
                optarg);
        return SP_EXIT_USAGE;
      }
      break;
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

  unsigned long printed = 0;
  rd_kafka_t *rk = sp_reader_new_to_end(bootstrap, "dump", err, sizeof(err));
  if (!rk) {
    sp_error("events dump failed", "error", err);
    return SP_EXIT_FAIL;
  }
  int rc = sp_reader_read_to_end(rk, topics, ntopics, timeout_ms, NULL,
                                 print_event, &printed, err, sizeof(err))
               ? SP_EXIT_FAIL
               : SP_EXIT_OK;
  if (fflush(stdout) != 0 || ferror(stdout)) {
    snprintf(err, sizeof(err), "cannot write to stdout");
    rc = SP_EXIT_FAIL;
  }
  if (rc != SP_EXIT_OK)
    sp_error("events dump failed", "error", err);
  else {
    char n[24];
    snprintf(n, sizeof(n), "%lu", printed);
    sp_info("events dumped", "count", n);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
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
