/* floor-client: the floor the element is measured against: a subscriber hand-wired the way a
 * competent GStreamer developer would, with no red5prosrc in it: one webrtcbin (recvonly
 * VP8/H.264 + Opus, max-bundle, the red5pro data channel when the element would open one),
 * the WHEP exchange in both flavours, or Red5 Pro's WebSocket protocol, straight to the
 * edge (after a Stream Manager 2.0 lookup, when asked), and depayloader (+ parser) (+
 * decoder) into fakesinks. No failover: a lost edge is the application's problem. */
#pragma once

#include "subscriber.h"

#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace bench {

struct FloorOptions {
  std::string host;            /* the edge; with sm2_lookup, the Stream Manager */
  guint port = 0;
  std::string app = "live";
  std::string stream = "stream1";
  bool sm2_lookup = false;     /* ask the Stream Manager 2.0 for the edge first */
  std::string node_group = "default";
  bool websocket = false;      /* Red5 Pro WebSocket signaling instead of WHEP */
  bool decode = true;
  bool data_channel = true;    /* signal=true and the red5pro channel, as red5prosrc does */
  /* The edge is known to speak standard WHEP: apply our offer before the POST, so that ICE
   * gathers while the request is out. red5prosrc cannot know the flavour in advance (Red5
   * Pro answers a POST with an offer of its own, and webrtcbin cannot roll a local offer
   * back), so by default the floor does not either. */
  bool offer_first = false;
  std::string ice_address = "127.0.0.1";
};

/* Make it with std::make_shared; call stop () before dropping the last reference. */
class FloorClient : public Subscriber, public std::enable_shared_from_this<FloorClient> {
public:
  explicit FloorClient (FloorOptions options);
  ~FloorClient () override;

  bool start () override;
  void stop () override;
  bool failed () const override;
  std::string error () const override;
  std::string edge () override;

private:
  /* the reply is nullptr when webrtcbin replied with nothing (success, for some) or not at
   * all (replied false) */
  using Reply = std::function<void (FloorClient &, bool replied, const GstStructure *)>;
  using HttpDone = std::function<void (FloorClient &, guint status, const std::string &body,
      const std::string &location)>;
  using Answered = std::function<void (FloorClient &, const std::string &answer)>;

  /* floor-client.cpp: the pipeline and webrtcbin; everything below runs on the app loop
   * unless it says otherwise */
  bool build ();
  void begin ();
  void fail (const std::string &why);
  GstPromise *promise (Reply fn);
  void create_offer (std::function<void (FloorClient &, GstWebRTCSessionDescription *)> done);
  void answer_offer (const std::string &offer, Answered done);
  void apply (GstWebRTCSDPType type, const std::string &sdp, const char *what);
  std::string local_attribute (const char *key, guint mline);
  void http (const char *method, const std::string &url, const char *content_type,
      const std::string &body, HttpDone done);
  void on_candidate (guint mline, const std::string &candidate);
  void on_gathered ();
  /* webrtcbin's threads */
  static void on_pad_added_cb (GstElement *, GstPad *pad, gpointer data);
  static void on_ice_candidate_cb (GstElement *, guint mline, gchar *candidate, gpointer data);
  static void on_gathering_cb (GObject *webrtc, GParamSpec *, gpointer data);
  void link_media (GstPad *pad);

  /* floor-whep.cpp */
  std::string whep_endpoint () const;
  void whep_start ();
  void whep_posted (guint status, const std::string &body, const std::string &location);
  void whep_trickle ();

  /* floor-websocket.cpp */
  void ws_start ();
  void ws_message (const std::string &text);
  void ws_send (JsonBuilder *builder);   /* ends the builder's object, sends, frees */
  JsonBuilder *ws_request (const char *key);
  static void ws_on_connected (GObject *session, GAsyncResult *res, gpointer data);
  static void ws_on_message (SoupWebsocketConnection *, gint type, GBytes *message,
      gpointer data);
  static void ws_on_closed (SoupWebsocketConnection *, gpointer data);

  FloorOptions opt_;
  std::string edge_;            /* the edge signaled with */
  std::string request_id_;
  GstElement *pipeline_ = nullptr;
  GstElement *webrtc_ = nullptr;
  GstWebRTCDataChannel *channel_ = nullptr;
  SoupSession *http_ = nullptr;
  GCancellable *cancellable_ = nullptr;
  SoupWebsocketConnection *ws_ = nullptr;
  std::string resource_;        /* WHEP session resource */
  GstWebRTCSessionDescription *offer_ = nullptr;   /* ours, not applied yet (WHEP) */
  std::vector<std::pair<guint, std::string>> candidates_;   /* ours */
  bool gathered_ = false;
  bool negotiated_ = false;     /* the edge has our answer, or answered our offer */
  bool trickled_ = false;
  bool subscribed_ = false;
  std::atomic<bool> stopped_ { false };
  std::mutex promises_lock_;
  std::vector<GstPromise *> promises_;   /* unanswered; interrupted at stop */
  mutable std::mutex error_lock_;
  std::string error_;
};

}  // namespace bench
