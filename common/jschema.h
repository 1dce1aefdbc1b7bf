/* jschema.h - a JSON Schema validator for the draft 2020-12 subset simpki's
 * schemas use (schemas/events, schemas/documents).
 *
 * Debian has no C JSON Schema library for jansson, and an auditor replaying
 * events must check each one against its schema without Python. So this
 * module implements exactly the keywords our schemas use and refuses, at load
 * time and by name, any other keyword: a check is never silently skipped.
 *
 * Supported: $schema (2020-12 only), $id (at a file's root), $defs, $ref,
 * type, const, enum, pattern, minLength, maxLength, minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum, properties, required,
 * additionalProperties, items, minItems, maxItems, allOf, anyOf, oneOf, not,
 * boolean schemas. Annotations (ignored): title, description, $comment,
 * format (an annotation by default in 2020-12), contentEncoding,
 * contentMediaType, default, examples, deprecated, readOnly, writeOnly.
 *
 * $ref: "URI", "relative/path.json" or either followed by "#/json/pointer"
 * (e.g. "#/$defs/time"); the URI is matched against the files' $id after
 * resolving it against the referring file's $id, else the relative path
 * against the referring file's folder.
 *
 * pattern: ECMA-262 regexes are translated to POSIX extended regexes and
 * compiled once at load. Only what ERE can express with the same meaning is
 * accepted: literals, escaped punctuation, \d \w \n \t \r \f \v, classes
 * without negation, groups ((?:...) too), |, ^, $ and the quantifiers * + ?
 * {n} {n,} {n,m}. Refused, naming the construct: '.', negated classes, \D \W
 * \s \S, lazy quantifiers, lookarounds, back-references, non-ASCII. ('.' and
 * negated classes would match bytes, not characters.)
 *
 * Semantics as in the specification: integer = an integer or a number with
 * no fractional part; const and enum compare numbers by value (1 == 1.0)
 * and never equate booleans with numbers; lengths count Unicode code points.
 *
 * A loaded set is never modified: threads may validate with it at once. */
#ifndef SIMPKI_JSCHEMA_H
#define SIMPKI_JSCHEMA_H

#include <jansson.h>
#include <stddef.h>

#include "jdoc.h"

typedef struct sp_jschema_set sp_jschema_set;

/* Load every *.json under dir (recursively). Schemas are keyed by their
 * file name without .json (the event type) and by their $id. Every $ref
 * must resolve within the set. NULL with errstr naming the file and the
 * problem (an unknown keyword, a pattern that cannot be translated, a
 * dangling $ref, two files with the same name or $id, ...). */
sp_jschema_set *sp_jschema_load_dir(const char *dir, char *errstr,
                                    size_t errlen);
void sp_jschema_free(sp_jschema_set *s);

/* Number of schema files loaded. */
size_t sp_jschema_count(const sp_jschema_set *s);

/* Validate instance against the schema named name (file name without
 * .json, or $id). 0 valid; 1 invalid with errstr = the offending value's
 * JSON pointer + reason, e.g. "/data/sims: -1 is less than minimum 0"
 * ("(root)" for the instance itself); -1 when no schema has that name.
 * The first error found is reported. */
int sp_jschema_validate(const sp_jschema_set *s, const char *name,
                        const json_t *instance, char *errstr, size_t errlen);

/* The POSIX ERE a pattern is checked with (malloc'd), or NULL with why
 * (the construct that cannot be translated). */
char *sp_jschema_ere(const char *ecma, char *why, size_t whylen);

/* The same on a jdoc tree: instance is a value of d (sp_jdoc_root(d) for
 * the whole document). Same results and messages. */
int sp_jschema_validate_jv(const sp_jschema_set *s, const char *name,
                           const sp_jdoc *d, const sp_jv *instance,
                           char *errstr, size_t errlen);

/* One loaded schema, by name or $id; NULL when there is none. Valid while
 * the set is. */
typedef struct sp_jschema sp_jschema;
const sp_jschema *sp_jschema_get(const sp_jschema_set *s, const char *name);

/* Its JSON as loaded (the set's own). NULL for NULL. */
const json_t *sp_jschema_json(const sp_jschema *schema);

/* sp_jschema_validate_jv with the instance taken as valid against the
 * schema given (NULL: none): a $ref to given's root, where it applies to
 * the instance itself, is not followed (deeper values are checked as
 * ever). For a caller whose own
 * checks are known to imply that schema (the audit replay's event
 * contract and the envelope): the verdict and the message are then those
 * of sp_jschema_validate_jv. given must be of the set s. */
int sp_jschema_validate_jv_given(const sp_jschema_set *s, const char *name,
                                 const sp_jschema *given, const sp_jdoc *d,
                                 const sp_jv *instance, char *errstr,
                                 size_t errlen);

/* sp_jschema_validate_jv_given for an instance read as sp_jflat: 0 when
 * it is valid; 1 when it is not, or when this check cannot tell (oneOf,
 * not, a const or enum of an object, an object's properties it cannot
 * merge): the caller then validates a tree of the same value for the
 * verdict and its words. -1 when no schema has that name. Never 0 where
 * the tree would be found invalid (tests/unit/test_jschema.c). */
int sp_jschema_valid_flat(const sp_jschema_set *s, const char *name,
                          const sp_jschema *given, const sp_jflat *instance);

#endif
