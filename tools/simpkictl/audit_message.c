/* audit_message.c - one message of the audit replay (audit_message.h). */
#include "audit_message.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "audit_flat.h"
#include "audit_map.h"
#include "audit_names.h"
#include "event.h"
#include "flow.h"
#include "jdoc.h"

/* The instance an event is validated as: the parsed attributes (the parse
 * refused any other attribute) and its data, in one object kept across
 * the events so that each one costs no new object. */
enum {
  A_ID,
  A_SOURCE,
  A_TYPE,
  A_SPEC,
  A_TIME,
  A_SUBJECT,
  A_CTYPE,
  A_PKEY,
  A_CORR,
  A_PREV,
  A_HASH,
  A_COUNT
};
static const char *const attr_names[A_COUNT] = {
    "id",      "source",          "type",         "specversion",   "time",
    "subject", "datacontenttype", "partitionkey", "correlationid", "prevhash",
    "hash"};

struct instance {
  json_t *obj, *attr[A_COUNT], *version;
};

#define RECENT_HASHES 8192 /* a power of two */

struct audit_checker {
  const sp_jschema_set *schemas;
  audit_flat flat;      /* the flat path's event, reused */
  sp_jdoc doc;          /* the tree path's tree, reused */
  struct instance inst; /* the jansson path's instance, reused */
  EVP_MD *sha256;       /* fetched once: EVP_sha256() fetches per call */
  EVP_MD_CTX *md;
  int paths;                    /* AUDIT_PATH_* */
  long n_flat, n_tree, n_keyed; /* audit_checker_counts */
  /* The set's envelope when it is the one sp_event_attrs_strict
   * implements (by its hash), else NULL: an event whose attributes pass
   * both checks is not walked through it again (half the schema's cost). */
  const sp_jschema *envelope;
  audit_arena *arena; /* what is kept of each event; NULL: malloc */
  /* With an arena: one copy of each subject and type (a SIM's events all
   * name it), keys in the arena. */
  audit_map interned;
  /* With an arena: the arena's copies of the hashes kept last, by their
   * audit_map_hash. An event's prevhash is its predecessor's hash, kept
   * a few events earlier in the same partition: it points at that copy
   * instead of taking 65 bytes of its own (a fifth of what an event
   * keeps), and the chain check finds the two equal by their address. */
  struct {
    uint64_t h;
    const char *s;
  } recent[RECENT_HASHES];
};

static int instance_init(struct instance *in) {
  memset(in, 0, sizeof *in);
  in->obj = json_object();
  in->version = json_integer(1);
  if (!in->obj || !in->version ||
      json_object_set(in->obj, "schemaversion", in->version))
    return -1;
  for (int i = 0; i < A_COUNT; i++) {
    in->attr[i] = json_string("");
    if (!in->attr[i] || json_object_set(in->obj, attr_names[i], in->attr[i]))
      return -1;
  }
  return 0;
}

static void instance_free(struct instance *in) {
  json_decref(in->obj);
  json_decref(in->version);
  for (int i = 0; i < A_COUNT; i++)
    json_decref(in->attr[i]);
}

/* The event as a JSON instance again. -1 when out of memory. */
static int instance_set(struct instance *in, const sp_event *ev) {
  const char *v[A_COUNT] = {ev->id,
                            ev->source,
                            ev->type,
                            SP_EVENT_SPECVERSION,
                            ev->time,
                            ev->subject,
                            "application/json",
                            ev->partitionkey,
                            ev->correlationid,
                            ev->prevhash,
                            ev->hash};
  for (int i = 0; i < A_COUNT; i++)
    if (strcmp(json_string_value(in->attr[i]), v[i]) &&
        json_string_set(in->attr[i], v[i]))
      return -1;
  json_integer_set(in->version, ev->schemaversion);
  return json_object_set(in->obj, "data", ev->data);
}

void audit_parsed_clear(audit_parsed *p) {
  if (!p->in_arena)
    free(p->strs);
  audit_data_free(p->data);
  free(p->why);
  memset(p, 0, sizeof *p);
}

static void to_hex(const unsigned char md[32],
                   char out[SP_EVENT_HASH_HEX + 1]) {
  static const char hexd[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    out[2 * i] = hexd[md[i] >> 4];
    out[2 * i + 1] = hexd[md[i] & 15];
  }
  out[SP_EVENT_HASH_HEX] = '\0';
}

/* The attributes keep_attrs keeps, in its order: kept_attr[K_x] is x's
 * index in sp_event_attr_names. */
enum { K_ID, K_SUBJECT, K_TYPE, K_TIME, K_CORRELATIONID, K_PREVHASH, K_HASH };
static const int kept_attr[7] = {
    SP_EVENT_A_ID,   SP_EVENT_A_SUBJECT,       SP_EVENT_A_TYPE,
    SP_EVENT_A_TIME, SP_EVENT_A_CORRELATIONID, SP_EVENT_A_PREVHASH,
    SP_EVENT_A_HASH};

/* The arena's copy of s (hash h), made at its first sight. NULL when out
 * of memory. */
static const char *intern(audit_checker *c, const char *s, uint64_t h) {
  size_t at;
  if (audit_map_get_h(&c->interned, s, h, &at))
    return (const char *)(uintptr_t)at;
  size_t n = strlen(s) + 1;
  char *copy = audit_arena_alloc_shared(c->arena, n);
  if (!copy)
    return NULL;
  memcpy(copy, s, n);
  if (audit_map_put_h(&c->interned, copy, h, (size_t)(uintptr_t)copy, NULL) < 0)
    return NULL;
  return copy;
}

/* The attributes the replay keeps (v by attribute, vlen their lengths
 * or NULL to count them), as one allocation, and the time. -1 when out
 * of memory. */
static int keep_attrs(audit_checker *c, audit_parsed *p,
                      const char *const v[SP_EVENT_NATTRS], const size_t *vlen,
                      const char *content) {
  const char *a[7];
  for (int i = 0; i < 7; i++)
    a[i] = v[kept_attr[i]];
  /* An intact event's content hash is its hash: not stored twice. (Both
   * are 64 hex digits: the attributes were checked.) */
  int intact = !memcmp(content, a[K_HASH], SP_EVENT_HASH_HEX + 1);
  const char *src[8] = {
      a[K_ID],       a[K_SUBJECT], a[K_TYPE], a[K_TIME], a[K_CORRELATIONID],
      a[K_PREVHASH], a[K_HASH],    content};
  const char **dst[8] = {&p->id,   &p->subject,       &p->type,
                         &p->time, &p->correlationid, &p->prevhash,
                         &p->hash, &p->content_hash};
  /* Their lengths: given by the parse, else counted here. */
  size_t l[8];
  for (int i = 0; i < 7; i++)
    l[i] = vlen ? vlen[kept_attr[i]] : strlen(a[i]);
  l[7] = SP_EVENT_HASH_HEX;
  p->h_subject = audit_map_hash_n(a[K_SUBJECT], l[K_SUBJECT]);
  p->h_prev = audit_map_hash_n(a[K_PREVHASH], l[K_PREVHASH]);
  /* Subject and type, from the arena's single copies; the prevhash from
   * the predecessor's copy when it was kept lately. */
  int shared = c->arena != NULL;
  if (shared && (!(p->subject = intern(c, a[K_SUBJECT], p->h_subject)) ||
                 !(p->type = intern(c, a[K_TYPE],
                                    audit_map_hash_n(a[K_TYPE], l[K_TYPE])))))
    return -1;
  const char *prev = NULL;
  if (shared) {
    size_t r = (size_t)p->h_prev & (RECENT_HASHES - 1);
    if (c->recent[r].s && c->recent[r].h == p->h_prev &&
        !strcmp(c->recent[r].s, a[K_PREVHASH]))
      prev = c->recent[r].s;
  }
  size_t total = 0;
  for (int i = 0; i < 8 - intact; i++)
    if (!shared ||
        (i != K_SUBJECT && i != K_TYPE && !(i == K_PREVHASH && prev)))
      total += l[i] + 1;
  p->strs = shared ? audit_arena_alloc(c->arena, total) : malloc(total);
  if (!p->strs)
    return -1;
  p->in_arena = shared;
  char *q = p->strs;
  for (int i = 0; i < 8 - intact; i++) {
    if (shared && (i == K_SUBJECT || i == K_TYPE || (i == K_PREVHASH && prev)))
      continue;
    memcpy(q, src[i], l[i] + 1);
    *dst[i] = q;
    q += l[i] + 1;
  }
  if (prev)
    p->prevhash = prev;
  if (intact)
    p->content_hash = p->hash;
  /* For the chain check's maps, while the strings are in this cache. */
  p->h_id = audit_map_hash_n(p->id, l[K_ID]);
  p->h_hash = audit_map_hash_n(p->hash, l[K_HASH]);
  if (shared) {
    size_t r = (size_t)p->h_hash & (RECENT_HASHES - 1);
    c->recent[r].h = p->h_hash;
    c->recent[r].s = p->hash;
  }
  if (sp_flow_parse_time(p->time, &p->time_ms))
    p->time_ms = -1;
  return 0;
}

#ifdef SIMPKI_AUDIT_STAGES
audit_stage audit_stage_stop = AUDIT_STAGE_ALL;

int audit_stage_parse(const char *name, audit_stage *out) {
  static const char *const names[] = {"all", "read", "hash", "schema", "kept"};
  for (int i = 0; i < (int)(sizeof names / sizeof *names); i++)
    if (!strcmp(name, names[i])) {
      *out = (audit_stage)i;
      return 0;
    }
  return -1;
}
/* The benchmark's replay stops after a step: the message counted only. */
#define STOPS_AT(stage, p)                                                     \
  (audit_stage_stop == AUDIT_STAGE_##stage &&                                  \
   ((p)->status = AUDIT_PARSED_SKIPPED, 1))
#else
#define STOPS_AT(stage, p) 0
#endif

/* ---- the fast paths: no jansson ----------------------------------------- */

/* The envelope a validation may take as given for these attributes (see
 * known_envelope). */
static const sp_jschema *envelope_given(const audit_checker *c,
                                        const char *const v[SP_EVENT_NATTRS]) {
  return c->envelope && sp_event_attrs_strict(v) ? c->envelope : NULL;
}

static void digest_update(void *ctx, const void *bytes, size_t n) {
  EVP_DigestUpdate(ctx, bytes, n);
}

/* The flat path (audit_flat.h): as check_fast, without a tree. Only an
 * event valid against its schema is done here; one that is not, or whose
 * schema this check cannot decide, goes the tree's way for the verdict
 * and its words. */
static int check_flat(audit_checker *c, const void *payload, size_t len,
                      audit_parsed *p) {
  audit_flat *f = &c->flat;
  int rc = audit_flat_read(f, payload, len);
  if (rc)
    return rc;
  char err[400];
  if (sp_event_check_attrs(f->attr, &f->schemaversion, err, sizeof err))
    return 1;
  /* The text is canonical: the content hash covers it but the hash. */
  unsigned char md[32];
  unsigned int mdlen = 0;
  if (!EVP_DigestInit_ex(c->md, c->sha256 ? c->sha256 : EVP_sha256(), NULL) ||
      !EVP_DigestUpdate(c->md, payload, f->hash_at) ||
      !EVP_DigestUpdate(c->md, (const char *)payload + f->hash_end,
                        len - f->hash_end) ||
      !EVP_DigestFinal_ex(c->md, md, &mdlen) || mdlen != 32)
    return -1;
  char content[SP_EVENT_HASH_HEX + 1];
  to_hex(md, content);
  if (STOPS_AT(HASH, p))
    return 0;
  if (c->schemas) {
    if (sp_jschema_valid_flat(c->schemas, f->attr[SP_EVENT_A_TYPE],
                              envelope_given(c, f->attr), &f->event))
      return 1;
  }
  if (STOPS_AT(SCHEMA, p))
    return 0;
  if (!(p->data = audit_data_from_flat(
            f->data_obj, c->arena ? audit_arena_alloc_cb : NULL, c->arena)) ||
      keep_attrs(c, p, f->attr, f->attr_len, content))
    return -1;
  c->n_flat++;
  return 0;
}

/* The attributes (sp_event_attr_names) by the length of their names,
 * built before main. */
_Static_assert(SP_EVENT_NATTRS <= 32, "a bit per attribute in a uint32_t");
static uint32_t attr_by_len[AUDIT_NAMES_LEN];

/* The members in written order (audit_flat.h): the jdoc matches those
 * names rather than reading them, and member i is then attribute
 * audit_written_attr[i]. */
static sp_jdoc_keys written_keys;

/* After audit_flat's constructor (priority 101) set the written order. */
__attribute__((constructor)) static void index_attr_names(void) {
  audit_names_index(attr_by_len, sp_event_attr_names, SP_EVENT_NATTRS);
  sp_jdoc_keys_init(&written_keys, audit_written_name, AUDIT_EVENT_MEMBERS);
}

/* The root's attributes into v, and schemaversion and data; 1 when the
 * root is no event the fast path takes (a member of another type, an
 * unknown member). jdoc refused duplicate keys. */
static int members_of(const sp_jdoc *d, const sp_jv *root, int keyed,
                      const char *v[SP_EVENT_NATTRS],
                      size_t vlen[SP_EVENT_NATTRS], const sp_jv **sv,
                      const sp_jv **data) {
  int i = 0;
  for (const sp_jv *m = sp_jv_first(d, root); m; m = sp_jv_next(d, m), i++) {
    int a = keyed ? audit_written_attr[i]
                  : audit_names_find(attr_by_len, sp_event_attr_names,
                                     sp_jv_key(d, m), m->klen);
    if (a < 0 && !keyed) {
      const char *k = sp_jv_key(d, m);
      a = m->klen == 13 && !memcmp(k, "schemaversion", 13) ? AUDIT_M_VERSION
          : m->klen == 4 && !memcmp(k, "data", 4)          ? AUDIT_M_DATA
                                                           : -3;
    }
    if (a >= 0) {
      if (m->type != SP_JV_STR)
        return 1;
      v[a] = sp_jv_str(d, m);
      vlen[a] = m->slen;
    } else if (a == AUDIT_M_VERSION) {
      *sv = m;
    } else if (a == AUDIT_M_DATA) {
      *data = m;
    } else {
      return 1;
    }
  }
  return 0;
}

/* 0 done (p filled), 1 leave it to the slow path (p untouched), -1 out of
 * memory. Only an event the slow path would find well formed is done
 * here: anything else, and every message jdoc cannot read, goes there for
 * jansson's verdict and its words. */
static int check_fast(audit_checker *c, const void *payload, size_t len,
                      audit_parsed *p) {
  sp_jdoc *d = &c->doc;
  int keyed = 0;
  int rc = sp_jdoc_parse_keyed(d, payload, len, &written_keys, &keyed);
  if (rc)
    return rc;
  const sp_jv *root = sp_jdoc_root(d), *sv = NULL, *data = NULL;
  if (root->type != SP_JV_OBJ || root->count != AUDIT_EVENT_MEMBERS)
    return 1;
  const char *v[SP_EVENT_NATTRS] = {0};
  size_t vlen[SP_EVENT_NATTRS];
  if (members_of(d, root, keyed, v, vlen, &sv, &data))
    return 1;
  char err[400];
  if (!sv || sv->type != SP_JV_INT || !data || data->type != SP_JV_OBJ ||
      sp_event_check_attrs(v, &sv->i, err, sizeof err))
    return 1;
  unsigned char md[32];
  unsigned int mdlen = 0;
  if (!EVP_DigestInit_ex(c->md, c->sha256 ? c->sha256 : EVP_sha256(), NULL))
    return -1;
  if (sp_jdoc_canonical(d, root, "hash", digest_update, c->md))
    return 1;
  if (!EVP_DigestFinal_ex(c->md, md, &mdlen) || mdlen != 32)
    return -1;
  char content[SP_EVENT_HASH_HEX + 1];
  to_hex(md, content);
  if (STOPS_AT(HASH, p))
    return 0;
  if (c->schemas) {
    const sp_jschema *given = envelope_given(c, v);
    p->schema_rc = sp_jschema_validate_jv_given(
        c->schemas, v[SP_EVENT_A_TYPE], given, d, root, err, sizeof err);
    if (p->schema_rc > 0 && !(p->why = strdup(err)))
      return -1;
  }
  if (STOPS_AT(SCHEMA, p)) /* the reader clears why with the rest */
    return 0;
  if (!(p->data = audit_data_from_jv(
            d, data, c->arena ? audit_arena_alloc_cb : NULL, c->arena)) ||
      keep_attrs(c, p, v, vlen, content))
    return -1;
  c->n_tree++;
  c->n_keyed += keyed;
  return 0;
}

/* ---- the slow path: jansson, for every other message -------------------- */

/* SHA-256 of the canonical bytes, in hex. The canonical bytes are those of
 * sp_event_canonical: the event without "hash", compact, keys sorted; made
 * from the instance (the same attributes and data) rather than from a new
 * object. */
static int content_hash(audit_checker *c, char out[SP_EVENT_HASH_HEX + 1]) {
  struct instance *in = &c->inst;
  if (json_object_del(in->obj, "hash"))
    return -1;
  char *canon = json_dumps(in->obj, JSON_COMPACT | JSON_SORT_KEYS);
  if (json_object_set(in->obj, "hash", in->attr[A_HASH])) {
    free(canon);
    return -1;
  }
  if (!canon)
    return -1;
  unsigned char md[32];
  unsigned int mdlen = 0;
  int ok = EVP_Digest(canon, strlen(canon), md, &mdlen,
                      c->sha256 ? c->sha256 : EVP_sha256(), NULL);
  free(canon);
  if (!ok || mdlen != 32)
    return -1;
  to_hex(md, out);
  return 0;
}

static int check_slow(audit_checker *c, const void *payload, size_t len,
                      audit_parsed *p) {
  struct instance *inst = &c->inst;
  sp_event ev;
  char err[400];
  if (sp_event_parse(payload, len, &ev, err, sizeof err)) {
    p->status = 2;
    p->why = strdup(err);
    return p->why ? 0 : -1;
  }
  if (instance_set(inst, &ev)) {
    json_object_del(inst->obj, "data");
    sp_event_clear(&ev);
    return -1;
  }
  if (c->schemas)
    p->schema_rc =
        sp_jschema_validate(c->schemas, ev.type, inst->obj, err, sizeof err);
  char content[SP_EVENT_HASH_HEX + 1] = "";
  int hrc = content_hash(c, content);
  /* The instance must not keep the event's data alive. */
  json_object_del(inst->obj, "data");
  if (hrc || (p->schema_rc > 0 && !(p->why = strdup(err)))) {
    sp_event_clear(&ev);
    return -1;
  }
  audit_data *data = audit_data_from_json(ev.data);
  p->data = data;
  const char *v[SP_EVENT_NATTRS] = {[SP_EVENT_A_ID] = ev.id,
                                    [SP_EVENT_A_SUBJECT] = ev.subject,
                                    [SP_EVENT_A_TYPE] = ev.type,
                                    [SP_EVENT_A_TIME] = ev.time,
                                    [SP_EVENT_A_CORRELATIONID] =
                                        ev.correlationid,
                                    [SP_EVENT_A_PREVHASH] = ev.prevhash,
                                    [SP_EVENT_A_HASH] = ev.hash};
  int rc = data && !keep_attrs(c, p, v, NULL, content) ? 0 : -1;
  sp_event_clear(&ev);
  return rc;
}

/* The set's envelope.json when it is the one SP_EVENT_ENVELOPE_SHA256
 * names, else NULL. Any other (an operator's edit, a later version) is
 * validated in full: the shortcut is only as good as the rules it was
 * checked with. */
static const sp_jschema *known_envelope(const sp_jschema_set *schemas) {
  const sp_jschema *env = sp_jschema_get(schemas, SP_EVENT_ENVELOPE_ID);
  char *canon =
      env ? json_dumps(sp_jschema_json(env), JSON_COMPACT | JSON_SORT_KEYS)
          : NULL;
  if (!canon)
    return NULL;
  char h[SP_EVENT_HASH_HEX + 1];
  sp_sha256_hex(canon, strlen(canon), h);
  free(canon);
  return strcmp(h, SP_EVENT_ENVELOPE_SHA256) ? NULL : env;
}

audit_checker *audit_checker_new(const sp_jschema_set *schemas) {
  audit_checker *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->schemas = schemas;
  c->envelope = schemas ? known_envelope(schemas) : NULL;
  c->paths = AUDIT_PATH_FLAT | AUDIT_PATH_TREE;
  audit_flat_init(&c->flat);
  sp_jdoc_init(&c->doc);
  audit_map_init(&c->interned);
  c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
  c->md = EVP_MD_CTX_new();
  if (!c->md || instance_init(&c->inst)) {
    audit_checker_free(c);
    return NULL;
  }
  return c;
}

void audit_checker_free(audit_checker *c) {
  if (!c)
    return;
  instance_free(&c->inst);
  audit_flat_free(&c->flat);
  sp_jdoc_free(&c->doc);
  audit_map_free(&c->interned);
  EVP_MD_CTX_free(c->md);
  EVP_MD_free(c->sha256);
  free(c);
}

void audit_checker_paths(audit_checker *c, int paths) { c->paths = paths; }

void audit_checker_counts(const audit_checker *c, long *flat, long *tree,
                          long *keyed) {
  *flat = c->n_flat;
  *tree = c->n_tree;
  *keyed = c->n_keyed;
}

void audit_checker_set_arena(audit_checker *c, audit_arena *arena) {
  if (arena != c->arena) { /* the copies were the old arena's */
    audit_map_free(&c->interned);
    audit_map_init(&c->interned);
    memset(c->recent, 0, sizeof c->recent);
  }
  c->arena = arena;
}

int audit_message_check(audit_checker *c, const void *payload, size_t len,
                        audit_parsed *p) {
  memset(p, 0, sizeof *p);
  if (!payload || !len) {
    p->status = 1;
    return 0;
  }
  if (STOPS_AT(READ, p))
    return 0;
  int rc = c->paths & AUDIT_PATH_FLAT ? check_flat(c, payload, len, p) : 1;
  if (rc == 1) {
    audit_parsed_clear(p);
    rc = c->paths & AUDIT_PATH_TREE ? check_fast(c, payload, len, p) : 1;
  }
  if (rc == 1) {
    audit_parsed_clear(p);
    rc = check_slow(c, payload, len, p);
  }
  if (rc)
    audit_parsed_clear(p);
  return rc;
}
