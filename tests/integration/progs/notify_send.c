/* notify_send - send one message through the notifier's channels, for
 * tests/integration/test_notifier_channels.sh.
 *
 *   notify_send mail --to ADDR [--name NAME] --subject S --body B --seed X
 *   notify_send sms --to 84... --text T
 *   notify_send render KIND [KEY=VALUE...]     (prints subject, blank, body)
 *
 * The channels come from the environment (nt_channels_conf_load:
 * SIMPKI_SMTP_URL, SIMPKI_KANNEL_URL ...); --timeout-ms N replaces the default
 * bound of one send; --password-file F replaces SIMPKI_KANNEL_PASSWORD_FILE.
 * Templates come from SIMPKI_SOURCE_DIR/data/templates/notifier.
 *
 * Exit status: 0 sent, 1 retryable (NT_RETRY), 2 refused for good
 * (NT_FAILED), 64 usage or configuration error. The reason of a failure
 * goes to stderr; on success the elapsed time in ms goes to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail.h"
#include "sms.h"
#include "template.h"

static int usage(void) {
  fprintf(stderr,
          "usage: notify_send mail --to ADDR [--name NAME] --subject S "
          "--body B --seed X [--timeout-ms N]\n"
          "       notify_send sms --to 84... --text T [--timeout-ms N] "
          "[--password-file F]\n"
          "       notify_send render KIND [KEY=VALUE...]\n");
  return 64;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int render(int argc, char **argv) {
  char err[1024];
  const char *src = getenv("SIMPKI_SOURCE_DIR");
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/data/templates/notifier",
           src ? src : SIMPKI_SOURCE_DIR);
  nt_templates *t;
  if (nt_templates_load(dir, nt_template_specs, nt_template_nspecs, &t, err,
                        sizeof err) != 0) {
    fprintf(stderr, "notify_send: %s\n", err);
    return 64;
  }
  const char *keys[32], *vals[32];
  size_t n = 0;
  for (int i = 3; i < argc && n < 32; i++, n++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) {
      nt_templates_free(t);
      return usage();
    }
    *eq = '\0';
    keys[n] = argv[i];
    vals[n] = eq + 1;
  }
  char *subject = NULL, *body = NULL;
  int rc = nt_template_render(t, argv[2], keys, vals, n, &subject, &body, err,
                              sizeof err);
  nt_templates_free(t);
  if (rc != 0) {
    fprintf(stderr, "notify_send: %s\n", err);
    return 2;
  }
  printf("%s\n\n%s\n", subject ? subject : "", body);
  free(subject);
  free(body);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return usage();
  if (!strcmp(argv[1], "render"))
    return argc >= 3 ? render(argc, argv) : usage();
  const char *to = NULL, *name = NULL, *subject = NULL, *body = NULL,
             *seed = NULL, *text = NULL, *pwfile = NULL;
  long timeout = 0;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v)
      return usage();
    if (!strcmp(a, "--to"))
      to = v;
    else if (!strcmp(a, "--name"))
      name = v;
    else if (!strcmp(a, "--subject"))
      subject = v;
    else if (!strcmp(a, "--body"))
      body = v;
    else if (!strcmp(a, "--seed"))
      seed = v;
    else if (!strcmp(a, "--text"))
      text = v;
    else if (!strcmp(a, "--password-file"))
      pwfile = v;
    else if (!strcmp(a, "--timeout-ms"))
      timeout = atol(v);
    else
      return usage();
    i++;
  }
  char err[1024] = "";
  nt_channels_conf c;
  if (nt_channels_conf_load(&c, err, sizeof err) != 0) {
    fprintf(stderr, "notify_send: %s\n", err);
    return 64;
  }
  if (timeout > 0)
    c.timeout_ms = timeout;
  if (pwfile)
    c.kannel_password_file = pwfile;
  int rc;
  long long t0 = now_ms();
  if (!strcmp(argv[1], "mail")) {
    if (!to || !subject || !body || !seed)
      return usage();
    nt_mail *m = nt_mail_open(c.smtp_url, c.smtp_from, c.smtp_from_name,
                              c.timeout_ms, err, sizeof err);
    if (!m) {
      fprintf(stderr, "notify_send: %s\n", err);
      return 64;
    }
    t0 = now_ms();
    rc = nt_mail_send(m, to, name, subject, body, seed, err, sizeof err);
    nt_mail_close(m);
  } else if (!strcmp(argv[1], "sms")) {
    if (!to || !text)
      return usage();
    nt_sms *s = nt_sms_open(c.kannel_url, c.kannel_user, c.kannel_password_file,
                            c.kannel_from, c.timeout_ms, err, sizeof err);
    if (!s) {
      fprintf(stderr, "notify_send: %s\n", err);
      return 64;
    }
    t0 = now_ms();
    rc = nt_sms_send(s, to, text, err, sizeof err);
    nt_sms_close(s);
  } else {
    return usage();
  }
  long long ms = now_ms() - t0;
  if (rc != NT_SENT)
    fprintf(stderr, "notify_send: %s: %s\n",
            rc == NT_RETRY ? "retryable" : "failed", err);
  printf("%lld\n", ms);
  return rc == NT_SENT ? 0 : rc == NT_RETRY ? 1 : 2;
}
