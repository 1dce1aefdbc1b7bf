/* reader.h - the topic follower: reads the event topics from their
 * beginning and keeps following them (topics and partitions that appear
 * later too), folding every event into the shared state. It uses
 * simpkictl's read-only consumer (tools/simpkictl/kafka_reader.h): its own
 * throw-away group id, partitions assign()ed, no group membership and no
 * offset commits, so it never disturbs the services, and a restart reads
 * everything again and shows the same page. */
#ifndef DASHBOARD_READER_H
#define DASHBOARD_READER_H

#include <stddef.h>

#include "dashboard.h"

/* The topics read: those the services publish their events on. */
extern const char *const ds_topics[];
extern const size_t ds_ntopics;

typedef struct ds_reader ds_reader;
ds_reader *ds_reader_start(const char *bootstrap, ds_shared *sh,
                           char *errstr, size_t errlen);
/* Ends the thread (after ds_shared_stop) and frees r. */
void ds_reader_stop(ds_reader *r);

#endif
