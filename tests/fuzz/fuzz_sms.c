/* fuzz_sms - the notifier's SMS channel where outside bytes meet it: what
 * Kannel (or a proxy in front of it) answers a sendsms request
 * (nt_sms_parse_reply, nt_sms_redact), and the request built from a
 * number and a text that come from outside (a contact's phone, a person's
 * name in a template: nt_sms_build_url).
 *
 * Input: the first byte picks the part. Even: two bytes of HTTP status,
 * then the password up to a newline (the default one when it is not 6 to
 * 64 printable ASCII characters without '*' and '?'), then the reply. Odd:
 * the number, a newline, the text.
 *
 * Invariants: a reply is sent exactly when the status is 2xx and the
 * trimmed body starts "0:" or "3:", to be retried exactly on 502, 503 and
 * 504; otherwise the reason is printable ASCII and holds the password
 * neither as is nor percent-encoded. A built URL is the base and seven
 * parameters of unreserved characters and %XX, the number canonical, the
 * text decoding back to itself; a refusal never quotes the password (only
 * a refused number, which the caller gave). */
#include "fuzz.h"
#include "phone.h"
#include "sms.h"

#define BASE "http://127.0.0.1:13013/cgi-bin/sendsms"
#define DEFAULT_PW "Kannel-pw-2026"
#define URL_PW "p@ss w/rd%&=+"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

/* s percent-encoded, every byte but RFC 3986's unreserved, upper or lower
 * case hex. */
static void encode(const char *s, int lower, char *out) {
  const char *hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
  for (; *s; s++) {
    *out++ = '%';
    *out++ = hex[(unsigned char)*s >> 4];
    *out++ = hex[*s & 15];
  }
  *out = '\0';
}

static void reply(const uint8_t *data, size_t size) {
  if (size < 2)
    return;
  long status = 100 + (long)((data[0] << 8 | data[1]) % 500);
  data += 2, size -= 2;
  char pw[65] = DEFAULT_PW;
  const uint8_t *nl = memchr(data, '\n', size);
  if (nl) {
    size_t n = (size_t)(nl - data);
    int ok = n >= 6 && n < sizeof pw;
    for (size_t i = 0; ok && i < n; i++)
      ok = data[i] > 0x20 && data[i] < 0x7f && data[i] != '*' && data[i] != '?';
    if (ok) {
      memcpy(pw, data, n);
      pw[n] = '\0';
    }
    size -= n + 1;
    data = nl + 1;
  }
  /* Exactly size bytes, not NUL-terminated, as curl gives them. */
  char *body = malloc(size ? size : 1);
  FZ_CHECK(body, "out of memory");
  memcpy(body, data, size);
  char err[512];
  memset(err, 'U', sizeof err);
  int rc = nt_sms_parse_reply(status, body, size, pw, err, sizeof err);
  size_t n = size;
  while (n &&
         (body[n - 1] == '\n' || body[n - 1] == '\r' || body[n - 1] == ' '))
    n--;
  int sent = status >= 200 && status <= 299 && n >= 2 &&
             (!memcmp(body, "0:", 2) || !memcmp(body, "3:", 2));
  FZ_CHECK(rc == (sent ? NT_SENT
                  : status == 502 || status == 503 || status == 504
                      ? NT_RETRY
                      : NT_FAILED),
           "verdict");
  if (!sent) {
    FZ_CHECK(fz_errstr_ok(err, sizeof err), "no reason");
    for (const char *p = err; *p; p++)
      FZ_CHECK(*p >= 0x20 && *p < 0x7f, "reason not printable ASCII");
    /* The fixed words before the reply's text may hold a short password's
     * letters; the text after "): " may not hold the password. */
    const char *text = strstr(err, "): ");
    FZ_CHECK(text, err);
    char enc[3 * sizeof pw];
    FZ_CHECK(!strstr(text, pw), "password in the reason");
    encode(pw, 0, enc);
    FZ_CHECK(!strstr(text, enc), "encoded password in the reason");
    encode(pw, 1, enc);
    FZ_CHECK(!strstr(text, enc), "encoded password in the reason");
  }
  free(body);
}

static int hexval(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* The value of parameter key in url's query, decoded (malloc'd). */
static char *param(const char *url, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "&%s=", key);
  const char *q = strchr(url, '?');
  FZ_CHECK(q, "no query");
  const char *p = !strncmp(q + 1, key, strlen(key)) && q[1 + strlen(key)] == '='
                      ? q + 2 + strlen(key)
                      : strstr(url, pat);
  FZ_CHECK(p, key);
  if (*p == '&')
    p += strlen(pat);
  char *out = malloc(strlen(p) + 1), *o = out;
  FZ_CHECK(out, "out of memory");
  for (; *p && *p != '&'; p++) {
    if (*p == '%') {
      int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);
      FZ_CHECK(h >= 0 && l >= 0, "bad %XX");
      *o++ = (char)(h << 4 | l);
      p += 2;
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
  return out;
}

static void url(const uint8_t *data, size_t size) {
  char *in = fz_cstr(data, size);
  char *nl = strchr(in, '\n');
  const char *to = in, *text = nl ? nl + 1 : "";
  if (nl)
    *nl = '\0';
  char *u = NULL, err[512];
  memset(err, 'U', sizeof err);
  if (nt_sms_build_url(BASE, "simpki", URL_PW, "MobiFone", to, text, &u, err,
                       sizeof err)) {
    FZ_CHECK(u == NULL, "a URL on refusal");
    FZ_CHECK(fz_errstr_ok(err, sizeof err), "no reason");
    /* The number is quoted when it is refused: only there may the
     * password's text be, when the caller put it there. */
    FZ_CHECK(!strstr(err, URL_PW) || strstr(to, URL_PW),
             "password in the reason");
    free(in);
    return;
  }
  FZ_CHECK(!strncmp(u, BASE "?", strlen(BASE) + 1), u);
  for (const char *p = u + strlen(BASE) + 1; *p; p++)
    FZ_CHECK((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                 (*p >= '0' && *p <= '9') || strchr("-._~%&=", *p),
             "a character outside the query's alphabet");
  char *t = param(u, "text"), *m = param(u, "to"), *p = param(u, "password");
  FZ_CHECK(!strcmp(t, text), "text changed on the way");
  FZ_CHECK(fz_phone_canonical(m), m);
  FZ_CHECK(!strcmp(p, URL_PW), "password changed on the way");
  free(t);
  free(m);
  free(p);
  nt_sms_url_free(u);
  free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  if (data[0] % 2 == 0)
    reply(data + 1, size - 1);
  else
    url(data + 1, size - 1);
  return 0;
}
