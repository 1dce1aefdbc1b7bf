/* Unit tests for hlr-provisioner's load.c: the per-SIM state machine over
 * an in-memory HLR behind the hp_hlr interface, which answers out of order,
 * can refuse, and can go away after a number of requests; and the reading
 * of a connection request (connect.h). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "connect.h"
#include "load.h"

enum { MAXSUB = 4096, MAXQ = 1024 };

typedef struct fake_sub {
  char imsi[16];
  hp_aud aud;
  int used;
} fake_sub;

typedef struct fake {
  fake_sub subs[MAXSUB];
  int nsubs;
  hp_hlr_result q[MAXQ]; /* answers not yet polled */
  int nq;
  int window;
  long requests, creates, sets;
  long die_after;        /* requests served before going away; <0 never */
  int down;
  char refuse_set[16];   /* an IMSI whose auth data the HLR refuses */
  int lie_on_read;       /* READ_AUD returns a changed Ki */
} fake;

static fake_sub *find(fake *f, const char *imsi) {
  for (int i = 0; i < f->nsubs; i++)
    if (f->subs[i].used && !strcmp(f->subs[i].imsi, imsi))
      return &f->subs[i];
  return NULL;
}

static int f_submit(void *impl, const hp_hlr_op *op, char *errstr,
                    size_t errlen) {
  fake *f = impl;
  if (f->down) {
    snprintf(errstr, errlen, "connection refused");
    return -1;
  }
  if (f->nq >= f->window)
    return 1;
  hp_hlr_result *r = &f->q[f->nq++];
  memset(r, 0, sizeof *r);
  r->tag = op->tag;
  r->kind = op->kind;
  snprintf(r->imsi, sizeof r->imsi, "%s", op->imsi);
  f->requests++;
  if (f->die_after >= 0 && f->requests > f->die_after) {
    f->down = 1;
    r->status = HP_HLR_UNAVAILABLE;
    snprintf(r->detail, sizeof r->detail, "connection lost");
    return 0;
  }
  fake_sub *s = find(f, op->imsi);
  switch (op->kind) {
  case HP_HLR_CREATE:
    f->creates++;
    if (s) {
      r->status = HP_HLR_EXISTS;
    } else {
      ck_assert_int_lt(f->nsubs, MAXSUB);
      s = &f->subs[f->nsubs++];
      memset(s, 0, sizeof *s);
      s->used = 1;
      snprintf(s->imsi, sizeof s->imsi, "%s", op->imsi);
    }
    break;
  case HP_HLR_SET_AUD2G:
  case HP_HLR_SET_AUD3G:
    f->sets++;
    if (!s) {
      r->status = HP_HLR_NOT_FOUND;
    } else if (!strcmp(op->imsi, f->refuse_set)) {
      r->status = HP_HLR_FAILED;
      snprintf(r->detail, sizeof r->detail, "Value failed verification.");
    } else {
      s->aud = op->aud;
    }
    break;
  case HP_HLR_READ_AUD:
    if (!s) {
      r->status = HP_HLR_NOT_FOUND;
    } else {
      r->aud = s->aud;
      if (f->lie_on_read && r->aud.has_3g)
        r->aud.k.b[0] ^= 1;
    }
    break;
  default:
    r->status = HP_HLR_FAILED;
  }
  return 0;
}

/* Answers come back newest first: the loader must match them by tag. */
static int f_poll(void *impl, int timeout_ms, hp_hlr_result *out) {
  (void)timeout_ms;
  fake *f = impl;
  if (f->nq == 0)
    return 0;
  *out = f->q[--f->nq];
  return 1;
}

static int f_outstanding(void *impl) { return ((fake *)impl)->nq; }

static int f_reconnect(void *impl, char *errstr, size_t errlen) {
  (void)errstr;
  (void)errlen;
  fake *f = impl;
  f->down = 0;
  f->die_after = -1;
  return 0;
}

static void f_close(void *impl) { (void)impl; }

static const hp_hlr_ops fake_ops = {"fake", f_submit, f_poll, f_outstanding,
                                    f_reconnect, f_close};

static fake F;
static hp_hlr H = {&fake_ops, &F};
static hp_sim S[2000];
static char err[256];

static void fake_reset(int window) {
  memset(&F, 0, sizeof F);
  F.window = window;
  F.die_after = -1;
}

static void want(hp_sim *s, int i, int usim) {
  memset(s, 0, sizeof *s);
  unsigned u = (unsigned)i % 100000u; /* 5 digits, for the compiler too */
  snprintf(s->iccid, sizeof s->iccid, "89840100000000%05u", u);
  snprintf(s->imsi, sizeof s->imsi, "4520100000%05u", u);
  unsigned char k[16], opc[16];
  for (int j = 0; j < 16; j++) {
    k[j] = (unsigned char)(i * 7 + j);
    opc[j] = (unsigned char)(i * 13 + j + 1);
  }
  if (usim)
    ck_assert_int_eq(
        hp_aud_set_3g(&s->want, k, 16, opc, 16, 0, err, sizeof err), 0);
  else
    ck_assert_int_eq(hp_aud_set_2g(&s->want, HP_AUD_COMP128V1, k, 16, err,
                                   sizeof err),
                     0);
}

START_TEST(loads_every_sim_once) {
  fake_reset(32);
  for (int i = 0; i < 1000; i++)
    want(&S[i], i, i % 4 != 0);
  hp_load_stats st;
  ck_assert_int_eq(hp_load_run(&H, S, 1000, 100, &st, err, sizeof err), 0);
  ck_assert_int_eq(st.loaded, 1000);
  ck_assert_int_eq(st.already + st.failed + st.pending, 0);
  ck_assert_int_eq(F.nsubs, 1000);
  ck_assert_int_eq(F.creates, 1000);
  ck_assert_int_eq(st.requests, 3000); /* create, set, read back */
  for (int i = 0; i < 1000; i++) {
    ck_assert_int_eq(S[i].outcome, HP_SIM_LOADED);
    fake_sub *s = find(&F, S[i].imsi);
    ck_assert_ptr_nonnull(s);
    char why[64];
    ck_assert_int_eq(hp_aud_compare(&s->aud, &S[i].want, why, sizeof why),
                     HP_AUD_MATCH);
  }
  hp_load_wipe(S, 1000);
}
END_TEST

/* Present with the same data: already; with other data: a conflict, left
 * alone; present without auth data (a run stopped between create and set):
 * completed. */
START_TEST(existing_subscribers) {
  fake_reset(8);
  for (int i = 0; i < 30; i++)
    want(&S[i], i, 1);
  hp_sim other;
  want(&other, 99, 1);
  fake_sub *s = &F.subs[F.nsubs++];
  s->used = 1;
  strcpy(s->imsi, S[3].imsi);
  s->aud = S[3].want;
  s = &F.subs[F.nsubs++];
  s->used = 1;
  strcpy(s->imsi, S[4].imsi);
  s->aud = other.want; /* somebody else's keys */
  s = &F.subs[F.nsubs++];
  s->used = 1;
  strcpy(s->imsi, S[5].imsi); /* no auth data */
  hp_load_stats st;
  ck_assert_int_eq(hp_load_run(&H, S, 30, 100, &st, err, sizeof err), 0);
  ck_assert_int_eq(st.loaded, 28);
  ck_assert_int_eq(st.already, 1);
  ck_assert_int_eq(st.failed, 1);
  ck_assert_int_eq(S[3].outcome, HP_SIM_ALREADY);
  ck_assert_int_eq(S[4].outcome, HP_SIM_FAILED);
  ck_assert_ptr_nonnull(strstr(S[4].reason, "other auth data"));
  ck_assert_ptr_nonnull(strstr(S[4].reason, "not overwritten"));
  ck_assert_int_eq(S[5].outcome, HP_SIM_LOADED);
  char why[64];
  ck_assert_int_eq(hp_aud_compare(&find(&F, S[4].imsi)->aud, &other.want, why,
                                  sizeof why),
                   HP_AUD_MATCH);
  hp_load_wipe(S, 30);
}
END_TEST

START_TEST(refusals_and_bad_read_back) {
  fake_reset(4);
  for (int i = 0; i < 10; i++)
    want(&S[i], i, 1);
  strcpy(F.refuse_set, S[2].imsi);
  hp_load_stats st;
  ck_assert_int_eq(hp_load_run(&H, S, 10, 100, &st, err, sizeof err), 0);
  ck_assert_int_eq(st.failed, 1);
  ck_assert_ptr_nonnull(strstr(S[2].reason, "refused the 3G auth data"));
  ck_assert_ptr_nonnull(strstr(S[2].reason, "Value failed verification"));
  fake_reset(4);
  F.lie_on_read = 1;
  for (int i = 0; i < 10; i++)
    want(&S[i], i, 1);
  ck_assert_int_eq(hp_load_run(&H, S, 10, 100, &st, err, sizeof err), 0);
  ck_assert_int_eq(st.failed, 10);
  ck_assert_ptr_nonnull(strstr(S[0].reason, "read back differs"));
  hp_load_wipe(S, 10);
}
END_TEST

/* The HLR goes away mid-run: the run stops with the rest pending; the next
 * run (after reconnect) finishes, and no SIM is created twice. */
START_TEST(resumes_after_the_hlr_went_away) {
  fake_reset(16);
  for (int i = 0; i < 500; i++)
    want(&S[i], i, i % 2);
  F.die_after = 700;
  hp_load_stats st;
  ck_assert_int_eq(hp_load_run(&H, S, 500, 100, &st, err, sizeof err), 1);
  ck_assert_ptr_nonnull(strstr(err, "HLR unavailable"));
  ck_assert_int_gt(st.pending, 0);
  ck_assert_int_eq(st.loaded + st.pending, 500);
  long first = st.loaded;
  ck_assert_int_eq(hp_hlr_reconnect(&H, err, sizeof err), 0);
  ck_assert_int_eq(hp_load_run(&H, S, 500, 100, &st, err, sizeof err), 0);
  ck_assert_int_eq(first + st.loaded + st.already, 500);
  ck_assert_int_eq(st.pending + st.failed, 0);
  ck_assert_int_eq(F.nsubs, 500); /* each subscriber once */
  for (int i = 0; i < 500; i++) {
    ck_assert_int_ne(S[i].outcome, HP_SIM_PENDING);
    char why[64];
    ck_assert_int_eq(hp_aud_compare(&find(&F, S[i].imsi)->aud, &S[i].want,
                                    why, sizeof why),
                     HP_AUD_MATCH);
  }
  /* down from the start: nothing sent, all pending */
  fake_reset(16);
  F.down = 1;
  for (int i = 0; i < 20; i++)
    want(&S[i], i, 1);
  ck_assert_int_eq(hp_load_run(&H, S, 20, 100, &st, err, sizeof err), 1);
  ck_assert_int_eq(st.pending, 20);
  ck_assert_int_eq(F.requests, 0);
  hp_load_wipe(S, 500);
}
END_TEST

/* connection.requested as a saga to run (connect.h): what the consumer
 * reads before any database or HLR. */
START_TEST(connect_request_from_event) {
  static const struct {
    const char *data, *reason; /* reason NULL: taken */
  } cases[] = {
      {"{\"request_id\": \"CN-1\", \"iccid\": \"8984017700000000003\", "
       "\"msisdn\": \"0901 234 567\", \"swap\": true, \"case_id\": \"C-1\"}",
       NULL},
      {"{\"request_id\": \"CN-1\", \"iccid\": \"8984017700000000003\", "
       "\"msisdn\": \"84901234567\", \"swap\": \"true\"}",
       "needs request_id, iccid, msisdn and swap (a boolean)"},
      {"{\"request_id\": \"\", \"iccid\": \"1\", \"msisdn\": \"84901234567\", "
       "\"swap\": false}",
       "needs request_id"},
      {"{\"request_id\": \"CN-1\", \"iccid\": \"898401770000000000031\", "
       "\"msisdn\": \"84901234567\", \"swap\": false}",
       "needs request_id"},
      {"{\"request_id\": \"CN-1\", \"iccid\": \"1\", \"msisdn\": "
       "\"02438251234\", \"swap\": false}",
       "connection.requested"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    sp_event ev;
    char err[512];
    ck_assert_int_eq(sp_event_init(&ev, "/simpki/inventory",
                                   "connection.requested", "connection/CN-1",
                                   NULL, NULL,
                                   json_loads(cases[i].data, 0, NULL), err,
                                   sizeof err),
                     0);
    hp_conn c;
    const char *case_id;
    int rc = hp_conn_from_event(&ev, &c, &case_id, err, sizeof err);
    if (!cases[i].reason) {
      ck_assert_int_eq(rc, 0);
      ck_assert_str_eq(c.request_id, "CN-1");
      ck_assert_str_eq(c.msisdn, "84901234567");
      ck_assert_int_eq(c.swap, 1);
      ck_assert_int_eq(c.step, HP_CONN_FIND);
      ck_assert_str_eq(case_id, "C-1");
    } else {
      ck_assert_int_eq(rc, -1);
      ck_assert_msg(strstr(err, cases[i].reason) && strstr(err, ev.id),
                    "case %zu: %s", i, err);
      ck_assert_ptr_null(case_id);
    }
    sp_event_clear(&ev);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("hlr_load");
  TCase *tc = tcase_create("load");
  tcase_add_test(tc, loads_every_sim_once);
  tcase_add_test(tc, existing_subscribers);
  tcase_add_test(tc, refusals_and_bad_read_back);
  tcase_add_test(tc, resumes_after_the_hlr_went_away);
  tcase_add_test(tc, connect_request_from_event);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
