/* fileio.c - atomic writes and folder creation. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sp_mkdirs(const char *path, mode_t mode, char *errstr, size_t errlen) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
    snprintf(errstr, errlen, "path too long");
    return -1;
  }
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, mode) != 0 && errno != EEXIST) {
        snprintf(errstr, errlen, "cannot create %s: %s", buf,
                 strerror(errno));
        return -1;
      }
      *p = c;
      if (c == '\0')
        break;
    }
  }
  return 0;
}

int sp_write_atomic(const char *path, const void *data, size_t len,
                    mode_t mode, char *errstr, size_t errlen) {
  char tmp[4200], dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *d = dirname(dir);
  /* O_EXCL: never write through a file or link planted at the name. */
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 8; attempt++) {
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%d", path, (long)getpid(),
             attempt);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
              mode);
    if (fd < 0 && errno != EEXIST)
      break;
  }
  if (fd < 0) {
    snprintf(errstr, errlen, "cannot create %s: %s", tmp, strerror(errno));
    return -1;
  }
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      snprintf(errstr, errlen, "cannot write %s: %s", tmp, strerror(errno));
      close(fd);
      unlink(tmp);
      return -1;
    }
    p += n;
    left -= (size_t)n;
  }
  if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
    snprintf(errstr, errlen, "cannot sync %s: %s", tmp, strerror(errno));
    close(fd);
    unlink(tmp);
    return -1;
  }
  close(fd);
  if (rename(tmp, path) != 0) {
    snprintf(errstr, errlen, "cannot rename %s to %s: %s", tmp, path,
             strerror(errno));
    unlink(tmp);
    return -1;
  }
  /* The rename itself must survive a crash. */
  int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return 0;
}
