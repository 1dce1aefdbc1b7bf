/* event_chains - check the hash chains of a whole dump of topics.
 *
 *   event_chains FILE...
 *
 * Each FILE holds one topic's events, one JSON per line, in partition order
 * (simpkictl events dump). Every event must parse, its hash must match its
 * canonical bytes, and every subject's events, across all files, must form
 * one chain from the genesis hash with no gap, fork or stranger; within one
 * file a subject's events must come in chain order. Redelivered copies (the
 * same id) are skipped. Prints "events=N subjects=S duplicates=D" and each
 * problem; exits 1 when there is any. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

typedef struct {
  char id[40];
  char subject[256];
  char type[128];
  char prevhash[SP_EVENT_HASH_HEX + 1];
  char hash[SP_EVENT_HASH_HEX + 1];
  int file;
  long line;
  int used;
} rec;

static rec *recs;
static size_t nrecs, caprecs;
static int problems;

static void problem(const rec *r, const char *what) {
  fprintf(stderr, "file %d line %ld: %s %s (%s): %s\n", r->file + 1, r->line,
          r->subject, r->id, r->type, what);
  problems++;
}

static int by_subject(const void *a, const void *b) {
  const rec *x = a, *y = b;
  int c = strcmp(x->subject, y->subject);
  if (c)
    return c;
  if (x->file != y->file)
    return x->file - y->file;
  return x->line < y->line ? -1 : x->line > y->line;
}

static int seen_id(const char *id) {
  for (size_t i = 0; i < nrecs; i++)
    if (!strcmp(recs[i].id, id))
      return 1;
  return 0;
}

static int read_file(const char *path, int file, long *dups) {
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    return -1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  long lineno = 0;
  while ((n = getline(&line, &cap, f)) > 0) {
    lineno++;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
      line[--n] = 0;
    if (!n)
      continue;
    sp_event ev;
    char err[256];
    if (sp_event_parse(line, (size_t)n, &ev, err, sizeof err)) {
      fprintf(stderr, "file %d line %ld: not an event: %s\n", file + 1,
              lineno, err);
      problems++;
      continue;
    }
    if (seen_id(ev.id)) {
      (*dups)++;
      sp_event_clear(&ev);
      continue;
    }
    if (nrecs == caprecs) {
      caprecs = caprecs ? caprecs * 2 : 1024;
      recs = realloc(recs, caprecs * sizeof *recs);
      if (!recs) {
        perror("realloc");
        exit(2);
      }
    }
    rec *r = &recs[nrecs++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", ev.id);
    snprintf(r->subject, sizeof r->subject, "%s", ev.subject);
    snprintf(r->type, sizeof r->type, "%s", ev.type);
    memcpy(r->prevhash, ev.prevhash, sizeof r->prevhash);
    memcpy(r->hash, ev.hash, sizeof r->hash);
    r->file = file;
    r->line = lineno;
    if (!sp_event_hash_ok(&ev))
      problem(r, "hash does not match its content");
    sp_event_clear(&ev);
  }
  free(line);
  fclose(f);
  return 0;
}

/* One subject's events [from, to): follow the chain from the genesis. */
static void check_subject(rec *s, size_t count) {
  const char *at = SP_EVENT_GENESIS;
  long pos = 0;
  size_t linked = 0;
  long *order = calloc(count, sizeof *order);
  for (;;) {
    rec *next = NULL;
    for (size_t i = 0; i < count; i++) {
      if (s[i].used || strcmp(s[i].prevhash, at))
        continue;
      if (next) {
        problem(&s[i], "a second event links onto the same predecessor");
        s[i].used = 1;
        continue;
      }
      next = &s[i];
    }
    if (!next)
      break;
    next->used = 1;
    order[next - s] = ++pos;
    linked++;
    at = next->hash;
  }
  for (size_t i = 0; i < count; i++)
    if (!s[i].used)
      problem(&s[i], "does not link into the subject's chain");
  /* Within one file (one topic), the dump's order must be the chain's. */
  for (size_t i = 1; i < count; i++)
    if (s[i].file == s[i - 1].file && order[i] && order[i - 1] &&
        order[i] < order[i - 1])
      problem(&s[i], "comes before its predecessor on its topic");
  free(order);
  (void)linked;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: event_chains FILE...\n");
    return 2;
  }
  long dups = 0;
  for (int i = 1; i < argc; i++)
    if (read_file(argv[i], i - 1, &dups))
      return 2;
  qsort(recs, nrecs, sizeof *recs, by_subject);
  size_t subjects = 0;
  for (size_t i = 0; i < nrecs;) {
    size_t j = i;
    while (j < nrecs && !strcmp(recs[j].subject, recs[i].subject))
      j++;
    check_subject(recs + i, j - i);
    subjects++;
    i = j;
  }
  printf("events=%zu subjects=%zu duplicates=%ld problems=%d\n", nrecs,
         subjects, dups, problems);
  free(recs);
  return problems ? 1 : 0;
}
