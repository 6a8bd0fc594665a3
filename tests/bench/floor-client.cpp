/* floor-client: the pipeline, webrtcbin and its media for the floor client; the flow from
 * start (lookup, then WHEP or WebSocket) to the first frame. */
#include "floor-client.h"
#include "app-loop.h"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/nice/nice.h>
#include <nice/agent.h>

namespace bench {

namespace {

using Weak = std::weak_ptr<FloorClient>;

gpointer
weak_data (const std::shared_ptr<FloorClient> &self)
{
  return new Weak (self);
}

void
free_weak (gpointer data, GClosure *)
{
  delete static_cast<Weak *> (data);
}

std::shared_ptr<FloorClient>
from_data (gpointer data)
{
  return static_cast<Weak *> (data)->lock ();
}

}  // namespace

FloorClient::FloorClient (FloorOptions options) : opt_ (std::move (options))
{
  char id[32];
  g_snprintf (id, sizeof id, "floor-%04x", g_random_int_range (0, 0x10000));
  request_id_ = id;
}

FloorClient::~FloorClient ()
{
  stop ();
}

bool
FloorClient::start ()
{
  started_ = g_get_monotonic_time ();
  bool ok = false;
  /* as an application would: everything on its main loop */
  app_loop::call ([&] {
    ok = build ();
    if (ok)
      begin ();
  });
  return ok;
}

bool
FloorClient::failed () const
{
  std::lock_guard<std::mutex> g (error_lock_);
  return !error_.empty ();
}

std::string
FloorClient::error () const
{
  std::lock_guard<std::mutex> g (error_lock_);
  return error_;
}

std::string
FloorClient::edge ()
{
  std::string out;
  app_loop::call ([&] { out = edge_; });
  return out;
}

void
FloorClient::fail (const std::string &why)
{
  std::lock_guard<std::mutex> g (error_lock_);
  if (error_.empty ())
    error_ = why;
}

/* ---- the pipeline ---------------------------------------------------------------------- */

bool
FloorClient::build ()
{
  http_ = soup_session_new ();
  cancellable_ = g_cancellable_new ();
  pipeline_ = gst_pipeline_new (nullptr);
  webrtc_ = gst_element_factory_make ("webrtcbin", nullptr);
  if (!webrtc_) {
    fail ("no webrtcbin");
    return false;
  }
  g_object_set (webrtc_, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
  gst_bin_add (GST_BIN (pipeline_), webrtc_);

  /* host candidates on this address only, as the element's ice-addresses does */
  GstWebRTCICE *ice = nullptr;
  g_object_get (webrtc_, "ice-agent", &ice, NULL);
  NiceAgent *agent = nullptr;
  if (ice && GST_IS_WEBRTC_NICE (ice))
    g_object_get (ice, "agent", &agent, NULL);
  if (agent) {
    NiceAddress addr;
    nice_address_init (&addr);
    if (nice_address_set_from_string (&addr, opt_.ice_address.c_str ()))
      nice_agent_add_local_address (agent, &addr);
    g_object_unref (agent);
  }
  gst_clear_object (&ice);

  struct Kind {
    const char *caps;
    bool video;
  };
  for (Kind k : { Kind { "application/x-rtp,media=video,encoding-name=VP8,payload=96,"
                         "clock-rate=90000;"
                         "application/x-rtp,media=video,encoding-name=H264,payload=102,"
                         "clock-rate=90000,packetization-mode=(string)1,"
                         "profile-level-id=(string)42e01f,level-asymmetry-allowed=(string)1",
                         true },
           Kind { "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,"
                  "clock-rate=48000,encoding-params=(string)2", false } }) {
    GstCaps *caps = gst_caps_from_string (k.caps);
    GstWebRTCRTPTransceiver *trans = nullptr;
    g_signal_emit_by_name (webrtc_, "add-transceiver",
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &trans);
    if (trans && k.video)   /* NACKs, as a browser (and the element) asks */
      g_object_set (trans, "do-nack", TRUE, NULL);
    gst_clear_object (&trans);
    gst_caps_unref (caps);
  }

  auto self = shared_from_this ();
  auto connect = [&] (const char *signal, GCallback cb) {
    g_signal_connect_data (webrtc_, signal, cb, weak_data (self), free_weak, GConnectFlags (0));
  };
  connect ("pad-added", G_CALLBACK (on_pad_added_cb));
  connect ("on-ice-candidate", G_CALLBACK (on_ice_candidate_cb));
  connect ("notify::ice-gathering-state", G_CALLBACK (on_gathering_cb));

  if (gst_element_set_state (pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    fail ("webrtcbin refused PLAYING");
    return false;
  }
  /* the client opens the red5pro channel (protocol notes, section 4); opened before the
   * negotiation, it is in our offer and in our answer to the server's */
  if (opt_.data_channel)
    g_signal_emit_by_name (webrtc_, "create-data-channel", "red5pro", NULL, &channel_);
  return true;
}

void
FloorClient::begin ()
{
  if (!opt_.sm2_lookup) {
    edge_ = opt_.host;
    opt_.websocket ? ws_start () : whep_start ();
    return;
  }
  std::string url = "http://" + opt_.host + ":" + std::to_string (opt_.port) +
      "/as/v1/streams/stream/" + opt_.node_group + "/subscribe/" + opt_.app + "/" +
      opt_.stream;
  http ("GET", url, nullptr, "", [] (FloorClient &self, guint status, const std::string &body,
      const std::string &) {
    JsonParser *parser = json_parser_new ();
    JsonNode *root = status == 200 && json_parser_load_from_data (parser, body.c_str (), -1,
        nullptr) ? json_parser_get_root (parser) : nullptr;
    JsonArray *edges = root && JSON_NODE_HOLDS_ARRAY (root) ? json_node_get_array (root) : nullptr;
    JsonObject *best = edges && json_array_get_length (edges) > 0
        ? json_array_get_object_element (edges, 0) : nullptr;
    const char *address = best ? json_object_get_string_member_with_default (best,
        "serverAddress", nullptr) : nullptr;
    if (address)
      self.edge_ = address;
    g_object_unref (parser);
    if (self.edge_.empty ()) {
      self.fail ("Stream Manager lookup: HTTP " + std::to_string (status) + ", no edge");
      return;
    }
    self.opt_.websocket ? self.ws_start () : self.whep_start ();
  });
}

void
FloorClient::stop ()
{
  if (stopped_.exchange (true))
    return;
  app_loop::call ([this] {
    std::vector<GstPromise *> pending;
    {
      std::lock_guard<std::mutex> g (promises_lock_);
      pending.swap (promises_);
    }
    /* interrupted (the caller's way to say "no longer needed"; webrtcbin may still
     * reply, which an expired promise would refuse with a critical warning) */
    for (GstPromise *p : pending) {
      gst_promise_interrupt (p);
      gst_promise_unref (p);
    }
    if (cancellable_)
      g_cancellable_cancel (cancellable_);
    if (ws_) {
      g_signal_handlers_disconnect_matched (ws_, G_SIGNAL_MATCH_DATA, 0, 0, nullptr, nullptr,
          this);
      if (soup_websocket_connection_get_state (ws_) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (ws_, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
      g_clear_object (&ws_);
    }
    if (!resource_.empty () && http_) {
      /* the session resource goes, as a well-behaved WHEP client does it */
      SoupMessage *msg = soup_message_new ("DELETE", resource_.c_str ());
      if (msg)
        soup_session_send_and_read_async (http_, msg, G_PRIORITY_DEFAULT, nullptr,
            [] (GObject *session, GAsyncResult *res, gpointer data) {
              GBytes *b = soup_session_send_and_read_finish (SOUP_SESSION (session), res, nullptr);
              if (b)
                g_bytes_unref (b);
              g_object_unref (data);
            }, msg);
    }
    if (pipeline_) {
      gst_element_set_state (pipeline_, GST_STATE_NULL);
      gst_clear_object (&pipeline_);
    }
    webrtc_ = nullptr;
    gst_clear_object (&channel_);
    if (offer_) {
      gst_webrtc_session_description_free (offer_);
      offer_ = nullptr;
    }
    g_clear_object (&http_);
    g_clear_object (&cancellable_);
  });
}

/* ---- webrtcbin ------------------------------------------------------------------------- */

/* A promise whose reply (nullptr: none) is handled on the app loop while the client runs. */
GstPromise *
FloorClient::promise (Reply fn)
{
  struct Data {
    Weak self;
    Reply fn;
  };
  auto *data = new Data { weak_from_this (), std::move (fn) };
  GstPromise *p = gst_promise_new_with_change_func ([] (GstPromise *promise, gpointer d) {
    auto *data = static_cast<Data *> (d);
    auto self = data->self.lock ();
    if (!self)
      return;
    {
      std::lock_guard<std::mutex> g (self->promises_lock_);
      auto &v = self->promises_;
      for (auto it = v.begin (); it != v.end (); ++it) {
        if (*it == promise) {
          v.erase (it);
          gst_promise_unref (promise);   /* ours; the caller of this change holds another */
          break;
        }
      }
    }
    bool replied = gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED;
    const GstStructure *reply = replied ? gst_promise_get_reply (promise) : nullptr;
    GstStructure *copy = reply ? gst_structure_copy (reply) : nullptr;
    Weak weak = self;
    Reply fn = data->fn;
    app_loop::post ([weak, fn, replied, copy] {
      auto s = weak.lock ();
      if (s && !s->stopped_)
        fn (*s, replied, copy);
      if (copy)
        gst_structure_free (copy);
    });
  }, data, [] (gpointer d) { delete static_cast<Data *> (d); });
  std::lock_guard<std::mutex> g (promises_lock_);
  promises_.push_back (gst_promise_ref (p));
  return p;
}

static std::string
reply_error (bool replied, const GstStructure *reply)
{
  if (!replied)
    return "no reply";
  if (!reply || !gst_structure_has_field (reply, "error"))
    return "";
  GError *err = nullptr;
  gst_structure_get (reply, "error", G_TYPE_ERROR, &err, NULL);
  std::string out = err ? err->message : "error";
  g_clear_error (&err);
  return out;
}

static std::string
sdp_text (const GstWebRTCSessionDescription *desc)
{
  char *text = gst_sdp_message_as_text (desc->sdp);
  std::string out = text;
  g_free (text);
  return out;
}

void
FloorClient::create_offer (std::function<void (FloorClient &, GstWebRTCSessionDescription *)> done)
{
  GstPromise *p = promise ([done] (FloorClient &self, bool replied, const GstStructure *reply) {
    GstWebRTCSessionDescription *offer = nullptr;
    if (reply && gst_structure_has_field (reply, "offer"))
      gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
    if (!offer) {
      self.fail ("create-offer: " + reply_error (replied, reply));
      return;
    }
    done (self, offer);   /* takes it */
  });
  g_signal_emit_by_name (webrtc_, "create-offer", NULL, p);
  gst_promise_unref (p);
}

/* Applies a remote description; a failure is reported, nothing waits for it (webrtcbin
 * runs its operations in the order they were asked for). */
void
FloorClient::apply (GstWebRTCSDPType type, const std::string &sdp, const char *what)
{
  GstSDPMessage *msg = nullptr;
  gst_sdp_message_new (&msg);
  if (gst_sdp_message_parse_buffer (reinterpret_cast<const guint8 *> (sdp.data ()),
          guint (sdp.size ()), msg) != GST_SDP_OK) {
    gst_sdp_message_free (msg);
    fail (std::string (what) + " does not parse");
    return;
  }
  GstWebRTCSessionDescription *desc = gst_webrtc_session_description_new (type, msg);
  std::string label = what;
  GstPromise *p = promise ([label] (FloorClient &self, bool replied, const GstStructure *reply) {
    std::string err = reply_error (replied, reply);
    if (!err.empty ())
      self.fail ("set-remote-description (" + label + "): " + err);
  });
  g_signal_emit_by_name (webrtc_, "set-remote-description", desc, p);
  gst_promise_unref (p);
  gst_webrtc_session_description_free (desc);
}

/* The server's offer: applied, answered, the answer applied; done gets its text. */
void
FloorClient::answer_offer (const std::string &offer, Answered done)
{
  apply (GST_WEBRTC_SDP_TYPE_OFFER, offer, "the server's offer");
  GstPromise *p = promise ([done] (FloorClient &self, bool replied, const GstStructure *reply) {
    GstWebRTCSessionDescription *answer = nullptr;
    if (reply && gst_structure_has_field (reply, "answer"))
      gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
    if (!answer) {
      self.fail ("create-answer: " + reply_error (replied, reply));
      return;
    }
    g_signal_emit_by_name (self.webrtc_, "set-local-description", answer, NULL);
    std::string text = sdp_text (answer);
    gst_webrtc_session_description_free (answer);
    done (self, text);
  });
  g_signal_emit_by_name (webrtc_, "create-answer", NULL, p);
  gst_promise_unref (p);
}

/* An attribute of our local description's m-line (or the first that has it). */
std::string
FloorClient::local_attribute (const char *key, guint mline)
{
  GstWebRTCSessionDescription *local = nullptr;
  g_object_get (webrtc_, "local-description", &local, NULL);
  std::string out;
  for (guint i = 0; local && i < gst_sdp_message_medias_len (local->sdp) && out.empty (); i++) {
    if (mline != G_MAXUINT && i != mline)
      continue;
    const char *v = gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (local->sdp, i),
        key);
    out = v ? v : "";
  }
  if (local)
    gst_webrtc_session_description_free (local);
  return out;
}

void
FloorClient::on_ice_candidate_cb (GstElement *, guint mline, gchar *candidate, gpointer data)
{
  auto self = from_data (data);
  if (!self || !candidate)
    return;
  Weak weak = self;
  std::string c = candidate;
  app_loop::post ([weak, mline, c] {
    if (auto s = weak.lock (); s && !s->stopped_)
      s->on_candidate (mline, c);
  });
}

void
FloorClient::on_gathering_cb (GObject *webrtc, GParamSpec *, gpointer data)
{
  GstWebRTCICEGatheringState state;
  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  auto self = from_data (data);
  if (!self || state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    return;
  Weak weak = self;
  app_loop::post ([weak] {
    if (auto s = weak.lock (); s && !s->stopped_ && !s->gathered_) {
      s->gathered_ = true;
      s->on_gathered ();
    }
  });
}

void
FloorClient::on_candidate (guint mline, const std::string &candidate)
{
  if (!opt_.websocket) {
    candidates_.emplace_back (mline, candidate);   /* one trickle PATCH, once gathered */
    return;
  }
  JsonBuilder *b = ws_request ("handleCandidate");
  json_builder_set_member_name (b, "data");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "candidate");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "candidate");
  json_builder_add_string_value (b, candidate.c_str ());
  json_builder_set_member_name (b, "sdpMid");
  json_builder_add_string_value (b, local_attribute ("mid", mline).c_str ());
  json_builder_set_member_name (b, "sdpMLineIndex");
  json_builder_add_int_value (b, mline);
  json_builder_end_object (b);
  json_builder_end_object (b);
  ws_send (b);
}

void
FloorClient::on_gathered ()
{
  if (!opt_.websocket) {
    whep_trickle ();
    return;
  }
  JsonBuilder *b = ws_request ("handleCandidate");
  json_builder_set_member_name (b, "data");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "candidate");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "candidate");
  json_builder_set_member_name (b, "candidate");
  json_builder_add_string_value (b, "");
  json_builder_end_object (b);
  json_builder_end_object (b);
  ws_send (b);
}

/* ---- media: depayloader (+ parser) (+ decoder) into a fakesink, on webrtcbin's thread -- */

void
FloorClient::on_pad_added_cb (GstElement *, GstPad *pad, gpointer data)
{
  if (auto self = from_data (data); self && !self->stopped_ && GST_PAD_IS_SRC (pad))
    self->link_media (pad);
}

void
FloorClient::link_media (GstPad *pad)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, nullptr);
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  std::string media = gst_structure_get_string (s, "media") ?: "";
  std::string encoding = gst_structure_get_string (s, "encoding-name") ?: "";
  gst_caps_unref (caps);
  const char *chain = nullptr;
  if (encoding == "VP8")
    chain = opt_.decode ? "rtpvp8depay request-keyframe=true wait-for-keyframe=true ! vp8dec"
                        : "rtpvp8depay request-keyframe=true wait-for-keyframe=true";
  else if (encoding == "H264")
    chain = opt_.decode ? "rtph264depay request-keyframe=true wait-for-keyframe=true "
                          "! h264parse ! avdec_h264"
                        : "rtph264depay request-keyframe=true wait-for-keyframe=true "
                          "! h264parse";
  else if (encoding == "OPUS")
    chain = opt_.decode ? "rtpopusdepay ! opusdec" : "rtpopusdepay";
  std::string desc = std::string (chain ? chain : "identity") +
      " ! fakesink name=sink sync=false async=false";
  GError *err = nullptr;
  GstElement *bin = gst_parse_bin_from_description (desc.c_str (), TRUE, &err);
  if (!bin) {
    fail ("cannot build " + desc + ": " + (err ? err->message : "?"));
    g_clear_error (&err);
    return;
  }
  if (chain && (media == "video" || media == "audio")) {
    GstElement *sink = gst_bin_get_by_name (GST_BIN (bin), "sink");
    (media == "video" ? video : audio).attach (sink);
    gst_object_unref (sink);
  }
  gst_bin_add (GST_BIN (pipeline_), bin);
  gst_element_sync_state_with_parent (bin);
  GstPad *sinkpad = gst_element_get_static_pad (bin, "sink");
  if (GST_PAD_LINK_FAILED (gst_pad_link (pad, sinkpad)))
    fail ("cannot link the " + media + " pad");
  gst_object_unref (sinkpad);
}

/* ---- HTTP ------------------------------------------------------------------------------ */

void
FloorClient::http (const char *method, const std::string &url, const char *content_type,
    const std::string &body, HttpDone done)
{
  SoupMessage *msg = soup_message_new (method, url.c_str ());
  if (!msg) {
    fail ("bad URL: " + url);
    return;
  }
  if (content_type) {
    GBytes *b = g_bytes_new (body.data (), body.size ());
    soup_message_set_request_body_from_bytes (msg, content_type, b);
    g_bytes_unref (b);
  }
  struct Pending {
    Weak self;
    HttpDone done;
    SoupMessage *msg;
    std::string what;
  };
  auto *p = new Pending { weak_from_this (), std::move (done), msg, std::string (method) + " " + url };
  soup_session_send_and_read_async (http_, msg, G_PRIORITY_DEFAULT, cancellable_,
      [] (GObject *session, GAsyncResult *res, gpointer data) {
        std::unique_ptr<Pending> p (static_cast<Pending *> (data));
        GError *err = nullptr;
        GBytes *bytes = soup_session_send_and_read_finish (SOUP_SESSION (session), res, &err);
        auto self = p->self.lock ();
        if (self && !self->stopped_) {
          if (!bytes) {
            self->fail (p->what + ": " + (err ? err->message : "failed"));
          } else {
            gsize n = 0;
            const char *d = static_cast<const char *> (g_bytes_get_data (bytes, &n));
            const char *loc = soup_message_headers_get_one (
                soup_message_get_response_headers (p->msg), "Location");
            p->done (*self, soup_message_get_status (p->msg), std::string (d ? d : "", n),
                loc ? loc : "");
          }
        }
        if (bytes)
          g_bytes_unref (bytes);
        g_clear_error (&err);
        g_object_unref (p->msg);
      }, p);
}

}  // namespace bench
