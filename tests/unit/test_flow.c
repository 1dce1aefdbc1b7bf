/* Unit tests for common/flow: every event type with a schema has a step,
 * the SIM counts, times, the ring of recent events, unknown types. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

static json_t *js(const char *text) {
  json_error_t e;
  json_t *j = json_loads(text, 0, &e);
  ck_assert_msg(j != NULL, "bad test JSON %s: %s", text, e.text);
  return j;
}

static int has_prefix(const char *s, const char *p) {
  return !strncmp(s, p, strlen(p));
}

/* schemas/events/<producer>/<type>.json, test/ aside: each type has a
 * step, except sig.verify.* which flow.h says has none. */
START_TEST(every_schema_type_has_a_step) {
  const char *src = getenv("SIMPKI_SOURCE_DIR");
  char root[4096];
  snprintf(root, sizeof root, "%s/schemas/events",
           src ? src : SIMPKI_SOURCE_DIR);
  DIR *top = opendir(root);
  ck_assert_msg(top != NULL, "cannot open %s", root);
  int seen = 0;
  char missing[4096] = "";
  struct dirent *p;
  while ((p = readdir(top))) {
    if (p->d_name[0] == '.' || !strcmp(p->d_name, "test"))
      continue;
    char dir[4352];
    snprintf(dir, sizeof dir, "%s/%s", root, p->d_name);
    DIR *d = opendir(dir);
    if (!d)
      continue; /* envelope.json and other files */
    struct dirent *f;
    while ((f = readdir(d))) {
      size_t n = strlen(f->d_name);
      if (n < 6 || strcmp(f->d_name + n - 5, ".json"))
        continue;
      char type[256];
      snprintf(type, sizeof type, "%.*s", (int)(n - 5), f->d_name);
      seen++;
      int step = sp_flow_step_of(type);
      if (has_prefix(type, "sig.verify.")) {
        ck_assert_msg(step == -1, "%s should have no step", type);
        continue;
      }
      if (step < 0 && strlen(missing) + n + 2 < sizeof missing) {
        strcat(missing, " ");
        strcat(missing, type);
      }
      ck_assert_ptr_nonnull(sp_flow_step_at(step < 0 ? 0 : step));
    }
    closedir(d);
  }
  closedir(top);
  ck_assert_msg(seen >= 50, "only %d schemas found under %s", seen, root);
  ck_assert_msg(!missing[0], "event types with no step:%s", missing);
  ck_assert_int_eq(sp_flow_step_of("test.bench.tick"), -1);
  ck_assert_int_eq(sp_flow_step_of("test.eo.credited"), -1);
}
END_TEST

START_TEST(steps_in_workflow_order) {
  static const char *const want[] = {"A4",  "A5",  "B1",  "B2",   "B3",   "B4",
                                     "B5",  "B6",  "B7",  "B8",   "SHOP", "B9",
                                     "B10", "B11", "INC", "VCSP", "MSG"};
  ck_assert_int_eq(sp_flow_step_count(), (int)(sizeof want / sizeof *want));
  ck_assert_int_le(sp_flow_step_count(), SP_FLOW_MAX_STEPS);
  for (int i = 0; i < sp_flow_step_count(); i++) {
    const sp_flow_step *s = sp_flow_step_at(i);
    ck_assert_str_eq(s->code, want[i]);
    ck_assert_int_eq(sp_flow_step_by_code(want[i]), i);
    ck_assert_msg(s->label[0] && s->term[0], "%s lacks a label", s->code);
  }
  ck_assert_ptr_null(sp_flow_step_at(-1));
  ck_assert_ptr_null(sp_flow_step_at(sp_flow_step_count()));
  ck_assert_int_eq(sp_flow_step_by_code("B12"), -1);
  ck_assert_int_eq(sp_flow_step_by_code(NULL), -1);
  ck_assert_str_eq(sp_flow_step_at(sp_flow_step_by_code("B7"))->label,
                   "Bàn giao cho CTKV");
}
END_TEST

START_TEST(types_to_steps) {
  static const struct {
    const char *type, *code;
  } m[] = {
      {"registration.imported", "A4"},
      {"case.opened", "A4"},
      {"case.breached", "A5"},
      {"case.closed", "A5"},
      {"order.accepted", "B1"},
      {"batch.released", "B2"},
      {"vendor.pilot_passed", "B2"},
      {"batch.input_issued", "B3"},
      {"batch.output_accepted", "B4"},
      {"batch.provisioned", "B6"},
      {"sims.handed_over", "B7"},
      {"sims.stocked_in", "B8"},
      {"sims.transferred", "SHOP"},
      {"sims.walked_in", "SHOP"},
      {"connection.requested", "B9"},
      {"sim.connected", "B9"},
      {"sim.sold", "B10"},
      {"sim.delivered", "B11"},
      {"sim.returned", "INC"},
      {"account.created", "VCSP"},
      {"otp.sent", "VCSP"},
      {"notification.failed", "MSG"},
  };
  for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
    int s = sp_flow_step_of(m[i].type);
    ck_assert_msg(s >= 0, "%s has no step", m[i].type);
    ck_assert_str_eq(sp_flow_step_at(s)->code, m[i].code);
  }
  ck_assert_int_eq(sp_flow_step_of(NULL), -1);
  ck_assert_int_eq(sp_flow_step_of(""), -1);
  ck_assert_int_eq(sp_flow_step_of("sim"), -1);
  ck_assert_int_eq(sp_flow_step_of("sim.connected.x"), -1);
}
END_TEST

/* An integer data field for sp_flow_type_sims, -1 when none. */
static long long json_get(void *ctx, const char *field) {
  const json_t *v = json_object_get(ctx, field);
  return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

START_TEST(sim_counts) {
  static const struct {
    const char *type, *data;
    long long want;
  } c[] = {
      {"batch.released", "{\"quantity\": 500}", 500},
      {"batch.held", "{\"quantity\": 500}", 0},
      {"order.accepted", "{\"quantity\": 3000}", 3000},
      {"batch.input_issued", "{\"quantity\": 1000}", 1000},
      {"batch.output_accepted", "{\"sims\": 1000}", 1000},
      {"batch.provisioned",
       "{\"sims\": 1000, \"loaded\": 990, \"already_present\": 7, "
       "\"failed\": 3}",
       997},
      {"batch.provisioned", "{\"loaded\": 10}", 10},
      {"sims.handed_over", "{\"sims\": 600}", 600},
      {"sims.stocked_in", "{\"sims\": 400}", 400},
      {"sims.transferred", "{\"sims\": 20}", 20},
      {"sims.walked_in", "{\"sims\": 1}", 1},
      {"registration.imported", "{\"persons\": 42}", 42},
      {"sim.connected", "{}", 1},
      {"sim.sold", "{\"iccid\": \"89840100000000000017\"}", 1},
      {"sim.delivered", "{}", 1},
      {"case.closed", "{}", 1},
      {"account.created", "{}", 1},
      {"connection.requested", "{}", 0},
      {"connection.hlr_done", "{}", 0},
      {"notification.sent", "{}", 0},
      /* Bad or missing fields count nothing. */
      {"sims.handed_over", "{\"sims\": -5}", 0},
      {"sims.handed_over", "{\"sims\": \"600\"}", 0},
      {"sims.handed_over", "{\"sims\": 6.5}", 0},
      {"sims.handed_over", "{}", 0},
      {"sims.handed_over", "[600]", 0},
      {"no.such_type", "{\"sims\": 600}", 0},
  };
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    json_t *d = js(c[i].data);
    ck_assert_msg(sp_flow_sims_of(c[i].type, d) == c[i].want,
                  "%s %s: %lld, want %lld", c[i].type, c[i].data,
                  sp_flow_sims_of(c[i].type, d), c[i].want);
    json_decref(d);
  }
  ck_assert_int_eq(sp_flow_sims_of("sims.handed_over", NULL), 0);
  ck_assert_int_eq(sp_flow_sims_of("sim.sold", NULL), 1);
  /* A type looked up once counts as its name does. */
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    json_t *d = js(c[i].data);
    const sp_flow_type *t = sp_flow_type_of(c[i].type);
    ck_assert_int_eq(t == NULL, sp_flow_step_of(c[i].type) < 0);
    if (json_is_object(d))
      ck_assert_msg(sp_flow_type_sims(t, json_get, d) == c[i].want, "%s %s",
                    c[i].type, c[i].data);
    json_decref(d);
  }
  ck_assert_ptr_null(sp_flow_type_of(NULL));
  ck_assert_int_eq(sp_flow_type_sims(NULL, json_get, NULL), 0);
  /* A forged huge count is capped, not overflowed. */
  json_t *d = js("{\"loaded\": 9223372036854775807, "
                 "\"already_present\": 9223372036854775807}");
  ck_assert(sp_flow_sims_of("batch.provisioned", d) > 0);
  json_decref(d);
}
END_TEST

START_TEST(times) {
  long long ms = 0;
  ck_assert_int_eq(sp_flow_parse_time("1970-01-01T00:00:01.500Z", &ms), 0);
  ck_assert_int_eq(ms, 1500);
  ck_assert_int_eq(sp_flow_parse_time("2026-11-25T17:30:00.123Z", &ms), 0);
  ck_assert(ms == 1795627800123LL);
  ck_assert_int_eq(sp_flow_parse_time("2026-11-26T00:30:00.123+07:00", &ms), 0);
  ck_assert(ms == 1795627800123LL);
  ck_assert_int_eq(sp_flow_parse_time("2026-11-25T17:30:00Z", &ms), 0);
  ck_assert(ms == 1795627800000LL);
  ck_assert_int_eq(sp_flow_parse_time("2026-11-25T17:30:00.1Z", &ms), 0);
  ck_assert(ms == 1795627800100LL);
  ck_assert_int_eq(sp_flow_parse_time("2026-11-25T17:30:00.123456Z", &ms), 0);
  ck_assert(ms == 1795627800123LL);
  ck_assert_int_eq(sp_flow_parse_time("2024-02-29T12:00:00-01:30", &ms), 0);
  ck_assert(ms == 1709213400000LL);
  static const char *const bad[] = {"",
                                    "2026-11-25",
                                    "2026-11-25 17:30:00Z",
                                    "2026-13-25T17:30:00Z",
                                    "2026-11-25T24:30:00Z",
                                    "2026-11-25T17:30:00",
                                    "2026-11-25T17:30:00.Z",
                                    "2026-11-25T17:30:00+7:00",
                                    "2026-11-25T17:30:00Zjunk",
                                    "2026-1x-25T17:30:00Z"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_msg(sp_flow_parse_time(bad[i], &ms) == -1, "accepted \"%s\"",
                  bad[i]);
  ck_assert_int_eq(sp_flow_parse_time(NULL, &ms), -1);
}
END_TEST

START_TEST(fold_counts_and_times) {
  sp_flow f;
  sp_flow_init(&f);
  json_t *d600 = js("{\"sims\": 600}"), *d400 = js("{\"sims\": 400}");
  int b7 = sp_flow_step_by_code("B7");
  ck_assert_int_eq(sp_flow_apply(&f, "sims.handed_over", "move/1",
                                 "2026-11-25T10:00:05.000Z", d600),
                   b7);
  /* Earlier event read later (another partition): first time moves back. */
  ck_assert_int_eq(sp_flow_apply(&f, "sims.handed_over", "move/2",
                                 "2026-11-25T10:00:01.000Z", d400),
                   b7);
  /* A malformed time still counts, without a time. */
  ck_assert_int_eq(
      sp_flow_apply(&f, "sims.handed_over", "move/3", "yesterday", d400), b7);
  const sp_flow_counts *c = &f.step[b7];
  ck_assert_uint_eq(c->events, 3);
  ck_assert(c->sims == 1400);
  long long t1, t5;
  sp_flow_parse_time("2026-11-25T10:00:01.000Z", &t1);
  sp_flow_parse_time("2026-11-25T10:00:05.000Z", &t5);
  ck_assert(c->first_ms == t1);
  ck_assert(c->last_ms == t5);
  ck_assert_str_eq(c->last_type, "sims.handed_over");

  int b9 = sp_flow_step_by_code("B9");
  sp_flow_apply(&f, "connection.requested", "sim/1", "2026-11-25T11:00:00Z",
                NULL);
  sp_flow_apply(&f, "sim.connected", "sim/1", "2026-11-25T11:00:02Z", NULL);
  ck_assert_uint_eq(f.step[b9].events, 2);
  ck_assert(f.step[b9].sims == 1);
  ck_assert_str_eq(f.step[b9].last_type, "sim.connected");
  ck_assert_uint_eq(f.events, 5);
  ck_assert_uint_eq(f.ignored, 0);
  /* The same fold with the type looked up once. */
  long long t12;
  sp_flow_parse_time("2026-11-25T12:00:00Z", &t12);
  ck_assert_int_eq(
      sp_flow_apply_type(&f, sp_flow_type_of("sim.connected"), "sim/2", t12, 1),
      b9);
  ck_assert_uint_eq(f.step[b9].events, 3);
  ck_assert(f.step[b9].sims == 2 && f.step[b9].last_ms == t12);
  ck_assert_str_eq(sp_flow_recent_at(&f, f.nrecent - 1)->subject, "sim/2");
  ck_assert_int_eq(sp_flow_apply_type(&f, NULL, "sim/3", t5, 1), -1);
  ck_assert_uint_eq(f.ignored, 1);
  ck_assert_uint_eq(f.events, 6);
  /* Counts only: the last events and the step's last type stay. */
  size_t nrecent = f.nrecent, next = f.next_recent;
  ck_assert_int_eq(
      sp_flow_count_type(&f, sp_flow_type_of("sim.sold"), t12 + 1, 1),
      sp_flow_step_by_code("B10"));
  ck_assert_uint_eq(f.step[sp_flow_step_by_code("B10")].events, 1);
  ck_assert(f.step[sp_flow_step_by_code("B10")].first_ms == t12 + 1);
  ck_assert_str_eq(f.step[sp_flow_step_by_code("B10")].last_type, "");
  ck_assert_uint_eq(f.nrecent, nrecent);
  ck_assert_uint_eq(f.next_recent, next);
  ck_assert_uint_eq(f.events, 7);
  ck_assert_int_eq(sp_flow_count_type(&f, NULL, t12, 1), -1);
  ck_assert_uint_eq(f.ignored, 2);
  /* Steps with nothing stay zero. */
  ck_assert_uint_eq(f.step[sp_flow_step_by_code("B5")].events, 0);
  ck_assert(f.step[sp_flow_step_by_code("B5")].first_ms == 0);
  json_decref(d600);
  json_decref(d400);
}
END_TEST

START_TEST(unknown_types_ignored) {
  sp_flow f, zero;
  sp_flow_init(&f);
  sp_flow_init(&zero);
  json_t *d = js("{\"sims\": 600}");
  ck_assert_int_eq(
      sp_flow_apply(&f, "test.bench.tick", "t/1", "2026-11-25T10:00:00Z", d),
      -1);
  ck_assert_int_eq(sp_flow_apply(&f, "sig.verify.requested", "r/1",
                                 "2026-11-25T10:00:00Z", d),
                   -1);
  ck_assert_int_eq(sp_flow_apply(&f, NULL, NULL, NULL, NULL), -1);
  ck_assert_uint_eq(f.ignored, 3);
  f.ignored = 0;
  ck_assert_int_eq(memcmp(&f, &zero, sizeof f), 0);
  json_decref(d);
}
END_TEST

START_TEST(ring_keeps_the_last) {
  sp_flow f;
  sp_flow_init(&f);
  ck_assert_ptr_null(sp_flow_recent_at(&f, 0));
  char subject[32], time[40];
  for (int i = 1; i <= 5; i++) {
    snprintf(subject, sizeof subject, "sim/%d", i);
    snprintf(time, sizeof time, "2026-11-25T10:00:%02dZ", i);
    sp_flow_apply(&f, "sim.sold", subject, time, NULL);
  }
  ck_assert_uint_eq(f.nrecent, 5);
  ck_assert_str_eq(sp_flow_recent_at(&f, 0)->subject, "sim/1");
  ck_assert_str_eq(sp_flow_recent_at(&f, 4)->subject, "sim/5");
  ck_assert_ptr_null(sp_flow_recent_at(&f, 5));

  int total = SP_FLOW_RECENT * 2 + 3;
  for (int i = 6; i <= total; i++) {
    snprintf(subject, sizeof subject, "sim/%d", i);
    sp_flow_apply(&f, i % 2 ? "sim.sold" : "sims.stocked_in", subject,
                  "2026-11-25T10:00:00Z", NULL);
  }
  ck_assert_uint_eq(f.nrecent, SP_FLOW_RECENT);
  for (size_t i = 0; i < SP_FLOW_RECENT; i++) {
    const sp_flow_recent *r = sp_flow_recent_at(&f, i);
    int n = total - SP_FLOW_RECENT + 1 + (int)i;
    snprintf(subject, sizeof subject, "sim/%d", n);
    ck_assert_str_eq(r->subject, subject);
    ck_assert_str_eq(r->type, n % 2 ? "sim.sold" : "sims.stocked_in");
    ck_assert_str_eq(sp_flow_step_at(r->step)->code, n % 2 ? "B10" : "B8");
  }
  /* Unknown types do not enter the ring. */
  sp_flow_apply(&f, "test.bench.tick", "t/1", "2026-11-25T10:00:00Z", NULL);
  ck_assert_str_eq(sp_flow_recent_at(&f, SP_FLOW_RECENT - 1)->type,
                   total % 2 ? "sim.sold" : "sims.stocked_in");
  /* Long subjects are cut, not overflowed. */
  char longsub[600];
  memset(longsub, 's', sizeof longsub - 1);
  longsub[sizeof longsub - 1] = '\0';
  sp_flow_apply(&f, "sim.sold", longsub, "2026-11-25T10:00:00Z", NULL);
  ck_assert_uint_eq(strlen(sp_flow_recent_at(&f, SP_FLOW_RECENT - 1)->subject),
                    sizeof f.recent[0].subject - 1);
}
END_TEST

/* Each stored SIM state maps to the step that brings a SIM there. */
START_TEST(sim_state_steps) {
  const char *want[][2] = {
      {"produced", "B4"},    {"provisioned", "B6"}, {"hlr_failed", "B6"},
      {"handed_over", "B7"}, {"in_stock", "B8"},    {"at_shop", "SHOP"},
      {"connected", "B9"},   {"sold", "B10"},       {"delivered", "B11"},
      {"faulty", "INC"},     {"returned", "INC"}};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    ck_assert_str_eq(
        sp_flow_step_at(sp_flow_step_of_sim_state(want[i][0]))->code,
        want[i][1]);
  ck_assert_int_eq(sp_flow_step_of_sim_state("lost"), -1);
  ck_assert_int_eq(sp_flow_step_of_sim_state(NULL), -1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("flow");
  TCase *tc = tcase_create("flow");
  tcase_add_test(tc, every_schema_type_has_a_step);
  tcase_add_test(tc, steps_in_workflow_order);
  tcase_add_test(tc, types_to_steps);
  tcase_add_test(tc, sim_counts);
  tcase_add_test(tc, times);
  tcase_add_test(tc, fold_counts_and_times);
  tcase_add_test(tc, unknown_types_ignored);
  tcase_add_test(tc, ring_keeps_the_last);
  tcase_add_test(tc, sim_state_steps);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
