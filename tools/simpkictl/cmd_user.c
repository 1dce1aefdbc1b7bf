/* cmd_user.c - `simpkictl user add`: an inventory user and its API token. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "crypto.h"
#include "users.h"

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl user add USER_ID --role ROLE [--ctkv CTKV] "
          "[--shop SHOP]\n\n"
          "Creates a user of the inventory API and prints its API token on\n"
          "stdout, once: only the token's SHA-256 is stored, so a lost token\n"
          "means a new user. Roles: ban_khdn, ban_khcn, tt_tctk, ctkv (with\n"
          "--ctkv), shop (with --shop), bcycp and auditor (read-only).\n\n"
          "Exit status: 0 created, 1 refused or failed (reason on stderr),\n"
          "2 usage.\n\n"
          "Environment: SIMPKI_DB_URL (required), SIMPKI_OPERATOR (who\n"
          "creates it, recorded).\n");
}

typedef struct add_tx {
  const iv_principal *who;
  char token[IV_TOKEN_HEX + 1];
  int refused;
} add_tx;

static int add_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  add_tx *t = arg;
  int rc = iv_user_add(c, t->who, sp_cli_actor(), t->token, errstr, errlen);
  t->refused = rc == 1;
  return rc == 0 ? SP_DB_OK : rc == 1 ? SP_DB_REJECT : SP_DB_ERROR;
}

int sp_cmd_user(int argc, char **argv) {
  const char *prog = "simpkictl user add";
  if (argc >= 2 && sp_is_help(argv[1])) {
    usage(stdout);
    return SP_EXIT_OK;
  }
  if (argc < 3 || strcmp(argv[1], "add") != 0) {
    usage(stderr);
    return SP_EXIT_USAGE;
  }
  static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
                                       {"ctkv", required_argument, NULL, 'c'},
                                       {"shop", required_argument, NULL, 's'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *role = NULL, *ctkv = "", *shop = "";
  optind = 1;
  int o;
  while ((o = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
    switch (o) {
    case 'r':
      role = optarg;
      break;
    case 'c':
      ctkv = optarg;
      break;
    case 's':
      shop = optarg;
      break;
    case 'h':
      usage(stdout);
      return SP_EXIT_OK;
    default:
      usage(stderr);
      return SP_EXIT_USAGE;
    }
  }
  if (optind + 1 != argc - 1 || !role) {
    fprintf(stderr, "%s: one USER_ID and --role are required\n", prog);
    return SP_EXIT_USAGE;
  }
  iv_principal who = {0};
  int r = iv_role_parse(role);
  if (r < 0) {
    fprintf(stderr, "%s: unknown role \"%s\"\n", prog, role);
    return SP_EXIT_USAGE;
  }
  who.role = (iv_role)r;
  const char *id = argv[optind + 1];
  if (strlen(id) >= sizeof who.user || strlen(ctkv) >= sizeof who.ctkv ||
      strlen(shop) >= sizeof who.shop) {
    fprintf(stderr, "%s: an id is too long\n", prog);
    return SP_EXIT_FAIL;
  }
  strcpy(who.user, id);
  strcpy(who.ctkv, ctkv);
  strcpy(who.shop, shop);
  sp_db *db = sp_cli_open_db(prog);
  if (!db)
    return SP_EXIT_FAIL;
  add_tx t = {&who, "", 0};
  char err[1024];
  int rc = sp_db_tx(db, add_fn, &t, err, sizeof err);
  sp_db_close(db);
  if (rc != SP_DB_OK) {
    fprintf(stderr, "%s: %s%s\n", prog, t.refused ? "refused: " : "", err);
    sp_wipe(t.token, sizeof t.token);
    return SP_EXIT_FAIL;
  }
  printf("%s\n", t.token);
  fflush(stdout);
  sp_wipe(t.token, sizeof t.token);
  fprintf(stderr, "user %s (%s) created; the token above is shown once\n",
          who.user, role);
  return SP_EXIT_OK;
}
