/* phone.c - normalize and check Vietnamese mobile numbers. */
#include "phone.h"

#include <stdio.h>
#include <string.h>

/* How much of s a reason quotes: 40 bytes at most, never ending inside a
 * UTF-8 character (reasons go into JSON, which refuses half of one). */
static int quote_len(const char *s) {
  size_t n = strnlen(s, 40);
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
    n--;
  return (int)n;
}

int sp_phone_normalize_vn(const char *in, char out[SP_PHONE_LEN + 1],
                          char *errstr, size_t errlen) {
  int q = quote_len(in);
  char digits[32];
  size_t n = 0;
  const char *p = in;
  while (*p == ' ')
    p++;
  int plus = *p == '+';
  if (plus)
    p++;
  for (; *p; p++) {
    if (*p == ' ' || *p == '.' || *p == '-')
      continue;
    if (*p < '0' || *p > '9' || n + 1 >= sizeof digits) {
      snprintf(errstr, errlen,
               "phone number \"%.*s\" has a character that is not a digit",
               q, in);
      return -1;
    }
    digits[n++] = *p;
  }
  digits[n] = '\0';
  const char *nsn; /* national significant number */
  if (plus || (n == 11 && !strncmp(digits, "84", 2))) {
    if (strncmp(digits, "84", 2) != 0) {
      snprintf(errstr, errlen,
               "phone number \"%.*s\" is not a Vietnamese number (+84)", q, in);
      return -1;
    }
    nsn = digits + 2;
  } else if (n > 0 && digits[0] == '0') {
    nsn = digits + 1;
  } else {
    snprintf(errstr, errlen,
             "phone number \"%.*s\" must start with 0, 84 or +84", q, in);
    return -1;
  }
  if (strlen(nsn) != 9) {
    snprintf(errstr, errlen,
             "phone number \"%.*s\" must have 10 digits in national form "
             "(0xxxxxxxxx)",
             q, in);
    return -1;
  }
  if (!strchr("35789", nsn[0])) {
    snprintf(errstr, errlen,
             "phone number \"%.*s\" is not a mobile number (mobile numbers "
             "start with 03, 05, 07, 08 or 09)",
             q, in);
    return -1;
  }
  snprintf(out, SP_PHONE_LEN + 1, "84%s", nsn);
  return 0;
}
