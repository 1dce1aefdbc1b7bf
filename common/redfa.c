/* redfa.c - ERE -> syntax tree -> Thompson NFA -> DFA (redfa.h).
 *
 * The DFA is built whole at compile time by subset construction, over byte
 * classes (bytes no set tells apart share a column). A search that may
 * start anywhere adds the NFA's start to every step; once an NFA match is
 * reached the DFA goes to FOUND and stays there. ^ holds only before the
 * first byte and $ only after the last, so each state also records whether
 * it accepts at the end of the string. */
#include "redfa.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODES 512
#define MAX_INSTS 2048
#define MAX_STATES 1024
#define MAX_DEPTH 32

/* ---- syntax tree -------------------------------------------------------- */

enum { N_SET, N_BOL, N_EOL, N_CAT, N_ALT, N_REP, N_EMPTY };

typedef struct {
  int kind;
  int set;      /* N_SET: index into the sets */
  int a, b;     /* N_CAT, N_ALT: children; N_REP: a */
  int min, max; /* N_REP: max -1 for no bound */
} node;

typedef struct {
  const char *p;
  node nodes[MAX_NODES];
  int nn;
  uint8_t (*sets)[32]; /* bitmaps of 256 bits */
  int nsets, capsets;
  int depth;
  int bad;
} parser;

static int mk(parser *ps, int kind, int a, int b) {
  if (ps->nn == MAX_NODES) {
    ps->bad = 1;
    return 0;
  }
  node *n = &ps->nodes[ps->nn];
  memset(n, 0, sizeof *n);
  n->kind = kind;
  n->a = a;
  n->b = b;
  return ps->nn++;
}

static int new_set(parser *ps) {
  if (ps->nsets == ps->capsets) {
    int cap = ps->capsets ? ps->capsets * 2 : 16;
    uint8_t(*s)[32] = realloc(ps->sets, (size_t)cap * sizeof *s);
    if (!s) {
      ps->bad = 1;
      return -1;
    }
    ps->sets = s;
    ps->capsets = cap;
  }
  memset(ps->sets[ps->nsets], 0, 32);
  return ps->nsets++;
}

static void set_add(parser *ps, int s, unsigned char c) {
  ps->sets[s][c >> 3] |= (uint8_t)(1u << (c & 7));
}

static int set_node(parser *ps, int s) {
  int n = mk(ps, N_SET, 0, 0);
  if (!ps->bad)
    ps->nodes[n].set = s;
  return n;
}

static int parse_alt(parser *ps);

static int parse_atom(parser *ps) {
  unsigned char c = (unsigned char)*ps->p;
  if (c == '(') {
    if (++ps->depth > MAX_DEPTH) {
      ps->bad = 1;
      return 0;
    }
    ps->p++;
    int a = parse_alt(ps);
    if (*ps->p != ')') {
      ps->bad = 1;
      return 0;
    }
    ps->p++;
    ps->depth--;
    return a;
  }
  if (c == '^' || c == '$') {
    ps->p++;
    return mk(ps, c == '^' ? N_BOL : N_EOL, 0, 0);
  }
  int s = new_set(ps);
  if (s < 0)
    return 0;
  if (c == '[') {
    ps->p++;
    /* Members listed one by one; ']' only first. */
    int first = 1;
    while (*ps->p && (*ps->p != ']' || first)) {
      set_add(ps, s, (unsigned char)*ps->p++);
      first = 0;
    }
    if (*ps->p != ']') {
      ps->bad = 1;
      return 0;
    }
    ps->p++;
    return set_node(ps, s);
  }
  if (c == '\\') {
    if (!ps->p[1]) {
      ps->bad = 1;
      return 0;
    }
    set_add(ps, s, (unsigned char)ps->p[1]);
    ps->p += 2;
    return set_node(ps, s);
  }
  if (!c || strchr(")|*+?{}.", c)) {
    ps->bad = 1; /* '.' is never emitted; the rest is no atom */
    return 0;
  }
  set_add(ps, s, c);
  ps->p++;
  return set_node(ps, s);
}

static int number(parser *ps) {
  int v = 0, digits = 0;
  while (*ps->p >= '0' && *ps->p <= '9' && v < 100000) {
    v = v * 10 + (*ps->p++ - '0');
    digits++;
  }
  return digits ? v : -1;
}

static int parse_quantified(parser *ps) {
  int a = parse_atom(ps);
  while (!ps->bad && *ps->p && strchr("*+?{", *ps->p)) {
    int min, max;
    char q = *ps->p++;
    if (q == '*')
      min = 0, max = -1;
    else if (q == '+')
      min = 1, max = -1;
    else if (q == '?')
      min = 0, max = 1;
    else {
      min = number(ps);
      max = min;
      if (*ps->p == ',') {
        ps->p++;
        max = *ps->p == '}' ? -1 : number(ps);
        if (max == -1 && *ps->p != '}')
          ps->bad = 1;
      }
      if (min < 0 || *ps->p != '}' || (max >= 0 && max < min)) {
        ps->bad = 1;
        return 0;
      }
      ps->p++;
    }
    a = mk(ps, N_REP, a, 0);
    if (!ps->bad) {
      ps->nodes[a].min = min;
      ps->nodes[a].max = max;
    }
  }
  return a;
}

static int parse_seq(parser *ps) {
  int seq = -1;
  while (!ps->bad && *ps->p && *ps->p != '|' && *ps->p != ')') {
    int a = parse_quantified(ps);
    seq = seq < 0 ? a : mk(ps, N_CAT, seq, a);
  }
  return seq < 0 ? mk(ps, N_EMPTY, 0, 0) : seq;
}

static int parse_alt(parser *ps) {
  int a = parse_seq(ps);
  while (!ps->bad && *ps->p == '|') {
    ps->p++;
    int b = parse_seq(ps);
    a = mk(ps, N_ALT, a, b);
  }
  return a;
}

/* ---- NFA ---------------------------------------------------------------- */

enum { I_SET, I_SPLIT, I_JMP, I_BOL, I_EOL, I_MATCH };

typedef struct {
  int op;
  int x, y; /* I_SET: set, next is pc + 1; I_SPLIT: x, y; I_JMP: x */
} inst;

typedef struct {
  inst *v;
  int n;
  int bad;
} prog;

static int emit(prog *g, int op, int x, int y) {
  if (g->n == MAX_INSTS) {
    g->bad = 1;
    return 0;
  }
  g->v[g->n] = (inst){op, x, y};
  return g->n++;
}

static void gen(prog *g, const parser *ps, int ni, int depth) {
  const node *n = &ps->nodes[ni];
  if (g->bad || depth > MAX_NODES) {
    g->bad = 1;
    return;
  }
  switch (n->kind) {
  case N_SET: emit(g, I_SET, n->set, 0); break;
  case N_BOL: emit(g, I_BOL, 0, 0); break;
  case N_EOL: emit(g, I_EOL, 0, 0); break;
  case N_EMPTY: break;
  case N_CAT:
    gen(g, ps, n->a, depth + 1);
    gen(g, ps, n->b, depth + 1);
    break;
  case N_ALT: {
    int split = emit(g, I_SPLIT, 0, 0);
    g->v[split].x = g->n;
    gen(g, ps, n->a, depth + 1);
    int jmp = emit(g, I_JMP, 0, 0);
    g->v[split].y = g->n;
    gen(g, ps, n->b, depth + 1);
    g->v[jmp].x = g->n;
    break;
  }
  case N_REP: {
    for (int k = 0; k < n->min && !g->bad; k++)
      gen(g, ps, n->a, depth + 1);
    if (n->max < 0) {
      int loop = emit(g, I_SPLIT, 0, 0);
      g->v[loop].x = g->n;
      gen(g, ps, n->a, depth + 1);
      emit(g, I_JMP, loop, 0);
      g->v[loop].y = g->n;
    } else {
      /* (x(x(x)?)?)?: each optional copy may end the repetition. */
      int *splits = malloc((size_t)(n->max - n->min + 1) * sizeof *splits);
      int ns = 0;
      if (!splits) {
        g->bad = 1;
        break;
      }
      for (int k = n->min; k < n->max && !g->bad; k++) {
        int s = emit(g, I_SPLIT, 0, 0);
        if (g->bad)
          break;
        g->v[s].x = g->n;
        splits[ns++] = s;
        gen(g, ps, n->a, depth + 1);
      }
      for (int k = 0; k < ns && !g->bad; k++)
        g->v[splits[k]].y = g->n;
      free(splits);
    }
    break;
  }
  }
}

/* ---- DFA ---------------------------------------------------------------- */

struct sp_redfa {
  uint8_t cls[256]; /* byte -> column */
  int ncls;
  int nstates;
  int start;
  uint16_t *next;      /* nstates * ncls, while built */
  uint32_t *jump;      /* the same, each target times ncls: the match loop
                          then has no multiplication */
  uint8_t *accept_end; /* accepts when the string ends here */
  /* When the automaton is a line (each state lets its bytes through to
   * one next state: a hash, a UUID, ^89[0-9]{17,18}$, ^/x/[a-z]*$), a
   * byte's check does not wait for the one before it: chain_len places,
   * place i's bytes are those b with chain_ok[chain_set[i] * 256 + b]; a
   * string of n <= chain_len bytes is taken when accept_at[n]; a longer
   * one only when there is a final run (chain_tail: the set of its bytes)
   * and accept_at[chain_len]. */
  int chain_len;   /* -1: not such a pattern */
  int chain_tail;  /* -1: no final run */
  int chain_fixed; /* one length only: chain_len, no final run */
  uint8_t *chain_set;
  uint8_t *chain_ok;
  uint8_t *accept_at;
};

#define FOUND 0 /* a match has been seen: sticky */
#define DEAD 1  /* no match can start or go on */

typedef struct {
  int *pcs; /* sorted */
  int n;
  int found;
} sset;

typedef struct {
  const prog *g;
  int *mark; /* per pc: generation last added */
  int gen;
  int *stack;
} closer;

/* Adds the closure of pc to out (CLS, EOL and MATCH pcs). bol: ^ holds. */
static void close_pc(closer *c, int pc, int bol, int *out, int *nout,
                     int *found) {
  int sp = 0;
  c->stack[sp++] = pc;
  while (sp) {
    int p = c->stack[--sp];
    if (c->mark[p] == c->gen)
      continue;
    c->mark[p] = c->gen;
    const inst *in = &c->g->v[p];
    switch (in->op) {
    case I_SET:
    case I_EOL: out[(*nout)++] = p; break;
    case I_MATCH: *found = 1; break;
    case I_JMP: c->stack[sp++] = in->x; break;
    case I_SPLIT:
      c->stack[sp++] = in->y;
      c->stack[sp++] = in->x;
      break;
    case I_BOL:
      if (bol)
        c->stack[sp++] = p + 1;
      break;
    }
  }
}

/* 1 when the closure of the state's EOL pcs, with $ holding, matches. */
static int accepts_at_end(closer *c, const int *pcs, int n) {
  c->gen++;
  int sp = 0;
  for (int i = 0; i < n; i++)
    if (c->g->v[pcs[i]].op == I_EOL)
      c->stack[sp++] = pcs[i] + 1;
  while (sp) {
    int p = c->stack[--sp];
    if (c->mark[p] == c->gen)
      continue;
    c->mark[p] = c->gen;
    const inst *in = &c->g->v[p];
    switch (in->op) {
    case I_MATCH: return 1;
    case I_EOL: c->stack[sp++] = p + 1; break;
    case I_JMP: c->stack[sp++] = in->x; break;
    case I_SPLIT:
      c->stack[sp++] = in->y;
      c->stack[sp++] = in->x;
      break;
    default: break; /* a set needs a byte; ^ does not hold at the end */
    }
  }
  return 0;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static int set_has(const uint8_t *set, int b) {
  return (set[b >> 3] >> (b & 7)) & 1;
}

void sp_redfa_free(sp_redfa *d) {
  if (!d)
    return;
  free(d->next);
  free(d->jump);
  free(d->accept_end);
  free(d->chain_set);
  free(d->chain_ok);
  free(d->accept_at);
  free(d);
}

/* Finds or adds the state with these pcs; its index, -1 when too many. */
static int intern(sset *states, int *nstates, int *pcs, int n, int found) {
  if (found)
    return FOUND;
  if (n == 0)
    return DEAD;
  for (int i = 2; i < *nstates; i++)
    if (states[i].n == n && !memcmp(states[i].pcs, pcs, (size_t)n * sizeof *pcs))
      return i;
  if (*nstates == MAX_STATES)
    return -1;
  int *copy = malloc((size_t)n * sizeof *copy);
  if (!copy)
    return -1;
  memcpy(copy, pcs, (size_t)n * sizeof *pcs);
  states[*nstates] = (sset){copy, n, 0};
  return (*nstates)++;
}

#define CHAIN_MAX 128 /* places */
#define CHAIN_SETS 16 /* distinct sets of bytes */

/* Sets d->chain_*: follows the automaton from its start while every
 * column that does not die leads to one same next state, met for the
 * first time, until a state that lets nothing through, or one that lets
 * its bytes through to itself only (a final run). Anything else (a
 * longer loop, a fork, a search that finds a match and stops looking)
 * leaves chain_len at -1. -1 when out of memory. */
static int find_chain(sp_redfa *d) {
  int ncls = d->ncls, len = 0, nsets = 0, st = d->start, tail = -1,
      fixed = 1;
  uint8_t set_of[CHAIN_MAX], sets[CHAIN_SETS][256], acc[CHAIN_MAX + 1];
  uint8_t *seen = calloc((size_t)d->nstates, 1);
  if (!seen)
    return -1;
  d->chain_len = -1;
  for (;;) {
    if (seen[st])
      goto no; /* a loop */
    seen[st] = 1;
    acc[len] = d->accept_end[st] != 0;
    int next = -1;
    uint8_t live[256] = {0};
    for (int cl = 0; cl < ncls; cl++) {
      int t = d->next[(size_t)st * (size_t)ncls + (size_t)cl];
      if (t == DEAD)
        continue;
      if (t == FOUND || (next >= 0 && t != next))
        goto no;
      next = t;
      live[cl] = 1;
    }
    if (next < 0) { /* the end: it must accept there */
      if (!acc[len])
        goto no;
      break;
    }
    uint8_t bytes[256];
    for (int b = 0; b < 256; b++)
      bytes[b] = live[d->cls[b]];
    int k = 0;
    while (k < nsets && memcmp(sets[k], bytes, 256))
      k++;
    if (k == nsets) {
      if (nsets == CHAIN_SETS)
        goto no;
      memcpy(sets[nsets++], bytes, 256);
    }
    if (next == st) { /* a final run of bytes from one set */
      tail = k;
      fixed = 0;
      break;
    }
    if (acc[len])
      fixed = 0; /* a shorter string is taken too */
    if (len == CHAIN_MAX)
      goto no; /* too long to keep */
    set_of[len++] = (uint8_t)k;
    st = next;
  }
  free(seen);
  d->chain_set = malloc((size_t)len + 1);
  d->chain_ok = malloc((size_t)nsets * 256 + 1);
  d->accept_at = malloc((size_t)len + 1);
  if (!d->chain_set || !d->chain_ok || !d->accept_at)
    return -1;
  memcpy(d->chain_set, set_of, (size_t)len);
  memcpy(d->chain_ok, sets, (size_t)nsets * 256);
  memcpy(d->accept_at, acc, (size_t)len + 1);
  d->chain_len = len;
  d->chain_tail = tail;
  d->chain_fixed = fixed;
  return 0;
no:
  free(seen);
  return 0;
}

sp_redfa *sp_redfa_compile(const char *ere) {
  parser *ps = calloc(1, sizeof *ps);
  prog g = {calloc(MAX_INSTS, sizeof(inst)), 0, 0};
  sset *states = calloc(MAX_STATES, sizeof *states);
  closer c = {&g, calloc(MAX_INSTS, sizeof(int)), 0,
              calloc(MAX_INSTS * 2 + 2, sizeof(int))};
  int *buf = calloc(MAX_INSTS * 2, sizeof(int));
  sp_redfa *d = calloc(1, sizeof *d);
  int nstates = 2, ok = 0;
  if (!ps || !g.v || !states || !c.mark || !c.stack || !buf || !d || !ere)
    goto done;
  ps->p = ere;
  int root = parse_alt(ps);
  if (ps->bad || *ps->p)
    goto done;
  gen(&g, ps, root, 0);
  emit(&g, I_MATCH, 0, 0);
  if (g.bad)
    goto done;

  /* Byte classes: bytes with the same membership in every set. Each set
   * splits the classes so far in two. */
  int ncls = 1;
  memset(d->cls, 0, sizeof d->cls);
  for (int s = 0; s < ps->nsets; s++) {
    int renum[512], k = 0;
    for (int i = 0; i < 512; i++)
      renum[i] = -1;
    for (int b = 0; b < 256; b++) {
      int key = d->cls[b] * 2 + set_has(ps->sets[s], b);
      if (renum[key] < 0)
        renum[key] = k++;
      d->cls[b] = (uint8_t)renum[key];
    }
    ncls = k;
  }
  d->ncls = ncls;
  int rep[256]; /* a byte of each class */
  for (int b = 255; b >= 0; b--)
    rep[d->cls[b]] = b;

  /* The start: ^ holds before the first byte. */
  int n = 0, found = 0;
  c.gen++;
  close_pc(&c, 0, 1, buf, &n, &found);
  qsort(buf, (size_t)n, sizeof *buf, cmp_int);
  d->start = intern(states, &nstates, buf, n, found);
  if (d->start < 0)
    goto done;
  size_t cap = 64;
  d->next = malloc(cap * (size_t)ncls * sizeof *d->next);
  if (!d->next)
    goto done;
  for (int cl = 0; cl < ncls; cl++) {
    d->next[FOUND * ncls + cl] = FOUND;
    d->next[DEAD * ncls + cl] = DEAD;
  }
  for (int s = 2; s < nstates; s++) {
    /* Rows are written for s only: room up to s is enough. */
    if ((size_t)nstates > cap) {
      while ((size_t)nstates > cap)
        cap *= 2;
      uint16_t *nx = realloc(d->next, cap * (size_t)ncls * sizeof *nx);
      if (!nx)
        goto done;
      d->next = nx;
    }
    for (int cl = 0; cl < ncls; cl++) {
      n = 0;
      found = 0;
      c.gen++;
      for (int i = 0; i < states[s].n; i++) {
        const inst *in = &g.v[states[s].pcs[i]];
        if (in->op == I_SET && set_has(ps->sets[in->x], rep[cl]))
          close_pc(&c, states[s].pcs[i] + 1, 0, buf, &n, &found);
      }
      /* A search: a match may also start at the next byte. */
      close_pc(&c, 0, 0, buf, &n, &found);
      qsort(buf, (size_t)n, sizeof *buf, cmp_int);
      int t = intern(states, &nstates, buf, n, found);
      if (t < 0)
        goto done;
      d->next[(size_t)s * ncls + cl] = (uint16_t)t;
    }
  }
  d->nstates = nstates;
  d->accept_end = calloc((size_t)nstates, 1);
  if (!d->accept_end)
    goto done;
  d->accept_end[FOUND] = 1;
  for (int s = 2; s < nstates; s++)
    d->accept_end[s] = (uint8_t)accepts_at_end(&c, states[s].pcs, states[s].n);
  if (find_chain(d) < 0)
    goto done;
  size_t cells = (size_t)nstates * (size_t)ncls;
  if (!(d->jump = malloc(cells * sizeof *d->jump)))
    goto done;
  for (size_t i = 0; i < cells; i++)
    d->jump[i] = (uint32_t)d->next[i] * (uint32_t)ncls;
  free(d->next);
  d->next = NULL;
  ok = 1;
done:
  for (int s = 2; s < nstates; s++)
    free(states[s].pcs);
  free(states);
  if (ps)
    free(ps->sets);
  free(ps);
  free(g.v);
  free(c.mark);
  free(c.stack);
  free(buf);
  if (!ok) {
    sp_redfa_free(d);
    return NULL;
  }
  return d;
}

int sp_redfa_match(const sp_redfa *d, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  if (d->chain_len >= 0) {
    size_t len = (size_t)d->chain_len, m = n < len ? n : len;
    if (n > len && d->chain_tail < 0)
      return 0;
    unsigned ok = 1;
    for (size_t i = 0; i < m; i++)
      ok &= d->chain_ok[(size_t)d->chain_set[i] * 256 + p[i]];
    if (n <= len)
      return (int)(ok & d->accept_at[n]);
    const uint8_t *run = d->chain_ok + (size_t)d->chain_tail * 256;
    for (size_t i = len; i < n; i++)
      ok &= run[p[i]];
    return (int)(ok & d->accept_at[len]);
  }
  const uint32_t *jump = d->jump;
  const uint8_t *cls = d->cls;
  uint32_t ncls = (uint32_t)d->ncls;
  uint32_t at = (uint32_t)d->start * ncls; /* the state times ncls */
  const uint32_t dead = DEAD * ncls;
  for (size_t i = 0; i < n && at > dead; i++)
    at = jump[at + cls[p[i]]];
  uint32_t st = at / ncls;
  return st == FOUND || (st > DEAD && d->accept_end[st]);
}

int sp_redfa_fixed_length(const sp_redfa *d) {
  return d->chain_len >= 0 && d->chain_fixed ? d->chain_len : -1;
}

int sp_redfa_linear(const sp_redfa *d) { return d->chain_len >= 0; }
