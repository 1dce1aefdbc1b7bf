/* audit_flat.c - a flat event read in one pass (audit_flat.h).
 *
 * The message is copied once, sixteen bytes at a time, its quotes marked
 * in a bitmap on the way (copy_and_index); the reader then walks the copy,
 * matching the members' names as bytes and finding each string's end in
 * the bitmap, that quote made a NUL: every key and value is a C string
 * where it lies. */
#include "audit_flat.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

const char *audit_written_name[AUDIT_EVENT_MEMBERS];
int audit_written_attr[AUDIT_EVENT_MEMBERS];
static size_t written_len[AUDIT_EVENT_MEMBERS];
/* Each member's name as written: "name": (the longest is 18 bytes). */
#define TAG_MAX 24
static char written_tag[AUDIT_EVENT_MEMBERS][TAG_MAX];

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Before the default constructors: audit_message's reads these. */
__attribute__((constructor(101))) static void written_order(void) {
  for (int i = 0; i < SP_EVENT_NATTRS; i++)
    audit_written_name[i] = sp_event_attr_names[i];
  audit_written_name[SP_EVENT_NATTRS] = "data";
  audit_written_name[SP_EVENT_NATTRS + 1] = "schemaversion";
  qsort(audit_written_name, AUDIT_EVENT_MEMBERS, sizeof *audit_written_name,
        by_name);
  for (int i = 0; i < AUDIT_EVENT_MEMBERS; i++) {
    const char *n = audit_written_name[i];
    written_len[i] = strlen(n);
    if (written_len[i] + 4 > TAG_MAX) /* event.c's names: never */
      abort();
    snprintf(written_tag[i], TAG_MAX, "\"%s\":", n);
    audit_written_attr[i] = !strcmp(n, "data")            ? AUDIT_M_DATA
                            : !strcmp(n, "schemaversion") ? AUDIT_M_VERSION
                                                          : -3;
    for (int a = 0; a < SP_EVENT_NATTRS; a++)
      if (!strcmp(n, sp_event_attr_names[a]))
        audit_written_attr[i] = a;
  }
}

void audit_flat_init(audit_flat *f) { memset(f, 0, sizeof *f); }

void audit_flat_free(audit_flat *f) {
  free(f->text);
  free(f->quotes);
  memset(f, 0, sizeof *f);
}

/* Sixteen bytes at a time: 64 bytes of src into dst (unless NULL), their
 * quotes as bits, and into *bad the bytes outside printable ASCII and the
 * backslashes. */
#ifdef __SSE2__
static uint64_t chunk(const unsigned char *src, unsigned char *dst,
                      __m128i *bad) {
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7F);
  uint64_t q = 0;
  for (int j = 0; j < 4; j++) {
    __m128i w = _mm_loadu_si128((const __m128i *)(src + 16 * j));
    if (dst)
      _mm_storeu_si128((__m128i *)(dst + 16 * j), w);
    /* Signed: the bytes past ASCII are below the space too. */
    *bad = _mm_or_si128(
        *bad, _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(w, space),
                                        _mm_cmpeq_epi8(w, del)),
                           _mm_cmpeq_epi8(w, backslash)));
    q |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, quote))
         << (16 * j);
  }
  return q;
}
#endif

/* Copies buf into f->text and marks its quotes in f->quotes (bit i of word
 * k: byte 64k + i). 1 when a byte is outside printable ASCII or is a
 * backslash: no string of a flat event holds one (no escape), and the rest
 * of it is punctuation, digits and literals; so every quote then is a
 * string's start or end. -1 when out of memory. */
static int copy_and_index(audit_flat *f, const unsigned char *buf,
                          size_t len) {
  size_t words = len / 64 + 1;
  if (words > f->qcap) {
    uint64_t *q = realloc(f->quotes, words * sizeof *q);
    if (!q)
      return -1;
    f->quotes = q;
    f->qcap = words;
  }
  unsigned char *t = (unsigned char *)f->text;
  size_t i = 0, k = 0;
#ifdef __SSE2__
  __m128i bad = _mm_setzero_si128();
  for (; i + 64 <= len; i += 64)
    f->quotes[k++] = chunk(buf + i, t + i, &bad);
  /* The last bytes, padded with spaces: neither quote nor outside. */
  unsigned char last[64];
  memset(last, ' ', sizeof last);
  memcpy(last, buf + i, len - i);
  memcpy(t + i, buf + i, len - i);
  f->quotes[k] = chunk(last, NULL, &bad);
  if (_mm_movemask_epi8(bad))
    return 1;
#else
  memset(f->quotes, 0, words * sizeof *f->quotes);
  for (; i < len; i++) {
    unsigned char b = buf[i];
    if (b < 0x20 || b >= 0x7F || b == '\\')
      return 1;
    t[i] = (char)b;
    if (b == '"')
      f->quotes[i >> 6] |= (uint64_t)1 << (i & 63);
  }
#endif
  t[len] = '\0';
  return 0;
}

/* The end of the string whose first byte is at p: the first quote from p
 * on (a flat event's strings hold none), or NULL. */
static unsigned char *string_end(const audit_flat *f, unsigned char *p,
                                 const unsigned char *end) {
  unsigned char *t = (unsigned char *)f->text;
  if (p >= end)
    return NULL;
  size_t at = (size_t)(p - t), k = at >> 6, words = (size_t)(end - t) / 64 + 1;
  uint64_t bits = f->quotes[k] & (~(uint64_t)0 << (at & 63));
  while (!bits) {
    if (++k == words)
      return NULL;
    bits = f->quotes[k];
  }
  unsigned char *q = t + (k << 6) + __builtin_ctzll(bits);
  return q < end ? q : NULL;
}

/* The string value at p (its opening quote) into m; after it, or NULL. */
static unsigned char *read_str(const audit_flat *f, unsigned char *p,
                               const unsigned char *end, sp_jflat *m) {
  if (p >= end || *p != '"')
    return NULL;
  unsigned char *q = string_end(f, p + 1, end);
  if (!q)
    return NULL;
  *q = '\0';
  m->type = SP_JV_STR;
  m->str = (const char *)p + 1;
  m->slen = (uint32_t)(q - p - 1);
  return q + 1;
}

/* An integer as jansson writes one: -?(0|[1-9][0-9]*), no "-0", at most
 * 18 digits (a long long's, any of them). After it, or NULL. A digit or a
 * fraction after it is caught by the caller, which expects , or }. */
static unsigned char *read_int(unsigned char *p, const unsigned char *end,
                               long long *out) {
  int neg = p < end && *p == '-';
  p += neg;
  if (p >= end || *p < '0' || *p > '9' || (neg && *p == '0'))
    return NULL;
  unsigned long long v = 0;
  int digits = 0;
  if (*p == '0')
    p++;
  else
    while (p < end && *p >= '0' && *p <= '9') {
      if (++digits > 18)
        return NULL;
      v = v * 10 + (unsigned)(*p++ - '0');
    }
  *out = neg ? -(long long)v : (long long)v;
  return p;
}

static int literal(const unsigned char *p, const unsigned char *end,
                   const char *word, size_t n) {
  return (size_t)(end - p) >= n && !memcmp(p, word, n);
}

/* A scalar value at p into m; after it, or NULL (an object, an array, a
 * real, anything else). */
static unsigned char *read_scalar(const audit_flat *f, unsigned char *p,
                                  const unsigned char *end, sp_jflat *m) {
  if (p >= end)
    return NULL;
  switch (*p) {
  case '"':
    return read_str(f, p, end, m);
  case 't':
    m->type = SP_JV_TRUE;
    return literal(p, end, "true", 4) ? p + 4 : NULL;
  case 'f':
    m->type = SP_JV_FALSE;
    return literal(p, end, "false", 5) ? p + 5 : NULL;
  case 'n':
    m->type = SP_JV_NULL;
    return literal(p, end, "null", 4) ? p + 4 : NULL;
  default:
    m->type = SP_JV_INT;
    return read_int(p, end, &m->i);
  }
}

/* a's key strictly before b's, bytewise (a prefix first): jansson's
 * JSON_SORT_KEYS order, and no key twice. */
static int key_before(const sp_jflat *a, const sp_jflat *b) {
  uint32_t n = a->klen < b->klen ? a->klen : b->klen;
  int c = memcmp(a->key, b->key, n);
  return c < 0 || (c == 0 && a->klen < b->klen);
}

/* The data object at p: scalars, keys in order. After it, or NULL. */
static unsigned char *read_data(audit_flat *f, unsigned char *p,
                                const unsigned char *end, uint32_t *count) {
  *count = 0;
  if (p >= end || *p != '{')
    return NULL;
  if (++p < end && *p == '}')
    return p + 1;
  for (uint32_t n = 0;; n++) {
    if (n == AUDIT_FLAT_MAX_DATA || p >= end || *p != '"')
      return NULL;
    sp_jflat *m = &f->data[n];
    unsigned char *q = string_end(f, p + 1, end);
    if (!q || end - q < 2 || q[1] != ':')
      return NULL;
    m->key = (const char *)p + 1;
    m->klen = (uint32_t)(q - p - 1);
    if (n && !key_before(&f->data[n - 1], m))
      return NULL;
    *q = '\0';
    if (!(p = read_scalar(f, q + 2, end, m)) || p >= end)
      return NULL;
    if (*p == '}') {
      *count = n + 1;
      return p + 1;
    }
    if (*p++ != ',')
      return NULL;
  }
}

int audit_flat_read(audit_flat *f, const char *buf, size_t len) {
  if (!buf || len < 2 || len > UINT32_MAX)
    return 1;
  if (len + 1 > f->cap) {
    size_t cap = f->cap ? f->cap : 1024;
    while (cap < len + 1)
      cap *= 2;
    char *t = realloc(f->text, cap);
    if (!t)
      return -1;
    f->text = t;
    f->cap = cap;
  }
  int rc = copy_and_index(f, (const unsigned char *)buf, len);
  if (rc)
    return rc;
  unsigned char *t = (unsigned char *)f->text, *p = t + 1;
  const unsigned char *end = t + len;
  if (t[0] != '{')
    return 1;
  for (int i = 0; i < AUDIT_EVENT_MEMBERS; i++) {
    size_t n = written_len[i], at = (size_t)(p - t);
    if ((size_t)(end - p) < n + 3 ||
        !sp_jdoc_same_bytes(p, written_tag[i], n + 3))
      return 1;
    sp_jflat *m = &f->member[i];
    p[n + 1] = '\0';
    m->key = (const char *)p + 1;
    m->klen = (uint32_t)n;
    p += n + 3;
    int a = audit_written_attr[i];
    if (a == AUDIT_M_DATA) {
      m->type = SP_JV_OBJ;
      m->members = f->data;
      p = read_data(f, p, end, &m->count);
      f->data_obj = m;
    } else if (a == AUDIT_M_VERSION) {
      m->type = SP_JV_INT;
      p = read_int(p, end, &m->i);
      f->schemaversion = m->i;
    } else {
      if ((p = read_str(f, p, end, m))) {
        f->attr[a] = m->str;
        f->attr_len[a] = m->slen;
        if (a == SP_EVENT_A_HASH) { /* the member and its comma */
          f->hash_at = at;
          f->hash_end = (size_t)(p - t) + 1;
        }
      }
    }
    if (!p || p >= end || *p != (i + 1 < AUDIT_EVENT_MEMBERS ? ',' : '}'))
      return 1;
    p++;
  }
  if (p != end)
    return 1;
  f->event = (sp_jflat){
      .type = SP_JV_OBJ, .members = f->member, .count = AUDIT_EVENT_MEMBERS};
  return 0;
}
