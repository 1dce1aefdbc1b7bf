/* bench_ingest - vendor output file ingest against a plain COPY.
 *
 * 1. sets up a vendor, an order and one released batch of N SIMs (default
 *    1,000,000), a KEK and a transport key in a temporary folder, and
 *    issues the batch's input file;
 * 2. writes the vendor's output file with the simulator;
 * 3. times the ingest (all checks, key unwrap, re-encryption under the KEK,
 *    COPY into sims with its indexes, one transaction) in a child process,
 *    whose peak RSS it reports;
 * 4. times the reference: the same rows, unencrypted, COPYed into an
 *    unindexed table on the same PostgreSQL;
 * 5. repeats 3 and 4 (BENCH_ROUNDS, default 5) from a clean table after a
 *    CHECKPOINT each, and keeps the best of each side: the machines here
 *    are shared, and noise only ever makes a run slower.
 * Ends with: RESULT name=ingest ratio=<copy_s/ingest_s> key=value... */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "config.h"
#include "crypto.h"
#include "db.h"
#include "ingest.h"
#include "issue.h"
#include "line_reader.h"
#include "log.h"
#include "simulate.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noreturn)) static void die(const char *what, const char *err) {
  fprintf(stderr, "bench_ingest: %s: %s\n", what, err);
  exit(1);
}

static void write_file(const char *path, const char *text, mode_t mode) {
  FILE *fp = fopen(path, "w");
  if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0)
    die("write", path);
  chmod(path, mode);
}

static void sql(PGconn *c, const char *q) {
  char err[512];
  if (sp_db_exec(c, q, 0, NULL, err, sizeof err) < 0)
    die("setup", err);
}

typedef struct issue_tx {
  vx_issue_conf conf;
  vx_issue_result res;
} issue_tx;

static int issue_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  issue_tx *t = arg;
  return vx_issue_input(c, &t->conf, "ORD-2026-900001-B001", NULL, &t->res,
                        errstr, errlen)
             ? SP_DB_ERROR
             : SP_DB_OK;
}

/* The reference: the same rows, no checks, no crypto, no indexes. */
static double plain_copy(sp_db *db, const char *path) {
  PGconn *c = sp_db_conn(db);
  sql(c, "DROP TABLE IF EXISTS bench_plain_copy");
  sql(c, "CREATE TABLE bench_plain_copy (iccid text, imsi text, "
         "batch_id text, pin1 text, puk1 text, pin2 text, puk2 text, adm1 "
         "text, ki text, opc text)");
  FILE *fp = fopen(path, "rb");
  if (!fp)
    die("open", path);
  double t = now_s();
  sql(c, "BEGIN");
  PGresult *r = PQexec(c, "COPY bench_plain_copy FROM STDIN");
  if (PQresultStatus(r) != PGRES_COPY_IN)
    die("copy", PQresultErrorMessage(r));
  PQclear(r);
  vx_line_reader lr;
  vx_line_reader_init(&lr, fp, VX_MAX_LINE);
  const char *line;
  size_t len;
  char err[256], row[1200], *buf = malloc(1 << 20);
  size_t used = 0;
  int data = 0;
  while (vx_line_next(&lr, &line, &len, err, sizeof err) == 1) {
    if (!data) {
      data = len == 5 && !memcmp(line, "*DATA", 5);
      continue;
    }
    if (len == 4 && !memcmp(line, "*END", 4))
      break;
    /* fields: spaces -> tabs, batch id after the IMSI */
    size_t n = 0;
    int field = 0;
    for (size_t i = 0; i < len; i++) {
      if (line[i] == ' ') {
        row[n++] = '\t';
        if (++field == 2) {
          memcpy(row + n, "ORD-2026-900001-B001\t", 21);
          n += 21;
        }
      } else {
        row[n++] = line[i];
      }
    }
    row[n++] = '\n';
    if (used + n > (1 << 20)) {
      PQputCopyData(c, buf, (int)used);
      used = 0;
    }
    memcpy(buf + used, row, n);
    used += n;
  }
  if (used)
    PQputCopyData(c, buf, (int)used);
  PQputCopyEnd(c, NULL);
  while ((r = PQgetResult(c)) != NULL) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      die("copy", PQresultErrorMessage(r));
    PQclear(r);
  }
  sql(c, "COMMIT");
  double s = now_s() - t;
  free(buf);
  vx_line_reader_free(&lr);
  fclose(fp);
  return s;
}

/* One ingest, in a child so that its peak RSS is its own. */
static double timed_ingest(const char *url, const char *kek, const char *tkdir,
                           const char *out, double *cpu_s, double *rss_mb) {
  char err[1024];
  double t = now_s();
  pid_t pid = fork();
  if (pid == 0) {
    setenv("SIMPKI_KEK_FILE", kek, 1);
    sp_keystore *ks = sp_keystore_open_env(err, sizeof err);
    sp_db *cdb = ks ? sp_db_open(url, 30000, err, sizeof err) : NULL;
    if (!cdb)
      die("ingest", err);
    vx_ingest_conf conf = {ks, tkdir};
    vx_ingest_result res;
    int rc = vx_ingest_file(cdb, &conf, out, &res, err, sizeof err);
    if (rc || !res.accepted)
      die("ingest", rc ? err : res.reason);
    sp_db_close(cdb);
    sp_keystore_close(ks);
    _exit(0);
  }
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0)
    die("ingest", "the child failed");
  double s = now_s() - t;
  *rss_mb = (double)ru.ru_maxrss / 1024.0;
  *cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  return s;
}

static int remove_entry(const char *p, const struct stat *st, int flag,
                        struct FTW *f) {
  (void)st;
  (void)flag;
  (void)f;
  return remove(p);
}

/* The benchmark's own folder (keys, vendor folders) goes with it. */
static void remove_tree(const char *dir) {
  if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS))
    fprintf(stderr, "bench_ingest: could not remove %s\n", dir);
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--help")) {
    printf("usage: bench_ingest   (run it through bench/run ingest)\n"
           "Environment: SIMPKI_DB_URL, BENCH_SIMS (1000000), BENCH_ROUNDS "
           "(5; the best of each side counts).\n");
    return 0;
  }
  char err[1024];
  const char *url;
  long total, rounds;
  if (sp_log_init("bench-ingest", err, sizeof err) ||
      sp_config_str("SIMPKI_DB_URL", NULL, &url, err, sizeof err) ||
      sp_config_long("BENCH_SIMS", 0, 1000000, 10, 10000000, &total, err,
                     sizeof err) ||
      sp_config_long("BENCH_ROUNDS", 0, 5, 1, 20, &rounds, err, sizeof err))
    die("configuration", err);
  if (!getenv("SIMPKI_LOG_LEVEL"))
    sp_log_set_level(SP_LOG_WARN);
  setvbuf(stdout, NULL, _IOLBF, 0);

  char dir[] = "/tmp/simpki-bench-ingest.XXXXXX";
  if (!mkdtemp(dir))
    die("mkdtemp", dir);
  char path[4400], kek[200], tkdir[200], out[200];
  unsigned char key[32];
  char hex[65];
  snprintf(kek, sizeof kek, "%s/kek", dir);
  RAND_bytes(key, 32);
  sp_hex_encode(key, 32, hex);
  snprintf(path, sizeof path, "bench-kek %s\n", hex);
  write_file(kek, path, 0600);
  snprintf(tkdir, sizeof tkdir, "%s/tk", dir);
  mkdir(tkdir, 0700);
  unsigned char tk[32];
  RAND_bytes(tk, 32);
  sp_hex_encode(tk, 32, hex);
  snprintf(path, sizeof path, "%s/BENCH-VENDOR.key", tkdir);
  char line[80];
  snprintf(line, sizeof line, "%s\n", hex);
  write_file(path, line, 0600);
  sp_wipe(hex, sizeof hex);

  sp_db *db = sp_db_open(url, 30000, err, sizeof err);
  if (!db)
    die("database", err);
  PGconn *c = sp_db_conn(db);
  char q[1024];
  snprintf(q, sizeof q,
           "INSERT INTO numbering_blocks (block_id, kind, prefix, digits, "
           "first_number, last_number) VALUES ('BENCH-IMSI', 'imsi', "
           "'45201', 15, 452019000000000, 452019000000000 + %ld - 1), "
           "('BENCH-ICCID', 'iccid', '89840199', 19, 8984019900000000000, "
           "8984019900000000000 + %ld - 1)",
           total, total);
  sql(c, q);
  sql(c, "INSERT INTO vendors (vendor_id, name, state, agreement_ref) "
         "VALUES ('BENCH-VENDOR', 'Bench', 'connected', 'NDA')");
  snprintf(q, sizeof q,
           "INSERT INTO orders (order_id, bcycp_ref, document_sha256, "
           "vendor_id, quantity, profile, state, document, signer, "
           "received_via) VALUES ('ORD-2026-900001', 'BENCH-1', repeat('0', "
           "64), 'BENCH-VENDOR', %ld, 'usim_milenage', 'in_production', "
           "'{}', '{}', 'cli')",
           total);
  sql(c, q);
  snprintf(q, sizeof q,
           "INSERT INTO batches (batch_id, order_id, vendor_id, kind, seq, "
           "quantity, profile, state, released_at) VALUES "
           "('ORD-2026-900001-B001', 'ORD-2026-900001', 'BENCH-VENDOR', "
           "'production', 1, %ld, 'usim_milenage', 'released', now())",
           total);
  sql(c, q);
  issue_tx it = {.conf = {.vendor_root = dir, .graphic_ref = "BENCH"}};
  if (sp_db_tx(db, issue_fn, &it, err, sizeof err) != SP_DB_OK)
    die("input file", err);

  size_t inlen = 0;
  FILE *inf = fopen(it.res.path, "rb");
  char input[8192];
  if (!inf || (inlen = fread(input, 1, sizeof input, inf)) == 0)
    die("read", it.res.path);
  fclose(inf);
  snprintf(out, sizeof out, "%s/batch.out", dir);
  FILE *of = fopen(out, "wb");
  vx_sim_options opt = {0};
  long dl;
  double t = now_s();
  if (!of || vx_simulate(input, inlen, tk, &opt, of, &dl, err, sizeof err) ||
      fclose(of) != 0)
    die("simulate", err);
  sp_wipe(tk, sizeof tk);
  struct stat st;
  stat(out, &st);
  printf("output file  : %ld SIMs, %.0f MB, written in %.1f s\n", total,
         (double)st.st_size / 1e6, now_s() - t);

  /* Neither side may pay for the other's writes: the output file's pages
   * and each run's dirty buffers are flushed before the next timed run. */
  int fd = open(out, O_RDONLY);
  if (fd < 0 || fsync(fd) != 0)
    die("fsync", out);
  close(fd);
  double ingest_s = 1e9, copy_s = 1e9, rss_mb = 0;
  for (long round = 1; round <= rounds; round++) {
    sql(c, "CHECKPOINT");
    double cpu_s, mb;
    double s = timed_ingest(url, kek, tkdir, out, &cpu_s, &mb);
    printf("round %ld ingest    : %ld SIMs in %.2f s = %.0f SIMs/s, peak RSS "
           "%.1f MB, CPU of the ingesting process %.2f s\n",
           round, total, s, total / s, mb, cpu_s);
    if (s < ingest_s)
      ingest_s = s;
    if (mb > rss_mb)
      rss_mb = mb;
    /* Back to the batch as issued, for the next round. */
    sql(c, "TRUNCATE sims");
    sql(c, "DELETE FROM vendor_output_files");
    sql(c, "UPDATE batch_files SET output_sha256 = NULL, output_accepted_at "
           "= NULL");
    sql(c, "CHECKPOINT");
    s = plain_copy(db, out);
    printf("round %ld plain COPY: %ld rows in %.2f s = %.0f rows/s\n", round,
           total, s, total / s);
    if (s < copy_s)
      copy_s = s;
  }
  printf("best of %ld rounds: ingest %.2f s, plain COPY %.2f s (%.2fx), peak "
         "RSS %.1f MB\n",
         rounds, ingest_s, copy_s, ingest_s / copy_s, rss_mb);
  sql(c, "DROP TABLE bench_plain_copy");
  sp_db_close(db);
  unlink(out);
  unlink(kek);
  unlink(path);
  remove_tree(dir);
  printf("RESULT name=ingest ratio=%.2f sims=%ld ingest_s=%.2f copy_s=%.2f "
         "ingest_vs_copy=%.2fx peak_rss_mb=%.1f\n",
         copy_s / ingest_s, total, ingest_s, copy_s, ingest_s / copy_s,
         rss_mb);
  return 0;
}
