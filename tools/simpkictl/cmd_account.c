/* cmd_account.c - `simpkictl account unlock`: an operator reopens a signing
 * account's recovery (services/accounts/account.h). */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "cli.h"
#include "cmds.h"
#include "log.h"

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl account unlock LOGIN\n\n"
          "Reopens the password recovery (locked after a 4th OTP request in\n"
          "a row) and the login of the signing account LOGIN (its phone\n"
          "number, 84... or 0...), after the customer called the hotline.\n"
          "Logged and recorded (recovery.unlocked) with who did it:\n"
          "$SIMPKI_OPERATOR.\n\n"
          "Exit status: 0 unlocked, 1 no such account or failed, 2 usage.\n\n"
          "Environment: SIMPKI_DB_URL (required), SIMPKI_OPERATOR.\n");
}

typedef struct unlock_tx {
  const char *login;
  int done;
} unlock_tx;

static int unlock_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  unlock_tx *t = arg;
  int rc = ac_unlock(c, t->login, sp_cli_actor(), errstr, errlen);
  t->done = rc == 1;
  return rc < 0 ? SP_DB_ERROR : rc == 0 ? SP_DB_REJECT : SP_DB_OK;
}

int sp_cmd_account(int argc, char **argv) {
  if (argc >= 2 && sp_is_help(argv[argc - 1])) {
    usage(stdout);
    return SP_EXIT_OK;
  }
  if (argc != 3 || strcmp(argv[1], "unlock") != 0) {
    usage(stderr);
    return SP_EXIT_USAGE;
  }
  sp_db *db = sp_cli_open_db("simpkictl account unlock");
  if (!db)
    return SP_EXIT_FAIL;
  unlock_tx t = {argv[2], 0};
  char err[512];
  int rc = sp_db_tx(db, unlock_fn, &t, err, sizeof err);
  sp_db_close(db);
  if (rc != SP_DB_OK) {
    fprintf(stderr, "simpkictl account unlock: %s\n", err);
    return SP_EXIT_FAIL;
  }
  sp_info("account unlocked", "login", argv[2], "by", sp_cli_actor());
  printf("account %s unlocked\n", argv[2]);
  return SP_EXIT_OK;
}
