/* red5pro-websocket: Red5 Pro's WebSocket signaling client (protocol notes, section 3):
 * the URL (direct, SM 1.x proxy, SM 2.0 proxy), availability check, requestOffer,
 * handleAnswer / handleCandidate, subscribe after TrickleCompleted, and the switch to the
 * data channel. WebRTC itself stays in the session. */
#pragma once

#include "red5pro-config.h"
#include "red5pro-messages.h"
#include "red5pro-whep.h"
#include "red5pro-worker.h"

#include <json-glib/json-glib.h>

#include <functional>
#include <memory>
#include <string>

namespace red5pro {

/* ws(s)://host:port/app/?id=...: direct to the edge, or through a Stream Manager proxy
 * (edge = the looked-up edge for SM 1.x; unused for SM 2.0, whose proxy picks it). */
std::string websocket_url (const SubscriberConfig &cfg, const std::string &edge,
    const std::string &app);

class WebSocketClient : public std::enable_shared_from_this<WebSocketClient> {
public:
  enum class Failure { UNREACHABLE, CERTIFICATE, REJECTED, UNAVAILABLE, CLOSED };

  struct Handlers {
    std::function<void ()> connected;                          /* Connect.Success */
    std::function<void (const std::string &sdp)> offer;        /* the server's offer */
    std::function<void (const IceCandidate &c)> candidate;     /* empty = end */
    std::function<void (const ServerMessage &m)> message;      /* everything else */
    std::function<void (Failure f, const std::string &why)> failed;
  };

  WebSocketClient (Worker &worker, std::string url, const SubscriberConfig &cfg,
      GCancellable *cancellable);
  ~WebSocketClient ();

  void connect (Handlers handlers);
  void send_answer (const std::string &sdp);
  void send_candidate (const IceCandidate &c);
  /* Closes the socket; no failure is reported for it. */
  void close ();

  const std::string &url () const { return url_; }

private:
  static void on_connected (GObject *source, GAsyncResult *res, gpointer data);
  static void on_message (SoupWebsocketConnection *, gint type, GBytes *message, gpointer data);
  static void on_closed (SoupWebsocketConnection *, gpointer data);
  void handle (ServerMessage m);
  void send (JsonBuilder *builder);

  Worker &worker_;
  std::string url_;
  std::string stream_;
  std::string request_id_;
  std::string auth_token_;
  bool datachannel_;
  bool switch_channel_;
  GCancellable *cancellable_;
  SoupWebsocketConnection *conn_ = nullptr;
  Handlers handlers_;
  bool closing_ = false;      /* we close it, or switched to the data channel */
  bool subscribed_ = false;
  guint switch_timer_ = 0;
};

}  // namespace red5pro
