/* http: what the test cluster's HTTP servers share: CORS on every answer of the Stream
 * Manager and the edges, and their pre-flights, as real Red5 Pro servers answer browsers
 * (protocol notes, section 5); request bodies, query pairs, answers. */
#include "cluster.h"

namespace cluster {

std::map<std::string, std::string>
uri_query_map (GUri *uri)
{
  std::map<std::string, std::string> out;
  const char *q = g_uri_get_query (uri);
  if (!q)
    return out;
  GHashTable *params = g_uri_parse_params (q, -1, "&", G_URI_PARAMS_NONE, nullptr);
  out = query_map (params);
  if (params)
    g_hash_table_unref (params);
  return out;
}

void
respond (SoupServerMessage *msg, guint status, const char *type, const std::string &body)
{
  soup_server_message_set_status (msg, status, nullptr);
  if (type)
    soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, body.data (), body.size ());
}

/* ---- CORS ---- */

static const char *
request_header (SoupServerMessage *msg, const char *name)
{
  return soup_message_headers_get_one (soup_server_message_get_request_headers (msg), name);
}

struct CorsServer {
  std::function<bool ()> answers;
};

/* "request-read" runs once a request is read, before its handler (and before a WebSocket
 * handshake): the place where every answer gets its CORS headers, and where a pre-flight
 * is answered so that no handler has to know about them. */
static void
on_request_read (SoupServer *, SoupServerMessage *msg, gpointer data)
{
  auto *cs = static_cast<CorsServer *> (data);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  /* the origin is echoed, as servers that allow any origin do for requests carrying
   * Authorization; "*" for requests without one (not from a browser) */
  const char *origin = request_header (msg, "Origin");
  soup_message_headers_replace (h, "Access-Control-Allow-Origin", origin ? origin : "*");
  if (origin)
    soup_message_headers_append (h, "Vary", "Origin");
  soup_message_headers_replace (h, "Access-Control-Expose-Headers",
      "Location, Link, Session-Host");

  /* a pre-flight: OPTIONS with Origin and Access-Control-Request-Method. A WHEP OPTIONS
   * without them asks for ICE servers and goes to the handler. A dead server answers
   * nothing: its handler takes care of that. */
  const bool preflight = g_str_equal (soup_server_message_get_method (msg), "OPTIONS") &&
      origin && request_header (msg, "Access-Control-Request-Method");
  if (!preflight || (cs->answers && !cs->answers ()))
    return;
  soup_message_headers_replace (h, "Access-Control-Allow-Methods",
      "GET, POST, PATCH, DELETE, OPTIONS");
  soup_message_headers_replace (h, "Access-Control-Allow-Headers", "Content-Type, Authorization");
  soup_message_headers_replace (h, "Access-Control-Max-Age", "86400");
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, nullptr);
}

void
cors_serve (SoupServer *server, std::function<bool ()> answers)
{
  g_signal_connect_data (server, "request-read", G_CALLBACK (on_request_read),
      new CorsServer { std::move (answers) },
      [] (gpointer data, GClosure *) { delete static_cast<CorsServer *> (data); },
      GConnectFlags (0));
}

}   // namespace cluster
