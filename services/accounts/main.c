/* main.c - accounts: wires the consumer (sim.connected: a new account),
 * the HTTP API (login, recovery) and the outbox relay around account.c;
 * SMS through the notifier's Kannel channel. */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "clock.h"
#include "config.h"
#include "http_api.h"
#include "kafka.h"
#include "log.h"
#include "mail.h"
#include "outbox.h"
#include "service.h"
#include "sms.h"

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: accounts [--help]\n\n"
          "The signing accounts of mobile-PKI customers (VCSP). When a SIM\n"
          "PKI is connected (sim.connected on the topic sims) an account is\n"
          "created whose login is the phone number (84...), and a random\n"
          "password is sent by SMS; only a scrypt hash is kept. Logins are\n"
          "checked (failures slow down, the 5th locks for 15 minutes);\n"
          "a forgotten password is recovered with a captcha, the registered\n"
          "details and a 6-digit OTP by SMS (5 minutes, single use; a 4th\n"
          "request in a row locks recovery until `simpkictl account unlock`;\n"
          "hotline " AC_HOTLINE ").\n\n"
          "HTTP (SIMPKI_HTTP_ADDR:SIMPKI_HTTP_PORT, default 127.0.0.1:8087):\n"
          "  POST /v1/accounts/login, GET /v1/captcha,\n"
          "  POST /v1/accounts/recovery, POST /v1/accounts/recovery/verify,\n"
          "  GET /healthz, GET /metrics\n\n"
          "Environment: SIMPKI_DB_URL, SIMPKI_KAFKA_BOOTSTRAP,\n"
          "SIMPKI_KANNEL_URL, SIMPKI_KANNEL_USER, SIMPKI_KANNEL_PASSWORD_FILE\n"
          "(required); SIMPKI_KANNEL_FROM, SIMPKI_CLOCK_FILE (tests),\n"
          "SIMPKI_LOG_LEVEL (see README).\n");
}

static int send_sms(void *ctx, const char *to, const char *text, char *errstr,
                    size_t errlen) {
  int rc = nt_sms_send(ctx, to, text, errstr, errlen);
  return rc == NT_SENT ? 0 : rc == NT_RETRY ? 1 : -1;
}

static sp_handle_result on_event(PGconn *tx, const sp_event *ev, void *opaque,
                                 char *errstr, size_t errlen) {
  if (strcmp(ev->type, "sim.connected") != 0)
    return SP_HANDLE_OK;
  int rc = ac_create(tx, opaque, ev, errstr, errlen);
  return rc < 0 ? SP_HANDLE_RETRY : rc > 0 ? SP_HANDLE_REJECT : SP_HANDLE_OK;
}

int main(int argc, char **argv) {
  sp_service_env env;
  int code;
  if (sp_service_init("accounts", argc, argv, usage, 8087, &env, &code))
    return code;
  char err[1024] = "";
  /* Only the SMS channel: accounts send no e-mail. */
  nt_channels_conf ch = {.timeout_ms = NT_MAIL_TIMEOUT_MS};
  if (sp_config_str("SIMPKI_KANNEL_URL", SP_CONFIG_REQUIRED, &ch.kannel_url,
                    err, sizeof err) ||
      sp_config_str("SIMPKI_KANNEL_USER", SP_CONFIG_REQUIRED,
                    &ch.kannel_user, err, sizeof err) ||
      sp_config_str("SIMPKI_KANNEL_PASSWORD_FILE", SP_CONFIG_REQUIRED,
                    &ch.kannel_password_file, err, sizeof err) ||
      sp_config_str("SIMPKI_KANNEL_FROM", NT_KANNEL_FROM_DEFAULT,
                    &ch.kannel_from, err, sizeof err)) {
    sp_error("cannot start", "error", err);
    return 2;
  }
  /* Two SMS senders: one nt_sms is for one thread at a time. */
  nt_sms *sms_api = nt_sms_open(ch.kannel_url, ch.kannel_user,
                                ch.kannel_password_file, ch.kannel_from,
                                ch.timeout_ms, err, sizeof err);
  nt_sms *sms_consumer =
      sms_api ? nt_sms_open(ch.kannel_url, ch.kannel_user,
                            ch.kannel_password_file, ch.kannel_from,
                            ch.timeout_ms, err, sizeof err)
              : NULL;
  ac_captcha *captcha = sms_consumer ? ac_captcha_local_new(300, sp_clock_now)
                                     : NULL;
  if (!captcha) {
    sp_error("cannot start", "error", err[0] ? err : "no captcha");
    nt_sms_close(sms_api);
    nt_sms_close(sms_consumer);
    return 2;
  }
  ac_api api = {.ctx = {send_sms, sms_api}, .captcha = captcha};
  ac_ctx consumer_ctx = {send_sms, sms_consumer};
  pthread_mutex_init(&api.lock, NULL);
  sp_db *consumer_db = NULL;
  sp_relay *relay = NULL;
  sp_consumer *consumer = NULL;
  sp_http_server *http = NULL;
  int rc = 1;
  if (!(api.db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)) ||
      !(consumer_db = sp_db_open(env.db_url, env.db_wait_ms, err, sizeof err)))
    goto out;
  sp_relay_conf rconf = {.producer = AC_PRODUCER, .conninfo = env.db_url,
                         .bootstrap = env.bootstrap};
  if (!(relay = sp_relay_new(&rconf, err, sizeof err)) ||
      sp_relay_start(relay, err, sizeof err))
    goto out;
  const char *topics[] = {"sims", NULL};
  sp_consumer_conf cconf = {.bootstrap = env.bootstrap,
                            .group_id = "accounts",
                            .topics = topics,
                            .handler = on_event,
                            .opaque = &consumer_ctx};
  if (!(consumer = sp_consumer_new(&cconf, consumer_db, err, sizeof err)))
    goto out;
  sp_http_route routes[8];
  sp_http_conf hconf = {.bind_addr = env.http_addr,
                        .port = (int)env.http_port,
                        .routes = routes,
                        .nroutes = ac_api_routes(&api, routes, 8)};
  if (!(http = sp_http_start(&hconf, err, sizeof err)))
    goto out;
  char port[16];
  snprintf(port, sizeof port, "%d", sp_http_port(http));
  sp_info("accounts started", "http_port", port);
  rc = sp_consumer_run(consumer, NULL) == 0 ? 0 : 1;
  sp_info("accounts stopping");
out:
  if (rc && err[0])
    sp_error("accounts failed", "error", err);
  sp_http_stop(http);
  sp_consumer_destroy(consumer);
  sp_relay_destroy(relay);
  sp_db_close(consumer_db);
  sp_db_close(api.db);
  ac_captcha_close(captcha);
  nt_sms_close(sms_api);
  nt_sms_close(sms_consumer);
  pthread_mutex_destroy(&api.lock);
  return rc;
}
