/* red5pro-attempt: one subscription attempt, created and destroyed whole: the edge lookup,
 * the peer (webrtcbin) and the signaling protocol it drives through the offer/answer
 * exchange, and what the server's messages mean (events, failures). Runs on the worker,
 * but for the listener calls marked streaming thread. */
#pragma once

#include "red5pro-config.h"
#include "red5pro-edge-lookup.h"
#include "red5pro-failure.h"
#include "red5pro-messages.h"
#include "red5pro-peer.h"
#include "red5pro-ptr.h"
#include "red5pro-signaling.h"
#include "red5pro-worker.h"

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include <atomic>
#include <memory>
#include <string>

namespace red5pro {

class Attempt;

class AttemptListener {
public:
  virtual ~AttemptListener () = default;
  /* A media pad (name "video" or "audio") appeared on the attempt's bin. Streaming thread. */
  virtual void attempt_pad_added (Attempt &attempt, GstPad *pad) = 0;
  /* The negotiation says which media will come. Worker thread. */
  virtual void attempt_media_expected (Attempt &attempt, bool video, bool audio) = 0;
  /* The first buffer left the attempt's chains. Streaming thread. */
  virtual void attempt_media_started (Attempt &attempt) = 0;
  /* The attempt failed and will do nothing more. Worker thread. */
  virtual void attempt_failed (Attempt &attempt, const Failure &failure) = 0;
};

class Attempt : public std::enable_shared_from_this<Attempt> {
public:
  Attempt (GstElement *element, Worker &worker, SubscriberConfig cfg,
      AttemptListener *listener, guint number);
  ~Attempt ();

  /* Look up the edge (if a Stream Manager is used) and subscribe. */
  void start ();
  /* Signaling and peer torn down (WHEP DELETE, socket closed, the bin out of the element
   * and at NULL). Idempotent. */
  void stop ();

  /* True when object is inside this attempt's bin. Any thread. */
  bool owns (GstObject *object) const;
  /* An element inside the attempt posted an error; downstream: our output could not be
   * delivered (no pad of the element is linked), which no retry fixes. */
  void child_error (const std::string &message, bool downstream);

  guint number () const { return number_; }
  const std::string &edge () const { return edge_; }
  /* see Peer; 0 without a peer */
  gint64 last_media_time () const;
  guint64 packets () const;
  guint64 bytes () const;
  void refresh_quality ();
  NetworkQuality quality (bool video) const;

private:
  void on_lookup (const LookupOutcome &outcome);
  void create_peer ();
  void maybe_signal ();
  void on_description (SdpKind kind, const std::string &sdp);
  void on_remote_offer_set ();
  void negotiated (const GstSDPMessage *answer, bool ours);
  void on_remote_candidate (const IceCandidate &c);
  void on_gathered ();
  void on_signaling_failed (Failure f);
  void post_started ();
  /* Sections 3, 4 and 12 of the protocol notes: what each server message means to us. */
  void handle_server_message (const ServerMessage &m, bool data_channel);
  void handle_metadata (const GstStructure *metadata);
  void fail (Failure f);
  void post (GstStructure *event);
  /* fn (attempt) on the worker, if this attempt still runs then */
  template <typename F> void on_worker (F fn);
  /* a callback that runs fn (attempt, args...) if this attempt still runs */
  template <typename F> auto guarded (F fn);

  GstElement *element_;            /* red5prosrc, not owned: it outlives its attempts */
  Worker &worker_;
  const SubscriberConfig cfg_;
  AttemptListener *listener_;
  const guint number_;
  GObjectPtr<GCancellable> cancellable_;
  std::shared_ptr<Peer> peer_;
  std::unique_ptr<Signaling> signaling_;
  DescriptionPtr local_offer_;     /* ours, applied only if the server answers it */

  std::string edge_;
  guint edge_port_ = 0;            /* when the Stream Manager named one */
  std::string app_;
  bool edge_known_ = false;        /* looked up, or no lookup to do */
  bool connected_ = false;         /* the server took us (Connect.Success) */
  guint local_candidates_ = 0;
  guint remote_candidates_ = 0;
  bool failed_ = false;
  std::atomic<bool> stopped_ { false };
  std::atomic<bool> started_ { false };     /* Subscribe.Start posted */

  /* last metadata values, for the *.Change events */
  std::string orientation_;
  std::string streaming_mode_;
  gint64 width_ = -1;
  gint64 height_ = -1;
};

}  // namespace red5pro
