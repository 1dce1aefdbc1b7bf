/* sla.h - A5: each connection case must be contacted within 3 working days
 * of the notice's receipt (common/calendar.h). A case is tracked from its
 * case.opened event; the timer (nt_sla_tick) reminds the responsible CTKV
 * (Ban KHDN when the case has no region) at the start of the last working
 * day, and when the deadline passes marks the case breached (case.breached)
 * and escalates to Ban KHDN. case.closed (the connection, B9) or
 * case.contacted ends the tracking. */
#ifndef NT_SLA_H
#define NT_SLA_H

#include <stddef.h>
#include <time.h>

#include "calendar.h"
#include "db.h"
#include "event.h"
#include "template.h"

#define NT_SLA_WORKING_DAYS 3
#define NT_TOPIC_REGISTRATIONS "registrations"

/* case.opened: start tracking (inside the consumer's transaction). 0, 1
 * refused (errstr: the event lacks a field, or the calendar has no data
 * for the days it needs: dead-letter it), -1 retry. */
int nt_sla_open(PGconn *tx, const sp_cal *cal, const sp_event *ev,
                char *errstr, size_t errlen);

/* case.closed / case.contacted: stop. 0, -1 retry. */
int nt_sla_close(PGconn *tx, const char *case_id, const char *by,
                 char *errstr, size_t errlen);

/* The timer's work at now: reminders and breaches due, each with its event
 * and message, a transaction each. *next is when there is next something to
 * do (0: nothing open). Returns the cases acted on, or -1. */
int nt_sla_tick(sp_db *db, const nt_templates *t, time_t now, time_t *next,
                char *errstr, size_t errlen);

#endif
