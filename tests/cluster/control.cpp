/* control: the test cluster's HTTP control API on 127.0.0.1, for tests and people: what is
 * up, what each edge was asked, publish/unpublish, routes, edge deaths, the Stream Manager
 * going down, and server messages sent to subscribers. Answers are JSON. */
#include "cluster.h"

namespace cluster {

void
reply_json (SoupServerMessage *msg, guint status, JsonNode *node)
{
  std::string body = json_text (node);
  soup_server_message_set_status (msg, status, nullptr);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body.data (),
      body.size ());
}

void
add_edge_json (JsonBuilder *b, Edge &e, bool with_state)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, e.name.c_str ());
  json_builder_set_member_name (b, "address");
  json_builder_add_string_value (b, e.address.c_str ());
  json_builder_set_member_name (b, "flavour");
  json_builder_add_string_value (b, e.flavour.c_str ());
  if (with_state) {
    json_builder_set_member_name (b, "state");
    json_builder_add_string_value (b, e.state == Edge::State::UP ? "up"
        : e.state == Edge::State::KILLED ? "killed" : "silent");
    json_builder_set_member_name (b, "redirect");
    json_builder_add_string_value (b, e.redirect_to.c_str ());
    json_builder_set_member_name (b, "ice");
    json_builder_add_string_value (b, e.ice_mode.c_str ());
    json_builder_set_member_name (b, "media-blocked");
    json_builder_add_boolean_value (b, e.media_blocked);
    add_network_json (b, e);
  }
  json_builder_end_object (b);
}

static void
reply_text (SoupServerMessage *msg, guint status, const std::string &text)
{
  soup_server_message_set_status (msg, status, nullptr);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, text.data (),
      text.size ());
}

static const char *
signaling_name (Peer::Signaling s)
{
  switch (s) {
    case Peer::Signaling::WHEP_RED5: return "whep-red5";
    case Peer::Signaling::WHEP_STANDARD: return "whep-standard";
    case Peer::Signaling::WEBSOCKET: return "websocket";
  }
  return "?";
}

static JsonNode *
state_json ()
{
  Cluster &c = the_cluster ();
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "stream-manager");
  json_builder_add_string_value (b, c.sm ? "up" : "down");
  json_builder_set_member_name (b, "edges");
  json_builder_begin_array (b);
  for (auto &e : c.edges)
    add_edge_json (b, *e, true);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "streams");
  json_builder_begin_array (b);
  for (auto &kv : c.streams)
    json_builder_add_string_value (b, kv.first.c_str ());
  json_builder_end_array (b);
  json_builder_set_member_name (b, "routes");
  add_string_map (b, c.routes);
  json_builder_set_member_name (b, "keyframe-requests");
  json_builder_begin_object (b);
  for (auto &kv : c.streams) {
    json_builder_set_member_name (b, kv.first.c_str ());
    json_builder_add_int_value (b, kv.second->keyframe_requests->load ());
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "subscribers");
  json_builder_begin_array (b);
  for (auto &kv : c.peers) {
    const Peer &p = *kv.second;
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_int_value (b, p.id);
    json_builder_set_member_name (b, "edge");
    json_builder_add_string_value (b, p.edge->name.c_str ());
    json_builder_set_member_name (b, "stream");
    json_builder_add_string_value (b, p.stream.c_str ());
    json_builder_set_member_name (b, "signaling");
    json_builder_add_string_value (b, signaling_name (p.signaling));
    json_builder_set_member_name (b, "muted");
    json_builder_add_boolean_value (b, p.gates[0]->muted && p.gates[1]->muted);
    json_builder_set_member_name (b, "media-bytes");
    json_builder_add_int_value (b, gint64 (p.gates[0]->bytes + p.gates[1]->bytes));
    json_builder_set_member_name (b, "subscription-id");
    json_builder_add_string_value (b, p.subscription_id.c_str ());
    json_builder_set_member_name (b, "switched");
    json_builder_add_boolean_value (b, p.switched);
    json_builder_set_member_name (b, "data-channel-open");
    json_builder_add_boolean_value (b, p.channel_open);
    json_builder_set_member_name (b, "video-codec");
    json_builder_add_string_value (b, p.video_codec.c_str ());
    json_builder_set_member_name (b, "audio-codec");
    json_builder_add_string_value (b, p.audio_codec.c_str ());
    json_builder_set_member_name (b, "params");
    add_string_map (b, p.params);
    json_builder_set_member_name (b, "messages");
    json_builder_begin_array (b);
    for (const auto &m : p.received)
      json_builder_add_string_value (b, m.c_str ());
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  JsonNode *n = json_builder_get_root (b);
  g_object_unref (b);
  return n;
}

static JsonNode *
requests_json (const std::vector<LoggedRequest> &log)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_array (b);
  for (const auto &r : log) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "method");
    json_builder_add_string_value (b, r.method.c_str ());
    json_builder_set_member_name (b, "path");
    json_builder_add_string_value (b, r.path.c_str ());
    json_builder_set_member_name (b, "query");
    add_string_map (b, r.query);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  JsonNode *n = json_builder_get_root (b);
  g_object_unref (b);
  return n;
}

Edge *
edge_named (const std::string &name)
{
  for (auto &e : the_cluster ().edges)
    if (e->name == name)
      return e.get ();
  return nullptr;
}

/* the body as a JSON node (an empty object when there is none); nullptr when not JSON */
static JsonNode *
body_json (SoupServerMessage *msg)
{
  std::string body = request_body (msg);
  if (body.empty ())
    body = "{}";
  JsonParser *p = json_parser_new ();
  JsonNode *n = json_parser_load_from_data (p, body.c_str (), -1, nullptr)
      ? json_node_copy (json_parser_get_root (p))
      : nullptr;
  g_object_unref (p);
  return n;
}

/* sends text to every subscriber of the stream; returns how many */
static guint
send_to_stream (const std::string &stream, const std::string &text)
{
  guint n = 0;
  std::vector<std::shared_ptr<Peer>> targets;
  for (auto &kv : the_cluster ().peers)
    if (kv.second->stream == stream)
      targets.push_back (kv.second);
  for (auto &p : targets) {
    peer_send (p, text);
    n++;
  }
  return n;
}

static void
handler (SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer)
{
  Cluster &c = the_cluster ();
  auto q = query_map (query);
  auto arg = [&] (const char *k) { return q.count (k) ? q[k] : std::string (); };
  const std::string p = path;
  const bool get = g_str_equal (soup_server_message_get_method (msg), "GET");
  auto sent = [&] (guint n) {
    JsonNode *node = json_node_new (JSON_NODE_OBJECT);
    JsonObject *o = json_object_new ();
    json_object_set_int_member (o, "sent", n);
    json_node_take_object (node, o);
    reply_json (msg, n ? SOUP_STATUS_OK : SOUP_STATUS_NOT_FOUND, node);
  };

  if (get && p == "/state") {
    reply_json (msg, SOUP_STATUS_OK, state_json ());
  } else if (get && p == "/requests") {
    if (arg ("edge") == "sm") {
      reply_json (msg, SOUP_STATUS_OK, requests_json (c.sm_log));
    } else if (Edge *e = edge_named (arg ("edge"))) {
      reply_json (msg, SOUP_STATUS_OK, requests_json (e->log));
    } else {
      reply_text (msg, SOUP_STATUS_NOT_FOUND, "no such edge\n");
    }
  } else if (get && p == "/stamps") {
    std::string body = stamps_json (arg ("stream"));
    soup_server_message_set_status (msg, SOUP_STATUS_OK, nullptr);
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body.data (),
        body.size ());
  } else if (get && p == "/stats") {
    /* ?since=SEQ: only the envelopes kept after that one */
    reply_json (msg, SOUP_STATUS_OK, stats_json (g_ascii_strtoull (arg ("since").c_str (),
        nullptr, 10)));
  } else if (get && p == "/stats/state") {
    reply_json (msg, SOUP_STATUS_OK, stats_state_json ());
  } else if (get) {
    reply_text (msg, SOUP_STATUS_NOT_FOUND,
        "GET /state, /requests?edge=, /stamps?stream=, /stats[?since=], /stats/state\n");
  } else if (p == "/stats/mode") {
    reply_text (msg, stats_set_mode (arg ("mode")) ? SOUP_STATUS_OK : SOUP_STATUS_BAD_REQUEST,
        "");
  } else if (p == "/stats/clear") {
    stats_clear ();
    reply_text (msg, SOUP_STATUS_OK, "");
  } else if (p == "/stats/link") {
    stats_set_link (arg ("url"));
    reply_text (msg, SOUP_STATUS_OK, "");
  } else if (p == "/send/statistics-endpoint") {
    sent (send_to_stream (arg ("stream"), stats_endpoint_status (arg ("url"))));
  } else if (p == "/publish") {
    /* optional width/height: a republish at another size is a caps change downstream */
    auto size = [&] (const char *k, guint64 fallback) {
      return arg (k).empty () ? fallback : g_ascii_strtoull (arg (k).c_str (), nullptr, 10);
    };
    guint64 width = size ("width", 320), height = size ("height", 240);
    bool ok = width >= 320 && width <= 4096 && height >= 16 && height <= 4096 &&
        stream_publish (arg ("stream"), guint (width), guint (height));
    reply_text (msg, ok ? SOUP_STATUS_OK : SOUP_STATUS_BAD_REQUEST, "");
  } else if (p == "/publish-abr") {
    /* an ABR group: {stream}_1 to {stream}_3 at three sizes, switchStreams among them */
    reply_text (msg, !arg ("stream").empty () && stream_publish_abr (arg ("stream"))
        ? SOUP_STATUS_OK : SOUP_STATUS_BAD_REQUEST, "");
  } else if (p == "/unpublish") {
    stream_unpublish (arg ("stream"));
    reply_text (msg, SOUP_STATUS_OK, "");
  } else if (p == "/route") {
    if (arg ("edge").empty ())
      c.routes.erase (arg ("stream"));
    else
      c.routes[arg ("stream")] = arg ("edge");
    reply_text (msg, edge_named (arg ("edge")) || arg ("edge").empty () ? SOUP_STATUS_OK
                                                                       : SOUP_STATUS_NOT_FOUND, "");
  } else if (p == "/sm/session-host") {
    /* ?enabled=false: the SM 2.0 proxy's OPTIONS answer names no node (an older server) */
    c.opt.session_host = arg ("enabled") != "false";
    reply_text (msg, SOUP_STATUS_OK, "");
  } else if (p == "/sm/balance") {
    /* ?enabled=true: lookups answer the edge with the fewest subscribers first */
    c.opt.sm_balance = arg ("enabled") == "true";
    reply_text (msg, SOUP_STATUS_OK, "");
  } else if (p == "/sm/server-address") {
    /* ?with-port=true: lookups answer serverAddress "127.0.0.2:<port>" */
    c.opt.address_with_port = arg ("with-port") == "true";
    reply_text (msg, SOUP_STATUS_OK, "");
  } else if (p == "/edge/kill" || p == "/edge/restart" || p == "/edge/flavour" ||
      p == "/edge/loss" || p == "/edge/network" || p == "/edge/redirect" || p == "/edge/ice" ||
      p == "/edge/block-media" || p == "/edge/unblock-media") {
    Edge *e = edge_named (arg ("edge"));
    if (!e) {
      reply_text (msg, SOUP_STATUS_NOT_FOUND, "no such edge\n");
    } else if (p == "/edge/kill") {
      edge_kill (e, arg ("mode") == "silent");
      reply_text (msg, SOUP_STATUS_OK, "");
    } else if (p == "/edge/restart") {
      reply_text (msg, edge_restart (e) ? SOUP_STATUS_OK : SOUP_STATUS_INTERNAL_SERVER_ERROR, "");
    } else if (p == "/edge/redirect") {
      /* ?to=edge2&status=307|308&once=true|false; without to= the redirect is cleared */
      const std::string to = arg ("to"), status = arg ("status");
      if (!to.empty () && (!edge_named (to) ||
              !(status.empty () || status == "307" || status == "308"))) {
        reply_text (msg, SOUP_STATUS_BAD_REQUEST, "to= names no edge, or status is not 307/308\n");
        return;
      }
      e->redirect_to = to;
      e->redirect_status = status == "308" ? 308 : 307;
      e->redirect_once = arg ("once") != "false";
      reply_text (msg, SOUP_STATUS_OK, "");
    } else if (p == "/edge/ice") {
      /* ?mode=any|tcp|relay[&turn=URL]: for the subscribers that come next */
      const std::string mode = arg ("mode"), turn = arg ("turn");
      if (!ice_mode_valid (mode) || (mode == "relay" && turn.empty () && e->turn_url.empty ())) {
        reply_text (msg, SOUP_STATUS_BAD_REQUEST, "mode=any|tcp|relay; relay needs turn=\n");
        return;
      }
      e->ice_mode = mode;
      if (!turn.empty ())
        e->turn_url = turn;
      reply_text (msg, SOUP_STATUS_OK, "");
    } else if (p == "/edge/block-media" || p == "/edge/unblock-media") {
      edge_block_media (e, p == "/edge/block-media");
      reply_text (msg, SOUP_STATUS_OK, "");
    } else if (p == "/edge/loss" || p == "/edge/network") {
      /* /edge/loss?percent=N: that share of the packets between the edge and its
       * subscribers is lost at random (both ways, after SRTP); /edge/network sets any of
       * loss, burst-loss + burst, delay, jitter, kbps, queue (network.cpp) */
      std::map<std::string, std::string> args;
      if (p == "/edge/loss")
        args["loss"] = arg ("percent");
      else
        args = q;
      std::string why;
      if (network_set (e, args, &why))
        reply_text (msg, SOUP_STATUS_OK, "");
      else
        reply_text (msg, SOUP_STATUS_BAD_REQUEST, why + "\n");
    } else {
      const std::string f = arg ("flavour");
      e->flavour = f == "standard" || f == "strict" ? f : "red5";
      reply_text (msg, SOUP_STATUS_OK, "");
    }
  } else if (p == "/sm/down") {
    stream_manager_down ();
    reply_text (msg, SOUP_STATUS_OK, "");
  } else if (p == "/sm/up") {
    reply_text (msg, stream_manager_up () ? SOUP_STATUS_OK : SOUP_STATUS_INTERNAL_SERVER_ERROR, "");
  } else if (p == "/send/metadata") {
    /* body: the metadata object, e.g. {"width":640,"height":480,"orientation":90} */
    JsonNode *data = body_json (msg);
    if (!data) {
      reply_text (msg, SOUP_STATUS_BAD_REQUEST, "body is not JSON\n");
      return;
    }
    JsonObject *o = json_object_new ();
    json_object_set_string_member (o, "type", "metadata");
    json_object_set_string_member (o, "method", "onMetaData");
    json_object_set_member (o, "data", data);
    JsonNode *n = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (n, o);
    sent (send_to_stream (arg ("stream"), json_text (n)));
  } else if (p == "/send/invoke") {
    JsonNode *data = body_json (msg);
    if (!data) {
      reply_text (msg, SOUP_STATUS_BAD_REQUEST, "body is not JSON\n");
      return;
    }
    JsonObject *send = json_object_new ();
    json_object_set_string_member (send, "method", arg ("method").c_str ());
    json_object_set_member (send, "data", data);
    JsonObject *o = json_object_new ();
    json_object_set_object_member (o, "send", send);
    json_object_set_string_member (o, "senderName", "publisher");
    json_object_set_string_member (o, "dcLabel", "red5pro");
    JsonNode *n = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (n, o);
    sent (send_to_stream (arg ("stream"), json_text (n)));
  } else if (p == "/send/status" && arg ("when") == "switch") {
    /* sent on the socket when the client's switchChannel arrives, before the server reads
     * on: a message that was under way when the client switched */
    guint n = 0;
    for (auto &kv : c.peers)
      if (kv.second->stream == arg ("stream") && kv.second->ws && !kv.second->switched) {
        kv.second->at_switch.push_back (json_status (arg ("code").c_str (), arg ("message")));
        n++;
      }
    sent (n);
  } else if (p == "/send/status") {
    sent (send_to_stream (arg ("stream"), json_status (arg ("code").c_str (), arg ("message"))));
  } else if (p == "/send/raw") {
    /* body sent as it is (garbage, truncated JSON...); ?size=N sends N bytes of 'x' */
    std::string text = request_body (msg);
    if (!arg ("size").empty ())
      text.assign (size_t (g_ascii_strtoull (arg ("size").c_str (), nullptr, 10)), 'x');
    sent (send_to_stream (arg ("stream"), text));
  } else if (p == "/subscriber/close-socket") {
    guint n = 0;
    for (auto &kv : c.peers) {
      auto &peer = kv.second;
      if (peer->stream == arg ("stream") && peer->ws &&
          soup_websocket_connection_get_state (peer->ws) == SOUP_WEBSOCKET_STATE_OPEN) {
        soup_websocket_connection_close (peer->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
        n++;
      }
    }
    sent (n);
  } else if (p == "/quit") {
    reply_text (msg, SOUP_STATUS_OK, "");
    run_later (50, [] { g_main_loop_quit (the_cluster ().loop); });
  } else {
    reply_text (msg, SOUP_STATUS_NOT_FOUND, "unknown control call\n");
  }
}

bool
control_start ()
{
  Cluster &c = the_cluster ();
  c.control = soup_server_new ("server-header", "red5pro-test-cluster control ", NULL);
  soup_server_add_handler (c.control, "/", handler, nullptr, nullptr);
  GInetAddress *ia = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (ia, guint16 (c.opt.control_port));
  GError *err = nullptr;
  bool ok = soup_server_listen (c.control, sa, SoupServerListenOptions (0), &err);
  g_object_unref (sa);
  g_object_unref (ia);
  if (!ok) {
    g_printerr ("control: cannot listen: %s\n", err->message);
    g_clear_error (&err);
    return false;
  }
  GSList *uris = soup_server_get_uris (c.control);
  c.opt.control_port = guint (g_uri_get_port (static_cast<GUri *> (uris->data)));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return true;
}

}   // namespace cluster
