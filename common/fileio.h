/* fileio.h - files a partner may read at any moment. */
#ifndef SIMPKI_FILEIO_H
#define SIMPKI_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write data to path so that a reader sees either nothing or the whole
 * file: a temporary file in the same folder, fsync, rename, fsync of the
 * folder. mode is the new file's mode (e.g. 0640). */
int sp_write_atomic(const char *path, const void *data, size_t len,
                    mode_t mode, char *errstr, size_t errlen);

/* mkdir -p with mode for the folders it creates. */
int sp_mkdirs(const char *path, mode_t mode, char *errstr, size_t errlen);

#endif
