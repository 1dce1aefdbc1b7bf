/* http_auth.h - the API token of an HTTP request, checked against the users
 * table (users.h), with one set of answers for every service that takes
 * tokens (inventory, order-intake, the dashboard):
 *
 *   401 no_token       no "Authorization: Bearer TOKEN" header, or an empty
 *                      token
 *   401 bad_token      a token no user holds, or a disabled user's
 *   401 token_expired  a user's token past its end
 *   503 unavailable    the users table cannot be read
 *   403 forbidden      a known user the rule (access.h) refuses, with why
 *
 * A refusal says nothing else (not whose token it was); the log line names
 * the path and, once known, the user. The token is never logged. */
#ifndef IV_HTTP_AUTH_H
#define IV_HTTP_AUTH_H

#include <libpq-fe.h>

#include "access.h"
#include "http.h"

/* The token of "Authorization: Bearer TOKEN" (the scheme in any case):
 * NULL when there is no such header, "" when the token is empty. */
const char *iv_http_bearer(const sp_http_request *req);

/* Who sent req, holding token (NULL or "": none given): 1 with *who; 0
 * refused, answered in resp and logged. c is a connection the caller may
 * use now. */
int iv_http_caller(PGconn *c, const sp_http_request *req, const char *token,
                   sp_http_response *resp, iv_principal *who);

/* iv_may with the answer: 1 allowed; 0 refused, answered 403 with the
 * reason and logged with who and what. */
int iv_http_allowed(const iv_principal *who, iv_op op, const char *ctkv,
                    const char *shop, const sp_http_request *req,
                    sp_http_response *resp);

#endif
