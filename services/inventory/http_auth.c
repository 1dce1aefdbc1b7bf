/* http_auth.c - bearer tokens and the 401/403 answers (http_auth.h). */
#include "http_auth.h"

#include <jansson.h>
#include <strings.h>

#include "log.h"
#include "users.h"

static void refuse(sp_http_response *resp, int status, const char *code,
                   const char *why) {
  sp_http_json(resp, status,
               json_pack("{s:s, s:s}", "error", why, "code", code));
}

const char *iv_http_bearer(const sp_http_request *req) {
  const char *h = sp_http_header(req, "Authorization");
  if (!h || strncasecmp(h, "Bearer", 6) != 0)
    return NULL;
  if (h[6] == '\0')
    return ""; /* "Bearer" alone: the server trimmed the blank after it */
  if (h[6] != ' ')
    return NULL;
  h += 7;
  while (*h == ' ')
    h++;
  return h;
}

int iv_http_caller(PGconn *c, const sp_http_request *req, const char *token,
                   sp_http_response *resp, iv_principal *who) {
  if (!token || !*token) {
    refuse(resp, 401, "no_token",
           "an \"Authorization: Bearer TOKEN\" header is required");
    return 0;
  }
  char err[512];
  int expired = 0;
  int found = iv_authenticate(c, token, who, &expired, err, sizeof err);
  if (found < 0) {
    sp_warn("cannot check a token", "path", req->path, "error", err);
    refuse(resp, 503, "unavailable", "the database is unreachable; retry");
    return 0;
  }
  if (!found && expired) {
    sp_warn("request refused: token expired", "user", who->user, "path",
            req->path);
    refuse(resp, 401, "token_expired",
           "the token has expired: ask for a renewed one");
    return 0;
  }
  if (!found) {
    sp_warn("request refused: unknown token", "path", req->path);
    refuse(resp, 401, "bad_token", "the token is unknown or disabled");
    return 0;
  }
  return 1;
}

int iv_http_allowed(const iv_principal *who, iv_op op, const char *ctkv,
                    const char *shop, const sp_http_request *req,
                    sp_http_response *resp) {
  char why[512];
  if (iv_may(who, op, ctkv, shop, why, sizeof why))
    return 1;
  sp_warn("request refused: not allowed", "user", who->user, "role",
          iv_role_name(who->role), "op", iv_op_name(op), "path", req->path,
          "reason", why);
  refuse(resp, 403, "forbidden", why);
  return 0;
}
