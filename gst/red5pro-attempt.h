/* red5pro-attempt: one subscription attempt, created and destroyed whole, whatever its tech
 * (red5pro-webrtc: WHEP or WebSocket signaling and webrtcbin; red5pro-hls: HLS): what the
 * subscriber asks of every attempt, what an attempt tells it (AttemptListener), and what
 * all attempts share: the events they post, how they fail, the edge they ended on. Runs on
 * the worker, but for the listener calls marked streaming thread. */
#pragma once

#include "red5pro-config.h"
#include "red5pro-edge-lookup.h"
#include "red5pro-failure.h"
#include "red5pro-ptr.h"
#include "red5pro-quality.h"
#include "red5pro-worker.h"

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace red5pro {

class Attempt;

/* An attempt's bin into the element, following its state; and out of it again: out first,
 * then down to NULL, so that the teardown's messages have no bus to go to and nothing of
 * the old attempt reaches the application. Worker. */
void add_attempt_bin (GstElement *element, GstBin *bin);
void remove_attempt_bin (GstElement *element, GstBin *bin);

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
  /* The latency the attempt adds changed (HLS measures its own). Any thread. */
  virtual void attempt_latency_changed (Attempt &) {}
  /* The attempt's data channel is open (a warm standby has asked the server to pause its
   * media by then). Worker thread. */
  virtual void attempt_connected (Attempt &) {}
  /* The server confirmed a switchStreams: the attempt plays path ("app/stream") now.
   * Worker thread. */
  virtual void attempt_stream_switched (Attempt &, const std::string & /* path */) {}
  /* The server named where stats reports go (SDK 15: WHEP Link rel="statistics", or the
   * status Application.Statistics.Endpoint on the data channel). Worker thread. */
  virtual void attempt_stats_endpoint (Attempt &, const std::string &) {}
};

/* A message of the application's for the server (action signals): its JSON text; a call
 * (callAdapter) also has the id and method its answer is matched by, a switchStreams the
 * stream path. */
struct ClientMessage {
  std::string text;
  std::string call_id;
  std::string method;
  std::string path;
};

class Attempt : public std::enable_shared_from_this<Attempt> {
public:
  Attempt (GstElement *element, Worker &worker, SubscriberConfig cfg, AttemptListener *listener,
      guint number, Tech tech, bool upgrade);
  virtual ~Attempt ();
  Attempt (const Attempt &) = delete;
  Attempt &operator= (const Attempt &) = delete;

  /* Look up the edge (if a Stream Manager is used) and subscribe. */
  virtual void start () = 0;
  /* Everything torn down (signaling closed, the bin out of the element and at NULL), then
   * Subscribe.Stop. Idempotent. */
  void stop ();

  /* True when object is inside this attempt's bin. Any thread. */
  virtual bool owns (GstObject *object) const = 0;
  /* An element inside the attempt posted error; downstream: our output could not be
   * delivered (no pad of the element is linked), which no retry fixes. */
  void child_error (const std::string &message, bool downstream, const GError *error);

  guint number () const { return number_; }
  Tech tech () const { return tech_; }
  /* started beside the current attempt, to climb back (its events say upgrade=true) */
  bool upgrade () const { return upgrade_; }
  const std::string &edge () const { return edge_; }
  /* Taken off the pads by a switch to another attempt: what it says no longer matters. */
  void retire () { retired_ = true; }
  bool retired () const { return retired_.load (); }

  /* monotonic us of the last media in; 0 before the first */
  virtual gint64 last_media_time () const = 0;
  virtual guint64 packets () const = 0;
  virtual guint64 bytes () const = 0;
  virtual void refresh_quality () {}
  virtual NetworkQuality quality (bool) const { return NetworkQuality (); }
  /* What the network cost and what was done about it (issue 19); any thread. */
  virtual MediaCounters counters () const { return MediaCounters (); }
  /* How much longer than the inactivity timeout media may pause (HLS: a segment). */
  virtual GstClockTime inactivity_allowance () const { return 0; }
  /* How long a switch to another attempt may wait for this one's video to reach the
   * other's first key frame. */
  virtual GstClockTime switch_wait () const { return GST_SECOND; }
  /* The latency this attempt adds, when it knows it better than its elements do (HLS);
   * NONE to ask the elements. */
  virtual GstClockTime latency () const { return GST_CLOCK_TIME_NONE; }
  /* Asks the server to pause (or resume) each medium; the connection stays (WebRTC only:
   * Red5 Pro's mute message on the data channel, kept until it opens). Worker. */
  virtual void set_muted (bool /* audio */, bool /* video */) {}
  /* The message goes to the server on the red5pro channel (kept until the channel opens);
   * false: this attempt cannot carry it (HLS). Worker. */
  virtual bool send_client_message (const ClientMessage &) { return false; }
  /* webrtcbin's statistics (WebRTC only), to done on the worker if the attempt still runs
   * then; false when there are none to ask for. Worker. */
  virtual bool get_stats (std::function<void (const GstStructure *stats)>) { return false; }
  /* A text message to the server on the red5pro data channel (kept until it opens); false
   * when the attempt has no such channel. Worker. */
  virtual bool send_message (const std::string &) { return false; }
  /* the subscription id the attempt signals with (requestId, id) */
  const std::string &subscription_id () const { return cfg_.subscription_id; }

protected:
  /* the tech's teardown, on the worker; stop() posts Subscribe.Stop after it */
  virtual void teardown () = 0;
  /* the failure an error inside the bin means */
  virtual Failure child_failure (const std::string &message, bool downstream,
      const GError *error);

  void post (GstStructure *event);
  void fail (Failure f);
  /* The Stream Manager's answer: the edge taken (Red5Pro.Edge.Resolved), or the failure
   * said (fail_connecting). True when there is an edge. */
  bool take_lookup (const LookupOutcome &outcome);
  void post_started ();
  /* Connect.Failure / Subscribe.InvalidName / Subscribe.Connection.Closed as the failure
   * says, then fail() */
  void fail_connecting (Failure f);
  /* fn (attempt) on the worker, if this attempt still runs then */
  template <typename Self, typename F> void on_worker (F fn);
  /* a callback that runs fn (attempt, args...) if this attempt still runs */
  template <typename Self, typename F> auto guarded (F fn);

  GstElement *element_;            /* red5prosrc, not owned: it outlives its attempts */
  Worker &worker_;
  const SubscriberConfig cfg_;
  AttemptListener *listener_;
  const guint number_;
  const Tech tech_;
  const bool upgrade_;
  GObjectPtr<GCancellable> cancellable_;

  std::string edge_;
  guint edge_port_ = 0;            /* when the Stream Manager named one */
  std::string app_;
  bool connected_ = false;         /* the server took us (Connect.Success) */
  bool failed_ = false;
  std::atomic<bool> stopped_ { false };
  std::atomic<bool> started_ { false };     /* Subscribe.Start posted */
  std::atomic<bool> retired_ { false };
};

template <typename Self, typename F>
void
Attempt::on_worker (F fn)
{
  std::weak_ptr<Attempt> weak = shared_from_this ();
  worker_.post ([weak, fn] () {
    auto self = weak.lock ();
    if (self && !self->stopped_)
      fn (static_cast<Self &> (*self));
  });
}

template <typename Self, typename F>
auto
Attempt::guarded (F fn)
{
  std::weak_ptr<Attempt> weak = shared_from_this ();
  return [weak, fn] (auto &&...args) {
    auto self = weak.lock ();
    if (self && !self->stopped_)
      fn (static_cast<Self &> (*self), std::forward<decltype (args)> (args)...);
  };
}

}  // namespace red5pro
