/* test_audit_state.c - the state `simpkictl audit replay --against-db`
 * rebuilds from the events and its comparison with the database's rows
 * (tools/simpkictl/audit_state.c). The files are compiled in here, as
 * test_audit_select.c does. */
#include "../../tools/simpkictl/audit_chain.c"
#include "../../tools/simpkictl/audit_index.c"
#include "../../tools/simpkictl/audit_data.c"
#include "../../tools/simpkictl/audit_map.c"
#include "../../tools/simpkictl/audit_state.c"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

#define MAXEV 40
#define ORD "ORD-2026-000001"
#define P1 ORD "-P1"
#define B1 ORD "-B001"
/* P1: 003 011 029 037 045; B1: 052 060 078 086 094 102 110 128. */
#define S0 "8984017700000000003"
#define S1 "8984017700000000011"
#define S2 "8984017700000000029"
#define S3 "8984017700000000037"
#define S4 "8984017700000000045"
#define S5 "8984017700000000052"
#define S6 "8984017700000000060"
#define S12 "8984017700000000128"

static audit_event E[MAXEV];
static size_t N;

static void reset(void) {
  for (size_t i = 0; i < N; i++)
    audit_data_free((audit_data *)E[i].data);
  memset(E, 0, sizeof E);
  N = 0;
}

static size_t ev(const char *type, const char *subject, const char *time,
                 const char *data) {
  ck_assert_int_lt(N, MAXEV);
  audit_event *e = &E[N];
  e->topic = "t";
  e->id = "x";
  e->type = type;
  e->subject = subject;
  e->correlationid = ORD;
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

#define T(h, m) "2026-11-26T" h ":" m ":00.000Z"

/* A run's events, not in time order (as partitions interleave). */
static void events(void) {
  reset();
  ev("sims.handed_over", "move/MV-1", T("04", "00"),
     "{\"iccid_first\":\"" S0 "\",\"iccid_last\":\"" S2
     "\",\"ctkv\":\"CTKV1\"}");
  ev("batch.output_accepted", "batch/" P1, T("01", "00"),
     "{\"batch_id\":\"" P1 "\",\"iccid_first\":\"" S0 "\",\"iccid_last\":\"" S4
     "\",\"sims\":5}");
  ev("batch.provisioned", "batch/" P1, T("02", "00"),
     "{\"batch_id\":\"" P1 "\",\"failed\":1,\"failures\":[{\"iccid\":\"" S4
     "\",\"reason\":\"no\"}]}");
  ev("sims.stocked_in", "move/MV-2", T("05", "00"),
     "{\"iccid_first\":\"" S0 "\",\"iccid_last\":\"" S2
     "\",\"ctkv\":\"CTKV1\"}");
  ev("sims.transferred", "move/MV-3", T("06", "00"),
     "{\"iccid_first\":\"" S0 "\",\"iccid_last\":\"" S1
     "\",\"ctkv\":\"CTKV1\",\"shop\":\"HNI-001\"}");
  ev("sim.delivered", "sim/" S0, T("09", "00"), "{\"iccid\":\"" S0 "\"}");
  ev("sim.connected", "sim/" S0, T("07", "00"), "{\"iccid\":\"" S0 "\"}");
  ev("sim.sold", "sim/" S0, T("08", "00"), "{\"iccid\":\"" S0 "\"}");
  ev("sim.faulty", "sim/" S3, T("07", "00"), "{\"iccid\":\"" S3 "\"}");
  /* B1 produced, never provisioned; a redelivered copy of a later sale
   * changes nothing. */
  ev("batch.output_accepted", "batch/" B1, T("03", "00"),
     "{\"batch_id\":\"" B1 "\",\"iccid_first\":\"" S5 "\",\"iccid_last\":\"" S12
     "\",\"sims\":8}");
  size_t c =
      ev("sim.connected", "sim/" S6, T("10", "00"), "{\"iccid\":\"" S6 "\"}");
  E[c].copy_of = 0;
  /* A SIM of no batch: no row. */
  ev("sim.sold", "sim/8984017799999999990", T("10", "00"),
     "{\"iccid\":\"8984017799999999990\"}");
  ev("order.in_production", "order/" ORD, T("03", "00"),
     "{\"order_id\":\"" ORD "\"}");
  ev("order.accepted", "order/" ORD, T("00", "00"),
     "{\"order_id\":\"" ORD "\",\"state\":\"waiting_pilot\"}");
  ev("batch.held", "batch/" B1, T("00", "00"), "{\"batch_id\":\"" B1 "\"}");
  ev("batch.released", "batch/" B1, T("03", "00"), "{\"batch_id\":\"" B1 "\"}");
  ev("batch.released", "batch/" P1, T("00", "00"), "{\"batch_id\":\"" P1 "\"}");
  ev("batch.passed", "batch/" P1, T("03", "00"), "{\"batch_id\":\"" P1 "\"}");
  ev("case.opened", "case/CASE-2026-000001", T("00", "00"),
     "{\"case_id\":\"CASE-2026-000001\"}");
  ev("case.closed", "case/CASE-2026-000001", T("07", "00"),
     "{\"case_id\":\"CASE-2026-000001\"}");
  ev("case.contacted", "case/CASE-2026-000001", T("08", "00"),
     "{\"case_id\":\"CASE-2026-000001\"}");
  ev("case.opened", "case/CASE-2026-000002", T("00", "00"),
     "{\"case_id\":\"CASE-2026-000002\"}");
}

static audit_state *built(void) {
  events();
  audit_state *s = audit_state_new();
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(audit_state_build(s, E, N), 0);
  return s;
}

static void sim_is(audit_state *s, const char *iccid, const char *state,
                   const char *ctkv, const char *shop) {
  const char *st, *c, *sh;
  ck_assert_msg(audit_state_sim(s, iccid, &st, &c, &sh), "%s unknown", iccid);
  ck_assert_str_eq(st, state);
  ck_assert_str_eq(c, ctkv);
  ck_assert_str_eq(sh, shop);
}

START_TEST(rebuild) {
  audit_state *s = built();
  sim_is(s, S0, "delivered", "CTKV1", "HNI-001");
  sim_is(s, S1, "at_shop", "CTKV1", "HNI-001");
  sim_is(s, S2, "in_stock", "CTKV1", "");
  sim_is(s, S3, "faulty", "", "");
  sim_is(s, S4, "hlr_failed", "", "");
  sim_is(s, S5, "produced", "", "");
  sim_is(s, S6, "produced", "", ""); /* the copy is not applied */
  sim_is(s, S12, "produced", "", "");
  const char *st, *c, *sh;
  ck_assert_int_eq(audit_state_sim(s, "8984017700000000136", &st, &c, &sh), 0);
  ck_assert_int_eq(audit_state_sim(s, "8984017799999999990", &st, &c, &sh), 0);
  ck_assert_str_eq(audit_state_row(s, AUDIT_T_ORDERS, ORD), "in_production");
  ck_assert_str_eq(audit_state_row(s, AUDIT_T_BATCHES, P1), "passed");
  ck_assert_str_eq(audit_state_row(s, AUDIT_T_BATCHES, B1), "released");
  ck_assert_str_eq(audit_state_row(s, AUDIT_T_CASES, "CASE-2026-000001"),
                   "connected");
  ck_assert_str_eq(audit_state_row(s, AUDIT_T_CASES, "CASE-2026-000002"),
                   "open");
  ck_assert_ptr_null(audit_state_row(s, AUDIT_T_CASES, "CASE-2026-000003"));
  audit_state_stats st2;
  audit_state_stats_get(s, &st2);
  ck_assert_uint_eq(st2.rows[AUDIT_T_SIMS], 13);
  ck_assert_uint_eq(st2.rows[AUDIT_T_BATCHES], 2);
  audit_state_free(s);
}
END_TEST

/* The database as the events say, every row: no drift. */
static void all_rows(audit_state *s, audit_findings *f, const char *s0_state,
                     const char *case1, int skip_s12) {
  static const char *const iccids[] = {S0,
                                       S1,
                                       S2,
                                       S3,
                                       S4,
                                       S5,
                                       S6,
                                       "8984017700000000078",
                                       "8984017700000000086",
                                       "8984017700000000094",
                                       "8984017700000000102",
                                       "8984017700000000110",
                                       S12};
  for (size_t i = 0; i < sizeof iccids / sizeof *iccids; i++) {
    if (skip_s12 && !strcmp(iccids[i], S12))
      continue;
    const char *st, *c, *sh;
    ck_assert(audit_state_sim(s, iccids[i], &st, &c, &sh));
    if (i == 0 && s0_state)
      st = s0_state;
    ck_assert_int_eq(
        audit_state_check_row(s, AUDIT_T_SIMS, iccids[i], st, c, sh, f), 0);
  }
  ck_assert_int_eq(audit_state_check_row(s, AUDIT_T_ORDERS, ORD,
                                         "in_production", NULL, NULL, f),
                   0);
  ck_assert_int_eq(
      audit_state_check_row(s, AUDIT_T_BATCHES, P1, "passed", NULL, NULL, f),
      0);
  ck_assert_int_eq(
      audit_state_check_row(s, AUDIT_T_BATCHES, B1, "released", NULL, NULL, f),
      0);
  ck_assert_int_eq(audit_state_check_row(s, AUDIT_T_CASES, "CASE-2026-000001",
                                         case1, NULL, NULL, f),
                   0);
  ck_assert_int_eq(audit_state_check_row(s, AUDIT_T_CASES, "CASE-2026-000002",
                                         "open", NULL, NULL, f),
                   0);
}

START_TEST(clean) {
  audit_state *s = built();
  audit_findings f = {0};
  all_rows(s, &f, NULL, "connected", 0);
  ck_assert_int_eq(audit_state_finish(s, &f), 0);
  ck_assert_uint_eq(f.n, 0);
  audit_state_stats st;
  audit_state_stats_get(s, &st);
  ck_assert_uint_eq(st.checked[AUDIT_T_SIMS], 13);
  ck_assert_uint_eq(st.drift[AUDIT_T_SIMS], 0);
  audit_findings_free(&f);
  audit_state_free(s);
}
END_TEST

START_TEST(drifts) {
  audit_state *s = built();
  audit_findings f = {0};
  /* Two rows changed by hand, one missing, one unknown. */
  all_rows(s, &f, "in_stock", "open", 1);
  ck_assert_int_eq(audit_state_check_row(s, AUDIT_T_SIMS, "8984017799999999990",
                                         "sold", "", "", &f),
                   0);
  ck_assert_int_eq(audit_state_check_row(s, AUDIT_T_ORDERS, "ORD-2026-000009",
                                         "blocked", NULL, NULL, &f),
                   0);
  ck_assert_int_eq(audit_state_finish(s, &f), 0);
  ck_assert_uint_eq(f.n, 5);
  for (size_t i = 0; i < f.n; i++)
    ck_assert_int_eq(f.v[i].kind, AUDIT_DRIFT);
  ck_assert_str_eq(f.v[0].table, "sims");
  ck_assert_str_eq(f.v[0].row, S0);
  ck_assert_str_eq(f.v[0].what,
                   "state in the database 'in_stock', from the events "
                   "'delivered'");
  ck_assert_str_eq(f.v[1].table, "connection_cases");
  ck_assert_str_eq(f.v[1].row, "CASE-2026-000001");
  ck_assert_str_eq(f.v[1].what, "state in the database 'open', from the events "
                                "'connected'");
  ck_assert_str_eq(f.v[2].row, "8984017799999999990");
  ck_assert_ptr_nonnull(strstr(f.v[2].what, "no batch.output_accepted"));
  ck_assert_str_eq(f.v[3].table, "orders");
  ck_assert_str_eq(f.v[3].what,
                   "in the database (state 'blocked'), but no event made it");
  /* The missing row is named by its ICCID, the Luhn digit computed. */
  ck_assert_str_eq(f.v[4].table, "sims");
  ck_assert_str_eq(f.v[4].row, S12);
  ck_assert_str_eq(f.v[4].what,
                   "not in the database, from the events 'produced' (batch " B1
                   ")");
  audit_findings_free(&f);
  audit_state_free(s);
}
END_TEST

START_TEST(columns) {
  audit_state *s = built();
  audit_findings f = {0};
  ck_assert_int_eq(
      audit_state_check_row(s, AUDIT_T_SIMS, S1, "at_shop", "CTKV2", "", &f),
      0);
  ck_assert_uint_eq(f.n, 1);
  ck_assert_str_eq(f.v[0].what,
                   "ctkv_id in the database 'CTKV2', from the events "
                   "'CTKV1'; shop_id in the database NULL, from the events "
                   "'HNI-001'");
  audit_findings_free(&f);
  audit_state_free(s);
}
END_TEST

/* More rows drift than are listed: the rest are counted. */
START_TEST(many) {
  reset();
  ev("batch.output_accepted", "batch/" B1, T("01", "00"),
     "{\"batch_id\":\"" B1 "\",\"iccid_first\":\"8984017700000000003\","
     "\"iccid_last\":\"8984017700000100009\"}");
  audit_state *s = audit_state_new();
  ck_assert_int_eq(audit_state_build(s, E, N), 0);
  audit_findings f = {0};
  ck_assert_int_eq(audit_state_finish(s, &f), 0);
  ck_assert_uint_eq(f.n, AUDIT_DRIFT_MAX + 1);
  ck_assert_str_eq(f.v[AUDIT_DRIFT_MAX].what,
                   "9001 more rows drift (the first 1000 are listed)");
  ck_assert_str_eq(f.v[AUDIT_DRIFT_MAX].row, "");
  audit_findings_free(&f);
  audit_state_free(s);
}
END_TEST

int main(void) {
  Suite *s = suite_create("audit_state");
  TCase *tc = tcase_create("state");
  tcase_add_test(tc, rebuild);
  tcase_add_test(tc, clean);
  tcase_add_test(tc, drifts);
  tcase_add_test(tc, columns);
  tcase_add_test(tc, many);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  reset();
  return failed ? 1 : 0;
}
