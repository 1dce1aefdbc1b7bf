/* line_reader.h - read a text file line by line in constant memory.
 *
 * Lines end with LF (a CR before it is dropped). A line longer than the
 * reader's limit is reported, not buffered, so a hostile file cannot make
 * the reader grow. */
#ifndef VX_LINE_READER_H
#define VX_LINE_READER_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>

typedef struct vx_line_reader {
  FILE *fp;
  char *buf;          /* chunk buffer */
  size_t cap, len, pos;
  size_t max_line;
  long lineno;        /* number of the line last returned */
  int eof, error;
  EVP_MD_CTX *md;     /* SHA-256 of every byte read, when asked for */
} vx_line_reader;

int vx_line_reader_init(vx_line_reader *r, FILE *fp, size_t max_line);
void vx_line_reader_free(vx_line_reader *r);
/* 1 with *line (not NUL-terminated) and *len, 0 at the end of the file,
 * -1 when the line is too long or holds a NUL byte (errstr says which),
 * -2 on a read error. */
int vx_line_next(vx_line_reader *r, const char **line, size_t *len,
                 char *errstr, size_t errlen);

/* Hash the file while reading it (call before the first line), so a
 * million-line file is read once, not once to hash and once to parse. */
int vx_line_reader_digest(vx_line_reader *r);
/* Read whatever is left of the file into the hash and give its SHA-256 in
 * hex; -1 on a read error. The reader returns no more lines after it. */
int vx_line_reader_digest_final(vx_line_reader *r, char hex[65]);

#endif
