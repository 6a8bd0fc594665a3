/* red5pro-edge-lookup: Stream Manager 1.x / 2.0 edge lookup (protocol notes, section 2). */
#include "red5pro-edge-lookup.h"
#include "red5pro-messages.h"
#include "red5pro-ptr.h"
#include "red5pro-url.h"

#include <json-glib/json-glib.h>

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

namespace {

using K = Failure::Kind;

/* Parses body as JSON, depth bounded; returns the root node (owned by *parser) or nullptr. */
JsonNode *
parse_json (JsonParser *parser, const std::string &body)
{
  return parse_json_bounded (parser, body);
}

std::string
string_member (JsonObject *obj, const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (!node || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return {};
  return json_string (node);
}

LookupOutcome
failed (K kind, std::string why, guint status)
{
  LookupOutcome out;
  out.failure = Failure (kind, std::move (why), status);
  return out;
}

/* A failure status: the SM's errorMessage, when it sent one, says why. Any 4xx but 401/403
 * means no edge serves the stream (yet). */
LookupOutcome
failure_outcome (guint status, const std::string &body, JsonNode *root)
{
  std::string message;
  if (root && JSON_NODE_HOLDS_OBJECT (root))
    message = string_member (json_node_get_object (root), "errorMessage");
  HttpResult r;
  r.status = status;
  r.body = body;
  LookupOutcome out;
  out.failure = http_failure (r, "the Stream Manager", true, message);
  if (out.failure.kind == K::NOT_FOUND)
    out.failure.reason = message.empty () ? "no edge serves the stream" : text_excerpt (message, 200);
  return out;
}

LookupOutcome
edge_outcome (guint status, Edge edge)
{
  std::string host;
  guint port = 0;
  if (!split_host_port (edge.address, &host, &port))
    return failed (K::PROTOCOL, "Stream Manager returned an unusable serverAddress", status);
  edge.address = host;
  edge.port = port;
  LookupOutcome out;
  out.edge = std::move (edge);
  return out;
}

}  // namespace

std::string
edge_lookup_url (const SubscriberConfig &cfg)
{
  if (cfg.stream_manager == StreamManagerMode::SM2) {
    return build_url (cfg.http_scheme (), cfg.host, cfg.effective_port (),
        { "as", "v1", "streams", "stream", cfg.node_group, "subscribe", cfg.app,
          cfg.stream_name });
  }
  QueryPairs query { { "action", "subscribe" } };
  if (!cfg.region.empty ())
    query.emplace_back ("region", cfg.region);
  return build_url (cfg.http_scheme (), cfg.host, cfg.effective_port (),
      { "streammanager", "api", cfg.sm_api_version, "event", cfg.app, cfg.stream_name },
      query);
}

LookupOutcome
parse_sm1_lookup (guint status, const std::string &body)
{
  JsonParser *parser = json_parser_new ();
  JsonNode *root = parse_json (parser, body);
  LookupOutcome out;
  if (status < 200 || status >= 300) {
    out = failure_outcome (status, body, root);
  } else if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    out = failed (K::PROTOCOL, "Stream Manager answer is not a JSON object", status);
  } else {
    JsonObject *obj = json_node_get_object (root);
    Edge edge;
    edge.address = string_member (obj, "serverAddress");
    edge.app = string_member (obj, "scope");
    /* "/live" and "//live" both name the app "live" */
    edge.app.erase (0, edge.app.find_first_not_of ('/'));
    edge.region = string_member (obj, "region");
    if (edge.address.empty ())
      out = failed (K::PROTOCOL, "Stream Manager answer has no serverAddress", status);
    else
      out = edge_outcome (status, std::move (edge));
  }
  g_object_unref (parser);
  return out;
}

LookupOutcome
parse_sm2_lookup (guint status, const std::string &body, const std::string &stream_name,
    const std::string &avoid)
{
  JsonParser *parser = json_parser_new ();
  JsonNode *root = parse_json (parser, body);
  LookupOutcome out;
  if (status < 200 || status >= 300) {
    out = failure_outcome (status, body, root);
  } else if (!root || !JSON_NODE_HOLDS_ARRAY (root)) {
    out = failed (K::PROTOCOL, "Stream Manager 2.0 answer is not a JSON array", status);
  } else {
    /* best first: the first entry with an address, preferring nodes in service */
    JsonArray *arr = json_node_get_array (root);
    JsonObject *chosen = nullptr;
    bool avoided = false;
    for (guint pass = 0; pass < 2 && !chosen; pass++) {
      for (guint i = 0; i < json_array_get_length (arr); i++) {
        JsonNode *n = json_array_get_element (arr, i);
        if (!JSON_NODE_HOLDS_OBJECT (n))
          continue;
        JsonObject *o = json_node_get_object (n);
        if (string_member (o, "serverAddress").empty ())
          continue;
        std::string state = string_member (o, "nodeState");
        if (pass == 0 && !state.empty () && state != "INSERVICE")
          continue;
        std::string host;
        guint port = 0;
        if (!avoid.empty () && split_host_port (string_member (o, "serverAddress"), &host,
                &port) && host == avoid) {
          avoided = true;
          continue;
        }
        chosen = o;
        break;
      }
    }
    if (!chosen && avoided) {
      out = failed (K::NOT_FOUND, "the Stream Manager offers no edge other than " + avoid,
          status);
    } else if (!chosen) {
      out = failed (K::NOT_FOUND, "Stream Manager has no edge serving the stream yet", status);
    } else {
      Edge edge;
      edge.address = string_member (chosen, "serverAddress");
      std::string guid = string_member (chosen, "streamGuid");
      /* "{app}/{stream}"; a stream name may hold slashes of its own */
      const std::string tail = "/" + stream_name;
      if (!stream_name.empty () && guid.size () > tail.size () &&
          guid.compare (guid.size () - tail.size (), tail.size (), tail) == 0) {
        edge.app = guid.substr (0, guid.size () - tail.size ());
      } else {
        auto slash = guid.rfind ('/');
        if (slash != std::string::npos)
          edge.app = guid.substr (0, slash);
      }
      edge.region = string_member (chosen, "subGroup");
      out = edge_outcome (status, std::move (edge));
    }
  }
  g_object_unref (parser);
  return out;
}

namespace {

/* A load balancer in front of the Stream Manager may redirect; more hops are a loop. */
constexpr guint MAX_LOOKUP_REDIRECTS = 3;

struct Lookup {
  Worker &worker;
  std::string token;          /* Bearer, for the Stream Manager's own origin only */
  std::string token_origin;
  std::string first_url;
  bool sm2;
  std::string stream;
  std::string avoid;
  guint lookups = 0;
  GObjectPtr<GCancellable> cancellable;
  std::function<void (const LookupOutcome &)> done;
};

/* GET url, following a redirect (at most MAX_LOOKUP_REDIRECTS, never from https to plain
 * http, the token never to another origin), then the answer parsed. */
void
lookup_get (std::shared_ptr<Lookup> l, const std::string &url, guint hops)
{
  SoupMessage *msg = soup_message_new ("GET", url.c_str ());
  if (!msg) {
    l->done (failed (K::PROTOCOL, "invalid Stream Manager URL", 0));
    return;
  }
  SoupMessageHeaders *headers = soup_message_get_request_headers (msg);
  soup_message_headers_replace (headers, "Accept", "application/json");
  if (!l->token.empty () && url_origin (url) == l->token_origin)
    soup_message_headers_replace (headers, "Authorization", ("Bearer " + l->token).c_str ());
  l->worker.send (msg, l->cancellable.get (), [l, url, hops] (const HttpResult &r) {
    bool redirect = r.status == 301 || r.status == 302 || r.status == 303 ||
        r.status == 307 || r.status == 308;
    if (redirect && !r.location.empty ()) {
      std::string target = resolve_url (url, r.location);
      bool https = g_str_has_prefix (url.c_str (), "https:");
      const char *why = hops >= MAX_LOOKUP_REDIRECTS ? "more than 3 redirects"
          : url_origin (target).empty () ? "a redirect to an unusable URL"
          : https && !g_str_has_prefix (target.c_str (), "https:")
              ? "a redirect from https to plain http, refused" : nullptr;
      if (why) {
        l->done (failed (K::PROTOCOL, std::string ("the Stream Manager lookup: ") + why,
            r.status));
        return;
      }
      GST_INFO_OBJECT (l->worker.log_object (), "Stream Manager lookup redirected (%u) to %s",
          r.status, redact_url (target).c_str ());
      lookup_get (l, target, hops + 1);
      return;
    }
    if (r.status == 0) {
      LookupOutcome out;
      out.failure = http_failure (r, "the Stream Manager lookup", true, "");
      l->done (out);
      return;
    }
    if (l->sm2) {
      l->done (parse_sm2_lookup (r.status, r.body, l->stream, l->avoid));
      return;
    }
    LookupOutcome out = parse_sm1_lookup (r.status, r.body);
    if (out.ok () && !l->avoid.empty () && out.edge.address == l->avoid) {
      /* SM 1.x names one edge, by its own choice: asked again, it may name another */
      if (++l->lookups < MAX_AVOID_LOOKUPS) {
        GST_INFO_OBJECT (l->worker.log_object (), "Stream Manager named %s again; asking "
            "once more for another edge", l->avoid.c_str ());
        lookup_get (l, l->first_url, 0);
        return;
      }
      out = failed (K::NOT_FOUND, "the Stream Manager named no edge other than " + l->avoid +
          " in " + std::to_string (MAX_AVOID_LOOKUPS) + " lookups", r.status);
    }
    l->done (out);
  });
}

}  // namespace

void
lookup_edge (Worker &worker, const SubscriberConfig &cfg, GCancellable *cancellable,
    std::function<void (const LookupOutcome &)> done)
{
  std::string url = edge_lookup_url (cfg);
  GST_INFO_OBJECT (worker.log_object (), "Stream Manager lookup: GET %s",
      redact_url (url).c_str ());
  bool sm2 = cfg.stream_manager == StreamManagerMode::SM2;
  auto l = std::make_shared<Lookup> (Lookup { worker, sm2 ? cfg.auth_token : "",
      url_origin (url), url, sm2, cfg.stream_name, cfg.avoid_edge, 0,
      GObjectPtr<GCancellable> (cancellable ? G_CANCELLABLE (g_object_ref (cancellable))
                                            : nullptr), std::move (done) });
  lookup_get (l, url, 0);
}

}  // namespace red5pro
