/* users.c - the users table. */
#include "users.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "db.h"

int iv_user_add(PGconn *tx, const iv_principal *in, const char *created_by,
                char *token, char *errstr, size_t errlen) {
  iv_principal who = *in;
  token[0] = '\0';
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
  const char *p[] = {who.user, iv_role_name(who.role),
                     who.role == IV_ROLE_CTKV ? who.ctkv : NULL,
                     who.role == IV_ROLE_SHOP ? who.shop : NULL, hash,
                     created_by};
  PGresult *r = sp_db_query(
      tx,
      "INSERT INTO users (user_id, role, ctkv_id, shop_id, token_sha256, "
      "created_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO "
      "NOTHING RETURNING 1",
      6, p, errstr, errlen);
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
  PQclear(r);
  if (!added) {
    sp_wipe(token, IV_TOKEN_HEX + 1);
    snprintf(errstr, errlen, "user %s exists already", who.user);
    return 1;
  }
  return 0;
}

int iv_authenticate(PGconn *c, const char *token, iv_principal *who,
                    char *errstr, size_t errlen) {
  char hash[IV_TOKEN_HEX + 1];
  memset(who, 0, sizeof *who);
  if (!token || iv_token_hash(token, hash))
    return 0; /* not a token at all */
  const char *p[] = {hash};
  PGresult *r = sp_db_query(
      c,
      "SELECT u.user_id, u.role, coalesce(u.ctkv_id, s.ctkv_id, ''), "
      "coalesce(u.shop_id, '') FROM users u LEFT JOIN shops s USING "
      "(shop_id) WHERE u.token_sha256 = $1 AND u.disabled_at IS NULL",
      1, p, errstr, errlen);
  if (!r)
    return -1;
  int found = PQntuples(r) == 1;
  if (found) {
    snprintf(who->user, sizeof who->user, "%s", PQgetvalue(r, 0, 0));
    who->role = (iv_role)iv_role_parse(PQgetvalue(r, 0, 1));
    snprintf(who->ctkv, sizeof who->ctkv, "%s", PQgetvalue(r, 0, 2));
    snprintf(who->shop, sizeof who->shop, "%s", PQgetvalue(r, 0, 3));
  }
  PQclear(r);
  return found;
}
