/* users.c - the users table. */
#include "users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "db.h"

/* A token's end as iv_user_add and iv_user_renew give it back. */
#define EXPIRES_SQL                                                          \
  "to_char(token_expires_at AT TIME ZONE 'UTC', "                            \
  "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static int days_ok(int days, char *errstr, size_t errlen) {
  if (days >= 1 && days <= IV_TOKEN_DAYS_MAX)
    return 1;
  snprintf(errstr, errlen, "a token lives 1 to %d days, not %d",
           IV_TOKEN_DAYS_MAX, days);
  return 0;
}

int iv_user_add(PGconn *tx, const iv_principal *in, const char *created_by,
                int token_days, char *token, char *expires, char *errstr,
                size_t errlen) {
  iv_principal who = *in;
  token[0] = '\0';
  expires[0] = '\0';
  if (!days_ok(token_days, errstr, errlen))
    return 1;
  if (who.role == IV_ROLE_SHOP && who.shop[0]) {
    /* The shop's CTKV comes from the organisation, not from the caller. */
    const char *p[] = {who.shop};
    PGresult *r = sp_db_query(
        tx, "SELECT ctkv_id FROM shops WHERE shop_id = $1", 1, p, errstr,
        errlen);
    if (!r)
      return -1;
    int found = PQntuples(r) == 1;
    if (found)
      snprintf(who.ctkv, sizeof who.ctkv, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!found) {
      snprintf(errstr, errlen, "no shop %s (load the organisation first)",
               who.shop);
      return 1;
    }
  }
  if (iv_principal_check(&who, errstr, errlen))
    return 1;
  if (who.role == IV_ROLE_CTKV) {
    const char *p[] = {who.ctkv};
    PGresult *r = sp_db_query(tx, "SELECT 1 FROM ctkvs WHERE ctkv_id = $1",
                              1, p, errstr, errlen);
    if (!r)
      return -1;
    int found = PQntuples(r) == 1;
    PQclear(r);
    if (!found) {
      snprintf(errstr, errlen, "no %s (load the organisation first)",
               who.ctkv);
      return 1;
    }
  }
  char hash[IV_TOKEN_HEX + 1];
  if (iv_token_new(token) || iv_token_hash(token, hash)) {
    sp_wipe(token, IV_TOKEN_HEX + 1);
    snprintf(errstr, errlen, "cannot make a token (random generator)");
    return -1;
  }
  char days[16];
  snprintf(days, sizeof days, "%d", token_days);
  const char *p[] = {who.user, iv_role_name(who.role),
                     who.role == IV_ROLE_CTKV ? who.ctkv : NULL,
                     who.role == IV_ROLE_SHOP ? who.shop : NULL, hash,
                     created_by, days};
  PGresult *r = sp_db_query(
      tx,
      "INSERT INTO users (user_id, role, ctkv_id, shop_id, token_sha256, "
      "created_by, token_expires_at) VALUES ($1, $2, $3, $4, $5, $6, now() + "
      "make_interval(days => $7::int)) ON CONFLICT (user_id) DO NOTHING "
      "RETURNING " EXPIRES_SQL,
      7, p, errstr, errlen);
  if (!r) {
    sp_wipe(token, IV_TOKEN_HEX + 1);
    if (!strcmp(sp_db_last_sqlstate(), "23514")) { /* the id's CHECK */
      snprintf(errstr, errlen,
               "user id \"%.64s\" must be 2 to 64 of a-z, 0-9, '.', '_', '-'",
               who.user);
      return 1;
    }
    return -1;
  }
  int added = PQntuples(r) == 1;
  if (added)
    snprintf(expires, IV_EXPIRES_MAX, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  if (!added) {
    sp_wipe(token, IV_TOKEN_HEX + 1);
    snprintf(errstr, errlen, "user %s exists already", who.user);
    return 1;
  }
  return 0;
}

int iv_user_renew(PGconn *tx, const char *user_id, const char *renewed_by,
                  int token_days, char *token, char *expires, char *errstr,
                  size_t errlen) {
  token[0] = '\0';
  expires[0] = '\0';
  if (!days_ok(token_days, errstr, errlen))
    return 1;
  char hash[IV_TOKEN_HEX + 1], days[16];
  if (iv_token_new(token) || iv_token_hash(token, hash)) {
    sp_wipe(token, IV_TOKEN_HEX + 1);
    snprintf(errstr, errlen, "cannot make a token (random generator)");
    return -1;
  }
  snprintf(days, sizeof days, "%d", token_days);
  /* The row is locked by the UPDATE; a disabled user stays disabled and
   * gets no token. */
  const char *p[] = {user_id, hash, days, renewed_by};
  PGresult *r = sp_db_query(
      tx,
      "UPDATE users SET token_sha256 = $2, token_expires_at = now() + "
      "make_interval(days => $3::int), token_renewed_at = now(), "
      "token_renewed_by = $4 WHERE user_id = $1 AND disabled_at IS NULL "
      "RETURNING " EXPIRES_SQL,
      4, p, errstr, errlen);
  if (!r) {
    sp_wipe(token, IV_TOKEN_HEX + 1);
    return -1;
  }
  int renewed = PQntuples(r) == 1;
  if (renewed)
    snprintf(expires, IV_EXPIRES_MAX, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  if (renewed)
    return 0;
  sp_wipe(token, IV_TOKEN_HEX + 1);
  const char *pu[] = {user_id};
  r = sp_db_query(tx, "SELECT 1 FROM users WHERE user_id = $1", 1, pu,
                  errstr, errlen);
  if (!r)
    return -1;
  int exists = PQntuples(r) == 1;
  PQclear(r);
  snprintf(errstr, errlen, exists ? "user %.64s is disabled" : "no user %.64s",
           user_id);
  return 1;
}

int iv_authenticate(PGconn *c, const char *token, iv_principal *who,
                    int *expired, char *errstr, size_t errlen) {
  char hash[IV_TOKEN_HEX + 1];
  memset(who, 0, sizeof *who);
  if (expired)
    *expired = 0;
  if (!token || iv_token_hash(token, hash))
    return 0; /* not a token at all */
  const char *p[] = {hash};
  /* The end and now both from the database's clock, in microseconds. */
  PGresult *r = sp_db_query(
      c,
      "SELECT u.user_id, u.role, coalesce(u.ctkv_id, s.ctkv_id, ''), "
      "coalesce(u.shop_id, ''), u.token_expires_at IS NOT NULL, "
      "coalesce((extract(epoch FROM u.token_expires_at) * 1000000)::bigint, "
      "0), (extract(epoch FROM now()) * 1000000)::bigint FROM users u LEFT "
      "JOIN shops s USING (shop_id) WHERE u.token_sha256 = $1 AND "
      "u.disabled_at IS NULL",
      1, p, errstr, errlen);
  if (!r)
    return -1;
  int found = PQntuples(r) == 1;
  if (found && !iv_token_live(PQgetvalue(r, 0, 4)[0] == 't',
                              strtoll(PQgetvalue(r, 0, 5), NULL, 10),
                              strtoll(PQgetvalue(r, 0, 6), NULL, 10))) {
    found = 0;
    if (expired)
      *expired = 1;
    snprintf(who->user, sizeof who->user, "%s", PQgetvalue(r, 0, 0));
  } else if (found) {
    snprintf(who->user, sizeof who->user, "%s", PQgetvalue(r, 0, 0));
    who->role = (iv_role)iv_role_parse(PQgetvalue(r, 0, 1));
    snprintf(who->ctkv, sizeof who->ctkv, "%s", PQgetvalue(r, 0, 2));
    snprintf(who->shop, sizeof who->shop, "%s", PQgetvalue(r, 0, 3));
  }
  PQclear(r);
  return found;
}
