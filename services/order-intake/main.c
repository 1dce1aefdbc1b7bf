/* main.c - order-intake: wires the HTTP API, the inbound topic and the
 * outbox relay around intake.c. */
#include <stdio.h>
#include <string.h>

#include "http_api.h"
#include "inbound.h"
#include "kafka.h"
#include "log.h"
#include "outbox.h"
#include "service.h"
#include "signature.h"

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: order-intake [--help]\n\n"
          "Takes BCYCP's signed orders (B1) over HTTP and from the topic "
          "%s,\nplans them into batches for connected vendors or pilots for "
          "new ones (B2),\nimports Cục CTS notices (A4), and publishes its "
          "events (orders, vendors,\nbatches, registrations) through the "
          "outbox relay.\nCloses a connection case when inventory connects its SIM "
          "(sim.connected on %s).\n\n"
          "HTTP (SIMPKI_HTTP_ADDR:SIMPKI_HTTP_PORT, default 127.0.0.1:8081):\n"
          "  POST /v1/orders, GET /v1/orders/{id}, GET /v1/vendors/{id},\n"
          "  POST /v1/registrations?ref=REF, GET /healthz, GET /metrics\n"
          "  (all but the signed orders and /healthz, /metrics need a user's\n"
          "  \"Authorization: Bearer TOKEN\"; README, \"Access\")\n\n"
          "Environment: SIMPKI_DB_URL, SIMPKI_KAFKA_BOOTSTRAP,\n"
          "SIMPKI_SIG_TRUST_DIR (required); SIMPKI_SIG_CRL_DIR,\n"
          "SIMPKI_SIG_POOL_DIR, SIMPKI_ORDER_MAX_QUANTITY,\n"
          "SIMPKI_ORDER_MAX_BATCH, SIMPKI_HTTP_ADDR, SIMPKI_HTTP_PORT,\n"
          "SIMPKI_LOG_LEVEL (see README).\n",
          OI_TOPIC_INBOUND, OI_TOPIC_SIMS);
}

static int health(void *opaque, char *detail, size_t len) {
  oi_api *api = opaque;
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
  if (sp_service_init("order-intake", argc, argv, usage, 8081, &env, &code))
    return code;
  char err[1024] = "";
  oi_conf conf;
  if (oi_conf_load(&conf, err, sizeof err) ||
      oi_signature_open(&conf, err, sizeof err)) {
    sp_error("cannot start", "error", err);
    return 2;
  }
  /* Each thread its own connection: API, consumer, relay. */
  oi_api api = {.conf = &conf};
  pthread_mutex_init(&api.lock, NULL);
  sp_db *consumer_db = NULL;
  sp_relay *relay = NULL;
  sp_consumer *consumer = NULL;
  sp_http_server *http = NULL;
  int rc = 1;
  if (!(api.db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)) ||
      !(consumer_db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)))
    goto out;
  /* The inbound consumer checks signatures on its own thread: give it its
   * own verifier (a sigverify context is not thread-safe). */
  oi_conf inbound_conf;
  if (oi_conf_load(&inbound_conf, err, sizeof err) ||
      oi_signature_open(&inbound_conf, err, sizeof err))
    goto out;
  sp_relay_conf rconf = {.producer = OI_PRODUCER, .conninfo = env.db_url,
                         .bootstrap = env.bootstrap};
  if (!(relay = sp_relay_new(&rconf, err, sizeof err)) ||
      sp_relay_start(relay, err, sizeof err))
    goto out_inbound;
  const char *topics[] = {OI_TOPIC_INBOUND, OI_TOPIC_SIMS, NULL};
  sp_consumer_conf cconf = {.bootstrap = env.bootstrap,
                            .group_id = "order-intake",
                            .topics = topics,
                            .handler = oi_inbound_handle,
                            .opaque = &inbound_conf};
  if (!(consumer = sp_consumer_new(&cconf, consumer_db, err, sizeof err)))
    goto out_inbound;
  sp_http_route routes[8];
  sp_http_conf hconf = {.bind_addr = env.http_addr,
                        .port = (int)env.http_port,
                        .routes = routes,
                        .nroutes = oi_api_routes(&api, routes, 8),
                        .health = health,
                        .health_opaque = &api,
                        .max_body = 16 * 1024 * 1024};
  if (!(http = sp_http_start(&hconf, err, sizeof err)))
    goto out_inbound;
  char portstr[16];
  snprintf(portstr, sizeof portstr, "%d", sp_http_port(http));
  sp_info("order-intake started", "http_port", portstr, "inbound_topic",
          OI_TOPIC_INBOUND);
  rc = sp_consumer_run(consumer, NULL) == 0 ? 0 : 1;
  sp_info("order-intake stopping");
out_inbound:
  oi_signature_close(&inbound_conf);
out:
  if (rc && err[0])
    sp_error("order-intake failed", "error", err);
  sp_http_stop(http);
  sp_consumer_destroy(consumer);
  sp_relay_destroy(relay);
  sp_db_close(consumer_db);
  sp_db_close(api.db);
  oi_signature_close(&conf);
  pthread_mutex_destroy(&api.lock);
  return rc;
}
