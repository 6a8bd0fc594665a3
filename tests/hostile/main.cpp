/* red5pro-hostile: a Red5 Pro server that misbehaves on purpose, in one way chosen by
 * --scenario, on loopback only. One main listener on 127.0.0.1 plays every role (Stream
 * Manager 1.x and 2.0 lookups, WHEP endpoint and resources, the WebSocket protocol; https and
 * wss with --tls-cert/--tls-key), another plain-http listener is "another origin", and a
 * control listener answers GET /log (every request: listener, method, path, query,
 * Authorization), GET /stats and POST /quit; a last TCP listener reads and closes without a
 * word (a plain-http port to a TLS client). Prints
 * {"port":..,"other_port":..,"control_port":..,"closer_port":..,"scenario":..} first. It stops by
 * itself after --lifetime seconds and when its parent dies. */
#include "hostile.h"

#include <glib-unix.h>
#include <openssl/crypto.h>
#include <sys/prctl.h>

#include <csignal>
#include <memory>

namespace hostile {

State &
state ()
{
  static State s;
  return s;
}

std::string
status_json (const char *code, const std::string &message, const char *type)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "data");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  if (!message.empty ()) {
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, message.c_str ());
  }
  json_builder_end_object (b);
  json_builder_end_object (b);
  std::string out = json_text (json_builder_get_root (b));
  g_object_unref (b);
  return out;
}

std::string
base_url (const std::string &listener)
{
  const State &s = state ();
  if (listener == "other")
    return "http://127.0.0.1:" + std::to_string (s.other_port);
  return std::string (s.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string (s.port);
}

/* ---- Request ------------------------------------------------------------------------ */

void
Request::reply (guint status, const char *type, const std::string &text) const
{
  soup_server_message_set_status (msg, status, nullptr);
  if (type)
    soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, text.data (), text.size ());
}

void
Request::reply_json (guint status, JsonNode *node) const
{
  reply (status, "application/json", json_text (node));
}

void
Request::header (const char *name, const std::string &value) const
{
  soup_message_headers_append (soup_server_message_get_response_headers (msg), name,
      value.c_str ());
}

void
Request::hold () const
{
  soup_server_message_pause (msg);
  state ().held.push_back (SOUP_SERVER_MESSAGE (g_object_ref (msg)));
}

void
Request::drop () const
{
  GIOStream *stream = soup_server_message_steal_connection (msg);
  if (stream) {
    g_io_stream_close (stream, nullptr, nullptr);
    g_object_unref (stream);
  }
}

/* A body written a piece at a time while the client reads it. */
struct Streaming {
  SoupServerMessage *msg;
  std::string rest;          /* trickle: what is left to send */
  guint interval_ms = 0;
  guint timer = 0;
  guint64 sent = 0;
  gint64 until = 0;          /* endless: give up then */
  bool finished = false;
};

static constexpr gsize CHUNK = 64 * 1024;
static constexpr guint64 ENDLESS_MAX = guint64 (2) << 30;   /* 2 GiB: bounded all the same */

static void
endless_more (Streaming *st)
{
  SoupMessageBody *body = soup_server_message_get_response_body (st->msg);
  if (st->sent >= ENDLESS_MAX || g_get_monotonic_time () > st->until) {
    soup_message_body_complete (body);
  } else {
    /* JSON-looking padding: a client that parses it as it comes still finds no end */
    static const std::string chunk (CHUNK, ' ');
    soup_message_body_append (body, SOUP_MEMORY_STATIC, chunk.data (), chunk.size ());
    st->sent += CHUNK;
    state ().body_bytes_sent += CHUNK;
  }
  soup_server_message_unpause (st->msg);
}

static void
trickle_more (Streaming *st)
{
  SoupMessageBody *body = soup_server_message_get_response_body (st->msg);
  if (st->rest.empty ()) {
    soup_message_body_complete (body);
  } else {
    soup_message_body_append (body, SOUP_MEMORY_COPY, st->rest.data (), 1);
    st->rest.erase (0, 1);
    st->sent++;
    state ().body_bytes_sent++;
  }
  soup_server_message_unpause (st->msg);
}

static Streaming *
start_streaming (SoupServerMessage *msg, const char *type)
{
  auto *st = new Streaming { msg };
  soup_server_message_set_status (msg, SOUP_STATUS_OK, nullptr);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  soup_message_headers_set_encoding (h, SOUP_ENCODING_CHUNKED);
  soup_message_headers_set_content_type (h, type, nullptr);
  g_signal_connect_swapped (msg, "finished", G_CALLBACK (+[] (Streaming *st) {
    st->finished = true;
    if (st->timer)
      g_source_remove (st->timer);
    st->timer = 0;
  }), st);
  g_object_set_data_full (G_OBJECT (msg), "hostile-streaming", st,
      [] (gpointer d) { delete static_cast<Streaming *> (d); });
  return st;
}

void
Request::endless (const char *type) const
{
  Streaming *st = start_streaming (msg, type);
  st->until = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  g_signal_connect_swapped (msg, "wrote-chunk", G_CALLBACK (endless_more), st);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  soup_message_body_append (body, SOUP_MEMORY_STATIC, "[", 1);
  st->sent++;
}

void
Request::trickle (const std::string &text, guint interval_ms) const
{
  Streaming *st = start_streaming (msg, "application/json");
  st->rest = text;
  st->interval_ms = interval_ms;
  st->timer = g_timeout_add (interval_ms, [] (gpointer d) -> gboolean {
    auto *st = static_cast<Streaming *> (d);
    if (st->finished)
      return G_SOURCE_REMOVE;
    trickle_more (st);
    if (st->rest.empty ()) {
      st->timer = 0;
      trickle_more (st);   /* completes */
      return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
  }, st);
  soup_server_message_pause (msg);
}

/* ---- routing ------------------------------------------------------------------------ */

static std::vector<std::string>
segments (const char *path)
{
  std::vector<std::string> out;
  char **parts = g_strsplit (path[0] == '/' ? path + 1 : path, "/", -1);
  for (char **p = parts; *p; p++)
    out.emplace_back (*p);
  g_strfreev (parts);
  return out;
}

static void
log_request (const Request &req)
{
  Logged l;
  l.listener = req.listener;
  l.method = req.method;
  l.path = req.path;
  l.query = req.query;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (req.msg);
  if (const char *auth = soup_message_headers_get_one (h, "Authorization")) {
    l.has_authorization = true;
    l.authorization = auth;
  }
  if (const char *ct = soup_message_headers_get_content_type (h, nullptr))
    l.content_type = ct;
  state ().log.push_back (std::move (l));
}

static void
cors (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (h, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace (h, "Access-Control-Expose-Headers", "Location, Link");
}

static void
on_http (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
    gpointer data)
{
  Request req;
  req.server = server;
  req.msg = msg;
  req.listener = static_cast<const char *> (data);
  req.method = soup_server_message_get_method (msg);
  req.path = path;
  req.query = query_map (query);
  req.body = request_body (msg);
  log_request (req);
  cors (msg);
  const Scenario &sc = *state ().scenario;

  auto seg = segments (path);
  if (seg.size () >= 6 && seg[0] == "streammanager" && seg[1] == "api" && seg[3] == "event")
    req.role = Role::SM1;
  else if (seg.size () >= 8 && seg[0] == "as" && seg[1] == "v1" && seg[2] == "streams" &&
      seg[3] == "stream" && seg[5] == "subscribe")
    req.role = Role::SM2;
  else if (seg.size () >= 4 && seg[1] == "whep" && seg[2] == "endpoint")
    req.role = Role::WHEP_POST;
  else if (seg.size () >= 4 && seg[1] == "whep" && seg[2] == "resource") {
    req.role = Role::WHEP_RESOURCE;
    req.resource = seg[3];
  }

  if (req.method == "OPTIONS") {
    req.reply (SOUP_STATUS_NO_CONTENT);
    return;
  }
  switch (req.role) {
    case Role::SM1:
    case Role::SM2:
      if (sc.sm)
        sc.sm (req);
      else
        sm_ok (req);
      break;
    case Role::WHEP_POST:
      if (req.method != "POST")
        req.reply (SOUP_STATUS_METHOD_NOT_ALLOWED);
      else if (sc.whep)
        sc.whep (req);
      else
        whep_ok (req);
      break;
    case Role::WHEP_RESOURCE:
      if (sc.resource)
        sc.resource (req);
      else
        resource_ok (req);
      break;
    case Role::OTHER:
      req.reply (SOUP_STATUS_NOT_FOUND, "text/plain", "no such thing here");
      break;
  }
}

/* ---- WebSocket ---------------------------------------------------------------------- */

void
Ws::send (const std::string &text) const
{
  if (conn && soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (conn, text.c_str ());
}

void
Ws::send (JsonNode *node) const
{
  send (json_text (node));
}

void
Ws::send_binary (const std::string &bytes) const
{
  if (conn && soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_binary (conn, bytes.data (), bytes.size ());
}

void
Ws::close (gushort code) const
{
  if (conn && soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn, code, nullptr);
}

static void
on_ws_message (SoupWebsocketConnection *, gint type, GBytes *message, gpointer data)
{
  auto *ws = static_cast<Ws *> (data);
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;
  gsize n = 0;
  const char *p = static_cast<const char *> (g_bytes_get_data (message, &n));
  JsonParser *parser = json_parser_new ();
  if (json_parser_load_from_data (parser, p, gssize (n), nullptr) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    JsonObject *o = json_node_get_object (json_parser_get_root (parser));
    const Scenario &sc = *state ().scenario;
    if (sc.ws_message)
      sc.ws_message (*ws, o);
    else
      ws_default (*ws, o);
  }
  g_object_unref (parser);
}

static void
on_ws (SoupServer *, SoupServerMessage *msg, const char *path,
    SoupWebsocketConnection *conn, gpointer)
{
  auto ws = std::make_shared<Ws> ();
  ws->conn = SOUP_WEBSOCKET_CONNECTION (g_object_ref (conn));
  GUri *uri = soup_server_message_get_uri (msg);
  if (const char *q = g_uri_get_query (uri)) {
    GHashTable *params = g_uri_parse_params (q, -1, "&", G_URI_PARAMS_NONE, nullptr);
    ws->query = query_map (params);
    if (params)
      g_hash_table_unref (params);
  }
  /* the client's frames are not limited here: the server reads what it is sent */
  soup_websocket_connection_set_max_incoming_payload_size (conn, 0);
  soup_websocket_connection_set_keepalive_interval (conn, 0);
  g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), ws.get ());
  g_signal_connect_swapped (conn, "closed", G_CALLBACK (+[] (Ws *w) {
    w->closed = true;
    if (w->peer)
      w->peer->close ();
  }), ws.get ());
  state ().sockets.push_back (ws);
  const Scenario &sc = *state ().scenario;
  if (sc.ws_open)
    sc.ws_open (*ws);
  else
    ws->send (status_json ("NetConnection.Connect.Success"));
}

/* The WebSocket upgrade is logged like any request. */
static void
on_request_started (SoupServer *, SoupServerMessage *msg, gpointer data)
{
  g_signal_connect (msg, "got-headers", G_CALLBACK (+[] (SoupServerMessage *m, gpointer d) {
    SoupMessageHeaders *h = soup_server_message_get_request_headers (m);
    const char *upgrade = soup_message_headers_get_one (h, "Upgrade");
    if (!upgrade || g_ascii_strcasecmp (upgrade, "websocket") != 0)
      return;
    Request req;
    req.msg = m;
    req.listener = static_cast<const char *> (d);
    req.method = "WEBSOCKET";
    GUri *uri = soup_server_message_get_uri (m);
    req.path = g_uri_get_path (uri);
    if (const char *q = g_uri_get_query (uri)) {
      GHashTable *params = g_uri_parse_params (q, -1, "&", G_URI_PARAMS_NONE, nullptr);
      req.query = query_map (params);
      if (params)
        g_hash_table_unref (params);
    }
    log_request (req);
  }), data);
}

/* ---- control ------------------------------------------------------------------------ */

static void
on_control (SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
    gpointer)
{
  State &s = state ();
  Request req;
  req.msg = msg;
  JsonBuilder *b = json_builder_new ();
  if (g_str_equal (path, "/log")) {
    json_builder_begin_array (b);
    for (const auto &l : s.log) {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "listener");
      json_builder_add_string_value (b, l.listener.c_str ());
      json_builder_set_member_name (b, "method");
      json_builder_add_string_value (b, l.method.c_str ());
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, l.path.c_str ());
      json_builder_set_member_name (b, "content_type");
      json_builder_add_string_value (b, l.content_type.c_str ());
      json_builder_set_member_name (b, "authorization");
      if (l.has_authorization)
        json_builder_add_string_value (b, l.authorization.c_str ());
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "query");
      add_string_map (b, l.query);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    req.reply_json (SOUP_STATUS_OK, json_builder_get_root (b));
  } else if (g_str_equal (path, "/stats")) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "requests");
    json_builder_add_int_value (b, gint64 (s.log.size ()));
    json_builder_set_member_name (b, "body_bytes_sent");
    json_builder_add_int_value (b, gint64 (s.body_bytes_sent));
    json_builder_set_member_name (b, "peers");
    json_builder_add_int_value (b, gint64 (s.resources.size ()));
    json_builder_end_object (b);
    req.reply_json (SOUP_STATUS_OK, json_builder_get_root (b));
  } else if (g_str_equal (path, "/quit")) {
    req.reply (SOUP_STATUS_OK, "text/plain", "bye");
    later (10, [] { g_main_loop_quit (state ().loop); });
  } else {
    req.reply (SOUP_STATUS_NOT_FOUND, "text/plain", "GET /log, GET /stats, POST /quit");
  }
  g_object_unref (b);
}

static guint
listen_local (SoupServer *server, bool https)
{
  GError *err = nullptr;
  GInetAddress *ia = g_inet_address_new_from_string ("127.0.0.1");
  GSocketAddress *sa = g_inet_socket_address_new (ia, 0);
  bool ok = soup_server_listen (server, sa,
      https ? SOUP_SERVER_LISTEN_HTTPS : SoupServerListenOptions (0), &err);
  g_object_unref (sa);
  g_object_unref (ia);
  if (!ok) {
    g_printerr ("hostile: cannot listen: %s\n", err->message);
    g_error_free (err);
    return 0;
  }
  GSList *uris = soup_server_get_uris (server);
  guint port = uris ? guint (g_uri_get_port (static_cast<GUri *> (uris->data))) : 0;
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return port;
}

/* A TCP listener that reads what it is sent and closes without a word, as a plain-http
 * server does with a TLS ClientHello it cannot parse (after its 400, which a TLS client never
 * reads): for "https to a plain port". */
static gboolean
on_closer (GSocketService *, GSocketConnection *conn, GObject *, gpointer)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  char buf[2048];
  g_input_stream_read (in, buf, sizeof buf, nullptr, nullptr);
  g_io_stream_close (G_IO_STREAM (conn), nullptr, nullptr);
  return TRUE;
}

static guint
closer_start (GSocketService **out)
{
  GSocketService *svc = g_threaded_socket_service_new (4);
  GInetAddress *ia = g_inet_address_new_from_string ("127.0.0.1");
  GSocketAddress *sa = g_inet_socket_address_new (ia, 0);
  GSocketAddress *effective = nullptr;
  guint port = 0;
  if (g_socket_listener_add_address (G_SOCKET_LISTENER (svc), sa, G_SOCKET_TYPE_STREAM,
          G_SOCKET_PROTOCOL_TCP, nullptr, &effective, nullptr)) {
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
    g_object_unref (effective);
  }
  g_object_unref (sa);
  g_object_unref (ia);
  g_signal_connect (svc, "run", G_CALLBACK (on_closer), nullptr);
  g_socket_service_start (svc);
  *out = svc;
  return port;
}

static gboolean
on_signal (gpointer)
{
  g_main_loop_quit (state ().loop);
  return G_SOURCE_REMOVE;
}

}  // namespace hostile

using namespace hostile;

int
main (int argc, char **argv)
{
  /* webrtcbin's DTLS threads and OpenSSL's atexit cleanup race at exit (see gst/plugin.cpp) */
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, nullptr);
  /* never outlive the test that started us */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  char *scenario = nullptr, *cert = nullptr, *key = nullptr;
  gboolean list = FALSE;
  int lifetime = 300;
  GOptionEntry entries[] = {
    { "scenario", 0, 0, G_OPTION_ARG_STRING, &scenario, "How to misbehave (--list)", "NAME" },
    { "list", 0, 0, G_OPTION_ARG_NONE, &list, "List the scenarios and exit", nullptr },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &cert, "Serve https/wss with this PEM", "F" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &key, "... and this PEM key", "F" },
    { "lifetime", 0, 0, G_OPTION_ARG_INT, &lifetime, "Exit after S seconds (300)", "S" },
    { nullptr }
  };
  GOptionContext *ctx = g_option_context_new ("- a Red5 Pro server that misbehaves");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  GError *err = nullptr;
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  std::unique_ptr<char, decltype (&g_free)> own_scenario (scenario, g_free),
      own_cert (cert, g_free), own_key (key, g_free);
  if (list) {
    for (const auto &s : scenarios ())
      g_print ("%-40s %s\n", s.name.c_str (), s.what.c_str ());
    return 0;
  }
  State &s = state ();
  s.scenario = find_scenario (scenario ? scenario : "ok");
  if (!s.scenario) {
    g_printerr ("hostile: no scenario '%s' (--list)\n", scenario);
    return 2;
  }

  GTlsCertificate *certificate = nullptr;
  if (cert && key) {
    certificate = g_tls_certificate_new_from_files (cert, key, &err);
    if (!certificate) {
      g_printerr ("hostile: cannot load the certificate: %s\n", err->message);
      return 2;
    }
    s.tls = true;
  }
  SoupServer *main_server = certificate
      ? soup_server_new ("tls-certificate", certificate, NULL) : soup_server_new (NULL, NULL);
  SoupServer *other = soup_server_new (NULL, NULL);
  SoupServer *control = soup_server_new (NULL, NULL);
  static char main_name[] = "main", other_name[] = "other";
  for (auto [server, name] : { std::pair (main_server, main_name), std::pair (other, other_name) }) {
    soup_server_add_handler (server, nullptr, on_http, name, nullptr);
    soup_server_add_handler (server, "/live/whep", on_http, name, nullptr);
    soup_server_add_websocket_handler (server, "/live", nullptr, nullptr, on_ws, name, nullptr);
    g_signal_connect (server, "request-started", G_CALLBACK (on_request_started), name);
  }
  soup_server_add_handler (control, nullptr, on_control, nullptr, nullptr);
  s.port = listen_local (main_server, s.tls);
  s.other_port = listen_local (other, false);
  guint control_port = listen_local (control, false);
  GSocketService *closer = nullptr;
  guint closer_port = closer_start (&closer);
  if (!s.port || !s.other_port || !control_port || !closer_port)
    return 1;

  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, s.port);
  json_builder_set_member_name (b, "other_port");
  json_builder_add_int_value (b, s.other_port);
  json_builder_set_member_name (b, "control_port");
  json_builder_add_int_value (b, control_port);
  json_builder_set_member_name (b, "closer_port");
  json_builder_add_int_value (b, closer_port);
  json_builder_set_member_name (b, "scenario");
  json_builder_add_string_value (b, s.scenario->name.c_str ());
  json_builder_end_object (b);
  g_print ("%s\n", json_text (json_builder_get_root (b)).c_str ());
  g_object_unref (b);
  fflush (stdout);

  s.loop = g_main_loop_new (nullptr, FALSE);
  g_unix_signal_add (SIGINT, on_signal, nullptr);
  g_unix_signal_add (SIGTERM, on_signal, nullptr);
  later (guint (CLAMP (lifetime, 1, 3600)) * 1000, [] { g_main_loop_quit (state ().loop); });
  g_main_loop_run (s.loop);

  for (auto &kv : s.resources)
    kv.second->close ();
  s.resources.clear ();
  for (auto &w : s.sockets) {
    if (w->peer)
      w->peer->close ();
    if (w->conn) {
      g_signal_handlers_disconnect_by_data (w->conn, w.get ());
      g_object_unref (w->conn);
    }
  }
  s.sockets.clear ();
  for (auto *m : s.held)
    g_object_unref (m);
  s.held.clear ();
  soup_server_disconnect (main_server);
  soup_server_disconnect (other);
  soup_server_disconnect (control);
  g_object_unref (main_server);
  g_object_unref (other);
  g_object_unref (control);
  g_socket_service_stop (closer);
  g_object_unref (closer);
  g_clear_object (&certificate);
  g_main_loop_unref (s.loop);
  return 0;
}
