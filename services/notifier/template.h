/* template.h - the notifier's message texts, kept as files so that the
 * wording can change without a build.
 *
 * One file per message kind: DIR/KIND.txt, UTF-8 (a leading BOM and CRLF
 * line ends are tolerated). An e-mail kind starts with a subject line and a
 * blank line, then the body:
 *
 *   Subject: [SIM PKI] Đã tiếp nhận đơn hàng {{bcycp_ref}}
 *
 *   Kính gửi Ban Cơ yếu Chính phủ,
 *   ...
 *
 * An SMS kind is the body alone (no Subject line). Trailing blank lines of
 * the body are dropped. {{name}} is replaced by the value given for name
 * ([a-z0-9_]+); anything else is literal text.
 *
 * Loading is strict, so a typo is found when the service starts, not when
 * the first message goes out: every kind must have its file; a placeholder
 * must be one of the kind's (e.g. {{nmae}} is refused), well formed and
 * closed on its line; the text must be valid UTF-8 without control
 * characters other than tab and line feed. Each refusal names the file and
 * the line.
 *
 * Rendering needs a value for every placeholder the kind's text uses. An
 * empty value also drops the one space right before its placeholder, so a
 * text can be written to read well with and without an optional value:
 * "Quý khách {{full_name}} đã" gives "Quý khách đã" when the name is empty.
 *
 * A loaded set is read-only: several threads may render from it at once. */
#ifndef NT_TEMPLATE_H
#define NT_TEMPLATE_H

#include <stddef.h>

/* Where the shipped templates live in the source tree. */
#define NT_TEMPLATE_DIR_DEFAULT SIMPKI_SOURCE_DIR "/data/templates/notifier"

#define NT_TEMPLATE_FILE_MAX (64 * 1024) /* bytes per template file */
#define NT_TEMPLATE_KIND_MAX 64          /* [a-z0-9_]{1,64} */
#define NT_TEMPLATE_NAME_MAX 64          /* placeholder names, same set */

typedef enum {
  NT_TEMPLATE_MAIL = 0, /* "Subject: ..." line, blank line, body */
  NT_TEMPLATE_SMS = 1   /* body only */
} nt_template_channel;

typedef struct nt_template_spec {
  const char *kind;                /* file DIR/KIND.txt */
  const char *const *placeholders; /* the names it may use, NULL-ended */
  nt_template_channel channel;
} nt_template_spec;

/* The kinds the notifier sends, with their placeholders (the contract
 * between the service and data/templates/notifier/). */
extern const nt_template_spec nt_template_specs[];
extern const size_t nt_template_nspecs;

typedef struct nt_templates nt_templates;

/* Loads one file per spec from dir. 0 with *out, or -1 with the reason
 * ("DIR/KIND.txt:LINE: ...") and nothing allocated. */
int nt_templates_load(const char *dir, const nt_template_spec *specs, size_t n,
                      nt_templates **out, char *errstr, size_t errlen);

/* The same check on text already in memory, for one spec; origin names it
 * in errors (as a file name would). For tests and tools. */
int nt_templates_parse(const char *origin, const char *text, size_t len,
                       const nt_template_spec *spec, nt_templates **out,
                       char *errstr, size_t errlen);

void nt_templates_free(nt_templates *t);

/* Renders kind with the n pairs keys[i] = values[i] (values UTF-8; a
 * NULL value counts as missing). Refused: an unknown kind, a key that is
 * not one of the kind's placeholders, a placeholder the text uses without
 * a value, invalid UTF-8 in a value, a line break in a value that lands in
 * the subject. 0 with *subject (NULL for an SMS kind; subject may be NULL
 * then) and *body, both malloc'd for the caller to free; -1 with the
 * reason. */
int nt_template_render(const nt_templates *t, const char *kind,
                       const char *const *keys, const char *const *values,
                       size_t n, char **subject, char **body, char *errstr,
                       size_t errlen);

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF); else 0 with the offset of the first bad byte in
 * *bad (when bad is not NULL). Shared by the channels. */
int nt_utf8_valid(const char *s, size_t len, size_t *bad);

#endif
