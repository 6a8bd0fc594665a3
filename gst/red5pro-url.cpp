/* red5pro-url: URL building and host validation on top of GUri. */
#include "red5pro-url.h"

#include <gio/gio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <cstring>

namespace red5pro {

namespace {

std::string
escape (const std::string &s)
{
  char *e = g_uri_escape_string (s.c_str (), nullptr, FALSE);
  std::string out (e);
  g_free (e);
  return out;
}

}  // namespace

std::string
build_url (const char *scheme, const std::string &host, unsigned port,
    const std::vector<std::string> &segments, const QueryPairs &query)
{
  std::string path;
  for (const auto &seg : segments)
    path += "/" + escape (seg);
  if (path.empty ())
    path = "/";
  std::string q;
  for (const auto &kv : query) {
    if (!q.empty ())
      q += "&";
    q += escape (kv.first) + "=" + escape (kv.second);
  }
  char *uri = g_uri_join (G_URI_FLAGS_ENCODED, scheme, nullptr, host.c_str (),
      port ? int (port) : -1, path.c_str (), q.empty () ? nullptr : q.c_str (), nullptr);
  std::string out (uri);
  g_free (uri);
  return out;
}

bool
host_is_valid (const std::string &host)
{
  if (host.empty () || host.size () > 253 || host.find ('%') != std::string::npos)
    return false;
  if (g_hostname_is_ip_address (host.c_str ()))
    return true;
  /* a DNS name: letters, digits, '-', '.', and nothing that would change the URL */
  for (char c : host) {
    if (!(g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_'))
      return false;
  }
  return host.front () != '.' && host.front () != '-';
}

bool
split_host_port (const std::string &address, std::string *host, unsigned *port)
{
  g_autoptr (GError) err = nullptr;
  g_autoptr (GSocketConnectable) addr = g_network_address_parse (address.c_str (), 0, &err);
  if (!addr)
    return false;
  *host = g_network_address_get_hostname (G_NETWORK_ADDRESS (addr));
  *port = g_network_address_get_port (G_NETWORK_ADDRESS (addr));
  return host_is_valid (*host);
}

std::string
url_origin (const std::string &url)
{
  g_autoptr (GUri) uri = g_uri_parse (url.c_str (), G_URI_FLAGS_ENCODED, nullptr);
  if (!uri || !g_uri_get_scheme (uri) || !g_uri_get_host (uri))
    return {};
  g_autofree char *lower = g_ascii_strdown (g_uri_get_scheme (uri), -1);
  std::string scheme = lower;
  int port = g_uri_get_port (uri);
  if (port < 0)
    port = scheme == "https" || scheme == "wss" ? 443 : 80;
  g_autofree char *host = g_ascii_strdown (g_uri_get_host (uri), -1);
  return scheme + "://" + host + ":" + std::to_string (port);
}

bool
key_is_secret (const std::string &key)
{
  g_autofree char *lower = g_ascii_strdown (key.c_str (), -1);
  /* short names as whole words only ("sig" is a secret, "signal" is not) */
  for (const char *word : { "pwd", "sig", "psk", "otp", "pin", "hmac" })
    if (g_str_equal (lower, word))
      return true;
  for (const char *part : { "pass", "token", "secret", "key", "auth", "jwt", "credential",
           "signature", "cookie", "session" })
    if (strstr (lower, part))
      return true;
  return false;
}

std::string
redact_url (const std::string &url)
{
  GUri *uri = g_uri_parse (url.c_str (), G_URI_FLAGS_ENCODED, nullptr);
  if (!uri)
    return "(unparsable URL)";
  std::string out = url;
  const char *query = g_uri_get_query (uri);
  if (query) {
    std::string q;
    gchar **pairs = g_strsplit (query, "&", -1);
    for (gchar **p = pairs; *p; p++) {
      const char *eq = strchr (*p, '=');
      std::string key = eq ? std::string (*p, eq - *p) : std::string (*p);
      char *plain = g_uri_unescape_string (key.c_str (), nullptr);
      bool secret = key_is_secret (plain ? plain : key);
      g_free (plain);
      if (!q.empty ())
        q += "&";
      q += secret && eq ? key + "=***" : std::string (*p);
    }
    g_strfreev (pairs);
    GUri *clean = g_uri_build (G_URI_FLAGS_ENCODED, g_uri_get_scheme (uri), nullptr,
        g_uri_get_host (uri), g_uri_get_port (uri), g_uri_get_path (uri), q.c_str (), nullptr);
    char *s = g_uri_to_string (clean);
    out = s;
    g_free (s);
    g_uri_unref (clean);
  }
  g_uri_unref (uri);
  return out;
}

std::string
add_query_pair (const std::string &url, const std::string &key, const std::string &value)
{
  g_autoptr (GUri) uri = g_uri_parse (url.c_str (), G_URI_FLAGS_ENCODED, nullptr);
  if (!uri)
    return "";
  const char *query = g_uri_get_query (uri);
  if (query) {
    GHashTable *params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, nullptr);
    bool has = params && g_hash_table_contains (params, key.c_str ());
    if (params)
      g_hash_table_unref (params);
    if (has)
      return url;
  }
  g_autofree char *k = g_uri_escape_string (key.c_str (), nullptr, FALSE);
  g_autofree char *v = g_uri_escape_string (value.c_str (), nullptr, FALSE);
  std::string q = query && *query ? std::string (query) + "&" : std::string ();
  q += std::string (k) + "=" + v;
  g_autoptr (GUri) out = g_uri_build (G_URI_FLAGS_ENCODED, g_uri_get_scheme (uri),
      g_uri_get_userinfo (uri), g_uri_get_host (uri), g_uri_get_port (uri),
      g_uri_get_path (uri), q.c_str (), g_uri_get_fragment (uri));
  g_autofree char *s = g_uri_to_string (out);
  return s;
}

std::string
redact (std::string text, const std::vector<std::string> &secrets)
{
  for (const auto &secret : secrets) {
    if (secret.empty ())
      continue;
    /* as it is, URL-escaped, and as a JSON string carries it (a server echoing it back in
     * nested data) */
    g_autofree char *escaped = g_uri_escape_string (secret.c_str (), nullptr, FALSE);
    g_autoptr (JsonNode) node = json_node_init_string (json_node_alloc (), secret.c_str ());
    g_autofree char *json = json_to_string (node, FALSE);
    std::string in_json = json && strlen (json) >= 2 ? std::string (json + 1, strlen (json) - 2)
                                                     : secret;
    for (const std::string &needle : { secret, std::string (escaped), in_json }) {
      for (size_t pos = text.find (needle); pos != std::string::npos;
           pos = text.find (needle, pos + 3))
        text.replace (pos, needle.size (), "***");
    }
  }
  return text;
}

/* One value: strings redacted, structures and arrays gone through. */
static void
redact_value (GValue *v, const std::vector<std::string> &secrets)
{
  if (G_VALUE_HOLDS_STRING (v) && g_value_get_string (v)) {
    g_value_set_string (v, redact (g_value_get_string (v), secrets).c_str ());
  } else if (GST_VALUE_HOLDS_STRUCTURE (v) && gst_value_get_structure (v)) {
    GstStructure *copy = gst_structure_copy (gst_value_get_structure (v));
    redact_structure (copy, secrets);
    g_value_take_boxed (v, copy);
  } else if (GST_VALUE_HOLDS_ARRAY (v) || GST_VALUE_HOLDS_LIST (v)) {
    GValue copy = G_VALUE_INIT;
    g_value_init (&copy, G_VALUE_TYPE (v));
    guint n = GST_VALUE_HOLDS_ARRAY (v) ? gst_value_array_get_size (v) : gst_value_list_get_size (v);
    for (guint i = 0; i < n; i++) {
      GValue item = G_VALUE_INIT;
      g_value_init (&item, G_VALUE_TYPE (GST_VALUE_HOLDS_ARRAY (v) ?
          gst_value_array_get_value (v, i) : gst_value_list_get_value (v, i)));
      g_value_copy (GST_VALUE_HOLDS_ARRAY (v) ? gst_value_array_get_value (v, i)
                                              : gst_value_list_get_value (v, i), &item);
      redact_value (&item, secrets);
      if (GST_VALUE_HOLDS_ARRAY (v))
        gst_value_array_append_and_take_value (&copy, &item);
      else
        gst_value_list_append_and_take_value (&copy, &item);
    }
    g_value_unset (v);
    g_value_init (v, G_VALUE_TYPE (&copy));
    g_value_copy (&copy, v);
    g_value_unset (&copy);
  }
}

void
redact_structure (GstStructure *s, const std::vector<std::string> &secrets)
{
  if (secrets.empty ())
    return;
  gst_structure_map_in_place (s, [] (GQuark, GValue *v, gpointer data) -> gboolean {
    redact_value (v, *static_cast<const std::vector<std::string> *> (data));
    return TRUE;
  }, const_cast<std::vector<std::string> *> (&secrets));
}

std::string
resolve_url (const std::string &base, const std::string &ref)
{
  g_autofree char *out = g_uri_resolve_relative (base.c_str (), ref.c_str (),
      G_URI_FLAGS_ENCODED, nullptr);
  return out ? out : "";
}

}  // namespace red5pro
