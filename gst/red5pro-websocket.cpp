/* red5pro-websocket: Red5 Pro WebSocket signaling over libsoup, messages via json-glib. */
#include "red5pro-websocket.h"
#include "red5pro-codecs.h"
#include "red5pro-url.h"

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

/* The SDK waits about a second after DataChannel.Available before switching. */
static constexpr guint SWITCH_DELAY_MS = 1000;
/* How long the socket is still read after the switch, for messages already under way. */
static constexpr guint SWITCH_DRAIN_MS = 2000;
/* A larger frame makes libsoup close the connection (code 1009, message too big; it cannot
 * skip a frame): that ends the attempt, said so, and the next attempt starts over. */
static constexpr guint64 MAX_FRAME = 16 * 1024 * 1024;

std::string
websocket_url (const SubscriberConfig &cfg, const std::string &edge, const std::string &app,
    guint edge_port)
{
  const char *scheme = cfg.tls ? "wss" : "ws";
  QueryPairs query { { "id", cfg.subscription_id } };
  std::vector<std::string> path;
  std::string host = edge;
  if (cfg.use_proxy && cfg.stream_manager == StreamManagerMode::SM1) {
    /* SM 1.x proxy: the SM host, app "streammanager", the edge named in the params */
    host = cfg.host;
    path = { "streammanager", "" };
    query.emplace_back ("host", edge);
    query.emplace_back ("app", app);
  } else if (cfg.use_proxy && cfg.stream_manager == StreamManagerMode::SM2) {
    host = cfg.host;
    path = { "as", "v1", "proxy", "ws", "subscribe", app, cfg.stream_name };
    query.emplace_back ("nodeGroup", cfg.node_group);
  } else {
    path = { app, "" };
  }
  for (const auto &kv : cfg.connection_params)
    query.push_back (kv);
  /* the edge's own port, when the Stream Manager named one, for a direct connection */
  guint port = edge_port && host == edge ? edge_port : cfg.effective_port ();
  return build_url (scheme, host, port, path, query);
}

namespace {
struct PendingConnect {
  WebSocketSignaling *self;
  std::shared_ptr<bool> alive;
};
}  // namespace

WebSocketSignaling::WebSocketSignaling (Worker &worker, std::string url,
    const SubscriberConfig &cfg, GCancellable *cancellable)
  : worker_ (worker), url_ (std::move (url)), stream_ (cfg.stream_name),
    request_id_ (cfg.subscription_id), auth_token_ (cfg.auth_token),
    datachannel_ (cfg.data_channel),
    switch_channel_ (cfg.data_channel && cfg.signaling_socket_only),
    tcp_ (cfg.ice_transport == IceTransport::TCP),
    do_not_switch_ (cfg.maintain_stream_variant),
    video_encoding_ (cfg.video_encoding.empty () ? "" : sdk_encoding (cfg.video_encoding, true)),
    audio_encoding_ (cfg.audio_encoding.empty () ? "" : sdk_encoding (cfg.audio_encoding, false)),
    cancellable_ (G_CANCELLABLE (g_object_ref (cancellable)))
{
}

WebSocketSignaling::~WebSocketSignaling ()
{
  *alive_ = false;
  worker_.remove_timeout (switch_timer_);
  if (conn_) {
    g_signal_handlers_disconnect_by_data (conn_, this);
    if (soup_websocket_connection_get_state (conn_) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (conn_, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
    g_object_unref (conn_);
  }
  g_object_unref (cancellable_);
}

std::string
WebSocketSignaling::where () const
{
  return redact_url (url_);
}

void
WebSocketSignaling::report_failure (Failure::Kind kind, const std::string &why)
{
  closing_ = true;
  failed_ = true;
  events_.failed (Failure (kind, why));
}

void
WebSocketSignaling::start (const std::string &, Events events)
{
  events_ = std::move (events);
  SoupMessage *msg = soup_message_new ("GET", url_.c_str ());
  if (!msg) {
    report_failure (Failure::Kind::UNREACHABLE, "invalid WebSocket URL");
    return;
  }
  GST_INFO_OBJECT (worker_.log_object (), "WebSocket connect %s", redact_url (url_).c_str ());
  worker_.prepare (msg);
  if (!auth_token_.empty ())
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
        ("Bearer " + auth_token_).c_str ());
  /* the handshake ends on the worker; this may be gone by then */
  soup_session_websocket_connect_async (worker_.http (), msg, nullptr, nullptr,
      G_PRIORITY_DEFAULT, cancellable_, on_connected, new PendingConnect { this, alive_ });
  g_object_unref (msg);
}

void
WebSocketSignaling::on_connected (GObject *source, GAsyncResult *res, gpointer data)
{
  std::unique_ptr<PendingConnect> pending (static_cast<PendingConnect *> (data));
  g_autoptr (GError) err = nullptr;
  SoupWebsocketConnection *conn =
      soup_session_websocket_connect_finish (SOUP_SESSION (source), res, &err);
  if (!*pending->alive) {
    g_clear_object (&conn);
    return;
  }
  WebSocketSignaling *self = pending->self;
  if (!conn) {
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->closing_)
      return;
    if (err && g_error_matches (err, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
      self->report_failure (Failure::Kind::CERTIFICATE,
          std::string ("the TLS certificate of the server was refused: ") + err->message);
    else if (err && err->domain == G_TLS_ERROR)
      /* not a certificate: wss to a port that speaks plain http, say */
      self->report_failure (Failure::Kind::UNREACHABLE,
          std::string ("no TLS connection with the server (is it an https port?): ") +
          err->message);
    else
      self->report_failure (Failure::Kind::UNREACHABLE,
          std::string ("WebSocket connection failed: ") + (err ? err->message : "unknown error"));
    return;
  }
  self->conn_ = conn;
  soup_websocket_connection_set_max_incoming_payload_size (conn, MAX_FRAME);
  soup_websocket_connection_set_keepalive_interval (conn, 0);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), self);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), self);
  /* the reason of a close libsoup decides itself (a frame too big): the close code it
   * reports is the server's */
  g_signal_connect (conn, "error", G_CALLBACK (+[] (SoupWebsocketConnection *, GError *err,
      gpointer data) {
    auto *self = static_cast<WebSocketSignaling *> (data);
    if (err && err->domain == SOUP_WEBSOCKET_ERROR && err->code == SOUP_WEBSOCKET_CLOSE_TOO_BIG)
      self->too_big_ = true;
  }), self);
  GST_INFO_OBJECT (self->worker_.log_object (), "WebSocket open");
}

void
WebSocketSignaling::on_message (SoupWebsocketConnection *, gint type, GBytes *message,
    gpointer data)
{
  auto *self = static_cast<WebSocketSignaling *> (data);
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    GST_DEBUG_OBJECT (self->worker_.log_object (), "ignoring a binary WebSocket frame");
    return;
  }
  gsize size = 0;
  const char *p = static_cast<const char *> (g_bytes_get_data (message, &size));
  ServerMessage m = parse_server_message (std::string (p ? p : "", size));
  GST_LOG_OBJECT (self->worker_.log_object (), "WebSocket message: kind %d, %zu bytes",
      int (m.kind), size);
  if (m.kind == ServerMessage::Kind::INVALID) {
    GST_WARNING_OBJECT (self->worker_.log_object (),
        "ignoring a WebSocket message that is not a JSON object (%zu bytes)", size);
    return;
  }
  /* after the switch too: what the server sent before it read it comes this way */
  if (*self->alive_ && !self->failed_)
    self->handle (std::move (m));
}

JsonBuilder *
WebSocketSignaling::request (const char *key)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, stream_.c_str ());
  json_builder_set_member_name (b, "requestId");
  json_builder_add_string_value (b, request_id_.c_str ());
  return b;
}

void
WebSocketSignaling::handle (ServerMessage m)
{
  using K = ServerMessage::Kind;
  auto alive = alive_;
  if (m.kind == K::STATUS && m.is_status (status::CONNECT_SUCCESS)) {
    events_.connected (0);
    if (!*alive)
      return;
    JsonBuilder *b = json_builder_new ();
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "isAvailable");
    json_builder_add_string_value (b, stream_.c_str ());
    send (b);
  } else if ((m.kind == K::STATUS || m.kind == K::ERROR) &&
      (m.is_status (status::CONNECT_REJECTED) || m.is_status (status::CONNECT_FAILED))) {
    report_failure (m.is_status (status::CONNECT_REJECTED) ? Failure::Kind::UNAUTHORIZED
                                                 : Failure::Kind::CONNECTION_CLOSED,
        m.code + (m.message.empty () ? "" : ": " + m.message));
  } else if (m.kind == K::AVAILABLE) {
    if (!m.available) {
      report_failure (Failure::Kind::NOT_FOUND, "the server says the stream is not available");
      return;
    }
    /* as the SDK asks (protocol notes, section 3, step 3) */
    JsonBuilder *b = request ("requestOffer");
    json_builder_set_member_name (b, "transport");
    json_builder_add_string_value (b, tcp_ ? "tcp" : "udp");
    json_builder_set_member_name (b, "datachannel");
    json_builder_add_boolean_value (b, datachannel_);
    json_builder_set_member_name (b, "doNotSwitch");
    json_builder_add_boolean_value (b, do_not_switch_);
    if (!video_encoding_.empty ()) {
      json_builder_set_member_name (b, "videoEncoding");
      json_builder_add_string_value (b, video_encoding_.c_str ());
    }
    if (!audio_encoding_.empty ()) {
      json_builder_set_member_name (b, "audioEncoding");
      json_builder_add_string_value (b, audio_encoding_.c_str ());
    }
    send (b);
  } else if (m.kind == K::OFFER) {
    events_.description (SdpKind::OFFER, m.sdp);
  } else if (m.kind == K::CANDIDATE) {
    IceCandidate c;
    c.mline = m.mline;
    c.mid = m.mid;
    c.candidate = m.candidate;
    events_.candidate (c);
  } else if (m.kind == K::STATUS && (m.is_status (status::TRICKLE_COMPLETED) ||
                 m.is_status (status::TRICKLE_COMPLETED_OLD))) {
    if (!subscribed_) {
      subscribed_ = true;
      send (request ("subscribe"));
    }
  } else {
    bool dc_ready = m.kind == K::STATUS && m.is_status (status::DATA_CHANNEL_AVAILABLE);
    events_.message (m);
    if (*alive && dc_ready && switch_channel_ && !switch_timer_ && !closing_) {
      switch_timer_ = worker_.add_timeout (SWITCH_DELAY_MS, [this, alive] () {
        if (!*alive || !conn_)
          return;
        switch_timer_ = 0;
        GST_INFO_OBJECT (worker_.log_object (), "switching signaling to the data channel");
        JsonBuilder *b = json_builder_new ();
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "switchChannel");
        json_builder_add_string_value (b, "red5pro");
        send (b);
        closing_ = true;
        /* What the server sent before it read the switch still comes over the socket (an
         * unpublish notice in the same instant was lost to an immediate close): the socket
         * is read on for a while, then closed. */
        switch_timer_ = worker_.add_timeout (SWITCH_DRAIN_MS, [this, alive] () {
          if (!*alive)
            return;
          switch_timer_ = 0;
          if (conn_ && soup_websocket_connection_get_state (conn_) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close (conn_, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
        });
      });
    }
  }
}

void
WebSocketSignaling::on_closed (SoupWebsocketConnection *conn, gpointer data)
{
  auto *self = static_cast<WebSocketSignaling *> (data);
  if (self->closing_)
    return;
  gushort code = soup_websocket_connection_get_close_code (conn);
  if (self->too_big_ || code == SOUP_WEBSOCKET_CLOSE_TOO_BIG)
    self->report_failure (Failure::Kind::CONNECTION_CLOSED,
        "a WebSocket frame from the server was too large (over 16 MiB): the socket was closed");
  else
    self->report_failure (Failure::Kind::CONNECTION_CLOSED,
        "the WebSocket closed (code " + std::to_string (code) + ")");
}

/* Ends the object the builder holds and sends it. */
void
WebSocketSignaling::send (JsonBuilder *builder)
{
  json_builder_end_object (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = json_to_string (root, FALSE);
  g_object_unref (builder);
  if (conn_ && soup_websocket_connection_get_state (conn_) == SOUP_WEBSOCKET_STATE_OPEN) {
    GST_LOG_OBJECT (worker_.log_object (), "WebSocket send %s", text);
    soup_websocket_connection_send_text (conn_, text);
  }
}

void
WebSocketSignaling::send_answer (const std::string &sdp)
{
  JsonBuilder *b = request ("handleAnswer");
  json_builder_set_member_name (b, "data");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sdp");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "answer");
  json_builder_set_member_name (b, "sdp");
  json_builder_add_string_value (b, sdp.c_str ());
  json_builder_end_object (b);
  json_builder_end_object (b);
  send (b);
  events_.answer_delivered ();
}

void
WebSocketSignaling::send_candidate (const IceCandidate &c, const std::string &,
    const std::string &)
{
  JsonBuilder *b = request ("handleCandidate");
  json_builder_set_member_name (b, "data");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "candidate");
  json_builder_begin_object (b);
  if (c.candidate.empty ()) {
    json_builder_set_member_name (b, "type");
    json_builder_add_string_value (b, "candidate");
    json_builder_set_member_name (b, "candidate");
    json_builder_add_string_value (b, "");
  } else {
    json_builder_set_member_name (b, "candidate");
    json_builder_add_string_value (b, c.candidate.c_str ());
    json_builder_set_member_name (b, "sdpMid");
    json_builder_add_string_value (b, c.mid.c_str ());
    json_builder_set_member_name (b, "sdpMLineIndex");
    json_builder_add_int_value (b, c.mline);
  }
  json_builder_end_object (b);
  json_builder_end_object (b);
  send (b);
}

void
WebSocketSignaling::end_of_candidates (const std::string &, const std::string &)
{
  send_candidate (IceCandidate ());
}

void
WebSocketSignaling::stop ()
{
  *alive_ = false;
  closing_ = true;
  worker_.remove_timeout (switch_timer_);
  switch_timer_ = 0;
  if (conn_ && soup_websocket_connection_get_state (conn_) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn_, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
}

}  // namespace red5pro
