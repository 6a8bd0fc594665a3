/* http: what the test cluster's HTTP servers share: request bodies, query pairs, answers. */
#include "cluster.h"

namespace cluster {

std::map<std::string, std::string>
query_map (GHashTable *query)
{
  std::map<std::string, std::string> out;
  if (!query)
    return out;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, query);
  while (g_hash_table_iter_next (&it, &k, &v))
    out[static_cast<const char *> (k)] = v ? static_cast<const char *> (v) : "";
  return out;
}

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

std::string
request_body (SoupServerMessage *msg)
{
  GBytes *bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  gsize n = 0;
  const char *p = static_cast<const char *> (g_bytes_get_data (bytes, &n));
  std::string out (p ? p : "", n);
  g_bytes_unref (bytes);
  return out;
}

static void
cors (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (h, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace (h, "Access-Control-Allow-Methods",
      "POST, PATCH, DELETE, OPTIONS");
  soup_message_headers_replace (h, "Access-Control-Allow-Headers",
      "Content-Type, Authorization, If-Match");
  soup_message_headers_replace (h, "Access-Control-Expose-Headers", "Location, Link, ETag");
}

void
respond (SoupServerMessage *msg, guint status, const char *type, const std::string &body)
{
  cors (msg);
  soup_server_message_set_status (msg, status, nullptr);
  if (type)
    soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, body.data (), body.size ());
}

}   // namespace cluster
