/* users.h - inventory's users: created by `simpkictl user add` with a token
 * shown once, recognised by the token's hash on every API call. */
#ifndef IV_USERS_H
#define IV_USERS_H

#include <libpq-fe.h>
#include <stddef.h>

#include "access.h"

/* Room for a token's end as iv_user_add and iv_user_renew write it,
 * "2026-02-24T10:00:00Z". */
#define IV_EXPIRES_MAX 32

/* Create user_id with who's role and scope (who.user is the new user's id;
 * a shop's CTKV is looked up). token (IV_TOKEN_HEX + 1) receives the new
 * token, which only its hash outlives; it expires token_days days from now
 * (1 to IV_TOKEN_DAYS_MAX), written to expires (IV_EXPIRES_MAX, UTC). 0, 1
 * refused (errstr: a bad role or scope, an unknown CTKV or shop, the user
 * exists, a bad life), -1 database trouble. */
int iv_user_add(PGconn *tx, const iv_principal *who, const char *created_by,
                int token_days, char *token, char *expires, char *errstr,
                size_t errlen);

/* A new token for user_id, living token_days days: the old token stops
 * working at once; renewed_by is recorded. token and expires as for iv_user_add. 0; 1 refused
 * (no such user, a disabled one, a bad life); -1 database trouble. */
int iv_user_renew(PGconn *tx, const char *user_id, const char *renewed_by,
                  int token_days, char *token, char *expires, char *errstr,
                  size_t errlen);

/* Who holds token: 1 with *who; 0 refused: unknown, disabled or expired;
 * -1 database trouble. When expired is not NULL it is set to 1 for a token
 * refused only because its life has ended (who->user then names its user,
 * for the log; nothing else is set), else 0. The token itself is never
 * logged or stored. */
int iv_authenticate(PGconn *c, const char *token, iv_principal *who,
                    int *expired, char *errstr, size_t errlen);

#endif
