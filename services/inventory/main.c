/* main.c - inventory: wires the HTTP API (http_api.c) and the outbox
 * relay around custody.c. */
#include <stdio.h>
#include <string.h>

#include "custody.h"
#include "http_api.h"
#include "kafka.h"
#include "sales.h"
#include "log.h"
#include "outbox.h"
#include "service.h"
#include "shutdown.h"

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: inventory [--help]\n\n"
          "The SIMs' custody after the HLR (B7-B8, Flow A at a shop): Ban\n"
          "KHDN hands ranges of provisioned SIMs over to the CTKVs, a CTKV\n"
          "stocks them in and moves them to its shops, a shop takes a\n"
          "walk-in customer's SIM at once. Every call carries a user's API\n"
          "token (simpkictl user add) and is checked against its role and\n"
          "scope. Each move is one set-based statement and one event on the\n"
          "topic %s, through the outbox relay. A shop connects a SIM to a\n"
          "customer through hlr-provisioner (topic connections), sells it\n"
          "with a VAT invoice and records its delivery.\n\n"
          "HTTP (SIMPKI_HTTP_ADDR:SIMPKI_HTTP_PORT, default 127.0.0.1:8085):\n"
          "  POST /v1/handovers, /v1/stock-ins, /v1/transfers, /v1/walk-ins,\n"
          "  /v1/connections (B9), /v1/sales (B10), /v1/deliveries (B11);\n"
          "  GET /v1/stock, /v1/connections/ID, /v1/invoices/SERIES/NUMBER\n"
          "  [?format=html], GET /healthz, GET /metrics\n\n"
          "Environment: SIMPKI_DB_URL, SIMPKI_KAFKA_BOOTSTRAP (required);\n"
          "SIMPKI_HTTP_ADDR, SIMPKI_HTTP_PORT, SIMPKI_LOG_LEVEL (see README).\n",
          IV_TOPIC_SIMS);
}

static sp_handle_result on_answer(PGconn *tx, const sp_event *ev,
                                  void *opaque, char *errstr, size_t errlen) {
  (void)opaque;
  int rc = iv_connect_answer(tx, ev, errstr, errlen);
  return rc < 0 ? SP_HANDLE_RETRY : rc > 0 ? SP_HANDLE_REJECT : SP_HANDLE_OK;
}

static int health(void *opaque, char *detail, size_t len) {
  iv_api *api = opaque;
  pthread_mutex_lock(&api->lock);
  PGconn *c = sp_db_ready(api->db);
  int ok = c && PQstatus(c) == CONNECTION_OK;
  pthread_mutex_unlock(&api->lock);
  snprintf(detail, len, "database %s", ok ? "connected" : "unreachable");
  return ok;
}

int main(int argc, char **argv) {
  sp_service_env env;
  int code;
  if (sp_service_init("inventory", argc, argv, usage, 8085, &env, &code))
    return code;
  char err[1024] = "";
  iv_api api = {0};
  pthread_mutex_init(&api.lock, NULL);
  sp_relay *relay = NULL;
  sp_http_server *http = NULL;
  sp_db *consumer_db = NULL;
  sp_consumer *consumer = NULL;
  int rc = 1;
  if (!(api.db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)) ||
      !(consumer_db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)))
    goto out;
  sp_relay_conf rconf = {.producer = IV_PRODUCER, .conninfo = env.db_url,
                         .bootstrap = env.bootstrap};
  if (!(relay = sp_relay_new(&rconf, err, sizeof err)) ||
      sp_relay_start(relay, err, sizeof err))
    goto out;
  /* hlr-provisioner's answers to connection requests (B9). */
  const char *topics[] = {IV_TOPIC_CONNECTIONS, NULL};
  sp_consumer_conf cconf = {.bootstrap = env.bootstrap,
                            .group_id = "inventory",
                            .topics = topics,
                            .handler = on_answer};
  if (!(consumer = sp_consumer_new(&cconf, consumer_db, err, sizeof err)))
    goto out;
  sp_http_route routes[16];
  sp_http_conf hconf = {.bind_addr = env.http_addr,
                        .port = (int)env.http_port,
                        .routes = routes,
                        .nroutes = iv_api_routes(&api, routes, 16),
                        .health = health,
                        .health_opaque = &api};
  if (!(http = sp_http_start(&hconf, err, sizeof err)))
    goto out;
  char port[16];
  snprintf(port, sizeof port, "%d", sp_http_port(http));
  sp_info("inventory started", "http_port", port);
  rc = sp_consumer_run(consumer, NULL) == 0 ? 0 : 1;
  sp_info("inventory stopping");
out:
  if (rc && err[0])
    sp_error("inventory failed", "error", err);
  sp_http_stop(http);
  sp_consumer_destroy(consumer);
  sp_relay_destroy(relay);
  sp_db_close(consumer_db);
  sp_db_close(api.db);
  pthread_mutex_destroy(&api.lock);
  return rc;
}
