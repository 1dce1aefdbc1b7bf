/* main.c - hlr-provisioner: wires the batch consumer (which queues accepted
 * batches), the loader thread (provision.c) and the outbox relay. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "connect_store.h"
#include "connector.h"
#include "http.h"
#include "kafka.h"
#include "log.h"
#include "outbox.h"
#include "provision.h"
#include "service.h"
#include "shutdown.h"
#include "store.h"

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: hlr-provisioner [--help]\n\n"
          "B5: on batch.output_accepted (topic %s) queues the batch and\n"
          "loads its SIMs into the HLR (OsmoHLR over CTRL): create each\n"
          "subscriber, set its 2G or 3G auth data from the keys opened in\n"
          "memory, read it back and compare; only then is the SIM\n"
          "provisioned. Many requests in flight on one connection; progress\n"
          "committed a group at a time, so a restart resumes. An HLR outage\n"
          "stalls the batch (with the reason) until the HLR is back.\n"
          "B6: when a batch is done, the event batch.provisioned (counts,\n"
          "failures with reasons, duration, IMSI range).\n"
          "B9: on connection.requested (topic connections) sets a new\n"
          "number on the SIM PKI, or moves the customer's number from the\n"
          "SIM that holds it (clear, set, read back both; put back if a\n"
          "step fails); answers connection.hlr_done or .hlr_failed.\n\n"
          "HTTP: GET /healthz, GET /metrics on SIMPKI_HTTP_ADDR and\n"
          "SIMPKI_HTTP_PORT (default 8084).\n\n"
          "Environment: SIMPKI_DB_URL, SIMPKI_KAFKA_BOOTSTRAP,\n"
          "SIMPKI_HLR_CTRL, SIMPKI_KEK_FILE (required); SIMPKI_HLR_WINDOW,\n"
          "SIMPKI_HLR_TIMEOUT_MS, SIMPKI_HLR_GROUP,\n"
          "SIMPKI_HLR_BACKOFF_MAX_MS, SIMPKI_LOG_LEVEL (see README).\n",
          HP_TOPIC_BATCHES);
}

static sp_handle_result on_event(PGconn *tx, const sp_event *ev,
                                 void *opaque, char *errstr, size_t errlen) {
  (void)opaque;
  int rc;
  if (!strcmp(ev->type, "batch.output_accepted"))
    rc = hp_store_enqueue(tx, ev, errstr, errlen);
  else if (!strcmp(ev->type, "connection.requested"))
    rc = hp_cstore_enqueue(tx, ev, errstr, errlen);
  else
    return SP_HANDLE_OK; /* not ours */
  return rc < 0 ? SP_HANDLE_RETRY : rc > 0 ? SP_HANDLE_REJECT : SP_HANDLE_OK;
}

static void *connector(void *arg) {
  hp_connector_run(arg, NULL);
  return NULL;
}

static void *loader(void *arg) {
  hp_provisioner_run(arg, NULL);
  return NULL;
}

static int health(void *opaque, char *detail, size_t len) {
  int up = hp_provisioner_hlr_up(opaque);
  snprintf(detail, len, "HLR %s", up ? "connected" : "not connected");
  return 1; /* an HLR outage stalls batches; the service itself is fine */
}

int main(int argc, char **argv) {
  sp_service_env env;
  int code;
  if (sp_service_init("hlr-provisioner", argc, argv, usage, 8084, &env,
                      &code))
    return code;
  char err[1024] = "";
  hp_provision_conf conf;
  sp_keystore *ks = NULL;
  if (hp_provision_conf_load(&conf, err, sizeof err) ||
      !(ks = sp_keystore_open_env(err, sizeof err))) {
    sp_error("cannot start", "error", err);
    return 2;
  }
  sp_db *db = NULL, *load_db = NULL, *conn_db = NULL;
  hp_connector *conn = NULL;
  pthread_t connector_thread;
  int connecting = 0;
  sp_relay *relay = NULL;
  sp_consumer *consumer = NULL;
  sp_http_server *http = NULL;
  hp_provisioner *prov = NULL;
  pthread_t loader_thread;
  int loading = 0, rc = 1;
  if (!(db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)) ||
      !(load_db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)) ||
      !(conn_db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)) ||
      !(prov = hp_provisioner_new(&conf, load_db, ks, err, sizeof err)) ||
      !(conn = hp_connector_new(&conf, conn_db, err, sizeof err)))
    goto out;
  sp_relay_conf rconf = {.producer = HP_PRODUCER, .conninfo = env.db_url,
                         .bootstrap = env.bootstrap};
  if (!(relay = sp_relay_new(&rconf, err, sizeof err)) ||
      sp_relay_start(relay, err, sizeof err))
    goto out;
  const char *topics[] = {HP_TOPIC_BATCHES, HP_TOPIC_CONNECTIONS, NULL};
  sp_consumer_conf cconf = {.bootstrap = env.bootstrap,
                            .group_id = "hlr-provisioner",
                            .topics = topics,
                            .handler = on_event,
                            .opaque = NULL};
  if (!(consumer = sp_consumer_new(&cconf, db, err, sizeof err)))
    goto out;
  sp_http_conf hconf = {.bind_addr = env.http_addr,
                        .port = (int)env.http_port,
                        .health = health,
                        .health_opaque = prov};
  if (!(http = sp_http_start(&hconf, err, sizeof err)))
    goto out;
  if (pthread_create(&loader_thread, NULL, loader, prov) != 0) {
    snprintf(err, sizeof err, "cannot start the loader");
    goto out;
  }
  loading = 1;
  if (pthread_create(&connector_thread, NULL, connector, conn) != 0) {
    snprintf(err, sizeof err, "cannot start the connector");
    goto out;
  }
  connecting = 1;
  char port[16];
  snprintf(port, sizeof port, "%d", sp_http_port(http));
  sp_info("hlr-provisioner started", "http_port", port, "hlr",
          conf.hlr_addr);
  rc = sp_consumer_run(consumer, NULL) == 0 ? 0 : 1;
  sp_info("hlr-provisioner stopping");
out:
  if (rc && err[0])
    sp_error("hlr-provisioner failed", "error", err);
  if (loading || connecting)
    sp_shutdown_request();
  if (loading)
    pthread_join(loader_thread, NULL);
  if (connecting)
    pthread_join(connector_thread, NULL);
  sp_http_stop(http);
  sp_consumer_destroy(consumer);
  sp_relay_destroy(relay);
  hp_provisioner_free(prov);
  hp_connector_free(conn);
  sp_db_close(conn_db);
  sp_db_close(load_db);
  sp_db_close(db);
  sp_keystore_close(ks);
  return rc;
}
