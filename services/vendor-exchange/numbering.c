/* numbering.c - IMSIs, ICCIDs and the numbering plan file. Pure. */
#include "numbering.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_digits(const char *s, size_t len) {
  if (!s || !len)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

int vx_luhn_digit(const char *digits) {
  if (!digits || !is_digits(digits, strlen(digits)))
    return -1;
  /* From the right, the digit next to the check digit is doubled. */
  int sum = 0, dbl = 1;
  for (size_t i = strlen(digits); i-- > 0; dbl = !dbl) {
    int d = digits[i] - '0';
    if (dbl && (d *= 2) > 9)
      d -= 9;
    sum += d;
  }
  return (10 - sum % 10) % 10;
}

int vx_iccid_format(long long n, char out[21]) {
  out[0] = '\0';
  char s[24];
  int w = snprintf(s, sizeof s, "%lld", n);
  if (n <= 0 || w < VX_ICCID_MIN_DIGITS || w > VX_ICCID_MAX_DIGITS ||
      strncmp(s, VX_ICCID_COUNTRY, 4) != 0)
    return -1;
  memcpy(out, s, (size_t)w);
  out[w] = (char)('0' + vx_luhn_digit(s));
  out[w + 1] = '\0';
  return 0;
}

int vx_iccid_parse(const char *s, size_t len, long long *n, char *errstr,
                   size_t errlen) {
  if (!s || len < VX_ICCID_MIN_DIGITS + 1 || len > VX_ICCID_MAX_DIGITS + 1) {
    snprintf(errstr, errlen, "an ICCID has 19 or 20 digits, not %zu",
             s ? len : (size_t)0);
    return -1;
  }
  for (size_t i = 0; i < len; i++)
    if (s[i] < '0' || s[i] > '9') {
      snprintf(errstr, errlen, "ICCID character %zu is not a digit", i + 1);
      return -1;
    }
  if (memcmp(s, VX_ICCID_COUNTRY, 4) != 0) {
    snprintf(errstr, errlen,
             "does not start with 8984 (telecom 89, Vietnam 84)");
    return -1;
  }
  char body[VX_ICCID_MAX_DIGITS + 1];
  memcpy(body, s, len - 1);
  body[len - 1] = '\0';
  int want = vx_luhn_digit(body);
  if (s[len - 1] - '0' != want) {
    snprintf(errstr, errlen, "bad Luhn digit %c (expected %d)", s[len - 1],
             want);
    return -1;
  }
  *n = strtoll(body, NULL, 10); /* at most 19 digits from 89: fits */
  return 0;
}

int vx_imsi_format(long long n, char out[16]) {
  out[0] = '\0';
  if (n < 452000000000000LL || n > 452999999999999LL)
    return -1;
  snprintf(out, 16, "%lld", n);
  return 0;
}

int vx_imsi_parse(const char *s, size_t len, long long *n, char *errstr,
                  size_t errlen) {
  if (!s || len != VX_IMSI_DIGITS) {
    snprintf(errstr, errlen, "an IMSI has 15 digits, not %zu",
             s ? len : (size_t)0);
    return -1;
  }
  for (size_t i = 0; i < len; i++)
    if (s[i] < '0' || s[i] > '9') {
      snprintf(errstr, errlen, "IMSI character %zu is not a digit", i + 1);
      return -1;
    }
  if (memcmp(s, "452", 3) != 0) {
    snprintf(errstr, errlen, "MCC is %.3s, not 452 (Vietnam)", s);
    return -1;
  }
  char body[16];
  memcpy(body, s, 15);
  body[15] = '\0';
  *n = strtoll(body, NULL, 10);
  return 0;
}

int vx_number_format(int is_iccid, long long n, char out[21]) {
  return is_iccid ? vx_iccid_format(n, out) : vx_imsi_format(n, out);
}

long long vx_block_size(const vx_block *b) { return b->last - b->first + 1; }

/* ---- the rules of a block ---- */

static int block_id_ok(const char *id, size_t len) {
  if (len < 1 || len > VX_BLOCK_ID_MAX)
    return 0;
  for (size_t i = 0; i < len; i++) {
    char ch = id[i];
    int alnum = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                (ch >= '0' && ch <= '9');
    if (!alnum && (i == 0 || (ch != '-' && ch != '_' && ch != '.')))
      return 0;
  }
  return 1;
}

#define BLOCK_ID_RULE "1-32 of A-Z a-z 0-9 - _ . starting with a letter or digit"

/* The prefix names the operator: MCC 452 + MNC 01 for an IMSI, 89 84 01 for
 * an ICCID. Checked piece by piece so the message says which part is off. */
static int prefix_check(int is_iccid, const char *p, size_t len,
                        char *errstr, size_t errlen) {
  static const struct {
    const char *want;
    const char *what;
  } imsi[] = {{"452", "MCC 452 (Vietnam)"}, {"01", "MNC 01 (MobiFone)"}},
    iccid[] = {{"89", "89 (telecom)"},
               {"84", "country code 84 (Vietnam)"},
               {"01", "issuer 01 (MobiFone)"}};
  if (!is_digits(p, len)) {
    snprintf(errstr, errlen, "prefix \"%.*s\" is not all digits",
             (int)(len > 19 ? 19 : len), p);
    return -1;
  }
  size_t parts = is_iccid ? 3 : 2, at = 0;
  for (size_t i = 0; i < parts; i++) {
    const char *want = is_iccid ? iccid[i].want : imsi[i].want;
    size_t wl = strlen(want);
    if (len < at + wl || memcmp(p + at, want, wl) != 0) {
      snprintf(errstr, errlen, "%s prefix %.*s must %s %s",
               is_iccid ? "ICCID" : "IMSI", (int)len, p,
               i ? "continue with" : "start with",
               is_iccid ? iccid[i].what : imsi[i].what);
      return -1;
    }
    at += wl;
  }
  return 0;
}

static int digits_ok(int is_iccid, int digits) {
  return is_iccid ? digits >= VX_ICCID_MIN_DIGITS &&
                        digits <= VX_ICCID_MAX_DIGITS
                  : digits == VX_IMSI_DIGITS;
}

/* Has n exactly `digits` digits, the first of them prefix? */
static int number_in_prefix(long long n, int digits, const char *prefix) {
  char s[24];
  int w = snprintf(s, sizeof s, "%lld", n);
  return n > 0 && w == digits && !strncmp(s, prefix, strlen(prefix));
}

int vx_block_check(const vx_block *b, char *errstr, size_t errlen) {
  size_t idlen = strnlen(b->block_id, sizeof b->block_id);
  if (idlen == sizeof b->block_id || !block_id_ok(b->block_id, idlen)) {
    snprintf(errstr, errlen, "block id must be " BLOCK_ID_RULE);
    return -1;
  }
  size_t plen = strnlen(b->prefix, sizeof b->prefix);
  if (plen == sizeof b->prefix) {
    snprintf(errstr, errlen, "block %s: prefix is not terminated",
             b->block_id);
    return -1;
  }
  if (prefix_check(b->is_iccid, b->prefix, plen, errstr, errlen))
    return -1;
  if (!digits_ok(b->is_iccid, b->digits) || (int)plen >= b->digits) {
    snprintf(errstr, errlen,
             "block %s: %d digits do not fit %s with prefix %s",
             b->block_id, b->digits,
             b->is_iccid ? "an ICCID (18 or 19 without Luhn)"
                         : "an IMSI (15)",
             b->prefix);
    return -1;
  }
  if (!number_in_prefix(b->first, b->digits, b->prefix) ||
      !number_in_prefix(b->last, b->digits, b->prefix)) {
    snprintf(errstr, errlen,
             "block %s: first %lld and last %lld must have %d digits and "
             "start with %s",
             b->block_id, b->first, b->last, b->digits, b->prefix);
    return -1;
  }
  if (b->first > b->last) {
    snprintf(errstr, errlen, "block %s: first %lld is after last %lld",
             b->block_id, b->first, b->last);
    return -1;
  }
  return 0;
}

/* ---- the plan file ---- */

typedef struct field {
  const char *s;
  size_t len;
} field;

/* A field echoed in a message: at most 24 bytes, non-ASCII as '?'. */
static const char *shown(field f, char out[32]) {
  size_t n = f.len > 24 ? 24 : f.len, i;
  for (i = 0; i < n; i++)
    out[i] = (unsigned char)f.s[i] < 0x80 ? f.s[i] : '?';
  if (f.len > n)
    memcpy(out + i, "...", 3), i += 3;
  out[i] = '\0';
  return out;
}

typedef struct parser {
  vx_block *blocks;
  size_t n;
  int *lines; /* line of each block, for overlap messages */
  char *errstr;
  size_t errlen;
  int line;
} parser;

__attribute__((format(printf, 2, 3))) static int fail(parser *p,
                                                       const char *fmt,
                                                       ...) {
  char why[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  snprintf(p->errstr, p->errlen, "line %d: %s", p->line, why);
  return -1;
}

/* Serial / MSIN fields: digits, written at full width. */
static int serial_field(parser *p, const char *name, field f) {
  char q[32];
  if (!is_digits(f.s, f.len))
    return fail(p, "%s \"%s\" is not all digits", name, shown(f, q));
  return 0;
}

static int parse_line(parser *p, field *fl) {
  char q[32], a[21], b[21];
  vx_block blk = {0};
  if (fl[0].len == 4 && !memcmp(fl[0].s, "imsi", 4))
    blk.is_iccid = 0;
  else if (fl[0].len == 5 && !memcmp(fl[0].s, "iccid", 5))
    blk.is_iccid = 1;
  else
    return fail(p, "unknown kind \"%s\" (imsi or iccid)", shown(fl[0], q));
  const char *unit = blk.is_iccid ? "serial" : "MSIN";

  if (!block_id_ok(fl[1].s, fl[1].len))
    return fail(p, "block id \"%s\": must be " BLOCK_ID_RULE,
                shown(fl[1], q));
  memcpy(blk.block_id, fl[1].s, fl[1].len);
  for (size_t i = 0; i < p->n; i++)
    if (!strcmp(p->blocks[i].block_id, blk.block_id))
      return fail(p, "block id %s is already used on line %d", blk.block_id,
                  p->lines[i]);

  char why[256];
  if (fl[2].len >= sizeof blk.prefix)
    return fail(p, "prefix \"%s\" is too long", shown(fl[2], q));
  /* prefix_check would quote the bytes as they are. */
  if (!is_digits(fl[2].s, fl[2].len))
    return fail(p, "prefix \"%s\" is not all digits", shown(fl[2], q));
  if (prefix_check(blk.is_iccid, fl[2].s, fl[2].len, why, sizeof why))
    return fail(p, "%s", why);
  memcpy(blk.prefix, fl[2].s, fl[2].len);

  char first_name[16], last_name[16];
  snprintf(first_name, sizeof first_name, "first %s", unit);
  snprintf(last_name, sizeof last_name, "last %s", unit);
  if (serial_field(p, first_name, fl[3]) || serial_field(p, last_name, fl[4]))
    return -1;
  if (fl[3].len != fl[4].len)
    return fail(p,
                "first and last %s must be written at the same width (%zu "
                "and %zu digits)",
                unit, fl[3].len, fl[4].len);
  size_t total = fl[2].len + fl[3].len;
  if (!blk.is_iccid && total != VX_IMSI_DIGITS)
    return fail(p,
                "an IMSI has 15 digits: prefix %s (%zu) + MSIN width %zu = "
                "%zu",
                blk.prefix, fl[2].len, fl[3].len, total);
  if (blk.is_iccid &&
      (total < VX_ICCID_MIN_DIGITS || total > VX_ICCID_MAX_DIGITS))
    return fail(p,
                "an ICCID without its Luhn digit has 18 or 19 digits: prefix "
                "%s (%zu) + serial width %zu = %zu",
                blk.prefix, fl[2].len, fl[3].len, total);
  blk.digits = (int)total;

  char num[24];
  snprintf(num, sizeof num, "%s%.*s", blk.prefix, (int)fl[3].len, fl[3].s);
  blk.first = strtoll(num, NULL, 10);
  snprintf(num, sizeof num, "%s%.*s", blk.prefix, (int)fl[4].len, fl[4].s);
  blk.last = strtoll(num, NULL, 10);
  if (blk.first > blk.last)
    return fail(p, "first %s %.*s is after last %s %.*s", unit,
                (int)fl[3].len, fl[3].s, unit, (int)fl[4].len, fl[4].s);
  if (vx_block_check(&blk, why, sizeof why)) /* a backstop: never fires */
    return fail(p, "%s", why);

  for (size_t i = 0; i < p->n; i++) {
    const vx_block *o = &p->blocks[i];
    if (blk.first <= o->last && o->first <= blk.last) {
      vx_number_format(blk.is_iccid, blk.first, a);
      vx_number_format(blk.is_iccid, blk.last, b);
      return fail(p, "block %s (%s-%s) overlaps block %s on line %d",
                  blk.block_id, a, b, o->block_id, p->lines[i]);
    }
  }
  if (p->n == VX_PLAN_MAX_BLOCKS)
    return fail(p, "more than %d blocks", VX_PLAN_MAX_BLOCKS);
  p->blocks[p->n] = blk;
  p->lines[p->n++] = p->line;
  return 0;
}

/* One line, without its '\n': comments, CR, control bytes, fields. */
static int scan_line(parser *p, const char *s, size_t len) {
  if (len && s[len - 1] == '\r')
    len--; /* CRLF files */
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
      return fail(p, "control character 0x%02x at column %zu", ch, i + 1);
  }
  const char *hash = memchr(s, '#', len);
  if (hash)
    len = (size_t)(hash - s);
  field fl[5];
  int nf = 0;
  for (size_t i = 0; i < len;) {
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
      i++;
    if (i == len)
      break;
    size_t start = i;
    while (i < len && s[i] != ' ' && s[i] != '\t')
      i++;
    if (nf < 5)
      fl[nf] = (field){s + start, i - start};
    nf++;
  }
  if (nf == 0)
    return 0;
  if (nf != 5)
    return fail(p,
                "expected 5 fields (kind block-id prefix first last), found "
                "%d",
                nf);
  return parse_line(p, fl);
}

int vx_numbering_parse(const char *buf, size_t len, vx_block **blocks,
                       size_t *n, char *errstr, size_t errlen) {
  *blocks = NULL;
  *n = 0;
  parser p = {.errstr = errstr, .errlen = errlen};
  p.blocks = malloc(VX_PLAN_MAX_BLOCKS * sizeof *p.blocks);
  p.lines = malloc(VX_PLAN_MAX_BLOCKS * sizeof *p.lines);
  if (!p.blocks || !p.lines) {
    snprintf(errstr, errlen, "out of memory");
    goto fail;
  }
  for (size_t at = 0; at < len;) {
    const char *nl = memchr(buf + at, '\n', len - at);
    size_t end = nl ? (size_t)(nl - buf) : len;
    p.line++;
    if (scan_line(&p, buf + at, end - at))
      goto fail;
    at = end + 1;
  }
  if (p.n == 0) {
    snprintf(errstr, errlen, "the plan holds no blocks");
    goto fail;
  }
  free(p.lines);
  vx_block *fit = realloc(p.blocks, p.n * sizeof *fit);
  *blocks = fit ? fit : p.blocks;
  *n = p.n;
  return 0;
fail:
  free(p.blocks);
  free(p.lines);
  return -1;
}
