/* red5pro-session: one subscription attempt, created and destroyed whole: edge lookup,
 * a webrtcbin in its own bin, WHEP signaling, the depayload/parse(/decode) chains behind
 * webrtcbin's pads, and the events of that attempt. All logic runs on the worker thread,
 * except pad-added, which builds a chain on webrtcbin's streaming thread. */
#pragma once

#include "red5pro-config.h"
#include "red5pro-edge-lookup.h"
#include "red5pro-messages.h"
#include "red5pro-websocket.h"
#include "red5pro-whep.h"
#include "red5pro-worker.h"

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace red5pro {

class Session;

/* Why an attempt failed; the element decides what that means (error, later retry). */
struct Failure {
  enum class Kind {
    NOT_FOUND,          /* stream unknown or not available (yet) */
    UNAUTHORIZED,       /* 401/403, rejected credentials */
    UNREACHABLE,        /* Stream Manager or edge did not answer */
    CERTIFICATE,        /* a TLS certificate was refused */
    REFUSED,            /* an HTTP error that is none of the above */
    PROTOCOL,           /* an answer we cannot use (bad JSON, bad SDP, negotiation failed) */
    CONNECTION_CLOSED,  /* the peer connection failed or closed */
    UNPUBLISHED,        /* the publisher stopped (NetStream.Play.UnpublishNotify) */
    INACTIVE,           /* no media for the inactivity timeout */
    UNSUPPORTED,        /* media we cannot depayload, parse or decode: no edge helps */
    INTERNAL,           /* a missing element or the like */
  };
  Kind kind = Kind::INTERNAL;
  guint http_status = 0;
  std::string reason;
  std::string edge;     /* where it happened, when known */
};

const char *failure_kind_name (Failure::Kind kind);

/* True for a codec (RTP encoding name, any case) red5prosrc receives as video / audio. */
bool codec_is_known (const std::string &name, bool video);
/* The codecs red5prosrc receives as video / audio, for messages: "VP8, H264". */
std::string known_codecs (bool video);

/* A bus WARNING for a medium that will not come ("refused", "not-offered", "no-media"):
 * a pipeline linked to that pad would wait for it. */
void warn_media_unavailable (GstElement *element, const char *kind, const char *reason);

/* Network quality of one medium, from webrtcbin's statistics (inbound-rtp). */
struct NetworkQuality {
  bool valid = false;
  guint64 packets_received = 0;
  gint64 packets_lost = 0;
  double jitter_ms = 0;          /* interarrival jitter */
  guint64 bytes_received = 0;
  guint nack_count = 0;          /* NACKs, PLIs and FIRs we sent */
  guint pli_count = 0;
  guint fir_count = 0;
  double fraction_lost = 0;      /* over the last refresh interval */
  guint64 bitrate = 0;           /* bits/s over the last refresh interval */
  gint64 sampled = 0;            /* monotonic us */
  /* the fields as a structure named "network" */
  GstStructure *to_structure () const;
};

class SessionListener {
public:
  virtual ~SessionListener () = default;
  /* A media pad (name "video" or "audio") appeared on the session's bin. Streaming thread. */
  virtual void session_pad_added (Session &session, GstPad *pad) = 0;
  /* The negotiation says which media will come. Worker thread. */
  virtual void session_media_expected (Session &session, bool video, bool audio) = 0;
  /* The first buffer left the attempt's chains. Streaming thread. */
  virtual void session_media_started (Session &session) = 0;
  /* The attempt failed and will do nothing more. Worker thread. */
  virtual void session_failed (Session &session, const Failure &failure) = 0;
};

class Session : public std::enable_shared_from_this<Session> {
public:
  Session (GstElement *element, Worker &worker, SubscriberConfig cfg,
      SessionListener *listener, guint attempt);
  ~Session ();

  /* Worker thread: look up the edge (if a Stream Manager is used) and subscribe. */
  void start ();
  /* Worker thread: DELETE the WHEP resource, tear webrtcbin and the chains down, remove
   * the bin from the element. Idempotent. */
  void stop ();

  /* True when err came from an element inside this attempt's bin. Any thread. */
  bool owns (GstObject *object) const;
  /* Worker thread: a child of the bin posted an error. */
  /* An element inside the attempt posted an error; downstream: our output could not be
   * delivered (a pad of the element is not linked), which no retry fixes. */
  void child_error (const std::string &message, bool downstream = false);

  guint attempt () const { return attempt_; }
  /* Monotonic time (us) of the last RTP packet received from the network (before the
   * jitter buffers, so a downstream that blocks or a paused pipeline is not silence),
   * 0 before the first. Any thread. */
  gint64 last_media_time () const { return last_media_.load (); }
  guint64 packets () const { return packets_.load (); }
  guint64 bytes () const { return bytes_.load (); }
  const std::string &edge () const { return edge_; }

  /* Worker thread: asks webrtcbin for fresh statistics; quality() has them shortly after. */
  void refresh_quality ();
  /* Any thread: the last network quality of "video" or "audio". */
  NetworkQuality quality (bool video);

private:
  /* signalling steps, in order */
  void on_lookup (const LookupOutcome &outcome);
  void create_peer ();
  void on_offer_created (GstWebRTCSessionDescription *offer);
  void connect_websocket ();
  void post_started ();
  void on_post_response (const WhepOutcome &r);
  void apply_server_offer (const std::string &sdp);
  void on_remote_offer_set ();
  void on_answer_created (GstWebRTCSessionDescription *answer);
  void apply_server_answer (const std::string &sdp);
  void on_ice_candidate (guint mline, const std::string &candidate);
  void on_gathering_complete ();
  IceCandidate with_mid (IceCandidate c) const;
  void send_end_of_candidates ();
  void maybe_send_candidates ();
  void on_connection_state (GstWebRTCPeerConnectionState state);
  /* Which media the negotiated description lets through; posts what will not come. */
  void negotiated (const GstSDPMessage *answer, bool ours);
  void watch_data_channel (GstWebRTCDataChannel *channel, bool remote);
  /* A server message from the data channel (or, later, the WebSocket). */
  void handle_server_message (const ServerMessage &m, bool data_channel);
  void handle_metadata (const GstStructure *metadata);

  /* streaming thread */
  void on_pad_added (GstPad *pad);
  GstElement *make_chain_element (GstElementFactoryListType type, GstCaps *caps,
      GstPadDirection direction, GstRank min_rank);

  void fail (Failure::Kind kind, std::string reason, guint http_status = 0);
  void post (GstStructure *event);

  /* Marshalling webrtcbin's callbacks onto the worker, guarded by a weak reference. */
  gpointer weak_ref_data ();
  static void free_weak_ref_data (gpointer data, GClosure * = nullptr);
  static std::shared_ptr<Session> from_data (gpointer data);
  template <typename F> void on_worker (F fn);

  /* webrtcbin / data channel callbacks (C) */
  static void on_negotiation_needed_cb (GstElement *, gpointer) {}
  static void on_ice_candidate_cb (GstElement *, guint mline, gchar *cand, gpointer data);
  static void on_gathering_state_cb (GObject *obj, GParamSpec *, gpointer data);
  static void on_connection_state_cb (GObject *obj, GParamSpec *, gpointer data);
  static void on_pad_added_cb (GstElement *, GstPad *pad, gpointer data);
  static GstPadProbeReturn on_rtp_cb (GstPad *, GstPadProbeInfo *info, gpointer data);
  static GstPadProbeReturn on_output_cb (GstPad *, GstPadProbeInfo *info, gpointer data);
  static void on_new_jitterbuffer_cb (GstElement *, GstElement *jitterbuffer, guint session,
      guint ssrc, gpointer data);
  static void on_data_channel_cb (GstElement *, GstWebRTCDataChannel *ch, gpointer data);
  static void on_dc_open_cb (GstWebRTCDataChannel *ch, gpointer data);
  static void on_dc_close_cb (GstWebRTCDataChannel *ch, gpointer data);
  static void on_dc_error_cb (GstWebRTCDataChannel *ch, GError *err, gpointer data);
  static void on_dc_message_cb (GstWebRTCDataChannel *ch, gchar *str, gpointer data);

  GstElement *element_;            /* red5prosrc, not owned: it outlives its sessions */
  Worker &worker_;
  const SubscriberConfig cfg_;
  SessionListener *listener_;
  const guint attempt_;

  GCancellable *cancellable_;
  GstBin *bin_ = nullptr;           /* owned; child of element_ while running */
  GstElement *webrtc_ = nullptr;    /* owned by bin_ */
  std::shared_ptr<WhepClient> whep_;
  std::shared_ptr<WebSocketClient> ws_;
  GstWebRTCSessionDescription *local_offer_ = nullptr;
  std::vector<GstWebRTCDataChannel *> channels_;   /* refs, worker thread */

  std::string edge_;
  std::string app_;
  std::vector<IceCandidate> local_candidates_;
  bool gathering_complete_ = false;
  bool answer_done_ = false;       /* both descriptions applied (and the answer PATCHed) */
  bool candidates_sent_ = false;
  bool failed_ = false;
  std::atomic<bool> stopped_ { false };

  std::atomic<gint64> last_media_ { 0 };
  std::atomic<guint64> packets_ { 0 };
  std::atomic<guint64> bytes_ { 0 };

  std::mutex pads_lock_;           /* streaming thread vs. stop */
  bool have_video_ = false;
  bool have_audio_ = false;
  std::atomic<bool> started_ { false };     /* Subscribe.Start posted */
  std::atomic<bool> media_out_ { false };   /* a buffer left the chains */

  std::mutex quality_lock_;
  NetworkQuality quality_[2];      /* video, audio; quality_lock_ */
  void take_stats (const GstStructure *stats);

  /* last metadata values, for the *.Change events (worker thread) */
  std::string orientation_;
  std::string streaming_mode_;
  gint64 width_ = -1;
  gint64 height_ = -1;
};

}  // namespace red5pro
