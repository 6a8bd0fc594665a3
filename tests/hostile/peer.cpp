/* peer: the hostile server's honest part, a webrtcbin that sends live test video (VP8) and
 * audio (Opus) to one subscriber, so that the scenarios which lie about a real exchange
 * (a wrong fingerprint, candidates that lead nowhere) lie about something that works.
 * Also the SDP edits those scenarios make, with gstsdp. */
#include "hostile.h"

#include <gst/webrtc/nice/nice.h>
#include <nice/agent.h>

namespace hostile {

/* webrtcbin's callbacks come on its threads: they find their peer by id on main */
static std::map<guint, Peer *> &
live_peers ()
{
  static std::map<guint, Peer *> peers;
  return peers;
}

static guint next_peer_id = 1;

static const char *const MEDIA =
    "webrtcbin name=w bundle-policy=max-bundle "
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=160,height=120,framerate=15/1 "
    "! vp8enc deadline=1 cpu-used=16 keyframe-max-dist=15 target-bitrate=150000 "
    "! rtpvp8pay pt=96 picture-id-mode=2 ! queue ! w. "
    "audiotestsrc is-live=true wave=sine volume=0.1 ! audio/x-raw,rate=48000,channels=2 "
    "! opusenc ! rtpopuspay pt=111 ! queue ! w.";

static const char *const CODECS[] = {
  "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000",
  "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,"
  "encoding-params=(string)2",
};

Peer::Peer () : id_ (next_peer_id++)
{
  GError *err = nullptr;
  pipeline_ = gst_parse_launch (MEDIA, &err);
  if (!pipeline_) {
    g_printerr ("hostile: cannot build the media: %s\n", err ? err->message : "?");
    g_clear_error (&err);
    return;
  }
  webrtc_ = gst_bin_get_by_name (GST_BIN (pipeline_), "w");
  /* host candidates on 127.0.0.1 only */
  GstWebRTCICE *ice = nullptr;
  g_object_get (webrtc_, "ice-agent", &ice, NULL);
  NiceAgent *agent = nullptr;
  if (ice && GST_IS_WEBRTC_NICE (ice))
    g_object_get (ice, "agent", &agent, NULL);
  if (agent) {
    /* no UPnP port mapping: nothing of ours leaves loopback, not even SSDP discovery */
    g_object_set (agent, "upnp", FALSE, NULL);
    NiceAddress addr;
    nice_address_init (&addr);
    nice_address_set_from_string (&addr, "127.0.0.1");
    nice_agent_add_local_address (agent, &addr);
    g_object_unref (agent);
  }
  gst_clear_object (&ice);
  /* send only, one codec per kind (sink_0 video, sink_1 audio) */
  for (guint i = 0; i < 2; i++) {
    char name[16];
    g_snprintf (name, sizeof name, "sink_%u", i);
    GstPad *pad = gst_element_get_static_pad (webrtc_, name);
    if (!pad)
      continue;
    GstWebRTCRTPTransceiver *trans = nullptr;
    g_object_get (pad, "transceiver", &trans, NULL);
    GstCaps *caps = gst_caps_from_string (CODECS[i]);
    if (trans)
      g_object_set (trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
          "codec-preferences", caps, NULL);
    gst_caps_unref (caps);
    gst_clear_object (&trans);
    gst_object_unref (pad);
  }
  g_signal_connect (webrtc_, "notify::ice-gathering-state", G_CALLBACK (on_gathering_state),
      GUINT_TO_POINTER (id_));
  live_peers ()[id_] = this;
  gst_element_set_state (pipeline_, GST_STATE_PLAYING);
}

Peer::~Peer ()
{
  close ();
}

void
Peer::close ()
{
  if (closed_)
    return;
  closed_ = true;
  live_peers ().erase (id_);
  if (pipeline_) {
    g_signal_handlers_disconnect_by_data (webrtc_, GUINT_TO_POINTER (id_));
    gst_element_set_state (pipeline_, GST_STATE_NULL);
    gst_object_unref (webrtc_);
    gst_object_unref (pipeline_);
    webrtc_ = nullptr;
    pipeline_ = nullptr;
  }
  pending_ = nullptr;
}

void
Peer::on_gathering_state (GstElement *webrtc, GParamSpec *, gpointer data)
{
  GstWebRTCICEGatheringState st;
  g_object_get (webrtc, "ice-gathering-state", &st, NULL);
  if (st != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    return;
  guint id = GPOINTER_TO_UINT (data);
  on_main ([id] {
    auto it = live_peers ().find (id);
    if (it != live_peers ().end ())
      it->second->on_gathered ();
  });
}

/* The local description with every candidate, once both are there. */
void
Peer::on_gathered ()
{
  gathered_ = true;
  if (!described_ || !pending_ || closed_)
    return;
  GstWebRTCSessionDescription *desc = nullptr;
  g_object_get (webrtc_, "local-description", &desc, NULL);
  std::string text;
  if (desc) {
    char *t = gst_sdp_message_as_text (desc->sdp);
    text = t;
    g_free (t);
    gst_webrtc_session_description_free (desc);
  }
  auto done = std::move (pending_);
  pending_ = nullptr;
  done (text);
}

struct PromiseCtx {
  guint id;
};

static void
on_created (GstPromise *promise, gpointer data)
{
  guint id = static_cast<PromiseCtx *> (data)->id;
  GstWebRTCSessionDescription *desc = nullptr;
  const GstStructure *reply = gst_promise_get_reply (promise);
  if (reply) {
    if (gst_structure_has_field (reply, "offer"))
      gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
    else if (gst_structure_has_field (reply, "answer"))
      gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
  }
  gst_promise_unref (promise);
  on_main ([id, desc] {
    auto it = live_peers ().find (id);
    if (it != live_peers ().end ())
      it->second->created (desc);
    if (desc)
      gst_webrtc_session_description_free (desc);
  });
}

static GstPromise *
created_promise (guint id)
{
  return gst_promise_new_with_change_func (on_created, new PromiseCtx { id },
      [] (gpointer d) { delete static_cast<PromiseCtx *> (d); });
}

void
Peer::created (GstWebRTCSessionDescription *desc)
{
  if (!desc) {
    if (pending_) {
      auto done = std::move (pending_);
      pending_ = nullptr;
      done ("");
    }
    return;
  }
  g_signal_emit_by_name (webrtc_, "set-local-description", desc, NULL);
  described_ = true;
  if (gathered_)
    on_gathered ();
}

static GstWebRTCSessionDescription *
parse_description (GstWebRTCSDPType type, const std::string &sdp)
{
  GstSDPMessage *msg = nullptr;
  gst_sdp_message_new (&msg);
  if (gst_sdp_message_parse_buffer (reinterpret_cast<const guint8 *> (sdp.data ()),
          guint (sdp.size ()), msg) != GST_SDP_OK || gst_sdp_message_medias_len (msg) == 0) {
    gst_sdp_message_free (msg);
    return nullptr;
  }
  return gst_webrtc_session_description_new (type, msg);
}

void
Peer::answer (const std::string &offer, SdpDone done)
{
  GstWebRTCSessionDescription *desc = webrtc_ ? parse_description (GST_WEBRTC_SDP_TYPE_OFFER,
      offer) : nullptr;
  if (!desc) {
    done ("");
    return;
  }
  pending_ = std::move (done);
  g_signal_emit_by_name (webrtc_, "set-remote-description", desc, NULL);
  gst_webrtc_session_description_free (desc);
  g_signal_emit_by_name (webrtc_, "create-answer", NULL, created_promise (id_));
}

void
Peer::offer (SdpDone done)
{
  if (!webrtc_) {
    done ("");
    return;
  }
  /* an m=application section, so that the subscriber can open its red5pro channel */
  GstWebRTCDataChannel *channel = nullptr;
  g_signal_emit_by_name (webrtc_, "create-data-channel", "red5pro", NULL, &channel);
  gst_clear_object (&channel);
  pending_ = std::move (done);
  g_signal_emit_by_name (webrtc_, "create-offer", NULL, created_promise (id_));
}

bool
Peer::apply_answer (const std::string &answer)
{
  GstWebRTCSessionDescription *desc = webrtc_ ? parse_description (GST_WEBRTC_SDP_TYPE_ANSWER,
      answer) : nullptr;
  if (!desc)
    return false;
  g_signal_emit_by_name (webrtc_, "set-remote-description", desc, NULL);
  gst_webrtc_session_description_free (desc);
  return true;
}

void
Peer::add_candidate (guint mline, const std::string &candidate)
{
  /* webrtcbin 1.22 does not take "" (end of candidates) */
  if (webrtc_ && !candidate.empty ())
    g_signal_emit_by_name (webrtc_, "add-ice-candidate", mline, candidate.c_str ());
}

/* ---- SDP edits ---------------------------------------------------------------------- */

/* Parses sdp, lets edit change it, prints it back ("" when it does not parse). */
static std::string
edit_sdp (const std::string &sdp, const std::function<void (GstSDPMessage *)> &edit)
{
  GstSDPMessage *msg = nullptr;
  gst_sdp_message_new (&msg);
  std::string out;
  if (gst_sdp_message_parse_buffer (reinterpret_cast<const guint8 *> (sdp.data ()),
          guint (sdp.size ()), msg) == GST_SDP_OK) {
    edit (msg);
    char *text = gst_sdp_message_as_text (msg);
    out = text;
    g_free (text);
  }
  gst_sdp_message_free (msg);
  return out;
}

/* Replaces (or removes, value null) every attribute key in the session and each media. */
static void
replace_attribute (GstSDPMessage *msg, const char *key, const char *value)
{
  for (guint i = gst_sdp_message_attributes_len (msg); i > 0; i--) {
    const GstSDPAttribute *a = gst_sdp_message_get_attribute (msg, i - 1);
    if (g_strcmp0 (a->key, key) != 0)
      continue;
    if (value) {
      GstSDPAttribute attr;
      gst_sdp_attribute_set (&attr, key, value);
      gst_sdp_message_replace_attribute (msg, i - 1, &attr);
    } else {
      gst_sdp_message_remove_attribute (msg, i - 1);
    }
  }
  for (guint m = 0; m < gst_sdp_message_medias_len (msg); m++) {
    GstSDPMedia *media = const_cast<GstSDPMedia *> (gst_sdp_message_get_media (msg, m));
    for (guint i = gst_sdp_media_attributes_len (media); i > 0; i--) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i - 1);
      if (g_strcmp0 (a->key, key) != 0)
        continue;
      if (value) {
        GstSDPAttribute attr;
        gst_sdp_attribute_set (&attr, key, value);
        gst_sdp_media_replace_attribute (media, i - 1, &attr);
      } else {
        gst_sdp_media_remove_attribute (media, i - 1);
      }
    }
  }
}

std::string
sdp_with_fingerprint (const std::string &sdp, const std::string &fingerprint)
{
  return edit_sdp (sdp, [&] (GstSDPMessage *msg) {
    replace_attribute (msg, "fingerprint", fingerprint.c_str ());
  });
}

std::string
sdp_without_candidates (const std::string &sdp)
{
  return edit_sdp (sdp, [] (GstSDPMessage *msg) {
    replace_attribute (msg, "candidate", nullptr);
    replace_attribute (msg, "end-of-candidates", nullptr);
  });
}

std::string
sdp_with_candidates_at (const std::string &sdp, guint port)
{
  return edit_sdp (sdp, [port] (GstSDPMessage *msg) {
    replace_attribute (msg, "candidate", nullptr);
    char *cand = g_strdup_printf ("1 1 UDP 2015363327 127.0.0.1 %u typ host", port);
    for (guint m = 0; m < gst_sdp_message_medias_len (msg); m++) {
      GstSDPMedia *media = const_cast<GstSDPMedia *> (gst_sdp_message_get_media (msg, m));
      gst_sdp_media_add_attribute (media, "candidate", cand);
    }
    g_free (cand);
  });
}

std::string
sdp_with_setup (const std::string &sdp, const char *setup)
{
  return edit_sdp (sdp, [setup] (GstSDPMessage *msg) {
    replace_attribute (msg, "setup", setup);
  });
}

std::string
sdp_first_media_only (const std::string &sdp)
{
  GstSDPMessage *in = nullptr;
  gst_sdp_message_new (&in);
  std::string out;
  if (gst_sdp_message_parse_buffer (reinterpret_cast<const guint8 *> (sdp.data ()),
          guint (sdp.size ()), in) == GST_SDP_OK && gst_sdp_message_medias_len (in) > 0) {
    /* gstsdp 1.22 removes no media: a new message with the session part and media 0 */
    GstSDPMessage *msg = nullptr;
    gst_sdp_message_new (&msg);
    gst_sdp_message_set_version (msg, gst_sdp_message_get_version (in));
    const GstSDPOrigin *o = gst_sdp_message_get_origin (in);
    gst_sdp_message_set_origin (msg, o->username, o->sess_id, o->sess_version, o->nettype,
        o->addrtype, o->addr);
    gst_sdp_message_set_session_name (msg, gst_sdp_message_get_session_name (in));
    gst_sdp_message_add_time (msg, "0", "0", nullptr);
    for (guint i = 0; i < gst_sdp_message_attributes_len (in); i++) {
      const GstSDPAttribute *a = gst_sdp_message_get_attribute (in, i);
      gst_sdp_message_add_attribute (msg, a->key, g_strcmp0 (a->key, "group") == 0
          ? "BUNDLE 0" : a->value);
    }
    gst_sdp_message_add_media (msg, const_cast<GstSDPMedia *> (gst_sdp_message_get_media (in, 0)));
    char *text = gst_sdp_message_as_text (msg);
    out = text;
    g_free (text);
    gst_sdp_message_free (msg);
  }
  gst_sdp_message_free (in);
  return out;
}

}  // namespace hostile
