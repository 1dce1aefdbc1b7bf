/* bench_inventory - B7 handover and B8 stock-in of one 100,000-SIM range.
 *
 * 1. stores BENCH_SIMS (default 100,000) provisioned SIMs and the sample
 *    organisation's CTKV1;
 * 2. times the handover and the stock-in through custody.c, as the HTTP
 *    API runs them (checks of the whole range, one UPDATE each, the move's
 *    row and its event through the outbox, one transaction each);
 * 3. puts the SIMs back and times the reference: the two bare UPDATEs
 *    alone, without checks, move rows or events.
 * Repeats 2 and 3 BENCH_ROUNDS times (default 3) and keeps the best.
 * Ends with: RESULT name=inventory ratio=<bare time / ours> key=value... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "custody.h"
#include "db.h"
#include "log.h"
#include "numbering.h"

#define FIRST 8984019700000000000LL /* an ICCID without its Luhn digit */
#define BATCH "ORD-2026-900003-B001"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noreturn)) static void die(const char *what, const char *err) {
  fprintf(stderr, "bench_inventory: %s: %s\n", what, err);
  exit(1);
}

static void sql(PGconn *c, const char *q) {
  char err[512];
  if (sp_db_exec(c, q, 0, NULL, err, sizeof err) < 0)
    die("setup", err);
}

typedef struct move_tx {
  iv_move m;
  iv_move_result res;
  iv_move_status st;
} move_tx;

static int move_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  move_tx *t = arg;
  t->st = iv_move_range(c, &t->m, &t->res, errstr, errlen);
  return t->st == IV_MOVE_OK ? SP_DB_OK : SP_DB_ERROR;
}

static double timed_move(sp_db *db, iv_action_kind k, const char *first,
                         const char *last, long want) {
  char err[1024];
  move_tx t = {{.kind = k, .ctkv = "CTKV1", .purpose = "customers",
                .iccid_first = first, .iccid_last = last, .by = "bench"},
               {{0}, 0, {0}}, IV_MOVE_DB};
  double t0 = now_s();
  if (sp_db_tx(db, move_fn, &t, err, sizeof err) != SP_DB_OK)
    die(iv_action_name(k), err);
  double s = now_s() - t0;
  if (t.res.sims != want)
    die(iv_action_name(k), "not every SIM moved");
  return s;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--help")) {
    printf("usage: bench_inventory   (run it through bench/run inventory)\n"
           "Environment: SIMPKI_DB_URL, BENCH_SIMS (100000), BENCH_ROUNDS "
           "(3).\n");
    return 0;
  }
  char err[1024];
  const char *url;
  long total, rounds;
  if (sp_log_init("bench-inventory", err, sizeof err) ||
      sp_config_str("SIMPKI_DB_URL", NULL, &url, err, sizeof err) ||
      sp_config_long("BENCH_SIMS", 0, 100000, 10, 1000000, &total, err,
                     sizeof err) ||
      sp_config_long("BENCH_ROUNDS", 0, 3, 1, 20, &rounds, err, sizeof err))
    die("configuration", err);
  if (!getenv("SIMPKI_LOG_LEVEL"))
    sp_log_set_level(SP_LOG_WARN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  sp_db *db = sp_db_open(url, 30000, err, sizeof err);
  if (!db)
    die("database", err);
  PGconn *c = sp_db_conn(db);
  sql(c, "INSERT INTO ctkvs (ctkv_id, name, address, tax_code, "
         "invoice_series) VALUES ('CTKV1', 'Bench', 'Bench', '0', 'B1')");
  char first[21], last[21], q[1024];
  PGresult *r;
  vx_iccid_format(FIRST, first);
  vx_iccid_format(FIRST + total - 1, last);
  /* The SIMs, as hlr-provisioner leaves them. */
  sql(c, "BEGIN");
  r = PQexec(c, "COPY sims (iccid, imsi, batch_id, kek_id, secrets_enc, "
                "state) FROM STDIN");
  if (PQresultStatus(r) != PGRES_COPY_IN)
    die("copy", PQresultErrorMessage(r));
  PQclear(r);
  for (long i = 0; i < total; i++) {
    char iccid[21], line[160];
    vx_iccid_format(FIRST + i, iccid);
    int n = snprintf(line, sizeof line, "%s\t%lld\t%s\tk\t\\\\x00\tprovisioned\n",
                     iccid, 452019700000000LL + i, BATCH);
    if (PQputCopyData(c, line, n) != 1)
      die("copy", PQerrorMessage(c));
  }
  if (PQputCopyEnd(c, NULL) != 1)
    die("copy", PQerrorMessage(c));
  while ((r = PQgetResult(c)) != NULL) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      die("copy", PQresultErrorMessage(r));
    PQclear(r);
  }
  sql(c, "COMMIT");
  sql(c, "VACUUM ANALYZE sims");
  printf("%ld provisioned SIMs %s..%s\n", total, first, last);

  double best_ours = 1e9, best_bare = 1e9, ho = 0, si = 0;
  for (long round = 1; round <= rounds; round++) {
    sql(c, "CHECKPOINT");
    double h = timed_move(db, IV_ACT_HANDOVER, first, last, total);
    double s = timed_move(db, IV_ACT_STOCK_IN, first, last, total);
    sql(c, "UPDATE sims SET state = 'provisioned', ctkv_id = NULL");
    sql(c, "VACUUM sims");
    sql(c, "CHECKPOINT");
    double t0 = now_s();
    snprintf(q, sizeof q,
             "UPDATE sims SET state = 'handed_over', ctkv_id = 'CTKV1' "
             "WHERE iccid >= '%s' AND iccid <= '%s'",
             first, last);
    sql(c, q);
    snprintf(q, sizeof q,
             "UPDATE sims SET state = 'in_stock' WHERE iccid >= '%s' AND "
             "iccid <= '%s'",
             first, last);
    sql(c, q);
    double bare = now_s() - t0;
    sql(c, "UPDATE sims SET state = 'provisioned', ctkv_id = NULL");
    sql(c, "VACUUM sims");
    printf("round %ld: handover %.3f s + stock-in %.3f s = %.3f s; bare "
           "UPDATEs %.3f s\n",
           round, h, s, h + s, bare);
    if (h + s < best_ours) {
      best_ours = h + s;
      ho = h;
      si = s;
    }
    if (bare < best_bare)
      best_bare = bare;
  }
  printf("best: handover %.3f s (%.0f SIMs/s), stock-in %.3f s (%.0f "
         "SIMs/s); 2 statements, 2 events (%.1f events/s), against %.3f s "
         "for the bare UPDATEs\n",
         ho, total / ho, si, total / si, 2 / best_ours, best_bare);
  sp_db_close(db);
  printf("RESULT name=inventory ratio=%.2f sims=%ld handover_s=%.3f "
         "stock_in_s=%.3f bare_s=%.3f events=2 events_per_s=%.1f "
         "sims_per_s=%.0f\n",
         best_bare / best_ours, total, ho, si, best_bare, 2 / best_ours,
         2 * total / best_ours);
  return 0;
}
