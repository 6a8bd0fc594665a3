/* clients: which subscriber a benchmark process measures (red5prosrc, as the registry has
 * it, or the floor client) and how each is pointed at the test cluster, the same way. */
#pragma once

#include "subscriber.h"

#include <memory>
#include <string>

namespace bench {

struct ClientSpec {
  bool floor = false;           /* the floor client instead of red5prosrc */
  std::string label;            /* what the results call it: element, baseline, floor */
  bool data_channel = true;     /* the red5pro data channel (red5prosrc's default) */
  bool floor_offer_first = false;   /* see FloorOptions::offer_first (standard edges) */
};

/* Where a subscriber goes and how. */
struct Target {
  std::string edge;             /* the edge's address (ignored with sm2) */
  guint port = 0;               /* the cluster's port (Stream Manager and edges) */
  std::string stream = "stream1";
  bool standard = false;        /* the edge speaks standard WHEP (it answers our offer) */
  bool websocket = false;
  bool sm2 = false;             /* Stream Manager 2.0 lookup at 127.0.0.1 first */
  bool decode = true;
  /* red5prosrc only (the floor has no failover): 0 = a failure is final */
  guint retry_timeout_ms = 0;
  guint inactivity_timeout_ms = 2000;
};

std::shared_ptr<Subscriber> make_subscriber (const ClientSpec &client, const Target &target);

}  // namespace bench
