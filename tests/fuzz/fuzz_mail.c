/* fuzz_mail - the notifier's e-mail where outside text meets it: a
 * message built from a recipient, a name, a subject and a body that come
 * from outside (BCYCP's contact in an order, names from the notices, all
 * through the templates: nt_mail_build), and the SMTP server's reply lines
 * kept for errors (nt_smtp_reply_keep).
 *
 * Input: the first byte picks the part. Odd: the recipient's address, the
 * name, the subject, each ending at a newline, then the body. Even: one
 * reply as the server sent it.
 *
 * Invariants: a built message has a header of printable ASCII lines (no
 * lone CR or LF: no header injection) of at most 998 characters, each
 * header named once, continuation lines starting with a blank; the To
 * header decodes back to the name and the address, the Subject to the
 * subject, the base64 body to the body (line ends made CRLF). A refusal
 * gives a reason without control characters. A kept reply is a 4xx or 5xx
 * line, printable ASCII, at most NT_SMTP_REPLY_MAX bytes. */
#include <openssl/evp.h>

#include "fuzz.h"
#include "mail.h"

#define FROM "simpki@mobifone.vn"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

static void reason_ok(const char *err, size_t cap) {
  FZ_CHECK(fz_errstr_ok(err, cap), "no reason");
  for (const char *p = err; *p; p++)
    FZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f,
             "a control character in the reason");
}

/* Base64 text (no blanks) decoded, appended to out; 0, or -1. */
static int unb64(const char *s, size_t n, char *out, size_t *olen) {
  if (n % 4)
    return -1;
  unsigned char *tmp = malloc(n / 4 * 3 + 1);
  FZ_CHECK(tmp, "out of memory");
  int w = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
  if (w < 0) {
    free(tmp);
    return -1;
  }
  size_t k = (size_t)w;
  for (size_t pad = n; pad > 0 && s[pad - 1] == '='; pad--)
    k--; /* EVP_DecodeBlock counts padding as zero bytes */
  memcpy(out + *olen, tmp, k);
  *olen += k;
  free(tmp);
  return 0;
}

/* A header's value (after "Name:"), unfolded and decoded: encoded-words
 * joined and what follows them kept as is (*words set), or plain text less
 * its first blank. malloc'd. */
static char *decode_value(const char *v, size_t n, int *words) {
  char *flat = malloc(n + 1), *out = malloc(n + 1);
  FZ_CHECK(flat && out, "out of memory");
  size_t f = 0, o = 0;
  for (size_t i = 0; i < n; i++)
    if (v[i] != '\r' && v[i] != '\n')
      flat[f++] = v[i];
  flat[f] = '\0';
  *words = !strncmp(flat, " =?UTF-8?B?", 11);
  if (*words) {
    const char *p = flat;
    while (!strncmp(p, " =?UTF-8?B?", 11)) {
      p += 11;
      const char *end = strstr(p, "?=");
      FZ_CHECK(end, flat);
      FZ_CHECK(unb64(p, (size_t)(end - p), out, &o) == 0, "bad word");
      p = end + 2;
    }
    memcpy(out + o, p, strlen(p));
    o += strlen(p);
  } else {
    FZ_CHECK(flat[0] == ' ', flat);
    memcpy(out, flat + 1, f - 1);
    o = f - 1;
  }
  out[o] = '\0';
  free(flat);
  return out;
}

/* A quoted string at s, unescaped (malloc'd); *rest after its quote. */
static char *unquote(const char *s, const char **rest) {
  FZ_CHECK(s[0] == '"', s);
  char *out = malloc(strlen(s) + 1), *o = out;
  FZ_CHECK(out, "out of memory");
  const char *p = s + 1;
  for (; *p && *p != '"'; p++) {
    if (*p == '\\')
      p++;
    *o++ = *p;
  }
  FZ_CHECK(*p == '"', s);
  *o = '\0';
  *rest = p + 1;
  return out;
}

static void check_message(const char *msg, size_t len, const char *to,
                          const char *name, const char *subject,
                          const char *body) {
  FZ_CHECK(strlen(msg) == len, "length");
  for (size_t i = 0; i < len; i++) {
    if (msg[i] == '\r')
      FZ_CHECK(msg[i + 1] == '\n', "a lone CR");
    if (msg[i] == '\n')
      FZ_CHECK(i > 0 && msg[i - 1] == '\r', "a lone LF");
  }
  const char *end = strstr(msg, "\r\n\r\n");
  FZ_CHECK(end, "no end of header");
  static const char *const names[] = {"Date:",
                                      "From:",
                                      "To:",
                                      "Subject:",
                                      "Message-ID:",
                                      "MIME-Version:",
                                      "Content-Type:",
                                      "Content-Transfer-Encoding:",
                                      "Auto-Submitted:"};
  int seen[9] = {0};
  const char *to_v = NULL, *subj_v = NULL, *to_end = NULL, *subj_end = NULL;
  int cur = -1;
  for (const char *l = msg; l < end + 2;) {
    const char *e = strstr(l, "\r\n");
    FZ_CHECK(e - l <= 998, "a header line over 998 characters");
    for (const char *p = l; p < e; p++)
      FZ_CHECK(*p >= 0x20 && *p < 0x7f, "a header byte not printable ASCII");
    if (*l == ' ' || *l == '\t') {
      FZ_CHECK(cur >= 0, "a continuation first");
    } else {
      cur = -1;
      for (int i = 0; i < 9; i++)
        if (!strncmp(l, names[i], strlen(names[i])))
          cur = i;
      FZ_CHECK(cur >= 0, "an unknown header");
      FZ_CHECK(!seen[cur]++, "a header twice");
      if (cur == 2)
        to_v = l + 3;
      if (cur == 3)
        subj_v = l + 8;
    }
    if (cur == 2)
      to_end = e;
    if (cur == 3)
      subj_end = e;
    l = e + 2;
  }
  for (int i = 0; i < 9; i++)
    FZ_CHECK(seen[i] == 1, names[i]);

  int words;
  char *s = decode_value(subj_v, (size_t)(subj_end - subj_v), &words);
  FZ_CHECK(!strcmp(s, subject), "the subject changed");
  free(s);
  char *tv = decode_value(to_v, (size_t)(to_end - to_v), &words);
  char *addr = malloc(strlen(to) + 4);
  FZ_CHECK(addr, "out of memory");
  sprintf(addr, " <%s>", to);
  if (!name || !*name) {
    FZ_CHECK(!strcmp(tv, to), "the address changed");
  } else if (words) {
    size_t nl = strlen(name);
    FZ_CHECK(!strncmp(tv, name, nl) && !strcmp(tv + nl, addr),
             "the name or the address changed");
  } else {
    const char *rest;
    char *q = unquote(tv, &rest);
    FZ_CHECK(!strcmp(q, name), "the name changed");
    FZ_CHECK(!strcmp(rest, addr), "the address changed");
    free(q);
  }
  free(addr);
  free(tv);

  /* The body: base64 lines, decoding to the body with CRLF line ends. */
  char *want = malloc(2 * strlen(body) + 1), *got = malloc(len + 1);
  FZ_CHECK(want && got, "out of memory");
  size_t w = 0, g = 0;
  for (const char *p = body; *p; p++) {
    if (*p == '\r' || *p == '\n') {
      want[w++] = '\r', want[w++] = '\n';
      if (*p == '\r' && p[1] == '\n')
        p++;
    } else {
      want[w++] = *p;
    }
  }
  for (const char *l = end + 4; *l;) {
    const char *e = strstr(l, "\r\n");
    FZ_CHECK(e && e - l <= 76, "a body line");
    FZ_CHECK(unb64(l, (size_t)(e - l), got, &g) == 0, "a body line");
    l = e + 2;
  }
  FZ_CHECK(g == w && !memcmp(got, want, w), "the body changed");
  free(want);
  free(got);
}

static void build(const uint8_t *data, size_t size) {
  char *in = fz_cstr(data, size);
  char *f[3] = {NULL, NULL, NULL}, *p = in;
  for (int i = 0; i < 3; i++) {
    char *nl = strchr(p, '\n');
    f[i] = p;
    if (!nl) {
      p += strlen(p);
      continue;
    }
    *nl = '\0';
    p = nl + 1;
  }
  const char *to = f[0], *name = f[1] ? f[1] : "", *subject = f[2] ? f[2] : "";
  const char *body = p;
  nt_mail_msg m = {FROM, "MobiFone SIM PKI",     to,        name, subject,
                   body, "evt-1/order_accepted", 1764061200};
  char *msg = NULL, err[512];
  size_t len = 0;
  memset(err, 'U', sizeof err);
  if (nt_mail_build(&m, &msg, &len, err, sizeof err)) {
    FZ_CHECK(msg == NULL, "a message on refusal");
    reason_ok(err, sizeof err);
  } else {
    check_message(msg, len, to, name, subject, body);
    free(msg);
  }
  free(in);
}

static void reply(const uint8_t *data, size_t size) {
  char *in = malloc(size ? size : 1); /* exactly size bytes */
  FZ_CHECK(in, "out of memory");
  memcpy(in, data, size);
  char r[NT_SMTP_REPLY_MAX + 1];
  memset(r, 'U', sizeof r);
  int kept = nt_smtp_reply_keep(in, size, r);
  int want = size >= 3 && (in[0] == '4' || in[0] == '5');
  FZ_CHECK(kept == want, "kept");
  if (!kept) {
    for (size_t i = 0; i < sizeof r; i++)
      FZ_CHECK(r[i] == 'U', "reply written");
  } else {
    size_t n = strlen(r);
    FZ_CHECK(n >= 1 && n <= NT_SMTP_REPLY_MAX, "reply length");
    for (size_t i = 0; i < n; i++) {
      FZ_CHECK(r[i] >= 0x20 && r[i] < 0x7f, "reply not printable ASCII");
      FZ_CHECK(r[i] == in[i] || r[i] == '?', "reply not the line");
    }
    FZ_CHECK(n == NT_SMTP_REPLY_MAX || n == size || in[n] == '\r' ||
                 in[n] == '\n',
             "reply cut short");
  }
  free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  if (data[0] % 2)
    build(data + 1, size - 1);
  else
    reply(data + 1, size - 1);
  return 0;
}
