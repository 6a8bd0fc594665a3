/* red5prosrc: the element: its pads' templates, state changes (carried out by the
 * Subscriber), messages from inside, EOS and queries, the URI handler; its properties are in
 * gstred5prosrc-properties.cpp. */
/**
 * SECTION:element-red5prosrc
 *
 * Subscribes to a live stream on a Red5 Pro server or cluster over WebRTC and exposes
 * its media on "video" and "audio" source pads (depayloaded and parsed, or decoded with
 * decode=true). With a Stream Manager it first asks which edge serves the stream.
 * Subscriber events are posted as ELEMENT messages named "red5pro-event".
 *
 * gst-launch-1.0 red5prosrc host=sm.example.com tls=true stream-manager=sm2 \
 *     stream-name=stream1 decode=true name=src  src.video ! videoconvert ! autovideosink
 */
#include "gstred5prosrc-private.h"
#include "red5pro-events.h"
#include "red5pro-messages.h"

#include <cstring>
#include <memory>

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

using namespace red5pro;

/* How long stopping waits for the WHEP DELETE to reach the edge. */
#define TEARDOWN_DRAIN_MS 2000

static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE ("video",
    GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("video/x-vp8; video/x-vp9; video/x-h264; video/x-h265; video/x-av1; "
        "video/x-raw(ANY)"));
static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE ("audio",
    GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("audio/x-opus; audio/x-alaw; audio/x-mulaw; audio/x-speex; "
        "audio/mpeg, mpegversion=(int)4; audio/x-raw(ANY)"));

using State = GstRed5ProSrcState;

static void gst_red5pro_src_uri_handler_init (gpointer iface, gpointer data);

#define gst_red5pro_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstRed5ProSrc, gst_red5pro_src, GST_TYPE_BIN,
    G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER, gst_red5pro_src_uri_handler_init));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (red5prosrc, "red5prosrc", GST_RANK_NONE,
    GST_TYPE_RED5PRO_SRC,
    red5pro::debug_init ());

/* ---- GstBin / GstElement ----------------------------------------------------------- */

#define SUBSCRIBER(self) ((self)->state->subscriber)

/* Errors from inside an attempt (webrtcbin, DTLS, a chain) end that attempt; they are
 * reported through the same failure path instead of leaving a half-dead bin. */
static void
gst_red5pro_src_handle_message (GstBin *bin, GstMessage *msg)
{
  auto *self = GST_RED5PRO_SRC (bin);
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR || !GST_MESSAGE_SRC (msg) ||
      GST_OBJECT (GST_MESSAGE_SRC (msg)) == GST_OBJECT (self)) {
    GST_BIN_CLASS (parent_class)->handle_message (bin, msg);
    return;
  }
  g_autoptr (GError) err = nullptr;
  g_autofree gchar *dbg = nullptr;
  gst_message_parse_error (msg, &err, &dbg);
  GST_WARNING_OBJECT (self, "error inside an attempt from %s: %s (%s)",
      GST_MESSAGE_SRC_NAME (msg), err->message, GST_STR_NULL (dbg));
  std::string text = std::string (GST_MESSAGE_SRC_NAME (msg)) + ": " + err->message;
  /* not-linked: our pads combine their flows, so it comes out only when none is linked,
   * the application's pipeline is at fault, not the network */
  bool downstream = false;
  if (dbg && strstr (dbg, "not-linked")) {
    std::vector<std::string> unlinked = SUBSCRIBER (self)->outputs ().unlinked ();
    if (!unlinked.empty ()) {
      text = unlinked.size () == 1
          ? "the '" + unlinked[0] + "' pad of red5prosrc is not linked downstream"
          : std::string ("no pad of red5prosrc is linked downstream");
      downstream = true;
    }
  }
  SUBSCRIBER (self)->child_error (GST_MESSAGE_SRC (msg), text, downstream, err);
  gst_message_unref (msg);
}

/* EOS from the application (gst-launch-1.0 -e, a recorder stopping): out of our pads, so
 * muxers finish their files; the attempt itself keeps running until the state change. EOS
 * is serialized, and pushing it may wait behind a full queue downstream: it goes from a
 * thread of its own, never the caller's (often the application's main loop). */
static gboolean
gst_red5pro_src_send_event (GstElement *element, GstEvent *event)
{
  auto *self = GST_RED5PRO_SRC (element);
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    GST_INFO_OBJECT (self, "EOS from the application");
    gst_event_unref (event);
    SUBSCRIBER (self)->push_eos ();
    return TRUE;
  }
  return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
}

static GstStateChangeReturn
gst_red5pro_src_change_state (GstElement *element, GstStateChange transition)
{
  auto *self = GST_RED5PRO_SRC (element);
  State *st = self->state;
  Subscriber &sub = *st->subscriber;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY: {
      if (!gst_red5pro_src_check_settings (self))
        return GST_STATE_CHANGE_FAILURE;
      GST_OBJECT_LOCK (self);
      guint timeout_ms = st->props.request_timeout_ms;
      std::string ca_file = st->ca_file;
      g_autoptr (GTlsDatabase) db = st->tls_database
          ? G_TLS_DATABASE (g_object_ref (st->tls_database)) : nullptr;
      bool insecure = st->tls_insecure;
      GST_OBJECT_UNLOCK (self);
      if (!db && !ca_file.empty ()) {
        g_autoptr (GError) err = nullptr;
        /* GIO's file database wants an absolute path (a relative one loads no CA at all
         * and every certificate then looks untrusted): resolve against the working dir */
        g_autofree char *path = g_canonicalize_filename (ca_file.c_str (), nullptr);
        db = g_tls_file_database_new (path, &err);
        if (!db) {
          GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
              ("Could not load the CA certificates in '%s' (ca-file)", ca_file.c_str ()),
              ("%s", err->message));
          return GST_STATE_CHANGE_FAILURE;
        }
      }
      if (insecure)
        GST_WARNING_OBJECT (self, "tls-insecure=true: server certificates are NOT verified");
      sub.open (timeout_ms, db, insecure);
      break;
    }
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      sub.outputs ().prepare ();
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      sub.stop_playing ();
      break;
    default:
      break;
  }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL;   /* a live source */
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING: {
      GST_OBJECT_LOCK (self);
      SubscriberConfig cfg = st->props;
      RetryPolicy policy = st->policy;
      policy.playback_order = gst_red5pro_src_playback_order (self);
      GST_OBJECT_UNLOCK (self);
      policy.connect_timeout_ms = cfg.request_timeout_ms * 2;
      sub.play (cfg, policy);
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      sub.outputs ().reset ();
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      sub.close (TEARDOWN_DRAIN_MS);
      break;
    default:
      break;
  }
  return ret;
}

/* LATENCY: a live source's, that of the jitter buffers behind our pads, as the attempt
 * reports it (GstBin's default would ask the sinks inside, the data channel's, which are not
 * live); between attempts, the configured latency. URI: ours. */
static gboolean
gst_red5pro_src_query (GstElement *element, GstQuery *query)
{
  auto *self = GST_RED5PRO_SRC (element);
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    if (!SUBSCRIBER (self)->outputs ().query_latency (query)) {
      GST_OBJECT_LOCK (self);
      GstClockTime min = self->state->props.latency_ms * GST_MSECOND;
      GST_OBJECT_UNLOCK (self);
      gst_query_set_latency (query, TRUE, min, GST_CLOCK_TIME_NONE);
    }
    return TRUE;
  }
  if (GST_QUERY_TYPE (query) == GST_QUERY_URI) {
    /* also what gst_pad_create_stream_id() hashes: the same URI, the same stream ids */
    g_autofree gchar *uri = gst_uri_handler_get_uri (GST_URI_HANDLER (self));
    if (uri)
      gst_query_set_uri (query, uri);
    return uri != nullptr;
  }
  return GST_ELEMENT_CLASS (parent_class)->query (element, query);
}

/* ---- URI handler: red5pro://host[:port]/app/stream?property=value&... ----------------- */

static GstURIType
uri_get_type (GType)
{
  return GST_URI_SRC;
}

static const gchar *const *
uri_get_protocols (GType)
{
  static const gchar *protocols[] = { "red5pro", "red5pros", nullptr };
  return protocols;
}

static gchar *
uri_get_uri (GstURIHandler *handler)
{
  auto *self = GST_RED5PRO_SRC (handler);
  GST_OBJECT_LOCK (self);
  SubscriberConfig p = self->state->props;
  GST_OBJECT_UNLOCK (self);
  if (p.host.empty () || p.stream_name.empty ())
    return nullptr;
  GstUri *uri = gst_uri_new (p.tls ? "red5pros" : "red5pro", nullptr, p.host.c_str (),
      p.port ? p.port : GST_URI_NO_PORT, nullptr, nullptr, nullptr);
  GList *segments = nullptr;
  segments = g_list_append (segments, g_strdup (""));
  segments = g_list_append (segments, g_strdup (p.app.c_str ()));
  segments = g_list_append (segments, g_strdup (p.stream_name.c_str ()));
  gst_uri_set_path_segments (uri, segments);
  if (p.stream_manager != StreamManagerMode::NONE)
    gst_uri_set_query_value (uri, "stream-manager",
        p.stream_manager == StreamManagerMode::SM1 ? "sm1" : "sm2");
  gchar *s = gst_uri_to_string (uri);
  gst_uri_unref (uri);
  return s;
}

static gboolean
uri_set_uri (GstURIHandler *handler, const gchar *str, GError **error)
{
  auto *self = GST_RED5PRO_SRC (handler);
  GstUri *uri = gst_uri_from_string (str);
  if (!uri || !gst_uri_get_host (uri) || !*gst_uri_get_host (uri) ||
      gst_uri_get_userinfo (uri)) {
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
        "Invalid URI: expected red5pro[s]://host[:port]/app/stream (no user or password: "
        "set credentials as properties)");
    if (uri)
      gst_uri_unref (uri);
    return FALSE;
  }
  std::vector<std::string> path;
  GList *segs = gst_uri_get_path_segments (uri);
  for (GList *l = segs; l; l = l->next) {
    if (l->data && *static_cast<char *> (l->data))
      path.emplace_back (static_cast<char *> (l->data));
  }
  g_list_free_full (segs, g_free);
  if (path.size () < 2) {
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
        "URI '%s' names no app and stream: expected red5pro[s]://host[:port]/app/stream", str);
    gst_uri_unref (uri);
    return FALSE;
  }
  std::string stream = path[1];
  for (size_t i = 2; i < path.size (); i++)
    stream += "/" + path[i];

  /* query pairs are property names; check them all before changing anything */
  GHashTable *query = gst_uri_get_query_table (uri);
  GParamSpec *ps = nullptr;
  if (query) {
    GHashTableIter it;
    gpointer key, val;
    g_hash_table_iter_init (&it, query);
    while (g_hash_table_iter_next (&it, &key, &val)) {
      ps = g_object_class_find_property (G_OBJECT_GET_CLASS (self), (const char *) key);
      /* GStreamer logs URIs whole: a secret in one would end in a log */
      bool secret = ps && (g_str_equal (ps->name, "auth-token") ||
          g_str_equal (ps->name, "connection-params"));
      if (!ps || !(ps->flags & G_PARAM_WRITABLE) || !val || secret) {
        g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI, secret
            ? "URI parameter '%s' would carry secrets, and GStreamer logs URIs: set the "
              "property on the element instead (from playbin: in source-setup)"
            : "URI parameter '%s' is not a red5prosrc property", (const char *) key);
        g_hash_table_unref (query);
        gst_uri_unref (uri);
        return FALSE;
      }
    }
  }
  guint port = gst_uri_get_port (uri) == GST_URI_NO_PORT ? 0 : gst_uri_get_port (uri);
  g_object_set (self, "host", gst_uri_get_host (uri), "port", port,
      "tls", g_strcmp0 (gst_uri_get_scheme (uri), "red5pros") == 0,
      "app", path[0].c_str (), "stream-name", stream.c_str (), NULL);
  if (query) {
    GHashTableIter it;
    gpointer key, val;
    g_hash_table_iter_init (&it, query);
    while (g_hash_table_iter_next (&it, &key, &val))
      gst_util_set_object_arg (G_OBJECT (self), (const char *) key, (const char *) val);
    g_hash_table_unref (query);
  }
  gst_uri_unref (uri);
  return TRUE;
}

static void
gst_red5pro_src_uri_handler_init (gpointer g_iface, gpointer)
{
  auto *iface = static_cast<GstURIHandlerInterface *> (g_iface);
  iface->get_type = uri_get_type;
  iface->get_protocols = uri_get_protocols;
  iface->get_uri = uri_get_uri;
  iface->set_uri = uri_set_uri;
}

/* ---- action signals: talking to the server (protocol notes, section 15) --------------- */

/* The action signals' messages go on the red5pro channel: none with data-channel=false. */
static bool
has_channel (GstRed5ProSrc *self, const char *signal)
{
  GST_OBJECT_LOCK (self);
  bool yes = self->state->props.data_channel;
  GST_OBJECT_UNLOCK (self);
  if (!yes)
    GST_WARNING_OBJECT (self, "%s: not sent: data-channel=false leaves no channel to the "
        "server", signal);
  return yes;
}

/* "send": {"send":{"method","data"}} on the red5pro channel. */
static gboolean
gst_red5pro_src_send (GstRed5ProSrc *self, const gchar *method, const gchar *json_data)
{
  if (!has_channel (self, "send"))
    return FALSE;
  std::string text = send_message (method ? method : "", json_data ? json_data : "");
  if (text.empty ()) {
    GST_WARNING_OBJECT (self, "send: not sent: the method is empty or the data is not JSON "
        "of at most %" G_GSIZE_FORMAT " bytes", MAX_CLIENT_MESSAGE);
    return FALSE;
  }
  SUBSCRIBER (self)->send_client_message (ClientMessage { text, "", "", "" });
  return TRUE;
}

/* "call-server": a callAdapter call; returns its id (the Red5Pro.Call.Result's). */
static gchar *
gst_red5pro_src_call_server (GstRed5ProSrc *self, const gchar *method, const gchar *json_args)
{
  if (!has_channel (self, "call-server"))
    return nullptr;
  std::string id = make_call_id ();
  std::string text = call_message (method ? method : "", json_args ? json_args : "", id);
  if (text.empty ()) {
    GST_WARNING_OBJECT (self, "call-server: not sent: the method is empty or the arguments "
        "are not JSON of at most %" G_GSIZE_FORMAT " bytes", MAX_CLIENT_MESSAGE);
    return nullptr;
  }
  SUBSCRIBER (self)->send_client_message (ClientMessage { text, id, method, "" });
  return g_strdup (id.c_str ());
}

/* "switch-stream": the SDK's switchStreams to another stream (an ABR variant); a path
 * without an application is in the element's. */
static gboolean
gst_red5pro_src_switch_stream (GstRed5ProSrc *self, const gchar *path, gboolean immediate)
{
  if (!has_channel (self, "switch-stream"))
    return FALSE;
  std::string p = path ? path : "";
  if (!p.empty () && p.find ('/') == std::string::npos) {
    GST_OBJECT_LOCK (self);
    p = self->state->props.app + "/" + p;
    GST_OBJECT_UNLOCK (self);
  }
  std::string id = make_call_id ();
  std::string text = switch_streams_message (p, immediate, id);
  if (text.empty ()) {
    GST_WARNING_OBJECT (self, "switch-stream: no stream path given");
    return FALSE;
  }
  GST_INFO_OBJECT (self, "asking the server to switch to %s", p.c_str ());
  SUBSCRIBER (self)->send_client_message (ClientMessage { text, id, "switchStreams", p });
  return TRUE;
}

/* "set-muted": Red5 Pro's mute message; the pads stay, no EOS, no inactivity retry. */
static void
gst_red5pro_src_set_muted (GstRed5ProSrc *self, gboolean audio, gboolean video)
{
  if (!has_channel (self, "set-muted"))
    return;
  GST_INFO_OBJECT (self, "muted: audio %d, video %d", audio, video);
  SUBSCRIBER (self)->set_muted (audio, video);
}

static void
install_action_signals (GstRed5ProSrcClass *klass)
{
  GType type = G_TYPE_FROM_CLASS (klass);
  auto flags = GSignalFlags (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION);
  /**
   * GstRed5ProSrc::send:
   * @method: the method the server (and the publisher's clients) know it by
   * @data: JSON text (an object, usually), or %NULL for null
   *
   * Sends `{"send":{"method":..,"data":..}}` to the server on the red5pro data channel,
   * as the SDK's send(): kept until the channel is open (the SDK loses those), and while
   * no WebRTC connection runs, kept for the next (at most 16 messages).
   *
   * Returns: %FALSE when not sent: no method, data that is not JSON of at most 64 KiB, or
   * data-channel=false
   */
  g_signal_new_class_handler ("send", type, flags, G_CALLBACK (gst_red5pro_src_send),
      nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * GstRed5ProSrc::call-server:
   * @method: the server-side method
   * @arguments: JSON text: an array of arguments (one value is sent as an array of one)
   *
   * Calls a method on the server: `{"callAdapter":{"method","arguments"},"id","async":true}`.
   * Its answer is posted as the event Red5Pro.Call.Result with the same id.
   *
   * Returns: (transfer full) (nullable): the call's id, or %NULL when not sent (as for
   * send)
   */
  g_signal_new_class_handler ("call-server", type, flags,
      G_CALLBACK (gst_red5pro_src_call_server), nullptr, nullptr, nullptr, G_TYPE_STRING, 2,
      G_TYPE_STRING, G_TYPE_STRING);
  /**
   * GstRed5ProSrc::switch-stream:
   * @path: the stream to play, "app/stream" or "stream" (in the element's app)
   * @immediate: switch at once rather than at the next key frame
   *
   * Asks the server to send another stream on the same connection (the SDK's
   * switchStreams, for ABR variants); WebRTC.Subscribe.StreamSwitch is posted when it
   * confirms, and a failover after that subscribes to the new stream.
   *
   * Returns: %FALSE when no path is given, or with data-channel=false
   */
  g_signal_new_class_handler ("switch-stream", type, flags,
      G_CALLBACK (gst_red5pro_src_switch_stream), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN,
      2, G_TYPE_STRING, G_TYPE_BOOLEAN);
  /**
   * GstRed5ProSrc::set-muted:
   * @audio: pause the audio
   * @video: pause the video
   *
   * Asks the server to pause (or resume) each medium, keeping the connection: Red5 Pro's
   * mute message. The pads stay, no EOS is sent, and while all of the media is paused no
   * inactivity retry runs. It holds for the connections after a failover too. Nothing is
   * sent with data-channel=false (a warning in the log).
   */
  g_signal_new_class_handler ("set-muted", type, flags, G_CALLBACK (gst_red5pro_src_set_muted),
      nullptr, nullptr, nullptr, G_TYPE_NONE, 2, G_TYPE_BOOLEAN, G_TYPE_BOOLEAN);
}

/* ---- GObject ------------------------------------------------------------------------ */

static void
gst_red5pro_src_finalize (GObject *object)
{
  auto *self = GST_RED5PRO_SRC (object);
  self->state->subscriber.reset ();
  g_clear_object (&self->state->tls_database);
  delete self->state;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_red5pro_src_init (GstRed5ProSrc *self)
{
  self->state = new State ();
  self->state->subscriber = std::make_unique<Subscriber> (GST_ELEMENT (self), &video_template,
      &audio_template, [self] () {
    g_object_notify_by_pspec (G_OBJECT (self), gst_red5pro_src_stats_pspec);
  });
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
  gst_bin_set_suppressed_flags (GST_BIN (self),
      GstElementFlags (GST_ELEMENT_FLAG_SOURCE | GST_ELEMENT_FLAG_SINK));
}

static void
gst_red5pro_src_class_init (GstRed5ProSrcClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);

  gobject_class->set_property = gst_red5pro_src_set_property;
  gobject_class->get_property = gst_red5pro_src_get_property;
  gobject_class->finalize = gst_red5pro_src_finalize;
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_red5pro_src_change_state);
  element_class->send_event = GST_DEBUG_FUNCPTR (gst_red5pro_src_send_event);
  element_class->query = GST_DEBUG_FUNCPTR (gst_red5pro_src_query);
  bin_class->handle_message = GST_DEBUG_FUNCPTR (gst_red5pro_src_handle_message);
  gst_red5pro_src_install_properties (gobject_class);
  install_action_signals (klass);

  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_set_static_metadata (element_class, "Red5 Pro source",
      "Source/Network/WebRTC",
      "Subscribes to a Red5 Pro live stream over WebRTC (WHEP or Red5 Pro WebSocket "
      "signaling), with Stream Manager edge lookup and proxy, and fails over to a new "
      "edge on its own; posts Red5 Pro subscriber events on the bus",
      "gst-red5pro developers");

  gst_type_mark_as_plugin_api (GST_TYPE_RED5PRO_STREAM_MANAGER, GstPluginAPIFlags (0));
  gst_type_mark_as_plugin_api (GST_TYPE_RED5PRO_SIGNALING, GstPluginAPIFlags (0));
  gst_type_mark_as_plugin_api (GST_TYPE_RED5PRO_ICE_TRANSPORT, GstPluginAPIFlags (0));
  gst_type_mark_as_plugin_api (GST_TYPE_RED5PRO_STANDBY, GstPluginAPIFlags (0));
  gst_type_mark_as_plugin_api (GST_TYPE_RED5PRO_RENEGOTIATION_POLICY, GstPluginAPIFlags (0));
}
