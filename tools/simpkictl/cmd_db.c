/* cmd_db.c - `simpkictl db`: schema migrations and their status. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "config.h"
#include "log.h"
#include "migrate.h"

#define DEFAULT_CONNECT_WAIT_MS 30000

static void usage_db(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl db [--help] SUBCOMMAND [OPTIONS]\n\n"
          "Subcommands:\n"
          "  migrate  apply the pending schema migrations\n"
          "  status   list applied and pending migrations\n\n"
          "Run 'simpkictl db SUBCOMMAND --help' for its options.\n");
}

static void usage_sub(FILE *fp, const char *sub) {
  fprintf(fp,
          "Usage: simpkictl db %s [--dir DIR] [--help]\n\n", sub);
  if (!strcmp(sub, "migrate"))
    fprintf(fp,
            "Applies every pending NNNN_name.sql file of DIR in version order,\n"
            "each in its own transaction, under an advisory lock (several\n"
            "migrators at once are safe). Refuses to run when a file is\n"
            "badly named, a version is duplicated, or an applied file was\n"
            "changed.\n\n");
  else
    fprintf(fp, "Lists every migration version with its state (applied,\n"
                "pending, changed, renamed, missing, out-of-order); exits 1\n"
                "when the database and the files disagree.\n\n");
  fprintf(fp,
          "Options:\n"
          "  --dir DIR  migration folder (default $SIMPKI_SCHEMA_DIR/sql)\n"
          "  --help     show this help\n\n"
          "Environment:\n"
          "  SIMPKI_DB_URL               libpq connection string (required)\n"
          "  SIMPKI_DB_CONNECT_WAIT_MS   how long to wait for the server "
          "(default %d)\n"
          "  SIMPKI_SCHEMA_DIR           schema folder (default %s/schemas)\n",
          DEFAULT_CONNECT_WAIT_MS, SIMPKI_SOURCE_DIR);
}

static int run_sub(int argc, char **argv, const char *sub,
                   int (*fn)(const char *, const char *, long)) {
  static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *dir = NULL;
  optind = 0; /* GNU: rescan a new argument vector from scratch */
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "+d:h", opts, NULL)) != -1) {
    switch (ch) {
    case 'd':
      dir = optarg;
      break;
    case 'h':
      usage_sub(stdout, sub);
      return SP_EXIT_OK;
    default:
      fprintf(stderr, "simpkictl db %s: bad option or missing value: %s\n\n",
              sub, argv[optind - 1]);
      usage_sub(stderr, sub);
      return SP_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "simpkictl db %s: unexpected argument \"%s\"\n\n", sub,
            argv[optind]);
    usage_sub(stderr, sub);
    return SP_EXIT_USAGE;
  }

  char err[512];
  const char *url, *schema_dir;
  long wait_ms;
  if (sp_config_str("SIMPKI_DB_URL", SP_CONFIG_REQUIRED, &url, err,
                    sizeof(err)) != 0 ||
      sp_config_long("SIMPKI_DB_CONNECT_WAIT_MS", 0, DEFAULT_CONNECT_WAIT_MS,
                     0, 3600000, &wait_ms, err, sizeof(err)) != 0 ||
      sp_config_str("SIMPKI_SCHEMA_DIR", SIMPKI_SOURCE_DIR "/schemas",
                    &schema_dir, err, sizeof(err)) != 0) {
    sp_error("bad configuration", "error", err);
    return SP_EXIT_FAIL;
  }
  char defdir[4096];
  if (!dir) {
    snprintf(defdir, sizeof(defdir), "%s/sql", schema_dir);
    dir = defdir;
  }
  return fn(dir, url, wait_ms);
}

int sp_cmd_db(int argc, char **argv) {
  if (argc < 2) {
    usage_db(stderr);
    return SP_EXIT_USAGE;
  }
  if (sp_is_help(argv[1])) {
    usage_db(stdout);
    return SP_EXIT_OK;
  }
  if (!strcmp(argv[1], "migrate"))
    return run_sub(argc - 1, argv + 1, "migrate", sp_mig_run);
  if (!strcmp(argv[1], "status"))
    return run_sub(argc - 1, argv + 1, "status", sp_mig_status);
  fprintf(stderr, "simpkictl db: unknown subcommand \"%s\"\n\n", argv[1]);
  usage_db(stderr);
  return SP_EXIT_USAGE;
}
