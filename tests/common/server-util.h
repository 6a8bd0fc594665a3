/* server-util: what the test servers (the cluster, the hostile server) do alike with libsoup
 * and json-glib: JSON text from a node, a request's query and body, a string map as a JSON
 * object. */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <map>
#include <string>

namespace server_util {

/* The node as compact JSON text; takes the node. */
inline std::string
json_text (JsonNode *node)
{
  char *text = json_to_string (node, FALSE);
  std::string out = text;
  g_free (text);
  json_node_unref (node);
  return out;
}

/* A libsoup query table (may be null) as a map. */
inline std::map<std::string, std::string>
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

inline std::string
request_body (SoupServerMessage *msg)
{
  GBytes *bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  gsize n = 0;
  const char *p = static_cast<const char *> (g_bytes_get_data (bytes, &n));
  std::string out (p ? p : "", n);
  g_bytes_unref (bytes);
  return out;
}

/* Adds m as an object of strings (the builder expects a value). */
inline void
add_string_map (JsonBuilder *b, const std::map<std::string, std::string> &m)
{
  json_builder_begin_object (b);
  for (const auto &kv : m) {
    json_builder_set_member_name (b, kv.first.c_str ());
    json_builder_add_string_value (b, kv.second.c_str ());
  }
  json_builder_end_object (b);
}

}  // namespace server_util
