/* cmd_vendor.c - `simpkictl vendor`: the vendor registry and pilots (B2). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "intake.h"
#include "log.h"

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl vendor add ID --name NAME\n"
          "       simpkictl vendor agreement ID --ref REF --date YYYY-MM-DD "
          "--signed-by WHO\n"
          "       simpkictl vendor pilot-pass ID --evidence TEXT\n"
          "       simpkictl vendor pilot-fail ID --reason TEXT\n"
          "       simpkictl vendor show ID\n"
          "       simpkictl vendor input|ingest|simulate ...  (the vendor "
          "files, B3/B4;\n"
          "                 see simpkictl vendor input --help)\n\n"
          "The SIM vendor registry (B2). A vendor new to MobiFone needs a\n"
          "confidentiality agreement before BCYCP's order is taken; its first\n"
          "order then starts a pilot batch of 5-10 SIMs, and its production\n"
          "batches wait until the pilot is passed here. A failed pilot blocks\n"
          "the vendor and its waiting orders.\n\n"
          "ID is 2-32 of A-Z 0-9 - _. The acting operator is $SIMPKI_OPERATOR\n"
          "(else $USER). Exit status: 0 done, 1 refused (reason on stderr),\n"
          "2 usage.\n\n"
          "Environment: SIMPKI_DB_URL (required).\n");
}

int sp_cmd_vendor(int argc, char **argv) {
  if (argc < 2 || sp_is_help(argv[1])) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? SP_EXIT_USAGE : SP_EXIT_OK;
  }
  const char *sub = argv[1];
  if (sp_is_vendor_files_command(sub))
    return sp_cmd_vendor_files(argc, argv);
  static const struct option opts[] = {
      {"name", required_argument, NULL, 'n'},
      {"ref", required_argument, NULL, 'r'},
      {"date", required_argument, NULL, 'd'},
      {"signed-by", required_argument, NULL, 's'},
      {"evidence", required_argument, NULL, 'e'},
      {"reason", required_argument, NULL, 'x'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *name = NULL, *ref = NULL, *date = NULL, *by = NULL,
             *evidence = NULL, *reason = NULL;
  optind = 2;
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'n': name = optarg; break;
    case 'r': ref = optarg; break;
    case 'd': date = optarg; break;
    case 's': by = optarg; break;
    case 'e': evidence = optarg; break;
    case 'x': reason = optarg; break;
    case 'h': usage(stdout); return SP_EXIT_OK;
    default: usage(stderr); return SP_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "simpkictl vendor %s: give exactly one vendor ID\n", sub);
    usage(stderr);
    return SP_EXIT_USAGE;
  }
  const char *id = argv[optind];
  int known = !strcmp(sub, "add") || !strcmp(sub, "agreement") ||
              !strcmp(sub, "pilot-pass") || !strcmp(sub, "pilot-fail") ||
              !strcmp(sub, "show");
  if (!known) {
    fprintf(stderr, "simpkictl vendor: unknown subcommand \"%s\"\n", sub);
    usage(stderr);
    return SP_EXIT_USAGE;
  }
  sp_db *db = sp_cli_open_db("simpkictl vendor");
  if (!db)
    return SP_EXIT_FAIL;
  char err[1024] = "";
  oi_error e = OI_OK;
  oi_result res = {0};
  const char *actor = sp_cli_actor();
  if (!strcmp(sub, "add"))
    e = oi_vendor_add(db, id, name, actor, err, sizeof err);
  else if (!strcmp(sub, "agreement"))
    e = oi_vendor_agreement(db, id, ref, date, by, actor, err, sizeof err);
  else if (!strcmp(sub, "pilot-pass"))
    e = oi_vendor_pilot_result(db, id, 1, evidence, actor, &res, err,
                               sizeof err);
  else if (!strcmp(sub, "pilot-fail"))
    e = oi_vendor_pilot_result(db, id, 0, reason, actor, &res, err,
                               sizeof err);
  if (e == OI_OK) {
    json_t *v = oi_vendor_get(db, id, &e, err, sizeof err);
    if (v) {
      if (!strcmp(sub, "pilot-pass"))
        json_object_set_new(v, "released_batches", json_integer(res.count));
      char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
      printf("%s\n", s);
      free(s);
      json_decref(v);
    }
  }
  sp_db_close(db);
  if (e != OI_OK) {
    fprintf(stderr, "simpkictl vendor %s: %s (%s)\n", sub, err,
            oi_error_code(e));
    return SP_EXIT_FAIL;
  }
  return SP_EXIT_OK;
}
