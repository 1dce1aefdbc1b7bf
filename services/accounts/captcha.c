/* captcha.c - the captcha interface and its local backend (arithmetic in
 * Vietnamese words, answers in a bounded in-memory table). */
#include "captcha.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "secret.h"

ac_captcha *ac_captcha_new(const ac_captcha_ops *ops, void *impl) {
  ac_captcha *c = malloc(sizeof *c);
  if (!c) {
    ops->close(impl);
    return NULL;
  }
  c->ops = ops;
  c->impl = impl;
  return c;
}

int ac_captcha_challenge(ac_captcha *c, char *id, size_t idlen, char *question,
                         size_t qlen, char *errstr, size_t errlen) {
  return c->ops->challenge(c->impl, id, idlen, question, qlen, errstr, errlen);
}

int ac_captcha_check(ac_captcha *c, const char *id, const char *answer) {
  if (!id || !answer)
    return 0;
  return c->ops->check(c->impl, id, answer);
}

void ac_captcha_close(ac_captcha *c) {
  if (!c)
    return;
  c->ops->close(c->impl);
  free(c);
}

/* ---- Local backend ---------------------------------------------------- */

static const char *const words[9] = {"một", "hai", "ba",  "bốn", "năm",
                                     "sáu", "bảy", "tám", "chín"};
static const char *const ops_words[3] = {"cộng", "trừ", "nhân"};
#define QUESTION_END " bằng mấy?"
#define ID_BYTES 16

typedef struct {
  char id[2 * ID_BYTES + 1]; /* "" when free or used up */
  int answer;
  time_t made;
} entry;

typedef struct {
  pthread_mutex_t mu;
  int ttl;
  time_t (*now)(void);
  size_t next; /* the slot the next challenge takes: the oldest one */
  entry table[AC_CAPTCHA_LOCAL_MAX];
} local;

static time_t system_now(void) { return time(NULL); }

static int apply(int a, int op, int b) {
  return op == 0 ? a + b : op == 1 ? a - b : a * b;
}

static int local_challenge(void *impl, char *id, size_t idlen, char *question,
                           size_t qlen, char *errstr, size_t errlen) {
  local *l = impl;
  unsigned char raw[ID_BYTES];
  uint32_t a, b, op;
  entry e;
  if (idlen < sizeof e.id || qlen < AC_CAPTCHA_QUESTION_MAX) {
    snprintf(errstr, errlen, "captcha buffers too small");
    return -1;
  }
  if (sp_random_bytes(raw, sizeof raw, errstr, errlen) ||
      ac_random_below(9, &a) || ac_random_below(9, &b) ||
      ac_random_below(3, &op)) {
    snprintf(errstr, errlen, "the random number generator failed");
    return -1;
  }
  if (op == 1 && a < b) { /* keep differences non-negative */
    uint32_t t = a;
    a = b;
    b = t;
  }
  sp_hex_encode(raw, sizeof raw, e.id);
  e.answer = apply((int)a + 1, (int)op, (int)b + 1);
  snprintf(question, qlen, "%c%s %s %s" QUESTION_END,
           toupper((unsigned char)words[a][0]), words[a] + 1, ops_words[op],
           words[b]);
  pthread_mutex_lock(&l->mu);
  e.made = l->now();
  l->table[l->next] = e;
  l->next = (l->next + 1) % AC_CAPTCHA_LOCAL_MAX;
  pthread_mutex_unlock(&l->mu);
  snprintf(id, idlen, "%s", e.id);
  return 0;
}

/* The typed answer: digits, surrounding spaces ignored; -1 otherwise. */
static int parse_answer(const char *s) {
  int v = 0, digits = 0;
  while (isspace((unsigned char)*s))
    s++;
  for (; *s >= '0' && *s <= '9'; s++)
    if (++digits > 3)
      return -1;
    else
      v = v * 10 + (*s - '0');
  while (isspace((unsigned char)*s))
    s++;
  return digits && !*s ? v : -1;
}

static int local_check(void *impl, const char *id, const char *answer) {
  local *l = impl;
  int ok = 0;
  if (strlen(id) != 2 * ID_BYTES)
    return 0;
  int given = parse_answer(answer);
  pthread_mutex_lock(&l->mu);
  /* A linear scan: 10,000 short compares is a few microseconds, far less
   * than the HTTP request around it. */
  for (size_t i = 0; i < AC_CAPTCHA_LOCAL_MAX; i++) {
    entry *e = &l->table[i];
    if (strcmp(e->id, id))
      continue;
    e->id[0] = '\0'; /* used up, whatever the answer */
    ok = l->now() - e->made < l->ttl && given == e->answer;
    break;
  }
  pthread_mutex_unlock(&l->mu);
  return ok;
}

static void local_close(void *impl) {
  local *l = impl;
  if (!l)
    return;
  pthread_mutex_destroy(&l->mu);
  free(l);
}

static const ac_captcha_ops local_ops = {"local", local_challenge, local_check,
                                         local_close};

ac_captcha *ac_captcha_local_new(int ttl_seconds, time_t (*now)(void)) {
  if (ttl_seconds < 1)
    return NULL;
  local *l = calloc(1, sizeof *l);
  if (!l)
    return NULL;
  if (pthread_mutex_init(&l->mu, NULL)) {
    free(l);
    return NULL;
  }
  l->ttl = ttl_seconds;
  l->now = now ? now : system_now;
  return ac_captcha_new(&local_ops, l);
}

/* Matches one of names at *s, followed by a space; its index, or -1. With
 * first_upper, the first (ASCII) letter may be a capital. */
static int word_at(const char **s, const char *const *names, int count,
                   int first_upper) {
  for (int i = 0; i < count; i++) {
    size_t n = strlen(names[i]);
    const char *c = *s;
    if (first_upper ? tolower((unsigned char)c[0]) != names[i][0]
                    : c[0] != names[i][0])
      continue;
    if (strncmp(c + 1, names[i] + 1, n - 1) || c[n] != ' ')
      continue;
    *s = c + n + 1;
    return i;
  }
  return -1;
}

int ac_captcha_local_solve(const char *question) {
  const char *s = question;
  if (!s)
    return -1;
  int a = word_at(&s, words, 9, 1);
  int op = a < 0 ? -1 : word_at(&s, ops_words, 3, 0);
  /* The second operand is followed by QUESTION_END, whose space word_at
   * consumes. */
  int b = op < 0 ? -1 : word_at(&s, words, 9, 0);
  if (b < 0 || strcmp(s - 1, QUESTION_END))
    return -1;
  return apply(a + 1, op, b + 1);
}
