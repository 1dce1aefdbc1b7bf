/* http_api.h - the dashboard's routes on the common HTTP server:
 *   GET /                    the page (no data in it; it asks for a token)
 *   GET /static/NAME         its CSS and JavaScript
 *   GET /api/state           the whole state as JSON
 *   GET /api/orders/ID       one BCYCP order's drill-down
 *   GET /api/events          the state again at every change, as
 *                            server-sent events ("event: state")
 * The /api routes need the token of a user (simpkictl user add) of the
 * role auditor or ban_khdn: "Authorization: Bearer TOKEN", or ?token=TOKEN
 * for /api/events (a browser's EventSource sends no headers). 401 without
 * a known token, 403 for another role. Read-only. */
#ifndef DASHBOARD_HTTP_API_H
#define DASHBOARD_HTTP_API_H

#include <pthread.h>

#include "dashboard.h"
#include "db.h"
#include "http.h"

typedef struct ds_api {
  ds_shared *sh;
  sp_db *db; /* the users table only: tokens are not in the events */
  pthread_mutex_t db_lock;
} ds_api;

/* Fills routes (at least 5); returns how many. */
size_t ds_api_routes(ds_api *api, sp_http_route *routes, size_t max);
/* The state the page shows: state, services, reader; under sh->lock. */
json_t *ds_api_state_json(ds_api *api);

#endif
