/* reason.c - quoting outside text in reasons (reason.h). */
#include "reason.h"

#include <string.h>

const char *iv_clip(const char *s, size_t max, char *out) {
  if (!s)
    s = "(none)";
  size_t n = strnlen(s, max);
  if (s[n]) /* cut: back to the start of the character it splits */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
      n--;
  memcpy(out, s, n);
  out[n] = '\0';
  return out;
}

/* The length of the well-formed UTF-8 character at s, or 0. */
static size_t char_len(const unsigned char *s) {
  unsigned c = s[0];
  size_t n = c < 0x80                 ? 1
             : c >= 0xC2 && c <= 0xDF ? 2
             : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4
                                      : 0;
  unsigned cp = n == 1 ? c : c & (0x7F >> n);
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3F);
  }
  /* overlong forms, surrogates, past U+10FFFF */
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

void iv_utf8_scrub(char *s) {
  unsigned char *p = (unsigned char *)s;
  while (*p) {
    size_t n = char_len(p);
    if (n == 0)
      *p++ = '?';
    else
      p += n;
  }
}
