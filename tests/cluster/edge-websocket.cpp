/* edge-websocket: an edge's side of Red5 Pro's WebSocket signaling (protocol notes, section
 * 3): the server offers, candidates both ways, subscribe, the switch to the data channel. */
#include "cluster.h"

namespace cluster {

struct WsClient {
  Edge *edge;
  SoupWebsocketConnection *ws;
  std::map<std::string, std::string> params;
  std::string stream;
  guint peer = 0;
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

/* NetConnection.DataChannel.Available, once per subscriber, on the socket: when the client's
 * channel has opened at the server and the client has subscribed, whichever comes last. */
void
ws_channel_available (const std::shared_ptr<Peer> &p)
{
  if (!p->ws || p->switched || !p->channel_open || !p->subscribed || p->channel_announced)
    return;
  p->channel_announced = true;
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
    } else {
      /* the request's fields join the query pairs the socket connected with (section 3):
       * doNotSwitch (the SDK's maintainStreamVariant), transport, the encodings */
      auto params = cl->params;
      for (const char *k : { "videoEncoding", "audioEncoding", "transport" })
        if (const char *v = member_string (o, k))
          params[k] = v;
      if (JsonNode *n = json_object_get_member (o, "doNotSwitch"))
        if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN)
          params["doNotSwitch"] = json_node_get_boolean (n) ? "true" : "false";
      auto get = [&params] (const char *k) {
        auto it = params.find (k);
        return it == params.end () ? std::string () : it->second;
      };
      const Stream &s = *c.streams.at (cl->stream);
      p = peer_create (cl->edge, cl->stream, Peer::Signaling::WEBSOCKET,
          codec_for (s, true, get ("videoEncoding")), codec_for (s, false, get ("audioEncoding")));
      cl->peer = p->id;
      p->params = params;
      p->ws = SOUP_WEBSOCKET_CONNECTION (g_object_ref (cl->ws));
      const char *rid = member_string (o, "requestId");
      p->subscription_id = rid ? rid : "";
      JsonNode *dc = json_object_get_member (o, "datachannel");
      p->want_channel = dc && JSON_NODE_HOLDS_VALUE (dc) &&
          json_node_get_value_type (dc) == G_TYPE_BOOLEAN && json_node_get_boolean (dc);
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
    p->subscribed = true;
    peer_send (p, json_status ("NetStream.Play.Start", p->stream + " starting"));
    ws_channel_available (p);
  } else if (member_string (o, "switchChannel") && p) {
    for (const auto &text : p->at_switch)
      soup_websocket_connection_send_text (p->ws, text.c_str ());
    p->at_switch.clear ();
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

void
ws_handler (SoupServer *, SoupServerMessage *msg, const char *, SoupWebsocketConnection *ws,
    gpointer data)
{
  auto *e = static_cast<Edge *> (data);
  edge_log_request (e->log, "WS", msg);
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

void
ws_candidate (const std::shared_ptr<Peer> &p, guint mline, const std::string &cand)
{
  if (p->signaling == Peer::Signaling::WEBSOCKET && p->ws && !p->switched &&
      p->edge->state == Edge::State::UP)
    soup_websocket_connection_send_text (p->ws, candidate_json (cand, mid_of (p, mline), mline).c_str ());
}

}   // namespace cluster
