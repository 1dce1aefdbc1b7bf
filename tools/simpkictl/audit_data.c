/* audit_data.c - the kept fields of an event's data (audit_data.h).
 *
 * One allocation, small because a replay holds one per event: a header
 * with a bit per field present and a bit per integer, then the present
 * fields' offsets (in field order) and their values (a NUL-terminated
 * string, or a long long). */
#include "audit_data.h"
#include "audit_names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
#define X(name) F_##name,
  AUDIT_DATA_FIELDS
#undef X
      F_COUNT
};
_Static_assert(F_COUNT <= 32, "a bit per field in a uint32_t");
#define X(name) _Static_assert(sizeof #name - 1 < 32, "a name shorter than 32");
AUDIT_DATA_FIELDS
#undef X

static const char *const names[F_COUNT] = {
#define X(name) #name,
    AUDIT_DATA_FIELDS
#undef X
};

struct audit_data {
  json_t *failures;
  uint32_t present;   /* bit i: field i is kept */
  uint32_t is_int;    /* bit i: ... as an integer, else a string */
  uint8_t from_alloc; /* 1: the caller's allocator's, not malloc's */
  /* uint32_t offsets of the present fields' values after them, then the
   * values; unaligned, read with memcpy. */
  unsigned char bytes[];
};

/* The fields by the length of their names, built before main. */
static uint32_t by_len[AUDIT_NAMES_LEN];
__attribute__((constructor)) static void index_names(void) {
  audit_names_index(by_len, names, F_COUNT);
}

static int field_of(const char *key, size_t n) {
  return audit_names_find(by_len, names, key, n);
}

/* The values found, before packing: the fields present, in field order
 * (an event's data holds a few of them). */
typedef struct {
  uint8_t field, is_int;
  size_t len;
  const char *str;
  long long i;
} kept_value;

typedef struct {
  kept_value v[F_COUNT];
  int n;
  json_t *failures;
} kept_values;

/* The slot of field in f, in field order; a field met again keeps its
 * slot (its last value wins). */
static kept_value *slot(kept_values *f, int field) {
  int at = f->n;
  while (at > 0 && f->v[at - 1].field > field)
    at--;
  if (at > 0 && f->v[at - 1].field == field)
    return &f->v[at - 1];
  memmove(&f->v[at + 1], &f->v[at], (size_t)(f->n - at) * sizeof f->v[0]);
  f->n++;
  f->v[at].field = (uint8_t)field;
  return &f->v[at];
}

/* len: s's length as a C string, as the readers take it. */
static void keep_str(kept_values *f, int field, const char *s, size_t len) {
  kept_value *k = slot(f, field);
  k->is_int = 0;
  k->str = s;
  k->len = len;
}

static void keep_int(kept_values *f, int field, long long i) {
  kept_value *k = slot(f, field);
  k->is_int = 1;
  k->i = i;
}

static audit_data *pack(kept_values *f, audit_data_alloc alloc, void *ctx) {
  size_t values = 0;
  for (int k = 0; k < f->n; k++)
    values += f->v[k].is_int ? sizeof(long long) : f->v[k].len + 1;
  size_t head = (size_t)f->n * sizeof(uint32_t);
  size_t size = sizeof(audit_data) + head + values;
  audit_data *d = alloc ? alloc(ctx, size) : malloc(size);
  if (!d) {
    json_decref(f->failures);
    return NULL;
  }
  d->failures = f->failures;
  d->from_alloc = alloc != NULL;
  d->present = d->is_int = 0;
  size_t at = head;
  for (int k = 0; k < f->n; k++) {
    const kept_value *v = &f->v[k];
    uint32_t off = (uint32_t)at;
    memcpy(d->bytes + (size_t)k * sizeof off, &off, sizeof off);
    d->present |= 1u << v->field;
    if (v->is_int) {
      d->is_int |= 1u << v->field;
      memcpy(d->bytes + at, &v->i, sizeof v->i);
      at += sizeof v->i;
    } else {
      memcpy(d->bytes + at, v->str, v->len);
      d->bytes[at + v->len] = '\0';
      at += v->len + 1;
    }
  }
  return d;
}

/* Where field i's value is; NULL when it is not kept. */
static const unsigned char *value_of(const audit_data *d, int i) {
  if (!(d->present >> i & 1))
    return NULL;
  uint32_t off;
  int k = __builtin_popcount(d->present & ((1u << i) - 1));
  memcpy(&off, d->bytes + k * sizeof off, sizeof off);
  return d->bytes + off;
}

audit_data *audit_data_from_json(const json_t *data) {
  kept_values f;
  f.n = 0;
  f.failures = NULL;
  if (json_is_object(data)) {
    for (int i = 0; i < F_COUNT; i++) {
      const json_t *v = json_object_get(data, names[i]);
      if (json_is_string(v))
        keep_str(&f, i, json_string_value(v), strlen(json_string_value(v)));
      else if (json_is_integer(v))
        keep_int(&f, i, json_integer_value(v));
    }
    json_t *fl = json_object_get(data, "failures");
    if (json_is_array(fl))
      f.failures = json_incref(fl);
  }
  return pack(&f, NULL, NULL);
}

audit_data *audit_data_from_jv(const sp_jdoc *d, const sp_jv *data,
                               audit_data_alloc alloc, void *ctx) {
  kept_values f;
  f.n = 0;
  f.failures = NULL;
  if (data && data->type == SP_JV_OBJ) {
    for (const sp_jv *m = sp_jv_first(d, data); m; m = sp_jv_next(d, m)) {
      const char *k = sp_jv_key(d, m);
      if (m->type == SP_JV_ARR && !strcmp(k, "failures")) {
        json_decref(f.failures);
        if (!(f.failures = sp_jv_to_json(d, m)))
          return NULL;
        continue;
      }
      int i = m->type == SP_JV_STR || m->type == SP_JV_INT
                  ? field_of(k, m->klen)
                  : -1;
      if (i < 0)
        continue;
      if (m->type == SP_JV_STR)
        keep_str(&f, i, sp_jv_str(d, m), strlen(sp_jv_str(d, m)));
      else
        keep_int(&f, i, m->i);
    }
  }
  return pack(&f, alloc, ctx);
}

audit_data *audit_data_from_flat(const sp_jflat *data, audit_data_alloc alloc,
                                 void *ctx) {
  kept_values f;
  f.n = 0;
  f.failures = NULL; /* an array: never flat */
  for (uint32_t k = 0; data && data->type == SP_JV_OBJ && k < data->count;
       k++) {
    const sp_jflat *m = &data->members[k];
    int i = m->type == SP_JV_STR || m->type == SP_JV_INT
                ? field_of(m->key, m->klen)
                : -1;
    if (i >= 0 && m->type == SP_JV_STR)
      keep_str(&f, i, m->str, m->slen); /* no NUL inside: flat */
    else if (i >= 0)
      keep_int(&f, i, m->i);
  }
  return pack(&f, alloc, ctx);
}

int audit_data_owns(const audit_data *d) {
  return d && (d->failures || !d->from_alloc);
}

void audit_data_free(audit_data *d) {
  if (!d)
    return;
  json_decref(d->failures);
  if (!d->from_alloc)
    free(d);
}

const char *audit_data_get_strn(const audit_data *d, const char *key,
                                size_t n) {
  int i = d && key ? field_of(key, n) : -1;
  return i >= 0 && !(d->is_int >> i & 1) ? (const char *)value_of(d, i) : NULL;
}

int audit_data_get_intn(const audit_data *d, const char *key, size_t n,
                        long long *v) {
  int i = d && key ? field_of(key, n) : -1;
  const unsigned char *at =
      i >= 0 && (d->is_int >> i & 1) ? value_of(d, i) : NULL;
  if (!at)
    return 0;
  memcpy(v, at, sizeof *v);
  return 1;
}

const json_t *audit_data_failures(const audit_data *d) {
  return d ? d->failures : NULL;
}

json_t *audit_data_to_json(const audit_data *d) {
  json_t *o = json_object();
  for (int i = 0; o && d && i < F_COUNT; i++) {
    const unsigned char *at = value_of(d, i);
    long long v;
    json_t *x = !at ? NULL
                : d->is_int >> i & 1
                    ? (memcpy(&v, at, sizeof v), json_integer(v))
                    : json_string((const char *)at);
    if (x && json_object_set_new(o, names[i], x)) {
      json_decref(o);
      return NULL;
    }
  }
  if (o && d && d->failures && json_object_set(o, "failures", d->failures)) {
    json_decref(o);
    return NULL;
  }
  return o;
}
