/* template.c - message templates: strict loading, simple rendering. */
#include "template.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the shipped kinds ------------------------------------------------- */

static const char *const PH_ORDER_ACCEPTED[] = {
    "order_id", "bcycp_ref", "vendor_id", "quantity", "state", NULL};
static const char *const PH_ORDER_REJECTED[] = {"bcycp_ref", "reason", NULL};
static const char *const PH_PILOT_RESULT[] = {"vendor_id", "result",
                                              "evidence", NULL};
static const char *const PH_BATCH_REPORT[] = {
    "batch_id",   "order_id",   "sims",      "loaded",   "already_present",
    "failed",     "duration",   "imsi_first", "imsi_last", "failures",
    NULL};
static const char *const PH_HANDOVER[] = {"ctkv",    "sims",    "iccid_first",
                                          "iccid_last", "purpose", "move_id",
                                          NULL};
static const char *const PH_CASE[] = {"case_id",  "agency", "full_name",
                                      "deadline", "region", NULL};
static const char *const PH_CONNECTED_SMS[] = {"msisdn", "full_name",
                                               "package", NULL};

const nt_template_spec nt_template_specs[] = {
    {"order_accepted", PH_ORDER_ACCEPTED, NT_TEMPLATE_MAIL},
    {"order_rejected", PH_ORDER_REJECTED, NT_TEMPLATE_MAIL},
    {"pilot_result", PH_PILOT_RESULT, NT_TEMPLATE_MAIL},
    {"batch_report", PH_BATCH_REPORT, NT_TEMPLATE_MAIL},
    {"handover", PH_HANDOVER, NT_TEMPLATE_MAIL},
    {"case_due", PH_CASE, NT_TEMPLATE_MAIL},
    {"case_breached", PH_CASE, NT_TEMPLATE_MAIL},
    {"connected_sms", PH_CONNECTED_SMS, NT_TEMPLATE_SMS},
};
const size_t nt_template_nspecs =
    sizeof nt_template_specs / sizeof nt_template_specs[0];

/* ---- compiled form ----------------------------------------------------- */

/* A text is a list of pieces: literal bytes of the template, or a
 * placeholder (index into the kind's names). */
typedef struct piece {
  int ph; /* -1: literal */
  size_t off, len;
} piece;

typedef struct part {
  piece *pieces;
  size_t n, cap;
} part;

typedef struct tpl {
  char *kind;
  char **names; /* copied from the spec: specs need not outlive us */
  size_t nnames;
  int has_subject;
  char *text; /* normalized file text; pieces point into it */
  part subject, body;
} tpl;

struct nt_templates {
  tpl *items;
  size_t n;
};

static void part_free(part *p) {
  free(p->pieces);
  memset(p, 0, sizeof *p);
}

static void tpl_free(tpl *t) {
  free(t->kind);
  for (size_t i = 0; i < t->nnames; i++)
    free(t->names[i]);
  free(t->names);
  free(t->text);
  part_free(&t->subject);
  part_free(&t->body);
}

void nt_templates_free(nt_templates *t) {
  if (!t)
    return;
  for (size_t i = 0; i < t->n; i++)
    tpl_free(&t->items[i]);
  free(t->items);
  free(t);
}

static int part_add(part *p, int ph, size_t off, size_t len) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 16;
    piece *np = realloc(p->pieces, cap * sizeof *np);
    if (!np)
      return -1;
    p->pieces = np;
    p->cap = cap;
  }
  p->pieces[p->n++] = (piece){ph, off, len};
  return 0;
}

/* ---- UTF-8 ------------------------------------------------------------- */

int nt_utf8_valid(const char *s, size_t len, size_t *bad) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    unsigned c = u[i];
    size_t need;
    unsigned min, cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      need = 1, min = 0x80, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2, min = 0x800, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3, min = 0x10000, cp = c & 0x07;
    } else {
      goto fail;
    }
    if (len - i <= need)
      goto fail;
    for (size_t k = 1; k <= need; k++) {
      if ((u[i + k] & 0xC0) != 0x80)
        goto fail;
      cp = cp << 6 | (u[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      goto fail;
    i += need + 1;
  }
  return 1;
fail:
  if (bad)
    *bad = i;
  return 0;
}

/* ---- parsing ----------------------------------------------------------- */

static int valid_name(const char *s, size_t len) {
  if (len == 0 || len > NT_TEMPLATE_NAME_MAX)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
          s[i] == '_'))
      return 0;
  return 1;
}

static int find_name(char *const *names, size_t n, const char *s, size_t len) {
  for (size_t i = 0; i < n; i++)
    if (strlen(names[i]) == len && !memcmp(names[i], s, len))
      return (int)i;
  return -1;
}

/* "a, b, c" of the kind's names, for an error message. */
static void list_names(char *const *names, size_t n, char *out, size_t cap) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n && used < cap; i++) {
    int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", names[i]);
    if (w < 0)
      break;
    used += (size_t)w;
  }
}

/* Compiles text[from, to) (lines counted from line) into p. */
static int compile(tpl *t, part *p, size_t from, size_t to, int line,
                   const char *origin, char *errstr, size_t errlen) {
  const char *s = t->text;
  size_t lit = from, i = from;
  while (i < to) {
    if (s[i] == '\n') {
      line++;
      i++;
      continue;
    }
    if (!(s[i] == '{' && i + 1 < to && s[i + 1] == '{')) {
      i++;
      continue;
    }
    size_t nb = i + 2, ne = nb;
    while (ne + 1 < to && s[ne] != '\n' && !(s[ne] == '}' && s[ne + 1] == '}'))
      ne++;
    if (ne + 1 >= to || s[ne] == '\n') {
      snprintf(errstr, errlen,
               "%s:%d: unclosed \"{{\" (a placeholder is {{name}} on one line)",
               origin, line);
      return -1;
    }
    if (!valid_name(s + nb, ne - nb)) {
      snprintf(errstr, errlen,
               "%s:%d: bad placeholder \"{{%.*s}}\" (a name is [a-z0-9_]+, "
               "at most %d characters, no spaces)",
               origin, line, (int)(ne - nb > 80 ? 80 : ne - nb), s + nb,
               NT_TEMPLATE_NAME_MAX);
      return -1;
    }
    int ph = find_name(t->names, t->nnames, s + nb, ne - nb);
    if (ph < 0) {
      char known[512];
      list_names(t->names, t->nnames, known, sizeof known);
      snprintf(errstr, errlen,
               "%s:%d: unknown placeholder {{%.*s}}: %s may use only %s",
               origin, line, (int)(ne - nb), s + nb, t->kind, known);
      return -1;
    }
    if ((i > lit && part_add(p, -1, lit, i - lit) != 0) ||
        part_add(p, ph, 0, 0) != 0) {
      snprintf(errstr, errlen, "%s: out of memory", origin);
      return -1;
    }
    i = lit = ne + 2;
  }
  if (to > lit && part_add(p, -1, lit, to - lit) != 0) {
    snprintf(errstr, errlen, "%s: out of memory", origin);
    return -1;
  }
  return 0;
}

static int line_of(const char *s, size_t off) {
  int line = 1;
  for (size_t i = 0; i < off; i++)
    line += s[i] == '\n';
  return line;
}

/* Checks the raw bytes and makes t->text: BOM dropped, CRLF -> LF. */
static int normalize(tpl *t, const char *origin, const char *text, size_t len,
                     char *errstr, size_t errlen) {
  if (len > NT_TEMPLATE_FILE_MAX) {
    snprintf(errstr, errlen, "%s: larger than %d bytes", origin,
             NT_TEMPLATE_FILE_MAX);
    return -1;
  }
  if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
    text += 3, len -= 3;
  size_t bad;
  if (!nt_utf8_valid(text, len, &bad)) {
    size_t bol = bad;
    while (bol > 0 && text[bol - 1] != '\n')
      bol--;
    snprintf(errstr, errlen,
             "%s:%d: not valid UTF-8 (byte %zu of the line); save the file "
             "as UTF-8",
             origin, line_of(text, bad), bad - bol + 1);
    return -1;
  }
  char *out = malloc(len + 1);
  if (!out) {
    snprintf(errstr, errlen, "%s: out of memory", origin);
    return -1;
  }
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c == '\r' && i + 1 < len && text[i + 1] == '\n')
      continue;
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
      snprintf(errstr, errlen,
               "%s:%d: control character 0x%02X (only tab and line feed are "
               "allowed)",
               origin, line_of(text, i), c);
      free(out);
      return -1;
    }
    out[o++] = (char)c;
  }
  out[o] = '\0';
  t->text = out;
  return 0;
}

static int tpl_init(tpl *t, const nt_template_spec *spec, const char *origin,
                    char *errstr, size_t errlen) {
  memset(t, 0, sizeof *t);
  size_t n = 0;
  if (!spec->kind || !valid_name(spec->kind, strlen(spec->kind))) {
    snprintf(errstr, errlen,
             "template kind \"%.64s\" is not [a-z0-9_]{1,%d}",
             spec->kind ? spec->kind : "(null)", NT_TEMPLATE_KIND_MAX);
    return -1;
  }
  while (spec->placeholders && spec->placeholders[n])
    n++;
  t->kind = strdup(spec->kind);
  t->names = calloc(n ? n : 1, sizeof *t->names);
  if (!t->kind || !t->names)
    goto oom;
  for (size_t i = 0; i < n; i++) {
    const char *nm = spec->placeholders[i];
    if (!valid_name(nm, strlen(nm))) {
      snprintf(errstr, errlen,
               "template kind %s: placeholder name \"%.64s\" is not "
               "[a-z0-9_]{1,%d}",
               spec->kind, nm, NT_TEMPLATE_NAME_MAX);
      tpl_free(t);
      return -1;
    }
    if (!(t->names[i] = strdup(nm)))
      goto oom;
    t->nnames = i + 1;
  }
  return 0;
oom:
  snprintf(errstr, errlen, "%s: out of memory", origin);
  tpl_free(t);
  return -1;
}

static int tpl_parse(tpl *t, const nt_template_spec *spec, const char *origin,
                     const char *text, size_t len, char *errstr,
                     size_t errlen) {
  if (tpl_init(t, spec, origin, errstr, errlen) != 0)
    return -1;
  if (normalize(t, origin, text, len, errstr, errlen) != 0)
    goto fail;
  const char *s = t->text;
  size_t total = strlen(s), body = 0;
  int body_line = 1;
  static const char SUBJ[] = "Subject:";
  int says_subject = !strncmp(s, SUBJ, sizeof SUBJ - 1);
  if (spec->channel == NT_TEMPLATE_SMS && says_subject) {
    snprintf(errstr, errlen,
             "%s:1: an SMS template is the message text only, without a "
             "\"Subject:\" line",
             origin);
    goto fail;
  }
  if (spec->channel == NT_TEMPLATE_MAIL) {
    if (!says_subject) {
      snprintf(errstr, errlen,
               "%s:1: an e-mail template starts with \"Subject: ...\", then "
               "a blank line, then the body",
               origin);
      goto fail;
    }
    const char *nl = strchr(s, '\n');
    size_t a = sizeof SUBJ - 1, b = nl ? (size_t)(nl - s) : total;
    while (a < b && (s[a] == ' ' || s[a] == '\t'))
      a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
      b--;
    if (a == b) {
      snprintf(errstr, errlen, "%s:1: the subject is empty", origin);
      goto fail;
    }
    if (!nl || nl[1] != '\n') {
      snprintf(errstr, errlen,
               "%s:2: a blank line must follow the subject line", origin);
      goto fail;
    }
    t->has_subject = 1;
    if (compile(t, &t->subject, a, b, 1, origin, errstr, errlen) != 0)
      goto fail;
    body = (size_t)(nl - s) + 2;
    body_line = 3;
  }
  size_t end = total;
  while (end > body && (s[end - 1] == '\n' || s[end - 1] == ' ' ||
                        s[end - 1] == '\t'))
    end--;
  if (end == body) {
    snprintf(errstr, errlen, "%s:%d: the message body is empty", origin,
             body_line);
    goto fail;
  }
  if (compile(t, &t->body, body, end, body_line, origin, errstr, errlen) != 0)
    goto fail;
  return 0;
fail:
  tpl_free(t);
  return -1;
}

int nt_templates_parse(const char *origin, const char *text, size_t len,
                       const nt_template_spec *spec, nt_templates **out,
                       char *errstr, size_t errlen) {
  nt_templates *ts = calloc(1, sizeof *ts);
  if (!ts || !(ts->items = calloc(1, sizeof *ts->items))) {
    free(ts);
    snprintf(errstr, errlen, "%s: out of memory", origin);
    return -1;
  }
  if (tpl_parse(&ts->items[0], spec, origin, text, len, errstr, errlen) != 0) {
    nt_templates_free(ts);
    return -1;
  }
  ts->n = 1;
  *out = ts;
  return 0;
}

/* Reads a whole template file, bounded. */
static int read_file(const char *path, char **out, size_t *len, char *errstr,
                     size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0) {
    snprintf(errstr, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(errstr, errlen, "%s: not a regular file", path);
    close(fd);
    return -1;
  }
  if (st.st_size > NT_TEMPLATE_FILE_MAX) {
    snprintf(errstr, errlen, "%s: larger than %d bytes", path,
             NT_TEMPLATE_FILE_MAX);
    close(fd);
    return -1;
  }
  size_t cap = (size_t)st.st_size + 1, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) {
    snprintf(errstr, errlen, "%s: out of memory", path);
    close(fd);
    return -1;
  }
  for (;;) {
    ssize_t got = read(fd, buf + n, cap - n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0 || n + (size_t)got == cap) {
      snprintf(errstr, errlen, "%s: %s", path,
               got < 0 ? strerror(errno) : "grew while it was read");
      free(buf);
      close(fd);
      return -1;
    }
    if (got == 0)
      break;
    n += (size_t)got;
  }
  close(fd);
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
}

int nt_templates_load(const char *dir, const nt_template_spec *specs, size_t n,
                      nt_templates **out, char *errstr, size_t errlen) {
  nt_templates *ts = calloc(1, sizeof *ts);
  if (!ts || !(ts->items = calloc(n ? n : 1, sizeof *ts->items))) {
    free(ts);
    snprintf(errstr, errlen, "out of memory loading templates");
    return -1;
  }
  /* The list itself first: a mistake there is the code's, not a file's. */
  for (size_t i = 0; i < n; i++) {
    const char *kind = specs[i].kind;
    if (!kind || !valid_name(kind, strlen(kind))) {
      snprintf(errstr, errlen, "template kind \"%.64s\" is not [a-z0-9_]{1,%d}",
               kind ? kind : "(null)", NT_TEMPLATE_KIND_MAX);
      goto fail;
    }
    for (size_t k = 0; k < i; k++)
      if (!strcmp(specs[k].kind, kind)) {
        snprintf(errstr, errlen, "template kind %s is listed twice", kind);
        goto fail;
      }
  }
  for (size_t i = 0; i < n; i++) {
    const char *kind = specs[i].kind;
    char path[4096], *text;
    size_t len;
    if ((size_t)snprintf(path, sizeof path, "%s/%s.txt", dir, kind) >=
        sizeof path) {
      snprintf(errstr, errlen, "template folder path too long");
      goto fail;
    }
    if (read_file(path, &text, &len, errstr, errlen) != 0)
      goto fail;
    int rc = tpl_parse(&ts->items[i], &specs[i], path, text, len, errstr,
                       errlen);
    free(text);
    if (rc != 0)
      goto fail;
    ts->n = i + 1;
  }
  *out = ts;
  return 0;
fail:
  nt_templates_free(ts);
  return -1;
}

/* ---- rendering --------------------------------------------------------- */

typedef struct buf {
  char *p;
  size_t len, cap;
} buf;

static int buf_add(buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np)
      return -1;
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static int render_part(const tpl *t, const part *p, const char *const *vals,
                       int subject, buf *b, char *errstr, size_t errlen) {
  if (buf_add(b, "", 0) != 0)
    goto oom;
  for (size_t i = 0; i < p->n; i++) {
    const piece *pc = &p->pieces[i];
    if (pc->ph < 0) {
      if (buf_add(b, t->text + pc->off, pc->len) != 0)
        goto oom;
      continue;
    }
    const char *v = vals[pc->ph];
    if (!v) {
      snprintf(errstr, errlen, "template %s: no value for {{%s}}", t->kind,
               t->names[pc->ph]);
      return -1;
    }
    if (subject && strpbrk(v, "\r\n")) {
      snprintf(errstr, errlen,
               "template %s: the value of {{%s}} has a line break and is "
               "used in the subject",
               t->kind, t->names[pc->ph]);
      return -1;
    }
    if (!*v) {
      /* An optional value left out: drop the space that introduced it. */
      if (b->len > 0 && b->p[b->len - 1] == ' ')
        b->p[--b->len] = '\0';
      continue;
    }
    if (buf_add(b, v, strlen(v)) != 0)
      goto oom;
  }
  return 0;
oom:
  snprintf(errstr, errlen, "template %s: out of memory", t->kind);
  return -1;
}

int nt_template_render(const nt_templates *ts, const char *kind,
                       const char *const *keys, const char *const *values,
                       size_t n, char **subject, char **body, char *errstr,
                       size_t errlen) {
  const tpl *t = NULL;
  for (size_t i = 0; ts && kind && i < ts->n; i++)
    if (!strcmp(ts->items[i].kind, kind))
      t = &ts->items[i];
  if (!t) {
    snprintf(errstr, errlen, "no template loaded for kind \"%.64s\"",
             kind ? kind : "(null)");
    return -1;
  }
  const char **vals = calloc(t->nnames ? t->nnames : 1, sizeof *vals);
  buf sb = {0}, bb = {0};
  if (!vals) {
    snprintf(errstr, errlen, "template %s: out of memory", t->kind);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    int ph = keys[i] ? find_name(t->names, t->nnames, keys[i],
                                 strlen(keys[i]))
                     : -1;
    if (ph < 0) {
      char known[512];
      list_names(t->names, t->nnames, known, sizeof known);
      snprintf(errstr, errlen, "template %s has no placeholder \"%.64s\" (%s)",
               t->kind, keys[i] ? keys[i] : "(null)", known);
      goto fail;
    }
    if (vals[ph]) {
      snprintf(errstr, errlen, "template %s: two values for {{%s}}", t->kind,
               keys[i]);
      goto fail;
    }
    if (values[i] && !nt_utf8_valid(values[i], strlen(values[i]), NULL)) {
      snprintf(errstr, errlen,
               "template %s: the value of {{%s}} is not valid UTF-8", t->kind,
               keys[i]);
      goto fail;
    }
    vals[ph] = values[i];
  }
  if (t->has_subject &&
      render_part(t, &t->subject, vals, 1, &sb, errstr, errlen) != 0)
    goto fail;
  if (render_part(t, &t->body, vals, 0, &bb, errstr, errlen) != 0)
    goto fail;
  if (subject)
    *subject = sb.p; /* NULL for an SMS kind */
  else
    free(sb.p);
  *body = bb.p;
  free(vals);
  return 0;
fail:
  free(sb.p);
  free(bb.p);
  free(vals);
  return -1;
}
