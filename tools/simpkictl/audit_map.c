/* audit_map.c - open addressing, linear probing, hashes kept per slot.
 *
 * The keys are event ids, hashes and subjects: tens of bytes with long
 * common prefixes, millions of them in a replay. So the hash takes
 * sixteen bytes a multiply, and a probe compares the stored hash before
 * the key. */
#include "audit_map.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The 128-bit product of a and b, its halves xored: one multiply mixes
 * two words into every bit of the result. */
static inline uint64_t fold(uint64_t a, uint64_t b) {
  __uint128_t p = (__uint128_t)a * b;
  return (uint64_t)p ^ (uint64_t)(p >> 64);
}

/* Each holds a zero byte, which no word read from a C string does, and a
 * nonzero top byte, which a tail shorter than four bytes lacks: a word
 * xored with one is never 0, so no fold forgets what came before it. */
#define HASH_WORD 0x25abd89b007e4d93ULL
#define HASH_TAIL 0x48a7c8252a005619ULL

static uint64_t hash_of_n(const char *s, size_t n) {
  uint64_t h = 0x97b1165f0971b7c5ULL ^ (n * 0xd13c513a42f8eda1ULL);
  uint64_t a, b;
  for (; n > 16; n -= 16, s += 16) {
    memcpy(&a, s, 8);
    memcpy(&b, s + 8, 8);
    h = fold(a ^ HASH_WORD, b ^ h);
  }
  /* The last 0 to 16 bytes as two words, overlapping when fewer. */
  if (n >= 8) {
    memcpy(&a, s, 8);
    memcpy(&b, s + n - 8, 8);
  } else if (n >= 4) {
    uint32_t x, y;
    memcpy(&x, s, 4);
    memcpy(&y, s + n - 4, 4);
    a = (uint64_t)x << 32 | y;
    b = 0;
  } else {
    a = n ? (uint64_t)(unsigned char)s[0] << 16 |
                (uint64_t)(unsigned char)s[n / 2] << 8 | (unsigned char)s[n - 1]
          : 0;
    b = 0;
  }
  return fold(a ^ HASH_TAIL, b ^ h);
}

static uint64_t hash_of(const char *s) { return hash_of_n(s, strlen(s)); }

void audit_map_init(audit_map *m) { memset(m, 0, sizeof *m); }

/* Slot arrays of 2 MiB and more are mapped with huge pages asked for:
 * a probe lands anywhere in them, and with small pages nearly every probe
 * of a large map also misses the TLB. */
#define HUGE_SLOTS ((size_t)2 << 20)

void *audit_map_table_new(size_t bytes) {
  if (bytes < HUGE_SLOTS)
    return calloc(1, bytes ? bytes : 1);
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice: fine if refused */
  return p;
}

void audit_map_table_free(void *p, size_t bytes) {
  if (p && bytes >= HUGE_SLOTS)
    munmap(p, bytes);
  else
    free(p);
}

static audit_map_slot *slots_new(size_t cap) {
  return audit_map_table_new(cap * sizeof(audit_map_slot));
}

static void slots_free(audit_map_slot *s, size_t cap) {
  audit_map_table_free(s, cap * sizeof *s);
}

void audit_map_free(audit_map *m) {
  slots_free(m->slots, m->cap);
  memset(m, 0, sizeof *m);
}

static size_t slot_of(const audit_map *m, const char *key, uint64_t h) {
  size_t i = (size_t)h & (m->cap - 1);
  /* The same pointer is the same key: interned strings skip the bytes. */
  while (m->slots[i].key &&
         (m->slots[i].hash != h ||
          (m->slots[i].key != key && strcmp(m->slots[i].key, key))))
    i = (i + 1) & (m->cap - 1);
  return i;
}

static int resize(audit_map *m, size_t cap) {
  audit_map_slot *s = slots_new(cap);
  if (!s)
    return -1;
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].key) {
      size_t j = (size_t)m->slots[i].hash & (cap - 1);
      while (s[j].key)
        j = (j + 1) & (cap - 1);
      s[j] = m->slots[i];
    }
  slots_free(m->slots, m->cap);
  m->slots = s;
  m->cap = cap;
  return 0;
}

int audit_map_reserve(audit_map *m, size_t n) {
  size_t cap = m->cap ? m->cap : 64;
  while (cap < 2 * n)
    cap *= 2;
  return cap == m->cap ? 0 : resize(m, cap);
}

uint64_t audit_map_hash(const char *key) { return hash_of(key); }

uint64_t audit_map_hash_n(const char *key, size_t len) {
  return hash_of_n(key, len);
}

int audit_map_put(audit_map *m, const char *key, size_t val, size_t *old) {
  return audit_map_put_h(m, key, hash_of(key), val, old);
}

int audit_map_put_h(audit_map *m, const char *key, uint64_t h, size_t val,
                    size_t *old) {
  if ((m->n + 1) * 2 > m->cap && resize(m, m->cap ? m->cap * 2 : 64))
    return -1;
  size_t s = slot_of(m, key, h);
  if (m->slots[s].key) {
    if (old)
      *old = m->slots[s].val;
    return 0;
  }
  m->slots[s] = (audit_map_slot){key, h, val};
  m->n++;
  return 1;
}

int audit_map_get(const audit_map *m, const char *key, size_t *val) {
  return audit_map_get_h(m, key, hash_of(key), val);
}

int audit_map_get_h(const audit_map *m, const char *key, uint64_t h,
                    size_t *val) {
  if (!m->cap)
    return 0;
  size_t s = slot_of(m, key, h);
  if (!m->slots[s].key)
    return 0;
  *val = m->slots[s].val;
  return 1;
}
