/* test_audit_chain.c - the hash-chain check of `simpkictl audit replay`
 * (tools/simpkictl/audit_chain.c): clean chains, a subject across topics,
 * redelivered copies, and each finding kind.
 *
 * The unit-test build links the libraries only, so the files are compiled
 * in here directly, as test_migrate_plan.c does with migrate.c. */
#include "../../tools/simpkictl/audit_chain.c"
#include "../../tools/simpkictl/audit_data.c"
#include "../../tools/simpkictl/audit_index.c"
#include "../../tools/simpkictl/audit_map.c"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXEV 32

typedef struct {
  char id[40], subject[256], type[128], prev[65], hash[65], content[65];
} owned;

static owned O[MAXEV];
static audit_event E[MAXEV];
static size_t N;
static audit_findings F;

static void reset(void) {
  memset(O, 0, sizeof O);
  memset(E, 0, sizeof E);
  N = 0;
  audit_findings_free(&F);
}

/* A sealed event of subject on topic/partition@offset after prev. */
static size_t mk(const char *topic, int part, long off, const char *subject,
                 const char *type, const char *prev) {
  sp_event ev;
  char err[128];
  ck_assert_int_eq(sp_event_init(&ev, "/simpki/test", type, subject, NULL,
                                 "ORD-2026-000001", NULL, err, sizeof err),
                   0);
  ck_assert_int_eq(sp_event_seal(&ev, prev ? prev : SP_EVENT_GENESIS), 0);
  ck_assert_int_lt(N, MAXEV);
  owned *o = &O[N];
  snprintf(o->id, sizeof o->id, "%s", ev.id);
  snprintf(o->subject, sizeof o->subject, "%s", ev.subject);
  snprintf(o->type, sizeof o->type, "%s", ev.type);
  memcpy(o->prev, ev.prevhash, sizeof o->prev);
  memcpy(o->hash, ev.hash, sizeof o->hash);
  char *c = sp_event_canonical(&ev);
  sp_sha256_hex(c, strlen(c), o->content);
  free(c);
  sp_event_clear(&ev);
  audit_event *e = &E[N];
  memset(e, 0, sizeof *e);
  e->topic = topic;
  e->partition = part;
  e->offset = off;
  e->id = o->id;
  e->subject = o->subject;
  e->type = o->type;
  e->time = "2026-11-26T00:00:00.000Z";
  e->correlationid = "ORD-2026-000001";
  e->prevhash = o->prev;
  e->hash = o->hash;
  e->content_hash = o->content;
  e->time_ms = 1000 + (long long)N;
  return N++;
}

/* A copy of event i at another place (a redelivery). */
static size_t copy(size_t i, const char *topic, int part, long off) {
  O[N] = O[i];
  E[N] = E[i];
  E[N].topic = topic;
  E[N].partition = part;
  E[N].offset = off;
  E[N].id = O[N].id;
  E[N].subject = O[N].subject;
  E[N].type = O[N].type;
  E[N].prevhash = O[N].prev;
  E[N].hash = O[N].hash;
  E[N].content_hash = O[N].content;
  return N++;
}

static const char *H(size_t i) { return O[i].hash; }

static audit_chain_stats check(void) {
  audit_chain_stats st;
  ck_assert_int_eq(audit_chain_check(E, N, &F, &st), 0);
  return st;
}

/* The only finding of kind k, which must be on event ev. */
static const audit_finding *only(audit_kind k, size_t ev) {
  const audit_finding *got = NULL;
  for (size_t i = 0; i < F.n; i++) {
    if (F.v[i].kind != k)
      continue;
    ck_assert_msg(!got, "two %s findings: %s / %s", audit_kind_name(k),
                  got->what, F.v[i].what);
    got = &F.v[i];
  }
  ck_assert_msg(got != NULL, "no %s finding", audit_kind_name(k));
  ck_assert_uint_eq(got->ev, ev);
  ck_assert_str_eq(got->topic, E[ev].topic);
  ck_assert_int_eq(got->partition, E[ev].partition);
  ck_assert_int_eq(got->offset, E[ev].offset);
  return got;
}

static void no_findings(void) {
  for (size_t i = 0; i < F.n; i++)
    ck_abort_msg("unexpected %s finding on event %zu: %s",
                 audit_kind_name(F.v[i].kind), F.v[i].ev, F.v[i].what);
}

START_TEST(clean_chains) {
  reset();
  size_t a1 = mk("batches", 0, 0, "batch/A", "batch.released", NULL);
  size_t b1 = mk("batches", 1, 0, "batch/B", "batch.released", NULL);
  size_t a2 = mk("batches", 0, 1, "batch/A", "batch.input_issued", H(a1));
  size_t b2 = mk("batches", 1, 1, "batch/B", "batch.input_issued", H(b1));
  size_t a3 = mk("batches", 0, 2, "batch/A", "batch.output_accepted", H(a2));
  audit_chain_stats st = check();
  no_findings();
  ck_assert_uint_eq(st.events, 5);
  ck_assert_uint_eq(st.unique, 5);
  ck_assert_uint_eq(st.copies, 0);
  ck_assert_uint_eq(st.subjects, 2);
  ck_assert_int_eq(E[a1].pos, 1);
  ck_assert_int_eq(E[a2].pos, 2);
  ck_assert_int_eq(E[a3].pos, 3);
  ck_assert_int_eq(E[b2].pos, 2);
  ck_assert(E[a3].linked && E[b2].linked);
  ck_assert_uint_eq(E[a3].copy_of, AUDIT_NONE);
  /* An empty replay is clean too. */
  reset();
  st = check();
  ck_assert_uint_eq(st.events, 0);
  no_findings();
}
END_TEST

START_TEST(subject_across_topics) {
  reset();
  /* order/X on two topics, interleaved: each topic in chain order. */
  size_t x1 = mk("orders", 0, 5, "order/X", "order.accepted", NULL);
  size_t x2 = mk("batches", 2, 0, "order/X", "batch.released", H(x1));
  size_t x3 = mk("orders", 0, 6, "order/X", "order.in_production", H(x2));
  size_t x4 = mk("batches", 2, 1, "order/X", "batch.released", H(x3));
  (void)x4;
  check();
  no_findings();
  ck_assert_int_eq(E[x3].pos, 3);
  /* Read in another order (topic by topic): still one clean chain. */
  reset();
  x1 = mk("orders", 0, 5, "order/X", "order.accepted", NULL);
  x2 = mk("batches", 2, 0, "order/X", "batch.released", H(x1));
  x3 = mk("orders", 0, 6, "order/X", "order.in_production", H(x2));
  audit_event t = E[x1];
  E[x1] = E[x2];
  E[x2] = t; /* x2 now read first */
  check();
  no_findings();
  /* But within one topic-partition the chain order must hold: the
   * subject's third event before its first on orders/0. */
  reset();
  x1 = mk("orders", 0, 7, "order/X", "order.accepted", NULL);
  x2 = mk("batches", 2, 0, "order/X", "batch.released", H(x1));
  x3 = mk("orders", 0, 6, "order/X", "order.in_production", H(x2));
  check();
  const audit_finding *f = only(AUDIT_REORDERED, x3);
  ck_assert_msg(strstr(f->what, O[x1].id) != NULL, "%s", f->what);
  ck_assert_uint_eq(F.n, 1);
}
END_TEST

START_TEST(redelivered_copies) {
  reset();
  size_t s1 = mk("sims", 0, 0, "sim/1", "sim.connected", NULL);
  size_t s2 = mk("sims", 0, 1, "sim/1", "sim.sold", H(s1));
  size_t c2 = copy(s2, "sims", 0, 2);
  size_t s3 = mk("sims", 0, 3, "sim/1", "sim.delivered", H(s2));
  size_t c1 = copy(s1, "sims", 0, 4);
  audit_chain_stats st = check();
  no_findings();
  ck_assert_uint_eq(st.events, 5);
  ck_assert_uint_eq(st.unique, 3);
  ck_assert_uint_eq(st.copies, 2);
  ck_assert_uint_eq(E[c2].copy_of, s2);
  ck_assert_uint_eq(E[c1].copy_of, s1);
  ck_assert_int_eq(E[s3].pos, 3);

  /* The same id with other content is not a redelivery. */
  reset();
  s1 = mk("sims", 0, 0, "sim/1", "sim.connected", NULL);
  s2 = mk("sims", 0, 1, "sim/1", "sim.sold", H(s1));
  c2 = copy(s2, "sims", 0, 2);
  O[c2].content[0] = O[c2].content[0] == 'a' ? 'b' : 'a';
  st = check();
  const audit_finding *f = only(AUDIT_ALTERED, c2);
  ck_assert_msg(strstr(f->what, "second copy") != NULL, "%s", f->what);
  ck_assert_uint_eq(F.n, 1);
  ck_assert_uint_eq(st.copies, 0);

  /* A later copy with a hash (and subject) of its own is no event of any
   * chain: what links onto that hash links onto nothing. */
  reset();
  s1 = mk("sims", 0, 0, "sim/1", "sim.connected", NULL);
  s2 = mk("sims", 0, 1, "sim/1", "sim.sold", H(s1));
  c2 = copy(s2, "sims", 0, 2);
  memset(O[c2].hash, 'e', 64);
  memset(O[c2].content, 'e', 64);
  snprintf(O[c2].subject, sizeof O[c2].subject, "sim/2");
  s3 = mk("sims", 0, 3, "sim/1", "sim.delivered", H(c2));
  st = check();
  f = only(AUDIT_ALTERED, c2);
  ck_assert_msg(strstr(f->what, "second copy") != NULL, "%s", f->what);
  f = only(AUDIT_REMOVED, s3);
  ck_assert_msg(strstr(f->what, "which no event has") != NULL, "%s", f->what);
  ck_assert_uint_eq(F.n, 2);
  ck_assert_uint_eq(st.unique, 3);
}
END_TEST

START_TEST(altered) {
  reset();
  size_t s1 = mk("sims", 0, 0, "sim/1", "sim.connected", NULL);
  size_t s2 = mk("sims", 0, 1, "sim/1", "sim.sold", H(s1));
  size_t s3 = mk("sims", 0, 2, "sim/1", "sim.delivered", H(s2));
  /* A field changed, the hash not recomputed: only that event. */
  O[s2].content[5] = O[s2].content[5] == '0' ? '1' : '0';
  check();
  const audit_finding *f = only(AUDIT_ALTERED, s2);
  ck_assert_msg(strstr(f->what, "does not match its content") != NULL, "%s",
                f->what);
  ck_assert_uint_eq(F.n, 1);
  ck_assert_int_eq(E[s3].pos, 3);
  ck_assert_str_eq(audit_kind_name(f->kind), "altered");

  /* An event that states another's hash (another subject's, read before
   * it): what links onto that hash links onto the one read first. */
  reset();
  size_t twin = mk("sims", 1, 0, "sim/2", "sim.connected", NULL);
  s1 = mk("sims", 0, 0, "sim/1", "sim.connected", NULL);
  s2 = mk("sims", 0, 1, "sim/1", "sim.sold", H(s1));
  memcpy(O[twin].hash, O[s2].hash, sizeof O[twin].hash);
  s3 = mk("sims", 0, 2, "sim/1", "sim.delivered", H(s2));
  check();
  only(AUDIT_ALTERED, twin);
  f = only(AUDIT_FORGED, s3);
  ck_assert_msg(strstr(f->what, "another subject") != NULL &&
                    strstr(f->what, O[twin].id) != NULL,
                "%s", f->what);
  ck_assert_uint_eq(F.n, 2);
  ck_assert_int_eq(E[s2].pos, 2);
  ck_assert(!E[s3].linked && E[twin].linked);
}
END_TEST

START_TEST(removed) {
  reset();
  size_t s1 = mk("sims", 0, 0, "sim/1", "sim.connected", NULL);
  size_t s2 = mk("sims", 0, 1, "sim/1", "sim.sold", H(s1));
  size_t s3 = mk("sims", 0, 2, "sim/1", "sim.delivered", H(s2));
  size_t s4 = mk("sims", 0, 3, "sim/1", "sim.returned", H(s3));
  /* Take s2 out of the replay: s3 names the gap after s1, s4 is fine. */
  memmove(&E[s2], &E[s3], 2 * sizeof *E);
  N--;
  s3--;
  s4--;
  check();
  const audit_finding *f = only(AUDIT_REMOVED, s3);
  ck_assert_msg(strstr(f->what, "the event after") != NULL &&
                    strstr(f->what, O[s1].id) != NULL,
                "%s", f->what);
  ck_assert_uint_eq(F.n, 1);
  ck_assert_int_eq(E[s3].pos, 2);
  ck_assert_int_eq(E[s4].pos, 3);
  ck_assert(E[s1].linked && !E[s3].linked);
  ck_assert_str_eq(audit_kind_name(f->kind), "removed");

  /* The first event missing. */
  reset();
  s1 = mk("sims", 0, 0, "sim/2", "sim.connected", NULL);
  s2 = mk("sims", 0, 1, "sim/2", "sim.sold", H(s1));
  memmove(&E[0], &E[1], sizeof *E);
  N = 1;
  check();
  f = only(AUDIT_REMOVED, 0);
  ck_assert_msg(strstr(f->what, "first event") != NULL, "%s", f->what);
  ck_assert_uint_eq(F.n, 1);
}
END_TEST

START_TEST(reordered) {
  reset();
  size_t s1 = mk("sims", 0, 10, "sim/1", "sim.connected", NULL);
  size_t s2 = mk("sims", 0, 12, "sim/1", "sim.sold", H(s1));
  size_t s3 = mk("sims", 0, 11, "sim/1", "sim.delivered", H(s2));
  size_t s4 = mk("sims", 0, 13, "sim/1", "sim.returned", H(s3));
  (void)s4;
  check();
  const audit_finding *f = only(AUDIT_REORDERED, s3);
  ck_assert_msg(strstr(f->what, "comes before its predecessor") != NULL &&
                    strstr(f->what, O[s2].id) != NULL,
                "%s", f->what);
  ck_assert_uint_eq(F.n, 1);
  /* Another subject in between changes nothing. */
  reset();
  s1 = mk("sims", 0, 10, "sim/1", "sim.connected", NULL);
  mk("sims", 0, 11, "sim/2", "sim.connected", NULL);
  s2 = mk("sims", 0, 12, "sim/1", "sim.sold", H(s1));
  check();
  no_findings();
}
END_TEST

START_TEST(forged) {
  reset();
  /* A well-sealed event onto a predecessor that has a successor. */
  size_t s1 = mk("sims", 0, 0, "sim/1", "sim.connected", NULL);
  size_t s2 = mk("sims", 0, 1, "sim/1", "sim.sold", H(s1));
  size_t s3 = mk("sims", 0, 2, "sim/1", "sim.delivered", H(s2));
  size_t fk = mk("sims", 0, 3, "sim/1", "sim.returned", H(s1));
  check();
  const audit_finding *f = only(AUDIT_FORGED, fk);
  ck_assert_msg(strstr(f->what, "already has a successor") != NULL &&
                    strstr(f->what, O[s2].id) != NULL,
                "%s", f->what);
  ck_assert_uint_eq(F.n, 1);
  ck_assert_int_eq(E[s3].pos, 3);
  ck_assert_int_eq(E[fk].pos, 2); /* after its predecessor */
  ck_assert(!E[fk].linked);

  /* Even when read first, the branch that carries the chain on is kept. */
  reset();
  s1 = mk("sims", 0, 0, "sim/1", "sim.connected", NULL);
  fk = mk("sims", 0, 1, "sim/1", "sim.returned", H(s1));
  s2 = mk("sims", 0, 2, "sim/1", "sim.sold", H(s1));
  s3 = mk("sims", 0, 3, "sim/1", "sim.delivered", H(s2));
  check();
  only(AUDIT_FORGED, fk);
  ck_assert_uint_eq(F.n, 1);

  /* A second start from the genesis. */
  reset();
  s1 = mk("sims", 0, 0, "sim/1", "sim.connected", NULL);
  s2 = mk("sims", 0, 1, "sim/1", "sim.sold", H(s1));
  fk = mk("sims", 0, 2, "sim/1", "sim.connected", NULL);
  check();
  f = only(AUDIT_FORGED, fk);
  ck_assert_msg(strstr(f->what, "genesis") != NULL, "%s", f->what);
  ck_assert_uint_eq(F.n, 1);

  /* A stranger: onto another subject's event. */
  reset();
  s1 = mk("sims", 0, 0, "sim/1", "sim.connected", NULL);
  size_t b1 = mk("batches", 0, 0, "batch/B", "batch.released", NULL);
  fk = mk("sims", 0, 1, "sim/1", "sim.sold", H(b1));
  check();
  f = only(AUDIT_FORGED, fk);
  ck_assert_msg(strstr(f->what, "another subject") != NULL &&
                    strstr(f->what, "batch/B") != NULL,
                "%s", f->what);
  ck_assert_uint_eq(F.n, 1);
}
END_TEST

START_TEST(unlinked) {
  reset();
  size_t s1 = mk("sims", 0, 0, "sim/1", "sim.connected", NULL);
  size_t x = mk("sims", 0, 1, "sim/1", "sim.sold", H(s1));
  size_t y = mk("sims", 0, 2, "sim/1", "sim.delivered", H(x));
  /* x and y made to point at each other (their stated hashes kept). */
  memcpy(O[x].prev, O[y].hash, sizeof O[x].prev);
  check();
  size_t nu = 0;
  for (size_t i = 0; i < F.n; i++)
    if (F.v[i].kind == AUDIT_UNLINKED) {
      ck_assert(F.v[i].ev == x || F.v[i].ev == y);
      ck_assert_msg(strstr(F.v[i].what, "loop") != NULL, "%s", F.v[i].what);
      nu++;
    }
  ck_assert_uint_eq(nu, 2);
  ck_assert_int_eq(E[x].pos, 0);
  /* A self-link too. */
  reset();
  s1 = mk("sims", 0, 0, "sim/1", "sim.connected", NULL);
  memcpy(O[s1].prev, O[s1].hash, sizeof O[s1].prev);
  check();
  only(AUDIT_UNLINKED, s1);
}
END_TEST

START_TEST(before) {
  audit_event a = {0}, b = {0};
  a.subject = b.subject = "sim/1";
  a.pos = 2;
  b.pos = 1;
  a.time_ms = 1;
  b.time_ms = 5;
  ck_assert(!audit_before(&a, &b)); /* same chain: its order wins */
  ck_assert(audit_before(&b, &a));
  b.subject = "batch/B";
  ck_assert(audit_before(&a, &b)); /* otherwise the time */
  ck_assert(!audit_before(&b, &a));
  b.time_ms = -1;
  ck_assert(audit_before(&b, &a) && audit_before(&a, &b));
}
END_TEST

START_TEST(map) {
  audit_map m;
  audit_map_init(&m);
  char keys[500][16];
  for (size_t i = 0; i < 500; i++) {
    snprintf(keys[i], sizeof keys[i], "k%zu", i);
    ck_assert_int_eq(audit_map_put(&m, keys[i], i, NULL), 1);
  }
  size_t v, old = 0;
  ck_assert_int_eq(audit_map_put(&m, "k7", 99, &old), 0);
  ck_assert_uint_eq(old, 7);
  for (size_t i = 0; i < 500; i++) {
    ck_assert(audit_map_get(&m, keys[i], &v));
    ck_assert_uint_eq(v, i);
  }
  ck_assert(!audit_map_get(&m, "nope", &v));
  audit_map_free(&m);
  ck_assert(!audit_map_get(&m, "k1", &v));

  /* Large: its slots are mapped (huge pages asked for), grown by
   * doubling and by a reserve; the hashed calls agree with the others. */
  enum { BIG = 300000 };
  char(*big)[16] = malloc(BIG * sizeof *big);
  ck_assert_ptr_nonnull(big);
  audit_map_init(&m);
  for (size_t i = 0; i < BIG; i++) {
    snprintf(big[i], sizeof big[i], "key-%zu", i);
    ck_assert_int_eq(
        audit_map_put_h(&m, big[i], audit_map_hash(big[i]), i, NULL), 1);
  }
  ck_assert_int_eq(audit_map_reserve(&m, 2 * BIG), 0);
  for (size_t i = 0; i < BIG; i += 7) {
    ck_assert(audit_map_get(&m, big[i], &v));
    ck_assert_uint_eq(v, i);
    ck_assert_int_eq(audit_map_put(&m, big[i], 0, &old), 0);
    ck_assert_uint_eq(old, i);
  }
  ck_assert(!audit_map_get_h(&m, "key-x", audit_map_hash("key-x"), &v));
  audit_map_free(&m);
  free(big);
}
END_TEST

/* Many subjects, read interleaved (their chains spread over partitions),
 * with hashes made up (unique, each its content's): every event placed,
 * and a removed event found among them, whether the walks find
 * predecessors within their subjects or in the whole replay. */
enum { BIGN = 60000, BIGS = 700 };

static void big_log(audit_event *ev, char (*hash)[65], char (*id)[24],
                    const char **subject, char (*subj)[16]) {
  long at[BIGS] = {0};
  for (size_t s = 0; s < BIGS; s++) {
    snprintf(subj[s], sizeof subj[s], "sim/%zu", s);
    subject[s] = subj[s];
  }
  for (size_t i = 0; i < BIGN; i++) {
    size_t s = (i * 7919) % BIGS; /* interleaved */
    snprintf(id[i], sizeof id[i], "ev-%zu", i);
    snprintf(hash[i], 65, "%016llx%048zx",
             (unsigned long long)(i + 1) * 0x9e3779b97f4a7c15ULL, i + 1);
    ev[i] = (audit_event){.topic = "sims",
                          .partition = (int32_t)(s % 16),
                          .offset = at[s]++,
                          .id = id[i],
                          .subject = subject[s],
                          .type = "sim.sold",
                          .hash = hash[i],
                          .content_hash = hash[i],
                          .time_ms = (long long)i};
  }
  /* Each event after the one before it of its subject. */
  const char *last[BIGS] = {0};
  for (size_t i = 0; i < BIGN; i++) {
    size_t s = (i * 7919) % BIGS;
    ev[i].prevhash = last[s] ? last[s] : SP_EVENT_GENESIS;
    last[s] = hash[i];
  }
  /* Offsets per partition, in reading order. */
  long off[16] = {0};
  for (size_t i = 0; i < BIGN; i++)
    ev[i].offset = off[ev[i].partition]++;
}

START_TEST(many_subjects) {
  audit_event *ev = calloc(BIGN, sizeof *ev);
  char(*hash)[65] = calloc(BIGN, sizeof *hash);
  char(*id)[24] = calloc(BIGN, sizeof *id);
  const char **subject = calloc(BIGS, sizeof *subject);
  char(*subj)[16] = calloc(BIGS, sizeof *subj);
  size_t *sub = calloc(BIGN, sizeof *sub); /* each event's subject */
  ck_assert(ev && hash && id && subject && subj && sub);
  for (int variant = 0; variant < 3; variant++) {
    big_log(ev, hash, id, subject, subj);
    size_t n = BIGN;
    for (size_t i = 0; i < n; i++)
      sub[i] = (i * 7919) % BIGS;
    size_t gone = 30001, after = n; /* the next event of its subject */
    for (size_t i = gone + 1; i < n && after == n; i++)
      if (sub[i] == sub[gone])
        after = i;
    ck_assert_uint_lt(after, n);
    size_t altered = 12345;
    char other[65];
    if (variant >= 1) { /* removed: a walk looks beyond its subject */
      memmove(&ev[gone], &ev[gone + 1], (n - gone - 1) * sizeof *ev);
      memmove(&sub[gone], &sub[gone + 1], (n - gone - 1) * sizeof *sub);
      n--;
      after--;
    }
    if (variant == 2) { /* and one altered: the whole map from the start */
      memset(other, 'f', 64);
      other[64] = '\0';
      ev[altered].content_hash = other;
    }
    audit_findings f = {0};
    audit_chain_stats st;
    ck_assert_int_eq(audit_chain_check(ev, n, &f, &st), 0);
    ck_assert_uint_eq(st.subjects, BIGS);
    ck_assert_uint_eq(st.unique, n);
    size_t removed = 0, alt = 0;
    for (size_t k = 0; k < f.n; k++) {
      if (f.v[k].kind == AUDIT_REMOVED) {
        ck_assert_uint_eq(f.v[k].ev, after);
        removed++;
      } else if (f.v[k].kind == AUDIT_ALTERED) {
        ck_assert_uint_eq(f.v[k].ev, altered);
        alt++;
      } else {
        ck_abort_msg("unexpected %s: %s", audit_kind_name(f.v[k].kind),
                     f.v[k].what);
      }
    }
    ck_assert_uint_eq(removed, variant >= 1);
    ck_assert_uint_eq(alt, variant == 2);
    /* Every event placed, one after the other along its subject (the
     * piece after the gap goes on from where the chain stopped). */
    long pos[BIGS] = {0};
    for (size_t i = 0; i < n; i++) {
      ck_assert_int_eq(ev[i].pos, ++pos[sub[i]]);
      ck_assert_int_eq(ev[i].linked,
                       variant == 0 || sub[i] != sub[after] || i < after);
    }
    audit_findings_free(&f);
  }
  free(ev);
  free(hash);
  free(id);
  free(subject);
  free(subj);
  free(sub);
}
END_TEST

/* The chain check's index of events by a string: grown from nothing,
 * a key's first event kept, absent keys absent. */
START_TEST(event_index) {
  enum { M = 200000 };
  audit_event *ev = calloc(M, sizeof *ev);
  char(*id)[24] = calloc(M, sizeof *id);
  ck_assert(ev && id);
  audit_index x;
  audit_index_init(&x, offsetof(audit_event, id));
  for (size_t i = 0; i < M; i++) {
    snprintf(id[i], sizeof id[i], "id-%zu", i % (M / 2));
    ev[i].id = id[i];
    size_t first = 0;
    int r = audit_index_put(&x, ev, id[i], audit_map_hash(id[i]), i, &first);
    ck_assert_int_eq(r, i < M / 2);
    if (i >= M / 2)
      ck_assert_uint_eq(first, i - M / 2);
  }
  ck_assert_uint_eq(x.n, M / 2);
  size_t at;
  for (size_t i = 0; i < M / 2; i += 3) {
    ck_assert(audit_index_get(&x, ev, id[i], audit_map_hash(id[i]), &at));
    ck_assert_uint_eq(at, i);
  }
  ck_assert(!audit_index_get(&x, ev, "id-x", audit_map_hash("id-x"), &at));
  audit_index_free(&x);
  ck_assert(!audit_index_get(&x, ev, id[0], audit_map_hash(id[0]), &at));
  free(ev);
  free(id);
}
END_TEST

int main(void) {
  Suite *s = suite_create("audit_chain");
  TCase *tc = tcase_create("chain");
  tcase_add_test(tc, clean_chains);
  tcase_add_test(tc, subject_across_topics);
  tcase_add_test(tc, redelivered_copies);
  tcase_add_test(tc, altered);
  tcase_add_test(tc, removed);
  tcase_add_test(tc, reordered);
  tcase_add_test(tc, forged);
  tcase_add_test(tc, unlinked);
  tcase_add_test(tc, before);
  tcase_add_test(tc, map);
  tcase_add_test(tc, many_subjects);
  tcase_add_test(tc, event_index);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  audit_findings_free(&F);
  return failed ? 1 : 0;
}
