/* jschema.c - JSON Schema (draft 2020-12 subset) validation; see jschema.h.
 *
 * Each schema file is compiled once into a tree of js_node: keyword values
 * are checked, regexes translated and compiled, and every node is recorded
 * in its file's index under its JSON pointer so that "#/$defs/x" refs
 * resolve to a node. Refs are linked after every file is loaded. */
#include "jschema.h"

#include "redfa.h"

#include <dirent.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define META_2020_12 "https://json-schema.org/draft/2020-12/schema"
#define MAX_DIR_DEPTH 16
#define MAX_VALIDATE_DEPTH 128 /* schema levels; stops $ref cycles */
#define MAX_REPEAT 1000        /* largest {n,m} bound accepted */

enum {
  T_NULL = 1,
  T_BOOLEAN = 2,
  T_OBJECT = 4,
  T_ARRAY = 8,
  T_NUMBER = 16,
  T_STRING = 32,
  T_INTEGER = 64,
};

static const struct {
  const char *name;
  unsigned bit;
} type_names[] = {
    {"null", T_NULL},     {"boolean", T_BOOLEAN}, {"object", T_OBJECT},
    {"array", T_ARRAY},   {"number", T_NUMBER},   {"string", T_STRING},
    {"integer", T_INTEGER},
};

typedef struct js_node js_node;

typedef struct {
  js_node **v;
  size_t n;
} js_list;

typedef struct {
  char *name;
  size_t nlen;
  js_node *schema;
  int required; /* named in the node's "required" */
} js_prop;

struct js_node {
  int bool_schema; /* -1: an object schema; 0 or 1: false or true */
  unsigned types;  /* T_* bits; 0 when there is no "type" */
  const json_t *konst; /* borrowed from the file's JSON, like the others */
  /* A string or integer const as the flat check compares it, without a
   * call into jansson per event: K_STRING, K_INTEGER, else K_OTHER. */
  enum { K_OTHER, K_STRING, K_INTEGER } konst_kind;
  const char *konst_str;
  size_t konst_len;
  long long konst_int;
  const json_t *enumv;
  const json_t *required;
  const json_t *minimum, *maximum, *xminimum, *xmaximum;
  json_int_t min_len, max_len, min_items, max_items; /* -1: absent */
  char *pattern; /* as written, for messages */
  regex_t re;
  int has_re;
  sp_redfa *dfa; /* the same pattern as a DFA, when small enough */
  js_prop *props;
  size_t nprops;
  /* For objects read in key order (check_object): the properties in key
   * order, how many of them are required, and whether "required" names
   * any that is no property (then the slow way). */
  size_t *props_sorted;
  size_t nreq_props;
  int req_elsewhere;
  js_node *additional, *items, *not_;
  js_list all_of, any_of, one_of;
  char *ref;      /* as written */
  js_node *ref_to; /* linked after every file is loaded */
  unsigned what;   /* W_* bits: which checks have something to check */
};

/* A node's checks that have something to check, so that a value skips the
 * others without looking (most nodes are a type and one bound). */
enum {
  W_TYPE = 1,
  W_VALUES = 2,
  W_STRING = 4,
  W_NUMBER = 8,
  W_OBJECT = 16,
  W_ARRAY = 32,
  W_COMBINATORS = 64
};

typedef struct {
  char *ptr; /* JSON pointer of the node in its file ("" for the root) */
  js_node *node;
} js_entry;

typedef struct {
  char *file; /* full path, for messages */
  char *rel;  /* path below the loaded folder, e.g. "orders/x.json" */
  char *name; /* file name without .json */
  char *id;   /* $id or NULL */
  json_t *json;
  js_entry *index;
  size_t n, cap;
} js_doc;

typedef struct {
  const char *key; /* NULL: empty */
  size_t doc;
} doc_slot;

struct sp_jschema_set {
  js_doc **docs;
  size_t n, cap;
  /* Name or $id -> the first doc that has it, built once loaded: a replay
   * looks a schema up for every event, and a scan compared up to two
   * strings per doc. */
  doc_slot *by_name;
  size_t nslots; /* a power of two, or 0 before the index is built */
};

/* ---- small helpers ------------------------------------------------------ */

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p)
    memcpy(p, s, n);
  return p;
}

/* base + "/" + seg with seg escaped as RFC 6901 asks (~ -> ~0, / -> ~1). */
static char *ptr_add(const char *base, const char *seg) {
  size_t bl = strlen(base), sl = strlen(seg), extra = 0;
  for (size_t i = 0; i < sl; i++)
    extra += seg[i] == '~' || seg[i] == '/';
  char *p = malloc(bl + 1 + sl + extra + 1);
  if (!p)
    return NULL;
  memcpy(p, base, bl);
  size_t o = bl;
  p[o++] = '/';
  for (size_t i = 0; i < sl; i++) {
    if (seg[i] == '~' || seg[i] == '/') {
      p[o++] = '~';
      p[o++] = seg[i] == '~' ? '0' : '1';
    } else {
      p[o++] = seg[i];
    }
  }
  p[o] = '\0';
  return p;
}

static char *ptr_index(const char *base, size_t i) {
  char seg[24];
  snprintf(seg, sizeof seg, "%zu", i);
  return ptr_add(base, seg);
}

/* Bytes of s to quote so a cut never ends inside a UTF-8 character
 * (messages may go into JSON, which refuses half of one). */
static size_t utf8_cut(const char *s, size_t len, size_t max) {
  if (len <= max)
    return len;
  size_t n = max;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
    n--;
  return n;
}

/* A value as compact JSON for a message, cut at about 60 bytes. */
static void show(const json_t *v, char out[80]) {
  char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
  if (!s) {
    snprintf(out, 80, "(value)");
    return;
  }
  size_t len = strlen(s), n = utf8_cut(s, len, 60);
  snprintf(out, 80, "%.*s%s", (int)n, s, n < len ? "..." : "");
  free(s);
}

static int is_integral(const json_t *v) {
  if (json_is_integer(v))
    return 1;
  if (!json_is_real(v))
    return 0;
  /* Every double beyond 2^53 is integral; below, the cast truncates.
   * (No floor(): common does not link libm.) */
  double d = json_real_value(v);
  if (!isfinite(d))
    return 0;
  if (d > 9e15 || d < -9e15)
    return 1;
  return d == (double)(int64_t)d;
}

/* -1, 0, 1 like strcmp. Both integers compare exactly; otherwise as
 * doubles (integers beyond 2^53 lose precision; no schema needs them). */
static int num_cmp(const json_t *a, const json_t *b) {
  if (json_is_integer(a) && json_is_integer(b)) {
    json_int_t x = json_integer_value(a), y = json_integer_value(b);
    return (x > y) - (x < y);
  }
  double x = json_number_value(a), y = json_number_value(b);
  return (x > y) - (x < y);
}

/* JSON Schema equality: numbers by value (1 == 1.0), booleans never equal
 * to numbers, objects regardless of key order. json_equal() would call
 * 1 and 1.0 different. */
static int js_equal(const json_t *a, const json_t *b) {
  if (json_is_number(a) && json_is_number(b))
    return num_cmp(a, b) == 0;
  if (json_typeof(a) != json_typeof(b))
    return 0;
  if (json_is_array(a)) {
    if (json_array_size(a) != json_array_size(b))
      return 0;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!js_equal(json_array_get(a, i), json_array_get(b, i)))
        return 0;
    return 1;
  }
  if (json_is_object(a)) {
    const char *k;
    const json_t *va;
    if (json_object_size(a) != json_object_size(b))
      return 0;
    json_object_foreach((json_t *)a, k, va) {
      const json_t *vb = json_object_get(b, k);
      if (!vb || !js_equal(va, vb))
        return 0;
    }
    return 1;
  }
  return json_equal((json_t *)a, (json_t *)b);
}

static unsigned type_of(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_NULL: return T_NULL;
  case JSON_TRUE:
  case JSON_FALSE: return T_BOOLEAN;
  case JSON_OBJECT: return T_OBJECT;
  case JSON_ARRAY: return T_ARRAY;
  case JSON_STRING: return T_STRING;
  case JSON_INTEGER: return T_NUMBER | T_INTEGER;
  case JSON_REAL: return is_integral(v) ? T_NUMBER | T_INTEGER : T_NUMBER;
  }
  return 0;
}

/* Code points, as the specification counts string lengths. */
static size_t utf8_length(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

/* ---- ECMA-262 regex to POSIX ERE --------------------------------------- */

typedef struct {
  char *p;
  size_t n, cap;
  int oom;
} sbuf;

static void sb_putc(sbuf *b, char c) {
  if (b->oom)
    return;
  if (b->n + 2 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  b->p[b->n++] = c;
  b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s) {
  while (*s)
    sb_putc(b, *s++);
}

/* One character as an ERE literal outside brackets. */
static void ere_literal(sbuf *b, char c) {
  if (strchr(".[]()*+?{}|^$\\", c))
    sb_putc(b, '\\');
  sb_putc(b, c);
}

/* A set of ASCII characters as an ERE bracket expression. Members are
 * listed one by one (no ranges: ranges follow the locale's collation), with
 * ']' first and '^', '-' last, where POSIX reads them literally. */
static void ere_set(sbuf *b, const unsigned char set[128]) {
  int count = 0, last = 0, others = 0;
  for (int c = 1; c < 128; c++)
    if (set[c]) {
      count++;
      last = c;
      others += c != ']' && c != '^' && c != '-';
    }
  if (count == 1) {
    ere_literal(b, (char)last);
    return;
  }
  sb_putc(b, '[');
  if (set[']'])
    sb_putc(b, ']');
  else if (!others) { /* only '^' and '-': "[-^]", not the negation "[^-]" */
    sb_puts(b, "-^]");
    return;
  }
  for (int c = 1; c < 128; c++)
    if (set[c] && c != ']' && c != '^' && c != '-')
      sb_putc(b, (char)c);
  if (set['^'])
    sb_putc(b, '^');
  if (set['-'])
    sb_putc(b, '-');
  sb_putc(b, ']');
}

static void set_range(unsigned char set[128], int lo, int hi) {
  for (int c = lo; c <= hi; c++)
    set[c] = 1;
}

static void set_word(unsigned char set[128]) {
  set_range(set, 'a', 'z');
  set_range(set, 'A', 'Z');
  set_range(set, '0', '9');
  set['_'] = 1;
}

/* A control escape (\n \t \r \f \v): its character, else 0. */
static char control_escape(char e) {
  switch (e) {
  case 'n': return '\n';
  case 't': return '\t';
  case 'r': return '\r';
  case 'f': return '\f';
  case 'v': return '\v';
  }
  return 0;
}

#define RX_PUNCT "^$\\.*+?()[]{}|/-"

/* Why an escape cannot be translated. */
static int rx_refuse_escape(char e, char *why, size_t whylen) {
  if (e == 'D' || e == 'W' || e == 'S' || e == 's')
    snprintf(why, whylen, "\\%c is not supported (it would match bytes, "
             "not characters)", e);
  else if (e >= '1' && e <= '9')
    snprintf(why, whylen, "back-reference \\%c is not supported", e);
  else if (e == '\0')
    snprintf(why, whylen, "a trailing backslash");
  else
    snprintf(why, whylen, "escape \\%c is not supported", e);
  return -1;
}

/* The class starting after '[' at *pp: into set, *pp past its ']'. */
static int rx_class(const char **pp, unsigned char set[128], char *why,
                    size_t whylen) {
  const char *p = *pp;
  if (*p == '^') {
    snprintf(why, whylen, "a negated class [^...] is not supported (it would "
             "match bytes, not characters)");
    return -1;
  }
  if (*p == ']') {
    snprintf(why, whylen, "an empty class [] is not supported");
    return -1;
  }
  int prev = -1; /* the last single character added, for a range */
  while (*p != ']') {
    int c = (unsigned char)*p, single = 1;
    if (c == '\0') {
      snprintf(why, whylen, "a class without its closing ']'");
      return -1;
    }
    if (c >= 0x80) {
      snprintf(why, whylen, "a non-ASCII character is not supported");
      return -1;
    }
    p++;
    if (c == '\\') {
      char e = *p++;
      if (e == 'd') {
        set_range(set, '0', '9');
        single = 0;
      } else if (e == 'w') {
        set_word(set);
        single = 0;
      } else if (control_escape(e)) {
        c = control_escape(e);
      } else if (e && strchr(RX_PUNCT, e)) {
        c = e;
      } else {
        return rx_refuse_escape(e, why, whylen);
      }
    } else if (c == '-' && prev >= 0 && *p != ']') {
      /* A range prev-hi: hi is the next single character. */
      int hi = (unsigned char)*p++;
      if (hi == '\\') {
        char e = *p++;
        if (control_escape(e))
          hi = control_escape(e);
        else if (e && strchr(RX_PUNCT, e))
          hi = e;
        else
          return rx_refuse_escape(e, why, whylen);
      }
      if (hi >= 0x80 || hi < prev) {
        snprintf(why, whylen, "class range %c-%c is out of order or not "
                 "ASCII", prev, hi);
        return -1;
      }
      set_range(set, prev, hi);
      prev = -1;
      continue;
    }
    if (single) {
      set[c] = 1;
      prev = c;
    } else {
      prev = -1;
      if (*p == '-' && p[1] != ']') {
        snprintf(why, whylen, "a range from a class escape is not supported");
        return -1;
      }
    }
  }
  *pp = p + 1;
  return 0;
}

/* "{n}", "{n,}", "{n,m}" at *pp ('{'): copied to out, *pp past '}'. */
static int rx_braces(const char **pp, sbuf *out, char *why, size_t whylen) {
  const char *p = *pp + 1;
  long lo = 0, hi = -1;
  int digits = 0, comma = 0;
  for (; *p >= '0' && *p <= '9'; p++, digits++)
    lo = lo < 100000 ? lo * 10 + (*p - '0') : lo;
  if (*p == ',') {
    comma = 1;
    p++;
    if (*p >= '0' && *p <= '9')
      for (hi = 0; *p >= '0' && *p <= '9'; p++)
        hi = hi < 100000 ? hi * 10 + (*p - '0') : hi;
  }
  if (!digits || *p != '}') {
    snprintf(why, whylen, "a '{' that is not a quantifier {n}, {n,} or "
             "{n,m} (escape it as \\{)");
    return -1;
  }
  if (lo > MAX_REPEAT || hi > MAX_REPEAT || (hi >= 0 && hi < lo)) {
    snprintf(why, whylen, "quantifier bounds out of order or above %d",
             MAX_REPEAT);
    return -1;
  }
  char q[48];
  if (!comma)
    snprintf(q, sizeof q, "{%ld}", lo);
  else if (hi < 0)
    snprintf(q, sizeof q, "{%ld,}", lo);
  else
    snprintf(q, sizeof q, "{%ld,%ld}", lo, hi);
  sb_puts(out, q);
  *pp = p + 1;
  return 0;
}

/* A quantifier at *pp: it must follow something repeatable and must not be
 * lazy (ERE has no lazy quantifiers; a search cannot tell them apart, but a
 * second quantifier is an ECMA syntax error we should not accept). */
static int rx_quantifier(const char **pp, int atom, sbuf *out, char *why,
                         size_t whylen) {
  if (!atom) {
    snprintf(why, whylen, "quantifier '%c' with nothing to repeat", **pp);
    return -1;
  }
  if (**pp == '{') {
    if (rx_braces(pp, out, why, whylen))
      return -1;
  } else {
    sb_putc(out, *(*pp)++);
  }
  if (**pp == '?') {
    snprintf(why, whylen, "a lazy quantifier is not supported");
    return -1;
  }
  if (**pp && strchr("*+{", **pp)) {
    snprintf(why, whylen, "quantifier '%c' with nothing to repeat", **pp);
    return -1;
  }
  return 0;
}

/* An escape outside a class at *pp ('\\'). */
static int rx_escape(const char **pp, sbuf *out, char *why, size_t whylen) {
  char e = (*pp)[1];
  unsigned char set[128] = {0};
  if (e == 'd' || e == 'w') {
    if (e == 'd')
      set_range(set, '0', '9');
    else
      set_word(set);
    ere_set(out, set);
  } else if (control_escape(e)) {
    sb_putc(out, control_escape(e));
  } else if (e && strchr(RX_PUNCT, e)) {
    ere_literal(out, e);
  } else {
    return rx_refuse_escape(e, why, whylen);
  }
  *pp += 2;
  return 0;
}

/* Translate an ECMA-262 pattern to an ERE with the same matches, or say
 * which construct cannot be translated. Returns a malloc'd ERE or NULL. */
static char *ecma_to_ere(const char *src, char *why, size_t whylen) {
  sbuf out = {0};
  const char *p = src;
  int depth = 0, atom = 0, rc = 0; /* atom: what precedes can be repeated */
  sb_putc(&out, '\0');
  out.n = 0;
  while (*p && rc == 0) {
    unsigned char c = (unsigned char)*p;
    if (c >= 0x80) {
      snprintf(why, whylen, "a non-ASCII character is not supported");
      rc = -1;
    } else if (c == '\\') {
      rc = rx_escape(&p, &out, why, whylen);
      atom = 1;
    } else if (c == '[') {
      unsigned char set[128] = {0};
      p++;
      rc = rx_class(&p, set, why, whylen);
      if (rc == 0)
        ere_set(&out, set);
      atom = 1;
    } else if (c == '(') {
      if (p[1] == '?' && p[2] != ':') {
        snprintf(why, whylen, "group construct (?%c is not supported "
                 "(lookaround or named group)", p[2] ? p[2] : ' ');
        rc = -1;
        break;
      }
      p += p[1] == '?' ? 3 : 1; /* (?:...) is a group to ERE too */
      sb_putc(&out, '(');
      depth++;
      atom = 0;
    } else if (c == ')') {
      if (depth-- == 0) {
        snprintf(why, whylen, "an unmatched ')'");
        rc = -1;
        break;
      }
      sb_putc(&out, *p++);
      atom = 1;
    } else if (c == '|' || c == '^' || c == '$') {
      sb_putc(&out, *p++);
      atom = 0;
    } else if (c == '*' || c == '+' || c == '?' || c == '{') {
      rc = rx_quantifier(&p, atom, &out, why, whylen);
      atom = 0;
    } else if (c == '.') {
      snprintf(why, whylen, "'.' is not supported (it would match bytes, not "
               "characters); use a class");
      rc = -1;
    } else if (c == '}' || c == ']') {
      snprintf(why, whylen, "an unescaped '%c'", c);
      rc = -1;
    } else {
      ere_literal(&out, *p++);
      atom = 1;
    }
  }
  if (rc == 0 && depth != 0) {
    snprintf(why, whylen, "an unmatched '('");
    rc = -1;
  }
  if (rc == 0 && out.oom) {
    snprintf(why, whylen, "out of memory");
    rc = -1;
  }
  if (rc != 0) {
    free(out.p);
    return NULL;
  }
  return out.p;
}

char *sp_jschema_ere(const char *ecma, char *why, size_t whylen) {
  return ecma_to_ere(ecma, why, whylen);
}

/* ---- compiling a schema file ------------------------------------------ */

typedef struct {
  js_doc *doc;
  char *err;
  size_t errlen;
} cctx;

static int cfail(cctx *c, const char *ptr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cfail(cctx *c, const char *ptr, const char *fmt, ...) {
  char msg[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(c->err, c->errlen, "%s: at %s: %s", c->doc->file,
           *ptr ? ptr : "(root)", msg);
  return -1;
}

static js_node *compile(cctx *c, const json_t *j, const char *ptr);

/* Compile the subschema j found at base/seg (seg NULL: at base). */
static js_node *compile_at(cctx *c, const json_t *j, const char *base,
                           const char *seg) {
  char *ptr = seg ? ptr_add(base, seg) : xstrdup(base);
  if (!ptr) {
    cfail(c, base, "out of memory");
    return NULL;
  }
  js_node *n = compile(c, j, ptr);
  free(ptr);
  return n;
}

typedef int (*kw_fn)(cctx *c, js_node *n, const json_t *v, const char *ptr);

static int kw_ignore(cctx *c, js_node *n, const json_t *v, const char *ptr) {
  (void)c, (void)n, (void)v, (void)ptr;
  return 0;
}

/* $schema and $id: only at a file's root (an embedded resource would need
 * its own base URI, which nothing here uses). */
static int kw_schema(cctx *c, js_node *n, const json_t *v, const char *ptr) {
  (void)n;
  if (strcmp(ptr, "/$schema") != 0)
    return cfail(c, ptr, "$schema is only supported at the root");
  if (!json_is_string(v) || strcmp(json_string_value(v), META_2020_12) != 0)
    return cfail(c, ptr, "$schema must be %s", META_2020_12);
  return 0;
}

static int kw_id(cctx *c, js_node *n, const json_t *v, const char *ptr) {
  (void)n;
  if (strcmp(ptr, "/$id") != 0)
    return cfail(c, ptr, "$id is only supported at the root");
  if (!json_is_string(v) || !*json_string_value(v))
    return cfail(c, ptr, "$id must be a non-empty string");
  return 0;
}

static int kw_defs(cctx *c, js_node *n, const json_t *v, const char *ptr) {
  (void)n;
  const char *k;
  const json_t *sub;
  if (!json_is_object(v))
    return cfail(c, ptr, "$defs must be an object");
  json_object_foreach((json_t *)v, k, sub) {
    if (!compile_at(c, sub, ptr, k))
      return -1;
  }
  return 0;
}

static int kw_ref(cctx *c, js_node *n, const json_t *v, const char *ptr) {
  if (!json_is_string(v))
    return cfail(c, ptr, "$ref must be a string");
  n->ref = xstrdup(json_string_value(v));
  return n->ref ? 0 : cfail(c, ptr, "out of memory");
}

static int type_bit(const json_t *v, unsigned *bit) {
  if (!json_is_string(v))
    return -1;
  for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
    if (!strcmp(json_string_value(v), type_names[i].name)) {
      *bit = type_names[i].bit;
      return 0;
    }
  return -1;
}

static int kw_type(cctx *c, js_node *n, const json_t *v, const char *ptr) {
  unsigned bit;
  if (json_is_string(v)) {
    if (type_bit(v, &bit))
      return cfail(c, ptr, "unknown type \"%s\"", json_string_value(v));
    n->types = bit;
    return 0;
  }
  if (!json_is_array(v) || json_array_size(v) == 0)
    return cfail(c, ptr, "type must be a type name or an array of them");
  for (size_t i = 0; i < json_array_size(v); i++) {
    if (type_bit(json_array_get(v, i), &bit) || (n->types & bit))
      return cfail(c, ptr, "type[%zu] is not a type name, or repeats one", i);
    n->types |= bit;
  }
  return 0;
}

static int kw_const(cctx *c, js_node *n, const json_t *v, const char *ptr) {
  (void)c, (void)ptr;
  n->konst = v;
  if (json_is_string(v)) {
    n->konst_kind = K_STRING;
    n->konst_str = json_string_value(v);
    n->konst_len = json_string_length(v);
  } else if (json_is_integer(v)) {
    n->konst_kind = K_INTEGER;
    n->konst_int = json_integer_value(v);
  }
  return 0;
}

static int kw_enum(cctx *c, js_node *n, const json_t *v, const char *ptr) {
  if (!json_is_array(v))
    return cfail(c, ptr, "enum must be an array");
  n->enumv = v;
  return 0;
}

static int kw_pattern(cctx *c, js_node *n, const json_t *v, const char *ptr) {
  char why[200];
  if (!json_is_string(v))
    return cfail(c, ptr, "pattern must be a string");
  const char *src = json_string_value(v);
  char *ere = ecma_to_ere(src, why, sizeof why);
  if (!ere)
    return cfail(c, ptr, "pattern \"%s\": %s", src, why);
  /* REG_NOSUB: only whether it matches; no REG_NEWLINE: ^ and $ are the
   * string's ends, as in ECMA-262 without the m flag. */
  int rc = regcomp(&n->re, ere, REG_EXTENDED | REG_NOSUB);
  n->dfa = rc == 0 ? sp_redfa_compile(ere) : NULL;
  free(ere);
  if (rc != 0) {
    regerror(rc, &n->re, why, sizeof why);
    return cfail(c, ptr, "pattern \"%s\" does not compile: %s", src, why);
  }
  n->has_re = 1;
  n->pattern = xstrdup(src);
  return n->pattern ? 0 : cfail(c, ptr, "out of memory");
}

/* minLength, maxLength, minItems, maxItems: a non-negative integer. */
static int count_value(cctx *c, const json_t *v, const char *ptr,
                       json_int_t *out) {
  if (!is_integral(v) || json_number_value(v) < 0 ||
      json_number_value(v) > 1e15)
    return cfail(c, ptr, "must be a non-negative integer");
  *out = json_is_integer(v) ? json_integer_value(v)
                            : (json_int_t)json_real_value(v);
  return 0;
}

static int kw_min_len(cctx *c, js_node *n, const json_t *v, const char *p) {
  return count_value(c, v, p, &n->min_len);
}
static int kw_max_len(cctx *c, js_node *n, const json_t *v, const char *p) {
  return count_value(c, v, p, &n->max_len);
}
static int kw_min_items(cctx *c, js_node *n, const json_t *v, const char *p) {
  return count_value(c, v, p, &n->min_items);
}
static int kw_max_items(cctx *c, js_node *n, const json_t *v, const char *p) {
  return count_value(c, v, p, &n->max_items);
}

static int number_value(cctx *c, const json_t *v, const char *ptr,
                        const json_t **out) {
  if (!json_is_number(v))
    return cfail(c, ptr, "must be a number");
  *out = v;
  return 0;
}

static int kw_minimum(cctx *c, js_node *n, const json_t *v, const char *p) {
  return number_value(c, v, p, &n->minimum);
}
static int kw_maximum(cctx *c, js_node *n, const json_t *v, const char *p) {
  return number_value(c, v, p, &n->maximum);
}
static int kw_xminimum(cctx *c, js_node *n, const json_t *v, const char *p) {
  return number_value(c, v, p, &n->xminimum);
}
static int kw_xmaximum(cctx *c, js_node *n, const json_t *v, const char *p) {
  return number_value(c, v, p, &n->xmaximum);
}

static int kw_properties(cctx *c, js_node *n, const json_t *v,
                         const char *ptr) {
  const char *k;
  const json_t *sub;
  if (!json_is_object(v))
    return cfail(c, ptr, "properties must be an object");
  n->props = calloc(json_object_size(v) + 1, sizeof *n->props);
  if (!n->props)
    return cfail(c, ptr, "out of memory");
  json_object_foreach((json_t *)v, k, sub) {
    js_prop *pr = &n->props[n->nprops];
    if (!(pr->name = xstrdup(k)))
      return cfail(c, ptr, "out of memory");
    pr->nlen = strlen(k);
    n->nprops++;
    if (!(pr->schema = compile_at(c, sub, ptr, k)))
      return -1;
  }
  return 0;
}

static int kw_required(cctx *c, js_node *n, const json_t *v, const char *ptr) {
  if (!json_is_array(v))
    return cfail(c, ptr, "required must be an array of strings");
  for (size_t i = 0; i < json_array_size(v); i++)
    if (!json_is_string(json_array_get(v, i)))
      return cfail(c, ptr, "required[%zu] is not a string", i);
  n->required = v;
  return 0;
}

static int kw_additional(cctx *c, js_node *n, const json_t *v,
                         const char *ptr) {
  return (n->additional = compile_at(c, v, ptr, NULL)) ? 0 : -1;
}

static int kw_items(cctx *c, js_node *n, const json_t *v, const char *ptr) {
  return (n->items = compile_at(c, v, ptr, NULL)) ? 0 : -1;
}

static int kw_not(cctx *c, js_node *n, const json_t *v, const char *ptr) {
  return (n->not_ = compile_at(c, v, ptr, NULL)) ? 0 : -1;
}

static int schema_list(cctx *c, js_list *l, const json_t *v, const char *ptr) {
  if (!json_is_array(v) || json_array_size(v) == 0)
    return cfail(c, ptr, "must be a non-empty array of schemas");
  l->v = calloc(json_array_size(v), sizeof *l->v);
  if (!l->v)
    return cfail(c, ptr, "out of memory");
  for (size_t i = 0; i < json_array_size(v); i++) {
    char *p = ptr_index(ptr, i);
    if (!p)
      return cfail(c, ptr, "out of memory");
    l->v[i] = compile(c, json_array_get(v, i), p);
    free(p);
    if (!l->v[i])
      return -1;
    l->n++;
  }
  return 0;
}

static int kw_all_of(cctx *c, js_node *n, const json_t *v, const char *p) {
  return schema_list(c, &n->all_of, v, p);
}
static int kw_any_of(cctx *c, js_node *n, const json_t *v, const char *p) {
  return schema_list(c, &n->any_of, v, p);
}
static int kw_one_of(cctx *c, js_node *n, const json_t *v, const char *p) {
  return schema_list(c, &n->one_of, v, p);
}

static const struct {
  const char *name;
  kw_fn fn;
} keywords[] = {
    {"$schema", kw_schema},
    {"$id", kw_id},
    {"$defs", kw_defs},
    {"$ref", kw_ref},
    {"$comment", kw_ignore},
    {"title", kw_ignore},
    {"description", kw_ignore},
    {"format", kw_ignore}, /* an annotation in 2020-12 by default */
    {"contentEncoding", kw_ignore},
    {"contentMediaType", kw_ignore},
    {"default", kw_ignore},
    {"examples", kw_ignore},
    {"deprecated", kw_ignore},
    {"readOnly", kw_ignore},
    {"writeOnly", kw_ignore},
    {"type", kw_type},
    {"const", kw_const},
    {"enum", kw_enum},
    {"pattern", kw_pattern},
    {"minLength", kw_min_len},
    {"maxLength", kw_max_len},
    {"minimum", kw_minimum},
    {"maximum", kw_maximum},
    {"exclusiveMinimum", kw_xminimum},
    {"exclusiveMaximum", kw_xmaximum},
    {"properties", kw_properties},
    {"required", kw_required},
    {"additionalProperties", kw_additional},
    {"items", kw_items},
    {"minItems", kw_min_items},
    {"maxItems", kw_max_items},
    {"allOf", kw_all_of},
    {"anyOf", kw_any_of},
    {"oneOf", kw_one_of},
    {"not", kw_not},
};

static kw_fn keyword(const char *name) {
  for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
    if (!strcmp(keywords[i].name, name))
      return keywords[i].fn;
  return NULL;
}

/* Record node n at ptr in its file's index (which also owns it). */
static int doc_add(js_doc *d, const char *ptr, js_node *n) {
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    js_entry *e = realloc(d->index, cap * sizeof *e);
    if (!e)
      return -1;
    d->index = e;
    d->cap = cap;
  }
  char *p = xstrdup(ptr);
  if (!p)
    return -1;
  d->index[d->n].ptr = p;
  d->index[d->n].node = n;
  d->n++;
  return 0;
}

/* Byte order, a prefix first: the order of sp_jdoc's sorted members. */
static int name_cmp(const char *a, size_t an, const char *b, size_t bn) {
  /* Names mostly differ at their first byte: that one inline, the rest
   * (a name met again) by memcmp, which a byte loop ending on a
   * mispredicted branch cost more than. */
  size_t n = an < bn ? an : bn;
  if (n && a[0] != b[0])
    return (unsigned char)a[0] < (unsigned char)b[0] ? -1 : 1;
  int c = n ? memcmp(a, b, n) : 0;
  return c ? c : (an > bn) - (an < bn);
}

static _Thread_local const js_prop *tl_props;

static int by_prop_name(const void *x, const void *y) {
  const js_prop *a = &tl_props[*(const size_t *)x],
                *b = &tl_props[*(const size_t *)y];
  return name_cmp(a->name, a->nlen, b->name, b->nlen);
}

/* props_sorted, and which properties "required" names. -1 out of memory. */
static int props_index(js_node *n) {
  if (!(n->props_sorted = malloc(n->nprops * sizeof *n->props_sorted + 1)))
    return -1;
  for (size_t i = 0; i < n->nprops; i++)
    n->props_sorted[i] = i;
  tl_props = n->props;
  qsort(n->props_sorted, n->nprops, sizeof *n->props_sorted, by_prop_name);
  for (size_t i = 0; n->required && i < json_array_size(n->required); i++) {
    const char *k = json_string_value(json_array_get(n->required, i));
    size_t kl = strlen(k), p = 0;
    while (p < n->nprops &&
           (n->props[p].nlen != kl || memcmp(n->props[p].name, k, kl)))
      p++;
    if (p == n->nprops)
      n->req_elsewhere = 1;
    else if (!n->props[p].required) {
      n->props[p].required = 1;
      n->nreq_props++;
    }
  }
  return 0;
}

static js_node *compile(cctx *c, const json_t *j, const char *ptr) {
  js_node *n = calloc(1, sizeof *n);
  if (!n || doc_add(c->doc, ptr, n)) {
    free(n);
    cfail(c, ptr, "out of memory");
    return NULL;
  }
  n->min_len = n->max_len = n->min_items = n->max_items = -1;
  if (json_is_boolean(j)) {
    n->bool_schema = json_is_true(j);
    return n;
  }
  n->bool_schema = -1;
  if (!json_is_object(j)) {
    cfail(c, ptr, "a schema must be an object or a boolean");
    return NULL;
  }
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)j, k, v) {
    kw_fn fn = keyword(k);
    char *kptr = ptr_add(ptr, k);
    int rc = !kptr ? cfail(c, ptr, "out of memory")
             : !fn ? cfail(c, kptr, "unknown keyword \"%s\" (not supported "
                           "by common/jschema)", k)
                   : fn(c, n, v, kptr);
    free(kptr);
    if (rc)
      return NULL;
  }
  if (n->props && props_index(n)) {
    cfail(c, ptr, "out of memory");
    return NULL;
  }
  unsigned w = 0;
  if (n->types)
    w |= W_TYPE;
  if (n->konst || n->enumv)
    w |= W_VALUES;
  if (n->min_len >= 0 || n->max_len >= 0 || n->has_re)
    w |= W_STRING;
  if (n->minimum || n->maximum || n->xminimum || n->xmaximum)
    w |= W_NUMBER;
  if (n->nprops || n->required || n->additional)
    w |= W_OBJECT;
  if (n->min_items >= 0 || n->max_items >= 0 || n->items)
    w |= W_ARRAY;
  if (n->all_of.n || n->any_of.n || n->one_of.n || n->not_)
    w |= W_COMBINATORS;
  n->what = w;
  return n;
}

/* ---- loading a folder --------------------------------------------------- */

static void node_free(js_node *n) {
  if (n->has_re)
    regfree(&n->re);
  sp_redfa_free(n->dfa);
  free(n->pattern);
  for (size_t i = 0; i < n->nprops; i++)
    free(n->props[i].name);
  free(n->props);
  free(n->props_sorted);
  free(n->all_of.v);
  free(n->any_of.v);
  free(n->one_of.v);
  free(n->ref);
  free(n);
}

static void doc_free(js_doc *d) {
  if (!d)
    return;
  for (size_t i = 0; i < d->n; i++) {
    node_free(d->index[i].node);
    free(d->index[i].ptr);
  }
  free(d->index);
  json_decref(d->json);
  free(d->file);
  free(d->rel);
  free(d->name);
  free(d->id);
  free(d);
}

void sp_jschema_free(sp_jschema_set *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->n; i++)
    doc_free(s->docs[i]);
  free(s->docs);
  free(s->by_name);
  free(s);
}

size_t sp_jschema_count(const sp_jschema_set *s) { return s ? s->n : 0; }

static size_t name_hash(const char *k) {
  size_t h = 1469598103934665603ULL;
  for (; *k; k++)
    h = (h ^ (unsigned char)*k) * 1099511628211ULL;
  return h;
}

/* key's slot in the index: the one that holds it, or the empty one where
 * it would go. */
static doc_slot *slot_of(const sp_jschema_set *s, const char *key) {
  size_t i = name_hash(key) & (s->nslots - 1);
  while (s->by_name[i].key && strcmp(s->by_name[i].key, key))
    i = (i + 1) & (s->nslots - 1);
  return &s->by_name[i];
}

/* Adds key -> doc unless key is there (an earlier doc keeps it). */
static void index_put(sp_jschema_set *s, const char *key, size_t doc) {
  doc_slot *slot = slot_of(s, key);
  if (!slot->key)
    *slot = (doc_slot){key, doc};
}

/* -1 when out of memory. Until it is built (while loading), find_doc
 * scans. */
static int index_build(sp_jschema_set *s) {
  size_t n = 4;
  while (n < 4 * s->n)
    n *= 2;
  if (!(s->by_name = calloc(n, sizeof *s->by_name)))
    return -1;
  s->nslots = n;
  /* Docs in order, each its name then its $id: the first doc that has a
   * key keeps it, as the scan below finds it. */
  for (size_t i = 0; i < s->n; i++) {
    index_put(s, s->docs[i]->name, i);
    if (s->docs[i]->id)
      index_put(s, s->docs[i]->id, i);
  }
  return 0;
}

static js_doc *find_doc(const sp_jschema_set *s, const char *name) {
  if (s->nslots) {
    const doc_slot *slot = slot_of(s, name);
    return slot->key ? s->docs[slot->doc] : NULL;
  }
  for (size_t i = 0; i < s->n; i++) {
    js_doc *d = s->docs[i];
    if (!strcmp(d->name, name) || (d->id && !strcmp(d->id, name)))
      return d;
  }
  return NULL;
}

static int set_add(sp_jschema_set *s, js_doc *d) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    js_doc **v = realloc(s->docs, cap * sizeof *v);
    if (!v)
      return -1;
    s->docs = v;
    s->cap = cap;
  }
  s->docs[s->n++] = d;
  return 0;
}

/* Two files answering to one name would make a validation ambiguous. */
static int check_clash(const sp_jschema_set *s, const js_doc *d, char *err,
                       size_t errlen) {
  for (size_t i = 0; i < s->n; i++) {
    const js_doc *o = s->docs[i];
    if (!strcmp(o->name, d->name) || (d->id && o->id && !strcmp(o->id, d->id)) ||
        (d->id && !strcmp(o->name, d->id)) || (o->id && !strcmp(o->id, d->name))) {
      snprintf(err, errlen, "%s: its name or $id is also that of %s", d->file,
               o->file);
      return -1;
    }
  }
  return 0;
}

static int load_file(sp_jschema_set *s, const char *file, const char *rel,
                     char *err, size_t errlen) {
  json_error_t je;
  js_doc *d = calloc(1, sizeof *d);
  if (!d) {
    snprintf(err, errlen, "%s: out of memory", file);
    return -1;
  }
  const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
  d->file = xstrdup(file);
  d->rel = xstrdup(rel);
  d->name = xstrdup(base);
  if (!d->file || !d->rel || !d->name) {
    doc_free(d);
    snprintf(err, errlen, "%s: out of memory", file);
    return -1;
  }
  d->name[strlen(d->name) - 5] = '\0'; /* ".json" */
  /* Duplicate keys would hide a keyword: refuse them. */
  d->json = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
  if (!d->json) {
    snprintf(err, errlen, "%s:%d:%d: not JSON: %s", file, je.line, je.column,
             je.text);
    doc_free(d);
    return -1;
  }
  const json_t *id = json_object_get(d->json, "$id");
  if (json_is_string(id) && !(d->id = xstrdup(json_string_value(id)))) {
    doc_free(d);
    snprintf(err, errlen, "%s: out of memory", file);
    return -1;
  }
  cctx c = {d, err, errlen};
  if (!json_is_object(d->json)) {
    cfail(&c, "", "a schema file must hold a JSON object");
    doc_free(d);
    return -1;
  }
  if (!compile(&c, d->json, "") || check_clash(s, d, err, errlen) ||
      set_add(s, d)) {
    doc_free(d);
    return -1;
  }
  return 0;
}

static int ends_with_json(const char *name) {
  size_t n = strlen(name);
  return n > 5 && !strcmp(name + n - 5, ".json");
}

/* Every *.json below root/rel, in name order so that errors repeat. */
static int load_tree(sp_jschema_set *s, const char *root, const char *rel,
                     int depth, char *err, size_t errlen) {
  char *dir = NULL;
  if (asprintf(&dir, "%s%s%s", root, *rel ? "/" : "", rel) < 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  struct dirent **ents = NULL;
  int n = depth > MAX_DIR_DEPTH ? -1 : scandir(dir, &ents, NULL, alphasort);
  int rc = 0;
  if (n < 0) {
    snprintf(err, errlen, "%s: cannot read the folder%s", dir,
             depth > MAX_DIR_DEPTH ? " (nested too deep)" : "");
    free(dir);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    const char *nm = ents[i]->d_name;
    char *path = NULL, *sub = NULL;
    struct stat st;
    if (rc || nm[0] == '.') /* ".", "..", hidden files */
      continue;
    if (asprintf(&path, "%s/%s", dir, nm) < 0 ||
        asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", nm) < 0) {
      snprintf(err, errlen, "out of memory");
      rc = -1;
    } else if (stat(path, &st) != 0) {
      /* vanished or a dangling link: nothing to load */
    } else if (S_ISDIR(st.st_mode)) {
      rc = load_tree(s, root, sub, depth + 1, err, errlen);
    } else if (S_ISREG(st.st_mode) && ends_with_json(nm)) {
      rc = load_file(s, path, sub, err, errlen);
    }
    free(path);
    free(sub);
  }
  for (int i = 0; i < n; i++)
    free(ents[i]);
  free(ents);
  free(dir);
  return rc;
}

/* ---- linking $refs ---------------------------------------------------- */

/* rel resolved against base (a URI or a path): base's folder + rel, with
 * "." and ".." segments removed. NULL when ".." climbs above the top. */
static char *join_ref(const char *base, const char *rel) {
  const char *path = base, *scheme = strstr(base, "://");
  if (scheme) { /* keep "scheme://authority" as it is */
    path = strchr(scheme + 3, '/');
    if (!path)
      path = base + strlen(base);
  }
  size_t plen = (size_t)(path - base);
  const char *slash = strrchr(path, '/');
  size_t dlen = rel[0] == '/' ? 0 : slash ? (size_t)(slash - path) + 1 : 0;
  char *out = malloc(plen + dlen + strlen(rel) + 2);
  if (!out)
    return NULL;
  memcpy(out, base, plen);
  char *w = out + plen, *top = w;
  char *tmp = malloc(dlen + strlen(rel) + 1);
  if (!tmp) {
    free(out);
    return NULL;
  }
  memcpy(tmp, path, dlen);
  strcpy(tmp + dlen, rel);
  /* Copy segment by segment; ".." drops the last one written. */
  int ok = 1;
  for (char *seg = tmp, *next; seg && ok; seg = next) {
    next = strchr(seg, '/');
    size_t sl = next ? (size_t)(next - seg) : strlen(seg);
    if (next)
      next++;
    if (sl == 1 && seg[0] == '.')
      continue;
    if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
      if (w == top || (w == top + 1 && *top == '/')) {
        ok = 0;
        break;
      }
      w--; /* the '/' after the last segment */
      while (w > top && w[-1] != '/')
        w--;
      continue;
    }
    if (sl == 0 && seg != tmp) /* "a//b" */
      continue;
    memcpy(w, seg, sl);
    w += sl;
    if (next)
      *w++ = '/';
  }
  *w = '\0';
  free(tmp);
  if (!ok) {
    free(out);
    return NULL;
  }
  return out;
}

static js_doc *find_by(const sp_jschema_set *s, const char *key, int by_id) {
  for (size_t i = 0; i < s->n; i++) {
    js_doc *d = s->docs[i];
    const char *v = by_id ? d->id : d->rel;
    if (v && !strcmp(v, key))
      return d;
  }
  return NULL;
}

/* The file a $ref's URI part (before '#') names, seen from d. */
static js_doc *ref_doc(const sp_jschema_set *s, js_doc *d, const char *uri) {
  if (!*uri)
    return d;
  js_doc *t = find_by(s, uri, 1);
  if (t)
    return t;
  if (strstr(uri, "://") || !strncmp(uri, "urn:", 4))
    return NULL;
  char *j = d->id ? join_ref(d->id, uri) : NULL;
  t = j ? find_by(s, j, 1) : NULL;
  free(j);
  if (t)
    return t;
  j = join_ref(d->rel, uri);
  t = j ? find_by(s, j, 0) : NULL;
  free(j);
  return t;
}

static int link_ref(const sp_jschema_set *s, js_doc *d, js_entry *e,
                    char *err, size_t errlen) {
  const char *ref = e->node->ref, *hash = strchr(ref, '#');
  size_t ulen = hash ? (size_t)(hash - ref) : strlen(ref);
  char *uri = malloc(ulen + 1);
  if (!uri) {
    snprintf(err, errlen, "%s: out of memory", d->file);
    return -1;
  }
  memcpy(uri, ref, ulen);
  uri[ulen] = '\0';
  js_doc *t = ref_doc(s, d, uri);
  free(uri);
  const char *frag = hash ? hash + 1 : "";
  const char *why = !t ? "no loaded schema has that $id or path"
                    : (*frag && *frag != '/')
                        ? "only JSON-pointer fragments (#/...) are supported"
                        : "its fragment names no schema in that file";
  for (size_t i = 0; t && (!*frag || *frag == '/') && i < t->n; i++)
    if (!strcmp(t->index[i].ptr, frag)) {
      e->node->ref_to = t->index[i].node;
      return 0;
    }
  snprintf(err, errlen, "%s: at %s/$ref: $ref \"%s\" does not resolve: %s",
           d->file, e->ptr, ref, why);
  return -1;
}

static int link_all(sp_jschema_set *s, char *err, size_t errlen) {
  for (size_t i = 0; i < s->n; i++)
    for (size_t k = 0; k < s->docs[i]->n; k++)
      if (s->docs[i]->index[k].node->ref &&
          link_ref(s, s->docs[i], &s->docs[i]->index[k], err, errlen))
        return -1;
  return 0;
}

sp_jschema_set *sp_jschema_load_dir(const char *dir, char *errstr,
                                    size_t errlen) {
  sp_jschema_set *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(errstr, errlen, "out of memory");
    return NULL;
  }
  if (load_tree(s, dir, "", 0, errstr, errlen) || link_all(s, errstr, errlen)) {
    sp_jschema_free(s);
    return NULL;
  }
  if (s->n == 0) {
    /* Most likely the wrong folder: say so rather than fail every event. */
    snprintf(errstr, errlen, "%s: no *.json schema found", dir);
    sp_jschema_free(s);
    return NULL;
  }
  if (index_build(s)) {
    snprintf(errstr, errlen, "out of memory");
    sp_jschema_free(s);
    return NULL;
  }
  return s;
}

/* ---- validation --------------------------------------------------------- *
 * On a jdoc tree (jdoc.h): the audit replay hands in trees it read without
 * jansson; a jansson value is copied into one first. Messages show values
 * as jansson would write them. */

/* The path to the value being checked, as the keys and indices on the
 * way: written out as a JSON pointer only for a message. */
#define PATH_SEGS 64

typedef struct {
  const sp_jdoc *d;
  struct {
    const char *s; /* valid while the value is being checked */
    size_t n;
  } seg[PATH_SEGS];
  size_t nseg; /* may pass PATH_SEGS: the deeper segments are not kept */
  char *err;
  size_t errlen;
  int depth;
  /* A $ref to given, applied to the value given_at (the instance), passes
   * unchecked: the caller vouches for that value only. */
  const js_node *given;
  const sp_jv *given_at;
} vctx;

/* The JSON pointer of the value being checked (~ and / escaped), cut to
 * fit cap. */
static void path_text(const vctx *v, char *out, size_t cap) {
  size_t o = 0;
  cap--;
  for (size_t k = 0; k < v->nseg && k < PATH_SEGS && o < cap; k++) {
    out[o++] = '/';
    for (size_t i = 0; i < v->seg[k].n && o < cap; i++) {
      char ch = v->seg[k].s[i];
      if (ch == '~' || ch == '/') {
        if (o + 2 > cap)
          break;
        out[o++] = '~';
        out[o++] = ch == '~' ? '0' : '1';
      } else {
        out[o++] = ch;
      }
    }
  }
  out[o] = '\0';
}

static int vfail(vctx *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int vfail(vctx *v, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char path[512];
  path_text(v, path, sizeof path);
  snprintf(v->err, v->errlen, "%s: %s", v->nseg ? path : "(root)", msg);
  /* Keys are quoted raw: keep a reason on one line whatever they hold. */
  for (char *p = v->err; v->errlen && *p; p++)
    if ((unsigned char)*p < 0x20)
      *p = '?';
  return 1;
}

/* Append a segment (RFC 6901: ~ -> ~0, / -> ~1), cut at the buffer's end;
 * returns the length to restore. No allocation: this runs per property. */
static size_t path_push(vctx *v, const char *seg, size_t n) {
  if (v->nseg < PATH_SEGS) {
    v->seg[v->nseg].s = seg;
    v->seg[v->nseg].n = n;
  }
  return v->nseg++;
}

static void path_pop(vctx *v, size_t old) { v->nseg = old; }

static int check(vctx *v, const js_node *n, const sp_jv *j);

/* 1 when s (bytes long; may hold a NUL) matches n's pattern. */
static int pattern_match(const js_node *n, const char *s, size_t bytes) {
  if (n->dfa)
    return sp_redfa_match(n->dfa, s, bytes);
  /* REG_STARTEND: the whole string even past an embedded NUL. */
  regmatch_t m[1] = {{.rm_so = 0, .rm_eo = (regoff_t)bytes}};
  return regexec(&n->re, s, 1, m, REG_STARTEND) == 0;
}

static int check_at(vctx *v, const js_node *n, const sp_jv *j,
                    const char *seg, size_t seglen) {
  size_t old = path_push(v, seg, seglen);
  int rc = check(v, n, j);
  path_pop(v, old);
  return rc;
}

static void types_text(unsigned types, char *out, size_t len) {
  out[0] = '\0';
  for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
    if (types & type_names[i].bit) {
      size_t l = strlen(out);
      snprintf(out + l, len - l, "%s%s", l ? " or " : "", type_names[i].name);
    }
}

/* The instance's value as jansson (only on the way to a message). */
static void jv_show(vctx *v, const sp_jv *j, char out[80]) {
  json_t *x = sp_jv_to_json(v->d, j);
  if (!x) {
    snprintf(out, 80, "(value)");
    return;
  }
  show(x, out);
  json_decref(x);
}

static int jv_is_number(const sp_jv *j) {
  return j->type == SP_JV_INT || j->type == SP_JV_REAL;
}

static double jv_double(const sp_jv *j) {
  return j->type == SP_JV_INT ? (double)j->i : j->d;
}

static unsigned jv_type_of(const sp_jv *j) {
  switch (j->type) {
  case SP_JV_NULL: return T_NULL;
  case SP_JV_TRUE:
  case SP_JV_FALSE: return T_BOOLEAN;
  case SP_JV_OBJ: return T_OBJECT;
  case SP_JV_ARR: return T_ARRAY;
  case SP_JV_STR: return T_STRING;
  case SP_JV_INT: return T_NUMBER | T_INTEGER;
  case SP_JV_REAL: {
    json_t *x = json_real(j->d);
    unsigned t = x ? type_of(x) : T_NUMBER;
    json_decref(x);
    return t;
  }
  }
  return 0;
}

/* num_cmp with an integer instance on the left. */
static int int_cmp(long long x, const json_t *b) {
  if (json_is_integer(b)) {
    json_int_t y = json_integer_value(b);
    return (x > y) - (x < y);
  }
  double dx = (double)x, y = json_number_value(b);
  return (dx > y) - (dx < y);
}

/* num_cmp with the instance on the left, the schema's number on the right. */
static int jv_num_cmp(const sp_jv *a, const json_t *b) {
  if (a->type == SP_JV_INT)
    return int_cmp(a->i, b);
  double x = jv_double(a), y = json_number_value(b);
  return (x > y) - (x < y);
}

/* js_equal with the instance on the left; scalars directly, containers
 * through a jansson copy (const and enum of those are rare). */
static int jv_equal(vctx *v, const sp_jv *a, const json_t *b) {
  if (jv_is_number(a) && json_is_number(b))
    return jv_num_cmp(a, b) == 0;
  switch (a->type) {
  case SP_JV_NULL: return json_is_null(b);
  case SP_JV_TRUE: return json_is_true(b);
  case SP_JV_FALSE: return json_is_false(b);
  case SP_JV_STR:
    return json_is_string(b) && json_string_length(b) == a->slen &&
           !memcmp(json_string_value(b), sp_jv_str(v->d, a), a->slen);
  default: {
    json_t *x = sp_jv_to_json(v->d, a);
    int eq = x && js_equal(x, b);
    json_decref(x);
    return eq;
  }
  }
}

static int check_type(vctx *v, const js_node *n, const sp_jv *j) {
  if (!n->types || (jv_type_of(j) & n->types))
    return 0;
  char val[80], want[80];
  jv_show(v, j, val);
  types_text(n->types, want, sizeof want);
  return vfail(v, "%s is not of type %s", val, want);
}

static int check_values(vctx *v, const js_node *n, const sp_jv *j) {
  char val[80], want[80];
  if (n->konst && !jv_equal(v, j, n->konst)) {
    jv_show(v, j, val);
    show(n->konst, want);
    return vfail(v, "%s is not the constant %s", val, want);
  }
  if (n->enumv) {
    for (size_t i = 0; i < json_array_size(n->enumv); i++)
      if (jv_equal(v, j, json_array_get(n->enumv, i)))
        return 0;
    jv_show(v, j, val);
    return vfail(v, "%s is not one of the enum values", val);
  }
  return 0;
}

static int check_string(vctx *v, const js_node *n, const sp_jv *j) {
  if (j->type != SP_JV_STR)
    return 0;
  const char *s = sp_jv_str(v->d, j);
  size_t bytes = j->slen;
  /* Characters, counted only when the bytes do not settle a length bound:
   * a character takes 1 to 4 bytes. */
  int count = (n->max_len >= 0 && bytes > (size_t)n->max_len) ||
              (n->min_len >= 0 && bytes / 4 < (size_t)n->min_len);
  size_t len = count ? utf8_length(s, bytes) : bytes;
  char val[80];
  if (count && n->min_len >= 0 && len < (size_t)n->min_len)
    return jv_show(v, j, val), vfail(v, "%s is shorter than minLength %lld",
                                     val, (long long)n->min_len);
  if (count && n->max_len >= 0 && len > (size_t)n->max_len)
    return jv_show(v, j, val), vfail(v, "%s is longer than maxLength %lld",
                                     val, (long long)n->max_len);
  if (n->has_re && !pattern_match(n, s, bytes))
    return jv_show(v, j, val),
           vfail(v, "%s does not match pattern %s", val, n->pattern);
  return 0;
}

/* "VALUE is WHAT LIMIT" for a number beyond a bound. */
static int number_fail(vctx *v, const sp_jv *j, const char *what,
                       const json_t *limit) {
  char val[80], lim[80];
  jv_show(v, j, val);
  show(limit, lim);
  return vfail(v, "%s is %s %s", val, what, lim);
}

static int check_number(vctx *v, const js_node *n, const sp_jv *j) {
  if (!jv_is_number(j))
    return 0;
  if (n->minimum && jv_num_cmp(j, n->minimum) < 0)
    return number_fail(v, j, "less than minimum", n->minimum);
  if (n->maximum && jv_num_cmp(j, n->maximum) > 0)
    return number_fail(v, j, "greater than maximum", n->maximum);
  if (n->xminimum && jv_num_cmp(j, n->xminimum) <= 0)
    return number_fail(v, j, "not greater than exclusiveMinimum", n->xminimum);
  if (n->xmaximum && jv_num_cmp(j, n->xmaximum) >= 0)
    return number_fail(v, j, "not less than exclusiveMaximum", n->xmaximum);
  return 0;
}

static const js_node *prop_schema(const js_node *n, const char *key,
                                  size_t klen) {
  for (size_t i = 0; i < n->nprops; i++) {
    const js_prop *pr = &n->props[i];
    if (pr->nlen == klen &&
        (klen == 0 || (pr->name[0] == key[0] && !memcmp(pr->name, key, klen))))
      return pr->schema;
  }
  return NULL;
}

/* A member: its property's schema when there is one, else what
 * additionalProperties says of it. */
static int check_member(vctx *v, const js_node *n, const sp_jv *m,
                        const js_node *ps) {
  const char *k = sp_jv_key(v->d, m);
  if (ps)
    return check_at(v, ps, m, k, m->klen);
  if (!n->additional)
    return 0;
  if (n->additional->bool_schema == 0)
    return vfail(v, "property \"%s\" is not allowed "
                 "(additionalProperties)", k);
  return check_at(v, n->additional, m, k, m->klen);
}

#define MERGE_MAX 64

/* check_object for an object whose members are known in key order (a
 * parsed event): one merge of its members with the sorted properties
 * finds each member's schema and counts the required ones present. -1
 * when it cannot (then the general way); else as check_object. */
static int check_object_sorted(vctx *v, const js_node *n, const sp_jv *j) {
  if (!n->props_sorted || n->req_elsewhere || j->sorted == UINT32_MAX ||
      j->count > MERGE_MAX)
    return -1;
  const int32_t *order = v->d->order + j->sorted;
  const js_node *ps[MERGE_MAX];
  size_t p = 0, found = 0, counted = SIZE_MAX;
  for (uint32_t at = 0; at < j->count; at++) {
    const sp_jv *m = &v->d->v[order[at]];
    const char *k = sp_jv_key(v->d, m);
    ps[at] = NULL;
    for (; p < n->nprops; p++) {
      const js_prop *pr = &n->props[n->props_sorted[p]];
      int c = name_cmp(pr->name, pr->nlen, k, m->klen);
      if (c > 0)
        break;
      if (c == 0) { /* p stays: keys alike up to a NUL meet it again */
        ps[at] = pr->schema;
        if (counted != p)
          found += pr->required;
        counted = p;
        break;
      }
    }
  }
  if (found < n->nreq_props)
    return -1; /* one is missing: the general way names the first */
  for (uint32_t at = 0; at < j->count; at++)
    if (check_member(v, n, &v->d->v[order[at]], ps[at]))
      return 1;
  return 0;
}

static int check_object(vctx *v, const js_node *n, const sp_jv *j) {
  if (j->type != SP_JV_OBJ)
    return 0;
  int rc = check_object_sorted(v, n, j);
  if (rc >= 0)
    return rc;
  for (size_t i = 0; n->required && i < json_array_size(n->required); i++) {
    const char *k = json_string_value(json_array_get(n->required, i));
    if (!sp_jv_get(v->d, j, k))
      return vfail(v, "required property \"%s\" is missing", k);
  }
  /* Members in key order, whatever order the text had: the first failure
   * named is the same however the event was written. */
  const int32_t *sorted =
      j->sorted != UINT32_MAX ? v->d->order + j->sorted : NULL;
  const sp_jv *m = NULL;
  for (uint32_t at = 0; at < j->count; at++) {
    m = sorted ? &v->d->v[sorted[at]]
        : at   ? sp_jv_next(v->d, m)
               : sp_jv_first(v->d, j);
    if (!m)
      break;
    if (check_member(v, n, m, prop_schema(n, sp_jv_key(v->d, m), m->klen)))
      return 1;
  }
  return 0;
}

static int check_array(vctx *v, const js_node *n, const sp_jv *j) {
  if (j->type != SP_JV_ARR)
    return 0;
  size_t len = j->count;
  if (n->min_items >= 0 && len < (size_t)n->min_items)
    return vfail(v, "array of %zu items has fewer than minItems %lld", len,
                 (long long)n->min_items);
  if (n->max_items >= 0 && len > (size_t)n->max_items)
    return vfail(v, "array of %zu items has more than maxItems %lld", len,
                 (long long)n->max_items);
  size_t i = 0;
  for (const sp_jv *it = sp_jv_first(v->d, j); n->items && it;
       it = sp_jv_next(v->d, it), i++) {
    char seg[24];
    int sl = snprintf(seg, sizeof seg, "%zu", i);
    if (check_at(v, n->items, it, seg, (size_t)sl))
      return 1;
  }
  return 0;
}

/* Check j against each schema of l quietly: how many match, and each
 * failure's reason appended to why ("[i] reason; "). */
static size_t count_matches(vctx *v, const js_list *l, const sp_jv *j,
                            char *why, size_t whylen, size_t *first,
                            size_t *second) {
  size_t matched = 0, wl = 0;
  why[0] = '\0';
  for (size_t i = 0; i < l->n; i++) {
    char e[256] = "";
    vctx sub = *v;
    sub.err = e;
    sub.errlen = sizeof e;
    if (check(&sub, l->v[i], j) == 0) {
      if (matched == 0)
        *first = i;
      else if (matched == 1)
        *second = i;
      matched++;
    } else if (wl < whylen) {
      snprintf(why + wl, whylen - wl, "%s[%zu] %s", wl ? "; " : "", i, e);
      wl = strlen(why);
    }
  }
  return matched;
}

static int check_combinators(vctx *v, const js_node *n, const sp_jv *j) {
  char why[400];
  size_t a = 0, b = 0;
  for (size_t i = 0; i < n->all_of.n; i++)
    if (check(v, n->all_of.v[i], j))
      return 1;
  if (n->any_of.n &&
      count_matches(v, &n->any_of, j, why, sizeof why, &a, &b) == 0)
    return vfail(v, "matches none of the anyOf schemas: %s", why);
  if (n->one_of.n) {
    size_t m = count_matches(v, &n->one_of, j, why, sizeof why, &a, &b);
    if (m == 0)
      return vfail(v, "matches none of the oneOf schemas: %s", why);
    if (m > 1)
      return vfail(v, "matches oneOf schemas %zu and %zu, exactly one is "
                   "required", a, b);
  }
  if (n->not_) {
    char e[256];
    vctx sub = *v;
    sub.err = e;
    sub.errlen = sizeof e;
    if (check(&sub, n->not_, j) == 0)
      return vfail(v, "matches the schema in \"not\"");
  }
  return 0;
}

static int check(vctx *v, const js_node *n, const sp_jv *j) {
  if (n->bool_schema == 0)
    return vfail(v, "no value is allowed here (false schema)");
  if (n->bool_schema == 1)
    return 0;
  if (v->depth >= MAX_VALIDATE_DEPTH)
    return vfail(v, "schema nested too deep (a $ref cycle?)");
  v->depth++;
  unsigned w = n->what;
  int rc = (n->ref_to && (n->ref_to != v->given || j != v->given_at) &&
            check(v, n->ref_to, j)) ||
           ((w & W_TYPE) && check_type(v, n, j)) ||
           ((w & W_VALUES) && check_values(v, n, j)) ||
           ((w & W_STRING) && check_string(v, n, j)) ||
           ((w & W_NUMBER) && check_number(v, n, j)) ||
           ((w & W_OBJECT) && check_object(v, n, j)) ||
           ((w & W_ARRAY) && check_array(v, n, j)) ||
           ((w & W_COMBINATORS) && check_combinators(v, n, j));
  v->depth--;
  return rc;
}

const sp_jschema *sp_jschema_get(const sp_jschema_set *s, const char *name) {
  return s && name ? (const sp_jschema *)find_doc(s, name) : NULL;
}

int sp_jschema_validate_jv_given(const sp_jschema_set *s, const char *name,
                                 const sp_jschema *given, const sp_jdoc *d,
                                 const sp_jv *instance, char *errstr,
                                 size_t errlen) {
  const js_doc *doc = s && name ? find_doc(s, name) : NULL;
  if (!doc) {
    snprintf(errstr, errlen, "no schema named \"%s\"", name ? name : "(null)");
    return -1;
  }
  if (!instance) {
    snprintf(errstr, errlen, "(root): no value");
    return 1;
  }
  vctx v = {.d = d,
            .err = errstr,
            .errlen = errlen,
            .given = given ? ((const js_doc *)given)->index[0].node : NULL,
            .given_at = instance};
  return check(&v, doc->index[0].node, instance);
}

int sp_jschema_validate_jv(const sp_jschema_set *s, const char *name,
                           const sp_jdoc *d, const sp_jv *instance,
                           char *errstr, size_t errlen) {
  return sp_jschema_validate_jv_given(s, name, NULL, d, instance, errstr,
                                      errlen);
}

/* ---- flat instances ------------------------------------------------------
 * check()'s rules again, for sp_jflat, where they can be decided without a
 * tree or a message: 0 valid, 1 invalid or undecided. */

typedef struct {
  const js_node *given;
  const sp_jflat *given_at;
  int depth;
} fctx;

static int flat_check(fctx *f, const js_node *n, const sp_jflat *x);

static unsigned flat_type(const sp_jflat *x) {
  switch (x->type) {
  case SP_JV_NULL:
    return T_NULL;
  case SP_JV_FALSE:
  case SP_JV_TRUE:
    return T_BOOLEAN;
  case SP_JV_INT:
    return T_NUMBER | T_INTEGER;
  case SP_JV_STR:
    return T_STRING;
  case SP_JV_OBJ:
    return T_OBJECT;
  default:
    return 0;
  }
}

/* js_equal for a scalar; -1 for an object (undecided here). */
static int flat_equal(const sp_jflat *x, const json_t *b) {
  switch (x->type) {
  case SP_JV_NULL:
    return json_is_null(b);
  case SP_JV_FALSE:
    return json_is_false(b);
  case SP_JV_TRUE:
    return json_is_true(b);
  case SP_JV_INT:
    return json_is_number(b) && int_cmp(x->i, b) == 0;
  case SP_JV_STR:
    return json_is_string(b) && json_string_length(b) == x->slen &&
           !memcmp(json_string_value(b), x->str, x->slen);
  default:
    return -1;
  }
}

static int flat_values(const js_node *n, const sp_jflat *x) {
  switch (n->konst_kind) {
  case K_STRING:
    if (x->type != SP_JV_STR || x->slen != n->konst_len ||
        memcmp(x->str, n->konst_str, x->slen))
      return 1;
    break;
  case K_INTEGER: /* a flat instance holds no real: 1.0 is not there */
    if (x->type != SP_JV_INT || x->i != n->konst_int)
      return 1;
    break;
  default:
    if (n->konst && flat_equal(x, n->konst) != 1)
      return 1;
  }
  if (n->enumv) {
    for (size_t i = 0; i < json_array_size(n->enumv); i++) {
      int eq = flat_equal(x, json_array_get(n->enumv, i));
      if (eq)
        return eq < 0;
    }
    return 1;
  }
  return 0;
}

static int flat_string(const js_node *n, const sp_jflat *x) {
  /* Printable ASCII: a byte is a character. */
  return (n->min_len >= 0 && x->slen < (size_t)n->min_len) ||
         (n->max_len >= 0 && x->slen > (size_t)n->max_len) ||
         (n->has_re && !pattern_match(n, x->str, x->slen));
}

static int flat_number(const js_node *n, const sp_jflat *x) {
  return (n->minimum && int_cmp(x->i, n->minimum) < 0) ||
         (n->maximum && int_cmp(x->i, n->maximum) > 0) ||
         (n->xminimum && int_cmp(x->i, n->xminimum) <= 0) ||
         (n->xmaximum && int_cmp(x->i, n->xmaximum) >= 0);
}

/* allOf and anyOf decide from their parts' validity; oneOf and not would
 * need each part's invalidity for certain. */
static int flat_combinators(fctx *f, const js_node *n, const sp_jflat *x) {
  if (n->one_of.n || n->not_)
    return 1;
  for (size_t i = 0; i < n->all_of.n; i++)
    if (flat_check(f, n->all_of.v[i], x))
      return 1;
  for (size_t i = 0; i < n->any_of.n; i++)
    if (!flat_check(f, n->any_of.v[i], x))
      return 0;
  return n->any_of.n > 0;
}

/* check_object_sorted's merge, on members already in key order. */
static int flat_object(fctx *f, const js_node *n, const sp_jflat *x) {
  if (!n->props_sorted || n->req_elsewhere)
    return 1;
  size_t p = 0, found = 0;
  for (uint32_t at = 0; at < x->count; at++) {
    const sp_jflat *m = &x->members[at];
    const js_node *ps = NULL;
    for (; p < n->nprops; p++) {
      const js_prop *pr = &n->props[n->props_sorted[p]];
      int c = name_cmp(pr->name, pr->nlen, m->key, m->klen);
      if (c > 0)
        break;
      if (c == 0) {
        ps = pr->schema;
        found += pr->required;
        p++; /* keys strictly increase: the next member is past it */
        break;
      }
    }
    if (ps ? flat_check(f, ps, m)
           : n->additional && flat_check(f, n->additional, m))
      return 1;
  }
  return found < n->nreq_props;
}

static int flat_check(fctx *f, const js_node *n, const sp_jflat *x) {
  if (n->bool_schema >= 0)
    return n->bool_schema == 0;
  unsigned w = n->what, t = flat_type(x);
  if (f->depth >= MAX_VALIDATE_DEPTH || !t)
    return 1;
  f->depth++;
  int rc = (n->ref_to && (n->ref_to != f->given || x != f->given_at) &&
            flat_check(f, n->ref_to, x)) ||
           ((w & W_TYPE) && n->types && !(t & n->types)) ||
           ((w & W_VALUES) && flat_values(n, x)) ||
           ((w & W_STRING) && x->type == SP_JV_STR && flat_string(n, x)) ||
           ((w & W_NUMBER) && x->type == SP_JV_INT && flat_number(n, x)) ||
           ((w & W_OBJECT) && x->type == SP_JV_OBJ && flat_object(f, n, x)) ||
           ((w & W_COMBINATORS) && flat_combinators(f, n, x));
  /* W_ARRAY: no array here. */
  f->depth--;
  return rc;
}

int sp_jschema_valid_flat(const sp_jschema_set *s, const char *name,
                          const sp_jschema *given, const sp_jflat *instance) {
  const js_doc *doc = s && name ? find_doc(s, name) : NULL;
  if (!doc)
    return -1;
  if (!instance)
    return 1;
  fctx f = {.given = given ? ((const js_doc *)given)->index[0].node : NULL,
            .given_at = instance};
  return flat_check(&f, doc->index[0].node, instance);
}

const json_t *sp_jschema_json(const sp_jschema *schema) {
  return schema ? ((const js_doc *)schema)->json : NULL;
}

int sp_jschema_validate(const sp_jschema_set *s, const char *name,
                        const json_t *instance, char *errstr, size_t errlen) {
  if (!instance)
    return sp_jschema_validate_jv(s, name, NULL, NULL, errstr, errlen);
  sp_jdoc d;
  sp_jdoc_init(&d);
  if (sp_jdoc_from_json(&d, instance)) {
    sp_jdoc_free(&d);
    snprintf(errstr, errlen, "(root): out of memory (or nested too deep)");
    return 1;
  }
  int rc = sp_jschema_validate_jv(s, name, &d, sp_jdoc_root(&d), errstr,
                                  errlen);
  sp_jdoc_free(&d);
  return rc;
}
