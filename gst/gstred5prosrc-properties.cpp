/* gstred5prosrc-properties: red5prosrc's properties: their specs with blurbs and defaults,
 * reading and writing them under the object lock, and checking them before READY. */
#include "gstred5prosrc-private.h"
#include "red5pro-codecs.h"
#include "red5pro-stats-report.h"
#include "red5pro-url.h"

using namespace red5pro;

enum {
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_APP,
  PROP_STREAM_NAME,
  PROP_TLS,
  PROP_STREAM_MANAGER,
  PROP_NODE_GROUP,
  PROP_REGION,
  PROP_SM_API_VERSION,
  PROP_SIGNALING,
  PROP_SUBSCRIPTION_ID,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_DECODE,
  PROP_DATA_CHANNEL,
  PROP_ICE_ADDRESSES,
  PROP_TIMEOUT,
  PROP_REQUEST_TIMEOUT,
  PROP_USE_PROXY,
  PROP_CONNECTION_PARAMS,
  PROP_AUTH_TOKEN,
  PROP_CA_FILE,
  PROP_TLS_DATABASE,
  PROP_TLS_INSECURE,
  PROP_RETRY_TIMEOUT,
  PROP_MAX_RETRIES,
  PROP_RETRY_BACKOFF_MAX,
  PROP_RETRY_ON_AUTH_FAILURE,
  PROP_INACTIVITY_TIMEOUT,
  PROP_LATENCY,
  PROP_RETRANSMISSION,
  PROP_REQUEST_KEYFRAMES,
  PROP_ICE_TRANSPORT_POLICY,
  PROP_ICE_TRANSPORT,
  PROP_VIDEO_ENCODING,
  PROP_AUDIO_ENCODING,
  PROP_MAINTAIN_STREAM_VARIANT,
  PROP_SIGNALING_SOCKET_ONLY,
  PROP_VIDEO_CODECS,
  PROP_AUDIO_CODECS,
  PROP_PLAYBACK_ORDER,
  PROP_FAILURES_BEFORE_FALLBACK,
  PROP_UPGRADE_INTERVAL,
  PROP_STANDBY,
  PROP_STANDBY_SWITCH_AFTER,
  PROP_RENEGOTIATION_POLICY,
  PROP_STATS_ENDPOINT,
  PROP_STATS_INTERVAL,
  PROP_STATS,
};

#define DEFAULT_PORT 0
#define DEFAULT_APP "live"
#define DEFAULT_TLS FALSE
#define DEFAULT_STREAM_MANAGER StreamManagerMode::NONE
#define DEFAULT_NODE_GROUP "default"
#define DEFAULT_SM_API_VERSION "4.0"
#define DEFAULT_SIGNALING SignalingProtocol::WHEP
#define DEFAULT_DECODE FALSE
#define DEFAULT_DATA_CHANNEL TRUE
#define DEFAULT_REQUEST_TIMEOUT 10000
#define DEFAULT_USE_PROXY FALSE
#define DEFAULT_RETRY_TIMEOUT 1000
#define DEFAULT_MAX_RETRIES -1
#define DEFAULT_RETRY_BACKOFF_MAX 30000
#define DEFAULT_RETRY_ON_AUTH_FAILURE FALSE
#define DEFAULT_INACTIVITY_TIMEOUT 2000
#define DEFAULT_LATENCY 200
#define DEFAULT_FAILURES_BEFORE_FALLBACK 2
#define DEFAULT_UPGRADE_INTERVAL 60000
#define DEFAULT_STANDBY Standby::NONE
#define DEFAULT_STANDBY_SWITCH_AFTER 200
#define DEFAULT_RENEGOTIATION_POLICY RenegotiationPolicy::DISCONNECT
#define DEFAULT_STATS_ENDPOINT nullptr
#define DEFAULT_STATS_INTERVAL 5000

GParamSpec *gst_red5pro_src_stats_pspec;

GType
gst_red5pro_stream_manager_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { int (StreamManagerMode::NONE), "No Stream Manager: host is the edge or standalone server",
      "none" },
    { int (StreamManagerMode::SM1), "Stream Manager 1.x (/streammanager/api/<version>)", "sm1" },
    { int (StreamManagerMode::SM2), "Stream Manager 2.0 (/as/v1, node groups)", "sm2" },
    { 0, nullptr, nullptr },
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstRed5ProStreamManager", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_red5pro_ice_transport_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { int (IceTransport::UDP), "ICE over UDP (and the signaling asks for it)", "udp" },
    { int (IceTransport::TCP), "ICE over TCP only, for networks that block UDP (the "
      "WebSocket signaling asks the server for transport tcp)", "tcp" },
    { 0, nullptr, nullptr },
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstRed5ProIceTransport", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_red5pro_renegotiation_policy_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { int (RenegotiationPolicy::NONE), "Health events are only posted; a failed peer "
      "connection is left to the inactivity timeout and the data channel's close", "none" },
    { int (RenegotiationPolicy::REGRESSION), "Also retry on StateRegression, StaleStats and "
      "ExcessiveRTT", "regression" },
    { int (RenegotiationPolicy::TIMEOUT), "Also retry on IceTimeout", "timeout" },
    { int (RenegotiationPolicy::DISCONNECT), "Retry when the peer connection fails (ICE "
      "failed); health events are only posted", "disconnect" },
    { 0, nullptr, nullptr },
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstRed5ProRenegotiationPolicy", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_red5pro_standby_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { int (Standby::NONE), "No standby: a failover tears down and connects again", "none" },
    { int (Standby::WARM), "A second subscription on another edge stays connected with its "
      "media paused by the server (Red5 Pro's mute message); taking over, it asks for the "
      "media again and goes on at its first key frame", "warm" },
    { int (Standby::HOT), "A second subscription on another edge receives media all the "
      "time and takes over at the frame after the last one shown", "hot" },
    { 0, nullptr, nullptr },
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstRed5ProStandby", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_red5pro_signaling_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { int (SignalingProtocol::WHEP), "WHEP over HTTP (Red5 Pro's server-offer flavour or RFC 9725)",
      "whep" },
    { int (SignalingProtocol::WEBSOCKET), "Red5 Pro WebSocket signaling (the server offers)",
      "websocket" },
    { 0, nullptr, nullptr },
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstRed5ProSignaling", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

gboolean
gst_red5pro_src_check_settings (GstRed5ProSrc *self)
{
  GST_OBJECT_LOCK (self);
  SubscriberConfig cfg = self->state->props;
  GST_OBJECT_UNLOCK (self);
  if (cfg.stream_name.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("No stream name given: set the 'stream-name' property"), (nullptr));
    return FALSE;
  }
  if (cfg.host.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("No server given: set the 'host' property (the edge, or the Stream Manager "
         "when 'stream-manager' is set)"), (nullptr));
    return FALSE;
  }
  if (!host_is_valid (cfg.host)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("'%s' is not a host name or IP address: set 'host' to one (no scheme, port or "
         "path; IPv6 zone ids cannot be used in URLs)", cfg.host.c_str ()), (nullptr));
    return FALSE;
  }
  for (bool video : { true, false }) {
    for (const auto &c : video ? cfg.video_codecs : cfg.audio_codecs) {
      if (!codec_is_known (c, video)) {
        GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
            ("'%s' is not a codec red5prosrc receives as %s: %s-codecs takes %s", c.c_str (),
                video ? "video" : "audio", video ? "video" : "audio",
                known_codecs (video).c_str ()), (nullptr));
        return FALSE;
      }
    }
  }
  if ((!cfg.video_encoding.empty () && !sdk_encoding (cfg.video_encoding, true)) ||
      (!cfg.audio_encoding.empty () && !sdk_encoding (cfg.audio_encoding, false))) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Unknown encoding: video-encoding takes VP8, H264 or NONE; audio-encoding takes "
         "Opus, PCMU, PCMA, Speex or NONE"), (nullptr));
    return FALSE;
  }
  /* over WHEP the server may name TURN servers (Link headers, SDK 15 / RFC 9725); a
   * WebSocket server cannot */
  if (cfg.relay_only && cfg.turn_server.empty () &&
      cfg.signaling == SignalingProtocol::WEBSOCKET) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("ice-transport-policy=relay needs a TURN server: set turn-server"), (nullptr));
    return FALSE;
  }
  if (!stats_endpoint_valid (cfg.stats_endpoint)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("'%s' is not a stats endpoint: stats-endpoint takes an http(s) URL, "
         "'data-channel', or nothing", redact_url (cfg.stats_endpoint).c_str ()), (nullptr));
    return FALSE;
  }
  if (cfg.stats_endpoint == STATS_DATA_CHANNEL && !cfg.data_channel) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("stats-endpoint=data-channel needs the red5pro data channel: set data-channel=true"),
        (nullptr));
    return FALSE;
  }
  if (cfg.video_codecs.empty () && cfg.audio_codecs.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Both video-codecs and audio-codecs are empty: nothing to receive"), (nullptr));
    return FALSE;
  }
  /* allowed, but said where a user sees it */
  if (!cfg.tls && !cfg.secrets ().empty ())
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("Credentials go unencrypted over plain http/ws to %s: set tls=true",
            cfg.host.c_str ()), ("auth-token or a secret connection parameter without tls"));
  GST_OBJECT_LOCK (self);
  bool insecure = self->state->tls_insecure;
  GST_OBJECT_UNLOCK (self);
  if (insecure && cfg.tls)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("tls-insecure=true: the certificates of %s and its edges are not verified, anyone "
         "on the way can impersonate them", cfg.host.c_str ()), (nullptr));
  if (cfg.use_proxy && cfg.stream_manager == StreamManagerMode::NONE) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("'use-proxy' needs a Stream Manager: set 'stream-manager' to sm1 or sm2"), (nullptr));
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  std::vector<std::string> order = self->state->playback_order;
  GST_OBJECT_UNLOCK (self);
  bool whep_used = order.empty () && cfg.signaling == SignalingProtocol::WHEP;
  for (const auto &name : order) {
    Tech t;
    if (!tech_from_name (name, &t)) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("'%s' is not a way to play: playback-order takes whep, websocket and hls",
              name.c_str ()), (nullptr));
      return FALSE;
    }
    whep_used |= t == Tech::WHEP;
  }
  if (cfg.use_proxy && cfg.stream_manager == StreamManagerMode::SM1 && whep_used) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("The Stream Manager 1.x proxy carries WebSocket signaling only: set "
         "signaling=websocket, or use-proxy=false"), (nullptr));
    return FALSE;
  }
  return TRUE;
}

/* ---- properties ---------------------------------------------------------------------- */

static void
set_string (std::string &field, const GValue *value, const char *fallback = "")
{
  const char *s = g_value_get_string (value);
  field = s ? s : fallback;
}

void
gst_red5pro_src_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  auto *self = GST_RED5PRO_SRC (object);
  GST_OBJECT_LOCK (self);
  SubscriberConfig &p = self->state->props;
  RetryPolicy &r = self->state->policy;
  switch (prop_id) {
    case PROP_HOST: set_string (p.host, value); break;
    case PROP_PORT: p.port = g_value_get_uint (value); break;
    case PROP_APP: set_string (p.app, value, DEFAULT_APP); break;
    case PROP_STREAM_NAME: set_string (p.stream_name, value); break;
    case PROP_TLS: p.tls = g_value_get_boolean (value); break;
    case PROP_STREAM_MANAGER:
      p.stream_manager = StreamManagerMode (g_value_get_enum (value));
      break;
    case PROP_NODE_GROUP: set_string (p.node_group, value, DEFAULT_NODE_GROUP); break;
    case PROP_REGION: set_string (p.region, value); break;
    case PROP_SM_API_VERSION: set_string (p.sm_api_version, value, DEFAULT_SM_API_VERSION); break;
    case PROP_SIGNALING: p.signaling = SignalingProtocol (g_value_get_enum (value)); break;
    case PROP_SUBSCRIPTION_ID: set_string (p.subscription_id, value); break;
    case PROP_STUN_SERVER: set_string (p.stun_server, value); break;
    case PROP_TURN_SERVER: set_string (p.turn_server, value); break;
    case PROP_DECODE: p.decode = g_value_get_boolean (value); break;
    case PROP_DATA_CHANNEL: p.data_channel = g_value_get_boolean (value); break;
    case PROP_ICE_ADDRESSES: {
      p.ice_addresses.clear ();
      const char *s = g_value_get_string (value);
      gchar **parts = g_strsplit (s ? s : "", ",", -1);
      for (gchar **it = parts; *it; it++) {
        g_strstrip (*it);
        if (**it)
          p.ice_addresses.emplace_back (*it);
      }
      g_strfreev (parts);
      break;
    }
    case PROP_TIMEOUT: p.request_timeout_ms = g_value_get_uint (value) * 1000; break;
    case PROP_REQUEST_TIMEOUT: p.request_timeout_ms = g_value_get_uint (value); break;
    case PROP_USE_PROXY: p.use_proxy = g_value_get_boolean (value); break;
    case PROP_CONNECTION_PARAMS: {
      p.connection_params.clear ();
      const GstStructure *params = gst_value_get_structure (value);
      if (params) {
        gst_structure_foreach (params, [] (GQuark field, const GValue *v, gpointer data) -> gboolean {
          auto *out = static_cast<std::vector<std::pair<std::string, std::string>> *> (data);
          gchar *text = G_VALUE_HOLDS_STRING (v) ? g_value_dup_string (v)
                                                 : gst_value_serialize (v);
          out->emplace_back (g_quark_to_string (field), text ? text : "");
          g_free (text);
          return TRUE;
        }, &p.connection_params);
      }
      break;
    }
    case PROP_AUTH_TOKEN: set_string (p.auth_token, value); break;
    case PROP_CA_FILE: set_string (self->state->ca_file, value); break;
    case PROP_TLS_DATABASE:
      g_clear_object (&self->state->tls_database);
      self->state->tls_database = G_TLS_DATABASE (g_value_dup_object (value));
      break;
    case PROP_TLS_INSECURE: self->state->tls_insecure = g_value_get_boolean (value); break;
    case PROP_RETRY_TIMEOUT: r.retry_timeout_ms = g_value_get_uint (value); break;
    case PROP_MAX_RETRIES: r.max_retries = g_value_get_int (value); break;
    case PROP_RETRY_BACKOFF_MAX: r.backoff_max_ms = g_value_get_uint (value); break;
    case PROP_RETRY_ON_AUTH_FAILURE: r.retry_on_auth_failure = g_value_get_boolean (value); break;
    case PROP_INACTIVITY_TIMEOUT: r.inactivity_timeout_ms = g_value_get_uint (value); break;
    case PROP_LATENCY: p.latency_ms = g_value_get_uint (value); break;
    case PROP_RETRANSMISSION: p.retransmission = g_value_get_boolean (value); break;
    case PROP_REQUEST_KEYFRAMES: p.request_keyframes = g_value_get_boolean (value); break;
    case PROP_ICE_TRANSPORT_POLICY:
      p.relay_only = g_value_get_enum (value) == GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY;
      break;
    case PROP_ICE_TRANSPORT: p.ice_transport = IceTransport (g_value_get_enum (value)); break;
    case PROP_VIDEO_ENCODING: set_string (p.video_encoding, value); break;
    case PROP_AUDIO_ENCODING: set_string (p.audio_encoding, value); break;
    case PROP_MAINTAIN_STREAM_VARIANT: p.maintain_stream_variant = g_value_get_boolean (value); break;
    case PROP_SIGNALING_SOCKET_ONLY: p.signaling_socket_only = g_value_get_boolean (value); break;
    case PROP_FAILURES_BEFORE_FALLBACK: r.fallback_after = g_value_get_uint (value); break;
    case PROP_UPGRADE_INTERVAL: r.upgrade_interval_ms = g_value_get_uint (value); break;
    case PROP_STANDBY: r.standby = Standby (g_value_get_enum (value)); break;
    case PROP_STANDBY_SWITCH_AFTER: r.standby_switch_after_ms = g_value_get_uint (value); break;
    case PROP_RENEGOTIATION_POLICY:
      p.renegotiation_policy = RenegotiationPolicy (g_value_get_enum (value));
      break;
    case PROP_STATS_ENDPOINT: set_string (p.stats_endpoint, value); break;
    case PROP_STATS_INTERVAL: p.stats_interval_ms = g_value_get_uint (value); break;
    case PROP_PLAYBACK_ORDER:
    case PROP_VIDEO_CODECS:
    case PROP_AUDIO_CODECS: {
      auto &codecs = prop_id == PROP_VIDEO_CODECS ? p.video_codecs
          : prop_id == PROP_AUDIO_CODECS ? p.audio_codecs : self->state->playback_order;
      codecs.clear ();
      for (guint i = 0; i < gst_value_array_get_size (value); i++) {
        const GValue *v = gst_value_array_get_value (value, i);
        if (G_VALUE_HOLDS_STRING (v) && g_value_get_string (v))
          codecs.emplace_back (g_value_get_string (v));
      }
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static const char *
or_null (const std::string &s)
{
  return s.empty () ? nullptr : s.c_str ();
}

void
gst_red5pro_src_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  auto *self = GST_RED5PRO_SRC (object);
  GST_OBJECT_LOCK (self);
  const SubscriberConfig &p = self->state->props;
  const RetryPolicy &r = self->state->policy;
  switch (prop_id) {
    case PROP_HOST: g_value_set_string (value, or_null (p.host)); break;
    case PROP_PORT: g_value_set_uint (value, p.port); break;
    case PROP_APP: g_value_set_string (value, p.app.c_str ()); break;
    case PROP_STREAM_NAME: g_value_set_string (value, or_null (p.stream_name)); break;
    case PROP_TLS: g_value_set_boolean (value, p.tls); break;
    case PROP_STREAM_MANAGER: g_value_set_enum (value, int (p.stream_manager)); break;
    case PROP_NODE_GROUP: g_value_set_string (value, p.node_group.c_str ()); break;
    case PROP_REGION: g_value_set_string (value, or_null (p.region)); break;
    case PROP_SM_API_VERSION: g_value_set_string (value, p.sm_api_version.c_str ()); break;
    case PROP_SIGNALING: g_value_set_enum (value, int (p.signaling)); break;
    case PROP_SUBSCRIPTION_ID: g_value_set_string (value, or_null (p.subscription_id)); break;
    case PROP_STUN_SERVER: g_value_set_string (value, or_null (p.stun_server)); break;
    case PROP_TURN_SERVER: g_value_set_string (value, or_null (p.turn_server)); break;
    case PROP_DECODE: g_value_set_boolean (value, p.decode); break;
    case PROP_DATA_CHANNEL: g_value_set_boolean (value, p.data_channel); break;
    case PROP_ICE_ADDRESSES: {
      std::string joined;
      for (const auto &a : p.ice_addresses)
        joined += (joined.empty () ? "" : ",") + a;
      g_value_set_string (value, or_null (joined));
      break;
    }
    case PROP_TIMEOUT: g_value_set_uint (value, MAX (1u, p.request_timeout_ms / 1000)); break;
    case PROP_REQUEST_TIMEOUT: g_value_set_uint (value, p.request_timeout_ms); break;
    case PROP_USE_PROXY: g_value_set_boolean (value, p.use_proxy); break;
    case PROP_CONNECTION_PARAMS: {
      if (p.connection_params.empty ()) {
        g_value_set_boxed (value, nullptr);
        break;
      }
      GstStructure *params = gst_structure_new_empty ("params");
      for (const auto &kv : p.connection_params)
        gst_structure_set (params, kv.first.c_str (), G_TYPE_STRING, kv.second.c_str (), NULL);
      g_value_take_boxed (value, params);
      break;
    }
    case PROP_CA_FILE: g_value_set_string (value, or_null (self->state->ca_file)); break;
    case PROP_TLS_DATABASE: g_value_set_object (value, self->state->tls_database); break;
    case PROP_TLS_INSECURE: g_value_set_boolean (value, self->state->tls_insecure); break;
    case PROP_RETRY_TIMEOUT: g_value_set_uint (value, r.retry_timeout_ms); break;
    case PROP_MAX_RETRIES: g_value_set_int (value, r.max_retries); break;
    case PROP_RETRY_BACKOFF_MAX: g_value_set_uint (value, r.backoff_max_ms); break;
    case PROP_RETRY_ON_AUTH_FAILURE: g_value_set_boolean (value, r.retry_on_auth_failure); break;
    case PROP_INACTIVITY_TIMEOUT: g_value_set_uint (value, r.inactivity_timeout_ms); break;
    case PROP_LATENCY: g_value_set_uint (value, p.latency_ms); break;
    case PROP_RETRANSMISSION: g_value_set_boolean (value, p.retransmission); break;
    case PROP_REQUEST_KEYFRAMES: g_value_set_boolean (value, p.request_keyframes); break;
    case PROP_ICE_TRANSPORT_POLICY:
      g_value_set_enum (value, p.relay_only ? GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY
                                            : GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL);
      break;
    case PROP_ICE_TRANSPORT: g_value_set_enum (value, int (p.ice_transport)); break;
    case PROP_VIDEO_ENCODING: g_value_set_string (value, or_null (p.video_encoding)); break;
    case PROP_AUDIO_ENCODING: g_value_set_string (value, or_null (p.audio_encoding)); break;
    case PROP_MAINTAIN_STREAM_VARIANT: g_value_set_boolean (value, p.maintain_stream_variant); break;
    case PROP_SIGNALING_SOCKET_ONLY: g_value_set_boolean (value, p.signaling_socket_only); break;
    case PROP_FAILURES_BEFORE_FALLBACK: g_value_set_uint (value, r.fallback_after); break;
    case PROP_UPGRADE_INTERVAL: g_value_set_uint (value, r.upgrade_interval_ms); break;
    case PROP_STANDBY: g_value_set_enum (value, int (r.standby)); break;
    case PROP_STANDBY_SWITCH_AFTER: g_value_set_uint (value, r.standby_switch_after_ms); break;
    case PROP_RENEGOTIATION_POLICY: g_value_set_enum (value, int (p.renegotiation_policy)); break;
    case PROP_STATS_ENDPOINT: g_value_set_string (value, or_null (p.stats_endpoint)); break;
    case PROP_STATS_INTERVAL: g_value_set_uint (value, p.stats_interval_ms); break;
    case PROP_PLAYBACK_ORDER:
    case PROP_VIDEO_CODECS:
    case PROP_AUDIO_CODECS:
      for (const auto &c : prop_id == PROP_VIDEO_CODECS ? p.video_codecs
               : prop_id == PROP_AUDIO_CODECS ? p.audio_codecs : self->state->playback_order) {
        GValue v = G_VALUE_INIT;
        g_value_init (&v, G_TYPE_STRING);
        g_value_set_string (&v, c.c_str ());
        gst_value_array_append_and_take_value (value, &v);
      }
      break;
    case PROP_STATS:
      GST_OBJECT_UNLOCK (self);
      g_value_take_boxed (value, self->state->subscriber->stats ());
      return;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

void
gst_red5pro_src_install_properties (GObjectClass *gobject_class)
{
  auto flags = GParamFlags (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY);

  g_object_class_install_property (gobject_class, PROP_HOST,
      g_param_spec_string ("host", "Host",
          "Red5 Pro server to subscribe from: the edge or standalone server, or the "
          "Stream Manager when stream-manager is not none", nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_uint ("port", "Port",
          "Port of the server, also used for the edges a Stream Manager returns "
          "(0 = 443 with tls, 5080 without)", 0, 65535, DEFAULT_PORT, flags));
  g_object_class_install_property (gobject_class, PROP_APP,
      g_param_spec_string ("app", "App",
          "Red5 Pro application (scope) the stream lives in", DEFAULT_APP, flags));
  g_object_class_install_property (gobject_class, PROP_STREAM_NAME,
      g_param_spec_string ("stream-name", "Stream name",
          "Name of the live stream to subscribe to (required)", nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_TLS,
      g_param_spec_boolean ("tls", "TLS",
          "Use https (and wss) for the Stream Manager and signaling", DEFAULT_TLS, flags));
  g_object_class_install_property (gobject_class, PROP_STREAM_MANAGER,
      g_param_spec_enum ("stream-manager", "Stream Manager",
          "Ask this kind of Stream Manager at host which edge serves the stream",
          GST_TYPE_RED5PRO_STREAM_MANAGER, int (DEFAULT_STREAM_MANAGER), flags));
  g_object_class_install_property (gobject_class, PROP_NODE_GROUP,
      g_param_spec_string ("node-group", "Node group",
          "Stream Manager 2.0 node group to look the edge up in", DEFAULT_NODE_GROUP, flags));
  g_object_class_install_property (gobject_class, PROP_REGION,
      g_param_spec_string ("region", "Region",
          "Stream Manager 1.x region to prefer (empty = any)", nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_SM_API_VERSION,
      g_param_spec_string ("sm-api-version", "Stream Manager API version",
          "Stream Manager 1.x API version in the lookup URL", DEFAULT_SM_API_VERSION, flags));
  g_object_class_install_property (gobject_class, PROP_SIGNALING,
      g_param_spec_enum ("signaling", "Signaling", "How to negotiate WebRTC with the edge",
          GST_TYPE_RED5PRO_SIGNALING, int (DEFAULT_SIGNALING), flags));
  g_object_class_install_property (gobject_class, PROP_SUBSCRIPTION_ID,
      g_param_spec_string ("subscription-id", "Subscription id",
          "Subscriber id sent to the server (empty = a new 'subscriber-xxxx' per attempt)",
          nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_STUN_SERVER,
      g_param_spec_string ("stun-server", "STUN server",
          "STUN server as stun://host:port (empty = none)", nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_TURN_SERVER,
      g_param_spec_string ("turn-server", "TURN server",
          "TURN server as turn(s)://user:password@host:port (empty = none)", nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_DECODE,
      g_param_spec_boolean ("decode", "Decode",
          "Output raw decoded media instead of depayloaded, parsed encoded media",
          DEFAULT_DECODE, flags));
  g_object_class_install_property (gobject_class, PROP_DATA_CHANNEL,
      g_param_spec_boolean ("data-channel", "Data channel",
          "Open the 'red5pro' data channel for server messages (WHEP signal=true)",
          DEFAULT_DATA_CHANNEL, flags));
  g_object_class_install_property (gobject_class, PROP_ICE_ADDRESSES,
      g_param_spec_string ("ice-addresses", "ICE addresses",
          "Comma-separated local IP addresses ICE may use for host candidates "
          "(empty = all interfaces)", nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_REQUEST_TIMEOUT,
      g_param_spec_uint ("request-timeout", "Request timeout",
          "Milliseconds each Stream Manager and signaling request may stay idle; an attempt "
          "without media after twice this long has failed", 1000, 3600000,
          DEFAULT_REQUEST_TIMEOUT, flags));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout (deprecated)",
          "The request timeout in seconds (deprecated: use request-timeout, in milliseconds)",
          1, 3600, DEFAULT_REQUEST_TIMEOUT / 1000,
          GParamFlags (flags | G_PARAM_DEPRECATED)));

  g_object_class_install_property (gobject_class, PROP_USE_PROXY,
      g_param_spec_boolean ("use-proxy", "Use proxy",
          "Signal through the Stream Manager's proxy instead of directly with the edge "
          "(SM 1.x: websocket only; SM 2.0: websocket and whep)", DEFAULT_USE_PROXY, flags));
  g_object_class_install_property (gobject_class, PROP_CONNECTION_PARAMS,
      g_param_spec_boxed ("connection-params", "Connection parameters",
          "Connection parameters sent as URL query pairs with the signaling, e.g. "
          "\"params,username=bob,password=secret,token=abc\"", GST_TYPE_STRUCTURE, flags));
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKEN,
      g_param_spec_string ("auth-token", "Auth token",
          "Token sent as 'Authorization: Bearer' to the Stream Manager 2.0 API, its proxies "
          "and WHEP, only to the origin (scheme, host, port) it is configured for: never after "
          "a redirect or Location elsewhere (write-only; never logged)", nullptr,
          GParamFlags (G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_CA_FILE,
      g_param_spec_string ("ca-file", "CA file",
          "PEM file of the certificate authorities to trust for https/wss instead of the "
          "system's (e.g. a private CA)", nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_TLS_DATABASE,
      g_param_spec_object ("tls-database", "TLS database",
          "TLS database to verify server certificates with (overrides ca-file; "
          "default: the system trust store)", G_TYPE_TLS_DATABASE, flags));
  g_object_class_install_property (gobject_class, PROP_TLS_INSECURE,
      g_param_spec_boolean ("tls-insecure", "TLS insecure",
          "Accept any server certificate (logs a warning; for testing only)", FALSE, flags));
  g_object_class_install_property (gobject_class, PROP_RETRY_TIMEOUT,
      g_param_spec_uint ("retry-timeout", "Retry timeout",
          "Milliseconds to wait after a failure (lost or failed connection, unpublish, "
          "inactivity) before a new edge lookup and connect (0 = no retry: failures are "
          "errors)", 0, G_MAXINT, DEFAULT_RETRY_TIMEOUT, flags));
  g_object_class_install_property (gobject_class, PROP_MAX_RETRIES,
      g_param_spec_int ("max-retries", "Max retries",
          "Consecutive retries without receiving media before giving up with EOS and an "
          "error (-1 = retry forever)", -1, G_MAXINT, DEFAULT_MAX_RETRIES, flags));
  g_object_class_install_property (gobject_class, PROP_RETRY_BACKOFF_MAX,
      g_param_spec_uint ("retry-backoff-max", "Retry backoff maximum",
          "After the first retry (at retry-timeout), consecutive failures without media wait "
          "twice as long each time, up to this many milliseconds, with up to half of each "
          "taken off at random so that clients cut off together do not return together "
          "(0 or not above retry-timeout = always retry-timeout)", 0, G_MAXINT,
          DEFAULT_RETRY_BACKOFF_MAX, flags));
  g_object_class_install_property (gobject_class, PROP_RETRY_ON_AUTH_FAILURE,
      g_param_spec_boolean ("retry-on-auth-failure", "Retry on authentication failure",
          "Also retry when the server rejects the credentials (otherwise that is an error)",
          DEFAULT_RETRY_ON_AUTH_FAILURE, flags));
  g_object_class_install_property (gobject_class, PROP_INACTIVITY_TIMEOUT,
      g_param_spec_uint ("inactivity-timeout", "Inactivity timeout",
          "Milliseconds without RTP while subscribed after which the connection counts as "
          "lost (0 = never)", 0, G_MAXUINT, DEFAULT_INACTIVITY_TIMEOUT, flags));
  g_object_class_install_property (gobject_class, PROP_ICE_TRANSPORT_POLICY,
      g_param_spec_enum ("ice-transport-policy", "ICE transport policy",
          "all: any candidate pair; relay: only through a TURN server (turn-server, or one a "
          "WHEP server names in Link headers; WebSocket signaling needs turn-server)",
          GST_TYPE_WEBRTC_ICE_TRANSPORT_POLICY, GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL, flags));
  g_object_class_install_property (gobject_class, PROP_ICE_TRANSPORT,
      g_param_spec_enum ("ice-transport", "ICE transport",
          "Transport of the ICE candidates, and what the WebSocket signaling asks for "
          "(the SDK's transport)", GST_TYPE_RED5PRO_ICE_TRANSPORT, int (IceTransport::UDP),
          flags));
  g_object_class_install_property (gobject_class, PROP_VIDEO_ENCODING,
      g_param_spec_string ("video-encoding", "Video encoding",
          "Video encoding to ask the server for, as the SDK's videoEncoding: VP8, H264, or "
          "NONE for no video (empty = the server chooses)", nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_AUDIO_ENCODING,
      g_param_spec_string ("audio-encoding", "Audio encoding",
          "Audio encoding to ask the server for, as the SDK's audioEncoding: Opus, PCMU, PCMA, "
          "Speex, or NONE for no audio (empty = the server chooses)", nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_MAINTAIN_STREAM_VARIANT,
      g_param_spec_boolean ("maintain-stream-variant", "Maintain stream variant",
          "Ask the server to keep sending the stream variant it starts with (the SDK's "
          "maintainStreamVariant, sent as doNotSwitch)", FALSE, flags));
  g_object_class_install_property (gobject_class, PROP_SIGNALING_SOCKET_ONLY,
      g_param_spec_boolean ("signaling-socket-only", "Signaling socket only",
          "WebSocket signaling: the socket only negotiates; the server's messages move to the "
          "red5pro data channel once it is up, and the socket closes (the SDK's "
          "signalingSocketOnly). false: the socket stays", TRUE, flags));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Milliseconds the jitter buffers wait for late or lost packets; the element's "
          "latency in the pipeline", 0, 60000, DEFAULT_LATENCY, flags));
  g_object_class_install_property (gobject_class, PROP_RETRANSMISSION,
      g_param_spec_boolean ("retransmission", "Retransmission",
          "Ask the server again for lost video packets (RTCP NACK; RTX where the server "
          "offers it), within the latency, as a browser does", TRUE, flags));
  g_object_class_install_property (gobject_class, PROP_REQUEST_KEYFRAMES,
      g_param_spec_boolean ("request-keyframes", "Request key frames",
          "Ask the server for a key frame (RTCP PLI) when a video frame cannot be completed, "
          "instead of waiting for the next periodic one; frames until then are dropped, not "
          "passed on broken", TRUE, flags));
  g_object_class_install_property (gobject_class, PROP_VIDEO_CODECS,
      gst_param_spec_array ("video-codecs", "Video codecs",
          "Video codecs to accept, by RTP name (of VP8, H264, VP9, H265; our offer lists "
          "them in this order); "
          "empty (<>) = receive no video",
          g_param_spec_string ("video-codec", "Video codec", "A video codec", nullptr,
              GParamFlags (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)), flags));
  g_object_class_install_property (gobject_class, PROP_AUDIO_CODECS,
      gst_param_spec_array ("audio-codecs", "Audio codecs",
          "Audio codecs to accept, by RTP name (of OPUS, PCMU, PCMA, SPEEX; our offer lists them "
          "in this order); "
          "empty (<>) = receive no audio",
          g_param_spec_string ("audio-codec", "Audio codec", "An audio codec", nullptr,
              GParamFlags (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)), flags));
  g_object_class_install_property (gobject_class, PROP_PLAYBACK_ORDER,
      gst_param_spec_array ("playback-order", "Playback order",
          "Ways to play, in order of preference: whep, websocket (WebRTC with that "
          "signaling), hls. After failures-before-fallback attempts of one without media, "
          "the next is tried; on a lower one, the first is tried again every "
          "upgrade-interval and takes over without a gap once it has media. "
          "Empty (<>) = the signaling property alone. e.g. \"<whep, hls>\"",
          g_param_spec_string ("tech", "Tech", "whep, websocket or hls", nullptr,
              GParamFlags (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)), flags));
  g_object_class_install_property (gobject_class, PROP_FAILURES_BEFORE_FALLBACK,
      g_param_spec_uint ("failures-before-fallback", "Failures before fallback",
          "Attempts in a row of one playback-order tech that bring no media before the "
          "next is tried", 1, 100, DEFAULT_FAILURES_BEFORE_FALLBACK, flags));
  g_object_class_install_property (gobject_class, PROP_UPGRADE_INTERVAL,
      g_param_spec_uint ("upgrade-interval", "Upgrade interval",
          "Milliseconds between tries of the first playback-order tech while playing with "
          "a lower one (0 = stay on the lower one)", 0, G_MAXUINT,
          DEFAULT_UPGRADE_INTERVAL, flags));
  g_object_class_install_property (gobject_class, PROP_STANDBY,
      g_param_spec_enum ("standby", "Standby",
          "A second WebRTC subscription on another edge than the current one (Stream "
          "Manager lookups only), made once media flows, that takes over the pads when the "
          "current one fails, without a gap (Red5Pro.Standby.* events)",
          GST_TYPE_RED5PRO_STANDBY, int (DEFAULT_STANDBY), flags));
  g_object_class_install_property (gobject_class, PROP_STANDBY_SWITCH_AFTER,
      g_param_spec_uint ("standby-switch-after", "Standby switch after",
          "Milliseconds of silence of the current subscription after which a hot standby "
          "that has media takes over (instead of waiting for inactivity-timeout)", 10, 60000,
          DEFAULT_STANDBY_SWITCH_AFTER, flags));
  g_object_class_install_property (gobject_class, PROP_RENEGOTIATION_POLICY,
      g_param_spec_enum ("renegotiation-policy", "Renegotiation policy",
          "Which of SDK 15's connection health events (WebRTC.Connection.*, checked every "
          "stats-interval) also start a retry, named after the event (Reconnect.Start "
          "beside Red5Pro.Retry.Scheduled)",
          GST_TYPE_RED5PRO_RENEGOTIATION_POLICY, int (DEFAULT_RENEGOTIATION_POLICY), flags));
  g_object_class_install_property (gobject_class, PROP_STATS_ENDPOINT,
      g_param_spec_string ("stats-endpoint", "Stats endpoint",
          "Where stats reports (Red5 Pro SDK RTCSubscriberStats envelopes: codec, candidate "
          "pair, inbound RTP per medium, started/ended) go every stats-interval: an http(s) "
          "URL they are POSTed to as JSON, 'data-channel' (the red5pro data channel), or "
          "empty for the WebRTC.Stats.Report bus event only (posted in every case). The "
          "server may name another (Subscribe.StatisticsEndpoint.Change). An endpoint that "
          "fails is warned of once and never disturbs playback",
          DEFAULT_STATS_ENDPOINT, flags));
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint ("stats-interval", "Stats interval",
          "Milliseconds between two stats reports of the WebRTC subscription", 100, G_MAXINT,
          DEFAULT_STATS_INTERVAL, flags));
  gst_red5pro_src_stats_pspec = g_param_spec_boxed ("stats", "Statistics",
      "Subscriber statistics: state, attempts, connections, retries, edge, tech (whep, "
      "websocket or hls), connected-ms, "
      "last-frame-time (real time, us), last-failure, packets-received, bytes-received, "
      "frames-received (video frames out), frames-dropped (could not be completed, or "
      "dropped until a key frame), freezes, freeze-duration-ms, keyframes-requested, "
      "retransmissions-requested, retransmissions-received, standby (none, connecting, "
      "ready), standby-edge, standby-network (its video's, as video-network), "
      "stats-reports-sent and stats-reports-failed (envelopes delivered to stats-endpoint "
      "and dropped), and per "
      "medium, refreshed every second once stats has been read, video-network and "
      "audio-network: packets-received, "
      "packets-lost, fraction-lost (last second), jitter-ms, bitrate (bits/s), nack-count, "
      "pli-count, fir-count (no round-trip time: webrtcbin has none for received streams); "
      "notify::stats fires on every state change",
      GST_TYPE_STRUCTURE, GParamFlags (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_STATS,
      gst_red5pro_src_stats_pspec);

}

std::vector<Tech>
gst_red5pro_src_playback_order (GstRed5ProSrc *self)
{
  std::vector<Tech> order;
  for (const auto &name : self->state->playback_order) {
    Tech t;
    if (tech_from_name (name, &t))
      order.push_back (t);
  }
  if (order.empty ())
    order.push_back (self->state->props.signaling == SignalingProtocol::WEBSOCKET
        ? Tech::WEBSOCKET : Tech::WHEP);
  return order;
}
