/* users.h - inventory's users: created by `simpkictl user add` with a token
 * shown once, recognised by the token's hash on every API call. */
#ifndef IV_USERS_H
#define IV_USERS_H

#include <libpq-fe.h>
#include <stddef.h>

#include "access.h"

/* Create user_id with who's role and scope (who.user is the new user's id;
 * a shop's CTKV is looked up). token (IV_TOKEN_HEX + 1) receives the new
 * token, which only its hash outlives. 0, 1 refused (errstr: a bad role or
 * scope, an unknown CTKV or shop, the user exists), -1 database trouble. */
int iv_user_add(PGconn *tx, const iv_principal *who, const char *created_by,
                char *token, char *errstr, size_t errlen);

/* Who holds token: 1 with *who, 0 unknown or disabled, -1 database
 * trouble. The token itself is never logged or stored. */
int iv_authenticate(PGconn *c, const char *token, iv_principal *who,
                    char *errstr, size_t errlen);

#endif
