/* red5pro-retry: the failover state machine (protocol notes, section 7). Decides, for every
 * failure, whether to give up or to schedule exactly one fresh attempt (edge lookup +
 * connect) after the retry delay, and watches the attempt with one deadline at a time (no
 * media in time, no media for the inactivity timeout). Worker thread. */
#pragma once

#include "red5pro-failure.h"
#include "red5pro-worker.h"

#include <gst/gst.h>

#include <functional>
#include <string>

namespace red5pro {

struct RetryPolicy {
  guint retry_timeout_ms = 1000;     /* 0 = no retry: failures are errors */
  gint max_retries = -1;             /* consecutive retries without media; -1 = forever */
  guint backoff_max_ms = 30000;      /* doubles up to this (with jitter); 0 = retry_timeout_ms */
  bool retry_on_auth_failure = false;
  guint inactivity_timeout_ms = 2000;/* no RTP this long while subscribed = failure; 0 = off */
  guint connect_timeout_ms = 20000;  /* no media this long after an attempt starts = failure */
};

/* Time and the one deadline the controller waits for. */
class Scheduler {
public:
  virtual ~Scheduler () = default;
  virtual GstClockTime now () = 0;
  /* fn at deadline, replacing any deadline still pending */
  virtual void schedule (GstClockTime deadline, std::function<void ()> fn) = 0;
  virtual void cancel () = 0;
};

/* The element's: monotonic time, a timeout on the worker's context. */
class WorkerScheduler : public Scheduler {
public:
  explicit WorkerScheduler (Worker &worker) : worker_ (worker) {}
  ~WorkerScheduler () override { cancel (); }
  GstClockTime now () override { return GstClockTime (g_get_monotonic_time ()) * GST_USECOND; }
  void schedule (GstClockTime deadline, std::function<void ()> fn) override;
  void cancel () override;

private:
  Worker &worker_;
  guint timer_ = 0;
};

class RetryController {
public:
  enum class State { IDLE, CONNECTING, SUBSCRIBED, RETRYING, GAVE_UP };

  /* What the controller asks of the element. All calls on the worker thread. */
  class Host {
  public:
    virtual ~Host () = default;
    virtual void start_attempt () = 0;           /* a fresh attempt: lookup + connect */
    virtual void stop_attempt () = 0;            /* tear the current attempt down */
    /* when the last RTP packet arrived, on the scheduler's clock; NONE before the first */
    virtual GstClockTime last_media_time () = 0;
    virtual void give_up (const Failure &failure, bool retried) = 0;  /* fatal */
    virtual void post_event (GstStructure *event) = 0;
    virtual void changed () = 0;                 /* stats changed */
  };

  /* log_object: what the transitions are logged against (the element) */
  RetryController (Scheduler &scheduler, Host &host, GstObject *log_object)
    : scheduler_ (scheduler), host_ (host), log_object_ (log_object) {}
  ~RetryController () { scheduler_.cancel (); }

  void start (const RetryPolicy &policy);
  void stop ();
  /* The current attempt delivers media. */
  void media_started ();
  /* The current attempt failed (it does nothing more). */
  void attempt_failed (const Failure &failure);

  State state () const { return state_; }
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
  void schedule_retry (const Failure &failure);
  /* the deadline of the state we are in */
  void arm ();
  void on_deadline ();

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
};

}  // namespace red5pro
