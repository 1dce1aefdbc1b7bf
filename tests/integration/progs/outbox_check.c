/* outbox_check - common/outbox.c and common/inbox.c against a real
 * PostgreSQL and the dev broker (run by test_outbox.sh): chain sealing,
 * the one-topic-per-subject rule, the xid order rule, the relay's horizon
 * (nothing newer than an open transaction is published), its cursor, and
 * the inbox's claim and chain checks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "inbox.h"
#include "log.h"
#include "outbox.h"

static const char *url, *bootstrap;
static char err[512];

static PGconn *connect_raw(void) {
  PGconn *c = PQconnectdb(url);
  ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
  return c;
}

static long count(PGconn *c, const char *sql, const char *arg) {
  const char *p[] = {arg};
  PGresult *r = sp_db_query(c, sql, arg ? 1 : 0, arg ? p : NULL, err, sizeof err);
  ck_assert_msg(r != NULL, "%s: %s", sql, err);
  long n = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return n;
}

static void exec_ok(PGconn *c, const char *sql) {
  ck_assert_msg(sp_db_exec(c, sql, 0, NULL, err, sizeof err) >= 0, "%s: %s",
                sql, err);
}

static int emit(PGconn *c, const char *producer, const char *topic,
                const char *subject, sp_event *out) {
  sp_event ev;
  ck_assert_int_eq(sp_event_init(&ev, "/simpki/outbox-check", "test.bench.tick",
                                 subject, NULL, "order/OC",
                                 json_pack("{s:i}", "n", 1), err, sizeof err), 0);
  int rc = sp_outbox_emit(c, producer, topic, &ev, err, sizeof err);
  if (out)
    *out = ev;
  else
    sp_event_clear(&ev);
  return rc;
}

START_TEST(emit_seals_onto_the_subject_chain) {
  PGconn *c = connect_raw();
  sp_event a, b;
  exec_ok(c, "BEGIN");
  ck_assert_int_eq(emit(c, "oc", "oc.topic", "oc/chain", &a), 0);
  ck_assert_int_eq(emit(c, "oc", "oc.topic", "oc/chain", &b), 0);
  exec_ok(c, "COMMIT");
  ck_assert_str_eq(a.prevhash, SP_EVENT_GENESIS);
  ck_assert_str_eq(b.prevhash, a.hash);
  ck_assert_int_eq(sp_event_hash_ok(&b), 1);
  ck_assert_int_eq(count(c, "SELECT event_count FROM event_chain WHERE subject = $1", "oc/chain"), 2);
  /* The stored payload is the sealed event, byte for byte parseable. */
  PGresult *r = sp_db_query(c, "SELECT payload FROM outbox WHERE event_id = $1",
                            1, (const char *[]){b.id}, err, sizeof err);
  sp_event back;
  ck_assert_int_eq(sp_event_parse(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0),
                                  &back, err, sizeof err), 0);
  ck_assert_str_eq(back.hash, b.hash);
  sp_event_clear(&back);
  PQclear(r);
  sp_event_clear(&a);
  sp_event_clear(&b);
  PQfinish(c);
}
END_TEST

START_TEST(subject_stays_on_its_topic) {
  PGconn *c = connect_raw();
  exec_ok(c, "BEGIN");
  ck_assert_int_eq(emit(c, "oc", "oc.topic", "oc/topic-rule", NULL), 0);
  exec_ok(c, "COMMIT");
  long before = count(c, "SELECT count(*) FROM outbox WHERE subject = $1", "oc/topic-rule");
  exec_ok(c, "BEGIN");
  ck_assert_int_eq(emit(c, "oc", "other.topic", "oc/topic-rule", NULL), -1);
  ck_assert_ptr_nonnull(strstr(err, "belongs to topic oc.topic"));
  exec_ok(c, "ROLLBACK");
  ck_assert_int_eq(count(c, "SELECT count(*) FROM outbox WHERE subject = $1", "oc/topic-rule"), before);
  PQfinish(c);
}
END_TEST

/* An older transaction reaching a subject after a newer one committed
 * would be published before it: it must fail as a serialization conflict
 * (and sp_db_tx retries it). */
START_TEST(older_transaction_is_refused_as_conflict) {
  PGconn *old = connect_raw(), *young = connect_raw();
  exec_ok(old, "BEGIN");
  exec_ok(old, "SELECT pg_current_xact_id()"); /* takes its xid now */
  exec_ok(young, "BEGIN");
  ck_assert_int_eq(emit(young, "oc", "oc.topic", "oc/xid-order", NULL), 0);
  exec_ok(young, "COMMIT");
  ck_assert_int_eq(emit(old, "oc", "oc.topic", "oc/xid-order", NULL), -1);
  ck_assert_str_eq(sp_db_last_sqlstate(), "40001");
  ck_assert_ptr_nonnull(strstr(err, "newer transaction"));
  exec_ok(old, "ROLLBACK");
  ck_assert_int_eq(count(young, "SELECT count(*) FROM outbox WHERE subject = $1", "oc/xid-order"), 1);
  PQfinish(old);
  PQfinish(young);
}
END_TEST

START_TEST(relay_waits_for_open_transactions_and_keeps_its_cursor) {
  PGconn *a = connect_raw(), *b = connect_raw();
  sp_relay_conf rc = {.producer = "oc-relay", .conninfo = url,
                      .bootstrap = bootstrap, .batch_size = 3};
  sp_relay *relay = sp_relay_new(&rc, err, sizeof err);
  ck_assert_msg(relay != NULL, "%s", err);
  long published = -1;
  ck_assert_int_eq(sp_relay_drain(relay, &published, err, sizeof err), 0);
  ck_assert_int_eq(published, 0);

  exec_ok(a, "BEGIN");
  ck_assert_int_eq(emit(a, "oc-relay", "oc.relay", "oc/r1", NULL), 0);
  exec_ok(b, "BEGIN");
  for (int i = 0; i < 7; i++)
    ck_assert_int_eq(emit(b, "oc-relay", "oc.relay", "oc/r2", NULL), 0);
  exec_ok(b, "COMMIT");
  /* b committed, but a (older) is still open: publishing b's rows now
   * would let a's row land behind the cursor. */
  ck_assert_int_eq(sp_relay_drain(relay, &published, err, sizeof err), 0);
  ck_assert_int_eq(published, 0);
  ck_assert_int_eq(count(b, "SELECT count(*) FROM outbox_pending WHERE producer = $1", "oc-relay"), 7);
  exec_ok(a, "COMMIT");
  ck_assert_int_eq(sp_relay_drain(relay, &published, err, sizeof err), 0);
  ck_assert_int_eq(published, 8); /* several rounds of 3 */
  ck_assert_int_eq(count(b, "SELECT count(*) FROM outbox_pending WHERE producer = $1", "oc-relay"), 0);
  ck_assert_int_eq(sp_relay_drain(relay, &published, err, sizeof err), 0);
  ck_assert_int_eq(published, 0); /* nothing twice */
  sp_relay_destroy(relay);

  /* A new relay starts from the stored cursor. */
  exec_ok(a, "BEGIN");
  ck_assert_int_eq(emit(a, "oc-relay", "oc.relay", "oc/r1", NULL), 0);
  exec_ok(a, "COMMIT");
  relay = sp_relay_new(&rc, err, sizeof err);
  ck_assert_int_eq(sp_relay_drain(relay, &published, err, sizeof err), 0);
  ck_assert_int_eq(published, 1);
  sp_relay_destroy(relay);
  PQfinish(a);
  PQfinish(b);
}
END_TEST

START_TEST(inbox_claims_once_and_checks_links) {
  PGconn *c = connect_raw();
  sp_event e1, e2, stray;
  sp_event_init(&e1, "/s", "test.bench.tick", "oc/inbox", NULL, "", NULL, err, sizeof err);
  sp_event_seal(&e1, SP_EVENT_GENESIS);
  sp_event_init(&e2, "/s", "test.bench.tick", "oc/inbox", NULL, "", NULL, err, sizeof err);
  sp_event_seal(&e2, e1.hash);
  sp_event_init(&stray, "/s", "test.bench.tick", "oc/inbox", NULL, "", NULL, err, sizeof err);
  sp_event_seal(&stray, e2.hash); /* links onto e2, which is not applied yet */

  ck_assert_int_eq(sp_inbox_claim(c, "oc", &e1, err, sizeof err), 1);
  ck_assert_int_eq(sp_inbox_claim(c, "oc", &e1, err, sizeof err), 0);
  ck_assert_int_eq(sp_inbox_claim(c, "other", &e1, err, sizeof err), 1);
  ck_assert_int_eq(sp_inbox_chain_advance(c, "oc", &e1, err, sizeof err), 1);
  ck_assert_int_eq(sp_inbox_chain_advance(c, "oc", &stray, err, sizeof err), 0);
  ck_assert_ptr_nonnull(strstr(err, "hash chain broken for subject oc/inbox"));
  ck_assert_int_eq(count(c, "SELECT count(*) FROM inbox_chain WHERE last_hash = $1", e1.hash), 1);
  ck_assert_int_eq(sp_inbox_chain_advance(c, "oc", &e2, err, sizeof err), 1);
  ck_assert_int_eq(count(c, "SELECT count(*) FROM inbox_chain WHERE last_hash = $1", e2.hash), 1);
  /* A consumer that joins late accepts its first event of a subject. */
  ck_assert_int_eq(sp_inbox_chain_advance(c, "late", &stray, err, sizeof err), 1);
  sp_event_clear(&e1);
  sp_event_clear(&e2);
  sp_event_clear(&stray);
  PQfinish(c);
}
END_TEST

int main(void) {
  url = getenv("SIMPKI_DB_URL");
  bootstrap = getenv("SIMPKI_KAFKA_BOOTSTRAP");
  if (!url || !bootstrap) {
    fprintf(stderr, "outbox_check: SIMPKI_DB_URL and SIMPKI_KAFKA_BOOTSTRAP are required\n");
    return 2;
  }
  sp_log_set_level(SP_LOG_WARN);
  Suite *s = suite_create("outbox");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, emit_seals_onto_the_subject_chain);
  tcase_add_test(tc, subject_stays_on_its_topic);
  tcase_add_test(tc, older_transaction_is_refused_as_conflict);
  tcase_add_test(tc, relay_waits_for_open_transactions_and_keeps_its_cursor);
  tcase_add_test(tc, inbox_claims_once_and_checks_links);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
