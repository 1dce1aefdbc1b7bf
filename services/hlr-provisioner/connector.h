/* connector.h - the thread that carries out the B9 connection requests one
 * at a time (connect.c), on its own HLR connection and database
 * connection, so a batch loading for minutes does not hold a customer's
 * number up. */
#ifndef HP_CONNECTOR_H
#define HP_CONNECTOR_H

#include "crypto.h"
#include "db.h"
#include "provision.h"

typedef struct hp_connector hp_connector;

hp_connector *hp_connector_new(const hp_provision_conf *conf, sp_db *db,
                               char *errstr, size_t errlen);
/* Until *stop or the process is asked to stop. */
int hp_connector_run(hp_connector *k, volatile int *stop);
void hp_connector_free(hp_connector *k);

#endif
