/* http_api.h - order-intake's HTTP API (on the common HTTP server).
 *
 *   POST /v1/orders          {"document": base64, "signature": base64}
 *   GET  /v1/orders/{id}     the order (id or BCYCP reference), batches,
 *                            timeline
 *   GET  /v1/vendors/{id}
 *   POST /v1/registrations?ref=REF   a notice: text/csv (ref required) or
 *                            application/json
 *
 * The order's CMS signature is its credential; the other routes need a
 * user's token ("Authorization: Bearer TOKEN", http_auth.h): the orders and
 * vendors the head office, BCYCP and auditors read, notices BCYCP and Ban
 * KHDN send (README, "Access").
 *
 * Refusals are 4xx with {"error": reason, "code": code}; 503 when the
 * database is unreachable (retry later). */
#ifndef OI_HTTP_API_H
#define OI_HTTP_API_H

#include <pthread.h>

#include "db.h"
#include "http.h"
#include "intake.h"

typedef struct oi_api {
  sp_db *db;          /* used under lock: handlers run on many threads */
  const oi_conf *conf;
  pthread_mutex_t lock;
} oi_api;

/* The routes, pointing at api (which must outlive the server). */
size_t oi_api_routes(oi_api *api, sp_http_route *routes, size_t cap);

#endif
