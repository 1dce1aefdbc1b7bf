/* main.c - sigverify: consumes sig.verify.requested from sigverify.requests,
 * checks each signature with the sigverify library and emits
 * sig.verify.completed on sigverify.results through the outbox, in the
 * same transaction as the inbox claim. Only wiring: the checks are in
 * sigverify.c and its neighbours. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "service.h"
#include "shutdown.h"
#include "sigverify.h"

#define SV_PRODUCER "sigverify"
#define SV_SOURCE "/simpki/sigverify"
#define SV_TOPIC_IN "sigverify.requests"
#define SV_TOPIC_OUT "sigverify.results"
#define SV_TYPE_IN "sig.verify.requested"
#define SV_TYPE_OUT "sig.verify.completed"
#define SV_DEFAULT_PORT 8082

typedef struct svc {
  sp_sigverify_ctx *ctx; /* consumer thread only */
  sp_metric *by_indication[3], *rejected, *seconds;
  atomic_int anchors, crls; /* for /healthz, read on the HTTP thread */
} svc;

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: sigverify [--help]\n\n"
          "Checks CMS/PKCS#7 signatures on request: consumes %s\n"
          "events from %s and publishes a %s event\n"
          "with the validation report to %s (through the outbox\n"
          "relay).\n\n"
          "HTTP: GET /healthz, GET /metrics on SIMPKI_HTTP_ADDR and\n"
          "SIMPKI_HTTP_PORT (default %d).\n\n"
          "Environment: SIMPKI_DB_URL, SIMPKI_KAFKA_BOOTSTRAP,\n"
          "SIMPKI_SIG_TRUST_DIR (required); SIMPKI_SIG_CRL_DIR,\n"
          "SIMPKI_SIG_POOL_DIR, SIMPKI_LOG_LEVEL (see README).\n",
          SV_TYPE_IN, SV_TOPIC_IN, SV_TYPE_OUT, SV_TOPIC_OUT, SV_DEFAULT_PORT);
}

static int health(void *opaque, char *detail, size_t len) {
  svc *s = opaque;
  int anchors = atomic_load(&s->anchors);
  snprintf(detail, len, "%d trust anchor(s), %d CRL(s)", anchors,
           atomic_load(&s->crls));
  return anchors > 0;
}

/* A request whose data cannot be decoded still gets an answer: the
 * requester learns FORMAT_FAILURE instead of waiting for nothing. */
static void undecodable(sp_sig_report *r, const char *field) {
  sp_sig_report_init(r, time(NULL));
  sp_sig_report_set(r, SP_CHECK_FORMAT, SP_OUTCOME_FAILED,
                    SP_SUB_FORMAT_FAILURE, "data.%s is not valid base64",
                    field);
  sp_sig_report_skip_rest(r, "not reached: an earlier check failed");
  sp_sig_report_finish(r);
}

static const char *nonempty(const json_t *data, const char *key) {
  const char *v = json_string_value(json_object_get(data, key));
  return v && *v ? v : NULL;
}

static void check(svc *s, const json_t *data, sp_sig_report *r) {
  const char *c64 = json_string_value(json_object_get(data, "content_b64"));
  const char *s64 = json_string_value(json_object_get(data, "signature_b64"));
  unsigned char *content = NULL, *sig = NULL;
  size_t clen = 0, slen = 0;
  if (c64 && sp_sig_b64_decode(c64, strlen(c64), &content, &clen) != 0)
    undecodable(r, "content_b64");
  else if (sp_sig_b64_decode(s64, strlen(s64), &sig, &slen) != 0)
    undecodable(r, "signature_b64");
  else
    sp_sigverify_check(s->ctx, content, clen, sig, slen, time(NULL), r);
  free(content);
  free(sig);
  int a = 0, c = 0;
  sp_sigverify_counts(s->ctx, &a, &c, NULL);
  atomic_store(&s->anchors, a);
  atomic_store(&s->crls, c);
}

static sp_handle_result handle(PGconn *tx, const sp_event *ev, void *opaque,
                               char *errstr, size_t errlen) {
  svc *s = opaque;
  if (strcmp(ev->type, SV_TYPE_IN))
    return SP_HANDLE_OK;
  const char *doc = nonempty(ev->data, "document");
  const char *ref = nonempty(ev->data, "ref");
  json_t *c64 = json_object_get(ev->data, "content_b64");
  if (!doc || !ref || !nonempty(ev->data, "signature_b64") ||
      (c64 && !json_is_string(c64))) {
    snprintf(errstr, errlen,
             "event %s: data.document, data.ref and data.signature_b64 must "
             "be non-empty strings, data.content_b64 a string when present",
             ev->id);
    sp_metric_add(s->rejected, 1);
    return SP_HANDLE_REJECT;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  sp_sig_report r;
  check(s, ev->data, &r);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  sp_metric_observe(s->seconds, (double)(t1.tv_sec - t0.tv_sec) +
                                    (t1.tv_nsec - t0.tv_nsec) / 1e9);

  json_t *report = sp_sig_report_json(&r);
  json_t *data = report ? json_pack("{s:s, s:s, s:s, s:o}", "document", doc,
                                    "ref", ref, "request_id", ev->id,
                                    "report", report)
                        : NULL;
  if (!data) {
    snprintf(errstr, errlen, "event %s: cannot build the report "
             "(document or ref not UTF-8?)", ev->id);
    return SP_HANDLE_REJECT;
  }
  char subject[64];
  snprintf(subject, sizeof subject, "sigcheck/%s", ev->id);
  sp_event out;
  if (sp_event_init(&out, SV_SOURCE, SV_TYPE_OUT, subject, NULL,
                    ev->correlationid, data, errstr, errlen) != 0)
    return SP_HANDLE_REJECT;
  int rc = sp_outbox_emit(tx, SV_PRODUCER, SV_TOPIC_OUT, &out, errstr, errlen);
  sp_event_clear(&out);
  if (rc != 0)
    return SP_HANDLE_RETRY;
  const char *sub = sp_sig_subindication_name(r.sub_indication);
  sp_metric_add(s->by_indication[r.indication], 1);
  sp_info("signature checked", "request_id", ev->id, "document", doc, "ref",
          ref, "indication", sp_sig_indication_name(r.indication),
          "sub_indication", sub ? sub : "");
  return SP_HANDLE_OK;
}

static void metrics_init(svc *s) {
  static const char *const labels[3] = {"indication=\"TOTAL_PASSED\"",
                                        "indication=\"TOTAL_FAILED\"",
                                        "indication=\"INDETERMINATE\""};
  for (int i = 0; i < 3; i++)
    s->by_indication[i] = sp_metrics_counter(
        "sigverify_checks_total", "Signature checks by indication", labels[i]);
  s->rejected = sp_metrics_counter(
      "sigverify_requests_rejected_total",
      "Requests dead-lettered for malformed data", NULL);
  s->seconds = sp_metrics_histogram("sigverify_check_seconds",
                                    "Time to check one signature", NULL,
                                    NULL, 0);
}

int main(int argc, char **argv) {
  sp_service_env env;
  int code;
  if (sp_service_init("sigverify", argc, argv, usage, SV_DEFAULT_PORT, &env,
                      &code))
    return code;
  char err[1024] = "";
  const char *trust, *crl, *pool;
  if (sp_config_str("SIMPKI_SIG_TRUST_DIR", SP_CONFIG_REQUIRED, &trust, err,
                    sizeof err) ||
      sp_config_str("SIMPKI_SIG_CRL_DIR", "", &crl, err, sizeof err) ||
      sp_config_str("SIMPKI_SIG_POOL_DIR", "", &pool, err, sizeof err)) {
    sp_error("cannot start", "error", err);
    return 2;
  }
  svc s = {0};
  metrics_init(&s);
  if (!(s.ctx = sp_sigverify_new(trust, *crl ? crl : NULL,
                                 *pool ? pool : NULL, err, sizeof err))) {
    sp_error("cannot start", "error", err);
    return 2;
  }
  int a = 0, c = 0;
  sp_sigverify_counts(s.ctx, &a, &c, NULL);
  atomic_store(&s.anchors, a);
  atomic_store(&s.crls, c);

  sp_db *db = NULL;
  sp_relay *relay = NULL;
  sp_consumer *consumer = NULL;
  sp_http_server *http = NULL;
  int rc = 1;
  if (!(db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)))
    goto out;
  sp_relay_conf rconf = {.producer = SV_PRODUCER, .conninfo = env.db_url,
                         .bootstrap = env.bootstrap};
  if (!(relay = sp_relay_new(&rconf, err, sizeof err)) ||
      sp_relay_start(relay, err, sizeof err))
    goto out;
  const char *topics[] = {SV_TOPIC_IN, NULL};
  const char *types[] = {SV_TYPE_IN, NULL};
  sp_consumer_conf cconf = {.bootstrap = env.bootstrap,
                            .group_id = "sigverify",
                            .topics = topics,
                            .known_types = types,
                            .handler = handle,
                            .opaque = &s};
  if (!(consumer = sp_consumer_new(&cconf, db, err, sizeof err)))
    goto out;
  sp_http_conf hconf = {.bind_addr = env.http_addr, .port = (int)env.http_port,
                        .health = health, .health_opaque = &s};
  if (!(http = sp_http_start(&hconf, err, sizeof err)))
    goto out;
  char portstr[16], as[16], cs[16];
  snprintf(portstr, sizeof portstr, "%d", sp_http_port(http));
  snprintf(as, sizeof as, "%d", a);
  snprintf(cs, sizeof cs, "%d", c);
  sp_info("sigverify started", "http_port", portstr, "topic", SV_TOPIC_IN,
          "trust_anchors", as, "crls", cs);
  rc = sp_consumer_run(consumer, NULL) == 0 ? 0 : 1;
  sp_info("sigverify stopping");
out:
  if (rc && err[0])
    sp_error("sigverify failed", "error", err);
  sp_http_stop(http);
  sp_consumer_destroy(consumer);
  sp_relay_destroy(relay); /* stops the thread, flushes the producer */
  sp_db_close(db);
  sp_sigverify_free(s.ctx);
  return rc;
}
