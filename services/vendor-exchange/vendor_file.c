/* vendor_file.c - render the input file, read the output file's header and
 * lines. Pure: no I/O. */
#include "vendor_file.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define OUTPUT_VARS_USIM "ICCID IMSI PIN1 PUK1 PIN2 PUK2 ADM1 KI OPC"
#define OUTPUT_VARS_2G "ICCID IMSI PIN1 PUK1 PIN2 PUK2 ADM1 KI"

const char *vx_output_variables(int usim) {
  return usim ? OUTPUT_VARS_USIM : OUTPUT_VARS_2G;
}

__attribute__((format(printf, 3, 4))) static int fail(char *errstr,
                                                      size_t errlen,
                                                      const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errstr, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

char *vx_input_render(const vx_input *in, size_t *len) {
  char *out = NULL;
  size_t n = 0;
  FILE *fp = open_memstream(&out, &n);
  if (!fp)
    return NULL;
  fprintf(fp,
          "*HEADER\n"
          "OPERATOR        %s\n"
          "VENDOR          %s\n"
          "BATCH           %s\n"
          "ORDER           %s\n"
          "QUANTITY        %ld\n"
          "SIM_TYPE        %s\n"
          "PROFILE         %s\n"
          "TRANSPORT_KEY   %s\n"
          "GRAPHIC_REF     %s\n"
          "ISSUED_AT       %s\n"
          "*VARIABLES\n"
          "FIRST_ICCID     %s\n"
          "FIRST_IMSI      %s\n"
          "OUTPUT_VARS     %s\n"
          "*END\n",
          in->operator_name, in->vendor_id, in->batch_id, in->order_ref,
          in->quantity, in->usim ? "USIM" : "SIM",
          in->usim ? "MILENAGE" : "COMP128", in->transport_key_id,
          in->graphic_ref, in->issued_at, in->first_iccid, in->first_imsi,
          vx_output_variables(in->usim));
  fclose(fp);
  *len = n;
  return out;
}

/* Text of the file quoted in a reason: at most cap - 1 of its n bytes
 * (it need not end in a NUL), each that is not printable ASCII as '?'. */
static const char *shown(const char *s, size_t n, char *out, size_t cap) {
  if (n > cap - 1)
    n = cap - 1;
  for (size_t i = 0; i < n; i++)
    out[i] = s[i] >= 0x20 && s[i] <= 0x7e ? s[i] : '?';
  out[n] = '\0';
  return out;
}

/* Split "KEY   value" (value may hold spaces); 0 ok. */
static int key_value(const char *line, size_t len, char *key, size_t keycap,
                     const char **value, size_t *vlen) {
  size_t i = 0;
  while (i < len && line[i] != ' ' && line[i] != '\t')
    i++;
  if (i == 0 || i >= keycap)
    return -1;
  memcpy(key, line, i);
  key[i] = '\0';
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  size_t end = len;
  while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t'))
    end--;
  *value = line + i;
  *vlen = end - i;
  return 0;
}

static int copy_value(char *dst, size_t cap, const char *v, size_t vlen) {
  if (vlen == 0 || vlen >= cap)
    return -1;
  for (size_t i = 0; i < vlen; i++)
    if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
      return -1;
  memcpy(dst, v, vlen);
  dst[vlen] = '\0';
  return 0;
}

static int parse_count(const char *v, size_t vlen, long *out) {
  if (vlen == 0 || vlen > 9)
    return -1;
  long n = 0;
  for (size_t i = 0; i < vlen; i++) {
    if (v[i] < '0' || v[i] > '9')
      return -1;
    n = n * 10 + (v[i] - '0');
  }
  *out = n;
  return n > 0 ? 0 : -1;
}

/* Next line of buf (without CR LF); 0 at the end. */
static int next_line(const char **p, const char *end, const char **line,
                     size_t *len) {
  if (*p >= end)
    return 0;
  const char *nl = memchr(*p, '\n', (size_t)(end - *p));
  const char *stop = nl ? nl : end;
  *line = *p;
  *len = (size_t)(stop - *p);
  if (*len && (*line)[*len - 1] == '\r')
    (*len)--;
  *p = nl ? nl + 1 : end;
  return 1;
}

int vx_input_parse(const char *buf, size_t len, vx_input *out, char *errstr,
                   size_t errlen) {
  memset(out, 0, sizeof *out);
  const char *p = buf, *end = buf + len, *line;
  size_t ll;
  int lineno = 0, section = 0; /* 1 header, 2 variables, 3 end */
  unsigned seen = 0;
  static const char *const keys[] = {
      "OPERATOR",    "VENDOR",          "BATCH",      "ORDER",
      "QUANTITY",    "SIM_TYPE",        "PROFILE",    "TRANSPORT_KEY",
      "GRAPHIC_REF", "ISSUED_AT",       "FIRST_ICCID", "FIRST_IMSI",
      "OUTPUT_VARS"};
  const unsigned all = (1u << (sizeof keys / sizeof *keys)) - 1;
  while (next_line(&p, end, &line, &ll)) {
    lineno++;
    if (section == 3) {
      if (ll == 0 && p >= end)
        break;
      return fail(errstr, errlen, "line %d: text after *END", lineno);
    }
    if (ll == 0)
      continue;
    if (ll == 7 && !memcmp(line, "*HEADER", 7) && section == 0) {
      section = 1;
      continue;
    }
    if (ll == 10 && !memcmp(line, "*VARIABLES", 10) && section == 1) {
      section = 2;
      continue;
    }
    if (ll == 4 && !memcmp(line, "*END", 4) && section == 2) {
      section = 3;
      continue;
    }
    char q[32];
    if (section == 0 || line[0] == '*')
      return fail(errstr, errlen, "line %d: unexpected \"%s\"", lineno,
                  shown(line, ll, q, 21));
    char key[32];
    const char *v;
    size_t vlen;
    if (key_value(line, ll, key, sizeof key, &v, &vlen))
      return fail(errstr, errlen, "line %d: expected KEY value", lineno);
    size_t k = 0;
    while (k < sizeof keys / sizeof *keys && strcmp(key, keys[k]))
      k++;
    if (k == sizeof keys / sizeof *keys || (seen & (1u << k)))
      return fail(errstr, errlen, "line %d: unknown or repeated key %s",
                  lineno, shown(key, strlen(key), q, sizeof q));
    seen |= 1u << k;
    char tmp[128];
    int bad = 0;
    switch (k) {
    case 0: bad = copy_value(out->operator_name, sizeof out->operator_name, v, vlen); break;
    case 1: bad = copy_value(out->vendor_id, sizeof out->vendor_id, v, vlen); break;
    case 2: bad = copy_value(out->batch_id, sizeof out->batch_id, v, vlen); break;
    case 3: bad = copy_value(out->order_ref, sizeof out->order_ref, v, vlen); break;
    case 4: bad = parse_count(v, vlen, &out->quantity); break;
    case 5:
      bad = copy_value(tmp, sizeof tmp, v, vlen) ||
            (strcmp(tmp, "USIM") && strcmp(tmp, "SIM"));
      out->usim = !bad && !strcmp(tmp, "USIM"); /* tmp unset when bad */
      break;
    case 6: bad = copy_value(tmp, sizeof tmp, v, vlen); break;
    case 7: bad = copy_value(out->transport_key_id, sizeof out->transport_key_id, v, vlen); break;
    case 8: bad = copy_value(out->graphic_ref, sizeof out->graphic_ref, v, vlen); break;
    case 9: bad = copy_value(out->issued_at, sizeof out->issued_at, v, vlen); break;
    case 10: bad = copy_value(out->first_iccid, sizeof out->first_iccid, v, vlen); break;
    case 11: bad = copy_value(out->first_imsi, sizeof out->first_imsi, v, vlen); break;
    case 12: bad = copy_value(tmp, sizeof tmp, v, vlen); break;
    }
    if (bad)
      return fail(errstr, errlen, "line %d: bad value for %s", lineno, key);
  }
  if (section != 3)
    return fail(errstr, errlen, "the file does not end with *END");
  if (seen != all)
    return fail(errstr, errlen, "the header misses a key");
  return 0;
}

/* ---- output file ---- */

enum { H_BATCH, H_QUANTITY, H_INPUT, H_KEY, H_VARS, H_COUNT };

void vx_header_reader_init(vx_header_reader *r) { memset(r, 0, sizeof *r); }

int vx_header_feed(vx_header_reader *r, const char *line, size_t len,
                   char *errstr, size_t errlen) {
  if (r->state == 0) {
    if (len == 7 && !memcmp(line, "*HEADER", 7)) {
      r->state = 1;
      return 0;
    }
    return fail(errstr, errlen, "the file must start with *HEADER");
  }
  if (len == 0)
    return 0;
  if (len == 5 && !memcmp(line, "*DATA", 5)) {
    if (r->seen != (1u << H_COUNT) - 1)
      return fail(errstr, errlen,
                  "*DATA before the header gave BATCH, QUANTITY, "
                  "INPUT_SHA256, TRANSPORT_KEY and VARIABLES");
    return 1;
  }
  static const char *const keys[H_COUNT] = {"BATCH", "QUANTITY",
                                            "INPUT_SHA256", "TRANSPORT_KEY",
                                            "VARIABLES"};
  char key[32];
  const char *v;
  size_t vlen;
  if (key_value(line, len, key, sizeof key, &v, &vlen))
    return fail(errstr, errlen, "expected KEY value in the header");
  int k = 0;
  while (k < H_COUNT && strcmp(key, keys[k]))
    k++;
  if (k == H_COUNT)
    return fail(errstr, errlen, "unknown header key %.31s", key);
  if (r->seen & (1u << k))
    return fail(errstr, errlen, "header key %s given twice", key);
  r->seen |= 1u << k;
  vx_output_header *h = &r->h;
  switch (k) {
  case H_BATCH:
    if (copy_value(h->batch_id, sizeof h->batch_id, v, vlen))
      return fail(errstr, errlen, "BATCH is empty or too long");
    break;
  case H_QUANTITY:
    if (parse_count(v, vlen, &h->quantity))
      return fail(errstr, errlen, "QUANTITY must be a positive number");
    break;
  case H_INPUT:
    if (vlen != 64)
      return fail(errstr, errlen, "INPUT_SHA256 must be 64 hex digits");
    for (size_t i = 0; i < 64; i++)
      if (!isxdigit((unsigned char)v[i]))
        return fail(errstr, errlen, "INPUT_SHA256 must be 64 hex digits");
    for (size_t i = 0; i < 64; i++)
      h->input_sha256[i] = (char)tolower((unsigned char)v[i]);
    h->input_sha256[64] = '\0';
    break;
  case H_KEY:
    if (copy_value(h->transport_key_id, sizeof h->transport_key_id, v, vlen))
      return fail(errstr, errlen, "TRANSPORT_KEY is empty or too long");
    break;
  case H_VARS:
    if (vlen == strlen(OUTPUT_VARS_USIM) && !memcmp(v, OUTPUT_VARS_USIM, vlen))
      h->usim = 1;
    else if (vlen == strlen(OUTPUT_VARS_2G) &&
             !memcmp(v, OUTPUT_VARS_2G, vlen))
      h->usim = 0;
    else
      return fail(errstr, errlen, "VARIABLES must be \"%s\" or \"%s\"",
                  OUTPUT_VARS_USIM, OUTPUT_VARS_2G);
    break;
  }
  return 0;
}

static int digits_field(const char *f, size_t n, size_t min, size_t max,
                        char *out) {
  if (n < min || n > max)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (f[i] < '0' || f[i] > '9')
      return -1;
  memcpy(out, f, n);
  out[n] = '\0';
  return 0;
}

/* A wrapped key: exactly 48 hex digits. */
static int key_field(const char *f, size_t n, unsigned char out[VX_WRAPPED_KEY]) {
  return n == 2 * VX_WRAPPED_KEY
             ? sp_hex_decode(f, n, out, VX_WRAPPED_KEY, NULL)
             : -1;
}

static int sim_line_fields(const char *line, size_t len, int usim, vx_sim_line *out,
                      char *errstr, size_t errlen) {
  memset(out, 0, sizeof *out);
  static const char *const names[] = {"ICCID", "IMSI", "PIN1", "PUK1", "PIN2",
                                      "PUK2",  "ADM1", "KI",   "OPC"};
  const char *f[10];
  size_t fl[10], n = 0, i = 0;
  size_t want = usim ? 9 : 8;
  while (i < len) {
    while (i < len && line[i] == ' ')
      i++;
    if (i >= len)
      break;
    size_t start = i;
    while (i < len && line[i] != ' ')
      i++;
    if (n == 10)
      return fail(errstr, errlen, "more than %zu fields", want);
    f[n] = line + start;
    fl[n++] = i - start;
  }
  if (n != want)
    return fail(errstr, errlen, "%zu fields, expected %zu (%s)", n, want,
                vx_output_variables(usim));
  struct {
    size_t min, max;
    char *dst;
  } d[] = {{19, 20, out->iccid}, {15, 15, out->imsi}, {4, 8, out->pin1},
           {8, 8, out->puk1},    {4, 8, out->pin2},   {8, 8, out->puk2},
           {8, 8, out->adm1}};
  for (size_t k = 0; k < 7; k++)
    if (digits_field(f[k], fl[k], d[k].min, d[k].max, d[k].dst)) {
      if (d[k].min == d[k].max)
        return fail(errstr, errlen, "%s must be %zu ASCII digits", names[k],
                    d[k].min);
      return fail(errstr, errlen, "%s must be %zu to %zu ASCII digits",
                  names[k], d[k].min, d[k].max);
    }
  if (key_field(f[7], fl[7], out->ki_wrapped))
    return fail(errstr, errlen, "KI must be %d hex digits (a wrapped key)",
                2 * VX_WRAPPED_KEY);
  if (usim) {
    if (key_field(f[8], fl[8], out->opc_wrapped))
      return fail(errstr, errlen,
                  "OPC must be %d hex digits (a wrapped key)",
                  2 * VX_WRAPPED_KEY);
    out->has_opc = 1;
  }
  return 0;
}

int vx_sim_line_parse(const char *line, size_t len, int usim, vx_sim_line *out,
                      char *errstr, size_t errlen) {
  int rc = sim_line_fields(line, len, usim, out, errstr, errlen);
  if (rc != 0) /* nothing half-parsed (ADM1 digits, wrapped keys) is left */
    memset(out, 0, sizeof *out);
  return rc;
}
