/* audit_arena.c - bump allocation in mmap'd blocks (audit_arena.h). */
#include "audit_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* 8 MiB: four huge pages, and few enough blocks for a long replay. */
#define BLOCK (8u << 20)
#define ALIGN 16u
#define SHARED_BLOCK (64u << 10)

struct block {
  struct block *next;
  size_t size; /* of the mapping, this header included */
};

/* A run of blocks allocated from the newest one. */
struct lane {
  struct block *blocks;
  char *at;    /* the next free byte of the newest block */
  size_t left; /* bytes free after at */
};

struct audit_arena {
  struct lane main;
  /* Small strings shared by many events (a subject, a type): kept
   * together, apart from the events, so that looking them up again
   * reads a few cache lines instead of one per event. */
  struct lane shared;
  size_t total;
};

audit_arena *audit_arena_new(void) { return calloc(1, sizeof(audit_arena)); }

static struct block *block_new(size_t size, int huge) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  /* Advice only: a kernel without transparent huge pages says no, and
   * the block works as well with small ones. */
  if (huge)
    (void)madvise(p, size, MADV_HUGEPAGE);
  struct block *b = p;
  b->size = size;
  return b;
}

static void *lane_alloc(audit_arena *a, struct lane *l, size_t n,
                        size_t block) {
  size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
  if (need < n)
    return NULL;
  if (need > l->left) {
    size_t head = (sizeof(struct block) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    /* An allocation larger than a block gets a block of its own. */
    size_t size = need > block - head ? head + need : block;
    if (size < need)
      return NULL;
    struct block *b = block_new(size, block == BLOCK);
    if (!b)
      return NULL;
    b->next = l->blocks;
    l->blocks = b;
    a->total += size;
    l->at = (char *)b + head;
    l->left = size - head;
  }
  void *p = l->at;
  l->at += need;
  l->left -= need;
  return p;
}

void *audit_arena_alloc(audit_arena *a, size_t n) {
  return lane_alloc(a, &a->main, n, BLOCK);
}

void *audit_arena_alloc_shared(audit_arena *a, size_t n) {
  return lane_alloc(a, &a->shared, n, SHARED_BLOCK);
}

void *audit_arena_alloc_cb(void *arena, size_t n) {
  return audit_arena_alloc(arena, n);
}

size_t audit_arena_size(const audit_arena *a) { return a ? a->total : 0; }

static void lane_free(struct lane *l) {
  for (struct block *b = l->blocks, *next; b; b = next) {
    next = b->next;
    munmap(b, b->size);
  }
}

void audit_arena_free(audit_arena *a) {
  if (!a)
    return;
  lane_free(&a->main);
  lane_free(&a->shared);
  free(a);
}
