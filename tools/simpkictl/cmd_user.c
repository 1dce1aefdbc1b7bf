/* cmd_user.c - `simpkictl user add|renew`: users of the services' HTTP APIs
 * and their tokens. */
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
          "[--shop SHOP]\n"
          "                          [--token-days N]\n"
          "       simpkictl user renew USER_ID [--token-days N]\n\n"
          "add creates a user of the HTTP APIs (inventory, order-intake, the\n"
          "dashboard) and prints its API token on stdout, once: only the\n"
          "token's SHA-256 is stored. Roles: ban_khdn, ban_khcn, tt_tctk, ctkv\n"
          "(with --ctkv), shop (with --shop), bcycp and auditor; what each may\n"
          "do is in README, \"Access\".\n\n"
          "renew gives the user a new token, printed the same way, and the old\n"
          "one stops working at once: for a token about to expire, expired, or\n"
          "lost. A disabled user is not renewed.\n\n"
          "Every token expires: --token-days N (1 to %d, default %d) days\n"
          "after it is made; from then on the services answer 401 \"token\n"
          "expired\". The end is printed on stderr.\n\n"
          "Exit status: 0 done, 1 refused or failed (reason on stderr),\n"
          "2 usage.\n\n"
          "Environment: SIMPKI_DB_URL (required), SIMPKI_OPERATOR (who\n"
          "creates or renews it, recorded).\n",
          IV_TOKEN_DAYS_MAX, IV_TOKEN_DAYS_DEFAULT);
}

typedef struct user_tx {
  const iv_principal *who; /* add; NULL: renew who->user of id */
  const char *id;
  int days;
  char token[IV_TOKEN_HEX + 1];
  char expires[IV_EXPIRES_MAX];
  int refused;
} user_tx;

static int user_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  user_tx *t = arg;
  int rc = t->who ? iv_user_add(c, t->who, sp_cli_actor(), t->days, t->token,
                                t->expires, errstr, errlen)
                  : iv_user_renew(c, t->id, sp_cli_actor(), t->days, t->token,
                                  t->expires, errstr, errlen);
  t->refused = rc == 1;
  return rc == 0 ? SP_DB_OK : rc == 1 ? SP_DB_REJECT : SP_DB_ERROR;
}

int sp_cmd_user(int argc, char **argv) {
  if (argc >= 2 && sp_is_help(argv[1])) {
    usage(stdout);
    return SP_EXIT_OK;
  }
  int renew = argc >= 2 && !strcmp(argv[1], "renew");
  if (argc < 3 || (!renew && strcmp(argv[1], "add") != 0)) {
    usage(stderr);
    return SP_EXIT_USAGE;
  }
  const char *prog = renew ? "simpkictl user renew" : "simpkictl user add";
  static const struct option opts[] = {
      {"role", required_argument, NULL, 'r'},
      {"ctkv", required_argument, NULL, 'c'},
      {"shop", required_argument, NULL, 's'},
      {"token-days", required_argument, NULL, 'd'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *role = NULL, *ctkv = "", *shop = "";
  int days = IV_TOKEN_DAYS_DEFAULT;
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
    case 'd':
      days = iv_token_days_parse(optarg);
      if (days < 0) {
        fprintf(stderr, "%s: --token-days must be a whole number of days "
                        "from 1 to %d\n", prog, IV_TOKEN_DAYS_MAX);
        return SP_EXIT_USAGE;
      }
      break;
    case 'h':
      usage(stdout);
      return SP_EXIT_OK;
    default:
      usage(stderr);
      return SP_EXIT_USAGE;
    }
  }
  if (renew && (role || *ctkv || *shop)) {
    fprintf(stderr, "%s: a renewal keeps the user's role and scope; only "
                    "--token-days may be given\n", prog);
    return SP_EXIT_USAGE;
  }
  if (optind + 1 != argc - 1 || (!renew && !role)) {
    fprintf(stderr, "%s: one USER_ID%s is required\n", prog,
            renew ? "" : " and --role");
    return SP_EXIT_USAGE;
  }
  const char *id = argv[optind + 1];
  iv_principal who = {0};
  if (!renew) {
    int r = iv_role_parse(role);
    if (r < 0) {
      fprintf(stderr, "%s: unknown role \"%s\"\n", prog, role);
      return SP_EXIT_USAGE;
    }
    who.role = (iv_role)r;
    if (strlen(id) >= sizeof who.user || strlen(ctkv) >= sizeof who.ctkv ||
        strlen(shop) >= sizeof who.shop) {
      fprintf(stderr, "%s: an id is too long\n", prog);
      return SP_EXIT_FAIL;
    }
    strcpy(who.user, id);
    strcpy(who.ctkv, ctkv);
    strcpy(who.shop, shop);
  } else if (!*id || strlen(id) > IV_USER_MAX) {
    fprintf(stderr, "%s: the user id must be 1 to %d characters\n", prog,
            IV_USER_MAX);
    return SP_EXIT_USAGE;
  }
  sp_db *db = sp_cli_open_db(prog);
  if (!db)
    return SP_EXIT_FAIL;
  user_tx t = {renew ? NULL : &who, id, days, "", "", 0};
  char err[1024];
  int rc = sp_db_tx(db, user_fn, &t, err, sizeof err);
  sp_db_close(db);
  if (rc != SP_DB_OK) {
    fprintf(stderr, "%s: %s%s\n", prog, t.refused ? "refused: " : "", err);
    sp_wipe(t.token, sizeof t.token);
    return SP_EXIT_FAIL;
  }
  printf("%s\n", t.token);
  fflush(stdout);
  sp_wipe(t.token, sizeof t.token);
  if (renew)
    fprintf(stderr, "user %s has a new token (above, shown once), valid "
                    "until %s (%d days); the old one no longer works\n",
            id, t.expires, days);
  else
    fprintf(stderr, "user %s (%s) created; the token above is shown once and "
                    "is valid until %s (%d days)\n",
            who.user, role, t.expires, days);
  return SP_EXIT_OK;
}
