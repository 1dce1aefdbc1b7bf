/* registration.c - parse and check a Cục CTS notice. */
#include "registration.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ctkv, the region whose CTKV serves the person, is optional: without it
 * the A5 reminders go to Ban KHDN. */
enum { COL_AGENCY, COL_NAME, COL_ID, COL_MSISDN, COL_NEW, COL_CTKV, NCOLS };
static const char *const column_names[NCOLS] = {
    "agency", "full_name", "id_number", "msisdn", "wants_new_number", "ctkv"};

int oi_utf8_valid(const char *buf, size_t len, size_t *bad_offset) {
  const unsigned char *s = (const unsigned char *)buf;
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    size_t need;
    unsigned min;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      need = 1, min = 0x80, c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      need = 2, min = 0x800, c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      need = 3, min = 0x10000, c &= 0x07;
    } else {
      goto bad;
    }
    if (len - i <= need) /* truncated sequence */
      goto bad;
    for (size_t k = 1; k <= need; k++) {
      if ((s[i + k] & 0xC0) != 0x80)
        goto bad;
      c = (c << 6) | (s[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
      goto bad;
    i += need + 1;
  }
  return 1;
bad:
  if (bad_offset)
    *bad_offset = i;
  return 0;
}

void oi_utf8_scrub(char *s) {
  size_t len = strlen(s), off = 0, bad;
  while (off < len && !oi_utf8_valid(s + off, len - off, &bad)) {
    s[off + bad] = '?';
    off += bad + 1;
  }
}

__attribute__((format(printf, 4, 5))) static oi_error
refuse(oi_error e, char *errstr, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errstr, errlen, fmt, ap);
  va_end(ap);
  if (errlen)
    oi_utf8_scrub(errstr);
  return e;
}

static void trim(char *s) {
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
  size_t k = 0;
  while (isspace((unsigned char)s[k]))
    k++;
  memmove(s, s + k, n - k + 1);
}

static int parse_yes_no(const char *v, int *out) {
  static const char *const yes[] = {"yes", "true", "1", "y", "c\xc3\xb3", NULL};
  static const char *const no[] = {"no", "false", "0", "n",
                                   "kh\xc3\xb4ng", NULL};
  for (int i = 0; yes[i]; i++)
    if (!strcasecmp(v, yes[i]))
      return *out = 1, 0;
  for (int i = 0; no[i]; i++)
    if (!strcasecmp(v, no[i]))
      return *out = 0, 0;
  return -1;
}

/* Check one person's values (already trimmed) and fill p. An identity
 * number is never echoed in a reason: reasons travel on the topics. */
static oi_error person_fill(oi_person *p, const char *unit, int line,
                            const char *agency,
                            const char *name, const char *id,
                            const char *msisdn, int wants_new,
                            const char *ctkv, char *errstr, size_t errlen) {
  memset(p, 0, sizeof *p);
  p->line = line;
  if (ctkv && *ctkv) {
    if (strlen(ctkv) != 5 || strncmp(ctkv, "CTKV", 4) || ctkv[4] < '1' ||
        ctkv[4] > '9')
      return refuse(OI_BAD_FILE, errstr, errlen,
                    "%s %d: ctkv must be CTKV1 to CTKV9 (or empty)", unit,
                    line);
    memcpy(p->ctkv, ctkv, 6);
  }
  if (!*agency || strlen(agency) >= sizeof p->agency)
    return refuse(OI_BAD_FILE, errstr, errlen,
                  "%s %d: agency is empty or longer than 200 bytes", unit,
                  line);
  if (!*name || strlen(name) >= sizeof p->full_name)
    return refuse(OI_BAD_FILE, errstr, errlen,
                  "%s %d: full_name is empty or longer than 200 bytes",
                  unit, line);
  size_t idlen = strlen(id);
  int digits = idlen > 0;
  for (size_t i = 0; i < idlen; i++)
    digits &= isdigit((unsigned char)id[i]) != 0;
  if (!digits || (idlen != 12 && idlen != 9))
    return refuse(OI_BAD_FILE, errstr, errlen,
                  "%s %d: id_number must be 12 digits (CCCD) or 9 (CMND)",
                  unit, line);
  snprintf(p->agency, sizeof p->agency, "%s", agency);
  snprintf(p->full_name, sizeof p->full_name, "%s", name);
  snprintf(p->id_number, sizeof p->id_number, "%s", id);
  if (*msisdn) {
    char why[160];
    if (sp_phone_normalize_vn(msisdn, p->msisdn, why, sizeof why))
      return refuse(OI_BAD_FILE, errstr, errlen, "%s %d: msisdn: %s", unit,
                    line, why);
  } else if (!wants_new) {
    return refuse(OI_BAD_FILE, errstr, errlen,
                  "%s %d: no msisdn, so wants_new_number must be yes", unit,
                  line);
  }
  p->wants_new_number = wants_new;
  return OI_OK;
}

static oi_error check_duplicates(const oi_notice *n, const char *units,
                                 char *errstr, size_t errlen) {
  /* Quadratic, but a notice holds at most OI_NOTICE_MAX_PERSONS people and
   * this runs once per import. */
  for (size_t i = 0; i < n->count; i++)
    for (size_t j = i + 1; j < n->count; j++) {
      const oi_person *a = &n->persons[i], *b = &n->persons[j];
      if (!strcmp(a->id_number, b->id_number))
        return refuse(OI_DUPLICATE, errstr, errlen,
                      "%s %d and %d list the same person (same id_number)",
                      units, a->line, b->line);
      if (a->msisdn[0] && !strcmp(a->msisdn, b->msisdn))
        return refuse(OI_DUPLICATE, errstr, errlen,
                      "%s %d and %d give the same msisdn %s", units, a->line,
                      b->line, a->msisdn);
    }
  return OI_OK;
}

static oi_error set_ref(oi_notice *n, const char *ref, char *errstr,
                        size_t errlen) {
  size_t len = ref ? strlen(ref) : 0;
  int ok = len >= 3 && len < sizeof n->notice_ref &&
           isalnum((unsigned char)ref[0]);
  for (size_t i = 0; ok && i < len; i++)
    ok = isalnum((unsigned char)ref[i]) || strchr("-_./", ref[i]);
  if (!ok)
    return refuse(OI_BAD_FILE, errstr, errlen,
                  "the notice reference is missing or malformed (3 to 64 "
                  "letters, digits, - _ . /)");
  snprintf(n->notice_ref, sizeof n->notice_ref, "%s", ref);
  return OI_OK;
}

/* ---- CSV ---- */

typedef struct csv_reader {
  const char *p, *end;
  int line;
} csv_reader;

/* Read one record into fields (each malloc'd). Returns the field count,
 * 0 at the end, -1 on a quoting error. */
static int csv_record(csv_reader *r, char **fields, int max, int *too_many) {
  if (r->p >= r->end)
    return 0;
  r->line++;
  int n = 0;
  *too_many = 0;
  for (;;) {
    size_t cap = 64, len = 0;
    char *f = malloc(cap);
    int quoted = r->p < r->end && *r->p == '"';
    if (quoted)
      r->p++;
    for (;;) {
      if (r->p >= r->end) {
        if (quoted) {
          goto bad_quote;
        }
        break;
      }
      char c = *r->p;
      if (quoted) {
        if (c == '"') {
          if (r->p + 1 < r->end && r->p[1] == '"') {
            r->p += 2;
            c = '"';
          } else {
            r->p++;
            quoted = 0;
            if (r->p < r->end && !strchr(",\r\n", *r->p)) {
              goto bad_quote;
            }
            continue;
          }
        } else {
          if (c == '\n')
            r->line++;
          r->p++;
        }
      } else {
        if (c == ',' || c == '\r' || c == '\n')
          break;
        if (c == '"') {
          goto bad_quote;
        }
        r->p++;
      }
      if (len + 2 > cap)
        f = realloc(f, cap *= 2);
      f[len++] = c;
    }
    f[len] = '\0';
    if (n < max)
      fields[n++] = f;
    else {
      free(f);
      *too_many = 1;
    }
    if (r->p < r->end && *r->p == ',') {
      r->p++;
      continue;
    }
    if (r->p < r->end && *r->p == '\r')
      r->p++;
    if (r->p < r->end && *r->p == '\n')
      r->p++;
    return n;
  bad_quote: /* give back what this record took */
    free(f);
    while (n > 0)
      free(fields[--n]);
    return -1;
  }
}

static void free_fields(char **f, int n) {
  for (int i = 0; i < n; i++)
    free(f[i]);
}

static int blank_record(char **f, int n) {
  for (int i = 0; i < n; i++) {
    trim(f[i]);
    if (f[i][0])
      return 0;
  }
  return 1;
}

oi_error oi_notice_parse_csv(const char *buf, size_t len,
                             const char *notice_ref, oi_notice *out,
                             char *errstr, size_t errlen) {
  memset(out, 0, sizeof *out);
  oi_error e = set_ref(out, notice_ref, errstr, errlen);
  if (e)
    return e;
  size_t bad;
  if (!oi_utf8_valid(buf, len, &bad)) {
    int line = 1;
    for (size_t i = 0; i < bad; i++)
      line += buf[i] == '\n';
    return refuse(OI_BAD_FILE, errstr, errlen,
                  "line %d: the file is not UTF-8 (byte %zu); save it as "
                  "UTF-8",
                  line, bad + 1);
  }
  if (memchr(buf, '\0', len))
    return refuse(OI_BAD_FILE, errstr, errlen,
                  "the file holds a NUL byte; it is not a CSV text file");
  csv_reader r = {buf, buf + len, 0};
  if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
    r.p += 3;
  char *f[NCOLS + 1];
  int too_many, nf = csv_record(&r, f, NCOLS + 1, &too_many);
  if (nf <= 0)
    return refuse(OI_BAD_FILE, errstr, errlen,
                  nf == 0 ? "the file is empty; it needs a header row"
                          : "line 1: bad quoting");
  int pos[NCOLS];
  for (int c = 0; c < NCOLS; c++)
    pos[c] = -1;
  for (int i = 0; i < nf && !e; i++) {
    trim(f[i]);
    int c = 0;
    while (c < NCOLS && strcasecmp(f[i], column_names[c]))
      c++;
    if (c == NCOLS)
      e = refuse(OI_BAD_FILE, errstr, errlen,
                 "line 1: unknown column \"%.40s\" (the columns are agency, "
                 "full_name, id_number, msisdn, wants_new_number and, "
                 "optionally, ctkv)",
                 f[i]);
    else if (pos[c] >= 0)
      e = refuse(OI_BAD_FILE, errstr, errlen,
                 "line 1: column %s appears twice", column_names[c]);
    else
      pos[c] = i;
  }
  free_fields(f, nf);
  if (e)
    return e;
  for (int c = 0; c < NCOLS; c++)
    if (pos[c] < 0 && c != COL_CTKV)
      return refuse(OI_BAD_FILE, errstr, errlen,
                    "line 1: the column %s is missing", column_names[c]);
  int ncols = pos[COL_CTKV] >= 0 ? NCOLS : NCOLS - 1;
  size_t cap = 16;
  out->persons = calloc(cap, sizeof *out->persons);
  for (;;) {
    int line = r.line + 1;
    nf = csv_record(&r, f, NCOLS + 1, &too_many);
    if (nf == 0)
      break;
    if (nf < 0) {
      e = refuse(OI_BAD_FILE, errstr, errlen, "line %d: bad quoting", line);
      break;
    }
    if (nf == 1 && blank_record(f, nf)) {
      free_fields(f, nf);
      continue;
    }
    if (nf != ncols || too_many) {
      free_fields(f, nf);
      e = refuse(OI_BAD_FILE, errstr, errlen,
                 "line %d: %d fields, the header has %d", line, nf, ncols);
      break;
    }
    for (int i = 0; i < nf; i++)
      trim(f[i]);
    int wants_new = 0;
    if (parse_yes_no(f[pos[COL_NEW]], &wants_new))
      e = refuse(OI_BAD_FILE, errstr, errlen,
                 "line %d: wants_new_number must be yes or no, not \"%.20s\"",
                 line, f[pos[COL_NEW]]);
    else if (out->count == OI_NOTICE_MAX_PERSONS)
      e = refuse(OI_BAD_FILE, errstr, errlen,
                 "the notice lists more than %d people; split it",
                 OI_NOTICE_MAX_PERSONS);
    if (!e) {
      if (out->count == cap)
        out->persons = realloc(out->persons, (cap *= 2) * sizeof *out->persons);
      e = person_fill(&out->persons[out->count], "line", line, f[pos[COL_AGENCY]],
                      f[pos[COL_NAME]], f[pos[COL_ID]], f[pos[COL_MSISDN]],
                      wants_new,
                      pos[COL_CTKV] >= 0 ? f[pos[COL_CTKV]] : NULL, errstr,
                      errlen);
      if (!e)
        out->count++;
    }
    free_fields(f, nf);
    if (e)
      break;
  }
  if (!e && out->count == 0)
    e = refuse(OI_BAD_FILE, errstr, errlen,
               "the notice lists nobody (only a header row)");
  if (!e)
    e = check_duplicates(out, "lines", errstr, errlen);
  if (e)
    oi_notice_clear(out);
  return e;
}

/* ---- JSON ---- */

static const char *str_member(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : NULL;
}

oi_error oi_notice_parse_json(const char *buf, size_t len, oi_notice *out,
                              char *errstr, size_t errlen) {
  memset(out, 0, sizeof *out);
  json_error_t je;
  json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return refuse(OI_BAD_FILE, errstr, errlen,
                  "the notice is not valid JSON (UTF-8): %s (line %d)",
                  je.text, je.line);
  oi_error e = OI_OK;
  json_t *persons = json_object_get(root, "persons");
  if (!json_is_object(root) || json_object_size(root) != 2 ||
      !json_is_array(persons)) {
    e = refuse(OI_BAD_FILE, errstr, errlen,
               "the notice must be an object with exactly notice_ref and "
               "persons (an array)");
    goto done;
  }
  if ((e = set_ref(out, str_member(root, "notice_ref"), errstr, errlen)))
    goto done;
  size_t n = json_array_size(persons);
  if (n == 0 || n > OI_NOTICE_MAX_PERSONS) {
    e = refuse(OI_BAD_FILE, errstr, errlen,
               "persons must list 1 to %d people, not %zu",
               OI_NOTICE_MAX_PERSONS, n);
    goto done;
  }
  out->persons = calloc(n, sizeof *out->persons);
  for (size_t i = 0; i < n && !e; i++) {
    json_t *p = json_array_get(persons, i);
    int line = (int)i + 1;
    const char *key;
    json_t *v;
    if (!json_is_object(p)) {
      e = refuse(OI_BAD_FILE, errstr, errlen,
                 "person %d is not an object", line);
      break;
    }
    json_object_foreach(p, key, v) {
      int c = 0;
      while (c < NCOLS && strcmp(key, column_names[c]))
        c++;
      if (c == NCOLS) {
        e = refuse(OI_BAD_FILE, errstr, errlen,
                   "person %d: unknown field \"%.40s\"", line, key);
        break;
      }
    }
    if (e)
      break;
    const char *agency = str_member(p, "agency"),
               *name = str_member(p, "full_name"),
               *id = str_member(p, "id_number"),
               *msisdn = str_member(p, "msisdn");
    json_t *wn = json_object_get(p, "wants_new_number");
    if (json_object_get(p, "msisdn") && !msisdn && !json_is_null(json_object_get(p, "msisdn"))) {
      e = refuse(OI_BAD_FILE, errstr, errlen,
                 "person %d: msisdn must be a string", line);
      break;
    }
    for (int c = 0; c < NCOLS && !e; c++)
      if (c != COL_MSISDN && c != COL_CTKV &&
          !json_object_get(p, column_names[c]))
        e = refuse(OI_BAD_FILE, errstr, errlen,
                   "person %d: the field %s is missing", line,
                   column_names[c]);
    if (!e && (!agency || !name || !id || !json_is_boolean(wn)))
      e = refuse(OI_BAD_FILE, errstr, errlen,
                 "person %d: agency, full_name and id_number must be strings "
                 "and wants_new_number true or false",
                 line);
    if (e)
      break;
    char a[256], nm[256], idn[32], ms[64];
    snprintf(a, sizeof a, "%s", agency);
    snprintf(nm, sizeof nm, "%s", name);
    snprintf(idn, sizeof idn, "%s", id);
    snprintf(ms, sizeof ms, "%s", msisdn ? msisdn : "");
    trim(a), trim(nm), trim(idn), trim(ms);
    if (strlen(agency) >= sizeof a || strlen(name) >= sizeof nm)
      e = refuse(OI_BAD_FILE, errstr, errlen,
                 "person %d: agency or full_name longer than 200 bytes", line);
    else if (strlen(id) >= sizeof idn ||
             (msisdn && strlen(msisdn) >= sizeof ms))
      /* Cut to fit, "0901234567" + blanks + anything would pass. */
      e = refuse(OI_BAD_FILE, errstr, errlen,
                 "person %d: id_number or msisdn is too long", line);
    else
      e = person_fill(&out->persons[i], "person", line, a, nm, idn, ms,
                      json_is_true(wn), str_member(p, "ctkv"), errstr,
                      errlen);
    if (!e)
      out->count++;
  }
  if (!e)
    e = check_duplicates(out, "persons", errstr, errlen);
done:
  json_decref(root);
  if (e)
    oi_notice_clear(out);
  return e;
}

void oi_notice_clear(oi_notice *n) {
  free(n->persons);
  memset(n, 0, sizeof *n);
}
