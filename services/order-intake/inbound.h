/* inbound.h - BCYCP's automated submissions: events of type order.submitted
 * on the inbound topic, data {"document": base64, "signature": base64},
 * taken like an HTTP submission but inside the consumer's inbox
 * transaction (so each is taken exactly once). It also reads inventory's
 * sim.connected events on the topic sims, which close connection cases (B9).
 */
#ifndef OI_INBOUND_H
#define OI_INBOUND_H

#include "intake.h"
#include "kafka.h"

#define OI_TOPIC_INBOUND "bcycp.orders.inbound"
#define OI_TOPIC_SIMS "sims"

/* The sp_event_handler; opaque is the const oi_conf *. */
sp_handle_result oi_inbound_handle(PGconn *tx, const sp_event *ev,
                                   void *opaque, char *errstr,
                                   size_t errlen);

#endif
