/* red5pro-webrtc: lookup, peer and signaling of a WebRTC attempt, step by step. */
#include "red5pro-webrtc.h"
#include "red5pro-codecs.h"
#include "red5pro-events.h"
#include "red5pro-websocket.h"
#include "red5pro-whep.h"

#include <cmath>

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

namespace {

std::string
sdp_text (const GstWebRTCSessionDescription *desc)
{
  g_autofree char *text = gst_sdp_message_as_text (desc->sdp);
  return text;
}

DescriptionPtr
description_from_text (GstWebRTCSDPType type, const std::string &text)
{
  GstSDPMessage *sdp = nullptr;
  gst_sdp_message_new (&sdp);
  if (text.empty () || gst_sdp_message_parse_buffer (
          reinterpret_cast<const guint8 *> (text.data ()), guint (text.size ()), sdp) != GST_SDP_OK) {
    gst_sdp_message_free (sdp);
    return nullptr;
  }
  return DescriptionPtr (gst_webrtc_session_description_new (type, sdp));
}

}  // namespace

std::unique_ptr<Signaling>
make_signaling (Worker &worker, const SubscriberConfig &cfg, const std::string &edge,
    guint edge_port, const std::string &app, GCancellable *cancellable)
{
  if (cfg.signaling == SignalingProtocol::WEBSOCKET)
    return std::make_unique<WebSocketSignaling> (worker,
        websocket_url (cfg, edge, app, edge_port), cfg, cancellable);
  return std::make_unique<WhepSignaling> (worker, whep_endpoint_url (cfg, edge, app, edge_port),
      cfg.auth_token, cancellable, cfg.request_timeout_ms / 2);
}

WebRtcAttempt::WebRtcAttempt (GstElement *element, Worker &worker, SubscriberConfig cfg,
    AttemptListener *listener, guint number, Tech tech, bool upgrade)
  : Attempt (element, worker, std::move (cfg), listener, number, tech, upgrade)
{
}

WebRtcAttempt::~WebRtcAttempt () = default;

/* ---- the attempt, step by step ---------------------------------------------------------- */

void
WebRtcAttempt::start ()
{
  g_assert (worker_.on_worker_thread ());
  GST_INFO_OBJECT (element_, "attempt %u: subscribing to %s", number_,
      cfg_.stream_name.c_str ());
  /* no lookup: a standalone server, or the SM 2.0 proxy, which picks the edge itself */
  bool lookup = !(cfg_.stream_manager == StreamManagerMode::NONE ||
      (cfg_.use_proxy && cfg_.stream_manager == StreamManagerMode::SM2));
  if (cfg_.standby && (!lookup || cfg_.avoid_edge.empty ())) {
    fail (Failure (Failure::Kind::NOT_FOUND, lookup ? "the current edge is not known"
        : "no Stream Manager lookup to name another edge (a standalone server or the "
          "Stream Manager 2.0 proxy)"));
    return;
  }
  if (!lookup) {
    edge_ = cfg_.host;
    app_ = cfg_.app;
    edge_known_ = true;
  } else {
    /* the lookup goes out first; the peer and our offer are made while it is under way */
    lookup_edge (worker_, cfg_, cancellable_.get (), guard ([] (WebRtcAttempt &a,
        const LookupOutcome &o) { a.on_lookup (o); }));
  }
  create_peer ();
}

void
WebRtcAttempt::on_lookup (const LookupOutcome &o)
{
  if (!take_lookup (o))
    return;
  edge_known_ = true;
  maybe_signal ();
}

void
WebRtcAttempt::create_peer ()
{
  peer_ = std::make_shared<Peer> (element_, worker_, cfg_, number_);
  Peer::Events pe;
  pe.candidate = guard ([] (WebRtcAttempt &a, guint mline, const std::string &candidate) {
    /* webrtcbin after 1.22 (seen with 1.26.2) also signals the end of gathering as an empty
     * candidate, as browsers do with a null one; 1.22 does not. The end is taken from the
     * gathering state on both (on_gathered): an empty candidate is not one, neither counted
     * (relay-only needs a real relay candidate) nor sent to the server. */
    if (candidate.empty ())
      return;
    IceCandidate c;
    c.mline = mline;
    c.mid = a.peer_->mid_of (mline);
    c.candidate = candidate;
    GST_DEBUG_OBJECT (a.element_, "attempt %u: local candidate on m-line %u: %s", a.number_,
        mline, candidate.c_str ());
    a.local_candidates_++;
    std::string ufrag, pwd;
    a.peer_->credentials (&ufrag, &pwd);
    if (a.signaling_)
      a.signaling_->send_candidate (c, ufrag, pwd);
  });
  pe.gathered = guard ([] (WebRtcAttempt &a) { a.on_gathered (); });
  pe.state = guard ([] (WebRtcAttempt &a, GstWebRTCPeerConnectionState state) {
    GST_INFO_OBJECT (a.element_, "attempt %u: peer connection %d", a.number_, int (state));
    /* renegotiation-policy=none: a failed peer connection is left to the inactivity
     * timeout and the channel's close, as the SDK without a policy leaves it */
    if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED &&
        a.cfg_.renegotiation_policy == RenegotiationPolicy::NONE) {
      GST_INFO_OBJECT (a.element_, "attempt %u: peer connection failed "
          "(renegotiation-policy=none: no retry for it)", a.number_);
      return;
    }
    if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED ||
        state == GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED)
      a.fail_connecting (Failure (Failure::Kind::CONNECTION_CLOSED,
          state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED ? "peer connection failed"
                                                           : "peer connection closed"));
  });
  pe.channel_open = guard ([] (WebRtcAttempt &a, const std::string &label) {
    if (label != "red5pro")
      return;
    /* a warm standby: connected (ICE, DTLS, the channel), the server's media paused */
    if (a.cfg_.standby_warm)
      a.set_muted (true, true);
    a.listener_->attempt_connected (a);
  });
  pe.channel_closed = guard ([] (WebRtcAttempt &a, const std::string &label) {
    /* The red5pro channel is the edge's voice: when it closes while we still play, the
     * edge has gone (an edge that shuts down closes its SCTP association). */
    if (label == "red5pro")
      a.fail_connecting (Failure (Failure::Kind::CONNECTION_CLOSED,
          "the edge closed the red5pro data channel"));
  });
  pe.channel_message = guard ([] (WebRtcAttempt &a, const std::string &, const std::string &text) {
    a.handle_server_message (parse_server_message (text), true);
  });
  pe.failed = guard ([] (WebRtcAttempt &a, const Failure &f) {
    /* an edge whose DTLS certificate is not the one its SDP announced did not "connect" */
    if (f.kind == Failure::Kind::CERTIFICATE)
      a.post (event_new (event::CONNECT_FAILURE, "reason", G_TYPE_STRING,
          connect_failure_reason (f.kind), "message", G_TYPE_STRING, f.reason.c_str (),
          "edge", G_TYPE_STRING, a.edge_.c_str (), NULL));
    a.fail (f);
  });
  std::weak_ptr<WebRtcAttempt> weak = std::static_pointer_cast<WebRtcAttempt> (
      shared_from_this ());
  /* these three may run on any thread */
  pe.post = [weak] (GstStructure *event) {
    if (auto self = weak.lock ())
      self->post (event);
    else
      gst_structure_free (event);
  };
  pe.media_pad = [weak] (GstPad *pad) {
    if (auto self = weak.lock ())
      self->listener_->attempt_pad_added (*self, pad);
  };
  pe.media_out = [weak] () {
    if (auto self = weak.lock ()) {
      self->listener_->attempt_media_started (*self);
      self->on_worker<WebRtcAttempt> ([] (WebRtcAttempt &a) { a.post_started (); });
    }
  };
  std::string why;
  if (!peer_->start (std::move (pe), &why)) {
    fail (Failure (Failure::Kind::INTERNAL, why));
    return;
  }
  /* what the application said before there was a peer: the peer keeps it until the
   * channel opens */
  if (mute_set_)
    peer_->send_message (mute_message (mute_audio_, mute_video_));
  for (const auto &m : early_)
    peer_->send_message (m.text);
  early_.clear ();
  health_timer_ = worker_.add_timeout (cfg_.stats_interval_ms,
      guard ([] (WebRtcAttempt &a) { a.check_health (); }));

  if (cfg_.signaling == SignalingProtocol::WEBSOCKET) {
    maybe_signal ();
    return;
  }
  /* WHEP: our offer, with the data channel in it, but not applied yet: Red5 Pro answers a
   * POST with its own offer, and webrtcbin cannot take a remote offer while it holds a
   * local one (no rollback in 1.22) */
  peer_->open_channel ();
  peer_->create ("offer", guard ([] (WebRtcAttempt &a, DescriptionPtr offer,
      const std::string &err) {
    if (!offer) {
      a.fail (Failure (Failure::Kind::INTERNAL, "webrtcbin could not create an offer: " + err));
      return;
    }
    a.local_offer_ = std::move (offer);
    a.maybe_signal ();
  }));
}

/* Once the edge is known and, for WHEP, our offer is made: the signaling starts. */
void
WebRtcAttempt::maybe_signal ()
{
  bool offers = cfg_.signaling == SignalingProtocol::WHEP;
  if (!edge_known_ || !peer_ || signaling_ || failed_ || (offers && !local_offer_))
    return;
  signaling_ = make_signaling (worker_, cfg_, edge_, edge_port_, app_, cancellable_.get ());
  GST_INFO_OBJECT (element_, "attempt %u: signaling with %s", number_,
      signaling_->where ().c_str ());
  Signaling::Events se;
  se.connected = guard ([] (WebRtcAttempt &a, guint http_status) {
    a.connected_ = true;
    a.post (event_new (event::CONNECT_SUCCESS, "edge", G_TYPE_STRING, a.edge_.c_str (),
        "http-status", G_TYPE_UINT, http_status, NULL));
  });
  se.description = guard ([] (WebRtcAttempt &a, SdpKind kind, const std::string &sdp) {
    a.on_description (kind, sdp);
  });
  se.answer_delivered = guard ([] (WebRtcAttempt &a) { a.post (event_new (event::ANSWER_END)); });
  se.candidate = guard ([] (WebRtcAttempt &a, const IceCandidate &c) { a.on_remote_candidate (c); });
  se.message = guard ([] (WebRtcAttempt &a, const ServerMessage &m) {
    a.handle_server_message (m, false);
  });
  se.failed = guard ([] (WebRtcAttempt &a, const Failure &f) { a.fail_connecting (f); });
  se.ice_servers = guard ([] (WebRtcAttempt &a, const std::vector<std::string> &uris) {
    for (const auto &uri : uris)
      a.server_turn_ |= g_str_has_prefix (uri.c_str (), "turn");
    if (a.peer_)
      a.peer_->add_ice_servers (uris);
  });
  se.statistics_endpoint = guard ([] (WebRtcAttempt &a, const std::string &url) {
    a.listener_->attempt_stats_endpoint (a, url);
  });
  se.endpoint_changed = guard ([] (WebRtcAttempt &a, const std::string &host) {
    a.post (event_new (event::ENDPOINT_CHANGED, "endpoint", G_TYPE_STRING, host.c_str (),
        NULL));
  });
  signaling_->start (offers ? sdp_text (local_offer_.get ()) : "", std::move (se));
}

void
WebRtcAttempt::on_description (SdpKind kind, const std::string &sdp)
{
  if (kind == SdpKind::ANSWER) {
    /* standard WHEP: the server answered our offer */
    GST_INFO_OBJECT (element_, "the edge answered our offer (standard WHEP)");
    DescriptionPtr answer = description_from_text (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
    if (!answer || !local_offer_) {
      fail (Failure (Failure::Kind::PROTOCOL, "the server's answer does not parse"));
      return;
    }
    peer_->set_local (local_offer_.get ());
    peer_->set_remote (answer.get (), guard ([] (WebRtcAttempt &a, const std::string &err) {
      if (!err.empty ())
        a.fail (Failure (Failure::Kind::PROTOCOL, "could not apply the server's answer: " + err));
    }));
    negotiated (answer->sdp, false);
    return;
  }
  /* the server's offer (Red5 Pro WHEP, WebSocket): ours is an answer */
  GST_INFO_OBJECT (element_, "the server offers");
  DescriptionPtr offer = description_from_text (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  if (!offer || classify_sdp (sdp) != SdpKind::OFFER) {
    fail (Failure (Failure::Kind::PROTOCOL, "the server's offer does not parse"));
    return;
  }
  post (event_new (event::OFFER_START));
  peer_->set_remote (offer.get (), guard ([] (WebRtcAttempt &a, const std::string &err) {
    if (!err.empty ()) {
      a.fail (Failure (Failure::Kind::PROTOCOL, "could not apply the server's offer: " + err));
      return;
    }
    a.on_remote_offer_set ();
  }));
}

void
WebRtcAttempt::on_remote_offer_set ()
{
  post (event_new (event::OFFER_END));
  /* the client opens the red5pro channel once it has the server's offer (section 4) */
  DescriptionPtr remote = peer_->remote_description ();
  if (remote && media_state (remote->sdp, "application", false) != MediaState::ABSENT)
    peer_->open_channel ();
  post (event_new (event::ANSWER_START));
  peer_->create ("answer", guard ([] (WebRtcAttempt &a, DescriptionPtr answer,
      const std::string &err) {
    if (!answer) {
      a.fail (Failure (Failure::Kind::PROTOCOL,
          "webrtcbin could not answer the server's offer: " + err));
      return;
    }
    a.peer_->set_local (answer.get ());
    a.negotiated (answer->sdp, true);
    if (!a.failed_)
      a.signaling_->send_answer (sdp_text (answer.get ()));
  }));
}

/* Both descriptions are in place: which media will come. A medium we want that the server
 * refuses or does not offer is said with an event and not waited for; one the server sends
 * only in codecs we do not take is the end (no edge would send it otherwise). */
void
WebRtcAttempt::negotiated (const GstSDPMessage *answer, bool ours)
{
  DescriptionPtr remote = ours ? peer_->remote_description () : nullptr;
  bool receiving[2] = { false, false };
  for (bool video : { true, false }) {
    const char *kind = video ? "video" : "audio";
    const auto &wanted = video ? cfg_.video_codecs : cfg_.audio_codecs;
    MediaState state = media_state (answer, kind, ours);
    receiving[video ? 0 : 1] = !wanted.empty () && state == MediaState::RECEIVING;
    if (wanted.empty ())
      continue;
    /* webrtcbin answers an offer none of whose codecs we prefer with a receiver of its
     * own that takes anything: what we answered is what will come */
    bool accepted_codec = false;
    for (const auto &c : wanted)
      accepted_codec |= codec_listed (sdp_codecs (answer, kind), c);
    if (state == MediaState::RECEIVING && accepted_codec)
      continue;
    std::string offered = remote ? sdp_codecs (remote->sdp, kind) : "";
    if (!offered.empty () && media_state (remote->sdp, kind, false) == MediaState::RECEIVING) {
      std::string accepted;
      for (const auto &c : wanted)
        accepted += (accepted.empty () ? "" : ", ") + c;
      fail (Failure (Failure::Kind::UNSUPPORTED, std::string ("the server sends ") + kind +
          " as " + offered + " only, which " + (video ? "video-codecs" : "audio-codecs") +
          " (" + accepted + ") does not accept"));
      return;
    }
    const char *reason = state == MediaState::ABSENT ? "not-offered" : "refused";
    GST_WARNING_OBJECT (element_, "attempt %u: no %s will come (%s)", number_, kind, reason);
    post (event_new (event::MEDIA_UNAVAILABLE, "kind", G_TYPE_STRING, kind, "reason",
        G_TYPE_STRING, reason, "edge", G_TYPE_STRING, edge_.c_str (), NULL));
    warn_media_unavailable (element_, kind, reason);
  }
  listener_->attempt_media_expected (*this, receiving[0], receiving[1]);
}

void
WebRtcAttempt::on_remote_candidate (const IceCandidate &c)
{
  if (c.candidate.empty ()) {
    post (event_new (event::CANDIDATE_END, "server-candidates", G_TYPE_UINT,
        remote_candidates_, NULL));
    return;
  }
  remote_candidates_++;
  /* a candidate that comes with a mid only (an sdpfrag) goes to that mid's m-line */
  peer_->add_candidate (c.mline == G_MAXUINT ? peer_->mline_of (c.mid) : c.mline, c.candidate);
}

void
WebRtcAttempt::on_gathered ()
{
  post (event_new (event::ICE_TRICKLE_COMPLETE, "candidates", G_TYPE_UINT, local_candidates_,
      NULL));
  if (cfg_.relay_only && local_candidates_ == 0) {
    /* no relay candidate: the TURN server refused our credentials or did not answer */
    g_autoptr (GUri) turn = g_uri_parse (cfg_.turn_server.c_str (), G_URI_FLAGS_NONE, nullptr);
    std::string where = turn && g_uri_get_host (turn)
        ? std::string (g_uri_get_host (turn)) + ":" + std::to_string (g_uri_get_port (turn))
        : std::string ("the TURN server");
    Failure f (Failure::Kind::UNREACHABLE, cfg_.turn_server.empty () && !server_turn_
        ? std::string ("no TURN server for ice-transport-policy=relay: set turn-server (the "
              "server named none)")
        : "no relay candidate from the TURN server " + where +
            " (ice-transport-policy=relay): wrong TURN credentials, or it cannot be reached");
    fail_connecting (f);
    return;
  }
  std::string ufrag, pwd;
  peer_->credentials (&ufrag, &pwd);
  post (event_new (event::CANDIDATE_START));
  if (signaling_)
    signaling_->end_of_candidates (ufrag, pwd);
}

/* ---- server messages ------------------------------------------------------------------- */

void
WebRtcAttempt::handle_server_message (const ServerMessage &m, bool data_channel)
{
  using K = ServerMessage::Kind;
  switch (m.kind) {
    case K::STATUS:
      if (m.is_status (status::UNPUBLISH_NOTIFY)) {
        post (event_new (event::SUBSCRIBE_PLAY_UNPUBLISH, "stream-name", G_TYPE_STRING,
            cfg_.stream_name.c_str (), "edge", G_TYPE_STRING, edge_.c_str (), NULL));
        if (data_channel)   /* on the data channel it also means the connection is over */
          post (event_new (event::SUBSCRIBE_CONNECTION_CLOSED, "edge", G_TYPE_STRING,
              edge_.c_str (), NULL));
        fail (Failure (Failure::Kind::UNPUBLISHED, "the publisher unpublished the stream"));
      } else if (m.is_status (status::CONNECT_CLOSED)) {
        fail_connecting (Failure (Failure::Kind::CONNECTION_CLOSED,
            "the server closed the connection"));
      } else if (m.is_status (status::STREAM_NOT_FOUND)) {
        fail_connecting (Failure (Failure::Kind::NOT_FOUND,
            "the server does not have the stream"));
      } else if (m.message == cfg_.stream_name + " starting") {
        post_started ();
      } else if (m.is_status (status::STATISTICS_ENDPOINT) && !m.statistics.empty ()) {
        /* SDK 15: stats reports go there from now on */
        listener_->attempt_stats_endpoint (*this, m.statistics);
      } else if (m.is_status (status::DATA_CHANNEL_AVAILABLE)) {
        post (event_new (event::DATA_CHANNEL_AVAILABLE, "label", G_TYPE_STRING,
            m.description.empty () ? "red5pro" : m.description.c_str (), NULL));
      } else {
        post (event_new (event::SUBSCRIBE_STATUS, "code", G_TYPE_STRING, m.code.c_str (),
            "message", G_TYPE_STRING, m.message.c_str (), "description", G_TYPE_STRING,
            m.description.c_str (), NULL));
      }
      break;
    case K::ERROR:
      post (event_new (event::SUBSCRIBE_FAIL, "reason", G_TYPE_STRING, "server-error",
          "message", G_TYPE_STRING, m.message.c_str (), "edge", G_TYPE_STRING,
          edge_.c_str (), NULL));
      break;
    case K::METADATA:
      handle_metadata (m.data);
      break;
    case K::RESULT:
      handle_result (m);
      break;
    case K::SEND: {
      const char *type = m.method == "onPublisherNetworkCongestion" ?
          event::SUBSCRIBE_PUBLISHER_CONGESTION :
          m.method == "onPublisherNetworkRecovery" ? event::SUBSCRIBE_PUBLISHER_RECOVERY :
          event::SUBSCRIBE_SEND_INVOKE;
      post (event_new (type, "method", G_TYPE_STRING, m.method.c_str (), "sender",
          G_TYPE_STRING, m.sender.c_str (), "data", GST_TYPE_STRUCTURE, m.data, NULL));
      break;
    }
    default:
      GST_DEBUG_OBJECT (element_, "ignoring a server message we do not know (%d)",
          int (m.kind));
      break;
  }
}

void
WebRtcAttempt::handle_metadata (const GstStructure *md)
{
  if (!md)
    return;
  post (event_new (event::SUBSCRIBE_METADATA, "metadata", GST_TYPE_STRUCTURE, md, NULL));
  /* values may come as numbers or strings; a number that is no size is none */
  auto number = [md] (const char *field) -> gint64 {
    const GValue *v = gst_structure_get_value (md, field);
    if (!v)
      return -1;
    if (G_VALUE_HOLDS_INT64 (v))
      return g_value_get_int64 (v);
    if (G_VALUE_HOLDS_DOUBLE (v)) {
      double d = g_value_get_double (v);
      return std::isfinite (d) && d >= 0 && d < 1e9 ? gint64 (d) : -1;
    }
    if (G_VALUE_HOLDS_STRING (v) && g_value_get_string (v))
      return g_ascii_strtoll (g_value_get_string (v), nullptr, 10);
    return -1;
  };
  auto text = [md] (const char *field) -> std::string {
    const GValue *v = gst_structure_get_value (md, field);
    if (!v)
      return {};
    g_autofree char *s = G_VALUE_HOLDS_STRING (v) ? g_value_dup_string (v)
                                                  : gst_value_serialize (v);
    return s ? s : "";
  };
  std::string orientation = text ("orientation");
  if (!orientation.empty () && orientation != orientation_) {
    orientation_ = orientation;
    post (event_new (event::SUBSCRIBE_ORIENTATION_CHANGE, "orientation", G_TYPE_STRING,
        orientation.c_str (), NULL));
  }
  gint64 w = number ("width"), h = number ("height");
  if (w > 0 && h > 0 && (w != width_ || h != height_)) {
    width_ = w;
    height_ = h;
    post (event_new (event::SUBSCRIBE_DIMENSIONS_CHANGE, "width", G_TYPE_INT64, w,
        "height", G_TYPE_INT64, h, NULL));
  }
  std::string mode = text ("streamingMode");
  if (!mode.empty () && mode != streaming_mode_) {
    streaming_mode_ = mode;
    post (event_new (event::SUBSCRIBE_STREAMING_MODE_CHANGE, "streaming-mode",
        G_TYPE_STRING, mode.c_str (), NULL));
  }
}

/* ---- the rest ------------------------------------------------------------------------- */

bool
WebRtcAttempt::owns (GstObject *object) const
{
  return peer_ && peer_->owns (object);
}

gint64
WebRtcAttempt::last_media_time () const
{
  return peer_ ? peer_->last_media_time () : 0;
}

guint64
WebRtcAttempt::packets () const
{
  return peer_ ? peer_->packets () : 0;
}

guint64
WebRtcAttempt::bytes () const
{
  return peer_ ? peer_->bytes () : 0;
}

void
WebRtcAttempt::refresh_quality ()
{
  if (peer_)
    peer_->refresh_quality ();
}

NetworkQuality
WebRtcAttempt::quality (bool video) const
{
  return peer_ ? peer_->quality (video) : NetworkQuality ();
}

MediaCounters
WebRtcAttempt::counters () const
{
  return peer_ ? peer_->counters () : MediaCounters ();
}

/* SDK 15's health checks on this connection, every stats interval: each event posted with
 * the SDK's name; those the renegotiation policy acts on fail the attempt, the retry named
 * after the event. webrtcbin (1.22 to 1.26) reports no candidate-pair state or round-trip
 * time: ICE's state is read off webrtcbin and the staleness off the packets received
 * (red5pro-health). */
void
WebRtcAttempt::check_health ()
{
  health_timer_ = 0;
  if (!peer_ || failed_)
    return;
  HealthSample s;
  s.now_us = g_get_monotonic_time ();
  s.ice = peer_->ice_state ();
  s.packets = peer_->packets ();
  s.paused = mute_set_ && mute_audio_ && mute_video_;
  for (Health h : health_.sample (s)) {
    bool retry = health_retries (cfg_.renegotiation_policy, h);
    GST_INFO_OBJECT (element_, "attempt %u: %s (ICE %s)%s", number_, health_event_name (h),
        s.ice.c_str (), retry ? ": retrying (renegotiation-policy)" : "");
    post (event_new (health_event_name (h), "ice-state", G_TYPE_STRING, s.ice.c_str (),
        "edge", G_TYPE_STRING, edge_.c_str (), "renegotiate", G_TYPE_BOOLEAN, retry, NULL));
    if (retry) {
      Failure f (Failure::Kind::CONNECTION_CLOSED,
          std::string ("the connection is unhealthy: ") + health_event_name (h));
      f.name = health_reason (h);
      fail (std::move (f));
      return;
    }
  }
  health_timer_ = worker_.add_timeout (cfg_.stats_interval_ms,
      guard ([] (WebRtcAttempt &a) { a.check_health (); }));
}

bool
WebRtcAttempt::get_stats (std::function<void (const GstStructure *stats)> done)
{
  if (!peer_)
    return false;
  peer_->get_stats (std::move (done));
  return true;
}

bool
WebRtcAttempt::send_message (const std::string &text)
{
  if (!peer_ || !cfg_.data_channel)
    return false;
  peer_->send_message (text);
  return true;
}

void
WebRtcAttempt::teardown ()
{
  worker_.remove_timeout (health_timer_);
  health_timer_ = 0;
  if (signaling_)
    signaling_->stop ();
  if (peer_)
    peer_->stop ();
  /* released here on the worker (libsoup objects belong to it) */
  signaling_.reset ();
}

/* Red5 Pro's standby message (protocol notes, section 15): the server stops (or resumes)
 * sending media, the connection stays; no acknowledgement. Kept until the channel opens
 * (and until there is a peer). */
void
WebRtcAttempt::set_muted (bool audio, bool video)
{
  mute_set_ = true;
  mute_audio_ = audio;
  mute_video_ = video;
  GST_INFO_OBJECT (element_, "attempt %u: asking the server to %s audio and %s video",
      number_, audio ? "pause" : "send", video ? "pause" : "send");
  if (peer_)
    peer_->send_message (mute_message (audio, video));
}

bool
WebRtcAttempt::send_client_message (const ClientMessage &m)
{
  if (!m.call_id.empty ()) {
    if (calls_.size () >= MAX_CALLS) {
      GST_WARNING_OBJECT (element_, "attempt %u: %zu calls unanswered, forgetting call %s",
          number_, calls_.size (), calls_.front ().call_id.c_str ());
      calls_.pop_front ();
    }
    calls_.push_back (m);
  }
  if (peer_) {
    peer_->send_message (m.text);
  } else {
    if (early_.size () >= MAX_EARLY_MESSAGES)
      early_.pop_front ();
    early_.push_back (m);
  }
  return true;
}

/* A callAdapter's answer: {"data":{"type":"result","message":..}}. Matched to its call by
 * id when the server gives one, else to the oldest call unanswered (the notes show the
 * answer to switchStreams without an id: answers are taken to come in order, inferred). A
 * confirmed switchStreams ("Stream switch: Success") is WebRTC.Subscribe.StreamSwitch; any
 * other answer, Red5Pro.Call.Result. */
void
WebRtcAttempt::handle_result (const ServerMessage &m)
{
  ClientMessage call;
  auto it = calls_.begin ();
  if (!m.id.empty ())
    while (it != calls_.end () && it->call_id != m.id)
      ++it;
  if (it != calls_.end ()) {
    call = *it;
    calls_.erase (it);
  }
  if (call.method == "switchStreams" && m.message.find ("Success") != std::string::npos) {
    GST_INFO_OBJECT (element_, "attempt %u: the server switched to %s", number_,
        call.path.c_str ());
    post (event_new (event::SUBSCRIBE_STREAM_SWITCH, "path", G_TYPE_STRING, call.path.c_str (),
        "id", G_TYPE_STRING, call.call_id.c_str (), NULL));
    listener_->attempt_stream_switched (*this, call.path);
    return;
  }
  post (event_new (event::CALL_RESULT, "id", G_TYPE_STRING,
      (call.call_id.empty () ? m.id : call.call_id).c_str (), "method", G_TYPE_STRING,
      call.method.c_str (), "message", G_TYPE_STRING, m.message.c_str (), "data",
      G_TYPE_STRING, m.result.c_str (), NULL));
}

}  // namespace red5pro
