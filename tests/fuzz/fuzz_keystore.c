/* fuzz_keystore - the KEK file ($SIMPKI_KEK_FILE), through
 * sp_keystore_parse: an operator writes it by hand or pastes keys into it,
 * and simpkictl kek rotate rewrites it.
 *
 * Invariants: a refusal gives a reason that starts with the file's name,
 * names the line (when it names one) inside the file, and never quotes the
 * file: no run of 16 or more hex digits, nothing of a line but its number.
 * An accepted file gives one key per key line, ids of [A-Za-z0-9._-]{1,64}
 * in file order, the first current, no id twice; each key seals and opens
 * back, and not with other associated data (another IMSI's row). */
#include "crypto.h"
#include "fuzz.h"

#define ORIGIN "KEK file fuzz.keys"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

/* The key lines: not blank, not a comment (blanks: space, tab, CR). */
static size_t key_lines(const char *t, size_t n, size_t *lines) {
  size_t keys = 0;
  *lines = 1;
  for (size_t i = 0; i <= n;) {
    size_t e = i;
    while (e < n && t[e] != '\n')
      e++;
    size_t a = i;
    while (a < e && (t[a] == ' ' || t[a] == '\t' || t[a] == '\r'))
      a++;
    keys += a < e && t[a] != '#';
    if (e < n)
      ++*lines;
    i = e + 1;
  }
  return keys;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Exactly size bytes: ASan sees a read past them. */
  char *text = malloc(size ? size : 1);
  FZ_CHECK(text, "out of memory");
  memcpy(text, data, size);
  size_t lines, keys = key_lines(text, size, &lines);
  char err[512];
  memset(err, 'U', sizeof err);
  sp_keystore *ks = sp_keystore_parse(text, size, ORIGIN, 0, err, sizeof err);
  if (!ks) {
    FZ_CHECK(fz_errstr_ok(err, sizeof err), "no reason");
    FZ_CHECK(fz_no_key(err), "the reason quotes hex");
    FZ_CHECK(!strncmp(err, ORIGIN " ", strlen(ORIGIN) + 1) ||
                 !strcmp(err, "out of memory"),
             err);
    const char *l = strstr(err, " line ");
    if (l) {
      long n = strtol(l + 6, NULL, 10);
      FZ_CHECK(n >= 1 && (size_t)n <= lines, err);
    }
    free(text);
    return 0;
  }
  size_t n = sp_keystore_count(ks);
  FZ_CHECK(n == keys && n >= 1, "one key per key line");
  FZ_CHECK(!strcmp(sp_keystore_current_id(ks), sp_keystore_id(ks, 0)),
           "the first key is not current");
  for (size_t i = 0; i < n; i++) {
    const char *id = sp_keystore_id(ks, i);
    FZ_CHECK(sp_key_id_valid(id) && sp_keystore_has(ks, id), id);
    for (size_t j = 0; j < i; j++)
      FZ_CHECK(strcmp(id, sp_keystore_id(ks, j)), "an id twice");
  }
  /* The first keys seal and open back, only with their associated data. */
  static const unsigned char pt[16] = "ki of one SIM..";
  unsigned char sealed[sizeof pt + SP_SEAL_OVERHEAD], back[sizeof sealed];
  size_t sl, bl;
  for (size_t i = 0; i < n && i < 4; i++) {
    const char *id = sp_keystore_id(ks, i);
    FZ_CHECK(sp_keystore_seal(ks, id, (const unsigned char *)"imsi", 4, pt,
                              sizeof pt, sealed, &sl, err, sizeof err) == 0,
             err);
    FZ_CHECK(sp_keystore_open(ks, id, (const unsigned char *)"imsi", 4, sealed,
                              sl, back, &bl, err, sizeof err) == 0 &&
                 bl == sizeof pt && !memcmp(back, pt, bl),
             "a sealed record does not open");
    FZ_CHECK(sp_keystore_open(ks, id, (const unsigned char *)"imsx", 4, sealed,
                              sl, back, &bl, err, sizeof err) != 0,
             "opened with other associated data");
  }
  sp_keystore_close(ks);
  free(text);
  return 0;
}
