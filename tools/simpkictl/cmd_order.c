/* cmd_order.c - `simpkictl order`: submit a signed BCYCP order (B1), show
 * one with its batches and timeline. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "intake.h"
#include "signature.h"

#define MAX_DOCUMENT_BYTES (1024 * 1024)

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl order submit FILE --signature SIGFILE\n"
          "       simpkictl order show ID|BCYCP_REF\n\n"
          "submit  takes BCYCP's order document FILE (JSON, schema\n"
          "        schemas/documents/bcycp-order.json) and the officer's\n"
          "        detached CMS signature over its exact bytes (DER or PEM).\n"
          "        The signature is checked (sigverify) before anything is\n"
          "        written. The same document again returns the same order.\n"
          "show    prints the order, its batches and its timeline as JSON.\n\n"
          "Exit status: 0 done, 1 refused (reason on stderr), 2 usage.\n\n"
          "Environment: SIMPKI_DB_URL (required), SIMPKI_SIG_TRUST_DIR\n"
          "(required for submit), SIMPKI_SIG_CRL_DIR, SIMPKI_SIG_POOL_DIR,\n"
          "SIMPKI_ORDER_MAX_QUANTITY, SIMPKI_ORDER_MAX_BATCH, "
          "SIMPKI_OPERATOR.\n");
}

static int print_order(sp_db *db, const char *id) {
  char err[512];
  oi_error e;
  json_t *o = oi_order_get(db, id, &e, err, sizeof err);
  if (!o) {
    fprintf(stderr, "simpkictl order show: %s\n", err);
    return SP_EXIT_FAIL;
  }
  char *s = json_dumps(o, JSON_INDENT(2));
  printf("%s\n", s);
  free(s);
  json_decref(o);
  return SP_EXIT_OK;
}

static int submit(const char *file, const char *sigfile) {
  char err[1024];
  oi_conf conf;
  if (oi_conf_load(&conf, err, sizeof err) ||
      oi_signature_open(&conf, err, sizeof err)) {
    fprintf(stderr, "simpkictl order submit: %s\n", err);
    return SP_EXIT_FAIL;
  }
  size_t doclen = 0, siglen = 0;
  char *doc = sp_cli_read_file(file, MAX_DOCUMENT_BYTES, &doclen, err,
                               sizeof err);
  char *sig = doc ? sp_cli_read_file(sigfile, MAX_DOCUMENT_BYTES, &siglen,
                                     err, sizeof err)
                  : NULL;
  int rc = SP_EXIT_FAIL;
  sp_db *db = NULL;
  if (!sig) {
    fprintf(stderr, "simpkictl order submit: %s\n", err);
  } else if ((db = sp_cli_open_db("simpkictl order submit"))) {
    oi_result res;
    oi_error e = oi_submit_order(db, &conf, doc, doclen, sig, siglen, "cli",
                                 sp_cli_actor(), &res, err, sizeof err);
    if (e == OI_OK) {
      fprintf(stderr, "%s %s (%s)\n",
              res.existing ? "already taken as" : "accepted as", res.id,
              res.state);
      rc = print_order(db, res.id);
    } else {
      fprintf(stderr, "simpkictl order submit: refused (%s): %s\n",
              oi_error_code(e), err);
    }
  }
  sp_db_close(db);
  free(doc);
  free(sig);
  oi_signature_close(&conf);
  return rc;
}

int sp_cmd_order(int argc, char **argv) {
  if (argc < 2 || sp_is_help(argv[1])) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? SP_EXIT_USAGE : SP_EXIT_OK;
  }
  const char *sub = argv[1];
  static const struct option opts[] = {
      {"signature", required_argument, NULL, 's'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *sigfile = NULL;
  optind = 2;
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == 's')
      sigfile = optarg;
    else if (c == 'h') {
      usage(stdout);
      return SP_EXIT_OK;
    } else {
      usage(stderr);
      return SP_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "simpkictl order %s: give exactly one %s\n", sub,
            !strcmp(sub, "show") ? "order id" : "order file");
    return SP_EXIT_USAGE;
  }
  if (!strcmp(sub, "submit")) {
    if (!sigfile) {
      fprintf(stderr, "simpkictl order submit: --signature SIGFILE is "
                      "required (an unsigned order is never taken)\n");
      return SP_EXIT_USAGE;
    }
    return submit(argv[optind], sigfile);
  }
  if (!strcmp(sub, "show")) {
    sp_db *db = sp_cli_open_db("simpkictl order show");
    if (!db)
      return SP_EXIT_FAIL;
    int rc = print_order(db, argv[optind]);
    sp_db_close(db);
    return rc;
  }
  fprintf(stderr, "simpkictl order: unknown subcommand \"%s\"\n", sub);
  usage(stderr);
  return SP_EXIT_USAGE;
}
