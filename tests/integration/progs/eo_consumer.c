/* eo_consumer - the consumer side of the exactly-once test.
 *
 * Applies "test.eo.credited" events through the common consumer loop (inbox
 * in the same transaction). eo_applied has no unique key on purpose: a
 * double application shows up as a duplicate row instead of an error. An
 * event older than the last one applied for its account is recorded in
 * eo_violations (per-subject order broken). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "kafka.h"
#include "log.h"
#include "shutdown.h"

static sp_handle_result apply(PGconn *tx, const sp_event *ev, void *opaque,
                              char *errstr, size_t errlen) {
  (void)opaque;
  if (strcmp(ev->type, "test.eo.credited"))
    return SP_HANDLE_OK;
  json_t *n = json_object_get(ev->data, "n");
  json_t *amount = json_object_get(ev->data, "amount");
  if (!json_is_integer(n) || !json_is_integer(amount)) {
    snprintf(errstr, errlen, "event %s: data.n and data.amount must be integers",
             ev->id);
    return SP_HANDLE_REJECT;
  }
  char ns[24], as[24];
  snprintf(ns, sizeof ns, "%lld", (long long)json_integer_value(n));
  snprintf(as, sizeof as, "%lld", (long long)json_integer_value(amount));
  const char *p[] = {ns, ev->subject, as, ev->id};
  if (sp_db_exec(tx, "INSERT INTO eo_applied (n, account, amount, event_id) "
                     "VALUES ($1, $2, $3, $4)", 4, p, errstr, errlen) < 0)
    return SP_HANDLE_RETRY;
  if (sp_db_exec(tx,
                 "INSERT INTO eo_violations (account, n, last_n) "
                 "SELECT account, $1::int, last_n FROM eo_account "
                 "WHERE account = $2 AND last_n >= $1::int",
                 2, p, errstr, errlen) < 0)
    return SP_HANDLE_RETRY;
  if (sp_db_exec(tx,
                 "INSERT INTO eo_account (account, last_n, total) VALUES ($2, "
                 "$1::int, $3::bigint) ON CONFLICT (account) DO UPDATE SET "
                 "last_n = $1::int, total = eo_account.total + $3::bigint",
                 3, p, errstr, errlen) < 0)
    return SP_HANDLE_RETRY;
  return SP_HANDLE_OK;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--help")) {
    printf("usage: eo_consumer\n"
           "Environment: SIMPKI_DB_URL, SIMPKI_KAFKA_BOOTSTRAP, EO_TOPIC,\n"
           "EO_GROUP (eo-consumer).\n");
    return 0;
  }
  char err[512];
  const char *url, *bootstrap, *topic, *group;
  if (sp_log_init("eo-consumer", err, sizeof err) ||
      sp_config_str("SIMPKI_DB_URL", NULL, &url, err, sizeof err) ||
      sp_config_str("SIMPKI_KAFKA_BOOTSTRAP", NULL, &bootstrap, err, sizeof err) ||
      sp_config_str("EO_TOPIC", "eo.events", &topic, err, sizeof err) ||
      sp_config_str("EO_GROUP", "eo-consumer", &group, err, sizeof err)) {
    fprintf(stderr, "eo_consumer: %s\n", err);
    return 2;
  }
  sp_shutdown_install();
  sp_db *db = sp_db_open(url, 30000, err, sizeof err);
  if (!db) {
    fprintf(stderr, "eo_consumer: %s\n", err);
    return 1;
  }
  const char *topics[] = {topic, NULL};
  const char *types[] = {"test.eo.credited", NULL};
  sp_consumer_conf cc = {.bootstrap = bootstrap, .group_id = group,
                         .topics = topics, .known_types = types,
                         .handler = apply};
  sp_consumer *c = sp_consumer_new(&cc, db, err, sizeof err);
  if (!c) {
    fprintf(stderr, "eo_consumer: %s\n", err);
    sp_db_close(db);
    return 1;
  }
  sp_info("consuming", "topic", topic, "group", group);
  int rc = sp_consumer_run(c, NULL);
  sp_consumer_destroy(c);
  sp_db_close(db);
  sp_info("stopped cleanly", "topic", topic);
  return rc == 0 ? 0 : 1;
}
