/* red5pro-subscriber: what red5prosrc is beneath its GObject face. Owns the worker thread,
 * the retry controller, the attempt in progress (and the upgrade attempt or the standby
 * beside it, with its switch), the stable output pads and the statistics, and carries out the element's
 * state changes on them. */
#pragma once

#include "red5pro-attempt.h"
#include "red5pro-config.h"
#include "red5pro-output.h"
#include "red5pro-retry.h"
#include "red5pro-stats-report.h"
#include "red5pro-switch.h"
#include "red5pro-worker.h"

#include <gst/gst.h>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace red5pro {

class Subscriber : public RetryController::Host, public AttemptListener {
public:
  /* notify: the statistics changed (notify::stats), on the worker thread */
  Subscriber (GstElement *element, GstStaticPadTemplate *video, GstStaticPadTemplate *audio,
      std::function<void ()> notify);
  ~Subscriber () override;

  OutputPads &outputs () { return outputs_; }

  /* NULL→READY: the worker starts (request_timeout_ms: each network request's). */
  void open (guint request_timeout_ms, GTlsDatabase *database, bool insecure);
  /* PAUSED→PLAYING: subscribing with cfg and policy (once; again after stop_playing). */
  void play (const SubscriberConfig &cfg, const RetryPolicy &policy);
  /* PAUSED→READY: the attempt and every timer stop; returns once they have. */
  void stop_playing ();
  /* READY→NULL: the worker stops, letting a teardown DELETE leave for up to drain_ms. */
  void close (guint drain_ms);

  /* An error message from inside the element; any thread. */
  void child_error (GstObject *origin, const std::string &text, bool downstream,
      const GError *error);
  /* EOS from the application: out of our pads (their own thread). */
  void push_eos () { outputs_.push_eos (); }
  /* The "stats" property. Any thread. */
  GstStructure *stats ();
  /* The application's messages for the server (action signals), any thread: to the current
   * WebRTC attempt, or kept (at most MAX_OUTBOX, the oldest dropped) for the next one. */
  void send_client_message (ClientMessage m);
  /* set-muted: the server pauses (or resumes) each medium of the current attempt and of
   * every one after it; all of it paused, no deadline of the retry controller runs */
  void set_muted (bool audio, bool video);
  static constexpr size_t MAX_OUTBOX = 16;

private:
  /* RetryController::Host (worker thread) */
  void start_attempt (Tech tech) override;
  void stop_attempt () override;
  void start_upgrade (Tech tech) override;
  void stop_upgrade () override;
  void promote_upgrade () override;
  void start_standby (Tech tech) override;
  void promote_standby (const char *reason) override;
  GstClockTime standby_media_time () override;
  GstClockTime last_media_time () override;
  GstClockTime inactivity_allowance () override;
  void give_up (const Failure &failure, bool retried) override;
  void post_event (GstStructure *event) override;
  void changed () override;
  /* AttemptListener */
  void attempt_pad_added (Attempt &attempt, GstPad *pad) override;
  void attempt_media_expected (Attempt &attempt, bool video, bool audio) override;
  void attempt_media_started (Attempt &attempt) override;
  void attempt_failed (Attempt &attempt, const Failure &failure) override;
  void attempt_latency_changed (Attempt &attempt) override;
  void attempt_connected (Attempt &attempt) override;
  void attempt_stream_switched (Attempt &attempt, const std::string &path) override;
  /* the application's messages kept (and its mute), to the current attempt (worker) */
  void deliver_to_current (bool mute = true);
  void apply_pause ();
  void attempt_stats_endpoint (Attempt &attempt, const std::string &endpoint) override;
  /* the standby can take over: said once (event, stats, the controller) */
  void standby_ready (Attempt &attempt);

  /* standby: on another edge than the current attempt's */
  std::shared_ptr<Attempt> make_attempt (Tech tech, bool upgrade, bool standby = false);
  /* the switch an attempt beside the current one goes through (worker) */
  std::shared_ptr<Switch> switch_of (const Attempt *attempt);
  /* the swap of an upgrade is done: the attempts it replaced go */
  void stop_retired ();
  void give_up_missing_media ();
  void refresh_quality ();
  /* stats reports (worker): every stats-interval for the current WebRTC attempt once its
   * media flows, with the actions started and ended around it */
  void report_stats ();
  void stats_started (Attempt &attempt);
  void stats_ended (Attempt &attempt);
  StatsClient stats_client (const Attempt &attempt) const;
  StatsReporter::ChannelSend stats_channel (const std::shared_ptr<Attempt> &attempt) const;
  /* fn on the worker if this subscriber is still there then */
  void later (std::function<void (Subscriber &)> fn);

  GstElement *element_;       /* red5prosrc, which owns us */
  std::function<void ()> notify_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool> (true);
  Worker worker_;
  WorkerScheduler scheduler_ { worker_ };
  RetryController retry_;
  OutputPads outputs_;

  /* worker thread */
  SubscriberConfig cfg_;
  std::shared_ptr<Attempt> attempt_;
  std::shared_ptr<Attempt> upgrade_;          /* beside attempt_, to climb back */
  std::vector<std::shared_ptr<Attempt>> retired_;   /* swapped out, stopped once swapped */
  bool running_ = false;
  guint media_wait_timer_ = 0;
  guint quality_timer_ = 0;
  std::atomic<bool> quality_wanted_ { false };   /* "stats" was read */
  StatsReporter stats_reporter_ { element_, worker_ };
  guint stats_timer_ = 0;
  std::weak_ptr<Attempt> reporting_;          /* the attempt "started" was reported for */

  struct Stats {
    guint attempts = 0;
    guint connections = 0;            /* attempts that delivered media */
    std::string edge;
    gint64 subscribed_since = 0;      /* monotonic us, 0 when not subscribed */
    guint64 packets_done = 0;         /* from attempts already torn down */
    guint64 bytes_done = 0;
    MediaCounters counters_done;
    std::shared_ptr<Attempt> current; /* for its counters */
    std::string state = "idle";       /* copied from the retry controller */
    std::string tech;                 /* of the current attempt */
    guint retries = 0;
    std::string last_failure;
    std::string standby_state = "none";   /* none, connecting, ready */
    std::string standby_edge;
    std::shared_ptr<Attempt> standby;     /* for its network figures */
  };
  Standby standby_mode_ = Standby::NONE;     /* worker */
  /* the application's messages and mute, from any thread, kept until an attempt can take
   * them (even before the worker runs) */
  std::mutex outbox_lock_;
  std::deque<ClientMessage> outbox_;          /* outbox_lock_ */
  bool mute_set_ = false;                     /* outbox_lock_: set_muted was called */
  bool mute_audio_ = false;                   /* outbox_lock_ */
  bool mute_video_ = false;                   /* outbox_lock_ */
  bool expects_audio_ = true;                 /* worker: what the negotiation said */
  bool expects_video_ = true;
  std::string promoted_from_;                 /* worker: the edge a standby took over from */
  std::string last_promotion_reason_;         /* worker */
  /* the switch of each upgrade attempt, for its pads (streaming threads); it stays with
   * the attempt once that is the current one, for a pad that comes late */
  std::mutex switch_lock_;
  std::map<const Attempt *, std::shared_ptr<Switch>> switches_;   /* switch_lock_ */

  std::mutex stats_lock_;
  Stats stats_;                       /* stats_lock_ */
};

}  // namespace red5pro
