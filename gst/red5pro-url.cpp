/* red5pro-url: URL building and host validation on top of GUri. */
#include "red5pro-url.h"

#include <glib.h>

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
  if (host.empty () || host.size () > 253)
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
