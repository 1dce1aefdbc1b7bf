/* cmd_report.c - `simpkictl report reconcile`: đối soát (reconcile.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "reconcile.h"

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl report reconcile [--order REF] [--from DATE]\n"
          "                                  [--to DATE] [--ctkv CTKV]\n"
          "                                  [--format json|csv]\n\n"
          "Per BCYCP order and batch, per CTKV and in total: the SIMs in each\n"
          "state (produced, provisioned, hlr_failed, handed_over, in_stock,\n"
          "at_shop, connected, sold, delivered, faulty, returned) and the\n"
          "invoiced amounts in đồng (invoices, subtotal, VAT, total, paid,\n"
          "debt), read in one snapshot. --order takes BCYCP's reference or\n"
          "the order id; --from/--to (YYYY-MM-DD, inclusive) keep the SIMs\n"
          "stored and the invoices issued in the period. JSON by default.\n\n"
          "Exit status: 0 printed, 1 refused or failed, 2 usage.\n\n"
          "Environment: SIMPKI_DB_URL (required).\n");
}

int sp_cmd_report(int argc, char **argv) {
  const char *prog = "simpkictl report reconcile";
  if (argc >= 2 && sp_is_help(argv[1])) {
    usage(stdout);
    return SP_EXIT_OK;
  }
  if (argc < 2 || strcmp(argv[1], "reconcile") != 0) {
    usage(stderr);
    return SP_EXIT_USAGE;
  }
  static const struct option opts[] = {
      {"order", required_argument, NULL, 'o'},
      {"from", required_argument, NULL, 'f'},
      {"to", required_argument, NULL, 't'},
      {"ctkv", required_argument, NULL, 'c'},
      {"format", required_argument, NULL, 'F'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  iv_reconcile_filter f = {0};
  const char *format = "json";
  optind = 1;
  int o;
  while ((o = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
    switch (o) {
    case 'o': f.order = optarg; break;
    case 'f': f.from = optarg; break;
    case 't': f.to = optarg; break;
    case 'c': f.ctkv = optarg; break;
    case 'F': format = optarg; break;
    case 'h': usage(stdout); return SP_EXIT_OK;
    default: usage(stderr); return SP_EXIT_USAGE;
    }
  }
  if (optind != argc - 1 || (strcmp(format, "json") && strcmp(format, "csv"))) {
    fprintf(stderr, "%s: no arguments besides the options; --format is json "
                    "or csv\n", prog);
    return SP_EXIT_USAGE;
  }
  sp_db *db = sp_cli_open_db(prog);
  if (!db)
    return SP_EXIT_FAIL;
  char err[1024];
  int bad = 0;
  json_t *report = iv_reconcile(sp_db_conn(db), &f, &bad, err, sizeof err);
  sp_db_close(db);
  if (!report) {
    fprintf(stderr, "%s: %s\n", prog, err);
    return SP_EXIT_FAIL;
  }
  char *text = !strcmp(format, "csv")
                   ? iv_reconcile_csv(report)
                   : json_dumps(report, JSON_INDENT(2));
  json_decref(report);
  if (!text) {
    fprintf(stderr, "%s: out of memory\n", prog);
    return SP_EXIT_FAIL;
  }
  fputs(text, stdout);
  if (strcmp(format, "csv"))
    fputc('\n', stdout);
  free(text);
  return fflush(stdout) == 0 ? SP_EXIT_OK : SP_EXIT_FAIL;
}
