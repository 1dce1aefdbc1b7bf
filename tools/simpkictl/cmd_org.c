/* cmd_org.c - `simpkictl org load`: the CTKVs and their shops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "org.h"

#define ORG_MAX_BYTES (4 * 1024 * 1024)

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl org load FILE\n\n"
          "Loads the regional companies (CTKV 1-9) and their shops from a\n"
          "JSON file (deploy/local/org.sample.json shows the form). All or\n"
          "nothing; loading again updates names and adds what is new, but a\n"
          "shop never moves to another CTKV.\n\n"
          "Exit status: 0 loaded, 1 refused or failed (reason on stderr),\n"
          "2 usage.\n\n"
          "Environment: SIMPKI_DB_URL (required).\n");
}

typedef struct org_tx {
  const iv_org *org;
  long added;
  int refused;
} org_tx;

static int org_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  org_tx *t = arg;
  int rc = iv_org_store(c, t->org, &t->added, errstr, errlen);
  t->refused = rc == 1;
  return rc == 0 ? SP_DB_OK : rc == 1 ? SP_DB_REJECT : SP_DB_ERROR;
}

int sp_cmd_org(int argc, char **argv) {
  const char *prog = "simpkictl org load";
  if (argc >= 2 && sp_is_help(argv[1])) {
    usage(stdout);
    return SP_EXIT_OK;
  }
  if (argc == 3 && sp_is_help(argv[2])) {
    usage(stdout);
    return SP_EXIT_OK;
  }
  if (argc != 3 || strcmp(argv[1], "load") != 0) {
    usage(stderr);
    return SP_EXIT_USAGE;
  }
  char err[1024];
  size_t len;
  char *text = sp_cli_read_file(argv[2], ORG_MAX_BYTES, &len, err, sizeof err);
  if (!text) {
    fprintf(stderr, "%s: %s\n", prog, err);
    return SP_EXIT_FAIL;
  }
  iv_org org;
  int bad = iv_org_parse(text, len, &org, err, sizeof err);
  free(text);
  if (bad) {
    fprintf(stderr, "%s: %s: %s\n", prog, argv[2], err);
    return SP_EXIT_FAIL;
  }
  sp_db *db = sp_cli_open_db(prog);
  if (!db) {
    iv_org_free(&org);
    return SP_EXIT_FAIL;
  }
  org_tx t = {&org, 0, 0};
  int rc = sp_db_tx(db, org_fn, &t, err, sizeof err);
  sp_db_close(db);
  if (rc != SP_DB_OK) {
    fprintf(stderr, "%s: %s%s\n", prog, t.refused ? "refused: " : "", err);
    iv_org_free(&org);
    return SP_EXIT_FAIL;
  }
  printf("%zu CTKVs, %zu shops and %zu departments loaded (%ld new)\n",
         org.nctkvs, org.nshops, org.ndepts, t.added);
  iv_org_free(&org);
  return SP_EXIT_OK;
}
