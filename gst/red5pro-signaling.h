/* red5pro-signaling: what an attempt asks of a signaling protocol and what the protocol
 * tells it back (after webrtcsrc's Signallable). One implementation per protocol, each in
 * its own file: WHEP (red5pro-whep.cpp), Red5 Pro's WebSocket (red5pro-websocket.cpp).
 * Everything runs on the worker thread. */
#pragma once

#include "red5pro-config.h"
#include "red5pro-failure.h"
#include "red5pro-messages.h"
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

class Signaling {
public:
  /* What the server said; each runs on the worker, and the attempt may stop the signaling
   * from inside one. */
  struct Events {
    std::function<void (guint http_status)> connected;           /* the server took us */
    std::function<void (SdpKind kind, const std::string &sdp)> description;  /* its SDP */
    std::function<void ()> answer_delivered;                     /* it took our answer */
    std::function<void (const IceCandidate &c)> candidate;       /* its; empty = end */
    std::function<void (const ServerMessage &m)> message;        /* anything else it says */
    std::function<void (const Failure &f)> failed;               /* nothing more comes */
    /* optional: STUN/TURN servers the server names (webrtcbin URIs), before its SDP */
    std::function<void (const std::vector<std::string> &uris)> ice_servers;
    /* optional: the node the server keeps the session on (SDK 15 Session-Host) */
    std::function<void (const std::string &host)> endpoint_changed;
    /* optional: where stats reports should go (SDK 15 Link rel="statistics"), an http(s) URL */
    std::function<void (const std::string &url)> statistics_endpoint;
  };

  virtual ~Signaling () = default;

  /* True: the attempt makes an offer and start() sends it (WHEP; the server may answer it
   * or offer itself). False: start() asks the server to offer (WebSocket). */
  virtual bool client_offers () const = 0;
  virtual void start (const std::string &offer, Events events) = 0;
  /* Our answer to the server's offer. */
  virtual void send_answer (const std::string &sdp) = 0;
  /* Our candidates as gathered (mid set), then their end, with our ICE credentials: each
   * protocol sends them when and as it can. */
  virtual void send_candidate (const IceCandidate &c, const std::string &ufrag,
      const std::string &pwd) = 0;
  virtual void end_of_candidates (const std::string &ufrag, const std::string &pwd) = 0;
  /* Teardown (WHEP DELETE, socket closed); no event comes after it. */
  virtual void stop () = 0;
  /* Where it signals, for logs (secrets redacted). */
  virtual std::string where () const = 0;
};

/* The signaling cfg asks for, with the edge (or Stream Manager proxy) to talk to; edge_port
 * 0 = the configured port. */
std::unique_ptr<Signaling> make_signaling (Worker &worker, const SubscriberConfig &cfg,
    const std::string &edge, guint edge_port, const std::string &app,
    GCancellable *cancellable);

}  // namespace red5pro
