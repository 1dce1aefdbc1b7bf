/* cmd_registration.c - `simpkictl registration import`: a Cục CTS & BMTT
 * notice of people registering for SIM PKI (A4). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "event.h"
#include "intake.h"
#include "registration.h"

#define MAX_NOTICE_BYTES (16 * 1024 * 1024)

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl registration import FILE [--ref NOTICE_REF]\n"
          "                                     [--format csv|json]\n\n"
          "Imports a notice: every person becomes a connection case whose\n"
          "contact deadline (3 working days, A5) the notifier tracks. The\n"
          "whole file is refused on the first bad line; nothing is written\n"
          "then but the event saying so. The same file again is recognised.\n\n"
          "CSV (UTF-8, header row): agency,full_name,id_number,msisdn,\n"
          "  wants_new_number; --ref names the notice (required for CSV).\n"
          "JSON: {\"notice_ref\": ..., \"persons\": [{agency, full_name,\n"
          "  id_number, msisdn?, wants_new_number}]}.\n"
          "The format follows the file name (.csv / .json) unless given.\n\n"
          "Exit status: 0 imported, 1 refused (reason on stderr), 2 usage.\n"
          "Environment: SIMPKI_DB_URL (required).\n");
}

int sp_cmd_registration(int argc, char **argv) {
  if (argc < 2 || sp_is_help(argv[1])) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? SP_EXIT_USAGE : SP_EXIT_OK;
  }
  if (strcmp(argv[1], "import") != 0) {
    fprintf(stderr, "simpkictl registration: unknown subcommand \"%s\"\n",
            argv[1]);
    usage(stderr);
    return SP_EXIT_USAGE;
  }
  static const struct option opts[] = {
      {"ref", required_argument, NULL, 'r'},
      {"format", required_argument, NULL, 'f'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *ref = NULL, *format = NULL;
  optind = 2;
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'r': ref = optarg; break;
    case 'f': format = optarg; break;
    case 'h': usage(stdout); return SP_EXIT_OK;
    default: usage(stderr); return SP_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "simpkictl registration import: give exactly one file\n");
    return SP_EXIT_USAGE;
  }
  const char *file = argv[optind];
  if (!format) {
    const char *dot = strrchr(file, '.');
    format = dot && !strcmp(dot, ".json") ? "json" : "csv";
  }
  if (strcmp(format, "csv") && strcmp(format, "json")) {
    fprintf(stderr, "simpkictl registration import: --format is csv or json\n");
    return SP_EXIT_USAGE;
  }
  if (!strcmp(format, "csv") && !ref) {
    fprintf(stderr, "simpkictl registration import: a CSV notice needs "
                    "--ref NOTICE_REF (the reference of Cục CTS's letter)\n");
    return SP_EXIT_USAGE;
  }
  char err[1024];
  size_t len = 0;
  char *buf = sp_cli_read_file(file, MAX_NOTICE_BYTES, &len, err, sizeof err);
  if (!buf) {
    fprintf(stderr, "simpkictl registration import: %s\n", err);
    return SP_EXIT_FAIL;
  }
  sp_db *db = sp_cli_open_db("simpkictl registration import");
  if (!db) {
    free(buf);
    return SP_EXIT_FAIL;
  }
  oi_notice n;
  oi_error e = !strcmp(format, "csv")
                   ? oi_notice_parse_csv(buf, len, ref, &n, err, sizeof err)
                   : oi_notice_parse_json(buf, len, &n, err, sizeof err);
  oi_result res = {0};
  if (e != OI_OK) {
    oi_reject_notice(db, ref, e, err, "cli");
  } else {
    char sha[SP_EVENT_HASH_HEX + 1];
    sp_sha256_hex(buf, len, sha);
    e = oi_import_notice(db, &n, sha, "cli", &res, err, sizeof err);
    oi_notice_clear(&n);
  }
  free(buf);
  sp_db_close(db);
  if (e != OI_OK) {
    fprintf(stderr, "simpkictl registration import: refused (%s): %s\n",
            oi_error_code(e), err);
    return SP_EXIT_FAIL;
  }
  printf("{\"notice_id\": \"%s\", \"persons\": %ld, \"existing\": %s}\n",
         res.id, res.count, res.existing ? "true" : "false");
  return SP_EXIT_OK;
}
