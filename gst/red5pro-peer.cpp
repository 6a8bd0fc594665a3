/* red5pro-peer: webrtcbin for one attempt, its callbacks handed over to the worker. */
#include "red5pro-peer.h"
#include "red5pro-attempt.h"
#include "red5pro-codecs.h"
#include "red5pro-events.h"
#include "red5pro-output.h"

#include <gst/sdp/sdp.h>
#include <algorithm>
#include <gst/webrtc/nice/nice.h>
#include <nice/agent.h>

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

namespace {

using WeakPeer = std::weak_ptr<Peer>;
constexpr auto from_data = lock_weak<Peer>;

/* The error a webrtcbin promise reply carries, if any. */
std::string
promise_error (GstPromise *promise)
{
  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    return "no reply";
  const GstStructure *reply = gst_promise_get_reply (promise);
  if (reply && gst_structure_has_field (reply, "error")) {
    g_autoptr (GError) err = nullptr;
    gst_structure_get (reply, "error", G_TYPE_ERROR, &err, NULL);
    return err ? err->message : "unknown error";
  }
  return {};
}

std::string
channel_label (GstWebRTCDataChannel *ch)
{
  g_autofree char *label = nullptr;
  g_object_get (ch, "label", &label, NULL);
  return label ? label : "";
}

}  // namespace

Peer::Peer (GstElement *element, Worker &worker, const SubscriberConfig &cfg, guint attempt)
  : element_ (element), worker_ (worker), cfg_ (cfg), attempt_ (attempt)
{
}

Peer::~Peer () = default;

gpointer
Peer::weak_data ()
{
  return new_weak (shared_from_this ());
}

/* A promise whose reply is handled on the worker, if the peer still runs. A promise freed
 * unanswered (webrtcbin stopped mid-negotiation) is no reply. */
GstPromise *
Peer::promise (std::function<void (Peer &, GstPromise *)> fn)
{
  struct Data {
    WeakPeer peer;
    std::function<void (Peer &, GstPromise *)> fn;
  };
  auto *data = new Data { shared_from_this (), std::move (fn) };
  GstPromise *p = gst_promise_new_with_change_func ([] (GstPromise *promise, gpointer d) {
    auto *data = static_cast<Data *> (d);
    auto self = data->peer.lock ();
    if (!self)
      return;
    {
      std::lock_guard<std::mutex> guard (self->promises_lock_);
      auto &v = self->promises_;
      auto it = std::find (v.begin (), v.end (), promise);
      if (it != v.end ()) {
        v.erase (it);
        gst_promise_unref (promise);   /* ours; the caller of this change still holds one */
      }
    }
    gst_promise_ref (promise);
    auto fn = data->fn;
    WeakPeer weak = data->peer;
    if (!self->worker_.post ([weak, fn, promise] () {
          auto self = weak.lock ();
          if (self && !self->stopped_)
            fn (*self, promise);
          gst_promise_unref (promise);
        }))
      gst_promise_unref (promise);
  }, data, [] (gpointer d) { delete static_cast<Data *> (d); });
  /* kept until answered: a teardown mid-negotiation interrupts it rather than let
   * webrtcbin free it unanswered (a critical warning in GStreamer). Interrupt, not expire:
   * webrtcbin may still reply, and a reply to an expired promise is a critical too. */
  std::lock_guard<std::mutex> guard (promises_lock_);
  promises_.push_back (gst_promise_ref (p));
  return p;
}

/* ---- setup -------------------------------------------------------------------------- */

bool
Peer::start (Events events, std::string *why)
{
  events_ = std::move (events);
  g_autofree char *name = g_strdup_printf ("attempt-%u", attempt_);
  bin_.reset (GST_BIN (gst_object_ref_sink (gst_bin_new (name))));
  webrtc_ = gst_element_factory_make ("webrtcbin", nullptr);
  if (!webrtc_) {
    *why = "the webrtcbin element is missing (gst-plugins-bad)";
    return false;
  }
  /* max-compat: offers like a browser's, every m-line on port 9 in one BUNDLE group.
   * max-bundle would mark all but the first bundle-only with port 0, which several WHEP
   * servers read as "rejected" and answer inactive (the audio never comes). Both bundle
   * the media on one transport once the answer accepts the group. */
  g_object_set (webrtc_, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_COMPAT,
      "latency", cfg_.latency_ms, "ice-transport-policy", cfg_.relay_only
          ? GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY : GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL, NULL);
  if (!cfg_.stun_server.empty ())
    g_object_set (webrtc_, "stun-server", cfg_.stun_server.c_str (), NULL);
  if (!cfg_.turn_server.empty ())
    g_object_set (webrtc_, "turn-server", cfg_.turn_server.c_str (), NULL);
  gst_bin_add (bin_.get (), webrtc_);

  if (GstObjectPtr<GstElement> rtpbin { gst_bin_get_by_name (GST_BIN (webrtc_), "rtpbin") }) {
    /* Timestamps from the sender's RTP clock, from the first packet on: they only go
     * forward. The default (slave) derives them from arrival times, and a stalled sender
     * or a busy machine makes it repeat one time for runs of frames, which encoders and
     * muxers refuse ("Buffer has no PTS" from mp4mux after x264enc). */
    gst_util_set_object_arg (G_OBJECT (rtpbin.get ()), "buffer-mode", "synced");
    /* the jitter buffers' input is the network's heartbeat */
    g_signal_connect_data (rtpbin.get (), "new-jitterbuffer",
        G_CALLBACK (on_new_jitterbuffer_cb), weak_data (), free_weak<Peer>, GConnectFlags (0));
  }

  g_autoptr (GstWebRTCICE) ice = nullptr;
  g_object_get (webrtc_, "ice-agent", &ice, NULL);
  NiceAgent *raw = nullptr;
  if (ice && GST_IS_WEBRTC_NICE (ice))
    g_object_get (ice, "agent", &raw, NULL);
  GObjectPtr<NiceAgent> agent (raw);
  /* UPnP port mapping is for hosts behind a home router that serve; a subscriber does not
   * need it, and libnice's discovery holds gathering back about 200 ms */
  if (agent)
    g_object_set (agent.get (), "upnp", FALSE, NULL);
  /* ICE over TCP only, for networks that block UDP */
  if (cfg_.ice_transport == IceTransport::TCP && ice &&
      g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "ice-udp"))
    g_object_set (ice, "ice-udp", FALSE, "ice-tcp", TRUE, NULL);
  if (!cfg_.ice_addresses.empty ()) {
    /* Host candidates only on these addresses (libnice gathers on all interfaces
     * otherwise). The agent is libnice's, behind GstWebRTCNice. */
    for (const auto &addr : cfg_.ice_addresses) {
      NiceAddress na;
      nice_address_init (&na);
      if (agent && nice_address_set_from_string (&na, addr.c_str ()))
        nice_agent_add_local_address (agent.get (), &na);
      else
        GST_WARNING_OBJECT (element_, "ignoring ICE address '%s'", addr.c_str ());
    }
  }

  /* One transceiver per kind. A kind we do not want (no codec) is inactive, so that a
   * server's offer of it is answered inactive instead of getting a receiver of its own. */
  for (bool video : { true, false }) {
    const auto &codecs = video ? cfg_.video_codecs : cfg_.audio_codecs;
    g_autoptr (GstCaps) caps = codec_caps (codecs, video);
    g_autoptr (GstWebRTCRTPTransceiver) trans = nullptr;
    g_signal_emit_by_name (webrtc_, "add-transceiver", codecs.empty ()
        ? GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE
        : GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &trans);
    /* lost video packets are asked for again (NACK), as a browser does (retransmission) */
    if (trans && video && cfg_.retransmission)
      g_object_set (trans, "do-nack", TRUE, NULL);
  }

  auto connect = [this] (const char *signal, GCallback cb) {
    g_signal_connect_data (webrtc_, signal, cb, weak_data (), free_weak<Peer>, GConnectFlags (0));
  };
  connect ("on-ice-candidate", G_CALLBACK (on_ice_candidate_cb));
  connect ("notify::ice-gathering-state", G_CALLBACK (on_gathering_state_cb));
  connect ("notify::connection-state", G_CALLBACK (on_connection_state_cb));
  connect ("pad-added", G_CALLBACK (on_pad_added_cb));
  connect ("on-data-channel", G_CALLBACK (on_data_channel_cb));

  gst_bin_add (GST_BIN (element_), GST_ELEMENT (bin_.get ()));
  if (!gst_element_sync_state_with_parent (GST_ELEMENT (bin_.get ()))) {
    *why = "could not start webrtcbin";
    return false;
  }
  events_.post (event_new (event::PEER_CONNECTION_AVAILABLE));
  return true;
}

void
Peer::open_channel ()
{
  if (opened_channel_ || !cfg_.data_channel)
    return;
  opened_channel_ = true;
  GstWebRTCDataChannel *channel = nullptr;
  g_signal_emit_by_name (webrtc_, "create-data-channel", "red5pro", NULL, &channel);
  if (channel)
    watch_channel (channel, false);
  else
    GST_WARNING_OBJECT (element_, "could not create the red5pro data channel");
}

/* ---- offers, answers, candidates ------------------------------------------------------ */

/* create-offer / create-answer, the description handed to done on the worker */
void
Peer::create (const char *which, Described done)
{
  std::string field = which;
  GstPromise *p = promise ([done, field] (Peer &, GstPromise *p) {
    std::string err = promise_error (p);
    GstWebRTCSessionDescription *desc = nullptr;
    const GstStructure *reply = gst_promise_get_reply (p);
    if (err.empty () && reply)
      gst_structure_get (reply, field.c_str (), GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc,
          NULL);
    done (DescriptionPtr (desc), desc ? "" : (err.empty () ? "no description" : err));
  });
  g_signal_emit_by_name (webrtc_, ("create-" + field).c_str (), NULL, p);
  gst_promise_unref (p);
}

void
Peer::set_remote (const GstWebRTCSessionDescription *desc, Done done)
{
  GstPromise *p = promise ([done] (Peer &, GstPromise *p) { done (promise_error (p)); });
  g_signal_emit_by_name (webrtc_, "set-remote-description", desc, p);
  gst_promise_unref (p);
}

void
Peer::set_local (const GstWebRTCSessionDescription *desc)
{
  g_signal_emit_by_name (webrtc_, "set-local-description", desc, NULL);
}

void
Peer::add_candidate (guint mline, const std::string &candidate)
{
  g_signal_emit_by_name (webrtc_, "add-ice-candidate", mline, candidate.c_str ());
}

DescriptionPtr
Peer::remote_description ()
{
  GstWebRTCSessionDescription *desc = nullptr;
  if (webrtc_)
    g_object_get (webrtc_, "remote-description", &desc, NULL);
  return DescriptionPtr (desc);
}

guint
Peer::mline_of (const std::string &mid)
{
  DescriptionPtr remote = remote_description ();
  for (guint i = 0; remote && i < gst_sdp_message_medias_len (remote->sdp); i++) {
    const char *m = gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (remote->sdp, i),
        "mid");
    if (m && mid == m)
      return i;
  }
  return 0;   /* bundled: the first m-line */
}

std::string
Peer::mid_of (guint mline)
{
  GstWebRTCSessionDescription *local = nullptr;
  g_object_get (webrtc_, "local-description", &local, NULL);
  DescriptionPtr owned (local);
  const GstSDPMedia *m = local && mline < gst_sdp_message_medias_len (local->sdp) ?
      gst_sdp_message_get_media (local->sdp, mline) : nullptr;
  const char *mid = m ? gst_sdp_media_get_attribute_val (m, "mid") : nullptr;
  return mid ? mid : std::to_string (mline);
}

void
Peer::credentials (std::string *ufrag, std::string *pwd)
{
  GstWebRTCSessionDescription *local = nullptr;
  g_object_get (webrtc_, "local-description", &local, NULL);
  DescriptionPtr owned (local);
  for (guint i = 0; local && i < gst_sdp_message_medias_len (local->sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (local->sdp, i);
    const char *u = gst_sdp_media_get_attribute_val (m, "ice-ufrag");
    const char *p = gst_sdp_media_get_attribute_val (m, "ice-pwd");
    if (u && p) {
      *ufrag = u;
      *pwd = p;
      return;
    }
  }
}

/* ---- data channels ------------------------------------------------------------------- */

void
Peer::watch_channel (GstWebRTCDataChannel *channel, bool remote)
{
  channels_.emplace_back (channel);   /* takes the caller's reference */
  auto connect = [&] (const char *signal, GCallback cb) {
    g_signal_connect_data (channel, signal, cb, weak_data (), free_weak<Peer>, GConnectFlags (0));
  };
  connect ("on-open", G_CALLBACK (on_dc_open_cb));
  connect ("on-close", G_CALLBACK (on_dc_close_cb));
  connect ("on-error", G_CALLBACK (on_dc_error_cb));
  connect ("on-message-string", G_CALLBACK (on_dc_message_cb));
  if (remote)
    events_.post (event_new (event::DATA_CHANNEL_AVAILABLE, "label", G_TYPE_STRING,
        channel_label (channel).c_str (), NULL));
}

void
Peer::on_data_channel_cb (GstElement *, GstWebRTCDataChannel *ch, gpointer data)
{
  if (auto self = from_data (data)) {
    /* the reference goes to the peer, or is dropped with the closure if it stopped */
    std::shared_ptr<GstWebRTCDataChannel> ref (
        GST_WEBRTC_DATA_CHANNEL (g_object_ref (ch)), g_object_unref);
    self->on_worker ([ref] (Peer &p) {
      p.watch_channel (GST_WEBRTC_DATA_CHANNEL (g_object_ref (ref.get ())), true);
    });
  }
}

void
Peer::on_dc_open_cb (GstWebRTCDataChannel *ch, gpointer data)
{
  auto self = from_data (data);
  if (!self)
    return;
  std::string label = channel_label (ch);
  self->events_.post (event_new (event::DATA_CHANNEL_OPEN, "label", G_TYPE_STRING,
      label.c_str (), NULL));
  self->on_worker ([label] (Peer &p) {
    if (label == "red5pro")
      p.flush_messages ();
    if (p.events_.channel_open)
      p.events_.channel_open (label);
  });
}

/* the red5pro channel, if it is open (worker) */
static GstWebRTCDataChannel *
open_red5pro_channel (const std::vector<GObjectPtr<GstWebRTCDataChannel>> &channels)
{
  for (const auto &ch : channels) {
    GstWebRTCDataChannelState state;
    g_object_get (ch.get (), "ready-state", &state, NULL);
    if (state == GST_WEBRTC_DATA_CHANNEL_STATE_OPEN && channel_label (ch.get ()) == "red5pro")
      return ch.get ();
  }
  return nullptr;
}

void
Peer::send_message (const std::string &text)
{
  if (stopped_)
    return;
  if (GstWebRTCDataChannel *ch = open_red5pro_channel (channels_)) {
    GST_DEBUG_OBJECT (element_, "attempt %u: to the server: %s", attempt_, text.c_str ());
    g_signal_emit_by_name (ch, "send-string", text.c_str ());
    return;
  }
  if (pending_messages_.size () >= MAX_PENDING_MESSAGES) {
    GST_WARNING_OBJECT (element_, "attempt %u: %zu messages wait for the data channel: the "
        "oldest is dropped", attempt_, pending_messages_.size ());
    pending_messages_.erase (pending_messages_.begin ());
  }
  pending_messages_.push_back (text);
}

void
Peer::flush_messages ()
{
  auto pending = std::move (pending_messages_);
  pending_messages_.clear ();
  for (const auto &text : pending)
    send_message (text);
}

void
Peer::on_dc_close_cb (GstWebRTCDataChannel *ch, gpointer data)
{
  auto self = from_data (data);
  if (!self || self->stopped_)
    return;
  std::string label = channel_label (ch);
  self->events_.post (event_new (event::DATA_CHANNEL_CLOSE, "label", G_TYPE_STRING,
      label.c_str (), NULL));
  self->on_worker ([label] (Peer &p) { p.events_.channel_closed (label); });
}

void
Peer::on_dc_error_cb (GstWebRTCDataChannel *ch, GError *err, gpointer data)
{
  if (auto self = from_data (data))
    self->events_.post (event_new (event::DATA_CHANNEL_ERROR, "label", G_TYPE_STRING,
        channel_label (ch).c_str (), "message", G_TYPE_STRING, err ? err->message : "",
        NULL));
}

void
Peer::on_dc_message_cb (GstWebRTCDataChannel *ch, gchar *str, gpointer data)
{
  auto self = from_data (data);
  if (!self || !str)
    return;
  /* a GstStructure takes UTF-8 only; a server may send anything */
  g_autofree char *valid = g_utf8_make_valid (str, -1);
  std::string text (valid), label = channel_label (ch);
  self->events_.post (event_new (event::DATA_CHANNEL_MESSAGE, "label", G_TYPE_STRING,
      label.c_str (), "message", G_TYPE_STRING,
      text.size () > 4096 ? "(too large)" : text.c_str (), NULL));
  self->on_worker ([label, text] (Peer &p) { p.events_.channel_message (label, text); });
}

/* ---- other webrtcbin callbacks --------------------------------------------------------- */

void
Peer::on_ice_candidate_cb (GstElement *, guint mline, gchar *cand, gpointer data)
{
  if (auto self = from_data (data)) {
    std::string c (cand ? cand : "");
    self->on_worker ([mline, c] (Peer &p) { p.events_.candidate (mline, c); });
  }
}

void
Peer::on_gathering_state_cb (GObject *obj, GParamSpec *, gpointer data)
{
  GstWebRTCICEGatheringState state;
  g_object_get (obj, "ice-gathering-state", &state, NULL);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    return;
  if (auto self = from_data (data))
    self->on_worker ([] (Peer &p) { p.events_.gathered (); });
}

void
Peer::on_connection_state_cb (GObject *obj, GParamSpec *, gpointer data)
{
  GstWebRTCPeerConnectionState state;
  g_object_get (obj, "connection-state", &state, NULL);
  if (auto self = from_data (data))
    self->on_worker ([state] (Peer &p) { p.events_.state (state); });
}

void
Peer::on_pad_added_cb (GstElement *, GstPad *pad, gpointer data)
{
  if (auto self = from_data (data))
    self->on_pad_added (pad);
}

/* ---- network quality ------------------------------------------------------------------ */

void
Peer::refresh_quality ()
{
  get_stats (nullptr);
}

/* One get-stats for both: the quality is updated from every reply. */
void
Peer::get_stats (std::function<void (const GstStructure *stats)> done)
{
  if (!webrtc_ || stopped_)
    return;
  GstPromise *p = promise ([done] (Peer &self, GstPromise *p) {
    if (gst_promise_wait (p) != GST_PROMISE_RESULT_REPLIED || !gst_promise_get_reply (p))
      return;
    const GstStructure *stats = gst_promise_get_reply (p);
    {
      std::lock_guard<std::mutex> guard (self.quality_lock_);
      update_quality (self.quality_, stats, g_get_monotonic_time ());
    }
    if (done)
      done (stats);
  });
  g_signal_emit_by_name (webrtc_, "get-stats", NULL, p);
  gst_promise_unref (p);
}

NetworkQuality
Peer::quality (bool video)
{
  std::lock_guard<std::mutex> guard (quality_lock_);
  return quality_[video ? 0 : 1];
}

/* ---- teardown -------------------------------------------------------------------------- */

/* N2 (docs/faults.md): webrtcbin 1.22's TransportReceiveBin follows its ICE transport's
 * "state" with a handler it never disconnects. A state change after the bin went to NULL
 * (ICE still checking when the attempt is torn down) blocks the bin's pad again, and that
 * block holds a reference to the bin: the bin, its nicesrc and the ICE agent's sockets were
 * never freed. Those handlers are blocked before the teardown, not disconnected: GStreamer's
 * own fix (MR !9249, later 1.26.x and 1.28) disconnects them when the bin is disposed, and a
 * handler blocked here is still there for it to disconnect (no "no handler with id"
 * warning); without that fix (1.22, and 1.26 releases before it) a blocked handler never
 * runs again. One code path for both. */
static void
block_receive_bin_handlers (GstElement *webrtc)
{
  std::vector<GObject *> ice;
  auto add_ice = [&ice] (GObject *dtls) {
    GObject *t = nullptr;
    if (dtls)
      g_object_get (dtls, "transport", &t, NULL);
    if (t && std::find (ice.begin (), ice.end (), t) == ice.end ())
      ice.push_back (t);
    else if (t)
      g_object_unref (t);
  };
  GArray *transceivers = nullptr;
  g_signal_emit_by_name (webrtc, "get-transceivers", &transceivers);
  for (guint i = 0; transceivers && i < transceivers->len; i++) {
    GstWebRTCRTPReceiver *receiver = nullptr;
    g_object_get (g_array_index (transceivers, GstWebRTCRTPTransceiver *, i), "receiver",
        &receiver, NULL);
    GObject *dtls = nullptr;
    if (receiver)
      g_object_get (receiver, "transport", &dtls, NULL);
    add_ice (dtls);
    g_clear_object (&dtls);
    gst_clear_object (&receiver);
  }
  if (transceivers)
    g_array_unref (transceivers);
  if (ice.empty ())
    return;
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (webrtc));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GObject *child = G_OBJECT (g_value_get_object (&item));
    if (g_str_equal (G_OBJECT_TYPE_NAME (child), "TransportReceiveBin"))
      for (GObject *t : ice)
        g_signal_handlers_block_matched (t, G_SIGNAL_MATCH_DATA, 0, 0, nullptr, nullptr,
            child);
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  for (GObject *t : ice)
    g_object_unref (t);
}

void
Peer::add_ice_servers (const std::vector<std::string> &uris)
{
  if (!webrtc_ || stopped_)
    return;
  for (const auto &uri : uris) {
    /* the OPTIONS and the POST's answer may name the same */
    if (std::find (ice_servers_.begin (), ice_servers_.end (), uri) != ice_servers_.end ())
      continue;
    ice_servers_.push_back (uri);
    g_autoptr (GUri) parsed = g_uri_parse (uri.c_str (), G_URI_FLAGS_NONE, nullptr);
    std::string where = parsed ? std::string (g_uri_get_scheme (parsed)) + " " +
        (g_uri_get_host (parsed) ?: "") + ":" + std::to_string (g_uri_get_port (parsed)) : "?";
    if (g_str_has_prefix (uri.c_str (), "stun://")) {
      g_autofree char *current = nullptr;
      g_object_get (webrtc_, "stun-server", &current, NULL);
      if (!current)
        g_object_set (webrtc_, "stun-server", uri.c_str (), NULL);
      GST_INFO_OBJECT (element_, "attempt %u: the server names STUN %s (%s)", attempt_,
          where.c_str (), current ? "ours stays" : "taken");
      continue;
    }
    gboolean ok = FALSE;
    g_signal_emit_by_name (webrtc_, "add-turn-server", uri.c_str (), &ok);
    GST_INFO_OBJECT (element_, "attempt %u: the server names TURN %s (%s)", attempt_,
        where.c_str (), ok ? "added" : "refused");
  }
}

std::string
Peer::ice_state () const
{
  if (!webrtc_)
    return "closed";
  GstWebRTCICEConnectionState state;
  g_object_get (webrtc_, "ice-connection-state", &state, NULL);
  GEnumClass *k = G_ENUM_CLASS (g_type_class_ref (GST_TYPE_WEBRTC_ICE_CONNECTION_STATE));
  GEnumValue *v = g_enum_get_value (k, int (state));
  std::string nick = v ? v->value_nick : "new";
  g_type_class_unref (k);
  return nick;
}

bool
Peer::owns (GstObject *object) const
{
  return bin_ && object && gst_object_has_as_ancestor (object, GST_OBJECT (bin_.get ()));
}

void
Peer::stop ()
{
  if (stopped_.exchange (true))
    return;
  for (auto &ch : channels_) {
    for (gpointer fn : { (gpointer) on_dc_open_cb, (gpointer) on_dc_close_cb,
             (gpointer) on_dc_error_cb, (gpointer) on_dc_message_cb })
      g_signal_handlers_disconnect_matched (ch.get (), G_SIGNAL_MATCH_FUNC, 0, 0, nullptr, fn,
          nullptr);
  }
  std::vector<GstPromise *> pending;
  {
    std::lock_guard<std::mutex> guard (promises_lock_);
    pending.swap (promises_);
  }
  for (GstPromise *p : pending) {
    gst_promise_interrupt (p);
    gst_promise_unref (p);
  }
  if (bin_) {
    {
      /* wait for a pad-added that is building a chain; later ones see stopped_ */
      std::lock_guard<std::mutex> guard (pads_lock_);
    }
    if (webrtc_)
      block_receive_bin_handlers (webrtc_);
    remove_attempt_bin (element_, bin_.get ());
  }
  /* Everything goes now, here on the worker: a webrtcbin callback still running on one of
   * its threads may hold the last reference to this Peer, and must not be the one that
   * finalizes webrtcbin from webrtcbin's own thread. */
  channels_.clear ();
  webrtc_ = nullptr;
  bin_.reset ();
}

}  // namespace red5pro
