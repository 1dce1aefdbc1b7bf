/* hlr_adapter_check - services/hlr-provisioner's HLR adapter (hlr.h over
 * OsmoHLR's CTRL) against the real osmo-hlr at $SIMPKI_HLR_CTRL (run by
 * test_hlr_adapter.sh). Keys are derived from a seed and the IMSI:
 *   K   = SHA-256("K:SEED:IMSI")[0..16)    OPc = SHA-256("OPC:SEED:IMSI")
 *   Ki  = SHA-256("KI:SEED:IMSI")[0..16)
 * so the script can compute them on its own. No key is ever printed.
 *
 *   hlr_adapter_check load FIRST_IMSI COUNT 2g|3g WINDOW SEED
 *     pipelined provisioning of COUNT consecutive IMSIs, as a loader does
 *     it: CREATE; on ok SET_AUD2G/3G; on "exists" READ_AUD and compare
 *     with the intended keys. Prints
 *       created N same N conflict N failed N unavailable N
 *     (same: already there with these keys; conflict: there with other
 *     keys, each named on stderr) and the rate on stderr.
 *
 *   hlr_adapter_check verify FIRST_IMSI COUNT 2g|3g WINDOW SEED
 *     pipelined READ_AUD + compare of each. Prints
 *       match N differs N not_found N failed N unavailable N
 *
 *   hlr_adapter_check op KIND IMSI|- [MSISDN|SEED]
 *     one synchronous operation; prints its status, the fields it
 *     returned and its detail, e.g. "ok msisdn=84901000001",
 *     "not_found | HLR: No such subscriber.". set_aud2g/set_aud3g take
 *     SEED; check (READ_AUD + compare) takes 2g|3g:SEED.
 *
 *   hlr_adapter_check stall FIRST_IMSI COUNT WINDOW HLR_PID TIMEOUT_MS
 *     loads with a request timeout of TIMEOUT_MS; after COUNT/4 results
 *     stops osmo-hlr (SIGSTOP): everything in flight must complete as
 *     unavailable ("timeout") within TIMEOUT_MS plus a margin, and new
 *     submits be refused; then continues it (SIGCONT), reconnects and
 *     reads one subscriber. Prints
 *       stalled in_flight N timeout N broken N drained_ms N resumed ok
 *
 *   hlr_adapter_check kill FIRST_IMSI COUNT WINDOW HLR_PID
 *     the same with SIGKILL: in-flight operations complete as unavailable
 *     at once, submits are refused, reconnecting fails. Prints
 *       killed in_flight N unavailable N drained_ms N reconnect failed
 *
 * Exit 0 when the command ran (the script judges the numbers), 1 with the
 * reason when something the command itself checks went wrong. */
#include <openssl/sha.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "hlr.h"
#include "log.h"

#define DEFAULT_TIMEOUT_MS 5000

static const char *addr;

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt,
                                                                ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "hlr_adapter_check: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void derive(const char *what, const char *seed, const char *imsi,
                   unsigned char out[16]) {
  char in[128];
  unsigned char md[SHA256_DIGEST_LENGTH];
  int n = snprintf(in, sizeof in, "%s:%s:%s", what, seed, imsi);
  SHA256((const unsigned char *)in, (size_t)n, md);
  memcpy(out, md, 16);
  sp_wipe(md, sizeof md);
}

/* The intended auth data of an IMSI. */
static void intended(int is_3g, const char *seed, const char *imsi, hp_aud *a) {
  unsigned char k[16], opc[16];
  char err[128];
  memset(a, 0, sizeof *a);
  if (is_3g) {
    derive("K", seed, imsi, k);
    derive("OPC", seed, imsi, opc);
    if (hp_aud_set_3g(a, k, 16, opc, 16, 0, err, sizeof err) < 0)
      die("%s", err);
  } else {
    derive("KI", seed, imsi, k);
    if (hp_aud_set_2g(a, HP_AUD_COMP128V1, k, 16, err, sizeof err) < 0)
      die("%s", err);
  }
  sp_wipe(k, sizeof k);
  sp_wipe(opc, sizeof opc);
}

static hp_hlr *open_hlr(int window, int timeout_ms) {
  char err[256];
  hp_hlr *h = hp_hlr_osmo_open(addr, window, timeout_ms, err, sizeof err);
  if (!h)
    die("open: %s", err);
  return h;
}

static long long parse_ll(const char *s, const char *what) {
  char *end;
  long long v = strtoll(s, &end, 10);
  if (!*s || *end || v < 0)
    die("%s: not a number: %s", what, s);
  return v;
}

/* ---- pipelined loading -------------------------------------------------- */

typedef struct sim {
  char imsi[24]; /* 15 digits; room for what %lld could write */
} sim;

typedef struct run {
  hp_hlr *h;
  int is_3g, verify;
  const char *seed;
  sim *sims;
  long count, next;      /* next SIM to start */
  long *queue;           /* follow-ups waiting for a slot: SIM index, */
  hp_hlr_op_kind *qkind; /* and the op */
  long qhead, qtail;
  long created, same, conflict, failed, unavailable, match, differs, not_found,
      results;
  int stop_submitting;
} run;

/* 0 submitted, 1 busy, -1 unavailable. */
static int submit(run *r, long i, hp_hlr_op_kind kind) {
  hp_hlr_op op;
  hp_aud a;
  char err[256];
  memset(&a, 0, sizeof a);
  if (kind == HP_HLR_SET_AUD2G || kind == HP_HLR_SET_AUD3G)
    intended(r->is_3g, r->seed, r->sims[i].imsi, &a);
  hp_hlr_op_init(&op, kind, r->sims[i].imsi, NULL, &a, &r->sims[i]);
  int rc = hp_hlr_submit(r->h, &op, err, sizeof err);
  sp_wipe(&op, sizeof op);
  hp_aud_wipe(&a);
  if (rc < 0 && !r->stop_submitting) {
    fprintf(stderr, "hlr_adapter_check: submit refused: %s\n", err);
    r->stop_submitting = 1;
  }
  return rc;
}

static void follow_up(run *r, long i, hp_hlr_op_kind kind) {
  r->queue[r->qtail] = i;
  r->qkind[r->qtail] = kind;
  r->qtail = (r->qtail + 1) % (r->count + 1);
}

static void on_result(run *r, hp_hlr_result *res) {
  long i = (sim *)res->tag - r->sims;
  r->results++;
  if (res->status == HP_HLR_UNAVAILABLE) {
    r->unavailable++;
    return;
  }
  switch (res->kind) {
  case HP_HLR_CREATE:
    if (res->status == HP_HLR_OK)
      follow_up(r, i, r->is_3g ? HP_HLR_SET_AUD3G : HP_HLR_SET_AUD2G);
    else if (res->status == HP_HLR_EXISTS)
      follow_up(r, i, HP_HLR_READ_AUD);
    else
      goto failed;
    return;
  case HP_HLR_SET_AUD2G:
  case HP_HLR_SET_AUD3G:
    if (res->status != HP_HLR_OK)
      goto failed;
    r->created++;
    return;
  case HP_HLR_READ_AUD: {
    if (res->status == HP_HLR_NOT_FOUND && r->verify) {
      r->not_found++;
      return;
    }
    if (res->status != HP_HLR_OK)
      goto failed;
    hp_aud want;
    char reason[256];
    intended(r->is_3g, r->seed, res->imsi, &want);
    hp_aud_verdict v = hp_aud_compare(&res->aud, &want, reason, sizeof reason);
    hp_aud_wipe(&want);
    hp_aud_wipe(&res->aud);
    if (v == HP_AUD_MATCH) {
      r->verify ? r->match++ : r->same++;
      return;
    }
    r->verify ? r->differs++ : r->conflict++;
    fprintf(stderr, "%s %s: %s\n", r->verify ? "differs" : "conflict",
            res->imsi, reason);
    return;
  }
  default:
    break;
  }
failed:
  r->failed++;
  fprintf(stderr, "failed %s %s: %s %s\n", hp_hlr_op_name(res->kind), res->imsi,
          hp_hlr_status_name(res->status), res->detail);
}

/* Drive the run until everything is done, or - when stop_after > 0 -
 * until that many results came, then return (the caller disturbs the
 * HLR and calls again with 0). */
static void drive(run *r, long stop_after) {
  for (;;) {
    /* Follow-ups first: they finish SIMs already started. */
    while (!r->stop_submitting && r->qhead != r->qtail) {
      if (submit(r, r->queue[r->qhead], r->qkind[r->qhead]) != 0)
        break;
      r->qhead = (r->qhead + 1) % (r->count + 1);
    }
    while (!r->stop_submitting && r->qhead == r->qtail && r->next < r->count) {
      if (submit(r, r->next, r->verify ? HP_HLR_READ_AUD : HP_HLR_CREATE) != 0)
        break;
      r->next++;
    }
    if (hp_hlr_outstanding(r->h) == 0 &&
        (r->stop_submitting || (r->qhead == r->qtail && r->next == r->count)))
      return;
    hp_hlr_result res;
    if (hp_hlr_poll(r->h, 1000, &res) == 1) {
      on_result(r, &res);
      hp_aud_wipe(&res.aud);
      if (stop_after > 0 && r->results >= stop_after)
        return;
    }
  }
}

static void run_init(run *r, const char *first, long count, int is_3g,
                     const char *seed) {
  memset(r, 0, sizeof *r);
  long long f = parse_ll(first, "FIRST_IMSI");
  r->count = count;
  r->is_3g = is_3g;
  r->seed = seed;
  r->sims = calloc((size_t)count, sizeof *r->sims);
  r->queue = calloc((size_t)count + 1, sizeof *r->queue);
  r->qkind = calloc((size_t)count + 1, sizeof *r->qkind);
  if (!r->sims || !r->queue || !r->qkind)
    die("out of memory");
  if (count < 1 || f < 100000 || f + count - 1 > 999999999999999LL)
    die("IMSIs %s + %ld do not stay 6-15 digits", first, count);
  for (long i = 0; i < count; i++)
    snprintf(r->sims[i].imsi, sizeof r->sims[i].imsi, "%lld", f + i);
}

static void run_free(run *r) {
  free(r->sims);
  free(r->queue);
  free(r->qkind);
}

static int profile(const char *s) {
  if (!strcmp(s, "3g"))
    return 1;
  if (!strcmp(s, "2g"))
    return 0;
  die("profile must be 2g or 3g, not %s", s);
}

static int cmd_load(int verify, char **argv) {
  run r;
  long count = (long)parse_ll(argv[1], "COUNT");
  int window = (int)parse_ll(argv[3], "WINDOW");
  run_init(&r, argv[0], count, profile(argv[2]), argv[4]);
  r.verify = verify;
  r.h = open_hlr(window, DEFAULT_TIMEOUT_MS);
  long long t0 = now_ms();
  drive(&r, 0);
  long long ms = now_ms() - t0;
  if (verify)
    printf("match %ld differs %ld not_found %ld failed %ld unavailable %ld\n",
           r.match, r.differs, r.not_found, r.failed, r.unavailable);
  else
    printf("created %ld same %ld conflict %ld failed %ld unavailable %ld\n",
           r.created, r.same, r.conflict, r.failed, r.unavailable);
  double s = ms > 0 ? ms / 1000.0 : 0.001;
  fprintf(stderr,
          "hlr_adapter_check: %s %ld SIMs (%s) in %.2f s with a window of "
          "%d: %.0f SIMs/s\n",
          verify ? "verified" : "loaded", count,
          verify ? "read_aud + compare"
                 : (r.is_3g ? "create + aud3g" : "create + aud2g"),
          s, window, count / s);
  hp_hlr_close(r.h);
  run_free(&r);
  return 0;
}

/* ---- single operations -------------------------------------------------- */

static const struct {
  const char *name;
  hp_hlr_op_kind kind;
} kinds[] = {
    {"create", HP_HLR_CREATE},
    {"set_aud2g", HP_HLR_SET_AUD2G},
    {"set_aud3g", HP_HLR_SET_AUD3G},
    {"set_msisdn", HP_HLR_SET_MSISDN},
    {"clear_msisdn", HP_HLR_CLEAR_MSISDN},
    {"read_aud", HP_HLR_READ_AUD},
    {"check", HP_HLR_READ_AUD},
    {"read_msisdn", HP_HLR_READ_MSISDN},
    {"find_msisdn", HP_HLR_FIND_MSISDN},
    {"delete", HP_HLR_DELETE},
};

static int cmd_op(int argc, char **argv) {
  size_t k = 0;
  for (; k < sizeof kinds / sizeof *kinds; k++)
    if (!strcmp(argv[0], kinds[k].name))
      break;
  if (k == sizeof kinds / sizeof *kinds)
    die("unknown op %s", argv[0]);
  hp_hlr_op_kind kind = kinds[k].kind;
  const char *imsi = strcmp(argv[1], "-") ? argv[1] : NULL;
  const char *arg = argc > 2 ? argv[2] : NULL;
  hp_aud a, want;
  memset(&a, 0, sizeof a);
  memset(&want, 0, sizeof want);
  const char *msisdn = NULL;
  if (kind == HP_HLR_SET_AUD2G || kind == HP_HLR_SET_AUD3G) {
    if (!arg)
      die("%s needs a SEED", argv[0]);
    intended(kind == HP_HLR_SET_AUD3G, arg, imsi ? imsi : "", &a);
  } else if (!strcmp(argv[0], "check")) {
    if (!arg || strlen(arg) < 4 || arg[2] != ':')
      die("check needs 2g:SEED or 3g:SEED");
    char prof[3] = {arg[0], arg[1], 0};
    intended(profile(prof), arg + 3, imsi ? imsi : "", &want);
  } else {
    msisdn = arg;
  }
  hp_hlr *h = open_hlr(4, DEFAULT_TIMEOUT_MS);
  hp_hlr_result res;
  hp_hlr_status st = hp_hlr_call(h, kind, imsi, msisdn, &a, &res);
  hp_aud_wipe(&a);
  printf("%s", hp_hlr_status_name(st));
  if (st == HP_HLR_OK) {
    switch (kind) {
    case HP_HLR_CREATE:
      printf(" id=%s", res.id > 0 ? "set" : "missing");
      break;
    case HP_HLR_READ_MSISDN:
      printf(" msisdn=%s", res.msisdn);
      break;
    case HP_HLR_FIND_MSISDN:
      printf(" imsi=%s", res.imsi);
      break;
    case HP_HLR_READ_AUD:
      if (want.has_2g || want.has_3g) {
        char reason[256];
        hp_aud_verdict v =
            hp_aud_compare(&res.aud, &want, reason, sizeof reason);
        printf(" %s%s%s", hp_aud_verdict_name(v), reason[0] ? ": " : "",
               reason);
      } else {
        printf(" 2g=%s 3g=%s%s msisdn=%s",
               res.aud.has_2g ? res.aud.algo2g_name : "none",
               res.aud.has_3g ? res.aud.algo3g_name : "none",
               res.aud.has_3g ? (res.aud.opc_is_op ? "/OP" : "/OPc") : "",
               res.msisdn);
      }
      break;
    default:
      break;
    }
  } else {
    printf(" | %s", res.detail);
  }
  printf("\n");
  hp_aud_wipe(&res.aud);
  hp_aud_wipe(&want);
  hp_hlr_close(h);
  return 0;
}

/* ---- the HLR stopped or killed mid-stream ------------------------------ */

/* Running (not gone, not a zombie)? */
static int alive(pid_t pid) {
  char path[64], stat[256];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *fp = fopen(path, "r");
  if (!fp)
    return 0;
  size_t n = fread(stat, 1, sizeof stat - 1, fp);
  fclose(fp);
  stat[n] = '\0';
  const char *rp = strrchr(stat, ')'); /* "pid (comm) S ..." */
  return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static int cmd_disturb(int do_kill, char **argv) {
  run r;
  long count = (long)parse_ll(argv[1], "COUNT");
  int window = (int)parse_ll(argv[2], "WINDOW");
  pid_t pid = (pid_t)parse_ll(argv[3], "HLR_PID");
  int timeout_ms =
      do_kill ? DEFAULT_TIMEOUT_MS : (int)parse_ll(argv[4], "TIMEOUT_MS");
  run_init(&r, argv[0], count, 1, "disturb");
  r.h = open_hlr(window, timeout_ms);
  drive(&r, count / 4);
  int in_flight = hp_hlr_outstanding(r.h);
  if (in_flight == 0)
    die("nothing in flight when the HLR was disturbed");
  if (kill(pid, do_kill ? SIGKILL : SIGSTOP) != 0)
    die("cannot signal osmo-hlr pid %d", (int)pid);
  long long t0 = now_ms();
  /* Drain what is in flight; nothing new is submitted. */
  long unav0 = r.unavailable;
  int timeouts = 0, broken = 0;
  while (hp_hlr_outstanding(r.h) > 0) {
    hp_hlr_result res;
    if (hp_hlr_poll(r.h, 1000, &res) != 1) {
      if (now_ms() - t0 > timeout_ms + 10000)
        die("in-flight operations did not complete: the client hangs");
      continue;
    }
    if (res.status == HP_HLR_UNAVAILABLE) {
      if (strstr(res.detail, ": timeout: no reply from the HLR within"))
        timeouts++;
      else if (strstr(res.detail, ": connection broken: "))
        broken++;
      else
        die("unexpected detail: %s", res.detail);
    }
    on_result(&r, &res);
    hp_aud_wipe(&res.aud);
  }
  long long drained = now_ms() - t0;
  long unavailable = r.unavailable - unav0;
  char err[256];
  hp_hlr_op op;
  hp_hlr_op_init(&op, HP_HLR_READ_MSISDN, r.sims[0].imsi, NULL, NULL, NULL);
  int rc = hp_hlr_submit(r.h, &op, err, sizeof err);
  if (rc != -1)
    die("submit after the break returned %d, not -1", rc);
  if (do_kill) {
    /* SIGKILL returns before the process is gone; until its listener is
     * closed the kernel still accepts connections for it. */
    for (int i = 0; i < 500 && alive(pid); i++)
      usleep(10000);
    if (alive(pid))
      die("osmo-hlr pid %d survived SIGKILL", (int)pid);
    if (hp_hlr_reconnect(r.h, err, sizeof err) == 0)
      die("reconnected to a killed HLR");
    printf("killed in_flight %d unavailable %ld drained_ms %lld reconnect "
           "failed: %s\n",
           in_flight, unavailable, drained, err);
  } else {
    if (kill(pid, SIGCONT) != 0)
      die("cannot continue osmo-hlr pid %d", (int)pid);
    if (hp_hlr_reconnect(r.h, err, sizeof err) < 0)
      die("reconnect after SIGCONT: %s", err);
    hp_hlr_result res;
    hp_hlr_status st = hp_hlr_run(r.h, &op, &res);
    if (st != HP_HLR_OK)
      die("read after reconnect: %s %s", hp_hlr_status_name(st), res.detail);
    printf("stalled in_flight %d timeout %d broken %d drained_ms %lld "
           "resumed ok\n",
           in_flight, timeouts, broken, drained);
  }
  hp_hlr_close(r.h);
  run_free(&r);
  return 0;
}

int main(int argc, char **argv) {
  sp_log_set_level(SP_LOG_ERROR);
  addr = getenv("SIMPKI_HLR_CTRL");
  if (!addr || !*addr)
    die("SIMPKI_HLR_CTRL is not set");
  if (argc == 7 && (!strcmp(argv[1], "load") || !strcmp(argv[1], "verify")))
    return cmd_load(!strcmp(argv[1], "verify"), argv + 2);
  if ((argc == 4 || argc == 5) && !strcmp(argv[1], "op"))
    return cmd_op(argc - 2, argv + 2);
  if (argc == 7 && !strcmp(argv[1], "stall"))
    return cmd_disturb(0, argv + 2);
  if (argc == 6 && !strcmp(argv[1], "kill"))
    return cmd_disturb(1, argv + 2);
  fprintf(stderr,
          "usage: hlr_adapter_check load|verify FIRST_IMSI COUNT 2g|3g "
          "WINDOW SEED\n"
          "       hlr_adapter_check op KIND IMSI|- [MSISDN|SEED|2g:SEED]\n"
          "       hlr_adapter_check stall FIRST_IMSI COUNT WINDOW PID "
          "TIMEOUT_MS\n"
          "       hlr_adapter_check kill FIRST_IMSI COUNT WINDOW PID\n");
  return 2;
}
