/* jdoc.h - a read-only JSON tree in two flat arrays, for the hot paths that
 * read every event (the audit replay) where jansson's allocation per value
 * and hash table per object cost more than the rest of the work.
 *
 * sp_jdoc_parse reads a strict subset of JSON: what jansson writes with
 * JSON_COMPACT (no whitespace), integers that fit a long long, no reals,
 * strings of printable ASCII, valid UTF-8 and the escapes \" \\ \/ \b \f
 * \n \r \t and \uXXXX (no NUL, no surrogates), no duplicate keys, nesting
 * at most SP_JDOC_MAX_DEPTH. Anything else, valid JSON or not, is "outside
 * the subset" (1), and the caller reads it with jansson instead, whose
 * verdict is the one that counts. So within the subset a document means
 * exactly what jansson makes of it; tests/unit/test_jdoc.c checks that.
 *
 * sp_jdoc_canonical writes the canonical form jansson writes with
 * JSON_COMPACT | JSON_SORT_KEYS, the form an event's hash covers. */
#ifndef SIMPKI_JDOC_H
#define SIMPKI_JDOC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SP_JDOC_MAX_DEPTH 64

typedef enum sp_jv_type {
  SP_JV_NULL,
  SP_JV_FALSE,
  SP_JV_TRUE,
  SP_JV_INT,
  SP_JV_REAL, /* only from sp_jdoc_from_json */
  SP_JV_STR,
  SP_JV_ARR,
  SP_JV_OBJ,
} sp_jv_type;

/* One value. Keys and strings are decoded, NUL-terminated, in the
 * document's text (sp_jv_key, sp_jv_str); a string's length counts bytes
 * and may include a NUL only when it came from jansson. */
typedef struct sp_jv {
  sp_jv_type type;
  uint32_t key, klen; /* as an object's member: its key */
  uint32_t str, slen; /* SP_JV_STR */
  int32_t first;      /* SP_JV_ARR, SP_JV_OBJ: first child, -1 none */
  int32_t next;       /* next sibling, -1 none */
  uint32_t count;     /* children */
  uint32_t sorted;    /* SP_JV_OBJ: its members in key order at doc->order
                         + sorted (UINT32_MAX: not known) */
  uint32_t at, end;   /* read by sp_jdoc_parse: where it is in the text read
                         (a member from its key's quote), end excluded */
  long long i;        /* SP_JV_INT */
  double d;           /* SP_JV_REAL */
} sp_jv;

/* An object of scalars, and of such objects, as a reader that knows its
 * input's shape read it in one pass, without a tree (the audit replay's
 * events): for sp_jschema_valid_flat and the audit's kept fields. Keys
 * and strings are NUL-terminated printable ASCII (so their lengths count
 * characters too); an object's keys are strictly increasing bytewise. */
typedef struct sp_jflat {
  const char *key; /* as a member; NULL for the instance itself */
  uint32_t klen;
  sp_jv_type type; /* SP_JV_NULL, _FALSE, _TRUE, _INT, _STR or _OBJ */
  const char *str; /* SP_JV_STR */
  uint32_t slen;
  uint32_t count; /* SP_JV_OBJ: members[count] */
  long long i;    /* SP_JV_INT */
  const struct sp_jflat *members;
} sp_jflat;

typedef struct sp_jdoc {
  sp_jv *v; /* v[0] is the root */
  size_t n, cap;
  char *text;
  size_t tlen, tcap;
  int32_t *order; /* objects' members in key order (see sp_jv.sorted) */
  size_t olen, ocap;
  /* The text sp_jdoc_parse read, and 1 when it is already in canonical
   * form (keys in order everywhere, no escape, no -0): the canonical form
   * of the root is then that text, and is copied rather than rebuilt. */
  const char *src;
  size_t srclen;
  int src_canon;
} sp_jdoc;

void sp_jdoc_init(sp_jdoc *d);
void sp_jdoc_free(sp_jdoc *d);

/* Replaces d's content with buf's tree. 0 read; 1 outside the subset (d
 * holds nothing useful); -1 out of memory. d keeps pointing at buf: it
 * must stay there for sp_jdoc_canonical of the root. */
int sp_jdoc_parse(sp_jdoc *d, const char *buf, size_t len);

/* The member names an object is expected to have, in the order written:
 * for sp_jdoc_parse_keyed. Made once by sp_jdoc_keys_init. */
#define SP_JDOC_KEYS_MAX 32
typedef struct sp_jdoc_keys {
  uint32_t n;    /* 0: no hint (a name outside printable ASCII, too many) */
  int ascending; /* strictly increasing bytewise: the canonical order */
  const char *name[SP_JDOC_KEYS_MAX];
  uint32_t len[SP_JDOC_KEYS_MAX];
} sp_jdoc_keys;

/* names: n member names, each printable ASCII without a quote or a
 * backslash (else, or with more than SP_JDOC_KEYS_MAX, the hint is off and
 * sp_jdoc_parse_keyed is sp_jdoc_parse). The names are not copied. */
void sp_jdoc_keys_init(sp_jdoc_keys *k, const char *const *names, uint32_t n);

/* memcmp(a, b, n) == 0 for the few bytes of a name, inline: a call per
 * name cost more than the comparison. Words overlap at the end. */
static inline int sp_jdoc_same_bytes(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  if (n >= 8) {
    uint64_t u, v;
    for (size_t i = 0; i + 8 < n; i += 8) {
      memcpy(&u, x + i, 8);
      memcpy(&v, y + i, 8);
      if (u != v)
        return 0;
    }
    memcpy(&u, x + n - 8, 8);
    memcpy(&v, y + n - 8, 8);
    return u == v;
  }
  if (n >= 4) {
    uint32_t u, v, u2, v2;
    memcpy(&u, x, 4);
    memcpy(&v, y, 4);
    memcpy(&u2, x + n - 4, 4);
    memcpy(&v2, y + n - 4, 4);
    return u == v && u2 == v2;
  }
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i])
      return 0;
  return 1;
}

/* sp_jdoc_parse for a text that is mostly an object with exactly k's
 * members in k's order (an event as written): their names are matched as
 * bytes instead of read, which is most of what reading the names costs.
 * The tree is the one sp_jdoc_parse makes, whatever the text; *keyed
 * (when not NULL) is 1 when the root's members are k's, in k's order (the
 * caller may take member i as k->name[i]), else 0. */
int sp_jdoc_parse_keyed(sp_jdoc *d, const char *buf, size_t len,
                        const sp_jdoc_keys *k, int *keyed);

/* Replaces d's content with a copy of j's tree (any JSON, reals too).
 * 0, or -1 out of memory or nested beyond SP_JDOC_MAX_DEPTH * 32. */
int sp_jdoc_from_json(sp_jdoc *d, const json_t *j);

static inline const sp_jv *sp_jdoc_root(const sp_jdoc *d) {
  return d->n ? &d->v[0] : NULL;
}
static inline const char *sp_jv_key(const sp_jdoc *d, const sp_jv *v) {
  return d->text + v->key;
}
static inline const char *sp_jv_str(const sp_jdoc *d, const sp_jv *v) {
  return d->text + v->str;
}
static inline const sp_jv *sp_jv_first(const sp_jdoc *d, const sp_jv *v) {
  return v->first >= 0 ? &d->v[v->first] : NULL;
}
static inline const sp_jv *sp_jv_next(const sp_jdoc *d, const sp_jv *v) {
  return v->next >= 0 ? &d->v[v->next] : NULL;
}

/* The member named key of object o (NULL when o is no object or has no
 * such member). A linear scan: our objects have tens of members. */
const sp_jv *sp_jv_get(const sp_jdoc *d, const sp_jv *o, const char *key);

/* Writes v in canonical form (compact, keys sorted bytewise, strings
 * escaped as jansson escapes them) to out, in pieces. When v is an object,
 * its member named skip (if any) is left out: an event without "hash".
 * 0, or -1 when v holds a real (not in the subset) or out of memory. */
typedef void (*sp_jdoc_out)(void *ctx, const void *bytes, size_t n);
int sp_jdoc_canonical(const sp_jdoc *d, const sp_jv *v, const char *skip,
                      sp_jdoc_out out, void *ctx);

/* A new jansson value equal to v (for the slow paths that want one).
 * NULL when out of memory. */
json_t *sp_jv_to_json(const sp_jdoc *d, const sp_jv *v);

#endif
