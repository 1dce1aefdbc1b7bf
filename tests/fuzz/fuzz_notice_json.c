/* fuzz_notice_json - a Cục CTS notice as JSON (A4): oi_notice_parse_json.
 *
 * Invariants: those of notice_check.h, and each accepted person holds
 * exactly what the document says once surrounding blanks are trimmed (a
 * value cut to fit a buffer must be refused, not shortened). */
#include "fuzz.h"
#include "notice_check.h"
#include "phone.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  json_object_seed(1);
  return 0;
}

/* s without leading and trailing blanks (isspace), as a malloc'd copy. */
static char *trimmed_copy(const char *s) {
  size_t a = 0, b = strlen(s);
  while (a < b && isspace((unsigned char)s[a]))
    a++;
  while (b > a && isspace((unsigned char)s[b - 1]))
    b--;
  return fz_cstr((const uint8_t *)s + a, b - a);
}

static void same_text(json_t *person, const char *key, const char *got) {
  const char *want = json_string_value(json_object_get(person, key));
  char *t = trimmed_copy(want ? want : "");
  FZ_CHECK(!strcmp(t, got), key);
  free(t);
}

/* What the parser kept against the document it came from. */
static void check_against(const uint8_t *data, size_t size,
                          const oi_notice *n) {
  json_t *root = json_loadb((const char *)data, size, 0, NULL);
  FZ_CHECK(root, "an accepted notice does not load");
  json_t *persons = json_object_get(root, "persons");
  FZ_CHECK(json_array_size(persons) == n->count, "count");
  for (size_t i = 0; i < n->count; i++) {
    json_t *p = json_array_get(persons, i);
    const oi_person *got = &n->persons[i];
    FZ_CHECK(got->line == (int)i + 1, "line");
    same_text(p, "agency", got->agency);
    same_text(p, "full_name", got->full_name);
    same_text(p, "id_number", got->id_number);
    FZ_CHECK(got->wants_new_number ==
                 json_is_true(json_object_get(p, "wants_new_number")),
             "wants_new_number");
    const char *ms = json_string_value(json_object_get(p, "msisdn"));
    char *t = trimmed_copy(ms ? ms : "");
    char canon[SP_PHONE_LEN + 1] = "", why[160];
    if (t[0])
      FZ_CHECK(sp_phone_normalize_vn(t, canon, why, sizeof why) == 0, why);
    FZ_CHECK(!strcmp(canon, got->msisdn), "msisdn");
    free(t);
  }
  json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  oi_notice n;
  char err[1024];
  oi_error e =
      oi_notice_parse_json((const char *)data, size, &n, err, sizeof err);
  if (e != OI_OK) {
    fz_notice_refused(e, &n, err, sizeof err);
    FZ_CHECK(fz_zero(&n, sizeof n), "refused notice not cleared");
    return 0;
  }
  fz_notice_accepted(&n);
  check_against(data, size, &n);
  oi_notice_clear(&n);
  return 0;
}
