/* main.c - dashboard: wires the topic reader (reader.c), the services'
 * health poller (health.c) and the HTTP API (http_api.c) around the state
 * folded from the events (state.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "dashboard.h"
#include "health.h"
#include "http_api.h"
#include "log.h"
#include "reader.h"
#include "service.h"
#include "shutdown.h"

#define DEFAULT_HOLIDAY_DIR SIMPKI_SOURCE_DIR "/data/holidays"
#define HEALTH_EVERY_MS 5000

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: dashboard [--help]\n\n"
          "The operations dashboard: the B1-B11 flow live in the browser.\n"
          "Reads the event topics from their beginning and keeps following\n"
          "them (its own throw-away group id, no group membership, no\n"
          "commits), and serves one page: per BCYCP order and batch where\n"
          "its SIMs are (SIMs per state, a funnel across the steps), the\n"
          "SIMs per CTKV, the A5 deadlines due and breached, the HLR loading\n"
          "rate, each service's health and outbox lag, the latest events,\n"
          "and per order its timeline. The page updates itself through\n"
          "server-sent events. Everything shown comes from the events; the\n"
          "database is read only for the users' tokens. Read-only; the /api\n"
          "routes need the token of a user of the role auditor or ban_khdn\n"
          "(simpkictl user add NAME --role auditor).\n\n"
          "HTTP (SIMPKI_HTTP_ADDR:SIMPKI_HTTP_PORT, default 127.0.0.1:8088):\n"
          "  GET / (the page; open it as /#token=TOKEN or type the token),\n"
          "  GET /static/NAME, GET /api/state, GET /api/orders/ID,\n"
          "  GET /api/events (text/event-stream; ?token=TOKEN),\n"
          "  GET /healthz, GET /metrics\n\n"
          "Environment: SIMPKI_DB_URL, SIMPKI_KAFKA_BOOTSTRAP (required);\n"
          "SIMPKI_DASHBOARD_SERVICES (NAME=http://HOST:PORT,... the services\n"
          "whose /healthz and /metrics are shown), SIMPKI_HOLIDAY_DIR,\n"
          "SIMPKI_KAFKA_CONFIG, SIMPKI_HTTP_ADDR, SIMPKI_HTTP_PORT,\n"
          "SIMPKI_LOG_LEVEL (see README).\n");
}

static int health(void *opaque, char *detail, size_t len) {
  ds_api *api = opaque;
  pthread_mutex_lock(&api->db_lock);
  PGconn *c = sp_db_ready(api->db);
  int ok = c && PQstatus(c) == CONNECTION_OK;
  pthread_mutex_unlock(&api->db_lock);
  pthread_mutex_lock(&api->sh->lock);
  snprintf(detail, len, "database %s; topics %s, %lu events%s%.80s",
           ok ? "connected" : "unreachable",
           api->sh->caught_up ? "read" : "being read",
           ds_state_events(api->sh->state),
           api->sh->kafka_error[0] ? "; kafka: " : "", api->sh->kafka_error);
  pthread_mutex_unlock(&api->sh->lock);
  return ok;
}

int main(int argc, char **argv) {
  sp_service_env env;
  int code;
  if (sp_service_init("dashboard", argc, argv, usage, 8088, &env, &code))
    return code;
  char err[1024] = "";
  const char *hdir = NULL, *services = NULL;
  sp_cal *cal = NULL;
  ds_service *svc = NULL;
  size_t nsvc = 0;
  if (sp_config_str("SIMPKI_HOLIDAY_DIR", DEFAULT_HOLIDAY_DIR, &hdir, err,
                    sizeof err) ||
      sp_config_str("SIMPKI_DASHBOARD_SERVICES", "", &services, err,
                    sizeof err) ||
      ds_services_parse(services, &svc, &nsvc, err, sizeof err) ||
      sp_cal_load_dir(hdir, &cal, err, sizeof err)) {
    sp_error("cannot start", "error", err);
    free(svc);
    return 2;
  }
  ds_state *state = ds_state_new(cal);
  ds_shared sh;
  ds_api api = {.sh = &sh};
  ds_reader *reader = NULL;
  ds_health *poller = NULL;
  sp_http_server *http = NULL;
  int rc = 1, shared = 0;
  pthread_mutex_init(&api.db_lock, NULL);
  if (!state || ds_shared_init(&sh, state)) {
    snprintf(err, sizeof err, "out of memory");
    goto out;
  }
  shared = 1;
  sh.services = svc;
  sh.nservices = nsvc;
  if (!(api.db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)) ||
      !(reader = ds_reader_start(env.bootstrap, &sh, err, sizeof err)) ||
      !(poller = ds_health_start(&sh, HEALTH_EVERY_MS, err, sizeof err)))
    goto out;
  sp_http_route routes[8];
  sp_http_conf hconf = {.bind_addr = env.http_addr,
                        .port = (int)env.http_port,
                        .routes = routes,
                        .nroutes = ds_api_routes(&api, routes, 8),
                        .health = health,
                        .health_opaque = &api};
  if (!(http = sp_http_start(&hconf, err, sizeof err)))
    goto out;
  char port[16], n[16];
  snprintf(port, sizeof port, "%d", sp_http_port(http));
  snprintf(n, sizeof n, "%zu", nsvc);
  sp_info("dashboard started", "http_port", port, "services", n);
  while (!sp_shutdown_sleep(1000, NULL))
    ;
  sp_info("dashboard stopping");
  rc = 0;
out:
  if (rc && err[0])
    sp_error("dashboard failed", "error", err);
  if (shared)
    ds_shared_stop(&sh);
  sp_http_stop(http);
  ds_reader_stop(reader);
  ds_health_stop(poller);
  sp_db_close(api.db);
  if (shared)
    ds_shared_destroy(&sh);
  pthread_mutex_destroy(&api.db_lock);
  ds_state_free(state);
  free(svc);
  sp_cal_free(cal);
  return rc;
}
