/* fuzz.h - what the fuzz targets share: the libFuzzer entry points and
 * small checks on parser outputs. */
#ifndef FUZZ_H
#define FUZZ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant aborts: libFuzzer reports it as a crash and keeps the
 * input, like a sanitizer finding. */
#define FZ_CHECK(cond, what)                                                \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", __FILE__,      \
              __LINE__, #cond, (what));                                     \
      abort();                                                              \
    }                                                                       \
  } while (0)

/* The parsers of C strings get a NUL-terminated copy (malloc'd), so ASan
 * sees a read past the input's end. */
static inline char *fz_cstr(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s)
    abort();
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

static inline int fz_zero(const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i])
      return 0;
  return 1;
}

/* An error text fits its buffer and says something. */
static inline int fz_errstr_ok(const char *err, size_t cap) {
  return memchr(err, '\0', cap) != NULL && err[0] != '\0';
}

/* Reasons travel in JSON (HTTP bodies, rejection events): jansson refuses
 * a string that is not UTF-8, so a reason must be UTF-8. */
static inline int fz_utf8(const char *s, size_t len) {
  json_t *j = json_stringn(s, len);
  json_decref(j);
  return j != NULL;
}

static inline int fz_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

/* The canonical phone form: "84", then a mobile prefix digit, 9 digits. */
static inline int fz_phone_canonical(const char *s) {
  return strlen(s) == 11 && !strncmp(s, "84", 2) && fz_digits(s, 11) &&
         strchr("35789", s[2]) != NULL;
}

/* 1 when s holds no run of 16 hex digits: nothing that could be a key (an
 * error message must never quote one). */
static inline int fz_no_key(const char *s) {
  size_t run = 0;
  for (; *s; s++) {
    char c = *s;
    int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F');
    if ((run = hex ? run + 1 : 0) >= 16)
      return 0;
  }
  return 1;
}

#endif
