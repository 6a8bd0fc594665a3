/* red5pro-websocket: Red5 Pro's WebSocket signaling (protocol notes, section 3): the URL
 * (direct, SM 1.x proxy, SM 2.0 proxy) and the Signaling implementation: availability
 * check, requestOffer, handleAnswer / handleCandidate, subscribe after TrickleCompleted, and
 * the switch to the data channel. No WebRTC here. */
#pragma once

#include "red5pro-config.h"
#include "red5pro-messages.h"
#include "red5pro-signaling.h"
#include "red5pro-worker.h"

#include <json-glib/json-glib.h>

#include <functional>
#include <memory>
#include <string>

namespace red5pro {

/* ws(s)://host:port/app/?id=...: direct to the edge, or through a Stream Manager proxy
 * (edge = the looked-up edge for SM 1.x; unused for SM 2.0, whose proxy picks it). */
std::string websocket_url (const SubscriberConfig &cfg, const std::string &edge,
    const std::string &app, guint edge_port = 0);

/* Signaling over Red5 Pro's WebSocket protocol: Connect.Success, isAvailable, requestOffer
 * (the server offers), handleAnswer, handleCandidate both ways, subscribe on
 * TrickleCompleted, and the switch to the data channel once it is available. */
class WebSocketSignaling : public Signaling {
public:
  WebSocketSignaling (Worker &worker, std::string url, const SubscriberConfig &cfg,
      GCancellable *cancellable);
  ~WebSocketSignaling () override;

  bool client_offers () const override { return false; }
  void start (const std::string &offer, Events events) override;
  void send_answer (const std::string &sdp) override;
  void send_candidate (const IceCandidate &c, const std::string &ufrag = "",
      const std::string &pwd = "") override;
  void end_of_candidates (const std::string &ufrag, const std::string &pwd) override;
  void stop () override;
  std::string where () const override;

private:
  static void on_connected (GObject *source, GAsyncResult *res, gpointer data);
  static void on_message (SoupWebsocketConnection *, gint type, GBytes *message, gpointer data);
  static void on_closed (SoupWebsocketConnection *, gpointer data);
  void handle (ServerMessage m);
  void report_failure (Failure::Kind kind, const std::string &why);
  /* a JSON object message, { key: stream, "requestId": id, ...more } */
  void send (JsonBuilder *builder);
  JsonBuilder *request (const char *key);

  Worker &worker_;
  std::string url_;
  std::string stream_;
  std::string request_id_;
  std::string auth_token_;
  bool datachannel_;
  bool switch_channel_;       /* move to the data channel once it is up */
  bool tcp_;
  bool do_not_switch_;        /* the SDK's maintainStreamVariant */
  std::string video_encoding_;
  std::string audio_encoding_;
  GCancellable *cancellable_;
  SoupWebsocketConnection *conn_ = nullptr;
  Events events_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool> (true);   /* false once stopped */
  bool closing_ = false;      /* we close it, or switched to the data channel */
  bool failed_ = false;       /* reported a failure: nothing more from it counts */
  bool too_big_ = false;      /* libsoup closed it: a frame over MAX_FRAME */
  bool subscribed_ = false;
  guint switch_timer_ = 0;
};

}  // namespace red5pro
