/* main.c - vendor-exchange: wires the batch consumer (B3: numbers and the
 * input file) and the watcher of the vendors' incoming folders (B4: output
 * files) around issue.c and ingest.c. */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "http.h"
#include "ingest.h"
#include "issue.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "service.h"
#include "shutdown.h"

typedef struct vx_service {
  vx_issue_conf issue;
  vx_ingest_conf ingest;
  sp_db *watch_db;
  long poll_ms;
  sp_metric *accepted, *rejected, *sims, *issued;
} vx_service;

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: vendor-exchange [--help]\n\n"
          "B3: on batch.released (topic batches) allocates the batch's IMSI\n"
          "and ICCID ranges and writes its input file to\n"
          "$SIMPKI_VENDOR_DIR/VENDOR/outgoing/. B4: watches\n"
          "$SIMPKI_VENDOR_DIR/*/incoming/ for output files (NAME.out, or\n"
          "any NAME with a NAME.done marker), ingests each and files it under\n"
          "processed/ or rejected/. See docs/vendor-files.md.\n\n"
          "HTTP: GET /healthz, GET /metrics on SIMPKI_HTTP_ADDR and\n"
          "SIMPKI_HTTP_PORT (default 8083).\n\n"
          "Environment: SIMPKI_DB_URL, SIMPKI_KAFKA_BOOTSTRAP,\n"
          "SIMPKI_VENDOR_DIR, SIMPKI_KEK_FILE, SIMPKI_TRANSPORT_KEY_DIR\n"
          "(required); SIMPKI_VENDOR_POLL_MS, SIMPKI_VENDOR_GRAPHIC_REF,\n"
          "SIMPKI_LOG_LEVEL (see README).\n");
}

/* ---- B3: released batches ---- */

static sp_handle_result on_batch_event(PGconn *tx, const sp_event *ev,
                                       void *opaque, char *errstr,
                                       size_t errlen) {
  vx_service *s = opaque;
  if (strcmp(ev->type, "batch.released") != 0)
    return SP_HANDLE_OK;
  const char *batch_id =
      json_string_value(json_object_get(ev->data, "batch_id"));
  if (!batch_id) {
    snprintf(errstr, errlen, "batch.released %s has no data.batch_id", ev->id);
    return SP_HANDLE_REJECT;
  }
  vx_issue_result res;
  int rc = vx_issue_input(tx, &s->issue, batch_id, NULL, &res, errstr, errlen);
  if (rc < 0)
    return SP_HANDLE_RETRY;
  if (rc == 1) {
    /* Nothing to retry by itself (e.g. numbers exhausted): say so, and
     * let an operator issue it with simpkictl vendor input. */
    sp_warn("cannot issue the input file", "batch_id", batch_id, "reason",
            errstr);
    char subject[128];
    snprintf(subject, sizeof subject, "batch/%s", batch_id);
    char why[512];
    snprintf(why, sizeof why, "%s", errstr);
    return sp_outbox_publish(
               tx, VX_PRODUCER, VX_SOURCE, VX_TOPIC_BATCHES,
               "batch.input_failed", subject,
               ev->correlationid[0] ? ev->correlationid : subject,
               json_pack("{s:s, s:s}", "batch_id", batch_id, "reason", why),
               errstr, errlen)
               ? SP_HANDLE_RETRY
               : SP_HANDLE_OK;
  }
  if (!res.existing) {
    sp_metric_add(s->issued, 1);
    sp_info("input file issued", "batch_id", batch_id, "file", res.path,
            "sha256", res.sha256);
  }
  return SP_HANDLE_OK;
}

/* ---- B4: the incoming folders ---- */

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

static void judge(vx_service *s, const char *vendor_dir, const char *path,
                  const char *marker) {
  char err[512];
  vx_ingest_result res;
  if (vx_ingest_file(s->watch_db, &s->ingest, path, &res, err, sizeof err)) {
    sp_warn("vendor file not judged; will try again", "file", path, "error",
            err);
    return;
  }
  sp_metric_add(res.accepted ? s->accepted : s->rejected, 1);
  if (res.accepted && !res.already)
    sp_metric_add(s->sims, (double)res.sims);
  if (vx_ingest_file_away(path, vendor_dir, &res, err, sizeof err))
    sp_error("cannot file the vendor file away", "file", path, "error", err);
  else if (marker)
    unlink(marker);
}

static void scan_vendor(vx_service *s, const char *vendor_dir) {
  char incoming[4200];
  snprintf(incoming, sizeof incoming, "%s/incoming", vendor_dir);
  DIR *d = opendir(incoming);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && !sp_shutdown_requested()) {
    const char *name = e->d_name;
    if (name[0] == '.' || ends_with(name, ".done") ||
        ends_with(name, ".part") || ends_with(name, ".reason"))
      continue;
    char path[4200 + 256], marker[4200 + 300];
    snprintf(path, sizeof path, "%s/%s", incoming, name);
    snprintf(marker, sizeof marker, "%s.done", path);
    struct stat st;
    int has_marker = stat(marker, &st) == 0;
    if (!has_marker && !ends_with(name, ".out"))
      continue; /* still being written */
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    judge(s, vendor_dir, path, has_marker ? marker : NULL);
  }
  closedir(d);
}

static void *watch(void *arg) {
  vx_service *s = arg;
  while (!sp_shutdown_requested()) {
    DIR *d = opendir(s->issue.vendor_root);
    if (d) {
      struct dirent *e;
      while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
          continue;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", s->issue.vendor_root, e->d_name);
        scan_vendor(s, dir);
      }
      closedir(d);
    }
    for (long waited = 0; waited < s->poll_ms && !sp_shutdown_requested();
         waited += 50)
      nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
  }
  return NULL;
}

static int health(void *opaque, char *detail, size_t len) {
  vx_service *s = opaque;
  struct stat st;
  int ok = stat(s->issue.vendor_root, &st) == 0 && S_ISDIR(st.st_mode);
  snprintf(detail, len, "vendor folder %s", ok ? "present" : "missing");
  return ok;
}

int main(int argc, char **argv) {
  sp_service_env env;
  int code;
  if (sp_service_init("vendor-exchange", argc, argv, usage, 8083, &env,
                      &code))
    return code;
  char err[1024] = "";
  vx_service s = {0};
  if (vx_issue_conf_load(&s.issue, err, sizeof err) ||
      sp_config_str("SIMPKI_TRANSPORT_KEY_DIR", SP_CONFIG_REQUIRED,
                    &s.ingest.transport_key_dir, err, sizeof err) ||
      sp_config_long("SIMPKI_VENDOR_POLL_MS", 0, 1000, 10, 600000,
                     &s.poll_ms, err, sizeof err) ||
      !(s.ingest.keys = sp_keystore_open_env(err, sizeof err))) {
    sp_error("cannot start", "error", err);
    return 2;
  }
  s.issued = sp_metrics_counter("simpki_vendor_input_files_total",
                                "Input files issued", NULL);
  s.accepted = sp_metrics_counter("simpki_vendor_output_files_total",
                                  "Output files judged",
                                  "verdict=\"accepted\"");
  s.rejected = sp_metrics_counter("simpki_vendor_output_files_total",
                                  "Output files judged",
                                  "verdict=\"rejected\"");
  s.sims = sp_metrics_counter("simpki_sims_ingested_total",
                              "SIMs stored from accepted output files", NULL);
  sp_db *db = NULL;
  sp_relay *relay = NULL;
  sp_consumer *consumer = NULL;
  sp_http_server *http = NULL;
  pthread_t watcher;
  int watching = 0, rc = 1;
  if (!(db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)) ||
      !(s.watch_db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)))
    goto out;
  sp_relay_conf rconf = {.producer = VX_PRODUCER, .conninfo = env.db_url,
                         .bootstrap = env.bootstrap};
  if (!(relay = sp_relay_new(&rconf, err, sizeof err)) ||
      sp_relay_start(relay, err, sizeof err))
    goto out;
  const char *topics[] = {VX_TOPIC_BATCHES, NULL};
  sp_consumer_conf cconf = {.bootstrap = env.bootstrap,
                            .group_id = "vendor-exchange",
                            .topics = topics,
                            .handler = on_batch_event,
                            .opaque = &s};
  if (!(consumer = sp_consumer_new(&cconf, db, err, sizeof err)))
    goto out;
  sp_http_conf hconf = {.bind_addr = env.http_addr,
                        .port = (int)env.http_port,
                        .health = health,
                        .health_opaque = &s};
  if (!(http = sp_http_start(&hconf, err, sizeof err)))
    goto out;
  if (pthread_create(&watcher, NULL, watch, &s) != 0) {
    snprintf(err, sizeof err, "cannot start the folder watcher");
    goto out;
  }
  watching = 1;
  char port[16];
  snprintf(port, sizeof port, "%d", sp_http_port(http));
  sp_info("vendor-exchange started", "http_port", port, "vendor_dir",
          s.issue.vendor_root);
  rc = sp_consumer_run(consumer, NULL) == 0 ? 0 : 1;
  sp_info("vendor-exchange stopping");
out:
  if (rc && err[0])
    sp_error("vendor-exchange failed", "error", err);
  if (watching) {
    sp_shutdown_request();
    pthread_join(watcher, NULL);
  }
  sp_http_stop(http);
  sp_consumer_destroy(consumer);
  sp_relay_destroy(relay);
  sp_db_close(s.watch_db);
  sp_db_close(db);
  sp_keystore_close(s.ingest.keys);
  return rc;
}
