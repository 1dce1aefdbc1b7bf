/* test_audit_select.c - what `simpkictl audit replay` reports under
 * --order, --batch, --sim, --from and --to
 * (tools/simpkictl/audit_select.c).
 *
 * The unit-test build links the libraries only, so the files are compiled
 * in here directly, as test_migrate_plan.c does with migrate.c. */
#include "../../tools/simpkictl/audit_chain.c"
#include "../../tools/simpkictl/audit_index.c"
#include "../../tools/simpkictl/audit_data.c"
#include "../../tools/simpkictl/audit_invariants.c"
#include "../../tools/simpkictl/audit_map.c"
#include "../../tools/simpkictl/audit_select.c"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXEV 16
#define ORD "ORD-2026-000001"
#define REF "BCYCP-2026-QD-0417"
#define P1 ORD "-P1"
#define B1 ORD "-B001"

static audit_event E[MAXEV];
static size_t N;

static void reset(void) {
  for (size_t i = 0; i < N; i++)
    audit_data_free((audit_data *)E[i].data);
  memset(E, 0, sizeof E);
  N = 0;
}

static size_t ev(const char *type, const char *subject, const char *corr,
                 const char *time, const char *data) {
  ck_assert_int_lt(N, MAXEV);
  audit_event *e = &E[N];
  e->topic = "t";
  e->id = "x";
  e->type = type;
  e->subject = subject;
  e->correlationid = corr;
  e->time = time;
  ck_assert_int_eq(sp_flow_parse_time(time, &e->time_ms), 0);
  json_t *d = json_loads(data, 0, NULL);
  ck_assert_ptr_nonnull(d);
  e->data = audit_data_from_json(d);
  json_decref(d);
  ck_assert_ptr_nonnull(e->data);
  e->copy_of = AUDIT_NONE;
  return N++;
}

/* The run's events, in short. */
static void events(void) {
  reset();
  ev("order.accepted", "order/" ORD, ORD, "2026-11-25T16:59:59.000Z",
     "{\"order_id\":\"" ORD "\",\"bcycp_ref\":\"" REF "\"}");
  ev("batch.released", "batch/" P1, ORD, "2026-11-25T17:00:00.000Z",
     "{\"batch_id\":\"" P1 "\",\"order_id\":\"" ORD "\",\"bcycp_ref\":\"" REF
     "\"}");
  ev("batch.output_accepted", "batch/" P1, ORD, "2026-11-26T01:00:00.000Z",
     "{\"batch_id\":\"" P1 "\",\"iccid_first\":\"8984017700000000003\","
     "\"iccid_last\":\"8984017700000000045\"}");
  ev("batch.input_issued", "batch/" B1, ORD, "2026-11-26T02:00:00.000Z",
     "{\"batch_id\":\"" B1 "\",\"iccid_first\":\"8984017700000000052\","
     "\"iccid_last\":\"8984017700000010044\"}");
  ev("vendor.pilot_passed", "vendor/SAOVIET", ORD, "2026-11-26T03:00:00.000Z",
     "{\"pilot_batch_id\":\"" P1 "\"}");
  ev("sims.handed_over", "move/MV-1", ORD, "2026-11-26T04:00:00.000Z",
     "{\"iccid_first\":\"8984017700000000003\",\"iccid_last\":"
     "\"8984017700000000045\"}");
  ev("sim.connected", "sim/8984017700000000011", ORD,
     "2026-11-26T05:00:00.000Z", "{\"iccid\":\"8984017700000000011\"}");
  ev("sim.sold", "sim/8984017700000000060", ORD, "2026-11-26T06:00:00.000Z",
     "{\"iccid\":\"8984017700000000060\"}");
  ev("case.opened", "case/CASE-2026-000001", "case/CASE-2026-000001",
     "2026-11-26T07:00:00.000Z", "{}");
  ev("order.accepted", "order/ORD-2026-000002", "ORD-2026-000002",
     "2026-11-27T00:00:00.000Z", "{\"order_id\":\"ORD-2026-000002\"}");
}

/* The selected events as a string of indices, e.g. "0 1 5". */
static const char *picked(audit_filter *f) {
  static char buf[128];
  ck_assert_int_eq(audit_filter_resolve(f, E, N), 0);
  buf[0] = 0;
  for (size_t i = 0; i < N; i++)
    if (audit_filter_match(f, &E[i]))
      snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%zu",
               buf[0] ? " " : "", i);
  audit_filter_free(f);
  return buf;
}

START_TEST(no_filter) {
  events();
  audit_filter f;
  audit_filter_init(&f);
  ck_assert(!audit_filter_any(&f));
  ck_assert_str_eq(picked(&f), "0 1 2 3 4 5 6 7 8 9");
}
END_TEST

START_TEST(order) {
  events();
  audit_filter f;
  audit_filter_init(&f);
  f.order = ORD;
  ck_assert(audit_filter_any(&f));
  ck_assert_str_eq(picked(&f), "0 1 2 3 4 5 6 7");
  /* BCYCP's reference: the same order. */
  audit_filter_init(&f);
  f.order = REF;
  ck_assert_str_eq(picked(&f), "0 1 2 3 4 5 6 7");
  audit_filter_init(&f);
  f.order = "ORD-2026-000002";
  ck_assert_str_eq(picked(&f), "9");
  audit_filter_init(&f);
  f.order = "BCYCP-NONE";
  ck_assert_str_eq(picked(&f), "");
}
END_TEST

START_TEST(batch) {
  events();
  audit_filter f;
  audit_filter_init(&f);
  f.batch = P1;
  /* Its events, the pilot's pass, its range handed over, its SIM. */
  ck_assert_str_eq(picked(&f), "1 2 4 5 6");
  /* The production batch's range from its input file. */
  audit_filter_init(&f);
  f.batch = B1;
  ck_assert_str_eq(picked(&f), "3 7");
}
END_TEST

START_TEST(sim) {
  events();
  audit_filter f;
  audit_filter_init(&f);
  f.sim = "8984017700000000011";
  /* Its own event and every range holding it. */
  ck_assert_str_eq(picked(&f), "2 5 6");
  audit_filter_init(&f);
  f.sim = "8984017700000000060";
  ck_assert_str_eq(picked(&f), "3 7");
  /* sim/ subjects only: a batch named like the SIM is not it. */
  audit_filter_init(&f);
  f.sim = P1;
  ck_assert_str_eq(picked(&f), "");
}
END_TEST

START_TEST(times) {
  long long ms;
  ck_assert_int_eq(audit_filter_time("2026-11-26", 0, &ms), 0);
  long long day;
  ck_assert_int_eq(sp_flow_parse_time("2026-11-25T17:00:00.000Z", &day), 0);
  ck_assert(ms == day); /* midnight in Asia/Ho_Chi_Minh */
  ck_assert_int_eq(audit_filter_time("2026-11-26", 1, &ms), 0);
  ck_assert(ms == day + 86400000LL);
  ck_assert_int_eq(audit_filter_time("2026-11-26T03:00:00Z", 0, &ms), 0);
  ck_assert_int_eq(audit_filter_time("yesterday", 0, &ms), -1);
  ck_assert_int_eq(audit_filter_time("2026-13-01", 0, &ms), -1);
  ck_assert_int_eq(audit_filter_time(NULL, 0, &ms), -1);

  events();
  audit_filter f;
  audit_filter_init(&f);
  ck_assert_int_eq(audit_filter_time("2026-11-26", 0, &f.from_ms), 0);
  ck_assert_int_eq(audit_filter_time("2026-11-26", 1, &f.to_ms), 0);
  /* 2026-11-26 in Vietnam: from 2026-11-25T17:00Z to 2026-11-26T17:00Z. */
  ck_assert_str_eq(picked(&f), "1 2 3 4 5 6 7 8");
  audit_filter_init(&f);
  ck_assert_int_eq(audit_filter_time("2026-11-26T03:00:00Z", 0, &f.from_ms), 0);
  ck_assert_int_eq(audit_filter_time("2026-11-26T05:00:00Z", 0, &f.to_ms), 0);
  ck_assert_str_eq(picked(&f), "4 5"); /* to is exclusive */
  /* Combined with "and". */
  audit_filter_init(&f);
  f.order = REF;
  ck_assert_int_eq(audit_filter_time("2026-11-26T05:00:00Z", 0, &f.from_ms), 0);
  ck_assert_str_eq(picked(&f), "6 7");
}
END_TEST

int main(void) {
  Suite *s = suite_create("audit_select");
  TCase *tc = tcase_create("select");
  tcase_add_test(tc, no_filter);
  tcase_add_test(tc, order);
  tcase_add_test(tc, batch);
  tcase_add_test(tc, sim);
  tcase_add_test(tc, times);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  reset();
  return failed ? 1 : 0;
}
