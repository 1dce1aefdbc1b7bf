/* jdoc.c - a read-only JSON tree in two flat arrays (jdoc.h). */
#include "jdoc.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Parse results. */
#define OK 0
#define OUTSIDE 1
#define NOMEM (-1)

void sp_jdoc_init(sp_jdoc *d) { memset(d, 0, sizeof *d); }

void sp_jdoc_free(sp_jdoc *d) {
  free(d->v);
  free(d->text);
  free(d->order);
  memset(d, 0, sizeof *d);
}

static void reset(sp_jdoc *d) {
  d->n = 0;
  d->tlen = 0;
  d->olen = 0;
  d->src = NULL;
  d->srclen = 0;
  d->src_canon = 0;
}

/* A new value; its index, or -1 when out of memory. */
static int32_t node_new(sp_jdoc *d, sp_jv_type t) {
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 64;
    if (cap > INT32_MAX)
      return -1;
    sp_jv *v = realloc(d->v, cap * sizeof *v);
    if (!v)
      return -1;
    d->v = v;
    d->cap = cap;
  }
  sp_jv *v = &d->v[d->n];
  memset(v, 0, sizeof *v);
  v->type = t;
  v->first = v->next = -1;
  v->sorted = UINT32_MAX;
  return (int32_t)d->n++;
}

static int text_reserve(sp_jdoc *d, size_t more) {
  if (more > UINT32_MAX - d->tlen)
    return -1;
  if (d->tlen + more <= d->tcap)
    return 0;
  size_t cap = d->tcap ? d->tcap : 1024;
  while (cap < d->tlen + more)
    cap *= 2;
  char *t = realloc(d->text, cap);
  if (!t)
    return -1;
  d->text = t;
  d->tcap = cap;
  return 0;
}

/* Links child as the last child of self (last: the previous one, or -1). */
static void append_child(sp_jdoc *d, int32_t self, int32_t *last,
                         int32_t child) {
  if (*last < 0)
    d->v[self].first = child;
  else
    d->v[*last].next = child;
  *last = child;
  d->v[self].count++;
}

/* ---- the subset parser -------------------------------------------------- */

typedef struct {
  sp_jdoc *d;
  const unsigned char *p, *end;
  int depth;
  const unsigned char *start;
  const sp_jdoc_keys *keys; /* the root's expected names, or NULL */
  int keyed;                /* the root's members were keys' */
} pctx;

/* The text is not the keys' object: sp_jdoc_parse_keyed reads it again
 * without them. */
#define NOT_KEYED 2

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Length of the valid UTF-8 sequence at p (2 to 4), 0 when it is not one:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static int utf8_seq(const unsigned char *p, const unsigned char *end) {
  unsigned c = p[0];
  int n;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else
    return 0;
  if (end - p < n || p[1] < lo || p[1] > hi)
    return 0;
  for (int i = 2; i < n; i++)
    if ((p[i] & 0xC0) != 0x80)
      return 0;
  return n;
}

/* The bytes among the 8 at p that end a plain run (a control byte, a byte
 * past ASCII, a quote or a backslash), as their high bits; 0 when none
 * does. A word at a time: the strings of an event are mostly ids, hashes
 * and short keys. The lowest bit set is exact (a borrow only marks bytes
 * above a true one): the run ends at byte ctz / 8. */
static uint64_t stops8(const unsigned char *p) {
  const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
  uint64_t w, q, b;
  memcpy(&w, p, 8);
  q = w ^ (ones * '"');
  b = w ^ (ones * '\\');
  /* (x - ones) & ~x & high: some byte of x is 0; with 0x20, below 0x20. */
  return (w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
          ((b - ones) & ~b)) &
         high;
}

/* The string at c->p (on its opening quote), decoded into the text. */
static int parse_string(pctx *c, uint32_t *off, uint32_t *len) {
  sp_jdoc *d = c->d;
  /* sp_jdoc_parse reserved the input's length: decoding never lengthens,
   * and the quotes a string drops leave room for its NUL. */
  char *o = d->text + d->tlen;
  const unsigned char *p = c->p + 1;
  for (;;) {
    /* The common run: printable ASCII, copied as it is scanned, sixteen
     * bytes (or a word) at a time while that many are left to read. The
     * copy may run past the run's end, never past the room reserved: the
     * text lags the input (a string drops its quotes), so each block
     * lands below where it was read. What lies past the run is written
     * over or never read. */
    const unsigned char *run = p;
    uint64_t stop = 0;
    int shift = 3; /* stops8 marks a byte by its high bit */
#ifdef __SSE2__
    while (c->end - p >= 16) {
      __m128i w = _mm_loadu_si128((const __m128i *)p);
      /* Signed: the bytes past ASCII are below 0x20 too. */
      __m128i m =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, _mm_set1_epi8('"')),
                                    _mm_cmpeq_epi8(w, _mm_set1_epi8('\\'))),
                       _mm_cmplt_epi8(w, _mm_set1_epi8(0x20)));
      _mm_storeu_si128((__m128i *)(o + (p - run)), w);
      if ((stop = (unsigned)_mm_movemask_epi8(m))) {
        shift = 0;
        break;
      }
      p += 16;
    }
#endif
    while (!stop && c->end - p >= 8) {
      stop = stops8(p);
      memcpy(o + (p - run), p, 8);
      if (!stop)
        p += 8;
    }
    if (stop)
      p += __builtin_ctzll(stop) >> shift;
    o += p - run;
    if (!stop)
      while (p < c->end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
        *o++ = (char)*p++;
    if (p >= c->end)
      return OUTSIDE;
    if (*p == '"')
      break;
    if (*p < 0x20)
      return OUTSIDE;
    if (*p >= 0x80) {
      int n = utf8_seq(p, c->end);
      if (!n)
        return OUTSIDE;
      memcpy(o, p, (size_t)n);
      o += n;
      p += n;
      continue;
    }
    /* An escape: the canonical form may write it otherwise. */
    d->src_canon = 0;
    if (c->end - p < 2)
      return OUTSIDE;
    char e = (char)p[1];
    p += 2;
    switch (e) {
    case '"':
      *o++ = '"';
      break;
    case '\\':
      *o++ = '\\';
      break;
    case '/':
      *o++ = '/';
      break;
    case 'b':
      *o++ = '\b';
      break;
    case 'f':
      *o++ = '\f';
      break;
    case 'n':
      *o++ = '\n';
      break;
    case 'r':
      *o++ = '\r';
      break;
    case 't':
      *o++ = '\t';
      break;
    case 'u': {
      if (c->end - p < 4)
        return OUTSIDE;
      int h0 = hexval(p[0]), h1 = hexval(p[1]), h2 = hexval(p[2]),
          h3 = hexval(p[3]);
      if ((h0 | h1 | h2 | h3) < 0)
        return OUTSIDE;
      unsigned u = (unsigned)(h0 << 12 | h1 << 8 | h2 << 4 | h3);
      p += 4;
      if (u == 0 || (u >= 0xD800 && u <= 0xDFFF))
        return OUTSIDE; /* NUL and surrogate pairs: left to jansson */
      if (u < 0x80) {
        *o++ = (char)u;
      } else if (u < 0x800) {
        *o++ = (char)(0xC0 | u >> 6);
        *o++ = (char)(0x80 | (u & 0x3F));
      } else {
        *o++ = (char)(0xE0 | u >> 12);
        *o++ = (char)(0x80 | ((u >> 6) & 0x3F));
        *o++ = (char)(0x80 | (u & 0x3F));
      }
      break;
    }
    default:
      return OUTSIDE;
    }
  }
  c->p = p + 1;
  *off = (uint32_t)d->tlen;
  *len = (uint32_t)(o - (d->text + d->tlen));
  *o = '\0';
  d->tlen += *len + 1;
  return OK;
}

static int parse_value(pctx *c, int32_t *out);

static int key_cmp(const sp_jdoc *d, const sp_jv *a, const sp_jv *b) {
  const unsigned char *x = (const unsigned char *)d->text + a->key,
                      *y = (const unsigned char *)d->text + b->key;
  uint32_t n = a->klen < b->klen ? a->klen : b->klen;
  /* A loop, not memcmp: keys are short and mostly differ early. */
  for (uint32_t i = 0; i < n; i++)
    if (x[i] != y[i])
      return x[i] < y[i] ? -1 : 1;
  return (a->klen > b->klen) - (a->klen < b->klen);
}

static _Thread_local const sp_jdoc *tl_sort_doc;

static int by_key(const void *x, const void *y) {
  const sp_jdoc *d = tl_sort_doc;
  return key_cmp(d, &d->v[*(const int32_t *)x], &d->v[*(const int32_t *)y]);
}

/* The members of object o in key order, into idx (count entries). */
static void sorted_members(const sp_jdoc *d, const sp_jv *o, int32_t *idx) {
  uint32_t k = 0;
  for (int32_t m = o->first; m >= 0; m = d->v[m].next)
    idx[k++] = m;
  if (o->count <= 16) {
    for (uint32_t i = 1; i < o->count; i++) {
      int32_t x = idx[i];
      uint32_t j = i;
      while (j > 0 && key_cmp(d, &d->v[idx[j - 1]], &d->v[x]) > 0) {
        idx[j] = idx[j - 1];
        j--;
      }
      idx[j] = x;
    }
    return;
  }
  tl_sort_doc = d;
  qsort(idx, o->count, sizeof *idx, by_key);
}

/* Records object o's members in key order (sp_jv.sorted), read once for
 * the duplicate check and again for the canonical form; in_order: they
 * were read in strictly increasing key order already (no sort then). 1
 * when two members have the same key, -1 when out of memory. */
static int sort_object(sp_jdoc *d, int32_t o, int in_order) {
  uint32_t n = d->v[o].count;
  if (n > UINT32_MAX - d->olen)
    return -1;
  d->v[o].sorted = (uint32_t)d->olen;
  if (!n) /* nothing to place: no place (the first may be before any) */
    return 0;
  if (d->olen + n > d->ocap) {
    size_t cap = d->ocap ? d->ocap : 64;
    while (cap < d->olen + n)
      cap *= 2;
    int32_t *x = realloc(d->order, cap * sizeof *x);
    if (!x)
      return -1;
    d->order = x;
    d->ocap = cap;
  }
  int32_t *idx = d->order + d->olen;
  d->olen += n;
  if (in_order) {
    uint32_t k = 0;
    for (int32_t m = d->v[o].first; m >= 0; m = d->v[m].next)
      idx[k++] = m;
    return 0;
  }
  sorted_members(d, &d->v[o], idx);
  for (uint32_t i = 1; i < n; i++)
    if (key_cmp(d, &d->v[idx[i - 1]], &d->v[idx[i]]) == 0)
      return 1;
  return 0;
}

/* The value at c->p, read as a member of self (key: its name in the
 * text; at: where the member starts) and linked after *last. */
static int parse_member(pctx *c, int32_t self, int32_t *last, uint32_t koff,
                        uint32_t klen, uint32_t at) {
  int32_t child;
  int rc = parse_value(c, &child);
  if (rc)
    return rc;
  sp_jv *v = &c->d->v[child];
  v->key = koff;
  v->klen = klen;
  v->at = at;
  v->end = (uint32_t)(c->p - c->start);
  append_child(c->d, self, last, child);
  return OK;
}

/* memcpy for the few bytes of a member's name, inline (as
 * sp_jdoc_same_bytes compares them). Words overlap at the end. */
static void copy_short(char *o, const char *s, uint32_t n) {
  if (n >= 8) {
    uint64_t x;
    for (uint32_t i = 0; i + 8 < n; i += 8) {
      memcpy(&x, s + i, 8);
      memcpy(o + i, &x, 8);
    }
    memcpy(&x, s + n - 8, 8);
    memcpy(o + n - 8, &x, 8);
  } else if (n >= 4) {
    uint32_t x, x2;
    memcpy(&x, s, 4);
    memcpy(&x2, s + n - 4, 4);
    memcpy(o, &x, 4);
    memcpy(o + n - 4, &x2, 4);
  } else {
    for (uint32_t i = 0; i < n; i++)
      o[i] = s[i];
  }
}

/* The root object's members when they are c->keys' (the opening brace
 * read): each name compared as bytes, then copied into the text as
 * parse_string would decode it (the names hold nothing to decode). The
 * same tree as parse_container's loop, or NOT_KEYED as soon as the text
 * differs from the expected names. */
static int parse_keyed_members(pctx *c, int32_t self) {
  sp_jdoc *d = c->d;
  const sp_jdoc_keys *k = c->keys;
  int32_t last = -1;
  for (uint32_t i = 0; i < k->n; i++) {
    uint32_t at = (uint32_t)(c->p - c->start), n = k->len[i];
    if ((size_t)(c->end - c->p) < (size_t)n + 3 || c->p[0] != '"' ||
        !sp_jdoc_same_bytes(c->p + 1, k->name[i], n) || c->p[n + 1] != '"' ||
        c->p[n + 2] != ':')
      return NOT_KEYED;
    /* Room: sp_jdoc_parse reserved the input's length, and the name's
     * quotes leave room for its NUL. */
    uint32_t koff = (uint32_t)d->tlen;
    copy_short(d->text + d->tlen, k->name[i], n);
    d->text[d->tlen + n] = '\0';
    d->tlen += n + 1;
    c->p += n + 3;
    int rc = parse_member(c, self, &last, koff, n, at);
    if (rc)
      return rc;
    if (c->p >= c->end)
      return OUTSIDE;
    if (*c->p != (i + 1 < k->n ? ',' : '}'))
      return NOT_KEYED;
    c->p++;
  }
  c->depth--;
  if (!k->ascending)
    d->src_canon = 0;
  int rc = sort_object(d, self, k->ascending);
  if (rc < 0)
    return NOMEM;
  if (rc)
    return OUTSIDE;
  c->keyed = 1;
  return OK;
}

static int parse_container(pctx *c, int32_t self, int is_obj) {
  sp_jdoc *d = c->d;
  if (++c->depth > SP_JDOC_MAX_DEPTH)
    return OUTSIDE;
  c->p++; /* the opening bracket */
  char close = is_obj ? '}' : ']';
  int32_t last = -1;
  if (c->p < c->end && *c->p == close) {
    c->p++;
    c->depth--;
    return OK;
  }
  if (is_obj && c->keys && c->depth == 1)
    return parse_keyed_members(c, self);
  int in_order = 1;
  for (;;) {
    uint32_t koff = 0, klen = 0;
    uint32_t at = (uint32_t)(c->p - c->start);
    if (is_obj) {
      if (c->p >= c->end || *c->p != '"')
        return OUTSIDE;
      int rc = parse_string(c, &koff, &klen);
      if (rc)
        return rc;
      if (c->p >= c->end || *c->p != ':')
        return OUTSIDE;
      c->p++;
    }
    int32_t prev = last;
    int rc = parse_member(c, self, &last, koff, klen, at);
    if (rc)
      return rc;
    if (is_obj && prev >= 0 && in_order &&
        key_cmp(d, &d->v[prev], &d->v[last]) >= 0)
      in_order = 0;
    if (c->p >= c->end)
      return OUTSIDE;
    if (*c->p == ',') {
      c->p++;
      continue;
    }
    if (*c->p != close)
      return OUTSIDE;
    c->p++;
    break;
  }
  c->depth--;
  if (is_obj) {
    if (!in_order)
      d->src_canon = 0;
    int rc = sort_object(d, self, in_order);
    if (rc < 0)
      return NOMEM;
    if (rc)
      return OUTSIDE; /* a duplicate key: jansson decides */
  }
  return OK;
}

static int parse_number(pctx *c, int32_t self) {
  const unsigned char *p = c->p;
  int neg = *p == '-';
  if (neg)
    p++;
  if (p >= c->end || *p < '0' || *p > '9')
    return OUTSIDE;
  /* Accumulated negative: LLONG_MIN has no positive twin. */
  long long v = 0;
  if (*p == '0') {
    p++;
    if (neg)
      c->d->src_canon = 0; /* -0: written 0 */
  } else {
    while (p < c->end && *p >= '0' && *p <= '9') {
      int dig = *p - '0';
      if (v < (LLONG_MIN + dig) / 10)
        return OUTSIDE; /* too big: jansson says so */
      v = v * 10 - dig;
      p++;
    }
  }
  if (p < c->end && (*p == '.' || *p == 'e' || *p == 'E'))
    return OUTSIDE; /* a real */
  if (!neg) {
    if (v == LLONG_MIN)
      return OUTSIDE;
    v = -v;
  }
  c->d->v[self].i = v;
  c->p = p;
  return OK;
}

static int literal(pctx *c, const char *word, size_t n) {
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n))
    return OUTSIDE;
  c->p += n;
  return OK;
}

static int parse_value(pctx *c, int32_t *out) {
  if (c->p >= c->end)
    return OUTSIDE;
  sp_jv_type t;
  switch (*c->p) {
  case '{':
    t = SP_JV_OBJ;
    break;
  case '[':
    t = SP_JV_ARR;
    break;
  case '"':
    t = SP_JV_STR;
    break;
  case 't':
    t = SP_JV_TRUE;
    break;
  case 'f':
    t = SP_JV_FALSE;
    break;
  case 'n':
    t = SP_JV_NULL;
    break;
  default:
    t = SP_JV_INT;
    break;
  }
  int32_t self = node_new(c->d, t);
  if (self < 0)
    return NOMEM;
  *out = self;
  switch (t) {
  case SP_JV_OBJ:
    return parse_container(c, self, 1);
  case SP_JV_ARR:
    return parse_container(c, self, 0);
  case SP_JV_STR: {
    uint32_t off, len;
    int rc = parse_string(c, &off, &len);
    if (!rc) {
      c->d->v[self].str = off;
      c->d->v[self].slen = len;
    }
    return rc;
  }
  case SP_JV_TRUE:
    return literal(c, "true", 4);
  case SP_JV_FALSE:
    return literal(c, "false", 5);
  case SP_JV_NULL:
    return literal(c, "null", 4);
  default:
    return parse_number(c, self);
  }
}

static int parse(sp_jdoc *d, const char *buf, size_t len,
                 const sp_jdoc_keys *keys, int *keyed) {
  reset(d);
  if (!buf || len > UINT32_MAX / 2)
    return OUTSIDE;
  pctx c = {d, (const unsigned char *)buf, (const unsigned char *)buf + len,
            0, (const unsigned char *)buf, keys,
            0};
  d->src = buf;
  d->srclen = len;
  d->src_canon = 1;
  /* Every string's decoded bytes and NUL: fewer than the input's. */
  if (text_reserve(d, len + 1))
    return NOMEM;
  int32_t root;
  int rc = parse_value(&c, &root);
  if (rc == OK) {
    d->v[root].at = 0;
    d->v[root].end = (uint32_t)(c.p - c.start);
  }
  if (rc == OK && c.p != c.end)
    rc = OUTSIDE; /* trailing bytes, even whitespace: jansson decides */
  if (rc)
    reset(d);
  if (keyed)
    *keyed = rc == OK && c.keyed;
  return rc;
}

int sp_jdoc_parse(sp_jdoc *d, const char *buf, size_t len) {
  return parse(d, buf, len, NULL, NULL);
}

void sp_jdoc_keys_init(sp_jdoc_keys *k, const char *const *names, uint32_t n) {
  memset(k, 0, sizeof *k);
  if (n == 0 || n > SP_JDOC_KEYS_MAX)
    return;
  k->ascending = 1;
  for (uint32_t i = 0; i < n; i++) {
    size_t l = strlen(names[i]);
    for (size_t j = 0; j < l; j++) {
      unsigned char ch = (unsigned char)names[i][j];
      if (ch < 0x20 || ch >= 0x7F || ch == '"' || ch == '\\')
        return; /* names[i] would not be read as written: no hint */
    }
    if (l > UINT32_MAX / 2)
      return;
    k->name[i] = names[i];
    k->len[i] = (uint32_t)l;
    if (i && k->ascending) {
      size_t m = l < k->len[i - 1] ? l : k->len[i - 1];
      int r = memcmp(k->name[i - 1], names[i], m);
      if (r > 0 || (r == 0 && k->len[i - 1] >= l))
        k->ascending = 0;
    }
  }
  k->n = n;
}

int sp_jdoc_parse_keyed(sp_jdoc *d, const char *buf, size_t len,
                        const sp_jdoc_keys *k, int *keyed) {
  int ok = 0;
  int rc = k && k->n ? parse(d, buf, len, k, &ok) : NOT_KEYED;
  if (keyed)
    *keyed = ok;
  return rc == NOT_KEYED ? parse(d, buf, len, NULL, NULL) : rc;
}

/* ---- from and to jansson ------------------------------------------------ */

static int text_add(sp_jdoc *d, const char *s, size_t n, uint32_t *off) {
  if (text_reserve(d, n + 1))
    return -1;
  memcpy(d->text + d->tlen, s, n);
  d->text[d->tlen + n] = '\0';
  *off = (uint32_t)d->tlen;
  d->tlen += n + 1;
  return 0;
}

static int from_json(sp_jdoc *d, const json_t *j, int depth, int32_t *out) {
  if (depth > SP_JDOC_MAX_DEPTH * 32)
    return -1;
  sp_jv_type t;
  switch (json_typeof(j)) {
  case JSON_OBJECT:
    t = SP_JV_OBJ;
    break;
  case JSON_ARRAY:
    t = SP_JV_ARR;
    break;
  case JSON_STRING:
    t = SP_JV_STR;
    break;
  case JSON_INTEGER:
    t = SP_JV_INT;
    break;
  case JSON_REAL:
    t = SP_JV_REAL;
    break;
  case JSON_TRUE:
    t = SP_JV_TRUE;
    break;
  case JSON_FALSE:
    t = SP_JV_FALSE;
    break;
  default:
    t = SP_JV_NULL;
    break;
  }
  int32_t self = node_new(d, t);
  if (self < 0)
    return -1;
  *out = self;
  int32_t last = -1, child;
  if (t == SP_JV_STR) {
    uint32_t off;
    if (text_add(d, json_string_value(j), json_string_length(j), &off))
      return -1;
    d->v[self].str = off;
    d->v[self].slen = (uint32_t)json_string_length(j);
  } else if (t == SP_JV_INT) {
    d->v[self].i = json_integer_value(j);
  } else if (t == SP_JV_REAL) {
    d->v[self].d = json_real_value(j);
  } else if (t == SP_JV_ARR) {
    for (size_t i = 0; i < json_array_size(j); i++) {
      if (from_json(d, json_array_get(j, i), depth + 1, &child))
        return -1;
      append_child(d, self, &last, child);
    }
  } else if (t == SP_JV_OBJ) {
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)j, k, val) {
      uint32_t koff;
      if (text_add(d, k, strlen(k), &koff) ||
          from_json(d, val, depth + 1, &child))
        return -1;
      d->v[child].key = koff;
      d->v[child].klen = (uint32_t)strlen(k);
      append_child(d, self, &last, child);
    }
    /* Key order too, as for a parsed object (1, two keys alike up to a
     * NUL, changes nothing here). */
    if (sort_object(d, self, 0) < 0)
      return -1;
  }
  return 0;
}

int sp_jdoc_from_json(sp_jdoc *d, const json_t *j) {
  reset(d);
  int32_t root;
  if (!j || from_json(d, j, 0, &root)) {
    reset(d);
    return -1;
  }
  return 0;
}

json_t *sp_jv_to_json(const sp_jdoc *d, const sp_jv *v) {
  json_t *j = NULL;
  switch (v->type) {
  case SP_JV_NULL:
    return json_null();
  case SP_JV_TRUE:
    return json_true();
  case SP_JV_FALSE:
    return json_false();
  case SP_JV_INT:
    return json_integer(v->i);
  case SP_JV_REAL:
    return json_real(v->d);
  case SP_JV_STR:
    return json_stringn(sp_jv_str(d, v), v->slen);
  case SP_JV_ARR:
    if (!(j = json_array()))
      return NULL;
    for (const sp_jv *c = sp_jv_first(d, v); c; c = sp_jv_next(d, c))
      if (json_array_append_new(j, sp_jv_to_json(d, c))) {
        json_decref(j);
        return NULL;
      }
    return j;
  case SP_JV_OBJ:
    if (!(j = json_object()))
      return NULL;
    for (const sp_jv *c = sp_jv_first(d, v); c; c = sp_jv_next(d, c))
      if (json_object_setn_new(j, sp_jv_key(d, c), c->klen,
                               sp_jv_to_json(d, c))) {
        json_decref(j);
        return NULL;
      }
    return j;
  }
  return NULL;
}

const sp_jv *sp_jv_get(const sp_jdoc *d, const sp_jv *o, const char *key) {
  if (!o || o->type != SP_JV_OBJ)
    return NULL;
  size_t n = strlen(key);
  for (const sp_jv *c = sp_jv_first(d, o); c; c = sp_jv_next(d, c)) {
    const char *k = sp_jv_key(d, c);
    if (c->klen == n && (n == 0 || (k[0] == key[0] && !memcmp(k, key, n))))
      return c;
  }
  return NULL;
}

/* ---- the canonical form ------------------------------------------------- */

/* Output goes through a buffer: the sink (a digest update) costs per call. */
typedef struct {
  sp_jdoc_out out;
  void *ctx;
  char buf[2048];
  size_t n;
} emitter;

static void flush(emitter *e) {
  if (e->n)
    e->out(e->ctx, e->buf, e->n);
  e->n = 0;
}

static void put(emitter *e, const void *p, size_t n) {
  if (e->n + n > sizeof e->buf) {
    flush(e);
    if (n > sizeof e->buf) {
      e->out(e->ctx, p, n);
      return;
    }
  }
  memcpy(e->buf + e->n, p, n);
  e->n += n;
}

static void putc1(emitter *e, char ch) {
  if (e->n == sizeof e->buf)
    flush(e);
  e->buf[e->n++] = ch;
}

/* As jansson's dump escapes: the quote, the backslash and the control
 * characters; \u00XX in upper case for those without a short form. */
static void put_string(emitter *e, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  putc1(e, '"');
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch >= 0x20 && ch != '"' && ch != '\\')
      continue;
    put(e, s + run, i - run);
    run = i + 1;
    char esc[6] = {'\\', 0};
    size_t el = 2;
    switch (ch) {
    case '"':
      esc[1] = '"';
      break;
    case '\\':
      esc[1] = '\\';
      break;
    case '\b':
      esc[1] = 'b';
      break;
    case '\f':
      esc[1] = 'f';
      break;
    case '\n':
      esc[1] = 'n';
      break;
    case '\r':
      esc[1] = 'r';
      break;
    case '\t':
      esc[1] = 't';
      break;
    default:
      esc[1] = 'u';
      esc[2] = '0';
      esc[3] = '0';
      esc[4] = hex[ch >> 4];
      esc[5] = hex[ch & 15];
      el = 6;
    }
    put(e, esc, el);
  }
  put(e, s + run, n - run);
  putc1(e, '"');
}

static void put_int(emitter *e, long long v) {
  char tmp[24];
  int k = sizeof tmp;
  unsigned long long u =
      v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do {
    tmp[--k] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0)
    tmp[--k] = '-';
  put(e, tmp + k, sizeof tmp - (size_t)k);
}

static int emit(emitter *e, const sp_jdoc *d, const sp_jv *v,
                const char *skip) {
  switch (v->type) {
  case SP_JV_NULL:
    put(e, "null", 4);
    return 0;
  case SP_JV_TRUE:
    put(e, "true", 4);
    return 0;
  case SP_JV_FALSE:
    put(e, "false", 5);
    return 0;
  case SP_JV_INT:
    put_int(e, v->i);
    return 0;
  case SP_JV_REAL:
    return -1;
  case SP_JV_STR:
    put_string(e, sp_jv_str(d, v), v->slen);
    return 0;
  case SP_JV_ARR:
    putc1(e, '[');
    for (const sp_jv *c = sp_jv_first(d, v); c; c = sp_jv_next(d, c)) {
      if (c != sp_jv_first(d, v))
        putc1(e, ',');
      if (emit(e, d, c, NULL))
        return -1;
    }
    putc1(e, ']');
    return 0;
  case SP_JV_OBJ: {
    int32_t small[32], *idx = small;
    if (v->sorted != UINT32_MAX)
      idx = d->order + v->sorted;
    else if (v->count > 32 && !(idx = malloc(v->count * sizeof *idx)))
      return -1;
    if (v->sorted == UINT32_MAX)
      sorted_members(d, v, idx);
    size_t skiplen = skip ? strlen(skip) : 0;
    int rc = 0, first = 1;
    putc1(e, '{');
    for (uint32_t k = 0; k < v->count && !rc; k++) {
      const sp_jv *c = &d->v[idx[k]];
      if (skip && c->klen == skiplen && !memcmp(sp_jv_key(d, c), skip, skiplen))
        continue;
      if (!first)
        putc1(e, ',');
      first = 0;
      put_string(e, sp_jv_key(d, c), c->klen);
      putc1(e, ':');
      rc = emit(e, d, c, NULL);
    }
    putc1(e, '}');
    if (idx != small && v->sorted == UINT32_MAX)
      free(idx);
    return rc;
  }
  }
  return -1;
}

/* The root's canonical form when the text read is canonical: the text,
 * without the member named skip and its comma. */
static void canonical_text(const sp_jdoc *d, const sp_jv *v, const char *skip,
                           sp_jdoc_out out, void *ctx) {
  const sp_jv *prev = NULL, *m = NULL;
  if (v->type == SP_JV_OBJ && skip) {
    size_t n = strlen(skip);
    for (m = sp_jv_first(d, v); m; prev = m, m = sp_jv_next(d, m))
      if (m->klen == n && !memcmp(sp_jv_key(d, m), skip, n))
        break;
  }
  if (!m) {
    out(ctx, d->src, d->srclen);
  } else if (prev) { /* ...prev,"skip":x...: cut from prev's end */
    out(ctx, d->src, prev->end);
    out(ctx, d->src + m->end, d->srclen - m->end);
  } else if (m->next >= 0) { /* {"skip":x,next...: cut to next */
    const sp_jv *next = &d->v[m->next];
    out(ctx, d->src, m->at);
    out(ctx, d->src + next->at, d->srclen - next->at);
  } else {
    out(ctx, "{}", 2);
  }
}

int sp_jdoc_canonical(const sp_jdoc *d, const sp_jv *v, const char *skip,
                      sp_jdoc_out out, void *ctx) {
  if (d->src_canon && d->src && d->n && v == &d->v[0]) {
    canonical_text(d, v, skip, out, ctx);
    return 0;
  }
  emitter e = {.out = out, .ctx = ctx};
  int rc = emit(&e, d, v, skip);
  flush(&e);
  return rc;
}
