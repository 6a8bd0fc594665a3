/* red5pro-edge-lookup: the Stream Manager client. Asks an SM 1.x or SM 2.0 Stream
 * Manager which edge serves a stream, and turns its answer (or failure) into an Edge. */
#pragma once

#include "red5pro-config.h"
#include "red5pro-worker.h"

#include <gio/gio.h>

#include <functional>
#include <string>

namespace red5pro {

struct Edge {
  std::string address;   /* serverAddress: IP or host name of the edge */
  std::string app;       /* scope without its leading slash (SM 1.x) / from streamGuid (SM 2.0) */
  std::string region;    /* region (SM 1.x) or subGroup (SM 2.0), may be empty */
};

struct LookupOutcome {
  enum class Kind {
    OK,
    NOT_FOUND,        /* no edge serves the stream (yet): 4xx, or SM 2.0 empty array */
    UNAUTHORIZED,     /* 401 / 403: the auth token is missing or refused */
    UNREACHABLE,      /* no HTTP response: refused, timeout */
    CERTIFICATE,      /* the Stream Manager's TLS certificate was refused */
    SERVER_ERROR,     /* 5xx or another unexpected status */
    BAD_RESPONSE,     /* a 2xx whose body we cannot use */
  };
  Kind kind = Kind::BAD_RESPONSE;
  Edge edge;
  guint http_status = 0;
  std::string reason;   /* human-readable, for events and errors */
};

/* The lookup URL for cfg (SM 1.x or SM 2.0). */
std::string edge_lookup_url (const SubscriberConfig &cfg);

/* Interprets a Stream Manager response (pure functions, unit-tested). */
LookupOutcome parse_sm1_lookup (guint status, const std::string &body);
LookupOutcome parse_sm2_lookup (guint status, const std::string &body,
    const std::string &stream_name = "");

/* Runs the lookup on the worker thread; done runs there too. */
void lookup_edge (Worker &worker, const SubscriberConfig &cfg, GCancellable *cancellable,
    std::function<void (const LookupOutcome &)> done);

}  // namespace red5pro
