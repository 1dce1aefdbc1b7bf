/* bench_hlr - loading SIMs into OsmoHLR: the service's path against a raw
 * CTRL loop, in the same run, on the same HLR.
 *
 * 1. raw: BENCH_SIMS (default 100,000) SIMs sent straight to the HLR over
 *    one CTRL connection with the same window as the service: create, set
 *    the 3G auth data, read it back (the same three requests the service
 *    sends), no database, no decryption, no bookkeeping;
 * 2. service: the same number of other SIMs stored as vendor-exchange
 *    stores them (secrets sealed under a KEK), queued for the HLR, and
 *    loaded by hlr-provisioner's own loading code (provision.c, the code
 *    the service's loader thread runs): fetch, open the secrets, load,
 *    read back and compare, commit each group, report batch.provisioned.
 * The raw loop runs first, so the service meets the bigger HLR database.
 * Ends with: RESULT name=hlr ratio=<service rate / raw rate> key=value... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "config.h"
#include "crypto.h"
#include "ctrl_client.h"
#include "db.h"
#include "log.h"
#include "provision.h"
#include "sim_secrets.h"

#define RAW_IMSI 452019820000000LL
#define SVC_IMSI 452019810000000LL
#define SVC_ICCID 8984019810000000000LL
#define BATCH "ORD-2026-900002-B001"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noreturn)) static void die(const char *what, const char *err) {
  fprintf(stderr, "bench_hlr: %s: %s\n", what, err);
  exit(1);
}

static void sql(PGconn *c, const char *q) {
  char err[512];
  if (sp_db_exec(c, q, 0, NULL, err, sizeof err) < 0)
    die("setup", err);
}

static void key_of(long long imsi, int which, unsigned char out[16]) {
  for (int i = 0; i < 16; i++)
    out[i] = (unsigned char)((imsi >> (i % 8)) * 31 + i * 7 + which);
}

/* The raw loop: per SIM create, aud3g, info-aud, pipelined. */
static double raw_loop(const char *addr, long n, long window) {
  char err[512];
  hp_ctrl *c = hp_ctrl_connect(addr, 5000, err, sizeof err);
  if (!c || hp_ctrl_set_window(c, (int)window, err, sizeof err))
    die("raw: connect", err);
  hp_ctrl_set_timeout(c, 10000);
  int *step = calloc((size_t)n, sizeof *step);
  long *ready = malloc((size_t)n * sizeof *ready), nready = 0, next = 0;
  long done = 0;
  double t = now_s();
  while (done < n) {
    for (;;) {
      long i;
      if (nready > 0)
        i = ready[nready - 1];
      else if (next < n)
        i = next;
      else
        break;
      char var[96], val[128], k[33], o[33];
      unsigned char kb[16], ob[16];
      long long imsi = RAW_IMSI + i;
      int type = HP_CTRL_SET;
      const char *value = val;
      if (step[i] == 0) {
        snprintf(var, sizeof var, "subscriber.create");
        snprintf(val, sizeof val, "%lld", imsi);
      } else if (step[i] == 1) {
        key_of(imsi, 1, kb);
        key_of(imsi, 2, ob);
        sp_hex_encode(kb, 16, k);
        sp_hex_encode(ob, 16, o);
        snprintf(var, sizeof var, "subscriber.by-imsi-%lld.aud3g", imsi);
        snprintf(val, sizeof val, "milenage,%s,OPC,%s", k, o);
      } else {
        snprintf(var, sizeof var, "subscriber.by-imsi-%lld.info-aud", imsi);
        type = HP_CTRL_GET;
        value = NULL;
      }
      if (hp_ctrl_submit(c, (hp_ctrl_type)type, var, value,
                         (void *)(intptr_t)i, err, sizeof err))
        break; /* window full */
      if (nready > 0 && ready[nready - 1] == i)
        nready--;
      else
        next++;
    }
    hp_ctrl_reply r;
    if (hp_ctrl_poll(c, 10000, &r) != 1)
      die("raw", "no reply in 10 s");
    if (r.status != HP_CTRL_OK)
      die("raw: HLR refused", r.value ? r.value : "?");
    long i = (long)(intptr_t)r.tag;
    if (++step[i] == 3)
      done++;
    else
      ready[nready++] = i;
  }
  double s = now_s() - t;
  hp_ctrl_close(c);
  free(step);
  free(ready);
  return s;
}

/* n SIMs stored and queued as the service would find them. */
static void store_sims(sp_db *db, sp_keystore *ks, long n) {
  char err[512];
  PGconn *c = sp_db_conn(db);
  sql(c, "BEGIN");
  PGresult *r = PQexec(c, "COPY sims (iccid, imsi, batch_id, kek_id, "
                          "secrets_enc) FROM STDIN");
  if (PQresultStatus(r) != PGRES_COPY_IN)
    die("copy", PQresultErrorMessage(r));
  PQclear(r);
  const char *kek = sp_keystore_current_id(ks);
  for (long i = 0; i < n; i++) {
    long long imsi = SVC_IMSI + i;
    char imsi_s[24], line[512], hex[2 * SP_SIMSEC_SEALED + 1];
    snprintf(imsi_s, sizeof imsi_s, "%lld", imsi);
    sp_sim_secrets sec = {.has_opc = 1};
    key_of(imsi, 1, sec.ki);
    key_of(imsi, 2, sec.opc);
    strcpy(sec.adm1, "12345678");
    strcpy(sec.pin1, "1234");
    strcpy(sec.puk1, "12345678");
    strcpy(sec.pin2, "5678");
    strcpy(sec.puk2, "87654321");
    unsigned char pt[SP_SIMSEC_PLAIN], sealed[SP_SIMSEC_SEALED];
    size_t sl;
    if (sp_simsec_encode(&sec, pt) ||
        sp_keystore_seal(ks, kek, (const unsigned char *)imsi_s, 15, pt,
                         sizeof pt, sealed, &sl, err, sizeof err))
      die("seal", err);
    sp_hex_encode(sealed, sl, hex);
    int len = snprintf(line, sizeof line, "%lld\t%s\t%s\t%s\t\\\\x%s\n",
                       SVC_ICCID + i, imsi_s, BATCH, kek, hex);
    if (PQputCopyData(c, line, len) != 1)
      die("copy", PQerrorMessage(c));
  }
  if (PQputCopyEnd(c, NULL) != 1)
    die("copy", PQerrorMessage(c));
  while ((r = PQgetResult(c)) != NULL) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      die("copy", PQresultErrorMessage(r));
    PQclear(r);
  }
  char q[1024];
  snprintf(q, sizeof q,
           "INSERT INTO hlr_loads (batch_id, order_id, profile, sims, "
           "iccid_first, iccid_last, imsi_first, imsi_last) VALUES ('%s', "
           "'ORD-2026-900002', 'usim_milenage', %ld, '%lld', '%lld', %lld, "
           "%lld)",
           BATCH, n, SVC_ICCID, SVC_ICCID + n - 1, SVC_IMSI,
           SVC_IMSI + n - 1);
  sql(c, q);
  sql(c, "COMMIT");
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--help")) {
    printf("usage: bench_hlr   (run it through bench/run hlr)\n"
           "Environment: SIMPKI_DB_URL, SIMPKI_HLR_CTRL, BENCH_SIMS "
           "(100000), SIMPKI_HLR_WINDOW (32), SIMPKI_HLR_GROUP (1000).\n");
    return 0;
  }
  char err[1024];
  const char *url;
  long total;
  hp_provision_conf conf;
  if (sp_log_init("bench-hlr", err, sizeof err) ||
      sp_config_str("SIMPKI_DB_URL", NULL, &url, err, sizeof err) ||
      sp_config_long("BENCH_SIMS", 0, 100000, 10, 10000000, &total, err,
                     sizeof err) ||
      hp_provision_conf_load(&conf, err, sizeof err))
    die("configuration", err);
  if (!getenv("SIMPKI_LOG_LEVEL"))
    sp_log_set_level(SP_LOG_WARN);
  setvbuf(stdout, NULL, _IOLBF, 0);

  char dir[] = "/tmp/simpki-bench-hlr.XXXXXX", kek[200];
  if (!mkdtemp(dir))
    die("mkdtemp", dir);
  snprintf(kek, sizeof kek, "%s/kek", dir);
  unsigned char key[32];
  char hex[65], line[100];
  RAND_bytes(key, 32);
  sp_hex_encode(key, 32, hex);
  snprintf(line, sizeof line, "bench-kek %s\n", hex);
  FILE *fp = fopen(kek, "w");
  if (!fp || fputs(line, fp) < 0 || fclose(fp) != 0)
    die("write", kek);
  chmod(kek, 0600);
  sp_wipe(key, sizeof key);
  sp_wipe(hex, sizeof hex);
  setenv("SIMPKI_KEK_FILE", kek, 1);
  sp_keystore *ks = sp_keystore_open_env(err, sizeof err);
  sp_db *db = ks ? sp_db_open(url, 30000, err, sizeof err) : NULL;
  if (!db)
    die("setup", err);

  printf("HLR %s, window %ld, %ld SIMs each\n", conf.hlr_addr, conf.window,
         total);
  double raw_s = raw_loop(conf.hlr_addr, total, conf.window);
  printf("raw CTRL loop: %ld SIMs in %.2f s = %.0f SIMs/s (create, aud3g, "
         "info-aud)\n",
         total, raw_s, total / raw_s);

  store_sims(db, ks, total);
  hp_provisioner *p = hp_provisioner_new(&conf, db, ks, err, sizeof err);
  if (!p)
    die("provisioner", err);
  double t = now_s();
  int finished = hp_provisioner_drain(p, NULL);
  double svc_s = now_s() - t;
  if (finished != 1)
    die("service", "the batch was not loaded and reported");
  PGresult *r = PQexec(sp_db_conn(db),
                       "SELECT loaded, already, failed FROM hlr_loads WHERE "
                       "batch_id = '" BATCH "'");
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
      atol(PQgetvalue(r, 0, 0)) != total)
    die("service", "not every SIM was loaded");
  PQclear(r);
  printf("service path : %ld SIMs in %.2f s = %.0f SIMs/s (fetch, open, "
         "load, read back, commit per %ld, report)\n",
         total, svc_s, total / svc_s, conf.group);
  hp_provisioner_free(p);
  sp_db_close(db);
  sp_keystore_close(ks);
  unlink(kek);
  rmdir(dir);
  printf("RESULT name=hlr ratio=%.2f sims=%ld window=%ld raw_sims_per_s=%.0f "
         "service_sims_per_s=%.0f\n",
         raw_s / svc_s, total, conf.window, total / raw_s, total / svc_s);
  return 0;
}
