/* test_audit_invariants.c - the workflow rules of `simpkictl audit replay`
 * (tools/simpkictl/audit_invariants.c), each respected and violated.
 *
 * The unit-test build links the libraries only, so the files are compiled
 * in here directly, as test_migrate_plan.c does with migrate.c. */
#include "../../tools/simpkictl/audit_chain.c"
#include "../../tools/simpkictl/audit_index.c"
#include "../../tools/simpkictl/audit_data.c"
#include "../../tools/simpkictl/audit_invariants.c"
#include "../../tools/simpkictl/audit_map.c"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXEV 32
#define P1 "ORD-2026-000001-P1"
#define B1 "ORD-2026-000001-B001"

static audit_event E[MAXEV];
static char ids[MAXEV][16];
static size_t N;
static audit_findings F;
static audit_rule_stats S[AUDIT_RULES];

static void reset(void) {
  for (size_t i = 0; i < N; i++)
    audit_data_free((audit_data *)E[i].data);
  memset(E, 0, sizeof E);
  N = 0;
  audit_findings_free(&F);
}

/* An event at time t (ms) with data (JSON text); subject and chain place
 * for "before" within one subject (pos 0: by time). */
static size_t ev(const char *type, const char *subject, long pos, long long t,
                 const char *data) {
  ck_assert_int_lt(N, MAXEV);
  json_error_t jerr;
  json_t *d = json_loads(data, 0, &jerr);
  ck_assert_msg(d != NULL, "bad test data %s: %s", data, jerr.text);
  audit_event *e = &E[N];
  snprintf(ids[N], sizeof ids[N], "ev-%zu", N);
  e->topic = "t";
  e->offset = (int64_t)N;
  e->id = ids[N];
  e->subject = subject;
  e->type = type;
  e->time = "2026-11-26T00:00:00.000Z";
  e->correlationid = "ORD-2026-000001";
  e->time_ms = t;
  e->pos = pos;
  e->data = audit_data_from_json(d);
  json_decref(d);
  ck_assert_ptr_nonnull(e->data);
  e->copy_of = AUDIT_NONE;
  return N++;
}

static void check(void) {
  ck_assert_int_eq(audit_invariants_check(E, N, &F, S), 0);
}

static const audit_rule_stats *rule(const char *name) {
  for (int i = 0; i < AUDIT_RULES; i++)
    if (!strcmp(S[i].rule, name))
      return &S[i];
  ck_abort_msg("no rule %s", name);
  return NULL;
}

/* The findings of a rule: exactly n, the first on event at. */
static const audit_finding *found(const char *name, size_t n, size_t at) {
  const audit_finding *first = NULL;
  size_t k = 0;
  for (size_t i = 0; i < F.n; i++) {
    ck_assert_int_eq(F.v[i].kind, AUDIT_INVARIANT);
    if (strcmp(F.v[i].rule, name))
      continue;
    if (!first)
      first = &F.v[i];
    k++;
  }
  ck_assert_msg(k == n, "%s: %zu findings, expected %zu%s%s", name, k, n,
                first ? ": " : "", first ? first->what : "");
  if (n) {
    ck_assert_uint_eq(first->ev, at);
    ck_assert_str_eq(first->topic, "t");
    ck_assert_int_eq(first->offset, (int64_t)at);
  }
  ck_assert_uint_eq(rule(name)->violations, n);
  return first;
}

static void none(void) {
  for (size_t i = 0; i < F.n; i++)
    ck_abort_msg("unexpected finding %s: %s", F.v[i].rule, F.v[i].what);
}

/* A pilot of 5 and a production batch of 1000, as deploy/local/run. */
static void batches(long long provisioned_at) {
  ev("batch.released", "batch/" P1, 1, 10,
     "{\"batch_id\":\"" P1 "\",\"vendor_id\":\"SAOVIET\",\"kind\":\"pilot\","
     "\"quantity\":5}");
  ev("batch.output_accepted", "batch/" P1, 3, 12,
     "{\"batch_id\":\"" P1 "\",\"sims\":5,\"iccid_first\":"
     "\"8984017700000000003\",\"iccid_last\":\"8984017700000000045\"}");
  ev("batch.provisioned", "batch/" P1, 4, provisioned_at,
     "{\"batch_id\":\"" P1 "\",\"sims\":5,\"loaded\":5,\"already_present\":0,"
     "\"failed\":0}");
  ev("batch.output_accepted", "batch/" B1, 3, 30,
     "{\"batch_id\":\"" B1 "\",\"sims\":1000,\"iccid_first\":"
     "\"8984017700000000052\",\"iccid_last\":\"8984017700000010044\"}");
}

START_TEST(iccid_compare) {
  ck_assert_int_eq(
      audit_iccid_cmp("8984017700000000052", "8984017700000000052"), 0);
  ck_assert_int_eq(
      audit_iccid_cmp("8984017700000000052", "8984017700000000106"), -1);
  ck_assert_int_eq(
      audit_iccid_cmp("89840177000000000520", "8984017700000000106"), 1);
  ck_assert_int_eq(audit_iccid_cmp("9", "10"), -1);
}
END_TEST

START_TEST(connected_after_provisioned) {
  reset();
  batches(14);
  ev("sim.connected", "sim/8984017700000000011", 1, 20,
     "{\"iccid\":\"8984017700000000011\"}");
  check();
  none();
  ck_assert_uint_eq(rule("connected-after-provisioned")->checked, 1);
  ck_assert_uint_eq(rule("connected-after-provisioned")->not_judged, 0);
  ck_assert_ptr_null(rule("connected-after-provisioned")->not_judged_why);

  /* Connected before the batch's report. */
  reset();
  batches(25);
  size_t c = ev("sim.connected", "sim/8984017700000000011", 1, 20,
                "{\"iccid\":\"8984017700000000011\"}");
  check();
  const audit_finding *f = found("connected-after-provisioned", 1, c);
  ck_assert_msg(strstr(f->what, "before its batch " P1) != NULL, "%s", f->what);

  /* A SIM of the production batch, never provisioned. */
  reset();
  batches(14);
  c = ev("sim.connected", "sim/8984017700000000102", 1, 40,
         "{\"iccid\":\"8984017700000000102\"}");
  check();
  f = found("connected-after-provisioned", 1, c);
  ck_assert_msg(strstr(f->what, "never provisioned") != NULL, "%s", f->what);

  /* A SIM of no batch at all (a longer ICCID is a bigger number). */
  reset();
  batches(14);
  c = ev("sim.connected", "sim/89840177000000000110", 1, 40,
         "{\"iccid\":\"89840177000000000110\"}");
  check();
  f = found("connected-after-provisioned", 1, c);
  ck_assert_msg(strstr(f->what, "no accepted output file") != NULL, "%s",
                f->what);

  /* No output file read at all (a replay of the sims topic alone): the
   * rule is not checked, and says how many connections it did not judge
   * and why. */
  reset();
  ev("sim.connected", "sim/8984017700000000011", 1, 20,
     "{\"iccid\":\"8984017700000000011\"}");
  ev("sim.connected", "sim/8984017700000000012", 1, 21,
     "{\"iccid\":\"8984017700000000012\"}");
  check();
  none();
  ck_assert_uint_eq(rule("connected-after-provisioned")->checked, 0);
  ck_assert_uint_eq(rule("connected-after-provisioned")->not_judged, 2);
  ck_assert_str_eq(rule("connected-after-provisioned")->not_judged_why,
                   "no batch.output_accepted read");
  ck_assert_uint_eq(rule("sold-after-connected")->not_judged, 0);
}
END_TEST

START_TEST(range_handed_over_once) {
  reset();
  ev("sims.handed_over", "move/MV-2026-00000001", 1, 10,
     "{\"iccid_first\":\"8984017700000000003\",\"iccid_last\":"
     "\"8984017700000000045\"}");
  ev("sims.handed_over", "move/MV-2026-00000006", 1, 30,
     "{\"iccid_first\":\"8984017700000006059\",\"iccid_last\":"
     "\"8984017700000010044\"}");
  ev("sims.handed_over", "move/MV-2026-00000005", 1, 20,
     "{\"iccid_first\":\"8984017700000000052\",\"iccid_last\":"
     "\"8984017700000006042\"}");
  check();
  none();
  ck_assert_uint_eq(rule("range-handed-over-once")->checked, 3);

  /* A range inside one handed over earlier, and one overlapping the end of
   * another: the later hand-over is named, each once. */
  size_t again = ev("sims.handed_over", "move/MV-2026-00000007", 1, 40,
                    "{\"iccid_first\":\"8984017700000000100\",\"iccid_last\":"
                    "\"8984017700000000200\"}");
  /* read before the range it overlaps, but handed over later */
  size_t tail = ev("sims.handed_over", "move/MV-2026-00000008", 1, 50,
                   "{\"iccid_first\":\"8984017700000010000\",\"iccid_last\":"
                   "\"8984017700000010100\"}");
  check();
  const audit_finding *f = found("range-handed-over-once", 2, again);
  ck_assert_msg(strstr(f->what, "handed over again") != NULL &&
                    strstr(f->what, "ev-2") != NULL,
                "%s", f->what);
  ck_assert_uint_eq(F.v[1].ev, tail);
  ck_assert_msg(strstr(F.v[1].what, "ev-1") != NULL, "%s", F.v[1].what);

  /* Overlapping by one ICCID. */
  reset();
  ev("sims.handed_over", "move/A", 1, 10,
     "{\"iccid_first\":\"8984017700000000003\",\"iccid_last\":"
     "\"8984017700000000045\"}");
  size_t b = ev("sims.handed_over", "move/B", 1, 20,
                "{\"iccid_first\":\"8984017700000000045\",\"iccid_last\":"
                "\"8984017700000000052\"}");
  check();
  found("range-handed-over-once", 1, b);
}
END_TEST

START_TEST(sold_after_connected) {
  reset();
  /* The same subject: the chain decides, not the clock. */
  ev("sim.connected", "sim/8984017700000000011", 1, 50,
     "{\"iccid\":\"8984017700000000011\"}");
  ev("sim.sold", "sim/8984017700000000011", 2, 40,
     "{\"iccid\":\"8984017700000000011\"}");
  check();
  none();
  ck_assert_uint_eq(rule("sold-after-connected")->checked, 1);

  reset();
  ev("sim.connected", "sim/8984017700000000011", 2, 10,
     "{\"iccid\":\"8984017700000000011\"}");
  size_t s = ev("sim.sold", "sim/8984017700000000011", 1, 40,
                "{\"iccid\":\"8984017700000000011\"}");
  check();
  const audit_finding *f = found("sold-after-connected", 1, s);
  ck_assert_msg(strstr(f->what, "before it was connected") != NULL, "%s",
                f->what);

  reset();
  ev("sim.connected", "sim/8984017700000000011", 1, 10,
     "{\"iccid\":\"8984017700000000011\"}");
  s = ev("sim.sold", "sim/8984017700000000029", 2, 40,
         "{\"iccid\":\"8984017700000000029\"}");
  check();
  f = found("sold-after-connected", 1, s);
  ck_assert_msg(strstr(f->what, "never connected") != NULL, "%s", f->what);

  /* A redelivered copy of the sale is not checked twice. */
  reset();
  s = ev("sim.sold", "sim/8984017700000000029", 2, 40,
         "{\"iccid\":\"8984017700000000029\"}");
  size_t c = ev("sim.sold", "sim/8984017700000000029", 2, 40,
                "{\"iccid\":\"8984017700000000029\"}");
  E[c].copy_of = s;
  check();
  found("sold-after-connected", 1, s);
}
END_TEST

START_TEST(pilot_before_production) {
  reset();
  ev("vendor.registered", "vendor/SAOVIET", 1, 1,
     "{\"vendor_id\":\"SAOVIET\"}");
  ev("batch.input_issued", "batch/" P1, 2, 5,
     "{\"batch_id\":\"" P1 "\",\"vendor_id\":\"SAOVIET\"}");
  ev("vendor.pilot_passed", "vendor/SAOVIET", 4, 30,
     "{\"vendor_id\":\"SAOVIET\",\"pilot_batch_id\":\"" P1 "\"}");
  ev("batch.released", "batch/" B1, 1, 31,
     "{\"batch_id\":\"" B1 "\",\"vendor_id\":\"SAOVIET\",\"kind\":"
     "\"production\",\"quantity\":1000}");
  ev("batch.input_issued", "batch/" B1, 2, 32,
     "{\"batch_id\":\"" B1 "\",\"vendor_id\":\"SAOVIET\"}");
  check();
  none();
  ck_assert_uint_eq(rule("pilot-before-production")->checked, 1);

  /* Its input file before the pilot passed. */
  reset();
  ev("vendor.registered", "vendor/SAOVIET", 1, 1,
     "{\"vendor_id\":\"SAOVIET\"}");
  ev("batch.released", "batch/" B1, 1, 20,
     "{\"batch_id\":\"" B1 "\",\"vendor_id\":\"SAOVIET\",\"kind\":"
     "\"production\",\"quantity\":1000}");
  size_t in = ev("batch.input_issued", "batch/" B1, 2, 21,
                 "{\"batch_id\":\"" B1 "\",\"vendor_id\":\"SAOVIET\"}");
  ev("vendor.pilot_passed", "vendor/SAOVIET", 4, 30,
     "{\"vendor_id\":\"SAOVIET\",\"pilot_batch_id\":\"" P1 "\"}");
  check();
  const audit_finding *f = found("pilot-before-production", 1, in);
  ck_assert_msg(strstr(f->what, "before the vendor's pilot passed") != NULL,
                "%s", f->what);

  /* A pilot seen (no registration read), never passed; the kind from the
   * batch id when its batch.released was not read. */
  reset();
  ev("batch.released", "batch/" P1, 1, 1,
     "{\"batch_id\":\"" P1 "\",\"vendor_id\":\"SAOVIET\",\"kind\":\"pilot\","
     "\"quantity\":5}");
  in = ev("batch.input_issued", "batch/" B1, 2, 21,
          "{\"batch_id\":\"" B1 "\",\"vendor_id\":\"SAOVIET\"}");
  check();
  f = found("pilot-before-production", 1, in);
  ck_assert_msg(strstr(f->what, "never passed") != NULL, "%s", f->what);

  /* A vendor connected before the record (no registration, no pilot):
   * nothing to check. */
  reset();
  ev("batch.input_issued", "batch/" B1, 2, 21,
     "{\"batch_id\":\"" B1 "\",\"vendor_id\":\"THALES-VN\"}");
  check();
  none();
  ck_assert_uint_eq(rule("pilot-before-production")->checked, 0);
}
END_TEST

START_TEST(batch_counts) {
  reset();
  ev("batch.released", "batch/" B1, 1, 1,
     "{\"batch_id\":\"" B1 "\",\"kind\":\"production\",\"quantity\":1000}");
  ev("batch.output_accepted", "batch/" B1, 3, 3,
     "{\"batch_id\":\"" B1 "\",\"sims\":1000}");
  ev("batch.provisioned", "batch/" B1, 4, 4,
     "{\"batch_id\":\"" B1 "\",\"sims\":1000,\"loaded\":990,"
     "\"already_present\":8,\"failed\":2}");
  check();
  none();
  ck_assert_uint_eq(rule("batch-counts")->checked, 1);

  /* Two SIMs lost between the output file and the report. */
  reset();
  ev("batch.released", "batch/" B1, 1, 1,
     "{\"batch_id\":\"" B1 "\",\"kind\":\"production\",\"quantity\":1000}");
  ev("batch.output_accepted", "batch/" B1, 3, 3,
     "{\"batch_id\":\"" B1 "\",\"sims\":1000}");
  size_t p = ev("batch.provisioned", "batch/" B1, 4, 4,
                "{\"batch_id\":\"" B1 "\",\"sims\":1000,\"loaded\":990,"
                "\"already_present\":8,\"failed\":0}");
  check();
  const audit_finding *f = found("batch-counts", 3, p);
  ck_assert_msg(strstr(f->what, "= 998, not its 1000 SIMs") != NULL, "%s",
                f->what);
  ck_assert_msg(strstr(F.v[1].what, "output file had 1000") != NULL, "%s",
                F.v[1].what);
  ck_assert_msg(strstr(F.v[2].what, "released for 1000") != NULL, "%s",
                F.v[2].what);

  /* The output file short of the order: the report agrees with the file
   * but not with the release. */
  reset();
  ev("batch.released", "batch/" B1, 1, 1,
     "{\"batch_id\":\"" B1 "\",\"kind\":\"production\",\"quantity\":1000}");
  ev("batch.output_accepted", "batch/" B1, 3, 3,
     "{\"batch_id\":\"" B1 "\",\"sims\":999}");
  p = ev("batch.provisioned", "batch/" B1, 4, 4,
         "{\"batch_id\":\"" B1 "\",\"sims\":999,\"loaded\":999,"
         "\"already_present\":0,\"failed\":0}");
  check();
  f = found("batch-counts", 1, p);
  ck_assert_msg(strstr(f->what, "released for 1000") != NULL, "%s", f->what);

  /* A count missing. */
  reset();
  p = ev("batch.provisioned", "batch/" B1, 4, 4,
         "{\"batch_id\":\"" B1 "\",\"sims\":999}");
  check();
  found("batch-counts", 1, p);
}
END_TEST

int main(void) {
  Suite *s = suite_create("audit_invariants");
  TCase *tc = tcase_create("invariants");
  tcase_add_test(tc, iccid_compare);
  tcase_add_test(tc, connected_after_provisioned);
  tcase_add_test(tc, range_handed_over_once);
  tcase_add_test(tc, sold_after_connected);
  tcase_add_test(tc, pilot_before_production);
  tcase_add_test(tc, batch_counts);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  reset();
  return failed ? 1 : 0;
}
