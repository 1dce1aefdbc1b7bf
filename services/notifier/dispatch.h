/* dispatch.h - which event tells whom what (the consumer's handler):
 *
 *   order.accepted / order.rejected   BCYCP's contact (e-mail)
 *   vendor.pilot_passed / _failed     Ban KHDN
 *   batch.provisioned (B6)            Ban KHDN and Ban KHCN
 *   sims.handed_over (B7)             the receiving CTKV
 *   sim.connected (B9)                the customer, by SMS
 *   case.opened / case.closed /
 *   case.contacted (A5)               the deadline tracking (sla.h)
 *
 * Everything else is not the notifier's. */
#ifndef NT_DISPATCH_H
#define NT_DISPATCH_H

#include "calendar.h"
#include "kafka.h"
#include "template.h"

typedef struct nt_dispatch {
  const nt_templates *templates;
  const sp_cal *cal;
} nt_dispatch;

/* The sp_event_handler; opaque is the nt_dispatch. */
sp_handle_result nt_dispatch_event(PGconn *tx, const sp_event *ev,
                                   void *opaque, char *errstr, size_t errlen);

#endif
