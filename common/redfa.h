/* redfa.h - a deterministic automaton for the POSIX extended regexes that
 * jschema writes from schema patterns, so that checking a string costs one
 * table step per byte instead of a regexec call.
 *
 * The input is the ERE jschema's translator emits, nothing wider: escaped
 * literals (\c), bracket sets that list their members one by one (no
 * ranges, no negation, ']' first), groups, |, the quantifiers * + ? {n}
 * {n,} {n,m}, and the anchors ^ and $ (the string's ends: no REG_NEWLINE).
 * Matching is regexec's with REG_NOSUB: 1 when some substring matches.
 * tests/unit/test_redfa.c compares the two on every schema pattern.
 *
 * Compiling gives up (NULL) when the automaton would be large; the caller
 * then keeps using regexec. A compiled automaton is read-only: threads may
 * match with it at once. */
#ifndef SIMPKI_REDFA_H
#define SIMPKI_REDFA_H

#include <stddef.h>

typedef struct sp_redfa sp_redfa;

/* NULL when ere is outside the form above, too large, or out of memory. */
sp_redfa *sp_redfa_compile(const char *ere);
void sp_redfa_free(sp_redfa *d);

/* 1 when some substring of s (n bytes, NULs included) matches, else 0. */
int sp_redfa_match(const sp_redfa *d, const char *s, size_t n);

/* The one length of the strings d matches when they have one and each
 * place its own set of bytes (^[0-9a-f]{64}$, a UUID's pattern): those are
 * checked place by place, without walking the automaton. Else -1. */
int sp_redfa_fixed_length(const sp_redfa *d);

/* 1 when d is checked place by place, without walking the automaton: its
 * automaton is a line, each place with its own set of bytes, some lengths
 * taken, and maybe a final run of bytes from one set (the fixed lengths
 * above; ^89[0-9]{17,18}$; ^[A-Z0-9][A-Z0-9-]{1,31}$; ^/simpki/[a-z]*$).
 * Else 0 (a fork, a loop of several states, a search). */
int sp_redfa_linear(const sp_redfa *d);

#endif
