/* floor-websocket: the floor client's Red5 Pro WebSocket signaling (protocol notes, section
 * 3), the exchange red5prosrc has with an edge: Connect.Success, isAvailable, requestOffer,
 * the server's offer answered (handleAnswer), candidates both ways, subscribe once the
 * server's trickle is complete. The socket stays open (no switch to the data channel). */
#include "floor-client.h"

namespace bench {

namespace {

struct WeakData {
  std::weak_ptr<FloorClient> self;
};

JsonObject *
member_object (JsonObject *o, const char *name)
{
  if (!o || !json_object_has_member (o, name))
    return nullptr;
  JsonNode *n = json_object_get_member (o, name);
  return JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : nullptr;
}

std::string
member_string (JsonObject *o, const char *name)
{
  if (!o || !json_object_has_member (o, name))
    return "";
  JsonNode *n = json_object_get_member (o, name);
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
      ? json_node_get_string (n) : "";
}

}  // namespace

void
FloorClient::ws_start ()
{
  std::string url = "ws://" + edge_ + ":" + std::to_string (opt_.port) + "/" + opt_.app +
      "/?id=" + request_id_;
  SoupMessage *msg = soup_message_new ("GET", url.c_str ());
  if (!msg) {
    fail ("bad URL: " + url);
    return;
  }
  soup_session_websocket_connect_async (http_, msg, nullptr, nullptr, G_PRIORITY_DEFAULT,
      cancellable_, ws_on_connected, new WeakData { weak_from_this () });
  g_object_unref (msg);
}

void
FloorClient::ws_on_connected (GObject *session, GAsyncResult *res, gpointer data)
{
  std::unique_ptr<WeakData> weak (static_cast<WeakData *> (data));
  GError *err = nullptr;
  SoupWebsocketConnection *ws =
      soup_session_websocket_connect_finish (SOUP_SESSION (session), res, &err);
  auto self = weak->self.lock ();
  if (!self || self->stopped_) {
    g_clear_object (&ws);
    g_clear_error (&err);
    return;
  }
  if (!ws) {
    self->fail (std::string ("WebSocket: ") + (err ? err->message : "failed"));
    g_clear_error (&err);
    return;
  }
  self->ws_ = ws;
  soup_websocket_connection_set_max_incoming_payload_size (ws, 16 * 1024 * 1024);
  g_signal_connect (ws, "message", G_CALLBACK (ws_on_message), self.get ());
  g_signal_connect (ws, "closed", G_CALLBACK (ws_on_closed), self.get ());
}

/* (signal handlers are disconnected in stop (), on the loop, before the client can go) */
void
FloorClient::ws_on_message (SoupWebsocketConnection *, gint type, GBytes *message,
    gpointer data)
{
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;
  gsize n = 0;
  const char *p = static_cast<const char *> (g_bytes_get_data (message, &n));
  static_cast<FloorClient *> (data)->ws_message (std::string (p ? p : "", n));
}

void
FloorClient::ws_on_closed (SoupWebsocketConnection *, gpointer data)
{
  auto *self = static_cast<FloorClient *> (data);
  if (!self->stopped_)
    self->fail ("the WebSocket closed");
}

JsonBuilder *
FloorClient::ws_request (const char *key)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, opt_.stream.c_str ());
  json_builder_set_member_name (b, "requestId");
  json_builder_add_string_value (b, request_id_.c_str ());
  return b;
}

void
FloorClient::ws_send (JsonBuilder *b)
{
  json_builder_end_object (b);
  JsonNode *root = json_builder_get_root (b);
  char *text = json_to_string (root, FALSE);
  if (ws_ && soup_websocket_connection_get_state (ws_) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (ws_, text);
  g_free (text);
  json_node_unref (root);
  g_object_unref (b);
}

void
FloorClient::ws_message (const std::string &text)
{
  JsonParser *parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text.c_str (), -1, nullptr) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_object_unref (parser);
    return;
  }
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  JsonObject *data = member_object (o, "data");
  std::string type = member_string (data, "type");
  std::string code = member_string (data, "code");
  JsonObject *sdp = member_object (data, "sdp");
  JsonObject *cand = member_object (data, "candidate");

  if (code == "NetConnection.Connect.Success") {
    JsonBuilder *b = json_builder_new ();
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "isAvailable");
    json_builder_add_string_value (b, opt_.stream.c_str ());
    ws_send (b);
  } else if (json_object_has_member (o, "isAvailable")) {
    JsonNode *n = json_object_get_member (o, "isAvailable");
    if (!JSON_NODE_HOLDS_VALUE (n) || !json_node_get_boolean (n)) {
      fail ("the stream is not available");
    } else {
      JsonBuilder *b = ws_request ("requestOffer");
      json_builder_set_member_name (b, "transport");
      json_builder_add_string_value (b, "udp");
      json_builder_set_member_name (b, "datachannel");
      json_builder_add_boolean_value (b, opt_.data_channel);
      json_builder_set_member_name (b, "doNotSwitch");
      json_builder_add_boolean_value (b, FALSE);
      ws_send (b);
    }
  } else if (sdp && member_string (sdp, "type") == "offer") {
    answer_offer (member_string (sdp, "sdp"), [] (FloorClient &self, const std::string &answer) {
      JsonBuilder *b = self.ws_request ("handleAnswer");
      json_builder_set_member_name (b, "data");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "sdp");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "answer");
      json_builder_set_member_name (b, "sdp");
      json_builder_add_string_value (b, answer.c_str ());
      json_builder_end_object (b);
      json_builder_end_object (b);
      self.ws_send (b);
    });
  } else if (cand) {
    std::string line = member_string (cand, "candidate");
    if (!line.empty ()) {   /* "" ends the server's candidates */
      guint mline = json_object_has_member (cand, "sdpMLineIndex")
          ? guint (json_object_get_int_member (cand, "sdpMLineIndex")) : 0;
      g_signal_emit_by_name (webrtc_, "add-ice-candidate", mline, line.c_str ());
    }
  } else if (code == "NetConnection.ICE.TrickleCompleted" ||
      code == "NetConnection.ICE.TricleCompleted") {
    if (!subscribed_) {
      subscribed_ = true;
      ws_send (ws_request ("subscribe"));
    }
  } else if (type == "error" || code == "NetConnection.Connect.Rejected" ||
      code == "NetConnection.Connect.Failed" || code == "NetStream.Play.StreamNotFound") {
    fail ("the edge says " + (code.empty () ? member_string (data, "message") : code));
  }
  g_object_unref (parser);
}

}  // namespace bench
