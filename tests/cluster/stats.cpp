/* stats: the test cluster's side of SDK 15's stats reporting (protocol notes, section 15):
 * the RTCSubscriberStats envelopes subscribers POST to the Stream Manager's /stats or send
 * on their data channel, the last ones kept for tests (control GET /stats), an endpoint
 * that fails or never answers (/stats/mode), and the endpoint the servers name in their
 * WHEP OPTIONS answers (Link rel="statistics", /stats/link). Main context only. */
#include "cluster.h"

#include <deque>

namespace cluster {

namespace {

/* how many envelopes are kept (the oldest go first) */
constexpr size_t MAX_KEPT = 2000;
/* requests held without an answer in hang mode; past that the oldest is answered 503 */
constexpr size_t MAX_HELD = 64;

struct Received {
  guint64 seq;
  std::string transport;   /* "http" or "data-channel" */
  std::string path;        /* http: the request's path */
  guint peer;              /* data-channel: the subscriber's id */
  gint64 time_us;          /* real time */
  JsonNode *envelope;
};

struct StatsSink {
  std::deque<Received> kept;
  guint64 seq = 0;
  guint64 requests = 0;       /* HTTP requests to /stats, whatever became of them */
  std::string mode = "ok";    /* ok, fail (500), hang (never answered) */
  std::vector<SoupServerMessage *> held;
  std::string link;           /* the URL OPTIONS answers name, "" = none */
};

StatsSink &
sink ()
{
  static StatsSink s;
  return s;
}

bool
is_envelope (JsonNode *n)
{
  if (!n || !JSON_NODE_HOLDS_OBJECT (n))
    return false;
  JsonObject *o = json_node_get_object (n);
  return g_strcmp0 (json_object_get_string_member_with_default (o, "name", ""),
      "RTCSubscriberStats") == 0;
}

void
keep (JsonNode *envelope, const char *transport, const std::string &path, guint peer)
{
  StatsSink &s = sink ();
  s.kept.push_back ({ ++s.seq, transport, path, peer, g_get_real_time (),
      json_node_copy (envelope) });
  while (s.kept.size () > MAX_KEPT) {
    json_node_unref (s.kept.front ().envelope);
    s.kept.pop_front ();
  }
}

void
release_held (guint status)
{
  for (SoupServerMessage *msg : sink ().held) {
    respond (msg, status);
    soup_server_message_unpause (msg);
    g_object_unref (msg);
  }
  sink ().held.clear ();
}

}  // namespace

/* POST /stats[/anything] on the Stream Manager: one envelope, or an array of them. */
void
stats_http_handler (SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
    gpointer)
{
  StatsSink &s = sink ();
  if (!g_str_equal (soup_server_message_get_method (msg), "POST")) {
    respond (msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
    return;
  }
  s.requests++;
  if (s.mode == "fail") {
    respond (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "text/plain", "stats are failing\n");
    return;
  }
  if (s.mode == "hang") {
    if (s.held.size () >= MAX_HELD) {
      SoupServerMessage *oldest = s.held.front ();
      s.held.erase (s.held.begin ());
      respond (oldest, SOUP_STATUS_SERVICE_UNAVAILABLE);
      soup_server_message_unpause (oldest);
      g_object_unref (oldest);
    }
    soup_server_message_pause (msg);
    s.held.push_back (SOUP_SERVER_MESSAGE (g_object_ref (msg)));
    return;
  }
  std::string body = request_body (msg);
  JsonParser *parser = json_parser_new ();
  guint taken = 0;
  if (json_parser_load_from_data (parser, body.c_str (), gssize (body.size ()), nullptr)) {
    JsonNode *root = json_parser_get_root (parser);
    if (is_envelope (root)) {
      keep (root, "http", path, 0);
      taken++;
    } else if (root && JSON_NODE_HOLDS_ARRAY (root)) {
      JsonArray *a = json_node_get_array (root);
      for (guint i = 0; i < json_array_get_length (a); i++)
        if (is_envelope (json_array_get_element (a, i))) {
          keep (json_array_get_element (a, i), "http", path, 0);
          taken++;
        }
    }
  }
  g_object_unref (parser);
  if (taken)
    respond (msg, SOUP_STATUS_OK, "application/json", "{}");
  else
    respond (msg, SOUP_STATUS_BAD_REQUEST, "text/plain", "no RTCSubscriberStats envelope\n");
}

bool
stats_channel_message (guint peer, JsonNode *root)
{
  if (!is_envelope (root))
    return false;
  keep (root, "data-channel", "", peer);
  return true;
}

std::string
stats_link ()
{
  return sink ().link.empty () ? "" : "<" + sink ().link + ">; rel=\"statistics\"";
}

void
stats_set_link (const std::string &url)
{
  sink ().link = url;
}

bool
stats_set_mode (const std::string &mode)
{
  if (mode != "ok" && mode != "fail" && mode != "hang")
    return false;
  sink ().mode = mode;
  if (mode != "hang")
    release_held (SOUP_STATUS_SERVICE_UNAVAILABLE);
  return true;
}

void
stats_clear ()
{
  for (auto &r : sink ().kept)
    json_node_unref (r.envelope);
  sink ().kept.clear ();
  sink ().requests = 0;
}

void
stats_shutdown ()
{
  release_held (SOUP_STATUS_SERVICE_UNAVAILABLE);
  for (auto &r : sink ().kept)
    json_node_unref (r.envelope);
  sink ().kept.clear ();
}

JsonNode *
stats_json (guint64 since)
{
  JsonArray *a = json_array_new ();
  for (const auto &r : sink ().kept) {
    if (r.seq <= since)
      continue;
    JsonObject *o = json_object_new ();
    json_object_set_int_member (o, "seq", gint64 (r.seq));
    json_object_set_string_member (o, "transport", r.transport.c_str ());
    json_object_set_string_member (o, "path", r.path.c_str ());
    json_object_set_int_member (o, "peer", r.peer);
    json_object_set_int_member (o, "time-us", r.time_us);
    json_object_set_member (o, "envelope", json_node_copy (r.envelope));
    json_array_add_object_element (a, o);
  }
  JsonNode *n = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (n, a);
  return n;
}

JsonNode *
stats_state_json ()
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "mode", sink ().mode.c_str ());
  json_object_set_int_member (o, "requests", gint64 (sink ().requests));
  json_object_set_int_member (o, "held", gint64 (sink ().held.size ()));
  json_object_set_int_member (o, "kept", gint64 (sink ().kept.size ()));
  json_object_set_string_member (o, "link", sink ().link.c_str ());
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, o);
  return n;
}

/* {"data":{"type":"status","code":"Application.Statistics.Endpoint","statistics":url}} */
std::string
stats_endpoint_status (const std::string &url)
{
  JsonObject *data = json_object_new ();
  json_object_set_string_member (data, "type", "status");
  json_object_set_string_member (data, "code", "Application.Statistics.Endpoint");
  json_object_set_string_member (data, "statistics", url.c_str ());
  JsonObject *o = json_object_new ();
  json_object_set_object_member (o, "data", data);
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, o);
  return json_text (n);
}

}   // namespace cluster
