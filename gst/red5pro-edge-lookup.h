/* red5pro-edge-lookup: the Stream Manager client. Asks an SM 1.x or SM 2.0 Stream
 * Manager which edge serves a stream, and turns its answer (or failure) into an Edge. */
#pragma once

#include "red5pro-config.h"
#include "red5pro-failure.h"
#include "red5pro-worker.h"

#include <gio/gio.h>

#include <functional>
#include <string>

namespace red5pro {

struct Edge {
  std::string address;   /* serverAddress: IP or host name of the edge */
  guint port = 0;        /* when serverAddress names one ("10.0.0.5:5080"); 0 = ours */
  std::string app;       /* scope without its leading slash (SM 1.x) / from streamGuid (SM 2.0) */
  std::string region;    /* region (SM 1.x) or subGroup (SM 2.0), may be empty */
};

/* An edge, or why there is none (failure.kind NONE when edge is good). */
struct LookupOutcome {
  Edge edge;
  Failure failure;
  bool ok () const { return !failure.failed (); }
};

/* The lookup URL for cfg (SM 1.x or SM 2.0). */
std::string edge_lookup_url (const SubscriberConfig &cfg);

/* Interprets a Stream Manager response (pure functions, unit-tested). */
LookupOutcome parse_sm1_lookup (guint status, const std::string &body);
/* avoid: an edge address not to take (a standby's: the primary's) */
LookupOutcome parse_sm2_lookup (guint status, const std::string &body,
    const std::string &stream_name = "", const std::string &avoid = "");

/* Runs the lookup on the worker thread; done runs there too. With cfg.avoid_edge set (a
 * standby's), an answer naming that edge is no edge: SM 2.0's list gives the best other
 * one; SM 1.x, which names one, is asked again, at most MAX_AVOID_LOOKUPS times in all. */
constexpr guint MAX_AVOID_LOOKUPS = 3;
void lookup_edge (Worker &worker, const SubscriberConfig &cfg, GCancellable *cancellable,
    std::function<void (const LookupOutcome &)> done);

}  // namespace red5pro
