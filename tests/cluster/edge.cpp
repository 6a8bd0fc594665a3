/* edge: one Red5 Pro edge of the test cluster on its own loopback address: its server, the
 * checks every request goes through (credentials, a dead edge answers nothing), and its
 * life: start, loud and silent deaths for the failover tests, restart. The protocols are
 * edge-whep.cpp and edge-websocket.cpp. */
#include "cluster.h"

namespace cluster {

bool
credentials_ok (const std::map<std::string, std::string> &params)
{
  const Options &o = the_cluster ().opt;
  auto get = [&] (const char *k) {
    auto it = params.find (k);
    return it == params.end () ? std::string () : it->second;
  };
  if (!o.username.empty () && (get ("username") != o.username || get ("password") != o.password))
    return false;
  if (!o.token.empty () && get ("token") != o.token)
    return false;
  return true;
}

void
edge_log_request (std::vector<LoggedRequest> &log, const char *method, SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  log.push_back ({ method, g_uri_get_path (uri), uri_query_map (uri) });
}

bool
edge_is_dead (Edge *e, SoupServerMessage *msg)
{
  if (e->state == Edge::State::KILLED) {
    GIOStream *stream = soup_server_message_steal_connection (msg);
    if (stream) {
      g_io_stream_close (stream, nullptr, nullptr);
      g_object_unref (stream);
    }
    return true;
  }
  if (e->state == Edge::State::SILENT) {
    soup_server_message_pause (msg);
    e->held.push_back (SOUP_SERVER_MESSAGE (g_object_ref (msg)));
    return true;
  }
  return false;
}

bool
bearer_ok (SoupServerMessage *msg)
{
  const Options &o = the_cluster ().opt;
  if (o.bearer.empty ())
    return true;
  const char *auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  return auth && std::string (auth) == "Bearer " + o.bearer;
}

static void
peer_gathered (const std::shared_ptr<Peer> &p)
{
  if (p->signaling == Peer::Signaling::WEBSOCKET)
    ws_candidate (p, 0, "");   /* end of the server's candidates */
  else
    whep_gathered (p);
}

bool
edge_start (Edge *e)
{
  Cluster &c = the_cluster ();
  on_peer_gathered = peer_gathered;
  on_peer_candidate = ws_candidate;
  on_peer_channel_open = ws_channel_available;
  e->server = soup_server_new ("server-header", "red5pro-test-cluster edge ",
      "tls-certificate", c.certificate, NULL);
  cors_serve (e->server, [e] { return e->state == Edge::State::UP; });
  std::string whep = "/" + c.opt.app + "/whep";
  soup_server_add_handler (e->server, whep.c_str (), whep_handler, e, nullptr);
  std::string app = "/" + c.opt.app;
  soup_server_add_websocket_handler (e->server, app.c_str (), nullptr, nullptr, ws_handler, e,
      nullptr);
  soup_server_add_handler (e->server, app.c_str (), hls_handler, e, nullptr);
  GInetAddress *ia = g_inet_address_new_from_string (e->address.c_str ());
  GSocketAddress *sa = g_inet_socket_address_new (ia, guint16 (c.port));
  GError *err = nullptr;
  bool ok = soup_server_listen (e->server, sa,
      c.tls ? SOUP_SERVER_LISTEN_HTTPS : SoupServerListenOptions (0), &err);
  g_object_unref (sa);
  g_object_unref (ia);
  if (!ok) {
    g_printerr ("edge %s: cannot listen on %s:%u: %s\n", e->name.c_str (), e->address.c_str (),
        c.port, err->message);
    g_clear_error (&err);
    g_clear_object (&e->server);
    return false;
  }
  e->state = Edge::State::UP;
  return true;
}

static std::vector<std::shared_ptr<Peer>>
peers_of (Edge *e)
{
  std::vector<std::shared_ptr<Peer>> out;
  for (auto &kv : the_cluster ().peers)
    if (kv.second->edge == e)
      out.push_back (kv.second);
  return out;
}

void
edge_kill (Edge *e, bool silent)
{
  if (e->state != Edge::State::UP)
    return;
  if (silent) {
    /* stop sending media, answer nothing, close nothing */
    e->state = Edge::State::SILENT;
    for (auto &p : peers_of (e))
      peer_set_silent (p, true);
  } else {
    /* everything closes: listeners, sockets, data channels, peer connections */
    e->state = Edge::State::KILLED;
    for (auto &p : peers_of (e))
      peer_close (p);
    if (e->server) {
      soup_server_disconnect (e->server);
      g_clear_object (&e->server);
    }
  }
  g_printerr ("{\"event\":\"edge-killed\",\"edge\":\"%s\",\"mode\":\"%s\"}\n", e->name.c_str (),
      silent ? "silent" : "loud");
}

bool
edge_restart (Edge *e)
{
  /* a restarted edge is a fresh process: it forgets its subscribers */
  for (auto &p : peers_of (e))
    peer_close (p);
  for (SoupServerMessage *msg : e->held) {
    respond (msg, SOUP_STATUS_SERVICE_UNAVAILABLE);
    soup_server_message_unpause (msg);
    g_object_unref (msg);
  }
  e->held.clear ();
  if (e->server) {
    soup_server_disconnect (e->server);
    g_clear_object (&e->server);
  }
  bool ok = edge_start (e);
  g_printerr ("{\"event\":\"edge-restarted\",\"edge\":\"%s\"}\n", e->name.c_str ());
  return ok;
}

}   // namespace cluster
