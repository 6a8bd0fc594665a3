/* red5pro-peer: one attempt's webrtcbin, in a bin of its own inside the element: its
 * configuration (bundle, latency, RTP-clock timestamps, ICE addresses, the transceivers for
 * the codecs asked for), offers and answers, candidates, the data channels, the media pads
 * (each behind its output chain), and the network's heartbeat and quality. Created, used and
 * stopped on the worker; webrtcbin's callbacks are handed over to it, but for media pads. */
#pragma once

#include "red5pro-config.h"
#include "red5pro-failure.h"
#include "red5pro-ptr.h"
#include "red5pro-quality.h"
#include "red5pro-worker.h"

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace red5pro {

class Peer : public std::enable_shared_from_this<Peer> {
public:
  using Done = std::function<void (const std::string &error)>;   /* empty = fine */
  using Described = std::function<void (DescriptionPtr desc, const std::string &error)>;

  struct Events {
    /* worker thread */
    std::function<void (guint mline, const std::string &candidate)> candidate;
    std::function<void ()> gathered;
    std::function<void (GstWebRTCPeerConnectionState state)> state;
    std::function<void (const std::string &label)> channel_open;
    std::function<void (const std::string &label)> channel_closed;
    std::function<void (const std::string &label, const std::string &text)> channel_message;
    std::function<void (const Failure &f)> failed;
    std::function<void (GstStructure *event)> post;    /* a WebRTC.* bus event, taken */
    /* streaming threads */
    std::function<void (GstPad *pad)> media_pad;       /* "video"/"audio" of our bin */
    std::function<void ()> media_out;                  /* the first buffer left a chain */
  };

  Peer (GstElement *element, Worker &worker, const SubscriberConfig &cfg, guint attempt);
  ~Peer ();

  /* Makes webrtcbin in a bin of its own inside the element, playing. False: a plugin is
   * missing (reason in *why). */
  bool start (Events events, std::string *why);
  /* Teardown, on the worker: the bin leaves the element and goes to NULL; webrtcbin, the
   * channels and the bin are released right here. Idempotent. */
  void stop ();

  /* which: "offer" or "answer" */
  void create (const char *which, Described done);
  void set_remote (const GstWebRTCSessionDescription *desc, Done done);
  void set_local (const GstWebRTCSessionDescription *desc);
  void add_candidate (guint mline, const std::string &candidate);
  /* the mline of the media section with this mid in the remote description (0 if none) */
  guint mline_of (const std::string &mid);
  /* our media section's mid for an mline, and the ICE credentials of our description */
  std::string mid_of (guint mline);
  void credentials (std::string *ufrag, std::string *pwd);
  DescriptionPtr remote_description ();
  /* ICE servers the server names (webrtcbin URIs from WHEP Link headers), beside the
   * user's own: TURN servers added, a STUN server taken when none is set. Worker, before
   * gathering. */
  void add_ice_servers (const std::vector<std::string> &uris);
  /* Opens the "red5pro" data channel (the client opens it, protocol notes section 4). */
  void open_channel ();
  /* A text message to the server on the red5pro channel; before it is open, kept (at most
   * MAX_PENDING_MESSAGES, the oldest dropped) and sent when it opens: the SDK loses them.
   * Worker. */
  void send_message (const std::string &text);
  static constexpr size_t MAX_PENDING_MESSAGES = 16;

  /* True when object is inside this peer's bin. Any thread. */
  bool owns (GstObject *object) const;

  /* Monotonic time (us) of the last RTP packet received from the network (before the
   * jitter buffers, so a downstream that blocks or a paused pipeline is not silence),
   * 0 before the first. Any thread. */
  gint64 last_media_time () const { return last_media_.load (); }
  guint64 packets () const { return packets_.load (); }
  guint64 bytes () const { return bytes_.load (); }
  /* ICE as webrtcbin says it: its ice-connection-state's nick ("checking", "completed"...),
   * "closed" once stopped. Worker. */
  std::string ice_state () const;
  /* Worker: asks webrtcbin for fresh statistics; quality() has them shortly after. */
  void refresh_quality ();
  /* Worker: webrtcbin's statistics (get-stats), to done on the worker (not when the peer
   * stopped first); quality() is refreshed with them. */
  void get_stats (std::function<void (const GstStructure *stats)> done);
  NetworkQuality quality (bool video);
  /* Any thread; still true after stop. */
  MediaCounters counters ();

private:
  void watch_channel (GstWebRTCDataChannel *channel, bool remote);
  std::string check_fingerprint (GstPad *pad);
  void on_pad_added (GstPad *pad);
  void session_bandwidth (double bits_per_second);
  GstPromise *promise (std::function<void (Peer &, GstPromise *)> fn);
  template <typename F> void on_worker (F fn);
  gpointer weak_data ();

  static void on_ice_candidate_cb (GstElement *, guint mline, gchar *cand, gpointer data);
  static void on_gathering_state_cb (GObject *obj, GParamSpec *, gpointer data);
  static void on_connection_state_cb (GObject *obj, GParamSpec *, gpointer data);
  static void on_pad_added_cb (GstElement *, GstPad *pad, gpointer data);
  static void on_data_channel_cb (GstElement *, GstWebRTCDataChannel *ch, gpointer data);
  static void on_new_jitterbuffer_cb (GstElement *, GstElement *jitterbuffer, guint session,
      guint ssrc, gpointer data);
  static GstPadProbeReturn on_rtp_cb (GstPad *, GstPadProbeInfo *info, gpointer data);
  static GstPadProbeReturn on_output_cb (GstPad *, GstPadProbeInfo *info, gpointer data);
  static GstPadProbeReturn on_frame_in_cb (GstPad *, GstPadProbeInfo *info, gpointer data);
  static GstPadProbeReturn on_frame_out_cb (GstPad *, GstPadProbeInfo *info, gpointer data);
  static GstPadProbeReturn on_keyframe_request_cb (GstPad *, GstPadProbeInfo *info,
      gpointer data);
  static void on_dc_open_cb (GstWebRTCDataChannel *ch, gpointer data);
  static void on_dc_close_cb (GstWebRTCDataChannel *ch, gpointer data);
  static void on_dc_error_cb (GstWebRTCDataChannel *ch, GError *err, gpointer data);
  static void on_dc_message_cb (GstWebRTCDataChannel *ch, gchar *str, gpointer data);

  GstElement *element_;            /* red5prosrc, not owned: it outlives its attempts */
  Worker &worker_;
  const SubscriberConfig cfg_;
  const guint attempt_;
  Events events_;

  GstObjectPtr<GstBin> bin_;       /* child of element_ while running */
  GstElement *webrtc_ = nullptr;   /* owned by bin_ */
  std::vector<GObjectPtr<GstWebRTCDataChannel>> channels_;   /* worker thread */
  bool opened_channel_ = false;
  std::vector<std::string> pending_messages_;   /* worker thread */
  void flush_messages ();
  std::vector<std::string> ice_servers_;   /* the server's, added (worker thread) */
  std::atomic<bool> stopped_ { false };

  std::mutex pads_lock_;           /* streaming thread vs. stop */
  bool have_video_ = false;
  bool have_audio_ = false;
  bool fingerprint_checked_ = false;   /* pads_lock_ */
  bool fingerprint_bad_ = false;
  std::atomic<bool> media_out_ { false };

  std::atomic<gint64> last_media_ { 0 };
  std::atomic<guint64> packets_ { 0 };
  std::atomic<guint64> bytes_ { 0 };
  /* the RTP session's bandwidth, measured (session_bandwidth) */
  GObjectPtr<GObject> rtp_session_;    /* pads_lock_ */
  std::vector<GstObjectPtr<GstElement>> jitterbuffers_;   /* pads_lock_ */
  /* video frames (RTP timestamps) into the depayloader, and out of the chain */
  std::atomic<guint64> frames_in_ { 0 };
  std::atomic<guint64> frames_out_ { 0 };
  std::atomic<gint64> last_keyframe_request_ { 0 };   /* monotonic us */
  guint32 last_rtp_time_ = 0;           /* the depayloader's streaming thread */
  bool have_rtp_time_ = false;
  std::atomic<gint64> bandwidth_sampled_ { 0 };
  std::atomic<guint64> bandwidth_bytes_ { 0 };

  std::mutex promises_lock_;
  std::vector<GstPromise *> promises_;   /* ours, until answered; promises_lock_ */

  std::mutex quality_lock_;
  NetworkQuality quality_[2];      /* video, audio; quality_lock_ */
};

/* fn (peer) on the worker, if the peer still runs then */
template <typename F>
void
Peer::on_worker (F fn)
{
  std::weak_ptr<Peer> weak = shared_from_this ();
  worker_.post ([weak, fn] () {
    auto self = weak.lock ();
    if (self && !self->stopped_)
      fn (*self);
  });
}

}  // namespace red5pro
