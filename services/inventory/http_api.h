/* http_api.h - inventory's HTTP API (on the common HTTP server). Every call
 * carries "Authorization: Bearer TOKEN" (simpkictl user add gives one);
 * the token's user must be allowed the operation on its target (access.h).
 *
 *   POST /v1/handovers  {"ctkv", "purpose", "iccid_first", "iccid_last"}  B7
 *   POST /v1/stock-ins  {"iccid_first", "iccid_last"[, "ctkv"]}           B8
 *   POST /v1/transfers  {"shop", "iccid_first", "iccid_last"}   to a shop
 *   POST /v1/walk-ins   {"shop", "iccid"}          Flow A: one SIM at once
 *   GET  /v1/stock[?ctkv=ID|shop=ID]   SIMs per state, in the caller's scope
 *
 * Answers are JSON. Refusals: 400 bad request, 401 no or unknown token,
 * 403 not allowed (logged with who and what), 404 unknown CTKV or shop,
 * 409 the SIMs may not move (the first one's reason); nothing is changed.
 * 503 when the database is unreachable. */
#ifndef IV_HTTP_API_H
#define IV_HTTP_API_H

#include <pthread.h>

#include "db.h"
#include "http.h"

typedef struct iv_api {
  sp_db *db; /* used under lock: handlers run on many threads */
  pthread_mutex_t lock;
} iv_api;

size_t iv_api_routes(iv_api *api, sp_http_route *routes, size_t cap);

#endif
