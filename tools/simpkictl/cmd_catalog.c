/* cmd_catalog.c - `simpkictl tariffs load` and `simpkictl numbers load`:
 * the data shops sell from (B9, B10). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "cmds.h"

#define CATALOG_MAX_BYTES (16 * 1024 * 1024)

typedef struct load_tx {
  int numbers;
  const char *text;
  size_t len;
  long a, b;
  int refused;
} load_tx;

static int load_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  load_tx *t = arg;
  int rc = t->numbers ? iv_numbers_load(c, t->text, t->len, &t->a, &t->b,
                                        errstr, errlen)
                      : iv_tariffs_load(c, t->text, t->len, &t->a, errstr,
                                        errlen);
  t->refused = rc == 1;
  return rc == 0 ? SP_DB_OK : rc == 1 ? SP_DB_REJECT : SP_DB_ERROR;
}

static int run(int numbers, int argc, char **argv) {
  const char *prog = numbers ? "simpkictl numbers" : "simpkictl tariffs";
  if (argc >= 2 && sp_is_help(argv[argc - 1])) {
    if (numbers)
      printf("Usage: simpkictl numbers load FILE\n\n"
             "Adds phone numbers to the pool new subscriptions pick from\n"
             "(B9): one a line, 0912..., 84912... or +84 912 ...; blank\n"
             "lines and # comments skipped; numbers already there are left\n"
             "as they are. (The IMSI/ICCID plan is `simpkictl numbering`.)\n\n");
    else
      printf("Usage: simpkictl tariffs load FILE\n\n"
             "Loads the tariff packages (JSON, deploy/local/tariffs.sample.json\n"
             "shows the form): connection fee and package price in đồng\n"
             "before VAT, and the VAT rate. A package loaded again gets its\n"
             "new prices; invoices already issued keep theirs.\n\n");
    printf("All or nothing. Exit status: 0 loaded, 1 refused or failed\n"
           "(reason on stderr), 2 usage.\n\n"
           "Environment: SIMPKI_DB_URL (required).\n");
    return SP_EXIT_OK;
  }
  if (argc != 3 || strcmp(argv[1], "load") != 0) {
    fprintf(stderr, "usage: %s load FILE (see --help)\n", prog);
    return SP_EXIT_USAGE;
  }
  char err[1024];
  size_t len;
  char *text =
      sp_cli_read_file(argv[2], CATALOG_MAX_BYTES, &len, err, sizeof err);
  if (!text) {
    fprintf(stderr, "%s: %s\n", prog, err);
    return SP_EXIT_FAIL;
  }
  sp_db *db = sp_cli_open_db(prog);
  if (!db) {
    free(text);
    return SP_EXIT_FAIL;
  }
  load_tx t = {numbers, text, len, 0, 0, 0};
  int rc = sp_db_tx(db, load_fn, &t, err, sizeof err);
  sp_db_close(db);
  free(text);
  if (rc != SP_DB_OK) {
    fprintf(stderr, "%s: %s: %s\n", prog, argv[2], err);
    return SP_EXIT_FAIL;
  }
  if (numbers)
    printf("%ld numbers read, %ld new in the pool\n", t.b, t.a);
  else
    printf("%ld tariff packages loaded\n", t.a);
  return SP_EXIT_OK;
}

int sp_cmd_tariffs(int argc, char **argv) { return run(0, argc, argv); }
int sp_cmd_numbers(int argc, char **argv) { return run(1, argc, argv); }
