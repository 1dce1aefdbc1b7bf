/* audit_arena.c - bump allocation in mmap'd blocks (audit_arena.h). */
#include "audit_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* 8 MiB: four huge pages, and few enough blocks for a long replay. */
#define BLOCK (8u << 20)
#define ALIGN 16u

struct block {
  struct block *next;
  size_t size; /* of the mapping, this header included */
};

struct audit_arena {
  struct block *blocks;
  char *at;    /* the next free byte of the newest block */
  size_t left; /* bytes free after at */
  size_t total;
};

audit_arena *audit_arena_new(void) { return calloc(1, sizeof(audit_arena)); }

static struct block *block_new(size_t size) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  /* Advice only: a kernel without transparent huge pages says no, and
   * the block works as well with small ones. */
  (void)madvise(p, size, MADV_HUGEPAGE);
  struct block *b = p;
  b->size = size;
  return b;
}

void *audit_arena_alloc(audit_arena *a, size_t n) {
  size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
  if (need < n)
    return NULL;
  if (need > a->left) {
    size_t head = (sizeof(struct block) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    /* An allocation larger than a block gets a block of its own. */
    size_t size = need > BLOCK - head ? head + need : BLOCK;
    if (size < need)
      return NULL;
    struct block *b = block_new(size);
    if (!b)
      return NULL;
    b->next = a->blocks;
    a->blocks = b;
    a->total += size;
    a->at = (char *)b + head;
    a->left = size - head;
  }
  void *p = a->at;
  a->at += need;
  a->left -= need;
  return p;
}

void *audit_arena_alloc_cb(void *arena, size_t n) {
  return audit_arena_alloc(arena, n);
}

size_t audit_arena_size(const audit_arena *a) { return a ? a->total : 0; }

void audit_arena_free(audit_arena *a) {
  if (!a)
    return;
  for (struct block *b = a->blocks, *next; b; b = next) {
    next = b->next;
    munmap(b, b->size);
  }
  free(a);
}
