/* red5pro-retry: the failover state machine (protocol notes, section 7). Decides, for
 * every failure, whether to give up or to schedule exactly one fresh attempt (edge
 * lookup + connect) after the retry timeout; watches for media inactivity. Worker thread. */
#pragma once

#include "red5pro-session.h"
#include "red5pro-worker.h"

#include <gst/gst.h>

#include <string>

namespace red5pro {

struct RetryPolicy {
  guint retry_timeout_ms = 1000;     /* 0 = no retry: failures are errors */
  gint max_retries = -1;             /* consecutive retries without media; -1 = forever */
  guint backoff_max_ms = 0;          /* 0 = constant delay; else doubles up to this */
  bool retry_on_auth_failure = false;
  guint inactivity_timeout_ms = 2000;/* no RTP this long while subscribed = failure; 0 = off */
  guint connect_timeout_ms = 20000;  /* no media this long after an attempt starts = failure */
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
    virtual gint64 last_media_time () = 0;       /* monotonic us of the last RTP, 0 = none */
    virtual void give_up (const Failure &failure, bool retried) = 0;  /* fatal */
    virtual void post_event (GstStructure *event) = 0;
    virtual void changed () = 0;                 /* stats changed */
  };

  RetryController (Worker &worker, Host &host) : worker_ (worker), host_ (host) {}
  ~RetryController () { cancel_timers (); }

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

private:
  void begin_attempt ();
  void schedule_retry (const Failure &failure);
  void watchdog ();
  void cancel_timers ();

  Worker &worker_;
  Host &host_;
  RetryPolicy policy_;
  State state_ = State::IDLE;
  guint retry_timer_ = 0;       /* the one pending retry, if any */
  guint watchdog_timer_ = 0;
  gint64 attempt_started_ = 0;
  guint consecutive_ = 0;       /* retries since media last flowed */
  guint retries_ = 0;           /* all retries */
  std::string last_failure_;
};

}  // namespace red5pro
