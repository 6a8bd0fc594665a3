/* red5pro-retry: failover, read top to bottom: start → attempt → (media | failure) →
 * one retry deadline → attempt ... until stop, a final failure or max-retries. */
#include "red5pro-retry.h"
#include "red5pro-events.h"

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

void
WorkerScheduler::schedule (GstClockTime deadline, std::function<void ()> fn)
{
  cancel ();
  GstClockTime t = now ();
  /* in whole milliseconds, rounded up: never early */
  guint64 ms = deadline > t ? (deadline - t + GST_MSECOND - 1) / GST_MSECOND : 0;
  timer_ = worker_.add_timeout (guint (MIN (ms, G_MAXUINT)), [this, fn] () {
    timer_ = 0;
    fn ();
  });
}

void
WorkerScheduler::cancel ()
{
  worker_.remove_timeout (timer_);
  timer_ = 0;
}

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

guint
RetryController::retry_delay (const RetryPolicy &policy, guint n, guint32 random)
{
  guint64 base = policy.retry_timeout_ms;
  if (n == 0 || policy.backoff_max_ms <= base)
    return guint (base);
  /* doubling in 64 bits, capped before it can overflow */
  guint64 delay = base << MIN (n, 32u);
  delay = MIN (delay, guint64 (policy.backoff_max_ms));
  /* "equal jitter": half of it for sure, the other half at random */
  delay = delay / 2 + (delay / 2) * (random % 1001) / 1000;
  return guint (MAX (delay, base));
}

void
RetryController::enter (State state, const char *why)
{
  GST_INFO_OBJECT (log_object_, "%s -> %s (%s)", state_name (state_), state_name (state), why);
  state_ = state;
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
  scheduler_.cancel ();
  host_.stop_attempt ();
  enter (State::IDLE, "stopped");
  host_.changed ();
}

void
RetryController::begin_attempt ()
{
  enter (State::CONNECTING, consecutive_ ? "retry" : "start");
  attempt_started_ = scheduler_.now ();
  host_.start_attempt ();
  if (state_ == State::CONNECTING)   /* the attempt may have failed right away */
    arm ();
  host_.changed ();
}

void
RetryController::media_started ()
{
  if (state_ != State::CONNECTING)
    return;
  enter (State::SUBSCRIBED, "media flows");
  subscribed_at_ = scheduler_.now ();
  consecutive_ = 0;
  arm ();
  host_.changed ();
}

void
RetryController::attempt_failed (const Failure &failure)
{
  if (state_ != State::CONNECTING && state_ != State::SUBSCRIBED)
    return;   /* already retrying, stopped or given up: one deadline at a time */
  scheduler_.cancel ();
  last_failure_ = std::string (failure_kind_name (failure.kind)) + ": " + failure.reason;
  host_.stop_attempt ();

  if (policy_.retry_timeout_ms == 0 ||
      failure_is_final (failure.kind, policy_.retry_on_auth_failure)) {
    enter (State::GAVE_UP, failure_kind_name (failure.kind));
    host_.changed ();
    host_.give_up (failure, false);
    return;
  }
  if (policy_.max_retries >= 0 && consecutive_ >= guint (policy_.max_retries)) {
    enter (State::GAVE_UP, "max-retries");
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
  guint delay = retry_delay (policy_, consecutive_, g_random_int ());
  consecutive_++;
  retries_++;
  enter (State::RETRYING, failure_kind_name (failure.kind));
  GST_INFO_OBJECT (log_object_, "retry %u in %u ms after %s", retries_, delay,
      last_failure_.c_str ());
  host_.post_event (event_new (event::RETRY_SCHEDULED, "attempt", G_TYPE_UINT, retries_,
      "delay-ms", G_TYPE_UINT, delay, "reason", G_TYPE_STRING,
      failure_kind_name (failure.kind), "message", G_TYPE_STRING, failure.reason.c_str (),
      NULL));
  scheduler_.schedule (scheduler_.now () + delay * GST_MSECOND, [this] () { begin_attempt (); });
  host_.changed ();
}

/* Connecting: media by the connect timeout. Subscribed: media again within the inactivity
 * timeout of the last (the edge may be gone without closing anything). */
void
RetryController::arm ()
{
  GstClockTime deadline = GST_CLOCK_TIME_NONE;
  if (state_ == State::CONNECTING && policy_.connect_timeout_ms > 0) {
    deadline = attempt_started_ + policy_.connect_timeout_ms * GST_MSECOND;
  } else if (state_ == State::SUBSCRIBED && policy_.inactivity_timeout_ms > 0) {
    GstClockTime last = host_.last_media_time ();
    if (!GST_CLOCK_TIME_IS_VALID (last) || last < subscribed_at_)
      last = subscribed_at_;
    deadline = last + policy_.inactivity_timeout_ms * GST_MSECOND;
  }
  if (GST_CLOCK_TIME_IS_VALID (deadline))
    scheduler_.schedule (deadline, [this] () { on_deadline (); });
  else
    scheduler_.cancel ();
}

void
RetryController::on_deadline ()
{
  GstClockTime now = scheduler_.now ();
  if (state_ == State::CONNECTING) {
    attempt_failed (Failure (Failure::Kind::CONNECTION_CLOSED,
        "no media within " + std::to_string (policy_.connect_timeout_ms) + " ms"));
  } else if (state_ == State::SUBSCRIBED) {
    GstClockTime last = host_.last_media_time ();
    if (!GST_CLOCK_TIME_IS_VALID (last) || last < subscribed_at_)
      last = subscribed_at_;
    if (now >= last + policy_.inactivity_timeout_ms * GST_MSECOND)
      attempt_failed (Failure (Failure::Kind::INACTIVE,
          "no media for " + std::to_string ((now - last) / GST_MSECOND) + " ms"));
    else
      arm ();   /* media came since: the deadline moves with it */
  }
}

}  // namespace red5pro
