/* eo_producer - the producer side of the exactly-once test.
 *
 * Writes ledger rows n = 0 .. EO_TOTAL-1, a few per transaction, and emits
 * one "test.eo.credited" event per row through the outbox in the same
 * transaction; the relay runs on its own thread. Restartable at any moment:
 * it resumes after the last committed row, and exits 0 once every row is
 * written and every event published. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "shutdown.h"

#define PRODUCER "eo-producer"

typedef struct {
  long total;
  long accounts;
  long run;
  long pace_ms; /* pause between transactions, so kills land mid-run */
  const char *topic;
  long written; /* next n after this transaction */
} writer;

static int write_some(PGconn *c, void *arg, char *errstr, size_t errlen) {
  writer *w = arg;
  PGresult *r = sp_db_query(c, "SELECT coalesce(max(n) + 1, 0) FROM eo_ledger",
                            0, NULL, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  long next = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  long k = 1 + rand() % 5;
  for (long n = next; n < next + k && n < w->total; n++) {
    char ns[24], acct[32], amount[24];
    snprintf(ns, sizeof ns, "%ld", n);
    snprintf(acct, sizeof acct, "acct/%02ld", n % w->accounts);
    snprintf(amount, sizeof amount, "%ld", n % 97 + 1);
    const char *p[] = {ns, acct, amount};
    if (sp_db_exec(c, "INSERT INTO eo_ledger (n, account, amount) VALUES ($1, $2, $3)",
                   3, p, errstr, errlen) < 0)
      return SP_DB_ERROR;
    sp_event ev;
    json_t *data = json_pack("{s:I, s:s, s:I, s:I}", "n", (json_int_t)n,
                             "account", acct, "amount",
                             (json_int_t)(n % 97 + 1), "producer_run",
                             (json_int_t)w->run);
    if (sp_event_init(&ev, "/simpki/eo-producer", "test.eo.credited", acct,
                      NULL, "order/EO-TEST", data, errstr, errlen))
      return SP_DB_REJECT;
    int rc = sp_outbox_emit(c, PRODUCER, w->topic, &ev, errstr, errlen);
    sp_event_clear(&ev);
    if (rc)
      return SP_DB_ERROR;
    w->written = n + 1;
  }
  if (next >= w->total)
    w->written = w->total;
  return SP_DB_OK;
}

static long unsent(sp_db *db) {
  char err[256];
  const char *p[] = {PRODUCER};
  PGresult *r = sp_db_query(sp_db_conn(db),
                            "SELECT count(*) FROM outbox_pending WHERE "
                            "producer = $1",
                            1, p, err, sizeof err);
  if (!r)
    return -1;
  long n = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return n;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--help")) {
    printf("usage: eo_producer\n"
           "Environment: SIMPKI_DB_URL, SIMPKI_KAFKA_BOOTSTRAP, EO_TOPIC,\n"
           "EO_TOTAL (10000), EO_ACCOUNTS (50), EO_RUN (run number),\n"
           "EO_PACE_MS (pause between transactions, 0).\n");
    return 0;
  }
  char err[512];
  const char *url, *bootstrap;
  writer w = {0};
  if (sp_log_init("eo-producer", err, sizeof err) ||
      sp_config_str("SIMPKI_DB_URL", NULL, &url, err, sizeof err) ||
      sp_config_str("SIMPKI_KAFKA_BOOTSTRAP", NULL, &bootstrap, err, sizeof err) ||
      sp_config_str("EO_TOPIC", "eo.events", &w.topic, err, sizeof err) ||
      sp_config_long("EO_TOTAL", 0, 10000, 1, 10000000, &w.total, err, sizeof err) ||
      sp_config_long("EO_ACCOUNTS", 0, 50, 1, 1000, &w.accounts, err, sizeof err) ||
      sp_config_long("EO_RUN", 0, 0, 0, 1000000, &w.run, err, sizeof err) ||
      sp_config_long("EO_PACE_MS", 0, 0, 0, 1000, &w.pace_ms, err, sizeof err)) {
    fprintf(stderr, "eo_producer: %s\n", err);
    return 2;
  }
  sp_shutdown_install();
  srand((unsigned)time(NULL) ^ (unsigned)w.run);
  sp_db *db = sp_db_open(url, 30000, err, sizeof err);
  if (!db) {
    fprintf(stderr, "eo_producer: %s\n", err);
    return 1;
  }
  sp_relay_conf rc = {.producer = PRODUCER, .conninfo = url,
                      .bootstrap = bootstrap};
  sp_relay *relay = sp_relay_new(&rc, err, sizeof err);
  if (!relay || sp_relay_start(relay, err, sizeof err)) {
    fprintf(stderr, "eo_producer: %s\n", err);
    return 1;
  }
  while (!sp_shutdown_requested() && w.written < w.total) {
    if (sp_db_tx(db, write_some, &w, err, sizeof err) != SP_DB_OK) {
      fprintf(stderr, "eo_producer: %s\n", err);
      break;
    }
    if (w.pace_ms)
      nanosleep(&(struct timespec){0, w.pace_ms * 1000000L}, NULL);
  }
  /* Done writing: wait for the relay to publish the rest. */
  long left;
  while (!sp_shutdown_requested() && (left = unsent(db)) != 0) {
    nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    (void)left;
  }
  sp_relay_destroy(relay);
  sp_db_close(db);
  int complete = w.written >= w.total;
  sp_info(complete ? "all events written and published" : "stopped",
          "topic", w.topic);
  return complete ? 0 : 3;
}
