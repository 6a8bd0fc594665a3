/* media: the test cluster's subscribers' peers: per subscriber, a bin of payloaders and a
 * webrtcbin branched off the tees of the stream's pipeline (publisher.cpp), its offer or
 * answer, candidates, the red5pro data channel the subscriber opens, and its teardown. */
#include "cluster.h"

#include <gst/video/video.h>

namespace cluster {

std::function<void (const std::shared_ptr<Peer> &)> on_peer_gathered;
std::function<void (const std::shared_ptr<Peer> &, guint, const std::string &)>
    on_peer_candidate;
std::function<void (const std::shared_ptr<Peer> &)> on_peer_channel_open;

std::shared_ptr<Peer>
peer_find (guint id)
{
  Cluster &c = the_cluster ();
  auto it = c.peers.find (id);
  return it == c.peers.end () ? nullptr : it->second;
}

/* webrtcbin's signals arrive on its own threads: each hands over to the main context by
 * peer id (the peer may be gone by then). */
static void
on_ice_candidate (GstElement *, guint mline, char *candidate, gpointer data)
{
  guint id = GPOINTER_TO_UINT (data);
  std::string cand = candidate ? candidate : "";
  run_on_main ([id, mline, cand] {
    auto p = peer_find (id);
    if (!p || p->closed || !on_peer_candidate)
      return;
    std::string announced = ice_outgoing_candidate (*p, cand);
    if (!announced.empty () || cand.empty ())
      on_peer_candidate (p, mline, announced);
  });
}

static void
on_gathering_state (GstElement *webrtc, GParamSpec *, gpointer data)
{
  GstWebRTCICEGatheringState state;
  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    return;
  guint id = GPOINTER_TO_UINT (data);
  run_on_main ([id] {
    auto p = peer_find (id);
    if (!p || p->closed || p->gathered)
      return;
    p->gathered = true;
    if (on_peer_gathered)
      on_peer_gathered (p);
  });
}

static void
on_channel_open (GstWebRTCDataChannel *, gpointer data)
{
  guint id = GPOINTER_TO_UINT (data);
  run_on_main ([id] {
    auto p = peer_find (id);
    if (!p || p->closed)
      return;
    p->channel_open = true;
    auto queued = std::move (p->queued);
    for (const auto &text : queued)
      g_signal_emit_by_name (p->channel, "send-string", text.c_str ());
    if (on_peer_channel_open)
      on_peer_channel_open (p);
  });
}

/* What a subscriber says on the red5pro channel: the standby message (protocol notes,
 * section 15) pauses or resumes the media; the rest is not the cluster's business. */
static void peer_call (const std::shared_ptr<Peer> &p, JsonObject *call, const std::string &id);

static void
on_channel_message (GstWebRTCDataChannel *, const char *text, gpointer data)
{
  guint id = GPOINTER_TO_UINT (data);
  std::string msg = text ? text : "";
  run_on_main ([id, msg] {
    auto p = peer_find (id);
    if (!p || p->closed)
      return;
    JsonParser *parser = json_parser_new ();
    if (json_parser_load_from_data (parser, msg.c_str (), -1, nullptr)) {
      JsonNode *root = json_parser_get_root (parser);
      JsonObject *o = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : nullptr;
      JsonNode *mute = o ? json_object_get_member (o, "mute") : nullptr;
      JsonNode *call = o ? json_object_get_member (o, "callAdapter") : nullptr;
      /* a stats report (SDK 15, stats endpoint "data-channel"): kept for GET /stats; any
       * other message for /state */
      bool stats = stats_channel_message (p->id, root);
      if (o && !stats) {
        p->received.push_back (msg.size () > 4096 ? msg.substr (0, 4096) : msg);
        if (p->received.size () > Peer::RECEIVED_KEPT)
          p->received.erase (p->received.begin ());
      }
      if (stats) {
      } else if (call && JSON_NODE_HOLDS_OBJECT (call)) {
        peer_call (p, json_node_get_object (call),
            json_object_get_string_member_with_default (o, "id", ""));
      } else if (mute && JSON_NODE_HOLDS_OBJECT (mute)) {
        JsonObject *m = json_node_get_object (mute);
        p->gates[0]->muted = json_object_get_boolean_member_with_default (m, "muteVideo", FALSE);
        p->gates[1]->muted = json_object_get_boolean_member_with_default (m, "muteAudio", FALSE);
        g_printerr ("{\"event\":\"mute\",\"peer\":%u,\"video\":%s,\"audio\":%s}\n", p->id,
            p->gates[0]->muted ? "true" : "false", p->gates[1]->muted ? "true" : "false");
      }
    }
    g_object_unref (parser);
  });
}

/* switchStreams: the peer's video comes from another stream of its ABR group from now on
 * (its tee pad moved; a key frame asked of the new stream's encoder). isImmediate is not
 * looked at: the switch is always at once. */
static bool
peer_switch_stream (const std::shared_ptr<Peer> &p, const std::string &target)
{
  Cluster &c = the_cluster ();
  auto from = c.streams.find (p->stream);
  auto to = c.streams.find (target);
  if (from == c.streams.end () || to == c.streams.end () || to->second->group.empty () ||
      to->second->pipeline != from->second->pipeline || !p->video_tee_pad ||
      p->video_codec.empty () || !to->second->tees.count (p->video_codec))
    return false;
  if (target == p->stream)
    return true;
  GstPad *ghost = gst_pad_get_peer (p->video_tee_pad);
  if (!ghost)
    return false;
  gst_pad_unlink (p->video_tee_pad, ghost);
  if (GstElement *tee = gst_pad_get_parent_element (p->video_tee_pad)) {
    gst_element_release_request_pad (tee, p->video_tee_pad);
    gst_object_unref (tee);
  }
  gst_object_unref (p->video_tee_pad);
  p->video_tee_pad = gst_element_request_pad_simple (to->second->tees.at (p->video_codec),
      "src_%u");
  bool linked = GST_PAD_LINK_SUCCESSFUL (gst_pad_link (p->video_tee_pad, ghost));
  gst_object_unref (ghost);
  gst_pad_send_event (p->video_tee_pad, gst_video_event_new_upstream_force_key_unit (
      GST_CLOCK_TIME_NONE, TRUE, 0));
  g_printerr ("{\"event\":\"stream-switch\",\"peer\":%u,\"from\":\"%s\",\"to\":\"%s\"}\n",
      p->id, p->stream.c_str (), target.c_str ());
  p->stream = target;
  return linked;
}

/* {"callAdapter":{"method","arguments"},"id","async"} on the channel. switchStreams is
 * answered as the notes show it ({"data":{"type":"result","message":"Stream switch:
 * Success"}}, no id). inferred: a switch the server cannot make answered "Stream switch:
 * Failure"; any other method answered with a result carrying the call's id and its
 * arguments back (the notes show no other answer). */
static void
peer_call (const std::shared_ptr<Peer> &p, JsonObject *call, const std::string &id)
{
  std::string method = json_object_get_string_member_with_default (call, "method", "");
  JsonArray *args = json_object_has_member (call, "arguments") &&
          JSON_NODE_HOLDS_ARRAY (json_object_get_member (call, "arguments"))
      ? json_object_get_array_member (call, "arguments") : nullptr;
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "data");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "result");
  if (method == "switchStreams") {
    JsonNode *first = args && json_array_get_length (args) > 0
        ? json_array_get_element (args, 0) : nullptr;
    std::string path = first && JSON_NODE_HOLDS_OBJECT (first)
        ? json_object_get_string_member_with_default (json_node_get_object (first), "path", "")
        : "";
    /* "app/stream": the stream is what follows the app */
    size_t slash = path.find ('/');
    std::string stream = slash == std::string::npos ? path : path.substr (slash + 1);
    bool ok = path.substr (0, slash) == the_cluster ().opt.app && peer_switch_stream (p, stream);
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, ok ? "Stream switch: Success" : "Stream switch: Failure");
  } else {
    json_builder_set_member_name (b, "id");
    json_builder_add_string_value (b, id.c_str ());
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, (method + ": Success").c_str ());
    json_builder_set_member_name (b, "data");
    if (args)
      json_builder_add_value (b, json_node_copy (json_object_get_member (call, "arguments")));
    else
      json_builder_add_null_value (b);
  }
  json_builder_end_object (b);
  json_builder_end_object (b);
  JsonNode *root = json_builder_get_root (b);
  g_object_unref (b);
  char *text = json_to_string (root, FALSE);
  json_node_unref (root);
  peer_send (p, text);
  g_free (text);
}

static void
watch_channel (guint id, GstWebRTCDataChannel *channel)
{
  g_signal_connect (channel, "on-open", G_CALLBACK (on_channel_open), GUINT_TO_POINTER (id));
  g_signal_connect (channel, "on-message-string", G_CALLBACK (on_channel_message),
      GUINT_TO_POINTER (id));
}

/* The client opened a channel (protocol notes, section 4): "red5pro" is the one the server
 * talks on. */
static void
on_data_channel (GstElement *, GstWebRTCDataChannel *channel, gpointer data)
{
  guint id = GPOINTER_TO_UINT (data);
  char *label = nullptr;
  g_object_get (channel, "label", &label, NULL);
  const bool red5pro = g_strcmp0 (label, "red5pro") == 0;
  g_free (label);
  if (!red5pro)
    return;
  gst_object_ref (channel);
  watch_channel (id, channel);
  run_on_main ([id, channel] {
    auto p = peer_find (id);
    if (!p || p->closed || p->channel) {
      gst_object_unref (channel);
      return;
    }
    p->channel = channel;
    /* a channel the client opened may already be open */
    GstWebRTCDataChannelState state;
    g_object_get (channel, "ready-state", &state, NULL);
    if (state == GST_WEBRTC_DATA_CHANNEL_STATE_OPEN && !p->channel_open)
      on_channel_open (channel, GUINT_TO_POINTER (id));
  });
}

/* A blocked edge's current peers send nothing (a firewall dropping UDP). Without --network
 * the edge's random loss drops RTP here too, before its RTP session: such a packet was never
 * sent, so no NACK can bring it back. With --network, loss and the rest of a network's ways
 * happen after SRTP, in the edge's network (network.cpp). */
static GstPadProbeReturn
lose_packets (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  Edge *e = static_cast<Edge *> (data);
  double loss = 0;
  if (e->media_blocked) {
    loss = 1;
  } else if (!the_cluster ().opt.network) {
    std::lock_guard<std::mutex> guard (e->net_lock);
    loss = e->net.loss;
  }
  if (loss <= 0)
    return GST_PAD_PROBE_OK;
  auto lost = [loss] { return g_random_double () < loss; };
  if (!(GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER_LIST))
    return lost () ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
  GstBufferList *list = gst_buffer_list_make_writable (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
  for (guint i = gst_buffer_list_length (list); i > 0; i--)
    if (lost ())
      gst_buffer_list_remove (list, i - 1, 1);
  GST_PAD_PROBE_INFO_DATA (info) = list;
  return GST_PAD_PROBE_OK;
}

static GstPad *
add_branch (const std::shared_ptr<Peer> &p, const Codec &codec)
{
  const char *name = codec.video ? "video" : "audio";
  GstBin *bin = GST_BIN (p->bin);
  GstElement *webrtc = p->webrtc;
  GstElement *queue = gst_element_factory_make ("queue", nullptr);
  GstElement *pay = gst_element_factory_make (codec.payloader, nullptr);
  /* a subscriber that stalls must not stall the publisher */
  g_object_set (queue, "leaky", 2, "max-size-buffers", 0, "max-size-bytes", 0,
      "max-size-time", 2 * GST_SECOND, NULL);
  /* the SSRC goes into the SDP (a=ssrc), as real servers announce theirs: the subscriber's
   * webrtcbin maps it to its m-line (NACKs, statistics) */
  guint ssrc = g_random_int ();
  g_object_set (pay, "pt", codec.pt, "ssrc", ssrc, NULL);
  const std::string pay_factory = codec.payloader;
  if (pay_factory == "rtpvp8pay")
    g_object_set (pay, "picture-id-mode", 2, NULL);
  if (pay_factory == "rtph264pay")
    g_object_set (pay, "config-interval", -1, "aggregate-mode", 1, NULL);
  if (pay_factory == "rtph265pay")
    g_object_set (pay, "config-interval", -1, NULL);
  gst_bin_add_many (bin, queue, pay, NULL);
  gst_element_link (queue, pay);
  GstPad *sink = gst_element_request_pad_simple (webrtc, "sink_%u");
  GstPad *src = gst_element_get_static_pad (pay, "src");
  /* muted: frames stop before the payloader; sent: RTP bytes counted after it */
  auto *gate = new std::shared_ptr<Peer::MediaGate> (p->gates[codec.video ? 0 : 1]);
  GstPad *pay_sink = gst_element_get_static_pad (pay, "sink");
  gst_pad_add_probe (pay_sink, GST_PAD_PROBE_TYPE_BUFFER,
      [] (GstPad *, GstPadProbeInfo *, gpointer d) {
        return (*static_cast<std::shared_ptr<Peer::MediaGate> *> (d))->muted.load ()
            ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
      }, new std::shared_ptr<Peer::MediaGate> (*gate),
      [] (gpointer d) { delete static_cast<std::shared_ptr<Peer::MediaGate> *> (d); });
  gst_object_unref (pay_sink);
  gst_pad_add_probe (src, GstPadProbeType (GST_PAD_PROBE_TYPE_BUFFER |
          GST_PAD_PROBE_TYPE_BUFFER_LIST), lose_packets, p->edge, nullptr);
  gst_pad_add_probe (src, GstPadProbeType (GST_PAD_PROBE_TYPE_BUFFER |
          GST_PAD_PROBE_TYPE_BUFFER_LIST), [] (GstPad *, GstPadProbeInfo *info, gpointer d) {
        guint64 n = 0;
        if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER_LIST)
          n = gst_buffer_list_calculate_size (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
        else
          n = gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info));
        (*static_cast<std::shared_ptr<Peer::MediaGate> *> (d))->bytes += n;
        return GST_PAD_PROBE_OK;
      }, gate, [] (gpointer d) { delete static_cast<std::shared_ptr<Peer::MediaGate> *> (d); });
  gst_pad_link (src, sink);
  gst_object_unref (src);
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_object_get (sink, "transceiver", &trans, NULL);
  GstCaps *prefs = gst_caps_from_string (codec.rtp_caps);
  gst_caps_set_simple (prefs, "ssrc", G_TYPE_UINT, ssrc, NULL);
  /* video: NACKs are answered (retransmission), as real servers do, over RTX (RFC 4588,
   * its own payload type and SSRC). inferred: the notes show no Red5 Pro SDP; RTX is what
   * browsers and the common SFUs negotiate, and a subscriber that also takes packets
   * resent in the original stream (same SSRC) handles both */
  g_object_set (trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
      "codec-preferences", prefs, "do-nack", codec.video, NULL);
  gst_caps_unref (prefs);
  p->transceivers[name] = trans;   /* takes the reference */
  gst_object_unref (sink);
  GstPad *qsink = gst_element_get_static_pad (queue, "sink");
  GstPad *ghost = gst_ghost_pad_new (name, qsink);
  gst_object_unref (qsink);
  gst_element_add_pad (GST_ELEMENT (bin), ghost);
  return ghost;
}

std::shared_ptr<Peer>
peer_create (Edge *edge, const std::string &stream, Peer::Signaling sig,
    const std::string &video_codec, const std::string &audio_codec)
{
  Cluster &c = the_cluster ();
  auto sit = c.streams.find (stream);
  if (sit == c.streams.end ())
    return nullptr;
  auto p = std::make_shared<Peer> ();
  p->id = c.next_peer_id++;
  char resource[16];
  g_snprintf (resource, sizeof resource, "%08x", g_random_int ());
  p->resource = resource;
  p->stream = stream;
  p->edge = edge;
  p->signaling = sig;
  p->video_codec = video_codec;
  p->audio_codec = audio_codec;
  p->bin = gst_bin_new (nullptr);
  p->webrtc = gst_element_factory_make ("webrtcbin", nullptr);
  g_object_set (p->webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
  gst_bin_add (GST_BIN (p->bin), p->webrtc);
  /* Sender reports map RTP time to the frame's capture time, not to when this peer sent
   * it: every edge then reports the same capture time for the same frame, however long a
   * subscriber's own queue holds it (a subscriber matches frames across two edges by it:
   * the standby). inferred: Red5 Pro edges relay the publisher's stream and keep its
   * timing; the notes say nothing about their sender reports. */
  if (GstElement *rtpbin = gst_bin_get_by_name (GST_BIN (p->webrtc), "rtpbin")) {
    g_object_set (rtpbin, "rtcp-sync-send-time", FALSE, NULL);
    gst_object_unref (rtpbin);
  } else {
    g_printerr ("peer %u: webrtcbin has no rtpbin named rtpbin\n", p->id);
  }

  ice_setup (*p);

  /* a medium not offered has no branch, so no transceiver: the offer has no m-line for it */
  const Codec *vcodec = video_codec.empty () ? nullptr : codec_find (video_codec);
  const Codec *acodec = audio_codec.empty () ? nullptr : codec_find (audio_codec);
  GstPad *vghost = vcodec ? add_branch (p, *vcodec) : nullptr;
  GstPad *aghost = acodec ? add_branch (p, *acodec) : nullptr;

  gpointer id = GUINT_TO_POINTER (p->id);
  g_signal_connect (p->webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate), id);
  g_signal_connect (p->webrtc, "notify::ice-gathering-state",
      G_CALLBACK (on_gathering_state), id);
  g_signal_connect (p->webrtc, "on-data-channel", G_CALLBACK (on_data_channel), id);

  p->pipeline = GST_ELEMENT (gst_object_ref (sit->second->pipeline));
  gst_bin_add (GST_BIN (p->pipeline), p->bin);
  /* playing before it is linked: a flushing branch would make the tee (with a single
   * subscriber) return FLUSHING, and the stream's source would stop for good */
  gst_element_sync_state_with_parent (p->bin);
  Stream &s = *sit->second;
  for (auto branch : { std::make_pair (vcodec, vghost), std::make_pair (acodec, aghost) }) {
    if (!branch.first)
      continue;
    GstPad *&teepad = branch.first->video ? p->video_tee_pad : p->audio_tee_pad;
    teepad = gst_element_request_pad_simple (s.tees.at (branch.first->name), "src_%u");
    if (GST_PAD_LINK_FAILED (gst_pad_link (teepad, branch.second)))
      g_printerr ("peer %u: cannot link to the stream's %s\n", p->id, branch.first->name);
  }
  c.peers[p->id] = p;
  return p;
}

/* A promise's reply arrives on webrtcbin's thread; the continuation runs on main. */
struct PromiseDone {
  guint id;
  std::function<void (GstWebRTCSessionDescription *)> fn;
};

static void
promise_then (GstPromise *promise, gpointer data)
{
  auto *pd = static_cast<PromiseDone *> (data);
  GstWebRTCSessionDescription *desc = nullptr;
  const GstStructure *reply = gst_promise_get_reply (promise);
  if (reply && gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED) {
    if (gst_structure_has_field (reply, "offer"))
      gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
    else if (gst_structure_has_field (reply, "answer"))
      gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
  }
  gst_promise_unref (promise);
  run_on_main ([pd, desc] {
    pd->fn (desc);
    if (desc)
      gst_webrtc_session_description_free (desc);
    delete pd;
  });
}

static void
set_local_then (const std::shared_ptr<Peer> &p, GstWebRTCSessionDescription *desc,
    std::function<void (bool)> done)
{
  if (!desc || p->closed) {
    done (false);
    return;
  }
  /* set-local-description runs on webrtcbin's thread: keep the text for the signaling,
   * which may need it before "local-description" is set */
  char *text = gst_sdp_message_as_text (desc->sdp);
  p->created_sdp = text;
  g_free (text);
  g_signal_emit_by_name (p->webrtc, "set-local-description", desc, NULL);
  done (true);
}

/* Emits create-offer or create-answer and applies the result locally, then done(). */
static void
create_then_set_local (const std::shared_ptr<Peer> &p, const char *signal,
    std::function<void (bool)> done)
{
  guint id = p->id;
  auto *pd = new PromiseDone { id, [id, done] (GstWebRTCSessionDescription *desc) {
    auto peer = peer_find (id);
    if (!peer) {
      done (false);
      return;
    }
    set_local_then (peer, desc, done);
  } };
  g_signal_emit_by_name (p->webrtc, signal, NULL,
      gst_promise_new_with_change_func (promise_then, pd, nullptr));
}

/* The stream id of the channel that only gives our offer its m=application section: far
 * above the ids clients take (they number their channels from 0, as DTLS clients, or 1
 * upwards), and within the 1024 streams of webrtcbin 1.22's SCTP association, though
 * nothing is ever sent on it. */
static const int OFFER_ONLY_CHANNEL_ID = 1023;

void
peer_create_offer (const std::shared_ptr<Peer> &p, std::function<void (bool)> done)
{
  /* A real Red5 Pro server's offer carries an m=application section so that the client
   * can open the red5pro channel once it has applied the offer, and the server opens no
   * channel of its own (protocol notes, section 4). webrtcbin 1.22 writes that section
   * only while it holds a data channel (_add_data_channel_offer gives up when it has
   * none), so the peer holds one that nobody sees: negotiated=TRUE (no DCEP OPEN goes out,
   * the client's webrtcbin never announces it with on-data-channel), on a stream id no
   * client takes, and nothing is ever sent on it. Everything the server says goes on the
   * channel the client opens (on_data_channel). */
  if (p->want_channel && !p->offer_channel) {
    GstStructure *opts = gst_structure_new ("options", "negotiated", G_TYPE_BOOLEAN, TRUE,
        "id", G_TYPE_INT, OFFER_ONLY_CHANNEL_ID, NULL);
    g_signal_emit_by_name (p->webrtc, "create-data-channel", "offer-only", opts,
        &p->offer_channel);
    gst_structure_free (opts);
    if (!p->offer_channel)
      g_printerr ("peer %u: webrtcbin refused the offer's data channel\n", p->id);
  }
  create_then_set_local (p, "create-offer", std::move (done));
}

/* the subscriber's offer or answer, as the peer hears it (ice_incoming_sdp) */
static GstWebRTCSessionDescription *
parse_description (const Peer &p, GstWebRTCSDPType type, const std::string &sdp)
{
  GstSDPMessage *msg = nullptr;
  gst_sdp_message_new (&msg);
  if (gst_sdp_message_parse_buffer ((const guint8 *) sdp.data (), guint (sdp.size ()), msg) !=
          GST_SDP_OK ||
      gst_sdp_message_medias_len (msg) == 0) {
    gst_sdp_message_free (msg);
    return nullptr;
  }
  ice_incoming_sdp (p, msg);
  return gst_webrtc_session_description_new (type, msg);
}

void
peer_answer_offer (const std::shared_ptr<Peer> &p, const std::string &sdp,
    std::function<void (bool)> done, const std::vector<std::string> &rejected)
{
  GstWebRTCSessionDescription *offer = parse_description (*p, GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  if (!offer) {
    done (false);
    return;
  }
  for (const auto &kind : rejected) {
    auto it = p->transceivers.find (kind);
    if (it != p->transceivers.end ())
      g_object_set (it->second, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE,
          NULL);
  }
  g_signal_emit_by_name (p->webrtc, "set-remote-description", offer, NULL);
  gst_webrtc_session_description_free (offer);
  create_then_set_local (p, "create-answer", std::move (done));
}

bool
peer_apply_answer (const std::shared_ptr<Peer> &p, const std::string &sdp)
{
  GstWebRTCSessionDescription *answer = parse_description (*p, GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  if (!answer)
    return false;
  g_signal_emit_by_name (p->webrtc, "set-remote-description", answer, NULL);
  gst_webrtc_session_description_free (answer);
  return true;
}

void
peer_add_candidate (const std::shared_ptr<Peer> &p, guint mline, const std::string &candidate)
{
  if (p->closed)
    return;
  /* webrtcbin 1.22 takes "" as "no more candidates" only from 1.24 on: skip it */
  if (candidate.empty () || !ice_accepts_candidates (*p))
    return;
  g_signal_emit_by_name (p->webrtc, "add-ice-candidate", mline, candidate.c_str ());
}

std::string
peer_local_sdp (const std::shared_ptr<Peer> &p)
{
  GstWebRTCSessionDescription *desc = nullptr;
  g_object_get (p->webrtc, "local-description", &desc, NULL);
  if (!desc)
    return "";
  ice_outgoing_sdp (*p, desc->sdp);   /* a copy: webrtcbin's stays as it is */
  char *text = gst_sdp_message_as_text (desc->sdp);
  std::string out = text;
  g_free (text);
  gst_webrtc_session_description_free (desc);
  return out;
}

void
peer_send (const std::shared_ptr<Peer> &p, const std::string &text)
{
  if (p->closed || (p->edge && p->edge->state == Edge::State::SILENT))
    return;
  if (p->ws && !p->switched &&
      soup_websocket_connection_get_state (p->ws) == SOUP_WEBSOCKET_STATE_OPEN) {
    soup_websocket_connection_send_text (p->ws, text.c_str ());
    return;
  }
  /* the client's channel, once it has opened; until then (it may not be announced yet)
   * the message waits for it */
  if (p->channel && p->channel_open)
    g_signal_emit_by_name (p->channel, "send-string", text.c_str ());
  else if (p->want_channel)
    p->queued.push_back (text);
}

static GstPadProbeReturn
drop_everything (GstPad *, GstPadProbeInfo *, gpointer)
{
  return GST_PAD_PROBE_DROP;
}

void
peer_set_silent (const std::shared_ptr<Peer> &p, bool silent)
{
  /* a silent edge stops sending media but closes nothing */
  for (const char *name : { "video", "audio" }) {
    GstPad *pad = gst_element_get_static_pad (p->bin, name);
    if (!pad)
      continue;
    if (silent)
      g_object_set_data (G_OBJECT (pad), "silence",
          GSIZE_TO_POINTER (gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM,
              drop_everything, nullptr, nullptr)));
    else if (gulong probe = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (pad), "silence")))
      gst_pad_remove_probe (pad, probe);
    gst_object_unref (pad);
  }
}

/* A closing peer's webrtcbin, kept until its data channel's close has gone out. */
struct Teardown {
  GstElement *bin = nullptr;
  std::shared_ptr<NetPath> net;   /* the close goes out through it */
  GstElement *pipeline = nullptr;
  GstWebRTCDataChannel *channel = nullptr;
  bool done = false;
};

static void on_closing_channel_closed (GstWebRTCDataChannel *, gpointer data);

static void
teardown_finish (const std::shared_ptr<Teardown> &t)
{
  if (t->done)
    return;
  t->done = true;
  if (t->channel) {
    g_signal_handlers_disconnect_matched (t->channel, G_SIGNAL_MATCH_FUNC, 0, 0, nullptr,
        (gpointer) on_closing_channel_closed, nullptr);
    gst_object_unref (t->channel);
  }
  gst_element_set_state (t->bin, GST_STATE_NULL);
  t->net.reset ();
  gst_bin_remove (GST_BIN (t->pipeline), t->bin);
  gst_object_unref (t->pipeline);
  the_cluster ().closing_peers--;
}

static void
on_closing_channel_closed (GstWebRTCDataChannel *, gpointer data)
{
  auto t = *static_cast<std::shared_ptr<Teardown> *> (data);
  run_on_main ([t] { teardown_finish (t); });
}

void
peer_close (const std::shared_ptr<Peer> &p)
{
  Cluster &c = the_cluster ();
  if (p->closed)
    return;
  p->closed = true;
  c.peers.erase (p->id);
  if (p->pending) {
    soup_server_message_set_status (p->pending, SOUP_STATUS_SERVICE_UNAVAILABLE, nullptr);
    soup_server_message_unpause (p->pending);
    g_object_unref (p->pending);
    p->pending = nullptr;
  }
  if (p->ws) {
    g_signal_handlers_disconnect_matched (p->ws, G_SIGNAL_MATCH_DATA, 0, 0, nullptr, nullptr,
        GUINT_TO_POINTER (p->id));
    if (soup_websocket_connection_get_state (p->ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (p->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, nullptr);
    g_object_unref (p->ws);
    p->ws = nullptr;
  }
  /* the media stops at once */
  for (GstPad **teepad : { &p->video_tee_pad, &p->audio_tee_pad }) {
    if (!*teepad)
      continue;
    GstElement *tee = gst_pad_get_parent_element (*teepad);
    GstPad *peer = gst_pad_get_peer (*teepad);
    if (peer) {
      gst_pad_unlink (*teepad, peer);
      gst_object_unref (peer);
    }
    if (tee) {
      gst_element_release_request_pad (tee, *teepad);
      gst_object_unref (tee);
    }
    gst_clear_object (teepad);
  }
  for (auto &kv : p->transceivers)
    gst_object_unref (kv.second);
  p->transceivers.clear ();
  gst_clear_object (&p->offer_channel);
  g_signal_handlers_disconnect_matched (p->webrtc, G_SIGNAL_MATCH_DATA, 0, 0, nullptr,
      nullptr, GUINT_TO_POINTER (p->id));

  auto t = std::make_shared<Teardown> ();
  t->bin = p->bin;
  t->net = std::move (p->net);
  t->pipeline = p->pipeline;
  p->pipeline = nullptr;
  t->channel = p->channel;
  p->channel = nullptr;
  c.closing_peers++;
  if (!t->channel) {
    teardown_finish (t);
    return;
  }
  /* The data channel closes first, so that the subscriber sees it go (it is how a
   * subscriber hears of an edge's death), and the peer connection goes once that close has
   * gone out: webrtcbin resets the channel's SCTP stream only after everything sent on it
   * is acknowledged, which the subscriber's SCTP delays by up to 200 ms. */
  g_signal_handlers_disconnect_matched (t->channel, G_SIGNAL_MATCH_DATA, 0, 0, nullptr,
      nullptr, GUINT_TO_POINTER (p->id));
  g_signal_connect_data (t->channel, "on-close", G_CALLBACK (on_closing_channel_closed),
      new std::shared_ptr<Teardown> (t),
      [] (gpointer data, GClosure *) { delete static_cast<std::shared_ptr<Teardown> *> (data); },
      GConnectFlags (0));
  g_signal_emit_by_name (t->channel, "close");
  run_later (CHANNEL_CLOSE_WAIT_MS, [t] { teardown_finish (t); });
}

}   // namespace cluster
