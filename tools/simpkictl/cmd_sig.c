/* cmd_sig.c - `simpkictl sig`: check a signed document offline.
 *
 * sig verify runs the same library call as the sigverify service and
 * prints its report. Its exit status is the verdict, so scripts need not
 * parse JSON: 0 TOTAL_PASSED, 1 TOTAL_FAILED, 2 INDETERMINATE, and 64
 * (EX_USAGE) when it could not check at all (bad option, unreadable file,
 * no trust anchor). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "config.h"
#include "sigverify.h"

#define SIG_EXIT_USAGE 64
#define SIG_MAX_FILE (256L * 1024 * 1024)

static void usage_sig(FILE *fp) {
  fprintf(fp, "Usage: simpkictl sig [--help] SUBCOMMAND [OPTIONS]\n\n"
              "Subcommands:\n"
              "  verify  check a CMS/PKCS#7 signature and print the report\n\n"
              "Run 'simpkictl sig SUBCOMMAND --help' for its options.\n");
}

static void usage_verify(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl sig verify --content FILE [--signature FILE]\n"
          "                            [--trust DIR] [--crl DIR] [--pool DIR]\n"
          "                            [--at TIME]\n\n"
          "Checks a CMS/PKCS#7 SignedData (DER or PEM) and prints the\n"
          "validation report as JSON on stdout.\n\n"
          "Options:\n"
          "  --content FILE    the signed document; without --signature, the\n"
          "                    file is an enveloping signature holding it\n"
          "  --signature FILE  a detached signature over --content\n"
          "  --trust DIR       trust anchors, PEM certificates (default\n"
          "                    $SIMPKI_SIG_TRUST_DIR; required)\n"
          "  --crl DIR         CRLs (default $SIMPKI_SIG_CRL_DIR); without\n"
          "                    CRLs no chain can pass\n"
          "  --pool DIR        extra intermediate certificates (default\n"
          "                    $SIMPKI_SIG_POOL_DIR)\n"
          "  --at TIME         validation time, RFC 3339 (default now)\n"
          "  --help            show this help\n\n"
          "Exit status: 0 TOTAL_PASSED, 1 TOTAL_FAILED, 2 INDETERMINATE,\n"
          "64 usage error or nothing to check.\n");
}

/* Whole file into memory; NULL with errstr on failure. */
static unsigned char *slurp(const char *path, size_t *len, char *errstr,
                            size_t errlen) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(errstr, errlen, "cannot open %s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 65536, n = 0;
  unsigned char *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      unsigned char *nb = cap * 2 <= (size_t)SIG_MAX_FILE
                              ? realloc(buf, cap * 2)
                              : NULL;
      if (!nb) {
        snprintf(errstr, errlen, "%s: larger than %ld bytes or out of memory",
                 path, SIG_MAX_FILE);
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb, cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, fp);
    n += got;
    if (got == 0) {
      if (ferror(fp)) {
        snprintf(errstr, errlen, "cannot read %s", path);
        free(buf);
        buf = NULL;
      }
      break;
    }
  }
  if (!buf && errstr[0] == '\0')
    snprintf(errstr, errlen, "out of memory reading %s", path);
  fclose(fp);
  *len = n;
  return buf;
}

/* Option, else environment, else NULL. */
static int dir_setting(const char *opt, const char *env, const char **out) {
  char err[256];
  const char *v = NULL;
  if (opt) {
    *out = opt;
    return 0;
  }
  if (sp_config_str(env, "", &v, err, sizeof err) != 0) {
    fprintf(stderr, "simpkictl sig verify: %s\n", err);
    return -1;
  }
  *out = v && *v ? v : NULL;
  return 0;
}

static int bad_usage(const char *msg, const char *arg) {
  fprintf(stderr, "simpkictl sig verify: %s%s%s%s\n\n", msg, arg ? " \"" : "",
          arg ? arg : "", arg ? "\"" : "");
  usage_verify(stderr);
  return SIG_EXIT_USAGE;
}

static int verify(int argc, char **argv) {
  static const struct option opts[] = {
      {"content", required_argument, NULL, 'c'},
      {"signature", required_argument, NULL, 's'},
      {"trust", required_argument, NULL, 't'},
      {"crl", required_argument, NULL, 'r'},
      {"pool", required_argument, NULL, 'p'},
      {"at", required_argument, NULL, 'a'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *content_path = NULL, *sig_path = NULL, *trust = NULL,
             *crl = NULL, *pool = NULL, *at = NULL;
  optind = 0;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    switch (ch) {
    case 'c': content_path = optarg; break;
    case 's': sig_path = optarg; break;
    case 't': trust = optarg; break;
    case 'r': crl = optarg; break;
    case 'p': pool = optarg; break;
    case 'a': at = optarg; break;
    case 'h':
      usage_verify(stdout);
      return SP_EXIT_OK;
    default:
      return bad_usage("bad option or missing value:", argv[optind - 1]);
    }
  }
  if (optind < argc)
    return bad_usage("unexpected argument", argv[optind]);
  if (!content_path)
    return bad_usage("--content is required", NULL);
  time_t now = time(NULL);
  if (at && sp_sig_parse_time(at, &now) != 0)
    return bad_usage("--at is not an RFC 3339 time (e.g. "
                     "2026-11-25T17:30:00Z):", at);
  if (dir_setting(trust, "SIMPKI_SIG_TRUST_DIR", &trust) ||
      dir_setting(crl, "SIMPKI_SIG_CRL_DIR", &crl) ||
      dir_setting(pool, "SIMPKI_SIG_POOL_DIR", &pool))
    return SIG_EXIT_USAGE;
  if (!trust)
    return bad_usage("no --trust given and SIMPKI_SIG_TRUST_DIR is not set",
                     NULL);

  char err[512] = "";
  size_t clen = 0, slen = 0;
  unsigned char *content = slurp(content_path, &clen, err, sizeof err);
  unsigned char *sig = NULL;
  if (content && sig_path)
    sig = slurp(sig_path, &slen, err, sizeof err);
  if (!content || (sig_path && !sig)) {
    fprintf(stderr, "simpkictl sig verify: %s\n", err);
    free(content);
    return SIG_EXIT_USAGE;
  }
  if (!sig_path) { /* enveloping: the one file is the signature */
    sig = content, slen = clen;
    content = NULL, clen = 0;
  }
  sp_sigverify_ctx *ctx = sp_sigverify_new(trust, crl, pool, err, sizeof err);
  if (!ctx) {
    fprintf(stderr, "simpkictl sig verify: %s\n", err);
    free(content);
    free(sig);
    return SIG_EXIT_USAGE;
  }
  sp_sig_report rep;
  sp_sigverify_check(ctx, content, clen, sig, slen, now, &rep);
  json_t *j = sp_sig_report_json(&rep);
  char *out = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
  int rc = rep.indication == SP_SIG_TOTAL_PASSED   ? SP_EXIT_OK
           : rep.indication == SP_SIG_TOTAL_FAILED ? 1
                                                   : 2;
  if (!out || printf("%s\n", out) < 0 || fflush(stdout) != 0) {
    fprintf(stderr, "simpkictl sig verify: cannot write the report\n");
    rc = 2; /* the verdict did not reach the caller: not a pass */
  }
  free(out);
  json_decref(j);
  sp_sigverify_free(ctx);
  free(content);
  free(sig);
  return rc;
}

int sp_cmd_sig(int argc, char **argv) {
  if (argc < 2) {
    usage_sig(stderr);
    return SIG_EXIT_USAGE;
  }
  if (sp_is_help(argv[1])) {
    usage_sig(stdout);
    return SP_EXIT_OK;
  }
  if (!strcmp(argv[1], "verify"))
    return verify(argc - 1, argv + 1);
  fprintf(stderr, "simpkictl sig: unknown subcommand \"%s\"\n\n", argv[1]);
  usage_sig(stderr);
  return SIG_EXIT_USAGE;
}
