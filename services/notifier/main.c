/* main.c - notifier: wires the consumer (dispatch.c), the A5 timer
 * (sla.c), the sender (sender.c) and the outbox relay. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "clock.h"
#include "config.h"
#include "dispatch.h"
#include "http.h"
#include "kafka.h"
#include "log.h"
#include "messages.h"
#include "outbox.h"
#include "sender.h"
#include "service.h"
#include "shutdown.h"
#include "sla.h"

#define DEFAULT_HOLIDAY_DIR SIMPKI_SOURCE_DIR "/data/holidays"

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: notifier [--help]\n\n"
          "Tells people what they must know, once per event, by e-mail\n"
          "(SMTP) and SMS (Kannel): BCYCP's contact when an order is\n"
          "accepted or refused; Ban KHDN the pilot results and the breached\n"
          "deadlines; Ban KHDN and Ban KHCN each batch's HLR report (B6); a\n"
          "CTKV the ranges handed to it (B7) and its cases coming due; the\n"
          "customer when the connection is done (B9). Messages are rendered\n"
          "from the templates in $SIMPKI_TEMPLATE_DIR, queued, sent and\n"
          "retried with backoff, and recorded (notification.sent / .failed).\n"
          "A5: every connection case has a deadline of 3 working days\n"
          "(data/holidays); a timer reminds at the start of the last working\n"
          "day and escalates when it passes (case.reminded, case.breached).\n\n"
          "HTTP: GET /healthz, GET /metrics on SIMPKI_HTTP_ADDR and\n"
          "SIMPKI_HTTP_PORT (default 8086).\n\n"
          "Environment: SIMPKI_DB_URL, SIMPKI_KAFKA_BOOTSTRAP,\n"
          "SIMPKI_SMTP_URL, SIMPKI_KANNEL_URL, SIMPKI_KANNEL_USER,\n"
          "SIMPKI_KANNEL_PASSWORD_FILE (required); SIMPKI_SMTP_FROM,\n"
          "SIMPKI_KANNEL_FROM, SIMPKI_TEMPLATE_DIR, SIMPKI_HOLIDAY_DIR,\n"
          "SIMPKI_NOTIFIER_RETRY_MAX_MS, SIMPKI_CLOCK_FILE (tests),\n"
          "SIMPKI_LOG_LEVEL (see README).\n");
}

typedef struct nt_service {
  sp_db *timer_db, *send_db;
  const nt_templates *templates;
  nt_sender_conf send;
} nt_service;

/* The A5 timer: sleeps until the next reminder or deadline (at most a
 * minute, so cases opened meanwhile are seen; 200 ms on a test clock). */
static void *timer(void *arg) {
  nt_service *s = arg;
  char err[512];
  while (!sp_shutdown_requested()) {
    time_t next = 0, now = sp_clock_now();
    if (nt_sla_tick(s->timer_db, s->templates, now, &next, err, sizeof err) <
        0)
      sp_warn("deadline timer failed; will try again", "error", err);
    long ms = 60000;
    if (next > now && (next - now) * 1000 < ms)
      ms = (long)(next - now) * 1000;
    if (sp_clock_is_fake() || ms < 200)
      ms = 200;
    if (sp_shutdown_sleep(ms, NULL))
      break;
  }
  return NULL;
}

static void *sender(void *arg) {
  nt_service *s = arg;
  char err[512];
  while (!sp_shutdown_requested()) {
    if (nt_send_due(s->send_db, &s->send, err, sizeof err) < 0)
      sp_warn("sending failed; will try again", "error", err);
    if (sp_shutdown_sleep(250, NULL))
      break;
  }
  return NULL;
}

int main(int argc, char **argv) {
  sp_service_env env;
  int code;
  if (sp_service_init("notifier", argc, argv, usage, 8086, &env, &code))
    return code;
  char err[1024] = "";
  const char *tdir, *hdir;
  nt_channels_conf ch;
  nt_service s = {0};
  nt_templates *templates = NULL;
  sp_cal *cal = NULL;
  if (sp_config_str("SIMPKI_TEMPLATE_DIR", NT_TEMPLATE_DIR_DEFAULT, &tdir, err,
                    sizeof err) ||
      sp_config_str("SIMPKI_HOLIDAY_DIR", DEFAULT_HOLIDAY_DIR, &hdir, err,
                    sizeof err) ||
      sp_config_long("SIMPKI_NOTIFIER_RETRY_MAX_MS", 0, 300000, 100,
                     86400000, &s.send.retry_max_ms, err, sizeof err) ||
      nt_channels_conf_load(&ch, err, sizeof err) ||
      nt_templates_load(tdir, nt_template_specs, nt_template_nspecs,
                        &templates, err, sizeof err) ||
      sp_cal_load_dir(hdir, &cal, err, sizeof err)) {
    sp_error("cannot start", "error", err);
    nt_templates_free(templates);
    return 2;
  }
  /* A year without holiday data would stop the deadlines at the first
   * case: say so now. */
  int first = 0, last = 0;
  struct tm tm;
  time_t now = sp_clock_now() + 7 * 3600;
  gmtime_r(&now, &tm);
  sp_cal_years(cal, &first, &last);
  if (tm.tm_year + 1900 < first || tm.tm_year + 1900 > last) {
    sp_error("cannot start", "error", "no holiday data for this year",
             "holiday_dir", hdir);
    nt_templates_free(templates);
    sp_cal_free(cal);
    return 2;
  }
  s.templates = templates;
  nt_dispatch d = {templates, cal};
  sp_db *db = NULL;
  sp_relay *relay = NULL;
  sp_consumer *consumer = NULL;
  sp_http_server *http = NULL;
  pthread_t timer_t_, sender_t;
  int timing = 0, sending = 0, rc = 1;
  if (!(s.send.mail = nt_mail_open(ch.smtp_url, ch.smtp_from,
                                   ch.smtp_from_name, ch.timeout_ms, err,
                                   sizeof err)) ||
      !(s.send.sms = nt_sms_open(ch.kannel_url, ch.kannel_user,
                                 ch.kannel_password_file, ch.kannel_from,
                                 ch.timeout_ms, err, sizeof err)))
    goto out;
  if (!(db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)) ||
      !(s.timer_db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)) ||
      !(s.send_db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)))
    goto out;
  sp_relay_conf rconf = {.producer = NT_PRODUCER, .conninfo = env.db_url,
                         .bootstrap = env.bootstrap};
  if (!(relay = sp_relay_new(&rconf, err, sizeof err)) ||
      sp_relay_start(relay, err, sizeof err))
    goto out;
  const char *topics[] = {"orders", "vendors", "batches", "registrations",
                          "sims", NULL};
  sp_consumer_conf cconf = {.bootstrap = env.bootstrap,
                            .group_id = "notifier",
                            .topics = topics,
                            .handler = nt_dispatch_event,
                            .opaque = &d};
  if (!(consumer = sp_consumer_new(&cconf, db, err, sizeof err)))
    goto out;
  sp_http_conf hconf = {.bind_addr = env.http_addr,
                        .port = (int)env.http_port};
  if (!(http = sp_http_start(&hconf, err, sizeof err)))
    goto out;
  if (pthread_create(&timer_t_, NULL, timer, &s) != 0)
    goto out;
  timing = 1;
  if (pthread_create(&sender_t, NULL, sender, &s) != 0)
    goto out;
  sending = 1;
  char port[16];
  snprintf(port, sizeof port, "%d", sp_http_port(http));
  sp_info("notifier started", "http_port", port, "templates", tdir,
          "holidays", hdir);
  rc = sp_consumer_run(consumer, NULL) == 0 ? 0 : 1;
  sp_info("notifier stopping");
out:
  if (rc && err[0])
    sp_error("notifier failed", "error", err);
  if (timing || sending)
    sp_shutdown_request();
  if (timing)
    pthread_join(timer_t_, NULL);
  if (sending)
    pthread_join(sender_t, NULL);
  sp_http_stop(http);
  sp_consumer_destroy(consumer);
  sp_relay_destroy(relay);
  sp_db_close(s.send_db);
  sp_db_close(s.timer_db);
  sp_db_close(db);
  nt_mail_close(s.send.mail);
  nt_sms_close(s.send.sms);
  nt_templates_free(templates);
  sp_cal_free(cal);
  return rc;
}
