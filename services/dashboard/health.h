/* health.h - the services' health and outbox lag, polled from their HTTP
 * servers (GET /healthz, GET /metrics) every few seconds. The parsing is
 * pure; the poller is a thread (libcurl). */
#ifndef DASHBOARD_HEALTH_H
#define DASHBOARD_HEALTH_H

#include <jansson.h>
#include <stddef.h>

typedef struct ds_service {
  char name[48];
  char url[256];   /* http://host:port, no trailing slash */
  int checked;     /* polled at least once */
  int healthy;     /* /healthz answered 200 */
  long status;     /* its HTTP status, 0 when unreachable */
  char detail[160];
  int has_lag;     /* /metrics had simpki_outbox_lag */
  double lag;      /* summed over the service's producers */
  long long checked_ms; /* wall clock of the last poll */
} ds_service;

/* "name=http://host:port,name=http://host:port" (SIMPKI_DASHBOARD_SERVICES;
 * spaces around items ignored, empty is none). -1 with errstr naming the
 * bad item. *out is malloc'd. */
int ds_services_parse(const char *spec, ds_service **out, size_t *n,
                      char *errstr, size_t errlen);
/* The sum of the simpki_outbox_lag samples in a Prometheus text page
 * (NaN and infinite samples left out): 0 with *lag, or -1 when there is
 * none or the sum is not finite. */
int ds_outbox_lag(const char *metrics, double *lag);
json_t *ds_services_json(const ds_service *s, size_t n);

struct ds_shared;
typedef struct ds_health ds_health;
/* Polls sh->services every interval_ms on its own thread. */
ds_health *ds_health_start(struct ds_shared *sh, long interval_ms,
                           char *errstr, size_t errlen);
void ds_health_stop(ds_health *h);

#endif
