/* red5pro-retry: the failover state machine (protocol notes, sections 7 and 14). Decides,
 * for every failure, whether to give up or to schedule exactly one fresh attempt (edge
 * lookup + connect) after the retry delay, and with which tech of the playback order
 * (the next one after failures-before-fallback attempts without media); watches the
 * attempt with one deadline at a time (no media in time, no media for the inactivity
 * timeout); and, on a lower tech, tries the first one again every upgrade interval, beside
 * the current attempt (make before break). Media that stops on a tech above HLS in the
 * order goes to HLS at once (no retries without media first), and the tech above is then
 * retried beside it at the retry pace: the same make before break, downwards. With a
 * standby, a second attempt on another edge runs in the upgrade slot and takes over when
 * the current one fails or goes silent. Worker thread. */
#pragma once

#include "red5pro-config.h"
#include "red5pro-failure.h"
#include "red5pro-worker.h"

#include <gst/gst.h>

#include <functional>
#include <string>
#include <vector>

namespace red5pro {

struct RetryPolicy {
  guint retry_timeout_ms = 1000;     /* 0 = no retry: failures are errors */
  gint max_retries = -1;             /* consecutive retries without media; -1 = forever */
  guint backoff_max_ms = 30000;      /* doubles up to this (with jitter); 0 = retry_timeout_ms */
  bool retry_on_auth_failure = false;
  guint inactivity_timeout_ms = 2000;/* no RTP this long while subscribed = failure; 0 = off */
  guint connect_timeout_ms = 20000;  /* no media this long after an attempt starts = failure */
  std::vector<Tech> playback_order { Tech::WHEP };   /* never empty */
  guint fallback_after = 2;          /* attempts without media on a tech before the next */
  guint upgrade_interval_ms = 60000; /* on a lower tech, the first is tried this often; 0 = never */
  Standby standby = Standby::NONE;   /* a second WebRTC attempt on another edge */
  guint standby_switch_after_ms = 200;  /* hot: a primary this long silent hands over */
};

/* Time and the deadlines the controller waits for: one for the attempt (MAIN), one for
 * the climb back to the first tech (UPGRADE). */
class Scheduler {
public:
  enum Slot { MAIN = 0, UPGRADE = 1 };
  virtual ~Scheduler () = default;
  virtual GstClockTime now () = 0;
  /* fn at deadline, replacing any deadline still pending in that slot */
  virtual void schedule (Slot slot, GstClockTime deadline, std::function<void ()> fn) = 0;
  virtual void cancel (Slot slot) = 0;
  void schedule (GstClockTime deadline, std::function<void ()> fn)
  {
    schedule (MAIN, deadline, std::move (fn));
  }
  void cancel () { cancel (MAIN); }
  void cancel_all ()
  {
    cancel (MAIN);
    cancel (UPGRADE);
  }
};

/* The element's: monotonic time, timeouts on the worker's context. */
class WorkerScheduler : public Scheduler {
public:
  explicit WorkerScheduler (Worker &worker) : worker_ (worker) {}
  ~WorkerScheduler () override { cancel_all (); }
  GstClockTime now () override { return GstClockTime (g_get_monotonic_time ()) * GST_USECOND; }
  using Scheduler::schedule;
  using Scheduler::cancel;
  void schedule (Slot slot, GstClockTime deadline, std::function<void ()> fn) override;
  void cancel (Slot slot) override;

private:
  Worker &worker_;
  guint timers_[2] = { 0, 0 };
};

class RetryController {
public:
  enum class State { IDLE, CONNECTING, SUBSCRIBED, RETRYING, GAVE_UP };

  /* What the controller asks of the element. All calls on the worker thread. */
  class Host {
  public:
    virtual ~Host () = default;
    virtual void start_attempt (Tech tech) = 0;  /* a fresh attempt: lookup + connect */
    virtual void stop_attempt () = 0;            /* tear the current attempt down */
    /* A second attempt with tech beside the current one, held back; the host says
     * upgrade_ready() when it could take over the pads, or upgrade_failed(). */
    virtual void start_upgrade (Tech tech) = 0;
    virtual void stop_upgrade () = 0;            /* that attempt torn down, if any */
    /* the upgrade attempt is the current one now; the host swaps it in */
    virtual void promote_upgrade () = 0;
    /* A standby: a second attempt with tech on another edge than the current one's, held
     * back; the host says standby_ready() once it has media, or upgrade_failed(). It is
     * stopped with stop_upgrade(), promoted with promote_standby(). */
    virtual void start_standby (Tech) {}
    /* the current attempt failed (or went silent): the standby takes over the pads now */
    virtual void promote_standby (const char * /* reason */) {}
    /* when the standby's media last arrived, on the scheduler's clock; NONE before */
    virtual GstClockTime standby_media_time () { return GST_CLOCK_TIME_NONE; }
    /* when the last media arrived, on the scheduler's clock; NONE before the first */
    virtual GstClockTime last_media_time () = 0;
    /* how much longer than the inactivity timeout the current attempt's media may pause
     * (HLS comes a segment at a time) */
    virtual GstClockTime inactivity_allowance () { return 0; }
    virtual void give_up (const Failure &failure, bool retried) = 0;  /* fatal */
    virtual void post_event (GstStructure *event) = 0;
    virtual void changed () = 0;                 /* stats changed */
  };

  /* log_object: what the transitions are logged against (the element) */
  RetryController (Scheduler &scheduler, Host &host, GstObject *log_object)
    : scheduler_ (scheduler), host_ (host), log_object_ (log_object) {}
  ~RetryController () { scheduler_.cancel_all (); }

  void start (const RetryPolicy &policy);
  void stop ();
  /* The current attempt delivers media. */
  void media_started ();
  /* The current attempt failed (it does nothing more). */
  void attempt_failed (const Failure &failure);
  /* The upgrade attempt has media in place: it takes over (or, when the controller no
   * longer wants it, is stopped). */
  void upgrade_ready ();
  /* The upgrade attempt (or the standby) failed (the host has not torn it down). */
  void upgrade_failed (const Failure &failure);
  /* The standby has media in place, ready to take over. */
  void standby_ready ();
  /* The application asked the server to pause all of the media (set-muted): silence is
   * expected, so no deadline runs (no inactivity retry, no connect timeout, no silent
   * promotion) until it is resumed; the inactivity timeout counts from then. */
  void set_paused (bool paused);
  bool paused () const { return paused_; }
  /* a standby runs (ready: it has media) */
  bool standby () const { return standby_; }
  bool standby_is_ready () const { return standby_ready_; }

  State state () const { return state_; }
  /* the tech of the current attempt (or of the next, while retrying) */
  Tech tech () const { return policy_.playback_order[tech_index_]; }
  bool upgrading () const { return upgrading_; }
  static const char *state_name (State state);
  guint retries () const { return retries_; }
  const std::string &last_failure () const { return last_failure_; }
  /* The delay before retry number n (0 = the first after media last flowed): the retry
   * timeout, then doubling up to backoff_max_ms, each of those with up to half of it taken
   * off at random so that clients cut off together do not come back together. */
  static guint retry_delay (const RetryPolicy &policy, guint n, guint32 random);

private:
  void enter (State state, const char *why);
  void begin_attempt ();
  void schedule_retry (const Failure &failure, bool at_once = false);
  /* the deadline of the state we are in */
  void arm ();
  void on_deadline ();
  /* an attempt of this tech failed without media: the next tech, after enough of them */
  void count_failure_without_media (const Failure &failure);
  /* media stopped on a tech above HLS: HLS at once, the tech above tried beside it */
  bool cover (const Failure &failure);
  void change_tech (guint index, const char *reason);
  /* on a lower tech with media flowing: the climb back is due after the interval */
  void arm_upgrade ();
  guint upgrade_delay ();
  void start_upgrade ();
  void end_upgrade ();
  /* on the first tech (WebRTC) with media flowing and standby on: a standby on another edge,
   * at once the first time, after the retry delay (with the backoff) once one was lost or
   * promoted */
  void arm_standby ();
  void start_standby ();
  void standby_lost (const Failure &failure);
  /* the current attempt failed (reason) and the standby is ready: it takes over */
  void promote_standby (const char *reason);
  bool hot_standby_ready () const
  {
    return standby_ && standby_ready_ && policy_.standby == Standby::HOT;
  }

  Scheduler &scheduler_;
  Host &host_;
  GstObject *log_object_;
  RetryPolicy policy_;
  State state_ = State::IDLE;
  GstClockTime attempt_started_ = 0;
  GstClockTime subscribed_at_ = 0;
  guint consecutive_ = 0;       /* retries since media last flowed */
  guint retries_ = 0;           /* all retries */
  std::string last_failure_;
  guint tech_index_ = 0;        /* in policy_.playback_order */
  guint tech_failures_ = 0;     /* attempts of that tech in a row that brought no media */
  bool upgrading_ = false;      /* an upgrade attempt runs */
  bool covering_ = false;       /* HLS took over from stopped media: climb back at retry pace */
  guint upgrade_failures_ = 0;  /* upgrade attempts in a row that failed */
  bool standby_ = false;        /* a standby attempt runs (in the upgrade slot) */
  bool standby_ready_ = false;  /* and has media */
  guint standby_losses_ = 0;    /* standbys in a row lost before they took over */
  bool standby_made_ = false;   /* one was made since media flowed (the next waits) */
  /* the current attempt said unpublished while a standby was ready: a real unpublish if
   * the standby says so too within UNPUBLISH_GRACE_MS, else an edge's own (a failover) */
  Failure unpublished_;
  static constexpr guint UNPUBLISH_GRACE_MS = 300;
  void fail_now (const Failure &failure);
  bool media_seen_ = false;     /* the current attempt delivered media */
  bool paused_ = false;         /* set_paused */
};

}  // namespace red5pro
