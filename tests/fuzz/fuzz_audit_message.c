/* fuzz_audit_message - a message as an audit replay reads it from a topic:
 * audit_message_check's flat path (audit_flat.c, sp_jschema_valid_flat)
 * and tree path (common/jdoc, jschema on a jdoc tree, redfa patterns)
 * against its jansson path on the same bytes.
 *
 * Invariants: the three paths give the same verdict, hash, schema finding
 * and words, attributes and kept data; what jdoc reads jansson reads to
 * the same value, and jdoc's canonical form is jansson's sorted compact
 * dump; jdoc hinted with an event's member names makes the same tree,
 * byte for byte, as without; what audit_flat reads jdoc reads too, its
 * text being its own canonical form but the hash. */
#include "../../tools/simpkictl/audit_arena.c"
#include "../../tools/simpkictl/audit_data.c"
#include "../../tools/simpkictl/audit_flat.c"
#include "../../tools/simpkictl/audit_map.c"
#include "../../tools/simpkictl/audit_message.c"

#include "fuzz.h"

static sp_jschema_set *schemas;
static audit_checker *fast, *tree, *slow;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  char err[512];
  schemas = sp_jschema_load_dir(SIMPKI_SOURCE_DIR "/schemas", err, sizeof err);
  if (!schemas) {
    fprintf(stderr, "fuzz_audit_message: %s\n", err);
    abort();
  }
  fast = audit_checker_new(schemas);
  tree = audit_checker_new(schemas);
  slow = audit_checker_new(schemas);
  if (!fast || !tree || !slow)
    abort();
  audit_checker_paths(tree, AUDIT_PATH_TREE);
  audit_checker_paths(slow, 0);
  return 0;
}

static int same_str(const char *a, const char *b) {
  return (!a && !b) || (a && b && !strcmp(a, b));
}

static void grow(void *ctx, const void *bytes, size_t n) {
  char **s = ctx;
  size_t have = strlen(*s);
  char *t = realloc(*s, have + n + 1);
  if (!t)
    abort();
  memcpy(t + have, bytes, n);
  t[have + n] = '\0';
  *s = t;
}

/* The keyed parse (the replay's) makes d's tree from the same bytes. */
static void keyed_agrees(const sp_jdoc *d, int rc, const uint8_t *data,
                         size_t size) {
  sp_jdoc e;
  sp_jdoc_init(&e);
  int keyed = 0;
  FZ_CHECK(sp_jdoc_parse_keyed(&e, (const char *)data, size, &written_keys,
                               &keyed) == rc,
           "keyed parse: another verdict");
  FZ_CHECK(e.n == d->n && e.tlen == d->tlen && e.olen == d->olen &&
               e.src_canon == d->src_canon,
           "keyed parse: another shape");
  FZ_CHECK(!d->n || (!memcmp(e.v, d->v, d->n * sizeof *d->v) &&
                     !memcmp(e.text, d->text, d->tlen)),
           "keyed parse: other nodes");
  FZ_CHECK(!d->olen || !memcmp(e.order, d->order, d->olen * sizeof *d->order),
           "keyed parse: another member order");
  FZ_CHECK(!keyed || sp_jdoc_root(&e)->count == AUDIT_EVENT_MEMBERS,
           "keyed parse: keyed with other members");
  sp_jdoc_free(&e);
}

static void jdoc_agrees(const uint8_t *data, size_t size) {
  sp_jdoc d;
  sp_jdoc_init(&d);
  int rc = sp_jdoc_parse(&d, (const char *)data, size);
  FZ_CHECK(rc == 0 || rc == 1, "jdoc out of memory");
  keyed_agrees(&d, rc, data, size);
  if (rc == 0) {
    json_t *j = json_loadb((const char *)data, size,
                           JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    FZ_CHECK(j != NULL, "jdoc read what jansson refuses");
    json_t *mine = sp_jv_to_json(&d, sp_jdoc_root(&d));
    FZ_CHECK(json_equal(mine, j), "jdoc read another value");
    char *want = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *got = calloc(1, 1);
    FZ_CHECK(want && got, "out of memory");
    FZ_CHECK(sp_jdoc_canonical(&d, sp_jdoc_root(&d), NULL, grow, &got) == 0,
             "no canonical form");
    FZ_CHECK(!strcmp(got, want), "canonical form differs from jansson's");
    free(got);
    free(want);
    json_decref(mine);
    json_decref(j);
  }
  sp_jdoc_free(&d);
}

/* A flat read is a jdoc read too, whose canonical form is the text but
 * the hash member. */
static void flat_agrees(const uint8_t *data, size_t size) {
  audit_flat f;
  audit_flat_init(&f);
  int rc = audit_flat_read(&f, (const char *)data, size);
  FZ_CHECK(rc == 0 || rc == 1, "flat read out of memory");
  if (rc == 0) {
    sp_jdoc d;
    sp_jdoc_init(&d);
    FZ_CHECK(sp_jdoc_parse(&d, (const char *)data, size) == 0,
             "flat read what jdoc refuses");
    char *got = calloc(1, 1);
    FZ_CHECK(got, "out of memory");
    FZ_CHECK(sp_jdoc_canonical(&d, sp_jdoc_root(&d), "hash", grow, &got) == 0,
             "no canonical form");
    FZ_CHECK(strlen(got) == size - (f.hash_end - f.hash_at) &&
                 !memcmp(got, data, f.hash_at) &&
                 !memcmp(got + f.hash_at, data + f.hash_end, size - f.hash_end),
             "flat text is not canonical but the hash");
    free(got);
    sp_jdoc_free(&d);
  }
  audit_flat_free(&f);
}

/* a and b (the jansson path's) agree. */
static void same_result(const audit_parsed *a, const audit_parsed *b) {
  FZ_CHECK(a->status == b->status, "verdicts differ");
  FZ_CHECK(a->schema_rc == b->schema_rc, "schema verdicts differ");
  FZ_CHECK(same_str(a->why, b->why), "reasons differ");
  FZ_CHECK(same_str(a->id, b->id) && same_str(a->subject, b->subject) &&
               same_str(a->type, b->type) && same_str(a->time, b->time) &&
               same_str(a->correlationid, b->correlationid) &&
               same_str(a->prevhash, b->prevhash) && same_str(a->hash, b->hash),
           "attributes differ");
  FZ_CHECK(same_str(a->content_hash, b->content_hash), "content hashes differ");
  FZ_CHECK(a->time_ms == b->time_ms, "times differ");
  json_t *ja = a->data ? audit_data_to_json(a->data) : NULL,
         *jb = b->data ? audit_data_to_json(b->data) : NULL;
  FZ_CHECK((!ja && !jb) || json_equal(ja, jb), "kept data differs");
  json_decref(ja);
  json_decref(jb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  jdoc_agrees(data, size);
  flat_agrees(data, size);
  audit_parsed a, t, b;
  FZ_CHECK(audit_message_check(fast, data, size, &a) == 0, "fast: no memory");
  FZ_CHECK(audit_message_check(tree, data, size, &t) == 0, "tree: no memory");
  FZ_CHECK(audit_message_check(slow, data, size, &b) == 0, "slow: no memory");
  same_result(&a, &b);
  same_result(&t, &b);
  audit_parsed_clear(&a);
  audit_parsed_clear(&t);
  audit_parsed_clear(&b);
  return 0;
}
