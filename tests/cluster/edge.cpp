/* edge: one Red5 Pro edge of the test cluster on its own loopback address: WHEP (Red5 Pro's
 * flavour where the server offers, or the standard one where it answers) and Red5 Pro's
 * WebSocket protocol, as the protocol notes (sections 3, 4, 5) describe them; loud and
 * silent deaths for the failover tests. */
#include "cluster.h"
#include "red5pro-whep.h"

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

static std::map<std::string, std::string>
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

static void
log_request (std::vector<LoggedRequest> &log, const char *method, SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  log.push_back ({ method, g_uri_get_path (uri), uri_query_map (uri) });
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

static void
respond (SoupServerMessage *msg, guint status, const char *type = nullptr,
    const std::string &body = "")
{
  cors (msg);
  soup_server_message_set_status (msg, status, nullptr);
  if (type)
    soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, body.data (), body.size ());
}

/* A dead edge answers nothing: a killed one drops the connection, a silent one keeps the
 * request waiting forever. True when the request was taken care of that way. */
static bool
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

static std::string
body_of (SoupServerMessage *msg)
{
  SoupMessageBody *b = soup_server_message_get_request_body (msg);
  GBytes *bytes = soup_message_body_flatten (b);
  gsize n = 0;
  const char *p = static_cast<const char *> (g_bytes_get_data (bytes, &n));
  std::string out (p ? p : "", n);
  g_bytes_unref (bytes);
  return out;
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

static std::shared_ptr<Peer>
peer_by_resource (Edge *e, const std::string &id)
{
  for (auto &kv : the_cluster ().peers)
    if (kv.second->edge == e && kv.second->resource == id)
      return kv.second;
  return nullptr;
}

static void
whep_post (Edge *e, SoupServerMessage *msg, const std::string &stream,
    const std::map<std::string, std::string> &params)
{
  Cluster &c = the_cluster ();
  if (!bearer_ok (msg) || !credentials_ok (params)) {
    respond (msg, SOUP_STATUS_UNAUTHORIZED, "text/plain", "Not authorized");
    return;
  }
  if (!c.streams.count (stream)) {
    respond (msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Stream " + stream + " not found");
    return;
  }
  std::string offer = body_of (msg);
  const bool red5 = e->flavour == "red5";
  if ((!red5 && offer.empty ()) ||
      (!offer.empty () && red5pro::classify_sdp (offer) != red5pro::SdpKind::OFFER)) {
    respond (msg, SOUP_STATUS_BAD_REQUEST, "text/plain", "Bad offer");
    return;
  }
  auto p = peer_create (e, stream, red5 ? Peer::Signaling::WHEP_RED5
                                        : Peer::Signaling::WHEP_STANDARD);
  if (!p) {
    respond (msg, SOUP_STATUS_NOT_ACCEPTABLE, "text/plain", "Playback creation failed");
    return;
  }
  p->params = params;
  auto sig = params.find ("signal");
  p->want_channel = sig == params.end () || sig->second != "false";
  auto rid = params.find ("requestId");
  p->subscription_id = rid == params.end () ? "" : rid->second;
  /* answered when ICE gathering completes: the SDP carries every candidate */
  soup_server_message_pause (msg);
  p->pending = SOUP_SERVER_MESSAGE (g_object_ref (msg));
  guint id = p->id;
  auto failed = [id] (bool ok) {
    if (ok)
      return;
    if (auto peer = peer_find (id)) {
      if (peer->pending) {
        respond (peer->pending, SOUP_STATUS_BAD_REQUEST, "text/plain", "Cannot negotiate");
        soup_server_message_unpause (peer->pending);
        g_clear_object (&peer->pending);
      }
      peer_close (peer);
    }
  };
  /* the strictest standard servers take port 0 for "rejected", bundle-only or not */
  std::vector<std::string> rejected;
  if (e->flavour == "strict") {
    GstSDPMessage *sdp = nullptr;
    gst_sdp_message_new_from_text (offer.c_str (), &sdp);
    for (guint i = 0; sdp && i < gst_sdp_message_medias_len (sdp); i++) {
      const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
      if (gst_sdp_media_get_port (m) == 0 && gst_sdp_media_get_media (m))
        rejected.emplace_back (gst_sdp_media_get_media (m));
    }
    if (sdp)
      gst_sdp_message_free (sdp);
  }
  if (red5)
    peer_create_offer (p, failed);
  else
    peer_answer_offer (p, offer, failed, rejected);
}

static void
whep_gathered (const std::shared_ptr<Peer> &p)
{
  if (!p->pending)
    return;
  const Options &o = the_cluster ().opt;
  SoupServerMessage *msg = p->pending;
  p->pending = nullptr;
  std::string location = "/" + o.app + "/whep/resource/" + p->resource;
  respond (msg, SOUP_STATUS_CREATED, "application/sdp", peer_local_sdp (p));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location",
      location.c_str ());
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static void
whep_patch (Edge *, SoupServerMessage *msg, const std::shared_ptr<Peer> &p)
{
  const char *type = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (msg), nullptr);
  std::string body = body_of (msg);
  if (g_strcmp0 (type, "application/sdp") == 0) {
    if (p->signaling != Peer::Signaling::WHEP_RED5 ||
        red5pro::classify_sdp (body) != red5pro::SdpKind::ANSWER ||
        !peer_apply_answer (p, body)) {
      respond (msg, SOUP_STATUS_BAD_REQUEST, "text/plain", "Bad answer");
      return;
    }
    respond (msg, SOUP_STATUS_NO_CONTENT);
  } else if (g_strcmp0 (type, "application/trickle-ice-sdpfrag") == 0) {
    for (const auto &cand : red5pro::parse_sdpfrag (body))
      peer_add_candidate (p, cand.mline == guint (-1) ? 0 : cand.mline, cand.candidate);
    respond (msg, SOUP_STATUS_NO_CONTENT);
  } else {
    respond (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "text/plain", "Unsupported type");
  }
}

/* /{app}/whep/endpoint/{stream} and /{app}/whep/resource/{id} */
static void
whep_handler (SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *query,
    gpointer data)
{
  auto *e = static_cast<Edge *> (data);
  const char *method = soup_server_message_get_method (msg);
  log_request (e->log, method, msg);
  if (edge_is_dead (e, msg))
    return;
  Cluster &c = the_cluster ();
  auto seg = path_segments (path, 4);
  if (seg.size () != 4 || seg[0] != c.opt.app || seg[1] != "whep") {
    respond (msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Unknown scope");
    return;
  }
  if (g_str_equal (method, "OPTIONS")) {
    respond (msg, SOUP_STATUS_NO_CONTENT);
    return;
  }
  if (seg[2] == "endpoint") {
    if (g_str_equal (method, "POST"))
      whep_post (e, msg, seg[3], query_map (query));
    else
      respond (msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
    return;
  }
  auto p = seg[2] == "resource" ? peer_by_resource (e, seg[3]) : nullptr;
  if (!p) {
    respond (msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Unknown resource");
    return;
  }
  if (g_str_equal (method, "PATCH")) {
    whep_patch (e, msg, p);
  } else if (g_str_equal (method, "DELETE")) {
    peer_close (p);
    respond (msg, SOUP_STATUS_OK);
  } else {
    respond (msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
  }
}

/* ---- WebSocket signaling (section 3) ---- */

struct WsClient {
  Edge *edge;
  SoupWebsocketConnection *ws;
  std::map<std::string, std::string> params;
  std::string stream;
  guint peer = 0;
  bool subscribed = false;
  bool trickle_done = false;
};

static std::string
mid_of (const std::shared_ptr<Peer> &p, guint mline)
{
  std::string mid = std::to_string (mline);
  GstWebRTCSessionDescription *desc = nullptr;
  g_object_get (p->webrtc, "local-description", &desc, NULL);
  if (desc) {
    if (mline < gst_sdp_message_medias_len (desc->sdp)) {
      const char *m = gst_sdp_media_get_attribute_val (
          gst_sdp_message_get_media (desc->sdp, mline), "mid");
      if (m)
        mid = m;
    }
    gst_webrtc_session_description_free (desc);
  }
  return mid;
}

static std::string
candidate_json (const std::string &candidate, const std::string &mid, guint mline)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "data");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "candidate");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "candidate");
  json_builder_add_string_value (b, candidate.c_str ());
  json_builder_set_member_name (b, "sdpMid");
  json_builder_add_string_value (b, mid.c_str ());
  json_builder_set_member_name (b, "sdpMLineIndex");
  json_builder_add_int_value (b, mline);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  std::string out = json_text (json_builder_get_root (b));
  g_object_unref (b);
  return out;
}

static void
ws_send_offer (const std::shared_ptr<Peer> &p)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "data");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sdp");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "offer");
  json_builder_set_member_name (b, "sdp");
  json_builder_add_string_value (b, p->created_sdp.c_str ());   /* candidates trickle */
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  soup_websocket_connection_send_text (p->ws, json_text (json_builder_get_root (b)).c_str ());
  g_object_unref (b);
}

static const char *
member_string (JsonObject *o, const char *name)
{
  if (!o || !json_object_has_member (o, name))
    return nullptr;
  JsonNode *n = json_object_get_member (o, name);
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
      ? json_node_get_string (n)
      : nullptr;
}

static JsonObject *
member_object (JsonObject *o, const char *name)
{
  if (!o || !json_object_has_member (o, name))
    return nullptr;
  JsonNode *n = json_object_get_member (o, name);
  return JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : nullptr;
}

static void
ws_channel_available (const std::shared_ptr<Peer> &p)
{
  if (p->ws && !p->switched)
    peer_send (p, json_status ("NetConnection.DataChannel.Available", "", "red5pro"));
}

static void
ws_message (WsClient *cl, const std::string &text)
{
  Cluster &c = the_cluster ();
  if (cl->edge->state != Edge::State::UP)
    return;   /* a dead edge hears nothing */
  JsonParser *parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text.c_str (), -1, nullptr) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_object_unref (parser);
    return;
  }
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  auto p = peer_find (cl->peer);
  if (const char *name = member_string (o, "isAvailable")) {
    JsonBuilder *b = json_builder_new ();
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "isAvailable");
    json_builder_add_boolean_value (b, c.streams.count (name) > 0);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, name);
    json_builder_end_object (b);
    soup_websocket_connection_send_text (cl->ws, json_text (json_builder_get_root (b)).c_str ());
    g_object_unref (b);
  } else if (const char *name = member_string (o, "requestOffer")) {
    cl->stream = name;
    if (p || !c.streams.count (cl->stream)) {
      soup_websocket_connection_send_text (cl->ws,
          json_status ("NetStream.Play.StreamNotFound", cl->stream + " not found").c_str ());
    } else if ((p = peer_create (cl->edge, cl->stream, Peer::Signaling::WEBSOCKET))) {
      cl->peer = p->id;
      p->params = cl->params;
      p->ws = SOUP_WEBSOCKET_CONNECTION (g_object_ref (cl->ws));
      const char *rid = member_string (o, "requestId");
      p->subscription_id = rid ? rid : "";
      p->want_channel = json_object_has_member (o, "datachannel") &&
          json_object_get_boolean_member (o, "datachannel");
      guint id = p->id;
      peer_create_offer (p, [id] (bool ok) {
        auto peer = peer_find (id);
        if (!peer)
          return;
        if (ok && peer->ws)
          ws_send_offer (peer);
        else
          peer_close (peer);
      });
    }
  } else if (member_string (o, "handleAnswer") && p) {
    JsonObject *sdp = member_object (member_object (o, "data"), "sdp");
    const char *text_sdp = member_string (sdp, "sdp");
    if (!text_sdp || !peer_apply_answer (p, text_sdp))
      soup_websocket_connection_send_text (cl->ws,
          json_error ("NetConnection.Connect.Failed", "bad answer").c_str ());
  } else if (member_string (o, "handleCandidate") && p) {
    JsonObject *cand = member_object (member_object (o, "data"), "candidate");
    const char *line = member_string (cand, "candidate");
    if (line && *line) {
      guint mline = cand && json_object_has_member (cand, "sdpMLineIndex")
          ? guint (json_object_get_int_member (cand, "sdpMLineIndex"))
          : 0;
      peer_add_candidate (p, mline, line);
    } else if (!cl->trickle_done) {
      cl->trickle_done = true;
      peer_send (p, json_status ("NetConnection.ICE.TrickleCompleted"));
    }
  } else if (member_string (o, "subscribe") && p) {
    cl->subscribed = true;
    peer_send (p, json_status ("NetStream.Play.Start", p->stream + " starting"));
    if (p->channel_open)
      ws_channel_available (p);
  } else if (member_string (o, "switchChannel") && p) {
    p->switched = true;
  } else {
    g_printerr ("edge %s: ignoring WebSocket message %.100s\n", cl->edge->name.c_str (),
        text.c_str ());
  }
  g_object_unref (parser);
}

static void
ws_on_message (SoupWebsocketConnection *, gint type, GBytes *message, gpointer data)
{
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;
  gsize n = 0;
  const char *p = static_cast<const char *> (g_bytes_get_data (message, &n));
  ws_message (static_cast<WsClient *> (data), std::string (p ? p : "", n));
}

static void
ws_on_closed (SoupWebsocketConnection *ws, gpointer data)
{
  auto *cl = static_cast<WsClient *> (data);
  /* before the switch, losing the socket ends the subscription; after it the data
   * channel carries on */
  if (auto p = peer_find (cl->peer)) {
    if (p->ws == ws && !p->switched)
      peer_close (p);
    else if (p->ws == ws) {
      g_object_unref (p->ws);
      p->ws = nullptr;
    }
  }
  g_signal_handlers_disconnect_matched (ws, G_SIGNAL_MATCH_DATA, 0, 0, nullptr, nullptr, cl);
  g_object_unref (cl->ws);
  delete cl;
}

static void
ws_handler (SoupServer *, SoupServerMessage *msg, const char *, SoupWebsocketConnection *ws,
    gpointer data)
{
  auto *e = static_cast<Edge *> (data);
  log_request (e->log, "WS", msg);
  auto *cl = new WsClient { e, SOUP_WEBSOCKET_CONNECTION (g_object_ref (ws)),
      uri_query_map (soup_server_message_get_uri (msg)) };
  /* the cluster's messages can be large on purpose (oversized-frame tests go the other
   * way); the client's are small */
  g_signal_connect (ws, "message", G_CALLBACK (ws_on_message), cl);
  g_signal_connect (ws, "closed", G_CALLBACK (ws_on_closed), cl);
  if (e->state != Edge::State::UP)
    return;
  if (!credentials_ok (cl->params)) {
    soup_websocket_connection_send_text (ws,
        json_error ("NetConnection.Connect.Rejected", "Invalid credentials").c_str ());
    soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, nullptr);
    return;
  }
  soup_websocket_connection_send_text (ws, json_status ("NetConnection.Connect.Success").c_str ());
}

static void
ws_candidate (const std::shared_ptr<Peer> &p, guint mline, const std::string &cand)
{
  if (p->signaling == Peer::Signaling::WEBSOCKET && p->ws && !p->switched &&
      p->edge->state == Edge::State::UP)
    soup_websocket_connection_send_text (p->ws, candidate_json (cand, mid_of (p, mline), mline).c_str ());
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
  std::string whep = "/" + c.opt.app + "/whep";
  soup_server_add_handler (e->server, whep.c_str (), whep_handler, e, nullptr);
  std::string app = "/" + c.opt.app;
  soup_server_add_websocket_handler (e->server, app.c_str (), nullptr, nullptr, ws_handler, e,
      nullptr);
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
