/* red5pro-whep: WHEP signaling (protocol notes, section 5): the HTTP exchange (POST the
 * offer, read back the server's offer (Red5 Pro) or answer (RFC 9725), PATCH the answer and
 * the trickled candidates to the session resource, DELETE it on teardown) and the Signaling
 * implementation on top of it. No WebRTC here. */
#pragma once

#include "red5pro-config.h"
#include "red5pro-signaling.h"
#include "red5pro-worker.h"

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace red5pro {

/* An application/trickle-ice-sdpfrag body (RFC 8840) for the candidates, built with gstsdp. */
std::string build_sdpfrag (const std::string &ufrag, const std::string &pwd,
    const std::vector<IceCandidate> &candidates);
/* The candidates in an sdpfrag (or any SDP text); mline is -1 when only a mid is known. */
std::vector<IceCandidate> parse_sdpfrag (const std::string &frag);

/* The STUN/TURN servers that Link headers name (rel="ice-server", RFC 9725 section 4.4;
 * SDK 15's OPTIONS answer), as webrtcbin takes them: stun://host:port,
 * turn(s)://user:credential@host:port[?transport=]. A TURN server without credentials, a
 * scheme or an address we cannot use is left out. */
std::vector<std::string> ice_servers_from_links (const std::vector<std::string> &links);

/* The stats endpoint a Link header names (rel="statistics", SDK 15's OPTIONS answer),
 * resolved against base (the request's URL); "" when none names an http(s) URL. */
std::string statistics_endpoint_from_links (const std::vector<std::string> &links,
    const std::string &base);

/* The standalone endpoint URL on an edge. */
std::string whep_endpoint_url (const SubscriberConfig &cfg, const std::string &edge_host,
    const std::string &app, guint edge_port = 0);

/* The WHEP HTTP exchange: POST the offer (or nothing), PATCH the answer and the trickled
 * candidates to the session resource, DELETE it. Answers come as HttpResults; the resource
 * URL is known once a POST succeeded (Location, or derived from the endpoint). */
class WhepClient : public std::enable_shared_from_this<WhepClient> {
public:
  using Done = std::function<void (const HttpResult &)>;

  WhepClient (Worker &worker, std::string endpoint, std::string auth_token,
      GCancellable *cancellable);
  ~WhepClient ();

  /* OPTIONS on the endpoint (SDK 15): its Session-Host, when it names one, goes on every
   * later request as host= (unless the endpoint's query has a host already). */
  void options (guint timeout_ms, Done done);
  void post_offer (const std::string &sdp, Done done);
  void patch (const char *content_type, const std::string &body, Done done);
  /* DELETE the resource, if any; not cancelled with the attempt. */
  void remove ();

  const std::string &endpoint () const { return endpoint_; }
  const std::string &resource () const { return resource_; }
  const std::string &session_host () const { return session_host_; }
  GstObject *log_object () const { return worker_.log_object (); }

private:
  void post_to (const std::string &url, const std::string &sdp, guint hops, Done done);
  void request (const char *method, const std::string &url, const char *content_type,
      const std::string &body, bool cancellable, Done done, GCancellable *own = nullptr);

  Worker &worker_;
  std::string endpoint_;           /* after redirects, the one that answered */
  std::string resource_;
  std::string session_host_;       /* the OPTIONS answer's Session-Host */
  std::string auth_token_;
  std::string token_origin_;       /* the configured endpoint's: the only place the token goes */
  GCancellable *cancellable_;
};

/* Signaling over WHEP (protocol notes, section 5): our offer POSTed; the response is the
 * server's offer (Red5 Pro; our answer is PATCHed back) or its answer (RFC 9725); our
 * candidates in one trickle PATCH once gathered, the server's from its response. */
class WhepSignaling : public Signaling {
public:
  /* options_timeout_ms: how long the OPTIONS may take (0 = the request timeout) */
  WhepSignaling (Worker &worker, std::string endpoint, std::string auth_token,
      GCancellable *cancellable, guint options_timeout_ms = 0);
  ~WhepSignaling () override;

  bool client_offers () const override { return true; }
  void start (const std::string &offer, Events events) override;
  void send_answer (const std::string &sdp) override;
  void send_candidate (const IceCandidate &c, const std::string &ufrag,
      const std::string &pwd) override;
  void end_of_candidates (const std::string &ufrag, const std::string &pwd) override;
  void stop () override;
  std::string where () const override;

private:
  void post (const std::string &offer);
  /* what the answer's Link headers name: ICE servers, a stats endpoint */
  void take_links (const HttpResult &r);
  void send_candidates ();

  std::shared_ptr<WhepClient> client_;
  guint options_timeout_ms_;
  Events events_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool> (true);   /* false once stopped */
  bool negotiated_ = false;          /* the server has our answer, or answered us */
  bool gathered_ = false;
  bool end_sent_ = false;
  bool trickle_refused_ = false;
  std::string ufrag_, pwd_, mid_;
  std::vector<IceCandidate> pending_;   /* gathered, not sent yet */
};

}  // namespace red5pro
