/* kafka_reader.c - the read-only consumer of events dump and watch. */
#include "kafka_reader.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "config.h"
#include "kafka.h"
#include "log.h"

long sp_reader_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* librdkafka logs to stderr in its own format; keep stderr JSON. */
static void json_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                        const char *buf) {
  (void)rk;
  sp_log(level <= 3   ? SP_LOG_ERROR
         : level <= 4 ? SP_LOG_WARN
                      : SP_LOG_DEBUG,
         "kafka", "facility", fac, "message", buf, (const char *)NULL);
}

rd_kafka_t *sp_reader_new(const char *bootstrap, const char *purpose,
                          const sp_reader_hooks *hooks, char *errstr,
                          size_t errlen) {
  unsigned char rnd[8] = {0};
  if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
    unsigned long t =
        (unsigned long)time(NULL) ^ (unsigned long)sp_reader_now_ms();
    memcpy(rnd, &t, sizeof(t) < sizeof(rnd) ? sizeof(t) : sizeof(rnd));
  }
  char group[96];
  int n = snprintf(group, sizeof(group), "simpkictl-%.32s-", purpose);
  for (size_t i = 0; i < sizeof(rnd); i++)
    n += snprintf(group + n, sizeof(group) - (size_t)n, "%02x", rnd[i]);

  /* SIMPKI_KAFKA_CONFIG first (security settings), so the settings that
   * keep the reader read-only below always win. */
  const char *extra = NULL;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (sp_config_str("SIMPKI_KAFKA_CONFIG", "", &extra, errstr, errlen) ||
      sp_kafka_conf_apply(conf, extra, errstr, errlen)) {
    rd_kafka_conf_destroy(conf);
    return NULL;
  }
  const char *kv[][2] = {
      {"bootstrap.servers", bootstrap},  {"group.id", group},
      {"enable.auto.commit", "false"},   {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"}, {"client.id", "simpkictl"}};
  for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
    if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], errstr, errlen) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return NULL;
    }
  }
  rd_kafka_conf_set_log_cb(conf, hooks && hooks->log_cb ? hooks->log_cb
                                                        : json_log_cb);
  if (hooks && hooks->error_cb)
    rd_kafka_conf_set_error_cb(conf, hooks->error_cb);
  if (hooks)
    rd_kafka_conf_set_opaque(conf, hooks->opaque);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errlen);
  if (!rk)
    rd_kafka_conf_destroy(conf);
  return rk;
}
