/* bench_audit - `simpkictl audit replay` against a bare librdkafka consume.
 *
 * 1. produces BENCH_EVENTS (200,000) sealed events with real hash chains
 *    over BENCH_SUBJECTS (2,000) SIMs (sim.connected, sim.sold,
 *    sim.delivered, sim.returned in turn, each valid against its schema)
 *    into the topic bench.audit (64 partitions on the dev broker, keyed by
 *    subject, in full batches: see client()), and waits until the broker
 *    holds them all;
 * 2. times, in turns, best of BENCH_ROUNDS (3) rounds each, every way of
 *    reading run as a process of its own, from its start to its end, the
 *    way an auditor runs the replay:
 *    (a) a bare librdkafka consumer (this program run with --consume)
 *        reading every partition of the topic from its beginning to its
 *        end, no parsing: the reference;
 *    (a') the same consumer computing SHA-256 over each payload in its
 *        one thread (--consume --sha256): the simplest audit of a hash
 *        chain (the floor), so that the replay's cost above it is seen
 *        apart from the hashing's;
 *    (a'') the bare consume once more, in this program's own process: its
 *        heap, grown by the production and the rounds before, spares its
 *        fetches the fresh pages a new process clears first, so its rate
 *        follows how warm that heap is (0.87-1.43 times the reference's
 *        in session 17's nine runs), faster in the later rounds.
 *        Shown beside the reference (ratio_warm), not as it;
 *    (b) the simpkictl binary `audit replay --topic bench.audit` (reading,
 *        hashes, chains, rules, schemas, the report); its exit status must
 *        be 0 (CLEAN), its peak RSS is taken from wait4;
 *    (c) unless BENCH_STAGES=0, simpkictl_stages (the replay built to stop
 *        after one step) stopped after each step in turn: read, parse and
 *        hash, schema, kept. Each says what the replay would reach if the
 *        steps after it cost nothing.
 *    The processes are started by a runner process (see runner_start).
 * Ends with: RESULT name=audit ratio=<replay/bare events/s> key=value... */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <librdkafka/rdkafka.h>
#include <limits.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../tools/simpkictl/kafka_reader.h"
#include "config.h"
#include "event.h"
#include "log.h"

#define TOPIC "bench.audit"
#define PARTITIONS 64

extern char **environ;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noreturn)) static void die(const char *what, const char *err) {
  fprintf(stderr, "bench_audit: %s: %s\n", what, err);
  exit(1);
}

static long dr_failed;
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *o) {
  (void)rk;
  (void)o;
  if (m->err)
    dr_failed++;
}

/* The k-th event of SIM i's chain: a type and its data, schema-valid. */
static json_t *event_data(long i, long k, const char **type) {
  char iccid[40], msisdn[40];
  snprintf(iccid, sizeof iccid, "89840177%011ld", 10000000L + i % 1000000);
  snprintf(msisdn, sizeof msisdn, "849%08ld", i % 1000000);
  switch (k % 4) {
  case 0:
    *type = "sim.connected";
    return json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "iccid", iccid, "msisdn",
                     msisdn, "ctkv", "CTKV1", "shop", "HNI-001", "swap", 0,
                     "package", "MF-70");
  case 1:
    *type = "sim.sold";
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "iccid", iccid, "ctkv",
                     "CTKV1", "shop", "HNI-001", "invoice_series", "C26TMF",
                     "invoice_number", (json_int_t)(i * 100 + k + 1), "total",
                     (json_int_t)125000, "msisdn", msisdn);
  case 2:
    *type = "sim.delivered";
    return json_pack("{s:s,s:s,s:I,s:I}", "iccid", iccid, "shop", "HNI-001",
                     "amount_paid", (json_int_t)125000, "debt", (json_int_t)0);
  default:
    *type = "sim.returned";
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "iccid", iccid, "from",
                     "delivered", "reason", "the customer brought it back",
                     "by", "shop-hni-001", "ctkv", "CTKV1", "shop", "HNI-001");
  }
}

/* The producer lingers long enough to fill its batches (1 MB, its
 * default batch.size). The dev broker (librdkafka's mock cluster) finds a
 * fetch's offset by walking the partition's message sets from the first:
 * with the few events a 5 ms linger gathered per partition, that walk cost
 * 2-23 us of the broker's processor time per event served, varying with
 * how fast the events were made, and the bench measured the broker. A
 * Kafka broker finds an offset through its index; large batches bring the
 * mock near that, and the same from run to run. A deep queue is the
 * replay's (tools/simpkictl/kafka_reader.c): a consumer slower than the
 * broker with librdkafka's default queue fills it, and fetches again only
 * on its next one-second tick. */
static rd_kafka_t *client(rd_kafka_type_t type, const char *bootstrap,
                          int deep_queue) {
  char err[512], group[64];
  snprintf(group, sizeof group, "bench-audit-%ld-%d", (long)getpid(), rand());
  const char *const producer_kv[][2] = {{"bootstrap.servers", bootstrap},
                                        {"enable.idempotence", "true"},
                                        {"acks", "all"},
                                        {"linger.ms", "1000"},
                                        {"batch.num.messages", "100000"},
                                        {"batch.size", "1000000"}};
  const char *const consumer_kv[][2] = {{"bootstrap.servers", bootstrap},
                                        {"group.id", group},
                                        {"enable.auto.commit", "false"},
                                        {"auto.offset.reset", "earliest"}};
  int producer = type == RD_KAFKA_PRODUCER;
  const char *const(*kv)[2] = producer ? producer_kv : consumer_kv;
  size_t n = producer ? sizeof producer_kv / sizeof *producer_kv
                      : sizeof consumer_kv / sizeof *consumer_kv;
  const char *const deep_kv[][2] = {
      {"queued.min.messages", SP_READER_QUEUED_MIN_MESSAGES},
      {"queued.max.messages.kbytes", SP_READER_QUEUED_MAX_KBYTES}};
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  for (size_t i = 0; i < n; i++)
    if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err))
      die("librdkafka configuration", err);
  for (size_t i = 0; deep_queue && i < sizeof deep_kv / sizeof *deep_kv; i++)
    if (rd_kafka_conf_set(conf, deep_kv[i][0], deep_kv[i][1], err, sizeof err))
      die("librdkafka configuration", err);
  if (type == RD_KAFKA_PRODUCER)
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk)
    die("librdkafka", err);
  return rk;
}

static void produce(const char *bootstrap, long total, long subjects) {
  rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, bootstrap, 0);
  char(*prev)[SP_EVENT_HASH_HEX + 1] = malloc((size_t)subjects * sizeof *prev);
  if (!prev)
    die("produce", "out of memory");
  for (long i = 0; i < subjects; i++)
    strcpy(prev[i], SP_EVENT_GENESIS);
  char err[256];
  for (long n = 0; n < total; n++) {
    long i = n % subjects, k = n / subjects;
    char subject[48];
    snprintf(subject, sizeof subject, "sim/89840177%011ld",
             10000000L + i % 1000000);
    const char *type;
    json_t *data = event_data(i, k, &type);
    sp_event ev;
    if (sp_event_init(&ev, "/simpki/inventory", type, subject, NULL,
                      "ORD-2026-000001", data, err, sizeof err) ||
        sp_event_seal(&ev, prev[i]))
      die("event", err);
    strcpy(prev[i], ev.hash);
    size_t len;
    char *buf = sp_event_serialize(&ev, &len);
    if (!buf)
      die("event", "cannot serialize");
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC),
                                  RD_KAFKA_V_KEY(subject, strlen(subject)),
                                  RD_KAFKA_V_VALUE(buf, len),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                  RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(rk, 10);
    if (e)
      die("produce", rd_kafka_err2str(e));
    rd_kafka_poll(rk, 0);
    sp_event_clear(&ev);
  }
  if (rd_kafka_flush(rk, 120000) || dr_failed)
    die("produce", "not every event was delivered");
  rd_kafka_destroy(rk);
  free(prev);
}

/* The bare reference: every partition from its beginning to its high
 * watermark, counting messages and bytes, nothing parsed. With sha256,
 * the floor: each payload hashed as well, in the consumer's thread (two
 * threads hashing took as long: the broker and librdkafka's own threads
 * keep the second processor busy). */
static long bare_consume(const char *bootstrap, long *bytes, EVP_MD *sha256) {
  rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, bootstrap, sha256 != NULL);
  EVP_MD_CTX *dctx = sha256 ? EVP_MD_CTX_new() : NULL;
  if (sha256 && !dctx)
    die("floor", "out of memory");
  const struct rd_kafka_metadata *md;
  rd_kafka_topic_t *t = rd_kafka_topic_new(rk, TOPIC, NULL);
  if (rd_kafka_metadata(rk, 0, t, &md, 10000))
    die("bare consume", "no metadata");
  int np = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(t);
  int64_t *high = calloc((size_t)np, sizeof *high),
          *low = calloc((size_t)np, sizeof *low);
  /* Both ends of every partition in one request per broker for each, as
   * the replay asks them (kafka_reader.c). */
  for (int e = 0; e < 2; e++) {
    rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_new(np);
    for (int p = 0; p < np; p++)
      rd_kafka_topic_partition_list_add(q, TOPIC, p)->offset =
          e ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
    if (rd_kafka_offsets_for_times(rk, q, 10000))
      die("bare consume", "no watermarks");
    for (int k = 0; k < q->cnt; k++) {
      const rd_kafka_topic_partition_t *r = &q->elems[k];
      if (r->err || r->offset < 0 || r->partition < 0 || r->partition >= np)
        die("bare consume", "no watermarks");
      (e ? high : low)[r->partition] = r->offset;
    }
    rd_kafka_topic_partition_list_destroy(q);
  }
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
  int left = 0;
  for (int p = 0; p < np; p++) {
    int64_t lo = low[p];
    if (high[p] > lo) {
      rd_kafka_topic_partition_list_add(l, TOPIC, p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
      left++;
    }
  }
  if (rd_kafka_assign(rk, l))
    die("bare consume", "cannot assign");
  rd_kafka_topic_partition_list_destroy(l);
  long n = 0;
  *bytes = 0;
  while (left > 0) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
    if (!m)
      continue;
    if (!m->err && m->partition < np && m->offset < high[m->partition]) {
      n++;
      *bytes += (long)m->len;
      unsigned char digest[32];
      if (dctx && (!EVP_DigestInit_ex(dctx, sha256, NULL) ||
                   !EVP_DigestUpdate(dctx, m->payload, m->len) ||
                   !EVP_DigestFinal_ex(dctx, digest, NULL)))
        die("floor", "SHA-256 failed");
      if (m->offset == high[m->partition] - 1)
        left--;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  EVP_MD_CTX_free(dctx);
  free(high);
  free(low);
  return n;
}

/* The broker's processor time so far (s), from /proc: on one machine the
 * broker shares the processors with the reader, and this says what it
 * took of them. -1 when unknown (no stack folder, no such process). */
static double broker_cpu_s(void) {
  const char *dir = getenv("SIMPKI_STACK_DIR");
  char path[PATH_MAX], line[1024];
  long pid = 0;
  if (!dir)
    return -1;
  snprintf(path, sizeof path, "%s/pids/kafka", dir);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  int ok = fscanf(f, "%ld", &pid) == 1;
  fclose(f);
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  if (!ok || !(f = fopen(path, "r")))
    return -1;
  char *l = fgets(line, sizeof line, f);
  fclose(f);
  /* Fields after the command (which may hold spaces): state is the 3rd,
   * utime and stime the 14th and 15th. */
  char *p = l ? strrchr(l, ')') : NULL;
  unsigned long ut, st;
  if (!p ||
      sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
             &st) != 2)
    return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double cpu_s(const struct rusage *ru) {
  return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
         (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

/* ---- the replays and consumers, started by a runner process ----
 * A process's peak RSS (wait4's ru_maxrss) also counts the memory its
 * parent held when it called exec: posix_spawn runs the child in the
 * parent's memory until then, and fork copies it. The bench's own
 * consumers hold up to a few hundred MB, which the replay's figure then
 * showed. So a runner forked at the start, while the bench holds little,
 * starts each of them and sends back what it measured. */
enum run_kind { RUN_REPLAY, RUN_STAGES, RUN_BARE, RUN_FLOOR };
struct run_req {
  int kind;       /* enum run_kind */
  char stage[16]; /* SIMPKI_AUDIT_STAGE; "" for none */
  char out[64];   /* a file for its output; "" for none */
};
struct run_res {
  int rc;
  long maxrss_kb;
  double wall, cpu;
};
static int runner_req = -1, runner_res = -1;
static pid_t runner_pid;
/* This program, run again as the bare consumer (--consume). */
static char self_exe[PATH_MAX];

/* A replay as an operator runs it, or the bare consumer: its exit status,
 * peak RSS (KiB), wall time and processor time (user + system, every
 * thread). */
static struct run_res run_child(const char *ctl, const struct run_req *q) {
  char *replay_argv[] = {(char *)ctl,    "audit", "replay",   "--topic", TOPIC,
                         "--timeout-ms", "60000", "--format", "json",    NULL};
  char *consume_argv[] = {self_exe, "--consume",
                          q->kind == RUN_FLOOR ? "--sha256" : NULL, NULL};
  int consumer = q->kind == RUN_BARE || q->kind == RUN_FLOOR;
  char **argv = consumer ? consume_argv : replay_argv;
  if (*q->stage)
    setenv("SIMPKI_AUDIT_STAGE", q->stage, 1);
  else
    unsetenv("SIMPKI_AUDIT_STAGE");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, *q->out ? q->out : "/dev/null",
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  struct run_res r = {.rc = 128};
  double t = now_s();
  pid_t pid;
  int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (e)
    die(argv[0], strerror(e));
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) != pid)
    die(argv[0], strerror(errno));
  r.wall = now_s() - t;
  r.maxrss_kb = ru.ru_maxrss;
  r.cpu = cpu_s(&ru);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return r;
}

/* Requests are smaller than PIPE_BUF: each read and write is whole. */
static void runner_start(const char *ctl, const char *ctl_stages) {
  int req[2], res[2];
  if (pipe(req) || pipe(res))
    die("replay runner", strerror(errno));
  fflush(NULL);
  runner_pid = fork();
  if (runner_pid < 0)
    die("replay runner", strerror(errno));
  if (runner_pid == 0) {
    close(req[1]);
    close(res[0]);
    struct run_req q;
    while (read(req[0], &q, sizeof q) == (ssize_t)sizeof q) {
      struct run_res r = run_child(q.kind == RUN_STAGES ? ctl_stages : ctl, &q);
      if (write(res[1], &r, sizeof r) != (ssize_t)sizeof r)
        _exit(1);
    }
    _exit(0); /* the bench closed its end */
  }
  close(req[0]);
  close(res[1]);
  runner_req = req[1];
  runner_res = res[0];
}

static struct run_res run(int kind, const char *stage, const char *out) {
  struct run_req q = {.kind = kind};
  snprintf(q.stage, sizeof q.stage, "%s", stage ? stage : "");
  snprintf(q.out, sizeof q.out, "%s", out ? out : "");
  struct run_res r;
  if (write(runner_req, &q, sizeof q) != (ssize_t)sizeof q ||
      read(runner_res, &r, sizeof r) != (ssize_t)sizeof r)
    die("replay runner", "it stopped");
  return r;
}

/* run() with its standard output's first line into line (empty when
 * there is none). */
static struct run_res run_read(int kind, const char *stage, char *line,
                               size_t n) {
  char out[] = "/tmp/bench-audit-out.XXXXXX";
  int fd = mkstemp(out);
  if (fd < 0)
    die("bench output", strerror(errno));
  close(fd);
  struct run_res r = run(kind, stage, out);
  FILE *f = fopen(out, "r");
  if (!f || !fgets(line, (int)n, f))
    *line = '\0';
  if (f)
    fclose(f);
  unlink(out);
  return r;
}

static void runner_stop(void) {
  close(runner_req);
  close(runner_res);
  waitpid(runner_pid, NULL, 0);
}

/* The best of the rounds of one way of reading: wall and processor time,
 * and the broker's processor time serving it. */
struct timing {
  double wall, cpu, broker;
};
static const struct timing timing_none = {1e9, 1e9, 1e9};

static void timing_add(struct timing *best, double wall, double cpu,
                       double broker) {
  if (wall < best->wall)
    best->wall = wall;
  if (cpu < best->cpu)
    best->cpu = cpu;
  if (broker >= 0 && broker < best->broker)
    best->broker = broker;
}

/* The bare consume in this process (warm: see the top). Dies unless it
 * read all total events. */
static void warm_round(const char *bootstrap, long total, int round,
                       struct timing *best) {
  struct rusage ru0, ru1;
  long bytes;
  getrusage(RUSAGE_SELF, &ru0);
  double b0 = broker_cpu_s(), t = now_s();
  long n = bare_consume(bootstrap, &bytes, NULL);
  double s = now_s() - t;
  getrusage(RUSAGE_SELF, &ru1);
  double b = b0 >= 0 ? broker_cpu_s() - b0 : -1;
  double c = cpu_s(&ru1) - cpu_s(&ru0);
  if (n != total) {
    char err[96];
    snprintf(err, sizeof err, "read %ld of %ld events", n, total);
    die("bare consume in the bench's process", err);
  }
  timing_add(best, s, c, b);
  printf("round %d warm  : %.3f s = %.0f events/s, %.2f s processor, "
         "broker %.2f s (bare, in the bench's process)\n",
         round + 1, s, total / s, c, b);
}

/* One timed bare consume or floor (kind), a process of its own; dies
 * unless it read all total events. *bytes: the payloads' bytes. */
static void consume_round(int kind, long total, int round, long *bytes,
                          struct timing *best) {
  const char *what = kind == RUN_FLOOR ? "floor" : "bare";
  char line[128];
  double b0 = broker_cpu_s();
  struct run_res r = run_read(kind, NULL, line, sizeof line);
  double b = b0 >= 0 ? broker_cpu_s() - b0 : -1;
  long n = -1;
  if (sscanf(line, "consumed %ld events, %ld bytes", &n, bytes) != 2)
    n = -1;
  if (r.rc != 0 || n != total) {
    char err[128];
    snprintf(err, sizeof err, "exit %d, read %ld of %ld events", r.rc, n,
             total);
    die(what, err);
  }
  timing_add(best, r.wall, r.cpu, b);
  printf("round %d %-6s: %.3f s = %.0f events/s, %.2f s processor, "
         "broker %.2f s, peak RSS %.1f MiB\n",
         round + 1, what, r.wall, total / r.wall, r.cpu, b,
         r.maxrss_kb / 1024.0);
}

/* Where the replay's time goes: simpkictl_stages is the replay built to
 * stop after one step (SIMPKI_AUDIT_STAGE), each stage doing what the ones
 * before it do. */
static const struct stage {
  const char *name, *what;
} stages[] = {
    {"read", "read, no check"},
    {"hash", "+ parse, hash"},
    {"schema", "+ JSON Schema"},
    {"kept", "+ kept (read phase)"},
};
#define NSTAGES (sizeof stages / sizeof *stages)

/* One run of the replay stopped after stage; dies unless it read all
 * total messages. Its wall and processor time. */
static void stage_run(const struct stage *st, long total, double *wall,
                      double *cpu) {
  char line[128];
  struct run_res r = run_read(RUN_STAGES, st->name, line, sizeof line);
  int rc = r.rc;
  *wall = r.wall;
  *cpu = r.cpu;
  long read = -1;
  if (sscanf(line, "stage: %ld messages read", &read) != 1)
    read = -1;
  if (rc != 0 || read != total) {
    char err[160];
    snprintf(err, sizeof err, "stage %s: exit %d, read %ld of %ld messages",
             st->name, rc, read, total);
    die("simpkictl_stages", err);
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--help")) {
    printf("usage: bench_audit   (run it through bench/run audit)\n"
           "       bench_audit --consume [--sha256]   the bare consumer "
           "(or the floor)\n"
           "       that the bench runs as a process of its own\n"
           "Environment: SIMPKI_KAFKA_BOOTSTRAP, SIMPKI_DEVBROKER_CTL, "
           "BENCH_EVENTS (200000),\nBENCH_SUBJECTS (2000), BENCH_ROUNDS (3), "
           "BENCH_STAGES (1; 0: no stages),\nSIMPKICTL (default: the "
           "build's tools/simpkictl/simpkictl; its stages\nbuild is "
           "SIMPKICTL_stages).\n");
    return 0;
  }
  char err[512];
  if (argc > 1 && !strcmp(argv[1], "--consume")) {
    /* The bare consumer (or, with --sha256, the floor) as a process of its
     * own: what it read on stdout for the bench. */
    const char *bootstrap = getenv("SIMPKI_KAFKA_BOOTSTRAP");
    int hashing = argc > 2 && !strcmp(argv[2], "--sha256");
    if (!bootstrap || !*bootstrap)
      die("--consume", "SIMPKI_KAFKA_BOOTSTRAP is not set");
    EVP_MD *sha256 = hashing ? EVP_MD_fetch(NULL, "SHA256", NULL) : NULL;
    if (hashing && !sha256)
      die("floor", "no SHA-256 in OpenSSL");
    long bytes;
    long n = bare_consume(bootstrap, &bytes, sha256);
    EVP_MD_free(sha256);
    printf("consumed %ld events, %ld bytes\n", n, bytes);
    return 0;
  }
  const char *bootstrap, *ctl_fifo, *ctl_env;
  long total, subjects, rounds, with_stages_env;
  if (sp_log_init("bench-audit", err, sizeof err) ||
      sp_config_str("SIMPKI_KAFKA_BOOTSTRAP", NULL, &bootstrap, err,
                    sizeof err) ||
      sp_config_str("SIMPKI_DEVBROKER_CTL", "", &ctl_fifo, err, sizeof err) ||
      sp_config_str("SIMPKICTL", "", &ctl_env, err, sizeof err) ||
      sp_config_long("BENCH_EVENTS", 0, 200000, 1000, 100000000, &total, err,
                     sizeof err) ||
      sp_config_long("BENCH_SUBJECTS", 0, 2000, 1, 1000000, &subjects, err,
                     sizeof err) ||
      sp_config_long("BENCH_ROUNDS", 0, 3, 1, 100, &rounds, err, sizeof err) ||
      sp_config_long("BENCH_STAGES", 0, 1, 0, 1, &with_stages_env, err,
                     sizeof err))
    die("configuration", err);
  if (!getenv("SIMPKI_LOG_LEVEL"))
    sp_log_set_level(SP_LOG_WARN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  srand((unsigned)getpid());

  ssize_t l = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
  if (l <= 0)
    die("bench_audit", "cannot find its own program");
  self_exe[l] = '\0';
  char ctl[PATH_MAX];
  if (*ctl_env)
    snprintf(ctl, sizeof ctl, "%s", ctl_env);
  else {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", self_exe);
    snprintf(ctl, sizeof ctl, "%s/../tools/simpkictl/simpkictl", dirname(dir));
  }
  if (access(ctl, X_OK))
    die(ctl, "not executable");
  /* The stages' build beside it; without one, no stages are measured. */
  char ctl_stages[PATH_MAX + 8];
  snprintf(ctl_stages, sizeof ctl_stages, "%s_stages", ctl);
  int with_stages = with_stages_env && !access(ctl_stages, X_OK);
  runner_start(ctl, ctl_stages);

  if (*ctl_fifo) {
    FILE *f = fopen(ctl_fifo, "w");
    if (!f || fprintf(f, "create %s %d\n", TOPIC, PARTITIONS) < 0 || fclose(f))
      die("devbroker control", ctl_fifo);
    usleep(500000);
  }

  double t = now_s();
  produce(bootstrap, total, subjects);
  double produce_s = now_s() - t;
  printf("produce      : %ld sealed events over %ld subjects in %.2f s\n",
         total, subjects, produce_s);

  /* Processor time beside wall time: on a shared machine the wall clock
   * also counts other programs; the processor time does not. */
  struct timing bare_best = timing_none, floor_best = timing_none,
                warm_best = timing_none, replay_best = timing_none;
  double stage_best[NSTAGES], stage_cpu[NSTAGES];
  for (size_t k = 0; k < NSTAGES; k++)
    stage_best[k] = stage_cpu[k] = 1e9;
  long bytes = 0, maxrss = 0;
  for (int round = 0; round < rounds; round++) {
    consume_round(RUN_BARE, total, round, &bytes, &bare_best);
    consume_round(RUN_FLOOR, total, round, &bytes, &floor_best);
    warm_round(bootstrap, total, round, &warm_best);
    double b0 = broker_cpu_s();
    struct run_res r = run(RUN_REPLAY, NULL, NULL);
    double b = b0 >= 0 ? broker_cpu_s() - b0 : -1;
    timing_add(&replay_best, r.wall, r.cpu, b);
    if (r.rc != 0) {
      fprintf(stderr,
              "bench_audit: audit replay: exit %d (not CLEAN); run it by "
              "hand: %s audit replay --topic %s\n",
              r.rc, ctl, TOPIC);
      exit(1);
    }
    if (r.maxrss_kb > maxrss)
      maxrss = r.maxrss_kb;
    printf("round %d replay: %.3f s = %.0f events/s, %.2f s processor, "
           "broker %.2f s, peak RSS %.1f MiB\n",
           round + 1, r.wall, total / r.wall, r.cpu, b, r.maxrss_kb / 1024.0);
    for (size_t k = 0; with_stages && k < NSTAGES; k++) {
      double s, c;
      stage_run(&stages[k], total, &s, &c);
      if (s < stage_best[k])
        stage_best[k] = s;
      if (c < stage_cpu[k])
        stage_cpu[k] = c;
    }
  }
  runner_stop();
  double bare_eps = total / bare_best.wall, floor_eps = total / floor_best.wall,
         warm_eps = total / warm_best.wall,
         replay_eps = total / replay_best.wall;
  printf("best of %ld rounds each, taken in turns; each a process of its "
         "own but the warm one\n",
         rounds);
  printf("bare consume : %.0f events/s (%.1f MB/s)\n", bare_eps,
         bytes / bare_best.wall / 1e6);
  printf("floor        : %.0f events/s, bare consume + SHA-256 of each "
         "payload: %.2f of the bare\n",
         floor_eps, floor_eps / bare_eps);
  printf("warm bare    : %.0f events/s, the bare consume in the bench's own "
         "process (a heap\n               grown before): %.2f of the bare; "
         "the replay reaches %.2f of it\n",
         warm_eps, warm_eps / bare_eps, replay_eps / warm_eps);
  printf("audit replay : %.0f events/s, peak RSS %.1f MiB; %.2f of the "
         "floor\n",
         replay_eps, maxrss / 1024.0, replay_eps / floor_eps);
  printf("processor    : bare %.2f us/event, floor %.2f, warm bare %.2f, "
         "replay %.2f\n",
         bare_best.cpu / total * 1e6, floor_best.cpu / total * 1e6,
         warm_best.cpu / total * 1e6, replay_best.cpu / total * 1e6);
  if (bare_best.broker < 1e9 && replay_best.broker < 1e9)
    printf("broker       : %.2f us/event serving the bare consume, %.2f "
           "serving the replay\n(the broker runs on the same processors)\n",
           bare_best.broker / total * 1e6, replay_best.broker / total * 1e6);
  if (with_stages) {
    /* What each step adds, against the bare consume: the ratio a replay
     * stopped there would reach. */
    printf("where the time goes (the replay stopped after each step, best "
           "of %ld):\n",
           rounds);
    for (size_t k = 0; k < NSTAGES; k++)
      printf("  %-22s: %.3f s, %.2f us/event processor, ratio %.2f\n",
             stages[k].what, stage_best[k], stage_cpu[k] / total * 1e6,
             bare_best.wall / stage_best[k]);
    printf("  %-22s: %.3f s, %.2f us/event processor, ratio %.2f\n",
           "whole replay", replay_best.wall, replay_best.cpu / total * 1e6,
           bare_best.wall / replay_best.wall);
  }
  char stage_kv[256] = "";
  for (size_t k = 0, at = 0; with_stages && k < NSTAGES; k++)
    at += (size_t)snprintf(stage_kv + at, sizeof stage_kv - at,
                           " stage_%s_ratio=%.2f", stages[k].name,
                           bare_best.wall / stage_best[k]);
  printf("RESULT name=audit ratio=%.2f events=%ld subjects=%ld "
         "replay_eps=%.0f bare_eps=%.0f floor_eps=%.0f floor_ratio=%.2f "
         "replay_over_floor=%.2f warm_eps=%.0f ratio_warm=%.2f "
         "replay_peak_rss_mib=%.1f "
         "bytes_per_event=%.0f bare_cpu_us=%.2f floor_cpu_us=%.2f "
         "warm_cpu_us=%.2f replay_cpu_us=%.2f broker_bare_cpu_us=%.2f "
         "broker_replay_cpu_us=%.2f nproc=%ld%s\n",
         replay_eps / bare_eps, total, subjects, replay_eps, bare_eps,
         floor_eps, floor_eps / bare_eps, replay_eps / floor_eps, warm_eps,
         replay_eps / warm_eps, maxrss / 1024.0, (double)bytes / (double)total,
         bare_best.cpu / total * 1e6, floor_best.cpu / total * 1e6,
         warm_best.cpu / total * 1e6, replay_best.cpu / total * 1e6,
         bare_best.broker < 1e9 ? bare_best.broker / total * 1e6 : -1.0,
         replay_best.broker < 1e9 ? replay_best.broker / total * 1e6 : -1.0,
         sysconf(_SC_NPROCESSORS_ONLN), stage_kv);
  return 0;
}
