/* cmd_numbering.c - `simpkictl numbering`: the SIM PKI numbering plan and
 * the number ranges of batches (B3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocation.h"
#include "cli.h"
#include "cmds.h"
#include "numbering.h"

/* A plan has a handful of lines; anything this large is not a plan. */
#define PLAN_MAX_BYTES (1024 * 1024)

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl numbering load FILE\n"
          "       simpkictl numbering show\n"
          "       simpkictl numbering allocate BATCH_ID\n\n"
          "The IMSI and ICCID blocks reserved for SIM PKI, and the ranges\n"
          "batches get from them (B3).\n\n"
          "  load      check a numbering plan file (docs/numbering.md) and\n"
          "            store its blocks, all or none; blocks already loaded\n"
          "            with the same definition are left as they are\n"
          "  show      per block: size, allocated, free, largest free gap\n"
          "  allocate  give a batch (a row of batches) one contiguous IMSI\n"
          "            range and one ICCID range of its quantity; again for\n"
          "            the same batch prints the same ranges\n\n"
          "Exit status: 0 done, 1 refused or failed (reason on stderr),\n"
          "2 usage.\n\n"
          "Environment: SIMPKI_DB_URL (required).\n");
}

static void print_block_head(void) {
  printf("%-16s %-5s %-20s %-20s %9s\n", "block", "kind", "first", "last",
         "numbers");
}

static void print_block(const vx_block *b) {
  char first[21], last[21];
  vx_number_format(b->is_iccid, b->first, first);
  vx_number_format(b->is_iccid, b->last, last);
  printf("%-16s %-5s %-20s %-20s %9lld", b->block_id,
         b->is_iccid ? "iccid" : "imsi", first, last, vx_block_size(b));
}

/* ---- load ---- */

typedef struct load_tx {
  const vx_block *blocks;
  size_t n;
  int *was_there; /* per block: stored before this load */
} load_tx;

static int load_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  load_tx *t = arg;
  vx_block_usage *u;
  size_t nu;
  if (vx_numbering_usage(c, &u, &nu, errstr, errlen))
    return SP_DB_ERROR;
  for (size_t i = 0; i < t->n; i++) {
    t->was_there[i] = 0;
    for (size_t j = 0; j < nu; j++)
      if (!strcmp(u[j].block.block_id, t->blocks[i].block_id))
        t->was_there[i] = 1;
  }
  free(u);
  int rc = vx_numbering_store(c, t->blocks, t->n, errstr, errlen);
  return rc == 0 ? SP_DB_OK : rc == 1 ? SP_DB_REJECT : SP_DB_ERROR;
}

static int cmd_load(const char *path) {
  const char *prog = "simpkictl numbering load";
  char err[1024];
  size_t len;
  char *buf = sp_cli_read_file(path, PLAN_MAX_BYTES, &len, err, sizeof err);
  if (!buf) {
    fprintf(stderr, "%s: %s\n", prog, err);
    return SP_EXIT_FAIL;
  }
  vx_block *blocks;
  size_t n;
  int bad = vx_numbering_parse(buf, len, &blocks, &n, err, sizeof err);
  free(buf);
  if (bad) {
    fprintf(stderr, "%s: %s: %s\n", prog, path, err);
    return SP_EXIT_FAIL;
  }
  sp_db *db = sp_cli_open_db(prog);
  if (!db) {
    free(blocks);
    return SP_EXIT_FAIL;
  }
  load_tx t = {blocks, n, calloc(n, sizeof(int))};
  int rc = t.was_there ? sp_db_tx(db, load_fn, &t, err, sizeof err)
                       : SP_DB_ERROR;
  if (!t.was_there)
    snprintf(err, sizeof err, "out of memory");
  sp_db_close(db);
  if (rc == SP_DB_OK) {
    size_t added = 0;
    print_block_head();
    for (size_t i = 0; i < n; i++) {
      print_block(&blocks[i]);
      printf("  %s\n", t.was_there[i] ? "already loaded" : "loaded");
      added += !t.was_there[i];
    }
    printf("%zu block(s) in %s: %zu loaded, %zu already there\n", n, path,
           added, n - added);
  } else {
    fprintf(stderr, "%s: %s: %s\n", prog, path, err);
  }
  free(t.was_there);
  free(blocks);
  return rc == SP_DB_OK ? SP_EXIT_OK : SP_EXIT_FAIL;
}

/* ---- show ---- */

static int cmd_show(void) {
  const char *prog = "simpkictl numbering show";
  char err[1024];
  sp_db *db = sp_cli_open_db(prog);
  if (!db)
    return SP_EXIT_FAIL;
  vx_block_usage *u;
  size_t n;
  int rc = vx_numbering_usage(sp_db_conn(db), &u, &n, err, sizeof err);
  sp_db_close(db);
  if (rc) {
    fprintf(stderr, "%s: %s\n", prog, err);
    return SP_EXIT_FAIL;
  }
  if (!n)
    printf("no numbering blocks are loaded (simpkictl numbering load FILE)\n");
  else
    printf("%-16s %-5s %-20s %-20s %9s %9s %9s %9s %7s\n", "block", "kind",
           "first", "last", "size", "allocated", "free", "largest", "batches");
  for (size_t i = 0; i < n; i++) {
    print_block(&u[i].block);
    printf(" %9lld %9lld %9lld %7ld\n", u[i].allocated, u[i].free,
           u[i].largest_gap, u[i].batches);
  }
  free(u);
  return SP_EXIT_OK;
}

/* ---- allocate ---- */

typedef struct alloc_tx {
  const char *batch_id;
  vx_allocation a;
} alloc_tx;

static int alloc_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  alloc_tx *t = arg;
  const char *p[] = {t->batch_id};
  PGresult *r = sp_db_query(
      c, "SELECT quantity, state FROM batches WHERE batch_id = $1", 1, p,
      errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  if (PQntuples(r) == 0) {
    PQclear(r);
    snprintf(errstr, errlen, "batch %s does not exist", t->batch_id);
    return SP_DB_REJECT;
  }
  long quantity = strtol(PQgetvalue(r, 0, 0), NULL, 10);
  char state[16];
  snprintf(state, sizeof state, "%s", PQgetvalue(r, 0, 1));
  PQclear(r);
  /* Numbers go to batches that will be made; a batch that has some
   * already keeps them whatever happened to it since. */
  if (!strcmp(state, "held") || !strcmp(state, "failed")) {
    int g = vx_allocation_get(c, t->batch_id, &t->a, errstr, errlen);
    if (g < 0)
      return SP_DB_ERROR;
    if (g == 1) {
      snprintf(errstr, errlen, "batch %s is %s: it gets no numbers",
               t->batch_id,
               strcmp(state, "held") ? "a failed pilot"
                                     : "held until its vendor's pilot passes");
      return SP_DB_REJECT;
    }
  }
  int rc = vx_allocate(c, t->batch_id, quantity, &t->a, errstr, errlen);
  return rc == 0 ? SP_DB_OK : rc == 1 ? SP_DB_REJECT : SP_DB_ERROR;
}

static int cmd_allocate(const char *batch_id) {
  const char *prog = "simpkictl numbering allocate";
  char err[1536];
  sp_db *db = sp_cli_open_db(prog);
  if (!db)
    return SP_EXIT_FAIL;
  alloc_tx t = {.batch_id = batch_id};
  int rc = sp_db_tx(db, alloc_fn, &t, err, sizeof err);
  sp_db_close(db);
  if (rc != SP_DB_OK) {
    fprintf(stderr, "%s: %s\n", prog, err);
    return SP_EXIT_FAIL;
  }
  const vx_allocation *a = &t.a;
  char imsi0[21], imsi1[21], iccid0[21], iccid1[21];
  vx_imsi_format(a->imsi_first, imsi0);
  vx_imsi_format(a->imsi_first + a->quantity - 1, imsi1);
  vx_iccid_format(a->iccid_first, iccid0);
  vx_iccid_format(a->iccid_first + a->quantity - 1, iccid1);
  printf("batch     %s\n", a->batch_id);
  printf("quantity  %ld\n", a->quantity);
  printf("imsi      %s %s %s\n", imsi0, imsi1, a->imsi_block);
  printf("iccid     %s %s %s\n", iccid0, iccid1, a->iccid_block);
  printf("status    %s\n", a->existing ? "already allocated" : "allocated");
  return SP_EXIT_OK;
}

int sp_cmd_numbering(int argc, char **argv) {
  if (argc < 2 || sp_is_help(argv[1])) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? SP_EXIT_USAGE : SP_EXIT_OK;
  }
  const char *sub = argv[1];
  int nargs = !strcmp(sub, "show") ? 0 : 1;
  if (strcmp(sub, "load") && strcmp(sub, "show") && strcmp(sub, "allocate")) {
    fprintf(stderr, "simpkictl numbering: unknown subcommand \"%s\"\n", sub);
    usage(stderr);
    return SP_EXIT_USAGE;
  }
  for (int i = 2; i < argc; i++)
    if (sp_is_help(argv[i])) {
      usage(stdout);
      return SP_EXIT_OK;
    }
  if (argc - 2 != nargs || (nargs && argv[2][0] == '-' && argv[2][1])) {
    fprintf(stderr, "simpkictl numbering %s: %s\n", sub,
            nargs ? (!strcmp(sub, "load") ? "give exactly one FILE"
                                          : "give exactly one BATCH_ID")
                  : "takes no arguments");
    usage(stderr);
    return SP_EXIT_USAGE;
  }
  if (!strcmp(sub, "load"))
    return cmd_load(argv[2]);
  if (!strcmp(sub, "show"))
    return cmd_show();
  return cmd_allocate(argv[2]);
}
