/* audit_names.h - which of a few fixed names a key is, for the audit
 * replay's per-event lookups (the envelope's attributes, the kept data
 * fields): the key's length leaves one or two names to compare, where a
 * scan would compare it with each. Pure, header only. */
#ifndef SIMPKICTL_AUDIT_NAMES_H
#define SIMPKICTL_AUDIT_NAMES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Names of fewer than AUDIT_NAMES_LEN bytes, at most 32 of them. */
#define AUDIT_NAMES_LEN 32

/* Fills by_len: bit i of by_len[n] says names[i] is n bytes long. */
static inline void audit_names_index(uint32_t by_len[AUDIT_NAMES_LEN],
                                     const char *const *names, int n) {
  memset(by_len, 0, AUDIT_NAMES_LEN * sizeof *by_len);
  for (int i = 0; i < n && i < 32; i++) {
    size_t l = strlen(names[i]);
    if (l < AUDIT_NAMES_LEN)
      by_len[l] |= (uint32_t)1 << i;
  }
}

/* The index of the name key (len bytes) is, or -1. */
static inline int audit_names_find(const uint32_t by_len[AUDIT_NAMES_LEN],
                                   const char *const *names, const char *key,
                                   size_t len) {
  if (len >= AUDIT_NAMES_LEN)
    return -1;
  for (uint32_t m = by_len[len]; m; m &= m - 1) {
    int i = __builtin_ctz(m);
    /* A loop, not memcmp: for a few bytes the call cost more. */
    size_t j = 0;
    while (j < len && names[i][j] == key[j])
      j++;
    if (j == len)
      return i;
  }
  return -1;
}

#endif
