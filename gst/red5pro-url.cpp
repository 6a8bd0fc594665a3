/* red5pro-url: URL building and host validation on top of GUri. */
#include "red5pro-url.h"

#include <gio/gio.h>

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
  char *lower = g_ascii_strdown (key.c_str (), -1);
  bool secret = false;
  for (const char *word : { "pass", "token", "secret", "key", "auth", "jwt", "credential",
           "signature" })
    secret = secret || strstr (lower, word) != nullptr;
  g_free (lower);
  return secret;
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
redact (std::string text, const std::vector<std::string> &secrets)
{
  for (const auto &secret : secrets) {
    if (secret.empty ())
      continue;
    char *escaped = g_uri_escape_string (secret.c_str (), nullptr, FALSE);
    for (const std::string &needle : { secret, std::string (escaped) }) {
      for (size_t pos = text.find (needle); pos != std::string::npos;
           pos = text.find (needle, pos + 3))
        text.replace (pos, needle.size (), "***");
    }
    g_free (escaped);
  }
  return text;
}

std::string
resolve_url (const std::string &base, const std::string &ref)
{
  GError *err = nullptr;
  char *out = g_uri_resolve_relative (base.c_str (), ref.c_str (), G_URI_FLAGS_ENCODED, &err);
  if (!out) {
    g_clear_error (&err);
    return {};
  }
  std::string s (out);
  g_free (out);
  return s;
}

}  // namespace red5pro
