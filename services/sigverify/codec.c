/* codec.c - RFC 3339 times and base64 for requests and reports. Pure. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigverify.h"

void sp_sig_format_time(time_t t, char out[32]) {
  struct tm tm;
  if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
    snprintf(out, 32, "1970-01-01T00:00:00Z");
}

static int digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)(*p)[i]))
      return -1;
    v = v * 10 + ((*p)[i] - '0');
  }
  *p += n;
  *out = v;
  return 0;
}

static int expect(const char **p, const char *chars) {
  if (!**p || !strchr(chars, **p))
    return -1;
  (*p)++;
  return 0;
}

int sp_sig_parse_time(const char *s, time_t *out) {
  if (!s)
    return -1;
  const char *p = s;
  int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
  if (digits(&p, 4, &y) || expect(&p, "-") || digits(&p, 2, &mo) ||
      expect(&p, "-") || digits(&p, 2, &d) || expect(&p, "Tt") ||
      digits(&p, 2, &h) || expect(&p, ":") || digits(&p, 2, &mi) ||
      expect(&p, ":") || digits(&p, 2, &sec))
    return -1;
  if (*p == '.') { /* fraction: dropped, validity is in seconds */
    p++;
    if (!isdigit((unsigned char)*p))
      return -1;
    while (isdigit((unsigned char)*p))
      p++;
  }
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    sign = *p == '-' ? -1 : 1;
    p++;
    if (digits(&p, 2, &oh) || expect(&p, ":") || digits(&p, 2, &om) ||
        oh > 23 || om > 59)
      return -1;
  } else {
    return -1;
  }
  if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      sec > 60)
    return -1;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
    return -1;
  struct tm tm = {0};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec == 60 ? 59 : sec; /* a leap second counts as :59 */
  time_t t = timegm(&tm);
  if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
    return -1;
  *out = t - sign * (time_t)(oh * 3600 + om * 60);
  return 0;
}

static int b64val(unsigned char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

int sp_sig_b64_decode(const char *in, size_t n, unsigned char **out,
                      size_t *outlen) {
  *out = NULL;
  *outlen = 0;
  if (!in)
    return -1;
  if (n && in[n - 1] == '\n')
    n--;
  size_t pad = 0;
  while (n && in[n - 1] == '=' && pad < 2)
    n--, pad++;
  /* A group of 4 leaves 0, 2 or 3 data characters; 1 is never valid, and
   * padding must complete the last group exactly. */
  if (n % 4 == 1 || (pad && (n + pad) % 4 != 0))
    return -1;
  unsigned char *buf = malloc(n / 4 * 3 + 3);
  if (!buf)
    return -1;
  size_t o = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64val((unsigned char)in[i]);
    if (v < 0) {
      free(buf);
      return -1;
    }
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      buf[o++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  /* The unused low bits of the last character must be zero (canonical). */
  if (acc != 0) {
    free(buf);
    return -1;
  }
  *out = buf;
  *outlen = o;
  return 0;
}
