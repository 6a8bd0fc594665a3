/* red5pro-webrtc: a WebRTC attempt: the edge lookup, the peer (webrtcbin) and the
 * signaling protocol (WHEP or WebSocket) it drives through the offer/answer exchange, and
 * what the server's messages mean (events, failures). Runs on the worker. */
#pragma once

#include "red5pro-attempt.h"
#include "red5pro-edge-lookup.h"
#include "red5pro-health.h"
#include "red5pro-messages.h"
#include "red5pro-peer.h"
#include "red5pro-signaling.h"

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include <deque>
#include <memory>
#include <string>

namespace red5pro {

class WebRtcAttempt : public Attempt {
public:
  /* tech: WHEP or WEBSOCKET */
  WebRtcAttempt (GstElement *element, Worker &worker, SubscriberConfig cfg,
      AttemptListener *listener, guint number, Tech tech, bool upgrade);
  ~WebRtcAttempt () override;

  void start () override;
  bool owns (GstObject *object) const override;
  /* see Peer; 0 without a peer */
  gint64 last_media_time () const override;
  guint64 packets () const override;
  guint64 bytes () const override;
  void refresh_quality () override;
  NetworkQuality quality (bool video) const override;
  MediaCounters counters () const override;
  void set_muted (bool audio, bool video) override;
  bool send_client_message (const ClientMessage &m) override;
  bool get_stats (std::function<void (const GstStructure *stats)> done) override;
  bool send_message (const std::string &text) override;

private:
  void teardown () override;
  void on_lookup (const LookupOutcome &outcome);
  void create_peer ();
  void maybe_signal ();
  void on_description (SdpKind kind, const std::string &sdp);
  void on_remote_offer_set ();
  void negotiated (const GstSDPMessage *answer, bool ours);
  void on_remote_candidate (const IceCandidate &c);
  void on_gathered ();
  /* Sections 3, 4 and 12 of the protocol notes: what each server message means to us. */
  void handle_server_message (const ServerMessage &m, bool data_channel);
  void handle_metadata (const GstStructure *metadata);
  void handle_result (const ServerMessage &m);
  /* every stats interval: SDK 15's health checks (red5pro-health) */
  void check_health ();
  template <typename F> auto guard (F fn) { return guarded<WebRtcAttempt> (fn); }

  std::shared_ptr<Peer> peer_;
  std::unique_ptr<Signaling> signaling_;
  DescriptionPtr local_offer_;     /* ours, applied only if the server answers it */

  bool edge_known_ = false;        /* looked up, or no lookup to do */
  guint local_candidates_ = 0;
  guint remote_candidates_ = 0;
  bool server_turn_ = false;       /* the server named a TURN server (WHEP Link) */

  /* last metadata values, for the *.Change events */
  std::string orientation_;
  std::string streaming_mode_;
  gint64 width_ = -1;
  gint64 height_ = -1;

  /* the application's messages before the peer exists (at most MAX_EARLY_MESSAGES, the
   * oldest dropped), and the calls whose answer is awaited (at most MAX_CALLS) */
  std::deque<ClientMessage> early_;
  std::deque<ClientMessage> calls_;
  static constexpr size_t MAX_EARLY_MESSAGES = 16;
  static constexpr size_t MAX_CALLS = 32;
  HealthMonitor health_;
  guint health_timer_ = 0;
  bool mute_set_ = false;          /* set_muted was called: said to every peer */
  bool mute_audio_ = false;
  bool mute_video_ = false;
};

}  // namespace red5pro
