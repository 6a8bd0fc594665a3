/* red5pro-stats-report: the SDK's stats envelopes and their way to the endpoint. */
#include "red5pro-stats-report.h"
#include "red5pro-events.h"
#include "red5pro-quality.h"

#include <gst/webrtc/webrtc.h>

#include <algorithm>

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

namespace {

std::string
random_fingerprint ()
{
  char buf[40];
  g_snprintf (buf, sizeof buf, "%08x%08x%08x%08x", g_random_int (), g_random_int (),
      g_random_int (), g_random_int ());
  return buf;
}

/* "packets-received" → "packetsReceived" (the W3C names are webrtcbin's in camel case) */
std::string
camel_case (const char *name)
{
  std::string out;
  bool upper = false;
  for (const char *c = name; *c; c++) {
    if (*c == '-' || *c == '_') {
      upper = true;
      continue;
    }
    out += upper ? g_ascii_toupper (*c) : *c;
    upper = false;
  }
  return out;
}

std::string
node_text (JsonNode *node)
{
  g_autofree char *text = json_to_string (node, FALSE);
  return text ? text : "";
}

/* The scalar fields of one webrtcbin stats entry as a JSON object (camel case), but for
 * its GStreamer extras (gst-*), nested structures and its monotonic timestamp. */
JsonObject *
stats_object (const GstStructure *entry, gint64 now_ms)
{
  JsonObject *o = json_object_new ();
  for (gint i = 0; i < gst_structure_n_fields (entry); i++) {
    const char *field = gst_structure_nth_field_name (entry, i);
    const GValue *v = gst_structure_get_value (entry, field);
    if (g_str_has_prefix (field, "gst-") || g_str_equal (field, "timestamp"))
      continue;
    std::string name = camel_case (field);
    if (G_VALUE_HOLDS (v, GST_TYPE_WEBRTC_STATS_TYPE)) {
      auto *klass = static_cast<GEnumClass *> (g_type_class_ref (GST_TYPE_WEBRTC_STATS_TYPE));
      GEnumValue *e = g_enum_get_value (klass, g_value_get_enum (v));
      json_object_set_string_member (o, name.c_str (), e ? e->value_nick : "");
      g_type_class_unref (klass);
    } else if (G_VALUE_HOLDS_STRING (v)) {
      const char *s = g_value_get_string (v);
      json_object_set_string_member (o, name.c_str (), s ? s : "");
    } else if (G_VALUE_HOLDS_BOOLEAN (v)) {
      json_object_set_boolean_member (o, name.c_str (), g_value_get_boolean (v));
    } else if (G_VALUE_HOLDS_DOUBLE (v) || G_VALUE_HOLDS_FLOAT (v)) {
      json_object_set_double_member (o, name.c_str (), G_VALUE_HOLDS_DOUBLE (v)
          ? g_value_get_double (v) : g_value_get_float (v));
    } else if (G_VALUE_HOLDS_INT (v)) {
      json_object_set_int_member (o, name.c_str (), g_value_get_int (v));
    } else if (G_VALUE_HOLDS_UINT (v)) {
      json_object_set_int_member (o, name.c_str (), g_value_get_uint (v));
    } else if (G_VALUE_HOLDS_INT64 (v)) {
      json_object_set_int_member (o, name.c_str (), g_value_get_int64 (v));
    } else if (G_VALUE_HOLDS_UINT64 (v)) {
      json_object_set_int_member (o, name.c_str (), gint64 (MIN (g_value_get_uint64 (v),
          guint64 (G_MAXINT64))));
    }
  }
  json_object_set_int_member (o, "timestamp", now_ms);
  return o;
}

GstWebRTCStatsType
entry_type (const GstStructure *entry)
{
  GstWebRTCStatsType type = GstWebRTCStatsType (0);
  gst_structure_get (entry, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL);
  return type;
}

/* every stats entry of a reply, in the reply's order */
std::vector<const GstStructure *>
entries (const GstStructure *stats)
{
  std::vector<const GstStructure *> out;
  for (gint i = 0; i < gst_structure_n_fields (stats); i++) {
    const GValue *v = gst_structure_get_value (stats, gst_structure_nth_field_name (stats, i));
    if (GST_VALUE_HOLDS_STRUCTURE (v))
      out.push_back (gst_value_get_structure (v));
  }
  return out;
}

JsonNode *
object_node (JsonObject *o)
{
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, o);
  return n;
}

}  // namespace

/* ---- the envelopes ----------------------------------------------------------------------- */

StatsReport::StatsReport (std::string fingerprint)
  : fingerprint_ (fingerprint.empty () ? random_fingerprint () : std::move (fingerprint)),
    created_ms_ (g_get_real_time () / 1000)
{
}

void
StatsReport::restart ()
{
  created_ms_ = g_get_real_time () / 1000;
  subscription_.clear ();
  bytes_.clear ();
}

std::string
StatsReport::envelope (const StatsClient &client, JsonNode *data, gint64 now_ms)
{
  JsonObject *device = json_object_new ();
  json_object_set_string_member (device, "userAgent", "gst-red5pro/" PACKAGE_VERSION);
  g_autofree char *os = g_get_os_info (G_OS_INFO_KEY_PRETTY_NAME);
  json_object_set_string_member (device, "platform", os ? os : "unknown");
  g_autofree char *gst = gst_version_string ();
  json_object_set_string_member (device, "gstreamer", gst);

  JsonObject *params = json_object_new ();
  for (const auto &kv : client.connection_params)
    json_object_set_string_member (params, kv.first.c_str (),
        key_is_secret (kv.first) ? "***" : kv.second.c_str ());
  JsonObject *c = json_object_new ();
  json_object_set_string_member (c, "host", client.host.c_str ());
  json_object_set_string_member (c, "app", client.app.c_str ());
  json_object_set_string_member (c, "streamName", client.stream_name.c_str ());
  json_object_set_string_member (c, "subscriptionId", client.subscription_id.c_str ());
  json_object_set_object_member (c, "connectionParams", params);

  JsonObject *e = json_object_new ();
  json_object_set_string_member (e, "name", "RTCSubscriberStats");
  json_object_set_int_member (e, "created", created_ms_);
  json_object_set_string_member (e, "fingerprint", fingerprint_.c_str ());
  json_object_set_object_member (e, "device", device);
  json_object_set_object_member (e, "client", c);
  json_object_set_string_member (e, "type", "stats-report");
  json_object_set_int_member (e, "timestamp", now_ms);
  json_object_set_member (e, "data", data);
  JsonNode *root = object_node (e);
  std::string text = node_text (root);
  json_node_unref (root);
  return text;
}

std::vector<std::string>
StatsReport::envelopes (const StatsClient &client, const GstStructure *stats,
    const StatsExtras &extras, gint64 now_ms)
{
  if (client.subscription_id != subscription_) {
    subscription_ = client.subscription_id;
    bytes_.clear ();
  }
  std::vector<std::string> out;
  auto all = entries (stats);

  for (const GstStructure *entry : all)
    if (entry_type (entry) == GST_WEBRTC_STATS_CODEC)
      out.push_back (envelope (client, object_node (stats_object (entry, now_ms)), now_ms));

  /* the pair each transport selected: the one media goes over */
  std::vector<std::string> selected;
  for (const GstStructure *entry : all) {
    const char *id = entry_type (entry) == GST_WEBRTC_STATS_TRANSPORT
        ? gst_structure_get_string (entry, "selected-candidate-pair-id") : nullptr;
    if (id)
      selected.emplace_back (id);
  }
  for (const GstStructure *entry : all) {
    if (entry_type (entry) != GST_WEBRTC_STATS_CANDIDATE_PAIR)
      continue;
    const char *id = gst_structure_get_string (entry, "id");
    bool is_selected = id && std::find (selected.begin (), selected.end (), id) != selected.end ();
    if (!selected.empty () && !is_selected)
      continue;
    JsonObject *o = stats_object (entry, now_ms);
    /* inferred: webrtcbin 1.22 gives a pair no state; the one a transport selected is the
     * one whose checks succeeded */
    if (!json_object_has_member (o, "state") && is_selected)
      json_object_set_string_member (o, "state", "succeeded");
    out.push_back (envelope (client, object_node (o), now_ms));
  }

  const GstStructure *inbound[2];
  inbound_rtp_by_kind (stats, inbound);
  for (int kind = 0; kind < 2; kind++) {
    const GstStructure *in = inbound[kind];
    if (!in)
      continue;
    JsonObject *o = stats_object (in, now_ms);
    /* webrtcbin 1.22 labels every stream of a bundle alike, and counts losses in a jitter
     * buffer it may have mixed up: the kind and the RTP source's own count instead */
    json_object_set_string_member (o, "kind", kind == 0 ? "video" : "audio");
    json_object_set_int_member (o, "packetsLost", inbound_packets_lost (in));
    if (kind == 0) {
      if (!json_object_has_member (o, "framesDropped"))
        json_object_set_int_member (o, "framesDropped", gint64 (extras.frames_dropped));
      if (!json_object_has_member (o, "freezeCount"))
        json_object_set_int_member (o, "freezeCount", extras.freezes);
    }
    guint64 bytes = 0;
    gst_structure_get_uint64 (in, "bytes-received", &bytes);
    const char *id = gst_structure_get_string (in, "id");
    std::string key = id ? id : (kind == 0 ? "video" : "audio");
    double kbps = 0;
    auto last = bytes_.find (key);
    if (last != bytes_.end () && now_ms > last->second.second && bytes >= last->second.first)
      kbps = double (bytes - last->second.first) * 8 / double (now_ms - last->second.second);
    bytes_[key] = { bytes, now_ms };
    json_object_set_double_member (o, "estimatedBitrate", kbps);
    out.push_back (envelope (client, object_node (o), now_ms));
  }
  return out;
}

std::string
StatsReport::action (const StatsClient &client, const char *type, gint64 now_ms)
{
  JsonObject *a = json_object_new ();
  json_object_set_string_member (a, "type", type);
  JsonObject *data = json_object_new ();
  json_object_set_object_member (data, "action", a);
  return envelope (client, object_node (data), now_ms);
}

bool
stats_endpoint_valid (const std::string &endpoint)
{
  if (endpoint.empty () || endpoint == STATS_DATA_CHANNEL)
    return true;
  g_autoptr (GUri) uri = g_uri_parse (endpoint.c_str (), G_URI_FLAGS_NONE, nullptr);
  if (!uri || !g_uri_get_host (uri) || !*g_uri_get_host (uri))
    return false;
  const char *scheme = g_uri_get_scheme (uri);
  return g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0;
}

/* ---- where they go ----------------------------------------------------------------------- */

StatsReporter::StatsReporter (GstElement *element, Worker &worker)
  : element_ (element), worker_ (worker), cancellable_ (g_cancellable_new ())
{
}

StatsReporter::~StatsReporter ()
{
  *alive_ = false;
  g_cancellable_cancel (cancellable_.get ());
}

void
StatsReporter::start (const std::string &endpoint, std::vector<std::string> secrets)
{
  generation_++;
  endpoint_ = endpoint;
  secrets_ = std::move (secrets);
  report_.restart ();
  cancellable_.reset (g_cancellable_new ());
  in_flight_ = false;
  queue_.clear ();
  warned_ = false;
}

void
StatsReporter::stop ()
{
  generation_++;
  queue_.clear ();
  if (in_flight_) {
    /* held by the timeout, which may be dropped unrun when the worker stops first */
    std::shared_ptr<GCancellable> c (G_CANCELLABLE (g_object_ref (cancellable_.get ())),
        g_object_unref);
    worker_.add_timeout (STOP_GRACE_MS, [c] () { g_cancellable_cancel (c.get ()); });
  }
  in_flight_ = false;
}

void
StatsReporter::change_endpoint (const std::string &endpoint)
{
  if (endpoint.empty () || !stats_endpoint_valid (endpoint)) {
    GST_WARNING_OBJECT (element_, "the server named a stats endpoint we cannot use: %s",
        redact_url (endpoint).c_str ());
    return;
  }
  if (endpoint == endpoint_)
    return;
  std::string shown = endpoint == STATS_DATA_CHANNEL ? endpoint : redact_url (endpoint);
  GST_INFO_OBJECT (element_, "the server sends stats reports to %s from now on", shown.c_str ());
  endpoint_ = endpoint;
  warned_ = false;   /* the new endpoint may fail on its own */
  event_post (element_, event_new (event::SUBSCRIBE_STATISTICS_ENDPOINT_CHANGE, "endpoint",
      G_TYPE_STRING, shown.c_str (), NULL));
}

void
StatsReporter::report (const StatsClient &client, const GstStructure *stats,
    const StatsExtras &extras, const ChannelSend &channel)
{
  deliver (report_.envelopes (client, stats, extras, g_get_real_time () / 1000), channel, true);
}

void
StatsReporter::action (const StatsClient &client, const char *type, const ChannelSend &channel)
{
  deliver ({ report_.action (client, type, g_get_real_time () / 1000) }, channel, false);
}

void
StatsReporter::deliver (std::vector<std::string> envelopes, const ChannelSend &channel,
    bool interval)
{
  if (envelopes.empty ())
    return;
  /* the bus: one event per interval (or action) with every envelope, whatever the
   * endpoint does */
  std::string shown = endpoint_.empty () || endpoint_ == STATS_DATA_CHANNEL ? endpoint_
                                                                            : redact_url (endpoint_);
  GValue reports = G_VALUE_INIT;
  gst_value_array_init (&reports, guint (envelopes.size ()));
  for (const auto &e : envelopes) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_STRING);
    g_value_set_string (&v, redact (e, secrets_).c_str ());
    gst_value_array_append_and_take_value (&reports, &v);
  }
  GstStructure *event = event_new (event::STATS_REPORT, "count", G_TYPE_UINT,
      guint (envelopes.size ()), "endpoint", G_TYPE_STRING, shown.c_str (), NULL);
  gst_structure_take_value (event, "reports", &reports);
  event_post (element_, event);

  if (endpoint_.empty ())
    return;
  if (endpoint_ == STATS_DATA_CHANNEL) {
    for (const auto &e : envelopes) {
      if (channel && channel (e)) {
        sent_++;
      } else {
        dropped (1, "no red5pro data channel to send them on (data-channel=false, or the "
            "server opened none)");
      }
    }
    return;
  }
  if (interval && in_flight_) {
    GST_DEBUG_OBJECT (element_, "stats: the last POST to %s is still under way: this "
        "interval's %zu reports are not sent", shown.c_str (), envelopes.size ());
    return;
  }
  for (auto &e : envelopes) {
    if (queue_.size () >= MAX_QUEUED) {
      dropped (1, "too many waiting for the endpoint");
      continue;
    }
    queue_.push_back (std::move (e));
  }
  if (!in_flight_)
    post_next ();
}

/* The next envelope in the queue, POSTed; its answer (dropped) brings the next one. */
void
StatsReporter::post_next ()
{
  if (queue_.empty () || endpoint_.empty () || endpoint_ == STATS_DATA_CHANNEL) {
    in_flight_ = false;
    return;
  }
  SoupMessage *msg = soup_message_new ("POST", endpoint_.c_str ());
  if (!msg) {
    dropped (queue_.size (), "the URL does not parse");
    queue_.clear ();
    in_flight_ = false;
    return;
  }
  std::string body = std::move (queue_.front ());
  queue_.pop_front ();
  GBytes *bytes = g_bytes_new (body.data (), body.size ());
  soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  g_bytes_unref (bytes);
  in_flight_ = true;
  std::shared_ptr<bool> alive = alive_;
  guint generation = generation_;
  std::string where = redact_url (endpoint_);
  /* the answer is not read past 4 KiB: nothing in it is used */
  worker_.send (msg, cancellable_.get (), [this, alive, generation, where] (const HttpResult &r) {
    if (!*alive || generation != generation_)
      return;
    in_flight_ = false;
    if (r.cancelled)
      return;
    /* an answer past the bound was still an answer: the request was taken */
    if ((r.status >= 200 && r.status < 300) || r.too_large) {
      sent_++;
      post_next ();
      return;
    }
    /* this one and those waiting behind it */
    guint64 n = 1 + queue_.size ();
    queue_.clear ();
    dropped (n, r.status ? "HTTP " + std::to_string (r.status) + " from " + where
                         : r.error + " (" + where + ")");
  }, 4096);
}

void
StatsReporter::dropped (guint64 n, const std::string &why)
{
  failed_ += n;
  GST_DEBUG_OBJECT (element_, "stats: %" G_GUINT64_FORMAT " report(s) dropped: %s", n,
      why.c_str ());
  if (warned_)
    return;
  warned_ = true;
  std::string shown = endpoint_ == STATS_DATA_CHANNEL ? endpoint_ : redact_url (endpoint_);
  GST_ELEMENT_WARNING (element_, RESOURCE, WRITE,
      ("Stats reports cannot be delivered to %s: they are dropped (playback goes on; said "
       "once, stats-reports-failed counts them)", shown.c_str ()), ("%s", why.c_str ()));
}

}  // namespace red5pro
