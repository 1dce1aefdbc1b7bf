/* numbering_check - services/vendor-exchange/allocation.c against the
 * PostgreSQL of SIMPKI_DB_URL with the sample plan loaded (run by
 * test_numbering.sh).
 *
 *   numbering_check race TAG BATCHES THREADS
 *     makes BATCHES released batches TAG-nnnn of assorted quantities,
 *     then THREADS threads, each with its own connection, start together and
 *     each allocate every batch (in a different order), so that gaps and
 *     batches are fought over. Every call must succeed and every thread must
 *     get the same ranges for a batch. The caller then proves with SQL that
 *     nothing overlaps; run two at once for two processes.
 *
 *   numbering_check collide TAG
 *     the case the advisory lock does not cover: another writer inserts,
 *     without the lock and uncommitted, the very ranges the allocator is
 *     about to take. The allocator's insert waits on the exclusion
 *     constraint, fails with 23P01 when the writer commits, and sp_db_tx
 *     retries it into the next gap.
 *
 *   numbering_check api
 *     the refusals only a caller of the C API can reach (the CLI never
 *     passes them): bad batch ids and quantities, bad blocks; each returns
 *     1 with its reason and stores nothing.
 *
 * Exit 0 when everything held, 1 with the reason otherwise. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "allocation.h"
#include "db.h"
#include "log.h"

static const char *url;

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt,
                                                              ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "numbering_check: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static PGconn *raw_conn(void) {
  PGconn *c = PQconnectdb(url);
  if (PQstatus(c) != CONNECTION_OK)
    die("connect: %s", PQerrorMessage(c));
  return c;
}

static void exec_ok(PGconn *c, const char *sql, int np,
                    const char *const *p) {
  char err[512];
  if (sp_db_exec(c, sql, np, p, err, sizeof err) < 0)
    die("%.80s...: %s", sql, err);
}

/* A vendor V-TAG, an order ORD-TAG and n released batches TAG-nnnn (their
 * ids in ids), each of quantity q(i). */
static void make_batches(PGconn *c, const char *tag, int n,
                         long (*q)(int), char ids[][64]) {
  char vendor[40], order[64];
  snprintf(vendor, sizeof vendor, "V-%s", tag);
  snprintf(order, sizeof order, "ORD-%s", tag);
  const char *pv[] = {vendor, order};
  exec_ok(c,
          "INSERT INTO vendors (vendor_id, name, state, agreement_ref) VALUES"
          " ($1, 'race vendor', 'connected', 'NDA-RACE')",
          1, pv);
  exec_ok(c,
          "INSERT INTO orders (order_id, bcycp_ref, document_sha256,"
          " vendor_id, quantity, profile, state, document, signer,"
          " received_via) VALUES ($2, $2, repeat('0', 64), $1, 1,"
          " 'usim_milenage', 'in_production', '{}', '{}', 'test')",
          2, pv);
  for (int i = 0; i < n; i++) {
    char seq[16], qty[24];
    snprintf(ids[i], 64, "%s-%04d", tag, i + 1);
    snprintf(seq, sizeof seq, "%d", i + 1);
    snprintf(qty, sizeof qty, "%ld", q(i));
    const char *pb[] = {ids[i], order, vendor, seq, qty};
    exec_ok(c,
            "INSERT INTO batches (batch_id, order_id, vendor_id, kind, seq,"
            " quantity, profile, state, released_at) VALUES ($1, $2, $3,"
            " 'production', $4::integer, $5::integer, 'usim_milenage',"
            " 'released', now())",
            5, pb);
  }
}

/* Assorted sizes, from a single SIM to a few hundred. */
static long race_quantity(int i) { return 1 + (i * 7919L) % 397; }

typedef struct alloc_arg {
  const char *batch_id;
  long quantity;
  vx_allocation a;
  int attempts;
  int refused;
} alloc_arg;

static int alloc_fn(PGconn *c, void *argp, char *errstr, size_t errlen) {
  alloc_arg *a = argp;
  a->attempts++;
  int rc = vx_allocate(c, a->batch_id, a->quantity, &a->a, errstr, errlen);
  a->refused = rc == 1;
  return rc == 0 ? SP_DB_OK : rc == 1 ? SP_DB_REJECT : SP_DB_ERROR;
}

/* ---- race ---- */

typedef struct race {
  int nbatches, nthreads;
  char (*ids)[64];
  vx_allocation *got; /* [thread][batch] */
  int *attempts;      /* per thread */
  pthread_barrier_t start;
} race;

typedef struct worker {
  race *r;
  int t;
  char err[1024];
  int failed;
} worker;

static void *race_worker(void *argp) {
  worker *w = argp;
  race *r = w->r;
  sp_db *db = sp_db_open(url, 10000, w->err, sizeof w->err);
  pthread_barrier_wait(&r->start);
  if (!db) {
    w->failed = 1;
    return NULL;
  }
  /* Thread t walks the batches from its own offset, half of the threads
   * backwards, so each batch is wanted by several threads at once. */
  for (int k = 0; k < r->nbatches && !w->failed; k++) {
    int off = w->t * r->nbatches / r->nthreads;
    int i = (w->t % 2 ? off - k + 2 * r->nbatches : off + k) % r->nbatches;
    alloc_arg a = {.batch_id = r->ids[i], .quantity = race_quantity(i)};
    int rc = sp_db_tx(db, alloc_fn, &a, w->err, sizeof w->err);
    r->attempts[w->t] += a.attempts;
    if (rc != SP_DB_OK) {
      char why[sizeof w->err];
      memcpy(why, w->err, sizeof why);
      snprintf(w->err, sizeof w->err, "%s: %.900s", r->ids[i], why);
      w->failed = 1;
    }
    r->got[w->t * r->nbatches + i] = a.a;
  }
  sp_db_close(db);
  return NULL;
}

static int run_race(const char *tag, int nbatches, int nthreads) {
  PGconn *c = raw_conn();
  race r = {.nbatches = nbatches, .nthreads = nthreads};
  r.ids = calloc((size_t)nbatches, sizeof *r.ids);
  r.got = calloc((size_t)(nbatches * nthreads), sizeof *r.got);
  r.attempts = calloc((size_t)nthreads, sizeof *r.attempts);
  worker *w = calloc((size_t)nthreads, sizeof *w);
  pthread_t *th = calloc((size_t)nthreads, sizeof *th);
  if (!r.ids || !r.got || !r.attempts || !w || !th)
    die("out of memory");
  make_batches(c, tag, nbatches, race_quantity, r.ids);
  PQfinish(c);

  pthread_barrier_init(&r.start, NULL, (unsigned)nthreads);
  for (int t = 0; t < nthreads; t++) {
    w[t] = (worker){.r = &r, .t = t};
    pthread_create(&th[t], NULL, race_worker, &w[t]);
  }
  int bad = 0, calls = 0, attempts = 0;
  for (int t = 0; t < nthreads; t++) {
    pthread_join(th[t], NULL);
    if (w[t].failed) {
      fprintf(stderr, "numbering_check: thread %d: %s\n", t, w[t].err);
      bad = 1;
    }
    calls += nbatches;
    attempts += r.attempts[t];
  }
  /* Every thread saw the same ranges for a batch, of its quantity. */
  for (int i = 0; i < nbatches && !bad; i++) {
    const vx_allocation *a0 = &r.got[i];
    for (int t = 0; t < nthreads; t++) {
      const vx_allocation *a = &r.got[t * nbatches + i];
      if (a->quantity != race_quantity(i) || a->imsi_first != a0->imsi_first ||
          a->iccid_first != a0->iccid_first ||
          strcmp(a->batch_id, r.ids[i])) {
        fprintf(stderr,
                "numbering_check: %s: thread %d got %ld from %lld/%lld, "
                "thread 0 %ld from %lld/%lld\n",
                r.ids[i], t, a->quantity, a->imsi_first, a->iccid_first,
                a0->quantity, a0->imsi_first, a0->iccid_first);
        bad = 1;
      }
    }
  }
  printf("race %s: %d batches, %d threads, %d calls, %d attempts\n", tag,
         nbatches, nthreads, calls, attempts);
  pthread_barrier_destroy(&r.start);
  free(r.ids);
  free(r.got);
  free(r.attempts);
  free(w);
  free(th);
  return bad;
}

/* ---- collide ---- */

static long collide_quantity(int i) { return i ? 10 : 25; }

typedef struct collide_arg {
  alloc_arg a;
  int rc;
  char err[1024];
} collide_arg;

static void *collide_worker(void *argp) {
  collide_arg *ca = argp;
  sp_db *db = sp_db_open(url, 10000, ca->err, sizeof ca->err);
  if (!db) {
    ca->rc = SP_DB_ERROR;
    return NULL;
  }
  ca->rc = sp_db_tx(db, alloc_fn, &ca->a, ca->err, sizeof ca->err);
  sp_db_close(db);
  return NULL;
}

static long scalar(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK)
    die("%s: %s", sql, PQerrorMessage(c));
  long v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return v;
}

static int run_collide(const char *tag) {
  char ids[2][64];
  PGconn *side = raw_conn();
  make_batches(side, tag, 2, collide_quantity, ids);
  char err[1024];

  /* Where the allocator will go: ask it, and roll the answer back. */
  vx_allocation probe;
  exec_ok(side, "BEGIN", 0, NULL);
  if (vx_allocate(side, ids[0], 25, &probe, err, sizeof err) != 0)
    die("probe: %s", err);
  exec_ok(side, "ROLLBACK", 0, NULL);

  /* The other writer: those very numbers, no lock, not yet committed. */
  char imsi[24], iccid[24];
  snprintf(imsi, sizeof imsi, "%lld", probe.imsi_first);
  snprintf(iccid, sizeof iccid, "%lld", probe.iccid_first);
  const char *p[] = {ids[1], probe.imsi_block, probe.iccid_block, imsi,
                     iccid};
  exec_ok(side, "BEGIN", 0, NULL);
  exec_ok(side,
          "INSERT INTO batch_allocations (batch_id, imsi_block, iccid_block,"
          " imsi_range, iccid_range, quantity) VALUES ($1, $2, $3,"
          " int8range($4::bigint, $4::bigint + 10),"
          " int8range($5::bigint, $5::bigint + 10), 10)",
          5, p);

  FILE *log = tmpfile();
  if (!log)
    die("tmpfile");
  sp_log_set_stream(log);
  PGconn *watch = raw_conn();
  long before = scalar(watch, "SELECT count(*) FROM pg_stat_activity WHERE "
                              "wait_event_type = 'Lock'");
  collide_arg ca = {.a = {.batch_id = ids[0], .quantity = 25}};
  pthread_t th;
  pthread_create(&th, NULL, collide_worker, &ca);
  /* Wait until the allocator is stuck behind the writer's rows. */
  int waited = 0;
  while (scalar(watch, "SELECT count(*) FROM pg_stat_activity WHERE "
                       "wait_event_type = 'Lock'") <= before) {
    if (++waited > 1000)
      die("the allocator never waited on the writer's rows");
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  exec_ok(side, "COMMIT", 0, NULL);
  pthread_join(th, NULL);
  sp_log_set_stream(NULL);

  fflush(log);
  rewind(log);
  char text[8192];
  size_t n = fread(text, 1, sizeof text - 1, log);
  text[n] = '\0';
  fclose(log);
  PQfinish(watch);
  PQfinish(side);

  if (ca.rc != SP_DB_OK)
    die("the allocator failed: %s", ca.err);
  if (ca.a.attempts < 2 || !strstr(text, "\"sqlstate\":\"23P01\""))
    die("no 23P01 retry: %d attempt(s), log: %s", ca.a.attempts, text);
  if (ca.a.a.imsi_first != probe.imsi_first + 10 ||
      ca.a.a.iccid_first != probe.iccid_first + 10)
    die("after the retry the allocator took %lld/%lld, expected %lld/%lld",
        ca.a.a.imsi_first, ca.a.a.iccid_first, probe.imsi_first + 10,
        probe.iccid_first + 10);
  printf("collide %s: the allocator waited, failed with 23P01, retried "
         "(%d attempts) into %lld/%lld\n",
         tag, ca.a.attempts, ca.a.a.imsi_first, ca.a.a.iccid_first);
  return 0;
}

/* ---- api ---- */

static long api_quantity(int i) { return 3 + 0 * i; }

static char *state(PGconn *c) {
  static char buf[8192];
  PGresult *r = PQexec(
      c, "SELECT (SELECT string_agg(block_id || first_number || last_number,"
         " ' ' ORDER BY block_id) FROM numbering_blocks) || '/' ||"
         " (SELECT coalesce(string_agg(batch_id || imsi_range || iccid_range,"
         " ' ' ORDER BY batch_id), '') FROM batch_allocations)");
  if (PQresultStatus(r) != PGRES_TUPLES_OK)
    die("state: %s", PQerrorMessage(c));
  snprintf(buf, sizeof buf, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  return buf;
}

typedef struct store_arg {
  const vx_block *b;
  size_t n;
} store_arg;

static int store_fn(PGconn *c, void *argp, char *errstr, size_t errlen) {
  store_arg *a = argp;
  int rc = vx_numbering_store(c, a->b, a->n, errstr, errlen);
  return rc == 0 ? SP_DB_OK : rc == 1 ? SP_DB_REJECT : SP_DB_ERROR;
}

static int run_api(void) {
  PGconn *c = raw_conn();
  char ids[1][64];
  make_batches(c, "API", 1, api_quantity, ids);
  char before[8192];
  snprintf(before, sizeof before, "%s", state(c));
  char err[1024], longid[120];
  memset(longid, 'X', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  static const struct {
    int which; /* 0 NULL id, 1 empty, 2 long, 3 as given */
    long quantity;
    const char *reason;
  } bad[] = {
      {0, 3, "batch id must have 1 to 95 characters"},
      {1, 3, "batch id must have 1 to 95 characters"},
      {2, 3, "batch id must have 1 to 95 characters"},
      {3, 0, "quantity 0 is out of range"},
      {3, -5, "quantity -5 is out of range"},
      {3, 2147483648L, "quantity 2147483648 is out of range"},
  };
  int failed = 0;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    const char *id = bad[i].which == 0   ? NULL
                     : bad[i].which == 1 ? ""
                     : bad[i].which == 2 ? longid
                                         : ids[0];
    vx_allocation a;
    err[0] = '\0';
    int rc = vx_allocate(c, id, bad[i].quantity, &a, err, sizeof err);
    if (rc != 1 || !strstr(err, bad[i].reason)) {
      fprintf(stderr, "vx_allocate case %zu: %d \"%s\"\n", i, rc, err);
      failed = 1;
    }
  }
  vx_allocation a;
  if (vx_allocation_get(c, ids[0], &a, err, sizeof err) != 1) {
    fprintf(stderr, "vx_allocation_get of an unallocated batch\n");
    failed = 1;
  }

  /* Blocks: a good new one, and the refusals. */
  const vx_block good = {"API-NEW", 1, "8984017755", 18, 898401775500000000LL,
                         898401775500000099LL};
  const vx_block clash = {"API-CLASH", 0, "45201", 15, 452019100999999LL,
                          452019101000005LL};
  vx_block badid = good, baddigits = good, twin = good, overlap = good;
  snprintf(badid.block_id, sizeof badid.block_id, "bad id");
  baddigits.digits = 16;
  snprintf(overlap.block_id, sizeof overlap.block_id, "API-OVERLAP");
  overlap.first += 50, overlap.last += 50;
  const struct {
    vx_block b[2];
    size_t n;
    const char *reason;
  } sets[] = {
      {{good}, 0, "no blocks to load"},
      {{badid}, 1, "block id must be"},
      {{baddigits}, 1, "16 digits do not fit an ICCID"},
      {{good, twin}, 2, "block id API-NEW is given twice"},
      {{good, overlap}, 2, "blocks API-NEW and API-OVERLAP overlap"},
      {{good, clash}, 2,
       "block API-CLASH (imsi 452019100999999-452019101000005) overlaps "
       "block PKI-IMSI-1"},
  };
  sp_db *db = sp_db_open(url, 10000, err, sizeof err);
  if (!db)
    die("%s", err);
  for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
    store_arg sa = {sets[i].b, sets[i].n};
    err[0] = '\0';
    int rc = sp_db_tx(db, store_fn, &sa, err, sizeof err);
    if (rc != SP_DB_REJECT || !strstr(err, sets[i].reason)) {
      fprintf(stderr, "vx_numbering_store set %zu: %d \"%s\"\n", i, rc, err);
      failed = 1;
    }
  }
  sp_db_close(db);
  if (strcmp(state(c), before)) {
    fprintf(stderr, "refusals changed the tables:\n%s\n%s\n", before,
            state(c));
    failed = 1;
  }
  PQfinish(c);
  if (!failed)
    printf("api: %zu allocation and %zu store refusals, nothing stored\n",
           sizeof bad / sizeof *bad, sizeof sets / sizeof *sets);
  return failed;
}

int main(int argc, char **argv) {
  url = getenv("SIMPKI_DB_URL");
  if (!url || !*url)
    die("SIMPKI_DB_URL is not set");
  if (argc == 5 && !strcmp(argv[1], "race")) {
    int nb = atoi(argv[3]), nt = atoi(argv[4]);
    if (nb < 1 || nt < 2)
      die("race needs BATCHES >= 1 and THREADS >= 2");
    return run_race(argv[2], nb, nt);
  }
  if (argc == 3 && !strcmp(argv[1], "collide"))
    return run_collide(argv[2]);
  if (argc == 2 && !strcmp(argv[1], "api"))
    return run_api();
  fprintf(stderr, "usage: numbering_check race TAG BATCHES THREADS\n"
                  "       numbering_check collide TAG\n"
                  "       numbering_check api\n");
  return 2;
}
