/* cmd_sla.c - `simpkictl sla`: the deadlines of Flow A's contacts (A5),
 * counted in Vietnamese working days (common/calendar.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "cli.h"
#include "cmds.h"
#include "config.h"

#define DEFAULT_HOLIDAY_DIR SIMPKI_SOURCE_DIR "/data/holidays"

typedef struct sla_sub {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} sla_sub;

static int cmd_deadline(int argc, char **argv);

static const sla_sub subs[] = {
    {"deadline", cmd_deadline,
     "when a period of working days from a notice runs out"},
    {"list", sp_cmd_sla_list, "the connection cases and their deadlines"},
    {"contacted", sp_cmd_sla_contacted,
     "record that a case's person was contacted"},
};
#define NSUBS (sizeof subs / sizeof subs[0])

static void usage_sla(FILE *fp) {
  fprintf(fp, "Usage: simpkictl sla [--help] SUBCOMMAND [OPTIONS]\n\n"
              "Subcommands:\n");
  for (size_t i = 0; i < NSUBS; i++)
    fprintf(fp, "  %-9s %s\n", subs[i].name, subs[i].summary);
  fprintf(fp, "\nRun 'simpkictl sla SUBCOMMAND --help' for its options.\n");
}

/* ---- deadline ---- */

static void usage_deadline(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl sla deadline --from TIME --working-days N "
          "[--holidays DIR]\n\n"
          "Prints when a period of N working days from a notice received\n"
          "at TIME runs out, e.g. 2026-02-25T23:59:59+07:00, and nothing\n"
          "else. Counting starts the day after receipt; the deadline is the\n"
          "end of the last working day counted (Civil Code 2015, art. 147).\n"
          "Working days: Monday to Friday in Vietnam (UTC+7), less the\n"
          "holidays and days off in lieu, plus the make-up working days of\n"
          "the holiday files (docs/calendar.md). A warning on stderr names\n"
          "the provisional entries the count crossed.\n\n"
          "Options:\n"
          "  --from TIME         YYYY-MM-DDTHH:MM (Vietnamese time), or\n"
          "                      ISO 8601 with an offset (2026-02-13T03:00Z)\n"
          "  --working-days N    0 to %d\n"
          "  --holidays DIR      the holiday files, YYYY.txt (default\n"
          "                      $SIMPKI_HOLIDAY_DIR, else %s)\n"
          "  --help              show this help\n\n"
          "Exit status: 0 done, 1 no holiday data for a year or a bad\n"
          "holiday file (reason on stderr), 2 usage.\n",
          SP_CAL_MAX_WORKING_DAYS, DEFAULT_HOLIDAY_DIR);
}

static int deadline_usage_error(const char *what, const char *arg) {
  fprintf(stderr, "simpkictl sla deadline: %s%s\n\n", what, arg ? arg : "");
  usage_deadline(stderr);
  return SP_EXIT_USAGE;
}

static int cmd_deadline(int argc, char **argv) {
  static const struct option opts[] = {
      {"from", required_argument, NULL, 'f'},
      {"working-days", required_argument, NULL, 'w'},
      {"holidays", required_argument, NULL, 'd'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *prog = "simpkictl sla deadline";
  const char *from = NULL, *days = NULL, *dir = NULL;
  for (int i = 1; i < argc; i++)
    if (sp_is_help(argv[i])) {
      usage_deadline(stdout);
      return SP_EXIT_OK;
    }
  optind = 0; /* GNU: rescan a new argument vector from scratch */
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    switch (ch) {
    case 'f':
      from = optarg;
      break;
    case 'w':
      days = optarg;
      break;
    case 'd':
      dir = optarg;
      break;
    default:
      return deadline_usage_error("bad option or missing value: ",
                                  argv[optind - 1]);
    }
  }
  if (optind < argc)
    return deadline_usage_error("unexpected argument: ", argv[optind]);
  if (!from || !days)
    return deadline_usage_error("give --from and --working-days", NULL);

  char err[1024];
  time_t received;
  if (sp_cal_parse_time(from, &received, err, sizeof err))
    return deadline_usage_error("--from: ", err);
  long n;
  if (sp_cli_long(days, 0, SP_CAL_MAX_WORKING_DAYS, &n)) {
    snprintf(err, sizeof err, "\"%.40s\": expected a number from 0 to %d",
             days, SP_CAL_MAX_WORKING_DAYS);
    return deadline_usage_error("--working-days: ", err);
  }
  if (!dir && sp_config_str("SIMPKI_HOLIDAY_DIR", DEFAULT_HOLIDAY_DIR, &dir,
                            err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", prog, err);
    return SP_EXIT_FAIL;
  }

  sp_cal *cal;
  if (sp_cal_load_dir(dir, &cal, err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", prog, err);
    return SP_EXIT_FAIL;
  }
  time_t deadline;
  int rc = sp_cal_deadline(cal, received, (int)n, &deadline, err, sizeof err);
  if (rc) {
    fprintf(stderr, "%s: %s\n", prog, err);
    sp_cal_free(cal);
    return SP_EXIT_FAIL;
  }
  const sp_cal_entry *e;
  size_t np = sp_cal_provisional_between(cal, received, deadline, &e);
  if (np)
    fprintf(stderr,
            "%s: warning: this deadline depends on %zu provisional "
            "holiday entr%s, not yet officially announced (the first: "
            "%04d-%02d-%02d %s)\n",
            prog, np, np == 1 ? "y" : "ies", e->year, e->month, e->day,
            e->name);
  char out[SP_CAL_TIME_LEN + 1];
  sp_cal_format_time(deadline, out);
  printf("%s\n", out);
  sp_cal_free(cal);
  return SP_EXIT_OK;
}

int sp_cmd_sla(int argc, char **argv) {
  if (argc < 2) {
    usage_sla(stderr);
    return SP_EXIT_USAGE;
  }
  if (sp_is_help(argv[1])) {
    usage_sla(stdout);
    return SP_EXIT_OK;
  }
  for (size_t i = 0; i < NSUBS; i++)
    if (!strcmp(argv[1], subs[i].name))
      return subs[i].run(argc - 1, argv + 1);
  fprintf(stderr, "simpkictl sla: unknown subcommand \"%s\"\n\n", argv[1]);
  usage_sla(stderr);
  return SP_EXIT_USAGE;
}
