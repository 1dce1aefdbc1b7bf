/* bench_relay - the outbox relay against a bare librdkafka producer.
 *
 * 1. writes N events to the outbox (1,000 per transaction) and times it;
 * 2. times the relay publishing them (sp_relay_drain);
 * 3. times a bare idempotent librdkafka producer sending the same messages
 *    (payload, key, content-type header) to another topic of the same
 *    broker (the reference);
 * 4. times the consumer loop applying them through the inbox.
 * Ends with: RESULT name=relay ratio=<relay/bare> key=value... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "kafka.h"
#include "log.h"
#include "outbox.h"

#define PRODUCER "bench-relay"
#define ROUNDS 3

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noreturn)) static void die(const char *what, const char *err) {
  fprintf(stderr, "bench_relay: %s: %s\n", what, err);
  exit(1);
}

typedef struct {
  long from, count;
} write_job;

static int write_events(PGconn *c, void *arg, char *errstr, size_t errlen) {
  write_job *j = arg;
  for (long n = j->from; n < j->from + j->count; n++) {
    char subject[32];
    snprintf(subject, sizeof subject, "tick/%03ld", (n + 500) % 500);
    sp_event ev;
    if (sp_event_init(&ev, "/simpki/bench", "test.bench.tick", subject, NULL,
                      "order/BENCH", json_pack("{s:I}", "n", (json_int_t)(n < 0 ? 0 : n)),
                      errstr, errlen))
      return SP_DB_REJECT;
    int rc = sp_outbox_emit(c, PRODUCER, "bench.relay", &ev, errstr, errlen);
    sp_event_clear(&ev);
    if (rc)
      return SP_DB_ERROR;
  }
  return SP_DB_OK;
}

static long delivered, failed;
static void bare_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *o) {
  (void)rk;
  (void)o;
  if (m->err)
    failed++;
  else
    delivered++;
}

static long applied;
static sp_handle_result count_apply(PGconn *tx, const sp_event *ev, void *o,
                                    char *errstr, size_t errlen) {
  (void)tx, (void)ev, (void)o, (void)errstr, (void)errlen;
  applied++;
  return SP_HANDLE_OK;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--help")) {
    printf("usage: bench_relay   (run it through bench/run relay)\n"
           "Environment: SIMPKI_DB_URL, SIMPKI_KAFKA_BOOTSTRAP, BENCH_EVENTS "
           "(100000).\n");
    return 0;
  }
  char err[512];
  const char *url, *bootstrap;
  long total;
  if (sp_log_init("bench-relay", err, sizeof err) ||
      sp_config_str("SIMPKI_DB_URL", NULL, &url, err, sizeof err) ||
      sp_config_str("SIMPKI_KAFKA_BOOTSTRAP", NULL, &bootstrap, err, sizeof err) ||
      sp_config_long("BENCH_EVENTS", 0, 100000, 1000, 100000000, &total, err,
                     sizeof err))
    die("configuration", err);
  if (!getenv("SIMPKI_LOG_LEVEL")) sp_log_set_level(SP_LOG_WARN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  sp_db *db = sp_db_open(url, 30000, err, sizeof err);
  if (!db)
    die("database", err);

  /* A relay runs for months: warm it (producer id, topic metadata) with one
   * event before timing, as the bare producer is warmed below. */
  sp_relay_conf rc = {.producer = PRODUCER, .conninfo = url,
                      .bootstrap = bootstrap};
  sp_relay *relay = sp_relay_new(&rc, err, sizeof err);
  if (!relay)
    die("relay", err);
  write_job warm = {-1, 1};
  long published = 0;
  if (sp_db_tx(db, write_events, &warm, err, sizeof err) != SP_DB_OK ||
      sp_relay_drain(relay, &published, err, sizeof err) || published != 1)
    die("relay warm-up", err);

  double t = now_s();
  for (long from = 0; from < total; from += 1000) {
    write_job j = {from, total - from < 1000 ? total - from : 1000};
    if (sp_db_tx(db, write_events, &j, err, sizeof err) != SP_DB_OK)
      die("outbox write", err);
  }
  double write_s = now_s() - t;
  printf("outbox write : %ld events in %.2f s = %.0f events/s\n", total,
         write_s, total / write_s);

  /* Each relay round rewinds the cursor to just after the warm-up event. */
  PGresult *warm_pos = sp_db_query(
      sp_db_conn(db), "SELECT last_xid::text, last_seq FROM outbox_cursor "
                      "WHERE producer = $1",
      1, (const char *[]){PRODUCER}, err, sizeof err);
  if (!warm_pos || PQntuples(warm_pos) != 1)
    die("relay cursor", err);
  /* The reference: the same payloads and keys, straight to the broker. */
  PGresult *res = sp_db_query(sp_db_conn(db),
                              "SELECT partition_key, payload FROM outbox "
                              "WHERE producer = $1 ORDER BY seq OFFSET 1",
                              1, (const char *[]){PRODUCER}, err, sizeof err);
  if (!res)
    die("read payloads", err);
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  char kerr[256];
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, kerr, sizeof kerr) ||
      rd_kafka_conf_set(conf, "enable.idempotence", "true", kerr, sizeof kerr) ||
      rd_kafka_conf_set(conf, "linger.ms", "5", kerr, sizeof kerr))
    die("bare producer", kerr);
  rd_kafka_conf_set_dr_msg_cb(conf, bare_dr);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof kerr);
  if (!rk)
    die("bare producer", kerr);
  rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("bench.raw"), RD_KAFKA_V_KEY("warm", 4),
                    RD_KAFKA_V_VALUE("{}", 2), RD_KAFKA_V_END);
  rd_kafka_flush(rk, 30000);
  if (delivered != 1)
    die("bare producer", "warm-up message not delivered");
  /* Best of ROUNDS for both sides, taken in turns: the machine is shared
   * and noisy, and a slow spell then weighs on both alike. */
  double relay_s = 1e9, bare_s = 1e9;
  for (int round = 0; round < ROUNDS; round++) {
    const char *rp[] = {PRODUCER, PQgetvalue(warm_pos, 0, 0),
                        PQgetvalue(warm_pos, 0, 1)};
    if (sp_db_exec(sp_db_conn(db),
                   "UPDATE outbox_cursor SET last_xid = $2::xid8, last_seq = "
                   "$3::bigint WHERE producer = $1",
                   3, rp, err, sizeof err) != 1)
      die("relay rewind", err);
    t = now_s();
    if (sp_relay_drain(relay, &published, err, sizeof err) ||
        published != total)
      die("relay drain", err[0] ? err : "not everything was published");
    double s = now_s() - t;
    printf("relay        : %ld events in %.2f s = %.0f events/s\n", published,
           s, total / s);
    relay_s = s < relay_s ? s : relay_s;

    delivered = 0;
    t = now_s();
    for (int i = 0; i < PQntuples(res); i++) {
      const char *key = PQgetvalue(res, i, 0);
      while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("bench.raw"),
                               RD_KAFKA_V_KEY(key, strlen(key)),
                               RD_KAFKA_V_VALUE(PQgetvalue(res, i, 1),
                                                (size_t)PQgetlength(res, i, 1)),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_HEADER("content-type",
                                                 SP_EVENT_CONTENT_TYPE, -1),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 10);
      rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 60000);
    s = now_s() - t;
    if (delivered != total)
      die("bare producer", "not every message was delivered");
    printf("bare producer: %ld events in %.2f s = %.0f events/s\n", delivered,
           s, total / s);
    bare_s = s < bare_s ? s : bare_s;
  }
  PQclear(warm_pos);
  sp_relay_destroy(relay);
  rd_kafka_destroy(rk);
  PQclear(res);

  const char *topics[] = {"bench.relay", NULL};
  sp_consumer_conf cc = {.bootstrap = bootstrap, .group_id = "bench-inbox",
                         .topics = topics, .handler = count_apply};
  sp_consumer *c = sp_consumer_new(&cc, db, err, sizeof err);
  if (!c)
    die("consumer", err);
  /* Start the clock at the first event, not at the group join. A minute
   * without progress means events were lost (e.g. the dev broker dropped
   * them): fail rather than wait forever. */
  double last_progress = now_s();
  long seen = 0;
  while (applied < total + 1) {
    if (applied == 0)
      t = now_s();
    if (sp_consumer_poll_once(c, 1000) < 0)
      die("consumer", "fatal error");
    if (applied != seen) {
      seen = applied;
      last_progress = now_s();
    } else if (now_s() - last_progress > 60) {
      die("consumer", "no event applied for 60 s; events are missing");
    }
  }
  long first = 1;
  double apply_s = now_s() - t;
  sp_consumer_destroy(c);
  sp_db_close(db);
  printf("inbox apply  : %ld events in %.2f s = %.0f events/s\n",
         applied - first, apply_s, (applied - first) / apply_s);

  double relay_eps = total / relay_s, bare_eps = total / bare_s;
  printf("best of %d rounds each\n", ROUNDS);
  printf("RESULT name=relay ratio=%.2f events=%ld relay_eps=%.0f "
         "bare_producer_eps=%.0f outbox_write_eps=%.0f inbox_apply_eps=%.0f\n",
         relay_eps / bare_eps, total, relay_eps, bare_eps, total / write_s,
         (applied - first) / apply_s);
  return 0;
}
