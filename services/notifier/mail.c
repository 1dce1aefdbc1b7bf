/* mail.c - building a MIME message (pure) and sending it with libcurl. */
#include "mail.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sms.h"
#include "template.h"

#define LINE_MAX_COLS 76 /* aimed at; RFC 5322 asks for 78 at most */
#define REPLY_MAX NT_SMTP_REPLY_MAX /* server reply text kept for an error */

/* ---- a growing string -------------------------------------------------- */

typedef struct buf {
  char *p;
  size_t len, cap;
  int oom;
} buf;

static void add(buf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) {
      b->oom = 1;
      return;
    }
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void adds(buf *b, const char *s) { add(b, s, strlen(s)); }

/* ---- checks ------------------------------------------------------------ */

static int is_atext(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static int printable_ascii(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E)
      return 0;
  return 1;
}

int nt_mail_addr_valid(const char *addr, char *errstr, size_t errlen) {
  if (!addr || !*addr) {
    snprintf(errstr, errlen, "the e-mail address is empty");
    return 0;
  }
  size_t len = strlen(addr);
  if (!printable_ascii(addr)) {
    /* Never echo it: it may carry a line break meant to add a header. */
    size_t i = 0;
    while ((unsigned char)addr[i] >= 0x20 && (unsigned char)addr[i] <= 0x7E)
      i++;
    snprintf(errstr, errlen,
             "the e-mail address has a control or non-ASCII byte at "
             "position %zu",
             i + 1);
    return 0;
  }
  if (len > NT_MAIL_ADDR_MAX) {
    snprintf(errstr, errlen, "the e-mail address is longer than %d characters",
             NT_MAIL_ADDR_MAX);
    return 0;
  }
  const char *at = strchr(addr, '@');
  if (!at || strchr(at + 1, '@')) {
    snprintf(errstr, errlen,
             "\"%s\" is not an e-mail address of the form local@domain", addr);
    return 0;
  }
  size_t llen = (size_t)(at - addr);
  int ok = llen >= 1 && llen <= 64 && addr[0] != '.' && at[-1] != '.';
  for (size_t i = 0; ok && i < llen; i++)
    ok = is_atext((unsigned char)addr[i]) ||
         (addr[i] == '.' && addr[i + 1] != '.');
  if (!ok) {
    snprintf(errstr, errlen,
             "\"%s\": the part before @ must be 1-64 letters, digits or "
             "!#$%%&'*+-/=?^_`{|}~, with single dots between them",
             addr);
    return 0;
  }
  const char *d = at + 1;
  int labels = 0;
  for (;;) {
    size_t l = strcspn(d, ".");
    int good = l >= 1 && l <= 63 && d[0] != '-' && d[l - 1] != '-';
    for (size_t i = 0; good && i < l; i++)
      good = (d[i] >= 'a' && d[i] <= 'z') || (d[i] >= 'A' && d[i] <= 'Z') ||
             (d[i] >= '0' && d[i] <= '9') || d[i] == '-';
    if (!good)
      break;
    labels++;
    if (!d[l]) {
      if (labels >= 2)
        return 1;
      break;
    }
    d += l + 1;
  }
  snprintf(errstr, errlen,
           "\"%s\": the domain must be letters, digits and hyphens in "
           "dot-separated labels (e.g. mobifone.vn)",
           addr);
  return 0;
}

/* A display name or subject: UTF-8, no control characters (a CR or LF
 * would end the header and start another). */
static int header_text_ok(const char *what, const char *s, size_t max,
                          char *errstr, size_t errlen) {
  size_t len = strlen(s), bad;
  if (len > max) {
    snprintf(errstr, errlen, "the %s is longer than %zu bytes", what, max);
    return 0;
  }
  if (!nt_utf8_valid(s, len, &bad)) {
    snprintf(errstr, errlen, "the %s is not valid UTF-8 (byte %zu)", what,
             bad + 1);
    return 0;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7F) {
      snprintf(errstr, errlen,
               "the %s has a control character (0x%02X) at byte %zu: line "
               "breaks and other controls are refused in headers",
               what, c, i + 1);
      return 0;
    }
  }
  return 1;
}

/* ---- encodings --------------------------------------------------------- */

static void add_b64(buf *b, const unsigned char *in, size_t n) {
  char out[4 * 64 / 3 + 8];
  while (n > 0) {
    size_t k = n > 48 ? 48 : n;
    int w = EVP_EncodeBlock((unsigned char *)out, in, (int)k);
    add(b, out, (size_t)w);
    in += k;
    n -= k;
  }
}

/* The header value s at column *col: as RFC 2047 encoded-words ("B"
 * encoding, UTF-8), each of whole characters (RFC 2047 6.3: a character
 * must not be split between words), folded so no line passes 78 columns.
 * A space or fold goes before each word.
 *
 * Text that fits one word (45 bytes) is one word: decoders disagree on
 * the white space between two words in a display name (Python's email
 * package keeps it, RFC 2047 6.2 drops it). Longer text is cut after a
 * space where it can be, so a decoder that keeps the white space shows a
 * double space, not a word broken in two. */
static void add_words(buf *b, size_t *col, const char *s) {
  size_t n = strlen(s), i = 0;
  if (n <= 45) {
    if (*col + 1 + 12 + 4 * ((n + 2) / 3) > 78) {
      adds(b, "\r\n");
      *col = 0;
    }
    adds(b, " =?UTF-8?B?");
    add_b64(b, (const unsigned char *)s, n);
    adds(b, "?=");
    *col += 1 + 12 + 4 * ((n + 2) / 3);
    return;
  }
  while (i < n) {
    if (*col + 1 + 12 + 8 > LINE_MAX_COLS) {
      adds(b, "\r\n");
      *col = 0;
    }
    size_t maxb = (LINE_MAX_COLS - *col - 1 - 12) / 4 * 3;
    size_t k = n - i < maxb ? n - i : maxb;
    while (k > 0 && i + k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80)
      k--;
    if (i + k < n) {
      size_t sp = k;
      while (sp > 0 && s[i + sp - 1] != ' ')
        sp--;
      if (sp > k / 2)
        k = sp;
    }
    adds(b, " =?UTF-8?B?");
    add_b64(b, (const unsigned char *)s + i, k);
    adds(b, "?=");
    *col += 1 + 12 + 4 * ((k + 2) / 3);
    i += k;
  }
}

/* A display name: a quoted string when it is short plain ASCII, else
 * encoded-words. */
static void add_name(buf *b, size_t *col, const char *name) {
  size_t n = strlen(name);
  if (printable_ascii(name) && !strstr(name, "=?") &&
      *col + n + 3 <= LINE_MAX_COLS - 10) {
    adds(b, " \"");
    for (const char *p = name; *p; p++) {
      if (*p == '"' || *p == '\\')
        adds(b, "\\");
      add(b, p, 1);
    }
    adds(b, "\"");
    *col += n + 3;
  } else {
    add_words(b, col, name);
  }
}

/* "Name: [display name] <addr>" or "Name: addr". */
static void add_mailbox(buf *b, const char *hname, const char *name,
                        const char *addr) {
  size_t col = strlen(hname) + 1;
  adds(b, hname);
  adds(b, ":");
  if (name && *name) {
    add_name(b, &col, name);
    size_t need = strlen(addr) + 3;
    adds(b, col + need > LINE_MAX_COLS ? "\r\n <" : " <");
    adds(b, addr);
    adds(b, ">\r\n");
  } else {
    adds(b, " ");
    adds(b, addr);
    adds(b, "\r\n");
  }
}

static void add_subject(buf *b, const char *subject) {
  size_t col = strlen("Subject:");
  adds(b, "Subject:");
  if (printable_ascii(subject) && !strstr(subject, "=?") &&
      col + 1 + strlen(subject) <= 78) {
    adds(b, " ");
    adds(b, subject);
  } else {
    add_words(b, &col, subject);
  }
  adds(b, "\r\n");
}

/* RFC 5322 date in Vietnam's time: Asia/Ho_Chi_Minh is UTC+7 all year, so
 * a fixed offset is exact and needs no time zone database. Day and month
 * names are fixed English, whatever the locale. */
static void add_date(buf *b, time_t t) {
  static const char *days[] = {"Sun", "Mon", "Tue", "Wed",
                               "Thu", "Fri", "Sat"};
  static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t local = t + 7 * 3600;
  struct tm tm;
  char out[64];
  gmtime_r(&local, &tm);
  snprintf(out, sizeof out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0700\r\n",
           days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
           tm.tm_hour, tm.tm_min, tm.tm_sec);
  adds(b, out);
}

int nt_mail_message_id(const char *seed, const char *from_addr, char *out,
                       size_t outlen) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  const char *at = from_addr ? strrchr(from_addr, '@') : NULL;
  if (!seed || !*seed || !at ||
      !EVP_Digest(seed, strlen(seed), md, &mdlen, EVP_sha256(), NULL))
    return -1;
  char hex[65];
  for (unsigned i = 0; i < 16; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  int w = snprintf(out, outlen, "<%s.simpki@%s>", hex, at + 1);
  return (w < 0 || (size_t)w >= outlen) ? -1 : 0;
}

/* The body in canonical form (CRLF line ends, RFC 2046 4.1.1), base64 in
 * lines of 76 characters. */
static void add_body(buf *b, const char *body) {
  buf crlf = {0};
  for (const char *p = body; *p; p++) {
    if (*p == '\r' || *p == '\n') {
      add(&crlf, "\r\n", 2);
      if (*p == '\r' && p[1] == '\n')
        p++;
    } else {
      add(&crlf, p, 1);
    }
  }
  if (crlf.oom) {
    free(crlf.p);
    b->oom = 1;
    return;
  }
  for (size_t off = 0; off < crlf.len; off += 57) {
    size_t k = crlf.len - off < 57 ? crlf.len - off : 57;
    add_b64(b, (const unsigned char *)crlf.p + off, k);
    adds(b, "\r\n");
  }
  free(crlf.p);
}

int nt_mail_build(const nt_mail_msg *msg, char **out, size_t *len,
                  char *errstr, size_t errlen) {
  char why[256], msgid[NT_MAIL_MSGID_MAX];
  if (!nt_mail_addr_valid(msg->from_addr, why, sizeof why)) {
    snprintf(errstr, errlen, "sender: %s", why);
    return -1;
  }
  if (!nt_mail_addr_valid(msg->to_addr, why, sizeof why)) {
    snprintf(errstr, errlen, "recipient: %s", why);
    return -1;
  }
  if ((msg->from_name && !header_text_ok("sender's name", msg->from_name,
                                         NT_MAIL_NAME_MAX, errstr, errlen)) ||
      (msg->to_name && !header_text_ok("recipient's name", msg->to_name,
                                       NT_MAIL_NAME_MAX, errstr, errlen)))
    return -1;
  if (!msg->subject || !*msg->subject) {
    snprintf(errstr, errlen, "the subject is empty");
    return -1;
  }
  if (!header_text_ok("subject", msg->subject, NT_MAIL_SUBJECT_MAX, errstr,
                      errlen))
    return -1;
  size_t blen = msg->body ? strlen(msg->body) : 0, bad;
  if (!msg->body || blen > NT_MAIL_BODY_MAX ||
      !nt_utf8_valid(msg->body, blen, &bad)) {
    if (!msg->body)
      snprintf(errstr, errlen, "the body is missing");
    else if (blen > NT_MAIL_BODY_MAX)
      snprintf(errstr, errlen, "the body is longer than %d bytes",
               NT_MAIL_BODY_MAX);
    else
      snprintf(errstr, errlen, "the body is not valid UTF-8 (byte %zu)",
               bad + 1);
    return -1;
  }
  if (nt_mail_message_id(msg->message_id_seed, msg->from_addr, msgid,
                         sizeof msgid) != 0) {
    snprintf(errstr, errlen, "a Message-ID needs a non-empty seed");
    return -1;
  }
  buf b = {0};
  add_date(&b, msg->date);
  add_mailbox(&b, "From", msg->from_name, msg->from_addr);
  add_mailbox(&b, "To", msg->to_name, msg->to_addr);
  add_subject(&b, msg->subject);
  adds(&b, "Message-ID: ");
  adds(&b, msgid);
  adds(&b, "\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=UTF-8\r\n"
           "Content-Transfer-Encoding: base64\r\n"
           /* RFC 3834: no out-of-office replies to a notification. */
           "Auto-Submitted: auto-generated\r\n"
           "\r\n");
  add_body(&b, msg->body);
  if (b.oom) {
    free(b.p);
    snprintf(errstr, errlen, "out of memory building the message");
    return -1;
  }
  *out = b.p;
  *len = b.len;
  return 0;
}

/* ---- sending ----------------------------------------------------------- */

struct nt_mail {
  char *url, *from, *from_name;
  long timeout_ms;
};

/* smtp:// or smtps://, a host, no credentials (they would end up in
 * errors and logs), nothing that is not printable ASCII. */
static int smtp_url_ok(const char *url, char *errstr, size_t errlen) {
  const char *rest = NULL;
  if (url && !strncmp(url, "smtp://", 7))
    rest = url + 7;
  else if (url && !strncmp(url, "smtps://", 8))
    rest = url + 8;
  if (!rest || !*rest || *rest == '/' || *rest == ':') {
    snprintf(errstr, errlen,
             "the SMTP URL must be smtp://HOST[:PORT] or smtps://HOST[:PORT]");
    return 0;
  }
  size_t auth = strcspn(rest, "/?#");
  if (memchr(rest, '@', auth) || !printable_ascii(url) || strchr(url, ' ')) {
    snprintf(errstr, errlen,
             "the SMTP URL must not carry a user or password, spaces or "
             "control characters");
    return 0;
  }
  return 1;
}

nt_mail *nt_mail_open(const char *smtp_url, const char *from,
                      const char *from_name, long timeout_ms, char *errstr,
                      size_t errlen) {
  char why[256];
  if (!smtp_url_ok(smtp_url, errstr, errlen))
    return NULL;
  if (!nt_mail_addr_valid(from, why, sizeof why)) {
    snprintf(errstr, errlen, "sender: %s", why);
    return NULL;
  }
  if (from_name && !header_text_ok("sender's name", from_name,
                                   NT_MAIL_NAME_MAX, errstr, errlen))
    return NULL;
  if (timeout_ms < 1) {
    snprintf(errstr, errlen, "the SMTP timeout must be at least 1 ms");
    return NULL;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(errstr, errlen, "libcurl failed to initialise");
    return NULL;
  }
  nt_mail *m = calloc(1, sizeof *m);
  if (m) {
    m->url = strdup(smtp_url);
    m->from = strdup(from);
    m->from_name = from_name ? strdup(from_name) : NULL;
    m->timeout_ms = timeout_ms;
  }
  if (!m || !m->url || !m->from || (from_name && !m->from_name)) {
    snprintf(errstr, errlen, "out of memory");
    nt_mail_close(m);
    if (!m)
      curl_global_cleanup();
    return NULL;
  }
  return m;
}

void nt_mail_close(nt_mail *m) {
  if (!m)
    return;
  free(m->url);
  free(m->from);
  free(m->from_name);
  free(m);
  curl_global_cleanup();
}

typedef struct upload {
  const char *data;
  size_t len, off;
} upload;

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *arg) {
  upload *u = arg;
  size_t n = size * nmemb, left = u->len - u->off;
  if (n > left)
    n = left;
  memcpy(dst, u->data + u->off, n);
  u->off += n;
  return n;
}

/* Keeps the server's last 4xx/5xx reply line, for an error a person can
 * act on (later replies, such as QUIT's 221, must not hide it). */
int nt_smtp_reply_keep(const char *data, size_t size,
                       char reply[NT_SMTP_REPLY_MAX + 1]) {
  if (size < 3 || (data[0] != '4' && data[0] != '5'))
    return 0;
  size_t n = 0;
  for (size_t i = 0; i < size && n < REPLY_MAX; i++) {
    unsigned char c = (unsigned char)data[i];
    if (c == '\r' || c == '\n')
      break;
    reply[n++] = (c < 0x20 || c >= 0x7F) ? '?' : (char)c; /* ASCII only */
  }
  if (n > 0)
    reply[n] = '\0';
  return n > 0;
}

static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size,
                    void *arg) {
  (void)h;
  if (type == CURLINFO_HEADER_IN)
    nt_smtp_reply_keep(data, size, arg);
  return 0;
}

int nt_mail_send(nt_mail *m, const char *to_addr, const char *to_name,
                 const char *subject, const char *body,
                 const char *message_id_seed, char *errstr, size_t errlen) {
  nt_mail_msg msg = {m->from, m->from_name, to_addr, to_name, subject,
                     body, message_id_seed, time(NULL)};
  char *data, from[NT_MAIL_ADDR_MAX + 3], to[NT_MAIL_ADDR_MAX + 3];
  char cerr[CURL_ERROR_SIZE] = "", reply[REPLY_MAX + 1] = "";
  size_t len;
  if (nt_mail_build(&msg, &data, &len, errstr, errlen) != 0)
    return NT_FAILED;
  snprintf(from, sizeof from, "<%s>", m->from);
  snprintf(to, sizeof to, "<%s>", to_addr);
  upload up = {data, len, 0};
  struct curl_slist *rcpt = curl_slist_append(NULL, to);
  CURL *h = curl_easy_init();
  if (!h || !rcpt) {
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    free(data);
    snprintf(errstr, errlen, "out of memory for an SMTP request");
    return NT_RETRY;
  }
  curl_easy_setopt(h, CURLOPT_URL, m->url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(h, CURLOPT_READDATA, &up);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM */
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, m->timeout_ms);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, m->timeout_ms);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
  /* Verbose only to hand the server's replies to debug_cb; nothing is
   * printed. */
  curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
  curl_easy_setopt(h, CURLOPT_DEBUGDATA, reply);
  curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  /* The reply that failed, taken before cleanup's QUIT answers over it;
   * only when it is the line of that code. */
  char why[REPLY_MAX + 1], lead[8];
  snprintf(lead, sizeof lead, "%ld", code);
  snprintf(why, sizeof why, "%s",
           !strncmp(reply, lead, strlen(lead)) ? reply
           : *cerr                             ? cerr
                                               : curl_easy_strerror(rc));
  curl_easy_setopt(h, CURLOPT_VERBOSE, 0L);
  curl_easy_cleanup(h);
  curl_slist_free_all(rcpt);
  free(data);
  if (rc == CURLE_OK)
    return NT_SENT;
  if (code >= 500 && code <= 599) {
    snprintf(errstr, errlen, "SMTP server %s refused the message: %s",
             m->url, why);
    return NT_FAILED;
  }
  /* A 4xx, or no reply at all (refused, reset, timed out): the message
   * may go through later. The same Message-ID goes with it. */
  if (code >= 400)
    snprintf(errstr, errlen, "SMTP server %s deferred the message: %s",
             m->url, why);
  else if (rc == CURLE_OPERATION_TIMEDOUT)
    snprintf(errstr, errlen, "SMTP server %s did not answer in time: %s",
             m->url, why);
  else
    snprintf(errstr, errlen, "SMTP server %s not reachable: %s", m->url, why);
  return NT_RETRY;
}

/* ---- configuration ----------------------------------------------------- */

int nt_channels_conf_load(nt_channels_conf *c, char *errstr, size_t errlen) {
  char why[256];
  memset(c, 0, sizeof *c);
  c->smtp_from_name = NT_SMTP_FROM_NAME;
  c->timeout_ms = NT_MAIL_TIMEOUT_MS;
  if (sp_config_str("SIMPKI_SMTP_URL", SP_CONFIG_REQUIRED, &c->smtp_url,
                    errstr, errlen) != 0 ||
      sp_config_str("SIMPKI_SMTP_FROM", NT_SMTP_FROM_DEFAULT, &c->smtp_from,
                    errstr, errlen) != 0 ||
      sp_config_str("SIMPKI_KANNEL_URL", SP_CONFIG_REQUIRED, &c->kannel_url,
                    errstr, errlen) != 0 ||
      sp_config_str("SIMPKI_KANNEL_USER", SP_CONFIG_REQUIRED, &c->kannel_user,
                    errstr, errlen) != 0 ||
      sp_config_str("SIMPKI_KANNEL_PASSWORD_FILE", SP_CONFIG_REQUIRED,
                    &c->kannel_password_file, errstr, errlen) != 0 ||
      sp_config_str("SIMPKI_KANNEL_FROM", NT_KANNEL_FROM_DEFAULT,
                    &c->kannel_from, errstr, errlen) != 0)
    return -1;
  if (!smtp_url_ok(c->smtp_url, why, sizeof why)) {
    snprintf(errstr, errlen, "SIMPKI_SMTP_URL: %s", why);
    return -1;
  }
  if (!nt_mail_addr_valid(c->smtp_from, why, sizeof why)) {
    snprintf(errstr, errlen, "SIMPKI_SMTP_FROM: %s", why);
    return -1;
  }
  if (!nt_sms_url_valid(c->kannel_url, why, sizeof why)) {
    snprintf(errstr, errlen, "SIMPKI_KANNEL_URL: %s", why);
    return -1;
  }
  if (!nt_sms_user_valid(c->kannel_user, why, sizeof why)) {
    snprintf(errstr, errlen, "SIMPKI_KANNEL_USER: %s", why);
    return -1;
  }
  if (!nt_sms_sender_valid(c->kannel_from, why, sizeof why)) {
    snprintf(errstr, errlen, "SIMPKI_KANNEL_FROM: %s", why);
    return -1;
  }
  return 0;
}
