/* sms.c - SMS through Kannel's sendsms: the request URL and the reply
 * (pure), and the HTTP call with libcurl. */
#include "sms.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "phone.h"
#include "template.h"

/* ---- checks ------------------------------------------------------------ */

static int printable_ascii(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s <= 0x20 || (unsigned char)*s > 0x7E)
      return 0;
  return 1;
}

int nt_sms_url_valid(const char *url, char *errstr, size_t errlen) {
  const char *rest = NULL;
  if (url && !strncmp(url, "http://", 7))
    rest = url + 7;
  else if (url && !strncmp(url, "https://", 8))
    rest = url + 8;
  if (!rest || !*rest || *rest == '/' || *rest == ':' || !strchr(rest, '/')) {
    snprintf(errstr, errlen,
             "the sendsms URL must be http(s)://HOST[:PORT]/PATH, e.g. "
             "http://127.0.0.1:13013/cgi-bin/sendsms");
    return 0;
  }
  /* The credentials are added per request from their own settings: a URL
   * that already carries some (or a query) would leak them into errors. */
  size_t auth = strcspn(rest, "/");
  if (memchr(rest, '@', auth) || strpbrk(url, "?#") || !printable_ascii(url)) {
    snprintf(errstr, errlen,
             "the sendsms URL must not carry a user, password, query, "
             "fragment, spaces or control characters");
    return 0;
  }
  return 1;
}

int nt_sms_user_valid(const char *user, char *errstr, size_t errlen) {
  if (!user || !*user || strlen(user) > 64 || !printable_ascii(user)) {
    snprintf(errstr, errlen,
             "the Kannel user must be 1-64 printable ASCII characters "
             "without spaces");
    return 0;
  }
  return 1;
}

int nt_sms_sender_valid(const char *from, char *errstr, size_t errlen) {
  size_t n = from ? strlen(from) : 0, digits = 0, alnum = 0;
  for (size_t i = 0; i < n; i++) {
    char c = from[i];
    digits += c >= '0' && c <= '9';
    alnum += (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
             (c >= 'A' && c <= 'Z');
  }
  if (n > 0 && ((digits == n && n <= 15) || (alnum == n && n <= 11)))
    return 1;
  snprintf(errstr, errlen,
           "the SMS sender must be 1-11 letters and digits (e.g. MobiFone) "
           "or a number of 1-15 digits");
  return 0;
}

/* Checks the text for UCS-2 and counts its characters. */
static int text_ok(const char *text, char *errstr, size_t errlen) {
  size_t len = text ? strlen(text) : 0, bad, units = 0;
  if (len == 0) {
    snprintf(errstr, errlen, "the SMS text is empty");
    return 0;
  }
  if (!nt_utf8_valid(text, len, &bad)) {
    snprintf(errstr, errlen, "the SMS text is not valid UTF-8 (byte %zu)",
             bad + 1);
    return 0;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    if ((c & 0xC0) == 0x80)
      continue; /* counted with its lead byte */
    if (c >= 0xF0) {
      snprintf(errstr, errlen,
               "the SMS text has a character beyond U+FFFF at byte %zu "
               "(UCS-2 cannot carry it)",
               i + 1);
      return 0;
    }
    if ((c < 0x20 && c != '\n' && c != '\r') || c == 0x7F) {
      snprintf(errstr, errlen,
               "the SMS text has a control character (0x%02X) at byte %zu",
               c, i + 1);
      return 0;
    }
    units++;
  }
  if (units > NT_SMS_MAX_UNITS) {
    snprintf(errstr, errlen,
             "the SMS text has %zu characters, more than %d (ten parts)",
             units, NT_SMS_MAX_UNITS);
    return 0;
  }
  return 1;
}

/* ---- the request ------------------------------------------------------- */

/* Percent-encodes everything but RFC 3986's unreserved characters. */
static size_t pct(char *out, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      if (out)
        out[n] = (char)c;
      n++;
    } else {
      if (out) {
        out[n] = '%';
        out[n + 1] = hex[c >> 4];
        out[n + 2] = hex[c & 15];
      }
      n += 3;
    }
  }
  return n;
}

int nt_sms_build_url(const char *base, const char *user, const char *password,
                     const char *from, const char *to, const char *text,
                     char **url, char *errstr, size_t errlen) {
  char msisdn[SP_PHONE_LEN + 1];
  if (!nt_sms_url_valid(base, errstr, errlen) ||
      !nt_sms_user_valid(user, errstr, errlen) ||
      !nt_sms_sender_valid(from, errstr, errlen))
    return -1;
  if (!password || !*password) {
    snprintf(errstr, errlen, "the Kannel password is empty");
    return -1;
  }
  if (!to || sp_phone_normalize_vn(to, msisdn, errstr, errlen) != 0) {
    if (!to)
      snprintf(errstr, errlen, "no phone number to send to");
    return -1;
  }
  if (!text_ok(text, errstr, errlen))
    return -1;
  const char *keys[] = {"username", "password", "from", "to",
                        "coding",   "charset",  "text"};
  const char *vals[] = {user, password, from, msisdn, "2", "UTF-8", text};
  size_t n = strlen(base); /* then "?k=v" or "&k=v" each */
  for (size_t i = 0; i < 7; i++)
    n += 1 + strlen(keys[i]) + 1 + pct(NULL, vals[i]);
  /* Locked memory: the URL holds the password. Exactly n + 1 bytes, the
   * size nt_sms_url_free gives back. */
  char *u = sp_secure_alloc(n + 1);
  if (!u) {
    snprintf(errstr, errlen, "out of memory for a sendsms request");
    return -1;
  }
  size_t o = strlen(base);
  memcpy(u, base, o);
  for (size_t i = 0; i < 7; i++) {
    u[o++] = i ? '&' : '?';
    memcpy(u + o, keys[i], strlen(keys[i]));
    o += strlen(keys[i]);
    u[o++] = '=';
    o += pct(u + o, vals[i]);
  }
  u[o] = '\0';
  *url = u;
  return 0;
}

void nt_sms_url_free(char *url) {
  if (url)
    sp_secure_free(url, strlen(url) + 1);
}

/* ---- replies and redaction --------------------------------------------- */

/* Length of secret found at in[0..left), each byte of it literal or
 * percent-encoded (%4a or %4A; '+' for a space), as our own URL encoding or
 * a server echoing the request would write it; 0 when it is not there.
 * Every reading is followed at once: a '%' of the secret is there as '%'
 * or as "%25", and a text may hold the one where the other first looks
 * right. ends and next (room for 3 * strlen(secret) + 1 offsets each) are
 * the caller's scratch space; the longest match wins. */
static size_t match_at(const char *in, size_t left, const char *secret,
                       size_t *ends, size_t *next) {
  static const char hex[] = "0123456789abcdef";
  size_t n = 1;
  ends[0] = 0; /* the offsets where the secret's bytes so far can end */
  for (const char *p = secret; *p && n; p++) {
    unsigned char c = (unsigned char)*p;
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
      size_t i = ends[k];
      size_t got[2], ng = 0;
      if (i < left && (in[i] == *p || (c == ' ' && in[i] == '+')))
        got[ng++] = i + 1;
      if (i + 3 <= left && in[i] == '%' &&
          (in[i + 1] | 0x20) == hex[c >> 4] &&
          (in[i + 2] | 0x20) == hex[c & 15])
        got[ng++] = i + 3;
      for (size_t g = 0; g < ng; g++) {
        size_t j = 0;
        while (j < m && next[j] != got[g])
          j++;
        if (j == m)
          next[m++] = got[g];
      }
    }
    memcpy(ends, next, m * sizeof *ends);
    n = m;
  }
  size_t longest = 0;
  for (size_t k = 0; k < n; k++)
    if (ends[k] > longest)
      longest = ends[k];
  return longest;
}

void nt_sms_redact(const char *in, size_t inlen, const char *secret,
                   char *out, size_t outlen) {
  size_t o = 0;
  if (outlen == 0)
    return;
  size_t slen = secret ? strlen(secret) : 0;
  size_t *ends = slen ? calloc(2 * (3 * slen + 1), sizeof *ends) : NULL;
  if (slen && !ends) { /* no room to look for the secret: show nothing */
    snprintf(out, outlen, "(reply withheld: out of memory)");
    return;
  }
  for (size_t i = 0; i < inlen && o + 1 < outlen;) {
    size_t m = slen ? match_at(in + i, inlen - i, secret, ends,
                               ends + 3 * slen + 1)
                    : 0;
    if (m) {
      for (const char *r = "***"; *r && o + 1 < outlen; r++)
        out[o++] = *r;
      i += m;
      continue;
    }
    unsigned char c = (unsigned char)in[i++];
    /* Kannel answers in ASCII; anything else (a proxy's page in some
     * charset) becomes '?', so the text is safe for JSON logs and
     * PostgreSQL whatever it was. */
    out[o++] = (c < 0x20 || c >= 0x7F) ? '?' : (char)c;
  }
  out[o] = '\0';
  free(ends);
}

int nt_sms_parse_reply(long http_status, const char *body, size_t len,
                       const char *password, char *errstr, size_t errlen) {
  size_t n = len;
  while (n > 0 && (body[n - 1] == '\n' || body[n - 1] == '\r' ||
                   body[n - 1] == ' '))
    n--;
  if (http_status >= 200 && http_status <= 299 && n >= 2 &&
      (!strncmp(body, "0:", 2) || !strncmp(body, "3:", 2)))
    return NT_SENT;
  char text[256];
  nt_sms_redact(body, n, password, text, sizeof text);
  /* The server (or a proxy in front of it) says it cannot take requests
   * now: the same as being down. */
  int retry = http_status == 502 || http_status == 503 || http_status == 504;
  snprintf(errstr, errlen, "Kannel %s the SMS (HTTP %ld): %s",
           retry ? "could not take" : "refused", http_status,
           *text ? text : "(empty reply)");
  return retry ? NT_RETRY : NT_FAILED;
}

/* ---- the channel ------------------------------------------------------- */

struct nt_sms {
  char *base, *user, *from;
  char *password; /* sp_secure_alloc, pwcap bytes */
  size_t pwcap;
  long timeout_ms;
};

nt_sms *nt_sms_open(const char *sendsms_url, const char *user,
                    const char *password_file, const char *from,
                    long timeout_ms, char *errstr, size_t errlen) {
  if (!nt_sms_url_valid(sendsms_url, errstr, errlen) ||
      !nt_sms_user_valid(user, errstr, errlen) ||
      !nt_sms_sender_valid(from, errstr, errlen))
    return NULL;
  if (timeout_ms < 1) {
    snprintf(errstr, errlen, "the sendsms timeout must be at least 1 ms");
    return NULL;
  }
  if (!password_file || !*password_file) {
    snprintf(errstr, errlen, "no Kannel password file given");
    return NULL;
  }
  char *pw;
  size_t pwlen;
  if (sp_secret_file_read(password_file, "Kannel password file",
                          NT_SMS_PASSWORD_MAX, &pw, &pwlen, errstr,
                          errlen) != 0)
    return NULL;
  size_t cap = pwlen + 1;
  while (pwlen > 0 && (pw[pwlen - 1] == '\n' || pw[pwlen - 1] == '\r'))
    pw[--pwlen] = '\0';
  if (pwlen == 0 || strlen(pw) != pwlen) {
    snprintf(errstr, errlen,
             "Kannel password file %s is empty or holds a NUL byte",
             password_file);
    sp_secure_free(pw, cap);
    return NULL;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(errstr, errlen, "libcurl failed to initialise");
    sp_secure_free(pw, cap);
    return NULL;
  }
  nt_sms *s = calloc(1, sizeof *s);
  if (s) {
    s->base = strdup(sendsms_url);
    s->user = strdup(user);
    s->from = strdup(from);
    s->password = pw;
    s->pwcap = cap;
    s->timeout_ms = timeout_ms;
  }
  if (!s || !s->base || !s->user || !s->from) {
    snprintf(errstr, errlen, "out of memory");
    if (s)
      nt_sms_close(s);
    else {
      sp_secure_free(pw, cap);
      curl_global_cleanup();
    }
    return NULL;
  }
  return s;
}

void nt_sms_close(nt_sms *s) {
  if (!s)
    return;
  free(s->base);
  free(s->user);
  free(s->from);
  sp_secure_free(s->password, s->pwcap);
  free(s);
  curl_global_cleanup();
}

typedef struct reply {
  char data[NT_SMS_REPLY_MAX];
  size_t len;
  int cut;
} reply;

static size_t write_cb(char *src, size_t size, size_t nmemb, void *arg) {
  reply *r = arg;
  size_t n = size * nmemb, room = sizeof r->data - r->len;
  memcpy(r->data + r->len, src, n < room ? n : room);
  r->len += n < room ? n : room;
  r->cut |= n > room;
  return n; /* the rest is dropped, not an error */
}

int nt_sms_send(nt_sms *s, const char *to, const char *text, char *errstr,
                size_t errlen) {
  char *url, cerr[CURL_ERROR_SIZE] = "";
  if (nt_sms_build_url(s->base, s->user, s->password, s->from, to, text, &url,
                       errstr, errlen) != 0)
    return NT_FAILED;
  CURL *h = curl_easy_init();
  if (!h) {
    nt_sms_url_free(url);
    snprintf(errstr, errlen, "out of memory for a sendsms request");
    return NT_RETRY;
  }
  reply r = {.len = 0};
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM */
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->timeout_ms);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
  CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(h);
  nt_sms_url_free(url);
  if (rc != CURLE_OK) {
    /* No usable answer: curl's words, with the password cut out in case
     * a message ever quotes the URL. */
    char why[CURL_ERROR_SIZE];
    const char *msg = *cerr ? cerr : curl_easy_strerror(rc);
    nt_sms_redact(msg, strlen(msg), s->password, why, sizeof why);
    snprintf(errstr, errlen, "Kannel sendsms at %s %s: %s", s->base,
             rc == CURLE_OPERATION_TIMEDOUT ? "did not answer in time"
                                            : "not reachable",
             why);
    return NT_RETRY;
  }
  /* A reply cut short may end in part of an echoed password, which the
   * redaction would not recognise: drop enough of its end. */
  if (r.cut) {
    size_t drop = 3 * strlen(s->password);
    r.len = r.len > drop ? r.len - drop : 0;
  }
  return nt_sms_parse_reply(status, r.data, r.len, s->password, errstr,
                            errlen);
}
