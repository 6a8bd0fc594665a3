/* edge-hls: every edge serves the published streams as HLS too (protocol notes, section
 * 14): /{app}/{stream}.m3u8, a rolling playlist of MPEG-TS segments (H.264, AAC) named
 * /{app}/{stream}_{n}.ts, read from what the publisher's hlssink2 writes. A stream that is
 * not published (any more) is a 404; a dead edge answers nothing, like its other paths. */
#include "cluster.h"

#include <cstring>

namespace cluster {

/* File names carry the stream name escaped (it may hold a slash); the playlist names its
 * segments by file name, so a client asks for /{app}/{escaped}_{n}.ts and libsoup hands
 * the handler the name unescaped. */
static std::string
escaped (const std::string &stream)
{
  char *e = g_uri_escape_string (stream.c_str (), nullptr, FALSE);
  std::string out = e;
  g_free (e);
  return out;
}

std::string
hls_playlist_name (const std::string &stream)
{
  return escaped (stream) + ".m3u8";
}

std::string
hls_segment_pattern (const std::string &stream)
{
  /* %% : the name goes through printf in hlssink2 */
  std::string name = escaped (stream), out;
  for (char ch : name)
    out += ch == '%' ? std::string ("%%") : std::string (1, ch);
  return out + "_%d.ts";
}

/* {stream}.m3u8 or {stream}_{n}.ts: the stream, and n ("" for the playlist) */
static bool
parse_name (const std::string &name, std::string *stream, std::string *number)
{
  if (g_str_has_suffix (name.c_str (), ".m3u8")) {
    *stream = name.substr (0, name.size () - 5);
    number->clear ();
    return !stream->empty ();
  }
  size_t underscore = name.rfind ('_');
  if (!g_str_has_suffix (name.c_str (), ".ts") || underscore == std::string::npos)
    return false;
  *stream = name.substr (0, underscore);
  *number = name.substr (underscore + 1, name.size () - underscore - 4);
  return !number->empty () && number->find_first_not_of ("0123456789") == std::string::npos;
}

std::string
hls_stream_of (const std::string &name)
{
  std::string stream, number;
  return parse_name (name, &stream, &number) ? stream : "";
}

std::string
hls_file (const std::string &name, const char **content_type)
{
  Cluster &c = the_cluster ();
  std::string stream, number;
  if (!parse_name (name, &stream, &number))
    return "";
  auto it = c.streams.find (stream);
  if (it == c.streams.end () || it->second->hls_dir.empty ())
    return "";
  *content_type = number.empty () ? "application/vnd.apple.mpegurl" : "video/mp2t";
  return it->second->hls_dir + "/" +
      (number.empty () ? hls_playlist_name (stream) : escaped (stream) + "_" + number + ".ts");
}

static bool
websocket_upgrade (SoupServerMessage *msg)
{
  const char *upgrade = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Upgrade");
  return upgrade && g_ascii_strcasecmp (upgrade, "websocket") == 0;
}

/* /{app}/..., where the WebSocket signaling also lives (ws_handler): libsoup calls this
 * first for every request there, and goes on with the WebSocket handshake when it sets no
 * status */
void
hls_handler (SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
    gpointer data)
{
  if (websocket_upgrade (msg))
    return;
  auto *e = static_cast<Edge *> (data);
  const char *method = soup_server_message_get_method (msg);
  edge_log_request (e->log, method, msg);
  if (edge_is_dead (e, msg))
    return;
  auto seg = path_segments (path, 2);
  const char *type = nullptr;
  std::string file = seg.size () == 2 && seg[0] == the_cluster ().opt.app
      ? hls_file (seg[1], &type) : "";
  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD")) {
    respond (msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
    return;
  }
  char *contents = nullptr;
  gsize length = 0;
  /* hlssink2 replaces its playlist whole; a segment is listed once it is complete */
  if (file.empty () || !g_file_get_contents (file.c_str (), &contents, &length, nullptr)) {
    respond (msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Not found");
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, nullptr);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_TAKE, contents, length);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Cache-Control", g_str_has_suffix (file.c_str (), ".m3u8") ? "no-cache" : "max-age=60");
}

}   // namespace cluster
