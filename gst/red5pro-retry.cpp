/* red5pro-retry: failover, read top to bottom: start → attempt → (media | failure) →
 * one retry timer → attempt ... until stop or max-retries. */
#include "red5pro-retry.h"
#include "red5pro-events.h"

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

/* How often the watchdog looks at media arrival. */
static constexpr guint WATCHDOG_PERIOD_MS = 100;

const char *
RetryController::state_name (State state)
{
  switch (state) {
    case State::IDLE: return "idle";
    case State::CONNECTING: return "connecting";
    case State::SUBSCRIBED: return "subscribed";
    case State::RETRYING: return "retrying";
    case State::GAVE_UP: return "gave-up";
  }
  return "unknown";
}

void
RetryController::start (const RetryPolicy &policy)
{
  policy_ = policy;
  consecutive_ = 0;
  begin_attempt ();
}

void
RetryController::stop ()
{
  cancel_timers ();
  host_.stop_attempt ();
  state_ = State::IDLE;
  host_.changed ();
}

void
RetryController::begin_attempt ()
{
  retry_timer_ = 0;
  state_ = State::CONNECTING;
  attempt_started_ = g_get_monotonic_time ();
  host_.start_attempt ();
  if (!watchdog_timer_)
    watchdog ();
  host_.changed ();
}

void
RetryController::media_started ()
{
  if (state_ != State::CONNECTING)
    return;
  state_ = State::SUBSCRIBED;
  consecutive_ = 0;
  host_.changed ();
}

void
RetryController::attempt_failed (const Failure &failure)
{
  if (state_ != State::CONNECTING && state_ != State::SUBSCRIBED)
    return;   /* already retrying, stopped or given up: one timer at a time */
  last_failure_ = std::string (failure_kind_name (failure.kind)) + ": " + failure.reason;
  host_.stop_attempt ();

  bool retry = policy_.retry_timeout_ms > 0 && failure.kind != Failure::Kind::INTERNAL &&
      failure.kind != Failure::Kind::UNSUPPORTED &&
      (failure.kind != Failure::Kind::UNAUTHORIZED || policy_.retry_on_auth_failure);
  if (!retry) {
    cancel_timers ();
    state_ = State::GAVE_UP;
    host_.changed ();
    host_.give_up (failure, false);
    return;
  }
  if (policy_.max_retries >= 0 && consecutive_ >= guint (policy_.max_retries)) {
    cancel_timers ();
    state_ = State::GAVE_UP;
    host_.post_event (event_new (event::RETRY_GAVE_UP, "attempts", G_TYPE_UINT,
        consecutive_ + 1, "reason", G_TYPE_STRING, failure_kind_name (failure.kind),
        "message", G_TYPE_STRING, failure.reason.c_str (), NULL));
    host_.changed ();
    host_.give_up (failure, true);
    return;
  }
  schedule_retry (failure);
}

void
RetryController::schedule_retry (const Failure &failure)
{
  guint delay = policy_.retry_timeout_ms;
  if (policy_.backoff_max_ms > delay) {
    for (guint i = 0; i < consecutive_ && delay < policy_.backoff_max_ms; i++)
      delay *= 2;
    delay = MIN (delay, policy_.backoff_max_ms);
  }
  consecutive_++;
  retries_++;
  state_ = State::RETRYING;
  GST_INFO ("retry %u in %u ms after %s", retries_, delay, last_failure_.c_str ());
  host_.post_event (event_new (event::RETRY_SCHEDULED, "attempt", G_TYPE_UINT, retries_,
      "delay-ms", G_TYPE_UINT, delay, "reason", G_TYPE_STRING,
      failure_kind_name (failure.kind), "message", G_TYPE_STRING, failure.reason.c_str (),
      NULL));
  worker_.remove_timeout (retry_timer_);
  retry_timer_ = worker_.add_timeout (delay, [this] () { begin_attempt (); });
  host_.changed ();
}

/* No media within the connect timeout, or none for the inactivity timeout once
 * subscribed: the edge may be gone without closing anything. */
void
RetryController::watchdog ()
{
  watchdog_timer_ = worker_.add_timeout (WATCHDOG_PERIOD_MS, [this] () {
    watchdog_timer_ = 0;
    gint64 now = g_get_monotonic_time ();
    gint64 last = host_.last_media_time ();
    Failure f;
    f.kind = Failure::Kind::CONNECTION_CLOSED;
    if (state_ == State::CONNECTING && policy_.connect_timeout_ms > 0 &&
        now - attempt_started_ > gint64 (policy_.connect_timeout_ms) * 1000) {
      f.reason = "no media within " + std::to_string (policy_.connect_timeout_ms) + " ms";
      attempt_failed (f);
    } else if (state_ == State::SUBSCRIBED && policy_.inactivity_timeout_ms > 0 && last > 0 &&
        now - last > gint64 (policy_.inactivity_timeout_ms) * 1000) {
      f.kind = Failure::Kind::INACTIVE;
      f.reason = "no media for " + std::to_string ((now - last) / 1000) + " ms";
      attempt_failed (f);
    }
    if (state_ != State::IDLE && state_ != State::GAVE_UP && !watchdog_timer_)
      watchdog ();
  });
}

void
RetryController::cancel_timers ()
{
  worker_.remove_timeout (retry_timer_);
  worker_.remove_timeout (watchdog_timer_);
  retry_timer_ = 0;
  watchdog_timer_ = 0;
}

}  // namespace red5pro
