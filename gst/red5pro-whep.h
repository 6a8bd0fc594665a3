/* red5pro-whep: the WHEP HTTP exchange (protocol notes, section 5): POST the offer,
 * read back the server's offer (Red5 Pro) or answer (RFC 9725), PATCH the answer and the
 * trickled candidates to the session resource, DELETE it on teardown. No WebRTC here. */
#pragma once

#include "red5pro-config.h"
#include "red5pro-worker.h"

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace red5pro {

/* What an SDP body is, told by its a=setup attribute: actpass = an offer. */
enum class SdpKind { OFFER, ANSWER, INVALID };
SdpKind classify_sdp (const std::string &sdp);

struct IceCandidate {
  guint mline = 0;
  std::string mid;
  std::string candidate;   /* "candidate:..." as webrtcbin gives it; empty = end */
};

/* An application/trickle-ice-sdpfrag body (RFC 8840) for the candidates, built with gstsdp. */
std::string build_sdpfrag (const std::string &ufrag, const std::string &pwd,
    const std::vector<IceCandidate> &candidates);
/* The candidates in an sdpfrag (or any SDP text); mline is -1 when only a mid is known. */
std::vector<IceCandidate> parse_sdpfrag (const std::string &frag);

/* The standalone endpoint URL on an edge. */
std::string whep_endpoint_url (const SubscriberConfig &cfg, const std::string &edge_host,
    const std::string &app);

struct WhepOutcome {
  enum class Kind {
    OK,
    NOT_FOUND,      /* 404 / 409: stream unknown or not available (yet) */
    UNAUTHORIZED,   /* 401 / 403 */
    REFUSED,        /* other HTTP errors */
    UNREACHABLE,    /* no response */
    CERTIFICATE,    /* the server's TLS certificate was refused */
    BAD_RESPONSE,   /* 2xx but no usable SDP */
  };
  Kind kind = Kind::BAD_RESPONSE;
  guint http_status = 0;
  std::string body;
  std::string location;   /* Location header of the response, as sent */
  std::string reason;
};

class WhepClient : public std::enable_shared_from_this<WhepClient> {
public:
  using Done = std::function<void (const WhepOutcome &)>;

  WhepClient (Worker &worker, std::string endpoint, std::string auth_token,
      GCancellable *cancellable);
  ~WhepClient ();

  /* POST our offer (may be empty); on OK, body is the server's SDP and the resource
   * URL is known (Location, or derived from the endpoint). */
  void post_offer (const std::string &sdp, Done done);
  /* PATCH application/sdp with our answer (Red5 Pro flavour). */
  void patch_answer (const std::string &sdp, Done done);
  /* PATCH application/trickle-ice-sdpfrag; body of the outcome may hold server candidates. */
  void patch_candidates (const std::string &frag, Done done);
  /* DELETE the resource, if any; not cancelled with the session. */
  void remove ();

  const std::string &endpoint () const { return endpoint_; }
  const std::string &resource () const { return resource_; }

private:
  void request (const char *method, const std::string &url, const char *content_type,
      const std::string &body, bool cancellable, Done done);

  Worker &worker_;
  std::string endpoint_;
  std::string resource_;
  std::string auth_token_;
  GCancellable *cancellable_;
};

}  // namespace red5pro
