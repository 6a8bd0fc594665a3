/* red5pro-session: one subscription attempt (lookup, webrtcbin, WHEP, output chains). */
#include "red5pro-session.h"
#include "red5pro-events.h"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/nice/nice.h>
#include <nice/agent.h>

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

namespace {

/* The codecs we can receive, by RTP encoding name (the video-codecs and audio-codecs
 * properties pick from these). Payload types only matter for standard WHEP servers, which
 * answer our offer with them; Red5 Pro offers its own. */
struct KnownCodec {
  const char *name;
  bool video;
  const char *caps;
};
const KnownCodec KNOWN_CODECS[] = {
  { "VP8", true, "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000" },
  { "H264", true, "application/x-rtp,media=video,encoding-name=H264,payload=102,"
        "clock-rate=90000,packetization-mode=(string)1,profile-level-id=(string)42e01f,"
        "level-asymmetry-allowed=(string)1" },
  { "VP9", true, "application/x-rtp,media=video,encoding-name=VP9,payload=98,clock-rate=90000" },
  { "H265", true, "application/x-rtp,media=video,encoding-name=H265,payload=104,"
        "clock-rate=90000" },
  { "OPUS", false, "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,"
        "clock-rate=48000,encoding-params=(string)2" },
  { "PCMU", false, "application/x-rtp,media=audio,encoding-name=PCMU,payload=0,clock-rate=8000" },
  { "PCMA", false, "application/x-rtp,media=audio,encoding-name=PCMA,payload=8,clock-rate=8000" },
};

/* The receive caps for these codec names; every known codec of the kind when none. */
GstCaps *
codec_caps (const std::vector<std::string> &names, bool video)
{
  GstCaps *caps = gst_caps_new_empty ();
  for (const auto &codec : KNOWN_CODECS) {
    if (codec.video != video)
      continue;
    bool wanted = names.empty ();
    for (const auto &n : names)
      wanted |= g_ascii_strcasecmp (n.c_str (), codec.name) == 0;
    if (wanted)
      gst_caps_append (caps, gst_caps_from_string (codec.caps));
  }
  return caps;
}

bool
has_attribute (const GstSDPMedia *m, const char *key)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (m); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, i);
    if (a->key && g_str_equal (a->key, key))
      return true;
  }
  return false;
}

/* What an answer says of the media of one kind: absent, refused (port 0 or inactive, or
 * flowing the wrong way), or flowing to us. ours: the answer is our own (we receive
 * with recvonly/sendrecv), else the server's (it sends with sendonly/sendrecv). */
enum class MediaState { ABSENT, REFUSED, RECEIVING };
MediaState
media_state (const GstSDPMessage *sdp, const char *kind, bool ours)
{
  MediaState state = MediaState::ABSENT;
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), kind) != 0)
      continue;
    bool to_us = gst_sdp_media_get_port (m) != 0 && !has_attribute (m, "inactive") &&
        !has_attribute (m, ours ? "sendonly" : "recvonly");
    if (to_us)
      return MediaState::RECEIVING;
    state = MediaState::REFUSED;
  }
  return state;
}

std::string
sdp_text (GstWebRTCSessionDescription *desc)
{
  char *text = gst_sdp_message_as_text (desc->sdp);
  std::string s (text);
  g_free (text);
  return s;
}

GstWebRTCSessionDescription *
description_from_text (GstWebRTCSDPType type, const std::string &text)
{
  GstSDPMessage *sdp = nullptr;
  gst_sdp_message_new (&sdp);
  if (text.empty () || gst_sdp_message_parse_buffer (reinterpret_cast<const guint8 *> (text.data ()),
          guint (text.size ()), sdp) != GST_SDP_OK) {
    gst_sdp_message_free (sdp);
    return nullptr;
  }
  return gst_webrtc_session_description_new (type, sdp);
}

/* The error a webrtcbin promise reply carries, if any. */
std::string
promise_error (GstPromise *promise)
{
  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    return "no reply";
  const GstStructure *reply = gst_promise_get_reply (promise);
  GError *err = nullptr;
  if (reply && gst_structure_has_field (reply, "error")) {
    gst_structure_get (reply, "error", G_TYPE_ERROR, &err, NULL);
    std::string s = err ? err->message : "unknown error";
    g_clear_error (&err);
    return s;
  }
  return {};
}

struct PromiseData {
  std::weak_ptr<Session> session;
  std::function<void (Session &, GstPromise *)> fn;
  Worker *worker;
};

}  // namespace

bool
codec_is_known (const std::string &name, bool video)
{
  for (const auto &codec : KNOWN_CODECS)
    if (codec.video == video && g_ascii_strcasecmp (codec.name, name.c_str ()) == 0)
      return true;
  return false;
}

std::string
known_codecs (bool video)
{
  std::string out;
  for (const auto &codec : KNOWN_CODECS)
    if (codec.video == video)
      out += (out.empty () ? "" : ", ") + std::string (codec.name);
  return out;
}

void
warn_media_unavailable (GstElement *element, const char *kind, const char *reason)
{
  const char *other = g_str_equal (kind, "video") ? "audio" : "video";
  GST_ELEMENT_WARNING (element, STREAM, FAILED,
      ("The server sends no %s (%s): a pipeline waiting on the '%s' pad of red5prosrc will "
       "not get it; set %s-codecs=\"<>\" to receive %s only", kind, reason, kind, kind, other),
      (nullptr));
}

const char *
failure_kind_name (Failure::Kind kind)
{
  switch (kind) {
    case Failure::Kind::NOT_FOUND: return "not-found";
    case Failure::Kind::UNAUTHORIZED: return "unauthorized";
    case Failure::Kind::UNREACHABLE: return "unreachable";
    case Failure::Kind::CERTIFICATE: return "certificate";
    case Failure::Kind::REFUSED: return "refused";
    case Failure::Kind::PROTOCOL: return "protocol-error";
    case Failure::Kind::CONNECTION_CLOSED: return "connection-closed";
    case Failure::Kind::UNPUBLISHED: return "unpublished";
    case Failure::Kind::INACTIVE: return "inactivity";
    case Failure::Kind::UNSUPPORTED: return "unsupported-codec";
    case Failure::Kind::INTERNAL: return "internal-error";
  }
  return "unknown";
}

Session::Session (GstElement *element, Worker &worker, SubscriberConfig cfg,
    SessionListener *listener, guint attempt)
  : element_ (element), worker_ (worker), cfg_ (std::move (cfg)), listener_ (listener),
    attempt_ (attempt), cancellable_ (g_cancellable_new ())
{
}

Session::~Session ()
{
  g_object_unref (cancellable_);
  if (local_offer_)
    gst_webrtc_session_description_free (local_offer_);
  for (auto *ch : channels_)
    g_object_unref (ch);
  if (bin_)
    gst_object_unref (bin_);
}

/* ---- marshalling ---------------------------------------------------------------- */

gpointer
Session::weak_ref_data ()
{
  return new std::weak_ptr<Session> (shared_from_this ());
}

void
Session::free_weak_ref_data (gpointer data, GClosure *)
{
  delete static_cast<std::weak_ptr<Session> *> (data);
}

std::shared_ptr<Session>
Session::from_data (gpointer data)
{
  return static_cast<std::weak_ptr<Session> *> (data)->lock ();
}

template <typename F>
void
Session::on_worker (F fn)
{
  std::weak_ptr<Session> weak = shared_from_this ();
  worker_.post ([weak, fn] () {
    auto self = weak.lock ();
    if (self && !self->stopped_)
      fn (*self);
  });
}

/* A promise whose reply is handled on the worker, if the session still runs. */
static GstPromise *
promise_on_worker (Session &session, Worker &worker,
    std::function<void (Session &, GstPromise *)> fn)
{
  auto *pd = new PromiseData { session.shared_from_this (), std::move (fn), &worker };
  return gst_promise_new_with_change_func (
      [] (GstPromise *promise, gpointer data) {
        auto *pd = static_cast<PromiseData *> (data);
        gst_promise_ref (promise);
        auto weak = pd->session;
        auto fn = pd->fn;
        bool posted = pd->worker->post ([weak, fn, promise] () {
          auto self = weak.lock ();
          if (self)
            fn (*self, promise);
          gst_promise_unref (promise);
        });
        if (!posted)
          gst_promise_unref (promise);
      },
      pd, [] (gpointer data) { delete static_cast<PromiseData *> (data); });
}

void
Session::post (GstStructure *event)
{
  /* nothing a server echoes back may leak a secret into the bus */
  std::vector<std::string> secrets = cfg_.secrets ();
  if (!secrets.empty ()) {
    gst_structure_map_in_place (event, [] (GQuark, GValue *v, gpointer data) -> gboolean {
      if (G_VALUE_HOLDS_STRING (v) && g_value_get_string (v)) {
        auto *sec = static_cast<std::vector<std::string> *> (data);
        g_value_set_string (v, redact (g_value_get_string (v), *sec).c_str ());
      }
      return TRUE;
    }, &secrets);
  }
  gst_structure_set (event, "attempt", G_TYPE_UINT, attempt_, NULL);
  event_post (element_, event);
}

void
Session::fail (Failure::Kind kind, std::string reason, guint http_status)
{
  if (failed_ || stopped_)
    return;
  failed_ = true;
  reason = redact (std::move (reason), cfg_.secrets ());
  GST_WARNING_OBJECT (element_, "attempt %u failed (%s): %s", attempt_,
      failure_kind_name (kind), reason.c_str ());
  post (event_new (event::SUBSCRIBE_FAIL, "reason", G_TYPE_STRING, failure_kind_name (kind),
      "message", G_TYPE_STRING, reason.c_str (), "edge", G_TYPE_STRING, edge_.c_str (),
      "http-status", G_TYPE_UINT, http_status, NULL));
  Failure f;
  f.kind = kind;
  f.http_status = http_status;
  f.reason = std::move (reason);
  f.edge = edge_;
  listener_->session_failed (*this, f);
}

/* ---- the attempt, step by step ---------------------------------------------------- */

void
Session::start ()
{
  GST_INFO_OBJECT (element_, "attempt %u: subscribing to %s", attempt_,
      cfg_.stream_name.c_str ());
  /* no lookup: a standalone server, or the SM 2.0 proxy, which picks the edge itself */
  if (cfg_.stream_manager == StreamManagerMode::NONE ||
      (cfg_.use_proxy && cfg_.stream_manager == StreamManagerMode::SM2)) {
    edge_ = cfg_.host;
    app_ = cfg_.app;
    create_peer ();
    return;
  }
  std::weak_ptr<Session> weak = shared_from_this ();
  lookup_edge (worker_, cfg_, cancellable_, [weak] (const LookupOutcome &o) {
    auto self = weak.lock ();
    if (self && !self->stopped_)
      self->on_lookup (o);
  });
}

void
Session::on_lookup (const LookupOutcome &o)
{
  using K = LookupOutcome::Kind;
  if (o.kind != K::OK) {
    const char *reason = o.kind == K::CERTIFICATE ? "certificate"
        : o.kind == K::UNAUTHORIZED ? "unauthorized"
        : o.kind == K::NOT_FOUND ? "not-found"
        : o.kind == K::UNREACHABLE ? "unreachable"
        : o.kind == K::SERVER_ERROR ? "server-error" : "bad-response";
    post (event_new (event::CONNECT_FAILURE, "reason", G_TYPE_STRING, reason, "message",
        G_TYPE_STRING, o.reason.c_str (), "http-status", G_TYPE_UINT, o.http_status,
        "stream-name", G_TYPE_STRING, cfg_.stream_name.c_str (), NULL));
    switch (o.kind) {
      case K::UNAUTHORIZED:
        fail (Failure::Kind::UNAUTHORIZED, o.reason, o.http_status);
        break;
      case K::NOT_FOUND:
        post (event_new (event::SUBSCRIBE_INVALID_NAME, "stream-name", G_TYPE_STRING,
            cfg_.stream_name.c_str (), "http-status", G_TYPE_UINT, o.http_status, NULL));
        fail (Failure::Kind::NOT_FOUND, o.reason, o.http_status);
        break;
      case K::UNREACHABLE:
        fail (Failure::Kind::UNREACHABLE, o.reason);
        break;
      case K::CERTIFICATE:
        fail (Failure::Kind::CERTIFICATE, o.reason);
        break;
      case K::SERVER_ERROR:
        fail (Failure::Kind::REFUSED, o.reason, o.http_status);
        break;
      default:
        fail (Failure::Kind::PROTOCOL, o.reason, o.http_status);
        break;
    }
    return;
  }
  edge_ = o.edge.address;
  app_ = o.edge.app.empty () ? cfg_.app : o.edge.app;
  post (event_new (event::EDGE_RESOLVED, "edge", G_TYPE_STRING, edge_.c_str (),
      "app", G_TYPE_STRING, app_.c_str (), "region", G_TYPE_STRING, o.edge.region.c_str (),
      NULL));
  create_peer ();
}

void
Session::create_peer ()
{
  char *name = g_strdup_printf ("attempt-%u", attempt_);
  bin_ = GST_BIN (gst_object_ref_sink (gst_bin_new (name)));
  g_free (name);
  webrtc_ = gst_element_factory_make ("webrtcbin", nullptr);
  if (!webrtc_) {
    fail (Failure::Kind::INTERNAL, "the webrtcbin element is missing (gst-plugins-bad)");
    return;
  }
  /* max-compat: offers like a browser's, every m-line on port 9 in one BUNDLE group.
   * max-bundle would mark all but the first bundle-only with port 0, which several WHEP
   * servers read as "rejected" and answer inactive (the audio never comes). Both bundle
   * the media on one transport once the answer accepts the group. */
  g_object_set (webrtc_, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_COMPAT,
      "latency", cfg_.latency_ms, NULL);
  if (!cfg_.stun_server.empty ())
    g_object_set (webrtc_, "stun-server", cfg_.stun_server.c_str (), NULL);
  if (!cfg_.turn_server.empty ())
    g_object_set (webrtc_, "turn-server", cfg_.turn_server.c_str (), NULL);
  gst_bin_add (bin_, webrtc_);

  if (GstElement *rtpbin = gst_bin_get_by_name (GST_BIN (webrtc_), "rtpbin")) {
    /* Timestamps from the sender's RTP clock, from the first packet on: they only go
     * forward. The default (slave) derives them from arrival times, and a stalled sender
     * or a busy machine makes it repeat one time for runs of frames, which encoders and
     * muxers refuse ("Buffer has no PTS" from mp4mux after x264enc). */
    gst_util_set_object_arg (G_OBJECT (rtpbin), "buffer-mode", "synced");
    /* the jitter buffers' input is the network's heartbeat */
    g_signal_connect_data (rtpbin, "new-jitterbuffer", G_CALLBACK (on_new_jitterbuffer_cb),
        weak_ref_data (), free_weak_ref_data, GConnectFlags (0));
    gst_object_unref (rtpbin);
  }

  if (!cfg_.ice_addresses.empty ()) {
    /* Host candidates only on these addresses (libnice gathers on all interfaces
     * otherwise). The agent is libnice's, behind GstWebRTCNice. */
    GstWebRTCICE *ice = nullptr;
    g_object_get (webrtc_, "ice-agent", &ice, NULL);
    NiceAgent *agent = nullptr;
    if (ice && GST_IS_WEBRTC_NICE (ice))
      g_object_get (ice, "agent", &agent, NULL);
    for (const auto &addr : cfg_.ice_addresses) {
      NiceAddress na;
      nice_address_init (&na);
      if (agent && nice_address_set_from_string (&na, addr.c_str ()))
        nice_agent_add_local_address (agent, &na);
      else
        GST_WARNING_OBJECT (element_, "ignoring ICE address '%s'", addr.c_str ());
    }
    g_clear_object (&agent);
    gst_clear_object (&ice);
  }

  /* One transceiver per kind. A kind we do not want (no codec) is inactive, so that a
   * server's offer of it is answered inactive instead of getting a receiver of its own. */
  for (bool video : { true, false }) {
    const auto &codecs = video ? cfg_.video_codecs : cfg_.audio_codecs;
    GstCaps *caps = codec_caps (codecs, video);
    GstWebRTCRTPTransceiver *trans = nullptr;
    g_signal_emit_by_name (webrtc_, "add-transceiver", codecs.empty ()
        ? GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE
        : GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &trans);
    /* lost video packets are asked for again (NACK), as a browser does */
    if (trans && video)
      g_object_set (trans, "do-nack", TRUE, NULL);
    gst_caps_unref (caps);
    gst_clear_object (&trans);
  }

  auto connect = [this] (const char *signal, GCallback cb) {
    g_signal_connect_data (webrtc_, signal, cb, weak_ref_data (),
        free_weak_ref_data, GConnectFlags (0));
  };
  connect ("on-ice-candidate", G_CALLBACK (on_ice_candidate_cb));
  connect ("notify::ice-gathering-state", G_CALLBACK (on_gathering_state_cb));
  connect ("notify::connection-state", G_CALLBACK (on_connection_state_cb));
  connect ("pad-added", G_CALLBACK (on_pad_added_cb));
  connect ("on-data-channel", G_CALLBACK (on_data_channel_cb));

  gst_bin_add (GST_BIN (element_), GST_ELEMENT (bin_));
  if (!gst_element_sync_state_with_parent (GST_ELEMENT (bin_))) {
    fail (Failure::Kind::INTERNAL, "could not start webrtcbin");
    return;
  }
  post (event_new (event::PEER_CONNECTION_AVAILABLE));

  if (cfg_.signaling == Signaling::WEBSOCKET) {
    /* the server offers, with its data channel when we ask for one */
    connect_websocket ();
    return;
  }

  if (cfg_.data_channel) {
    GstWebRTCDataChannel *channel = nullptr;
    g_signal_emit_by_name (webrtc_, "create-data-channel", "red5pro", NULL, &channel);
    if (channel)
      watch_data_channel (channel, false);
    else
      GST_WARNING_OBJECT (element_, "could not create the red5pro data channel");
  }

  GstPromise *promise = promise_on_worker (*this, worker_, [] (Session &s, GstPromise *p) {
    if (s.stopped_)
      return;
    std::string err = promise_error (p);
    GstWebRTCSessionDescription *offer = nullptr;
    const GstStructure *reply = gst_promise_get_reply (p);
    if (err.empty () && reply)
      gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
    if (!offer) {
      s.fail (Failure::Kind::INTERNAL, "webrtcbin could not create an offer: " + err);
      return;
    }
    s.on_offer_created (offer);
  });
  g_signal_emit_by_name (webrtc_, "create-offer", NULL, promise);
  gst_promise_unref (promise);
}

void
Session::connect_websocket ()
{
  ws_ = std::make_shared<WebSocketClient> (worker_, websocket_url (cfg_, edge_, app_), cfg_,
      cancellable_);
  std::weak_ptr<Session> weak = shared_from_this ();
  auto guard = [weak] (auto fn) {
    return [weak, fn] (auto &&...args) {
      auto self = weak.lock ();
      if (self && !self->stopped_)
        fn (*self, args...);
    };
  };
  WebSocketClient::Handlers h;
  h.connected = guard ([] (Session &s) {
    s.post (event_new (event::CONNECT_SUCCESS, "edge", G_TYPE_STRING, s.edge_.c_str (), NULL));
  });
  h.offer = guard ([] (Session &s, const std::string &sdp) {
    if (classify_sdp (sdp) != SdpKind::OFFER) {
      s.fail (Failure::Kind::PROTOCOL, "the server's offer is not an SDP offer");
      return;
    }
    s.apply_server_offer (sdp);
  });
  h.candidate = guard ([] (Session &s, const IceCandidate &c) {
    if (c.candidate.empty ()) {
      s.post (event_new (event::CANDIDATE_END));
      return;
    }
    g_signal_emit_by_name (s.webrtc_, "add-ice-candidate", c.mline, c.candidate.c_str ());
  });
  h.message = guard ([] (Session &s, const ServerMessage &m) {
    s.handle_server_message (m, false);
  });
  h.failed = guard ([] (Session &s, WebSocketClient::Failure f, const std::string &why) {
    using F = WebSocketClient::Failure;
    switch (f) {
      case F::UNREACHABLE:
        s.post (event_new (event::CONNECT_FAILURE, "reason", G_TYPE_STRING, "unreachable",
            "message", G_TYPE_STRING, why.c_str (), "edge", G_TYPE_STRING, s.edge_.c_str (),
            NULL));
        s.fail (Failure::Kind::UNREACHABLE, why);
        break;
      case F::CERTIFICATE:
        s.post (event_new (event::CONNECT_FAILURE, "reason", G_TYPE_STRING, "certificate",
            "message", G_TYPE_STRING, why.c_str (), "edge", G_TYPE_STRING, s.edge_.c_str (),
            NULL));
        s.fail (Failure::Kind::CERTIFICATE, why);
        break;
      case F::REJECTED:
        s.post (event_new (event::CONNECT_FAILURE, "reason", G_TYPE_STRING, "unauthorized",
            "message", G_TYPE_STRING, why.c_str (), "edge", G_TYPE_STRING, s.edge_.c_str (),
            NULL));
        s.fail (Failure::Kind::UNAUTHORIZED, why);
        break;
      case F::UNAVAILABLE:
        s.post (event_new (event::SUBSCRIBE_INVALID_NAME, "stream-name", G_TYPE_STRING,
            s.cfg_.stream_name.c_str (), "edge", G_TYPE_STRING, s.edge_.c_str (), NULL));
        s.fail (Failure::Kind::NOT_FOUND, why);
        break;
      case F::CLOSED:
        s.post (event_new (event::SUBSCRIBE_CONNECTION_CLOSED, "edge", G_TYPE_STRING,
            s.edge_.c_str (), NULL));
        s.fail (Failure::Kind::CONNECTION_CLOSED, why);
        break;
    }
  });
  GST_INFO_OBJECT (element_, "WebSocket signaling via %s", redact_url (ws_->url ()).c_str ());
  ws_->connect (std::move (h));
}

void
Session::post_started ()
{
  if (!started_.exchange (true))
    post (event_new (event::SUBSCRIBE_START, "edge", G_TYPE_STRING, edge_.c_str (),
        "stream-name", G_TYPE_STRING, cfg_.stream_name.c_str (), NULL));
}

void
Session::on_offer_created (GstWebRTCSessionDescription *offer)
{
  /* Not applied locally yet: Red5 Pro answers a POST with its own offer, and webrtcbin
   * cannot take a remote offer while it holds a local one (no rollback in 1.22). */
  local_offer_ = offer;
  whep_ = std::make_shared<WhepClient> (worker_, whep_endpoint_url (cfg_, edge_, app_),
      cfg_.auth_token, cancellable_);
  GST_INFO_OBJECT (element_, "WHEP POST %s", redact_url (whep_->endpoint ()).c_str ());
  std::weak_ptr<Session> weak = shared_from_this ();
  whep_->post_offer (sdp_text (offer), [weak] (const WhepOutcome &r) {
    auto self = weak.lock ();
    if (self && !self->stopped_)
      self->on_post_response (r);
  });
}

void
Session::on_post_response (const WhepOutcome &r)
{
  using K = WhepOutcome::Kind;
  if (r.kind != K::OK) {
    const char *why = r.kind == K::UNAUTHORIZED ? "unauthorized"
        : r.kind == K::CERTIFICATE ? "certificate"
        : r.kind == K::NOT_FOUND ? "not-found"
        : r.kind == K::UNREACHABLE ? "unreachable"
        : r.kind == K::REFUSED ? "refused" : "bad-response";
    post (event_new (event::CONNECT_FAILURE, "reason", G_TYPE_STRING, why,
        "message", G_TYPE_STRING, r.reason.c_str (), "http-status", G_TYPE_UINT,
        r.http_status, "edge", G_TYPE_STRING, edge_.c_str (), NULL));
    switch (r.kind) {
      case K::NOT_FOUND:
        post (event_new (event::SUBSCRIBE_INVALID_NAME, "stream-name", G_TYPE_STRING,
            cfg_.stream_name.c_str (), "edge", G_TYPE_STRING, edge_.c_str (),
            "http-status", G_TYPE_UINT, r.http_status, NULL));
        fail (Failure::Kind::NOT_FOUND, r.reason, r.http_status);
        break;
      case K::UNAUTHORIZED:
        fail (Failure::Kind::UNAUTHORIZED, r.reason, r.http_status);
        break;
      case K::UNREACHABLE:
        fail (Failure::Kind::UNREACHABLE, r.reason);
        break;
      case K::CERTIFICATE:
        fail (Failure::Kind::CERTIFICATE, r.reason);
        break;
      default:
        fail (Failure::Kind::REFUSED, r.reason, r.http_status);
        break;
    }
    return;
  }
  post (event_new (event::CONNECT_SUCCESS, "edge", G_TYPE_STRING, edge_.c_str (),
      "http-status", G_TYPE_UINT, r.http_status, NULL));
  switch (classify_sdp (r.body)) {
    case SdpKind::OFFER:
      apply_server_offer (r.body);
      break;
    case SdpKind::ANSWER:
      apply_server_answer (r.body);
      break;
    case SdpKind::INVALID:
      fail (Failure::Kind::PROTOCOL, "the WHEP response carries no usable SDP", r.http_status);
      break;
  }
}

/* Red5 Pro flavour: the server's offer, our answer by PATCH. */
void
Session::apply_server_offer (const std::string &sdp)
{
  GST_INFO_OBJECT (element_, "the edge answered with its own offer (Red5 Pro WHEP)");
  GstWebRTCSessionDescription *offer = description_from_text (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  if (!offer) {
    fail (Failure::Kind::PROTOCOL, "the server's offer does not parse");
    return;
  }
  post (event_new (event::OFFER_START));
  GstPromise *promise = promise_on_worker (*this, worker_, [] (Session &s, GstPromise *p) {
    if (s.stopped_)
      return;
    std::string err = promise_error (p);
    if (!err.empty ()) {
      s.fail (Failure::Kind::PROTOCOL, "could not apply the server's offer: " + err);
      return;
    }
    s.on_remote_offer_set ();
  });
  g_signal_emit_by_name (webrtc_, "set-remote-description", offer, promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (offer);
}

void
Session::on_remote_offer_set ()
{
  post (event_new (event::OFFER_END));
  post (event_new (event::ANSWER_START));
  GstPromise *promise = promise_on_worker (*this, worker_, [] (Session &s, GstPromise *p) {
    if (s.stopped_)
      return;
    std::string err = promise_error (p);
    GstWebRTCSessionDescription *answer = nullptr;
    const GstStructure *reply = gst_promise_get_reply (p);
    if (err.empty () && reply)
      gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
    if (!answer) {
      s.fail (Failure::Kind::PROTOCOL, "webrtcbin could not answer the server's offer: " + err);
      return;
    }
    s.on_answer_created (answer);
  });
  g_signal_emit_by_name (webrtc_, "create-answer", NULL, promise);
  gst_promise_unref (promise);
}

void
Session::on_answer_created (GstWebRTCSessionDescription *answer)
{
  g_signal_emit_by_name (webrtc_, "set-local-description", answer, NULL);
  std::string text = sdp_text (answer);
  negotiated (answer->sdp, true);
  gst_webrtc_session_description_free (answer);
  if (failed_)
    return;
  if (ws_) {
    ws_->send_answer (text);
    post (event_new (event::ANSWER_END));
    answer_done_ = true;
    /* candidates gathered so far, then the rest as they come */
    for (const auto &c : local_candidates_)
      ws_->send_candidate (with_mid (c));
    if (gathering_complete_)
      send_end_of_candidates ();
    return;
  }
  std::weak_ptr<Session> weak = shared_from_this ();
  whep_->patch_answer (text, [weak] (const WhepOutcome &r) {
    auto self = weak.lock ();
    if (!self || self->stopped_)
      return;
    if (r.kind != WhepOutcome::Kind::OK) {
      self->fail (r.kind == WhepOutcome::Kind::NOT_FOUND ? Failure::Kind::NOT_FOUND
                                                         : Failure::Kind::REFUSED,
          "the edge refused our answer: " + r.reason, r.http_status);
      return;
    }
    self->post (event_new (event::ANSWER_END));
    self->answer_done_ = true;
    self->maybe_send_candidates ();
  });
}

/* Standard WHEP: the server answered our offer. */
void
Session::apply_server_answer (const std::string &sdp)
{
  GST_INFO_OBJECT (element_, "the edge answered our offer (standard WHEP)");
  GstWebRTCSessionDescription *answer =
      description_from_text (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  if (!answer) {
    fail (Failure::Kind::PROTOCOL, "the server's answer does not parse");
    return;
  }
  g_signal_emit_by_name (webrtc_, "set-local-description", local_offer_, NULL);
  GstPromise *promise = promise_on_worker (*this, worker_, [] (Session &s, GstPromise *p) {
    if (s.stopped_)
      return;
    std::string err = promise_error (p);
    if (!err.empty ()) {
      s.fail (Failure::Kind::PROTOCOL, "could not apply the server's answer: " + err);
      return;
    }
    s.answer_done_ = true;
    s.maybe_send_candidates ();
  });
  g_signal_emit_by_name (webrtc_, "set-remote-description", answer, promise);
  gst_promise_unref (promise);
  negotiated (answer->sdp, false);
  gst_webrtc_session_description_free (answer);
}

/* True when name is in a list as offered_codecs() writes it. */
static bool
codec_listed (const std::string &list, const std::string &name)
{
  gchar **parts = g_strsplit (list.c_str (), ", ", -1);
  bool found = false;
  for (gchar **p = parts; *p && !found; p++)
    found = g_ascii_strcasecmp (*p, name.c_str ()) == 0;
  g_strfreev (parts);
  return found;
}

/* The RTP encoding names a server's m-line of that kind offers (not retransmission or FEC). */
static std::string
offered_codecs (const GstSDPMessage *sdp, const char *kind)
{
  std::string out;
  for (guint i = 0; sdp && i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), kind) != 0)
      continue;
    for (guint f = 0; f < gst_sdp_media_formats_len (m); f++) {
      GstCaps *caps = gst_sdp_media_get_caps_from_media (m,
          (gint) g_ascii_strtoll (gst_sdp_media_get_format (m, f), nullptr, 10));
      const char *name = caps && !gst_caps_is_empty (caps)
          ? gst_structure_get_string (gst_caps_get_structure (caps, 0), "encoding-name")
          : nullptr;
      if (name && !g_str_equal (name, "RTX") && !g_str_equal (name, "RED") &&
          !g_str_equal (name, "ULPFEC") && !g_str_equal (name, "FLEXFEC-03") &&
          out.find (name) == std::string::npos)
        out += (out.empty () ? "" : ", ") + std::string (name);
      gst_clear_caps (&caps);
    }
  }
  return out;
}

/* Both descriptions are in place: which media will come. A medium we want that the server
 * refuses or does not offer is said with an event and not waited for; one the server offers
 * only in codecs we cannot receive is the end (no edge would send it otherwise). */
void
Session::negotiated (const GstSDPMessage *answer, bool ours)
{
  GstWebRTCSessionDescription *remote = nullptr;
  if (ours)
    g_object_get (webrtc_, "remote-description", &remote, NULL);
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
      accepted_codec |= codec_listed (offered_codecs (answer, kind), c);
    if (state == MediaState::RECEIVING && accepted_codec)
      continue;
    std::string offered = remote ? offered_codecs (remote->sdp, kind) : "";
    if (!offered.empty () && media_state (remote->sdp, kind, false) == MediaState::RECEIVING) {
      std::string accepted;
      for (const auto &c : wanted)
        accepted += (accepted.empty () ? "" : ", ") + c;
      fail (Failure::Kind::UNSUPPORTED, std::string ("the server sends ") + kind + " as " +
          offered + " only, which " + (video ? "video-codecs" : "audio-codecs") + " (" +
          accepted + ") does not accept");
      break;
    }
    const char *reason = state == MediaState::ABSENT ? "not-offered" : "refused";
    GST_WARNING_OBJECT (element_, "attempt %u: no %s will come (%s)", attempt_, kind, reason);
    post (event_new (event::MEDIA_UNAVAILABLE, "kind", G_TYPE_STRING, kind, "reason",
        G_TYPE_STRING, reason, "edge", G_TYPE_STRING, edge_.c_str (), NULL));
    warn_media_unavailable (element_, kind, reason);
  }
  if (remote)
    gst_webrtc_session_description_free (remote);
  if (!failed_)
    listener_->session_media_expected (*this, receiving[0], receiving[1]);
}

void
Session::on_ice_candidate (guint mline, const std::string &candidate)
{
  IceCandidate c;
  c.mline = mline;
  c.candidate = candidate;
  if (ws_ && answer_done_)
    ws_->send_candidate (with_mid (c));
  local_candidates_.push_back (std::move (c));
}

/* The candidate's mid, from our local description. */
IceCandidate
Session::with_mid (IceCandidate c) const
{
  GstWebRTCSessionDescription *local = nullptr;
  g_object_get (webrtc_, "local-description", &local, NULL);
  const GstSDPMedia *m = local && c.mline < gst_sdp_message_medias_len (local->sdp) ?
      gst_sdp_message_get_media (local->sdp, c.mline) : nullptr;
  const char *mid = m ? gst_sdp_media_get_attribute_val (m, "mid") : nullptr;
  c.mid = mid ? mid : std::to_string (c.mline);
  if (local)
    gst_webrtc_session_description_free (local);
  return c;
}

void
Session::send_end_of_candidates ()
{
  IceCandidate end;
  end.mline = 0;
  ws_->send_candidate (with_mid (end));
  post (event_new (event::CANDIDATE_START));
}

void
Session::on_gathering_complete ()
{
  if (gathering_complete_)
    return;
  gathering_complete_ = true;
  post (event_new (event::ICE_TRICKLE_COMPLETE, "candidates", G_TYPE_UINT,
      guint (local_candidates_.size ()), NULL));
  if (ws_) {
    if (answer_done_)
      send_end_of_candidates ();
    return;
  }
  maybe_send_candidates ();
}

/* Once the local description is in place and gathering is over, one trickle PATCH with
 * all our candidates. Servers that do not trickle may refuse it: that is not fatal. */
void
Session::maybe_send_candidates ()
{
  if (!gathering_complete_ || !answer_done_ || candidates_sent_ || !whep_ ||
      whep_->resource ().empty ())
    return;
  candidates_sent_ = true;

  GstWebRTCSessionDescription *local = nullptr;
  g_object_get (webrtc_, "local-description", &local, NULL);
  if (!local)
    return;
  std::string ufrag, pwd;
  const GstSDPMessage *sdp = local->sdp;
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    const char *u = gst_sdp_media_get_attribute_val (m, "ice-ufrag");
    const char *p = gst_sdp_media_get_attribute_val (m, "ice-pwd");
    if (u && p) {
      ufrag = u;
      pwd = p;
      break;
    }
  }
  std::vector<IceCandidate> cands = local_candidates_;
  for (auto &c : cands) {
    const GstSDPMedia *m = c.mline < gst_sdp_message_medias_len (sdp) ?
        gst_sdp_message_get_media (sdp, c.mline) : nullptr;
    const char *mid = m ? gst_sdp_media_get_attribute_val (m, "mid") : nullptr;
    c.mid = mid ? mid : std::to_string (c.mline);
  }
  gst_webrtc_session_description_free (local);
  if (cands.empty ())
    return;
  IceCandidate end = cands.front ();
  end.candidate.clear ();
  cands.push_back (end);

  post (event_new (event::CANDIDATE_START));
  std::weak_ptr<Session> weak = shared_from_this ();
  whep_->patch_candidates (build_sdpfrag (ufrag, pwd, cands), [weak] (const WhepOutcome &r) {
    auto self = weak.lock ();
    if (!self || self->stopped_)
      return;
    if (r.kind != WhepOutcome::Kind::OK) {
      GST_WARNING_OBJECT (self->element_, "trickle PATCH refused (%s); relying on "
          "candidates in the SDP and peer-reflexive ones", r.reason.c_str ());
      return;
    }
    /* the answer may carry the server's candidates */
    guint n = 0;
    GstWebRTCSessionDescription *remote = nullptr;
    g_object_get (self->webrtc_, "remote-description", &remote, NULL);
    for (const auto &c : parse_sdpfrag (r.body)) {
      guint mline = 0;   /* bundled: the first m-line unless the mid says otherwise */
      for (guint i = 0; remote && i < gst_sdp_message_medias_len (remote->sdp); i++) {
        const char *mid = gst_sdp_media_get_attribute_val (
            gst_sdp_message_get_media (remote->sdp, i), "mid");
        if (mid && c.mid == mid)
          mline = i;
      }
      g_signal_emit_by_name (self->webrtc_, "add-ice-candidate", mline, c.candidate.c_str ());
      n++;
    }
    if (remote)
      gst_webrtc_session_description_free (remote);
    self->post (event_new (event::CANDIDATE_END, "server-candidates", G_TYPE_UINT, n, NULL));
  });
}

void
Session::on_connection_state (GstWebRTCPeerConnectionState state)
{
  GST_INFO_OBJECT (element_, "attempt %u: peer connection %d", attempt_, int (state));
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED ||
      state == GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED) {
    post (event_new (event::SUBSCRIBE_CONNECTION_CLOSED, "edge", G_TYPE_STRING, edge_.c_str (),
        NULL));
    fail (Failure::Kind::CONNECTION_CLOSED,
        state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED ? "peer connection failed"
                                                         : "peer connection closed");
  }
}

void
Session::watch_data_channel (GstWebRTCDataChannel *channel, bool remote)
{
  channels_.push_back (channel);   /* takes the caller's reference */
  auto connect = [&] (const char *signal, GCallback cb) {
    g_signal_connect_data (channel, signal, cb, weak_ref_data (), free_weak_ref_data,
        GConnectFlags (0));
  };
  connect ("on-open", G_CALLBACK (on_dc_open_cb));
  connect ("on-close", G_CALLBACK (on_dc_close_cb));
  connect ("on-error", G_CALLBACK (on_dc_error_cb));
  connect ("on-message-string", G_CALLBACK (on_dc_message_cb));
  if (remote) {
    char *label = nullptr;
    g_object_get (channel, "label", &label, NULL);
    post (event_new (event::DATA_CHANNEL_AVAILABLE, "label", G_TYPE_STRING, label, NULL));
    g_free (label);
  }
}

/* Sections 3, 4 and 12 of the protocol notes: what each server message means to us. */
void
Session::handle_server_message (const ServerMessage &m, bool data_channel)
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
        fail (Failure::Kind::UNPUBLISHED, "the publisher unpublished the stream");
      } else if (m.is_status (status::CONNECT_CLOSED)) {
        post (event_new (event::SUBSCRIBE_CONNECTION_CLOSED, "edge", G_TYPE_STRING,
            edge_.c_str (), NULL));
        fail (Failure::Kind::CONNECTION_CLOSED, "the server closed the connection");
      } else if (m.is_status (status::STREAM_NOT_FOUND)) {
        post (event_new (event::SUBSCRIBE_INVALID_NAME, "stream-name", G_TYPE_STRING,
            cfg_.stream_name.c_str (), "edge", G_TYPE_STRING, edge_.c_str (), NULL));
        fail (Failure::Kind::NOT_FOUND, "the server does not have the stream");
      } else if (m.message == cfg_.stream_name + " starting") {
        post_started ();
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
Session::handle_metadata (const GstStructure *md)
{
  if (!md)
    return;
  post (event_new (event::SUBSCRIBE_METADATA, "metadata", GST_TYPE_STRUCTURE, md, NULL));
  /* values may come as numbers or strings */
  auto number = [md] (const char *field) -> gint64 {
    const GValue *v = gst_structure_get_value (md, field);
    if (!v)
      return -1;
    if (G_VALUE_HOLDS_INT64 (v))
      return g_value_get_int64 (v);
    if (G_VALUE_HOLDS_DOUBLE (v))
      return gint64 (g_value_get_double (v));
    if (G_VALUE_HOLDS_STRING (v) && g_value_get_string (v))
      return g_ascii_strtoll (g_value_get_string (v), nullptr, 10);
    return -1;
  };
  auto text = [md] (const char *field) -> std::string {
    const GValue *v = gst_structure_get_value (md, field);
    if (!v)
      return {};
    char *s = G_VALUE_HOLDS_STRING (v) ? g_value_dup_string (v) : gst_value_serialize (v);
    std::string out (s ? s : "");
    g_free (s);
    return out;
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

void
Session::child_error (const std::string &message, bool downstream)
{
  /* a pipeline that cannot take our output will not take it from another edge either */
  fail (downstream ? Failure::Kind::INTERNAL : Failure::Kind::CONNECTION_CLOSED, message);
}

bool
Session::owns (GstObject *object) const
{
  return bin_ && object && gst_object_has_as_ancestor (object, GST_OBJECT (bin_));
}

/* ---- output chains (streaming thread) --------------------------------------------- */

GstElement *
Session::make_chain_element (GstElementFactoryListType type, GstCaps *caps,
    GstPadDirection direction, GstRank min_rank)
{
  GList *all = gst_element_factory_list_get_elements (type, min_rank);
  GList *matching = gst_element_factory_list_filter (all, caps, direction, FALSE);
  matching = g_list_sort (matching, gst_plugin_feature_rank_compare_func);
  /* Prefer a factory that takes every caps we may send it: one that only intersects
   * (vp8alphadecodebin wants codec-alpha=true) would refuse the real caps later. */
  GList *pick = nullptr;
  for (GList *l = matching; l && !pick; l = l->next) {
    GstElementFactory *f = GST_ELEMENT_FACTORY (l->data);
    if (direction == GST_PAD_SINK ? gst_element_factory_can_sink_all_caps (f, caps)
                                  : gst_element_factory_can_src_all_caps (f, caps))
      pick = l;
  }
  GstElement *el = pick ? gst_element_factory_create (GST_ELEMENT_FACTORY (pick->data), nullptr)
                        : nullptr;
  for (GList *l = matching; l && !el; l = l->next)
    el = gst_element_factory_create (GST_ELEMENT_FACTORY (l->data), nullptr);
  gst_plugin_feature_list_free (matching);
  gst_plugin_feature_list_free (all);
  return el;
}

/* The caps an element's always-src template produces. */
static GstCaps *
src_template_caps (GstElement *el)
{
  GstPad *pad = gst_element_get_static_pad (el, "src");
  GstCaps *caps = pad ? gst_pad_get_pad_template_caps (pad) : gst_caps_new_any ();
  gst_clear_object (&pad);
  return caps;
}

void
Session::on_pad_added (GstPad *pad)
{
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  std::unique_lock<std::mutex> guard (pads_lock_);
  if (stopped_)
    return;

  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, nullptr);
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  const char *media = s ? gst_structure_get_string (s, "media") : nullptr;
  const char *encoding = s ? gst_structure_get_string (s, "encoding-name") : nullptr;
  bool video = g_strcmp0 (media, "video") == 0;
  bool audio = g_strcmp0 (media, "audio") == 0;
  const char *kind = video ? "video" : audio ? "audio" : "other";
  GST_INFO_OBJECT (element_, "webrtcbin pad %s: %" GST_PTR_FORMAT, GST_PAD_NAME (pad), caps);
  post (event_new (event::PEER_CONNECTION_ON_TRACK, "kind", G_TYPE_STRING, kind,
      "encoding-name", G_TYPE_STRING, encoding ? encoding : "", NULL));

  bool wanted = (video && !have_video_ && !cfg_.video_codecs.empty ()) ||
      (audio && !have_audio_ && !cfg_.audio_codecs.empty ());
  std::vector<GstElement *> chain;
  std::string unsupported;   /* why the stream cannot go out */
  if (wanted) {
    GstElement *depay = make_chain_element (GST_ELEMENT_FACTORY_TYPE_DEPAYLOADER, caps,
        GST_PAD_SINK, GST_RANK_MARGINAL);
    if (depay) {
      /* a new attempt starts mid-stream: ask for a key frame and drop until it comes */
      for (const char *prop : { "request-keyframe", "wait-for-keyframe" }) {
        if (g_object_class_find_property (G_OBJECT_GET_CLASS (depay), prop))
          g_object_set (depay, prop, TRUE, NULL);
      }
      chain.push_back (depay);
      GstCaps *out = src_template_caps (depay);
      GstElement *parse = make_chain_element (GST_ELEMENT_FACTORY_TYPE_PARSER, out,
          GST_PAD_SINK, GST_RANK_NONE);
      if (parse) {
        chain.push_back (parse);
        gst_caps_unref (out);
        out = src_template_caps (parse);
      }
      if (cfg_.decode) {
        GstElement *dec = make_chain_element (GST_ELEMENT_FACTORY_TYPE_DECODER, out,
            GST_PAD_SINK, GST_RANK_MARGINAL);
        if (dec)
          chain.push_back (dec);
        else
          unsupported = std::string ("no decoder for ") + kind + " " +
              (encoding ? encoding : "?") + " is installed (decode=true)";
      }
      gst_caps_unref (out);
    } else {
      unsupported = std::string ("no RTP depayloader for ") + kind + " " +
          (encoding ? encoding : "?") + " is installed";
    }
  }
  gst_caps_unref (caps);
  if (!unsupported.empty ()) {
    for (auto *el : chain)
      gst_object_unref (gst_object_ref_sink (el));
    chain.clear ();
    /* another edge would send the same codec: the end, with its name */
    on_worker ([unsupported] (Session &s) {
      s.fail (Failure::Kind::UNSUPPORTED, unsupported);
    });
  }

  if (chain.empty ()) {
    /* a stream we do not expose: swallow it so that webrtcbin is not not-linked */
    GstElement *sink = gst_element_factory_make ("fakesink", nullptr);
    g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
    chain.push_back (sink);
  }
  for (auto *el : chain)
    gst_bin_add (bin_, el);
  GstPad *sinkpad = gst_element_get_static_pad (chain.front (), "sink");
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
  for (size_t i = 1; i < chain.size (); i++)
    gst_element_link (chain[i - 1], chain[i]);
  for (auto it = chain.rbegin (); it != chain.rend (); ++it)
    gst_element_sync_state_with_parent (*it);
  if (!wanted || GST_OBJECT_FLAG_IS_SET (chain.back (), GST_ELEMENT_FLAG_SINK))
    return;

  GstPad *tail = gst_element_get_static_pad (chain.back (), "src");
  GstPad *ghost = gst_ghost_pad_new (kind, tail);
  gst_object_unref (tail);
  /* media flows when buffers leave the chain, not when RTP arrives: a stream we could
   * not turn into buffers must not count as a subscription */
  gst_pad_add_probe (ghost, GstPadProbeType (GST_PAD_PROBE_TYPE_BUFFER |
          GST_PAD_PROBE_TYPE_BUFFER_LIST), on_output_cb, weak_ref_data (),
      [] (gpointer d) { free_weak_ref_data (d); });
  gst_pad_set_active (ghost, TRUE);
  gst_element_add_pad (GST_ELEMENT (bin_), ghost);
  (video ? have_video_ : have_audio_) = true;
  guard.unlock ();
  /* no lock of ours while the element puts it behind its pad (pad-added runs the
   * application's code) */
  listener_->session_pad_added (*this, ghost);
  post (event_new (event::ADD_STREAM, "kind", G_TYPE_STRING, kind, NULL));
}

GstPadProbeReturn
Session::on_rtp_cb (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto self = from_data (data);
  if (!self)
    return GST_PAD_PROBE_OK;
  guint64 size = 0, n = 1;
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    n = gst_buffer_list_length (list);
    size = gst_buffer_list_calculate_size (list);
  } else {
    size = gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info));
  }
  self->packets_ += n;
  self->bytes_ += size;
  self->last_media_ = g_get_monotonic_time ();
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn
Session::on_output_cb (GstPad *, GstPadProbeInfo *, gpointer data)
{
  auto self = from_data (data);
  if (self && !self->media_out_.exchange (true)) {
    self->listener_->session_media_started (*self);
    self->on_worker ([] (Session &s) { s.post_started (); });
  }
  return GST_PAD_PROBE_REMOVE;
}

/* The kind of the m-line of a description that announces this SSRC (a=ssrc), or null. */
static const char *
kind_of_ssrc (const GstSDPMessage *sdp, guint ssrc)
{
  std::string prefix = std::to_string (ssrc) + " ";
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    for (guint a = 0; a < gst_sdp_media_attributes_len (m); a++) {
      const GstSDPAttribute *attr = gst_sdp_media_get_attribute (m, a);
      if (g_strcmp0 (attr->key, "ssrc") == 0 && attr->value &&
          g_str_has_prefix (attr->value, prefix.c_str ()))
        return gst_sdp_media_get_media (m);
    }
  }
  return nullptr;
}

void
Session::on_new_jitterbuffer_cb (GstElement *, GstElement *jitterbuffer, guint, guint ssrc,
    gpointer data)
{
  auto self = from_data (data);
  /* webrtcbin 1.22 gives every jitter buffer of a bundle the NACK setting of the last
   * m-line it looks at (the audio's, off); the video's is ours to put back */
  GstWebRTCSessionDescription *remote = nullptr;
  if (self)
    g_object_get (self->webrtc_, "remote-description", &remote, NULL);
  if (remote && g_strcmp0 (kind_of_ssrc (remote->sdp, ssrc), "video") == 0)
    g_object_set (jitterbuffer, "do-retransmission", TRUE, NULL);
  if (remote)
    gst_webrtc_session_description_free (remote);
  GstPad *sink = gst_element_get_static_pad (jitterbuffer, "sink");
  if (self && sink)
    gst_pad_add_probe (sink, GstPadProbeType (GST_PAD_PROBE_TYPE_BUFFER |
            GST_PAD_PROBE_TYPE_BUFFER_LIST), on_rtp_cb, self->weak_ref_data (),
        [] (gpointer d) { free_weak_ref_data (d); });
  gst_clear_object (&sink);
}

/* ---- network quality ------------------------------------------------------------ */

GstStructure *
NetworkQuality::to_structure () const
{
  return gst_structure_new ("network",
      "packets-received", G_TYPE_UINT64, packets_received,
      "packets-lost", G_TYPE_INT64, packets_lost,
      "fraction-lost", G_TYPE_DOUBLE, fraction_lost,
      "jitter-ms", G_TYPE_DOUBLE, jitter_ms,
      "bitrate", G_TYPE_UINT64, bitrate,
      "nack-count", G_TYPE_UINT, nack_count,
      "pli-count", G_TYPE_UINT, pli_count,
      "fir-count", G_TYPE_UINT, fir_count, NULL);
}

void
Session::refresh_quality ()
{
  if (!webrtc_ || stopped_)
    return;
  GstPromise *promise = promise_on_worker (*this, worker_, [] (Session &s, GstPromise *p) {
    if (!s.stopped_ && gst_promise_wait (p) == GST_PROMISE_RESULT_REPLIED &&
        gst_promise_get_reply (p))
      s.take_stats (gst_promise_get_reply (p));
  });
  g_signal_emit_by_name (webrtc_, "get-stats", NULL, promise);
  gst_promise_unref (promise);
}

/* The inbound-rtp entries of a get-stats reply, with rates over the time since the last. */
void
Session::take_stats (const GstStructure *stats)
{
  gint64 now = g_get_monotonic_time ();
  for (gint i = 0; i < gst_structure_n_fields (stats); i++) {
    const GValue *v = gst_structure_get_value (stats, gst_structure_nth_field_name (stats, i));
    if (!GST_VALUE_HOLDS_STRUCTURE (v))
      continue;
    const GstStructure *in = gst_value_get_structure (v);
    GstWebRTCStatsType type;
    if (!gst_structure_get (in, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL) ||
        type != GST_WEBRTC_STATS_INBOUND_RTP)
      continue;
    /* webrtcbin 1.22 labels every stream of a bundle with the "kind" of the pad it was
     * asked through; the RTP clock rate tells: video is 90 kHz, audio its sample rate */
    const GValue *src = gst_structure_get_value (in, "gst-rtpsource-stats");
    gint clock_rate = 0;
    if (!src || !GST_VALUE_HOLDS_STRUCTURE (src) ||
        !gst_structure_get_int (gst_value_get_structure (src), "clock-rate", &clock_rate) ||
        clock_rate <= 0)
      continue;
    const char *kind = clock_rate == 90000 ? "video" : "audio";
    NetworkQuality q;
    q.valid = true;
    q.sampled = now;
    double jitter = 0;
    gst_structure_get_uint64 (in, "packets-received", &q.packets_received);
    /* the RTP source's own count (RFC 3550: expected - received); the inbound one comes
     * from a jitter buffer webrtcbin 1.22 may have mixed up in a bundle */
    gint lost = 0;
    if (gst_structure_get_int (gst_value_get_structure (src), "packets-lost", &lost))
      q.packets_lost = MAX (0, lost);
    gst_structure_get_uint64 (in, "bytes-received", &q.bytes_received);
    if (gst_structure_get_double (in, "jitter", &jitter))
      q.jitter_ms = jitter * 1000;
    gst_structure_get_uint (in, "nack-count", &q.nack_count);
    gst_structure_get_uint (in, "pli-count", &q.pli_count);
    gst_structure_get_uint (in, "fir-count", &q.fir_count);
    std::lock_guard<std::mutex> guard (quality_lock_);
    NetworkQuality &last = quality_[g_str_equal (kind, "video") ? 0 : 1];
    if (last.valid && now > last.sampled) {
      guint64 got = q.packets_received - MIN (q.packets_received, last.packets_received);
      gint64 lost = MAX (0, q.packets_lost - last.packets_lost);
      q.fraction_lost = got + lost ? double (lost) / double (got + lost) : 0;
      q.bitrate = (q.bytes_received - MIN (q.bytes_received, last.bytes_received)) * 8 *
          G_USEC_PER_SEC / guint64 (now - last.sampled);
    }
    last = q;
  }
}

NetworkQuality
Session::quality (bool video)
{
  std::lock_guard<std::mutex> guard (quality_lock_);
  return quality_[video ? 0 : 1];
}

/* ---- teardown -------------------------------------------------------------------- */

void
Session::stop ()
{
  if (stopped_.exchange (true))
    return;
  g_cancellable_cancel (cancellable_);
  if (whep_)
    whep_->remove ();
  if (ws_)
    ws_->close ();
  for (auto *ch : channels_) {
    for (gpointer fn : { (gpointer) on_dc_open_cb, (gpointer) on_dc_close_cb,
             (gpointer) on_dc_error_cb, (gpointer) on_dc_message_cb })
      g_signal_handlers_disconnect_matched (ch, G_SIGNAL_MATCH_FUNC, 0, 0, nullptr, fn,
          nullptr);
  }
  if (bin_) {
    {
      /* wait for a pad-added that is building a chain; later ones see stopped_ */
      std::lock_guard<std::mutex> guard (pads_lock_);
    }
    /* Out of the element first, then down to NULL: the teardown's messages then have no
     * bus to go to, and nothing of the old attempt reaches the application. */
    gst_element_set_locked_state (GST_ELEMENT (bin_), TRUE);
    if (GST_OBJECT_PARENT (bin_) == GST_OBJECT (element_))
      gst_bin_remove (GST_BIN (element_), GST_ELEMENT (bin_));
    gst_element_set_state (GST_ELEMENT (bin_), GST_STATE_NULL);
  }
  /* Everything the attempt holds goes now, here on the worker. A webrtcbin callback
   * still running on one of its threads may hold the last reference to this Session;
   * when it lets go, it must not be the one that finalizes webrtcbin (from webrtcbin's
   * own thread) or touches the WebSocket (libsoup objects belong to the worker). */
  ws_.reset ();
  whep_.reset ();
  for (auto *ch : channels_)
    g_object_unref (ch);
  channels_.clear ();
  webrtc_ = nullptr;
  gst_clear_object (&bin_);
  post (event_new (event::SUBSCRIBE_STOP, "edge", G_TYPE_STRING, edge_.c_str (), NULL));
  GST_INFO_OBJECT (element_, "attempt %u stopped", attempt_);
}

/* ---- C callbacks ----------------------------------------------------------------- */

void
Session::on_ice_candidate_cb (GstElement *, guint mline, gchar *cand, gpointer data)
{
  if (auto self = from_data (data)) {
    std::string c (cand ? cand : "");
    self->on_worker ([mline, c] (Session &s) { s.on_ice_candidate (mline, c); });
  }
}

void
Session::on_gathering_state_cb (GObject *obj, GParamSpec *, gpointer data)
{
  GstWebRTCICEGatheringState state;
  g_object_get (obj, "ice-gathering-state", &state, NULL);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    return;
  if (auto self = from_data (data))
    self->on_worker ([] (Session &s) { s.on_gathering_complete (); });
}

void
Session::on_connection_state_cb (GObject *obj, GParamSpec *, gpointer data)
{
  GstWebRTCPeerConnectionState state;
  g_object_get (obj, "connection-state", &state, NULL);
  if (auto self = from_data (data))
    self->on_worker ([state] (Session &s) { s.on_connection_state (state); });
}

void
Session::on_pad_added_cb (GstElement *, GstPad *pad, gpointer data)
{
  if (auto self = from_data (data))
    self->on_pad_added (pad);
}

void
Session::on_data_channel_cb (GstElement *, GstWebRTCDataChannel *ch, gpointer data)
{
  if (auto self = from_data (data)) {
    /* the reference goes to the session, or is dropped with the closure if it stopped */
    std::shared_ptr<GstWebRTCDataChannel> ref (
        GST_WEBRTC_DATA_CHANNEL (g_object_ref (ch)), g_object_unref);
    self->on_worker ([ref] (Session &s) {
      s.watch_data_channel (GST_WEBRTC_DATA_CHANNEL (g_object_ref (ref.get ())), true);
    });
  }
}

static std::string
channel_label (GstWebRTCDataChannel *ch)
{
  char *label = nullptr;
  g_object_get (ch, "label", &label, NULL);
  std::string s (label ? label : "");
  g_free (label);
  return s;
}

void
Session::on_dc_open_cb (GstWebRTCDataChannel *ch, gpointer data)
{
  if (auto self = from_data (data))
    self->post (event_new (event::DATA_CHANNEL_OPEN, "label", G_TYPE_STRING,
        channel_label (ch).c_str (), NULL));
}

void
Session::on_dc_close_cb (GstWebRTCDataChannel *ch, gpointer data)
{
  auto self = from_data (data);
  if (!self || self->stopped_)
    return;
  self->post (event_new (event::DATA_CHANNEL_CLOSE, "label", G_TYPE_STRING,
      channel_label (ch).c_str (), NULL));
  /* The red5pro channel is the edge's voice: when it closes while we still play, the
   * edge has gone (an edge that shuts down closes its SCTP association). */
  if (channel_label (ch) == "red5pro") {
    self->on_worker ([] (Session &s) {
      if (s.failed_)
        return;
      s.post (event_new (event::SUBSCRIBE_CONNECTION_CLOSED, "edge", G_TYPE_STRING,
          s.edge_.c_str (), NULL));
      s.fail (Failure::Kind::CONNECTION_CLOSED, "the edge closed the red5pro data channel");
    });
  }
}

void
Session::on_dc_error_cb (GstWebRTCDataChannel *ch, GError *err, gpointer data)
{
  if (auto self = from_data (data))
    self->post (event_new (event::DATA_CHANNEL_ERROR, "label", G_TYPE_STRING,
        channel_label (ch).c_str (), "message", G_TYPE_STRING, err ? err->message : "",
        NULL));
}

void
Session::on_dc_message_cb (GstWebRTCDataChannel *ch, gchar *str, gpointer data)
{
  auto self = from_data (data);
  if (!self || !str)
    return;
  /* a GstStructure takes UTF-8 only; a server may send anything */
  char *valid = g_utf8_make_valid (str, -1);
  std::string text (valid);
  g_free (valid);
  self->post (event_new (event::DATA_CHANNEL_MESSAGE, "label", G_TYPE_STRING,
      channel_label (ch).c_str (), "message", G_TYPE_STRING,
      text.size () > 4096 ? "(too large)" : text.c_str (), NULL));
  self->on_worker ([text] (Session &s) {
    s.handle_server_message (parse_server_message (text), true);
  });
}

}  // namespace red5pro
