/* red5pro-retry: failover, read top to bottom: start → attempt → (media | failure) →
 * one retry deadline → attempt ... until stop, a final failure or max-retries; then the
 * techs of the playback order: fallback after failures, climb back by upgrade attempts. */
#include "red5pro-retry.h"
#include "red5pro-events.h"

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

void
WorkerScheduler::schedule (Slot slot, GstClockTime deadline, std::function<void ()> fn)
{
  cancel (slot);
  GstClockTime t = now ();
  /* in whole milliseconds, rounded up: never early */
  guint64 ms = deadline > t ? (deadline - t + GST_MSECOND - 1) / GST_MSECOND : 0;
  timers_[slot] = worker_.add_timeout (guint (MIN (ms, G_MAXUINT)), [this, slot, fn] () {
    timers_[slot] = 0;
    fn ();
  });
}

void
WorkerScheduler::cancel (Slot slot)
{
  worker_.remove_timeout (timers_[slot]);
  timers_[slot] = 0;
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
  if (policy_.playback_order.empty ())
    policy_.playback_order.push_back (Tech::WHEP);
  policy_.fallback_after = MAX (policy_.fallback_after, 1u);
  consecutive_ = 0;
  tech_index_ = 0;
  tech_failures_ = 0;
  covering_ = false;
  upgrade_failures_ = 0;
  standby_losses_ = 0;
  standby_made_ = false;
  begin_attempt ();
}

void
RetryController::stop ()
{
  unpublished_ = Failure ();
  scheduler_.cancel_all ();
  end_upgrade ();
  host_.stop_attempt ();
  enter (State::IDLE, "stopped");
  host_.changed ();
}

void
RetryController::begin_attempt ()
{
  enter (State::CONNECTING, consecutive_ ? "retry" : "start");
  attempt_started_ = scheduler_.now ();
  media_seen_ = false;
  GST_INFO_OBJECT (log_object_, "attempt with %s", tech_name (tech ()));
  host_.start_attempt (tech ());
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
  tech_failures_ = 0;
  media_seen_ = true;
  arm ();
  arm_upgrade ();
  arm_standby ();
  host_.changed ();
}

void
RetryController::attempt_failed (const Failure &failure)
{
  if (state_ != State::CONNECTING && state_ != State::SUBSCRIBED)
    return;   /* already retrying, stopped or given up: one deadline at a time */
  /* a ready standby takes over from a primary that failed in any way a retry could fix
   * (an unpublish only after a grace in which the standby did not say so too) */
  if (state_ == State::SUBSCRIBED && standby_ && standby_ready_ &&
      !failure_is_final (failure.kind, policy_.retry_on_auth_failure)) {
    last_failure_ = std::string (failure_name (failure)) + ": " + failure.reason;
    if (failure.kind == Failure::Kind::UNPUBLISHED) {
      /* both edges hear of a real unpublish from the origin: a moment to see whether the
       * standby does too before taking it as this edge's own trouble */
      if (!unpublished_.failed ()) {
        unpublished_ = failure;
        scheduler_.schedule (scheduler_.now () + UNPUBLISH_GRACE_MS * GST_MSECOND, [this] () {
          unpublished_ = Failure ();
          promote_standby ("unpublished");
        });
      }
      return;
    }
    promote_standby (failure_name (failure));
    return;
  }
  fail_now (failure);
}

void
RetryController::fail_now (const Failure &failure)
{
  /* an attempt that was a retry failed: the SDK's Reconnect.Failure */
  if (consecutive_ > 0)
    host_.post_event (event_new (event::RECONNECT_FAILURE, "error", G_TYPE_STRING,
        failure.reason.c_str (), "reason", G_TYPE_STRING, failure_name (failure), NULL));
  unpublished_ = Failure ();
  scheduler_.cancel_all ();
  last_failure_ = std::string (failure_name (failure)) + ": " + failure.reason;
  /* the way down is the retry path: no climb back from an attempt that is gone */
  end_upgrade ();
  host_.stop_attempt ();

  if (policy_.retry_timeout_ms == 0 ||
      failure_is_final (failure.kind, policy_.retry_on_auth_failure)) {
    enter (State::GAVE_UP, failure_name (failure));
    host_.changed ();
    host_.give_up (failure, false);
    return;
  }
  if (policy_.max_retries >= 0 && consecutive_ >= guint (policy_.max_retries)) {
    enter (State::GAVE_UP, "max-retries");
    host_.post_event (event_new (event::RETRY_GAVE_UP, "attempts", G_TYPE_UINT,
        consecutive_ + 1, "reason", G_TYPE_STRING, failure_name (failure),
        "message", G_TYPE_STRING, failure.reason.c_str (), NULL));
    host_.changed ();
    host_.give_up (failure, true);
    return;
  }
  if (media_seen_ && cover (failure))
    return;
  if (!media_seen_)
    count_failure_without_media (failure);
  schedule_retry (failure);
}

/* Media stopped (the edge or the path to it went quiet; nothing said the stream ended):
 * with HLS further down the order, retrying this tech first would leave the hole open for
 * failures-before-fallback attempts that may never connect (issue 20: 21 s, 553 frames).
 * HLS starts at once instead, and this tech is retried beside it as an upgrade attempt,
 * at the retry pace, taking over without a gap when it has media again. */
bool
RetryController::cover (const Failure &failure)
{
  if (failure.kind != Failure::Kind::INACTIVE)
    return false;
  for (guint i = tech_index_ + 1; i < policy_.playback_order.size (); i++) {
    if (policy_.playback_order[i] != Tech::HLS)
      continue;
    change_tech (i, "fallback");
    covering_ = true;
    upgrade_failures_ = 0;
    consecutive_ = 0;
    schedule_retry (failure, true);
    return true;
  }
  return false;
}

void
RetryController::count_failure_without_media (const Failure &failure)
{
  guint n = guint (policy_.playback_order.size ());
  if (n < 2 || ++tech_failures_ < policy_.fallback_after)
    return;
  /* the last tech falls back to the first: the way up is tried again too */
  GST_INFO_OBJECT (log_object_, "%u attempts with %s brought no media (%s)", tech_failures_,
      tech_name (tech ()), failure_name (failure));
  change_tech ((tech_index_ + 1) % n, "fallback");
  /* a new tech starts with the retry timeout, not the backoff of the last one */
  consecutive_ = 0;
}

void
RetryController::change_tech (guint index, const char *reason)
{
  Tech from = tech ();
  tech_index_ = index;
  tech_failures_ = 0;
  covering_ = false;
  GST_INFO_OBJECT (log_object_, "playback: %s -> %s (%s)", tech_name (from),
      tech_name (tech ()), reason);
  host_.post_event (event_new (event::PLAYBACK_CHANGED, "from", G_TYPE_STRING,
      tech_name (from), "to", G_TYPE_STRING, tech_name (tech ()), "reason", G_TYPE_STRING,
      reason, NULL));
}

/* ---- the climb back ---------------------------------------------------------------- */

void
RetryController::arm_upgrade ()
{
  if (tech_index_ == 0 || upgrading_ || policy_.upgrade_interval_ms == 0 ||
      state_ != State::SUBSCRIBED)
    return;
  scheduler_.schedule (Scheduler::UPGRADE, scheduler_.now () + upgrade_delay () * GST_MSECOND,
      [this] () { start_upgrade (); });
}

/* Covering for stopped media, the tech above is retried as a retry would be (the retry
 * timeout, then the backoff), never less often than every upgrade interval. */
guint
RetryController::upgrade_delay ()
{
  if (!covering_)
    return policy_.upgrade_interval_ms;
  return MIN (retry_delay (policy_, upgrade_failures_, g_random_int ()),
      policy_.upgrade_interval_ms);
}

void
RetryController::start_upgrade ()
{
  if (state_ != State::SUBSCRIBED || tech_index_ == 0)
    return;
  upgrading_ = true;
  Tech first = policy_.playback_order[0];
  GST_INFO_OBJECT (log_object_, "trying %s again beside %s", tech_name (first),
      tech_name (tech ()));
  host_.post_event (event_new (event::PLAYBACK_UPGRADE_START, "from", G_TYPE_STRING,
      tech_name (tech ()), "to", G_TYPE_STRING, tech_name (first), NULL));
  host_.start_upgrade (first);
  /* as long as a first attempt may take to bring media */
  if (upgrading_ && policy_.connect_timeout_ms > 0)
    scheduler_.schedule (Scheduler::UPGRADE,
        scheduler_.now () + policy_.connect_timeout_ms * GST_MSECOND, [this] () {
          upgrade_failed (Failure (Failure::Kind::CONNECTION_CLOSED,
              "no media within " + std::to_string (policy_.connect_timeout_ms) + " ms"));
        });
  host_.changed ();
}

void
RetryController::end_upgrade ()
{
  scheduler_.cancel (Scheduler::UPGRADE);
  if (!upgrading_ && !standby_)
    return;
  upgrading_ = false;
  standby_ = false;
  standby_ready_ = false;
  host_.stop_upgrade ();
}

/* ---- the standby (issue 20) ------------------------------------------------------- */

void
RetryController::arm_standby ()
{
  if (policy_.standby == Standby::NONE || tech_index_ != 0 || tech () == Tech::HLS ||
      standby_ || upgrading_ || state_ != State::SUBSCRIBED)
    return;
  guint delay = standby_made_ ? retry_delay (policy_, standby_losses_, g_random_int ()) : 0;
  scheduler_.schedule (Scheduler::UPGRADE, scheduler_.now () + delay * GST_MSECOND,
      [this] () { start_standby (); });
}

void
RetryController::start_standby ()
{
  if (state_ != State::SUBSCRIBED || tech_index_ != 0 || standby_)
    return;
  standby_ = true;
  standby_ready_ = false;
  standby_made_ = true;
  GST_INFO_OBJECT (log_object_, "a %s standby on another edge", policy_.standby ==
      Standby::HOT ? "hot" : "warm");
  host_.start_standby (tech ());
  if (standby_ && !standby_ready_ && policy_.connect_timeout_ms > 0)
    scheduler_.schedule (Scheduler::UPGRADE,
        scheduler_.now () + policy_.connect_timeout_ms * GST_MSECOND, [this] () {
          standby_lost (Failure (Failure::Kind::CONNECTION_CLOSED,
              "no media within " + std::to_string (policy_.connect_timeout_ms) + " ms"));
        });
  host_.changed ();
}

void
RetryController::standby_ready ()
{
  if (!standby_ || state_ != State::SUBSCRIBED) {
    end_upgrade ();
    return;
  }
  if (standby_ready_)
    return;
  standby_ready_ = true;
  standby_losses_ = 0;
  scheduler_.cancel (Scheduler::UPGRADE);
  GST_INFO_OBJECT (log_object_, "the standby is ready");
  arm ();   /* hot: the primary's silence now has a shorter deadline */
  host_.changed ();
}

void
RetryController::standby_lost (const Failure &failure)
{
  if (!standby_)
    return;
  standby_losses_++;
  GST_INFO_OBJECT (log_object_, "standby lost (%s: %s)", failure_name (failure),
      failure.reason.c_str ());
  host_.post_event (event_new (event::STANDBY_LOST, "reason", G_TYPE_STRING,
      failure_name (failure), "message", G_TYPE_STRING, failure.reason.c_str (),
      NULL));
  end_upgrade ();
  arm ();
  arm_standby ();
  host_.changed ();
}

void
RetryController::promote_standby (const char *reason)
{
  unpublished_ = Failure ();
  GST_INFO_OBJECT (log_object_, "the standby takes over (%s)", reason);
  scheduler_.cancel_all ();
  standby_ = false;
  standby_ready_ = false;
  host_.promote_standby (reason);
  /* subscribed on the standby from now; a new standby after the retry delay */
  subscribed_at_ = scheduler_.now ();
  media_seen_ = true;
  consecutive_ = 0;
  arm ();
  arm_standby ();
  host_.changed ();
}

void
RetryController::upgrade_ready ()
{
  if (!upgrading_ || state_ != State::SUBSCRIBED) {
    end_upgrade ();
    return;
  }
  upgrading_ = false;
  upgrade_failures_ = 0;
  scheduler_.cancel (Scheduler::UPGRADE);
  host_.promote_upgrade ();
  change_tech (0, "upgrade");
  /* the new current attempt has media: subscribed on it from now */
  subscribed_at_ = scheduler_.now ();
  media_seen_ = true;
  if (state_ == State::SUBSCRIBED)
    arm ();
  host_.changed ();
}

void
RetryController::upgrade_failed (const Failure &failure)
{
  if (standby_ && unpublished_.failed ()) {
    /* both edges say so: the stream ended, no failover (the standby goes with the rest);
     * a standby that fails otherwise meanwhile cannot take over either */
    GST_INFO_OBJECT (log_object_, "the standby failed too (%s): no failover",
        failure_name (failure));
    Failure f = unpublished_;
    fail_now (f);
    return;
  }
  if (standby_) {
    standby_lost (failure);
    return;
  }
  if (!upgrading_)
    return;
  upgrade_failures_++;
  GST_INFO_OBJECT (log_object_, "%s is still out of reach (%s: %s)",
      tech_name (policy_.playback_order[0]), failure_name (failure),
      failure.reason.c_str ());
  host_.post_event (event_new (event::PLAYBACK_UPGRADE_FAILED, "to", G_TYPE_STRING,
      tech_name (policy_.playback_order[0]), "reason", G_TYPE_STRING,
      failure_name (failure), "message", G_TYPE_STRING, failure.reason.c_str (),
      NULL));
  end_upgrade ();
  arm_upgrade ();
  host_.changed ();
}

void
RetryController::schedule_retry (const Failure &failure, bool at_once)
{
  guint delay = at_once ? 0 : retry_delay (policy_, consecutive_, g_random_int ());
  consecutive_++;
  retries_++;
  enter (State::RETRYING, failure_name (failure));
  GST_INFO_OBJECT (log_object_, "retry %u in %u ms after %s", retries_, delay,
      last_failure_.c_str ());
  host_.post_event (event_new (event::RETRY_SCHEDULED, "attempt", G_TYPE_UINT, retries_,
      "delay-ms", G_TYPE_UINT, delay, "reason", G_TYPE_STRING,
      failure_name (failure), "message", G_TYPE_STRING, failure.reason.c_str (),
      NULL));
  /* the SDK's names for the same (its renegotiation's reconnect), for applications written
   * against it */
  host_.post_event (event_new (event::RECONNECT_START, "reason", G_TYPE_STRING,
      failure_name (failure), NULL));
  scheduler_.schedule (scheduler_.now () + delay * GST_MSECOND, [this] () { begin_attempt (); });
  host_.changed ();
}

/* Connecting: media by the connect timeout. Subscribed: media again within the inactivity
 * timeout of the last (the edge may be gone without closing anything). */
void
RetryController::set_paused (bool paused)
{
  if (paused == paused_)
    return;
  paused_ = paused;
  GST_INFO_OBJECT (log_object_, "media %s by the application", paused ? "paused" : "resumed");
  if (paused)
    return;
  /* the silence of the pause is no inactivity: the timeouts count from now */
  if (state_ == State::SUBSCRIBED)
    subscribed_at_ = scheduler_.now ();
  else if (state_ == State::CONNECTING)
    attempt_started_ = scheduler_.now ();
  else
    return;
  arm ();
}

void
RetryController::arm ()
{
  GstClockTime deadline = GST_CLOCK_TIME_NONE;
  if (paused_ && (state_ == State::CONNECTING || state_ == State::SUBSCRIBED)) {
    /* no deadline: set_paused (false) arms again */
  } else if (state_ == State::CONNECTING && policy_.connect_timeout_ms > 0) {
    deadline = attempt_started_ + policy_.connect_timeout_ms * GST_MSECOND;
  } else if (state_ == State::SUBSCRIBED && policy_.inactivity_timeout_ms > 0) {
    GstClockTime last = host_.last_media_time ();
    if (!GST_CLOCK_TIME_IS_VALID (last) || last < subscribed_at_)
      last = subscribed_at_;
    deadline = last + policy_.inactivity_timeout_ms * GST_MSECOND +
        host_.inactivity_allowance ();
    if (hot_standby_ready ()) {
      /* a silent primary hands over after standby-switch-after, if the standby still
       * has media then (checked again every half of it while the primary stays silent) */
      GstClockTime quick = last + policy_.standby_switch_after_ms * GST_MSECOND;
      GstClockTime now = scheduler_.now ();
      if (quick <= now)
        quick = now + MAX (policy_.standby_switch_after_ms / 2, 10u) * GST_MSECOND;
      deadline = MIN (deadline, quick);
    }
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
  if (paused_)
    return;
  if (state_ == State::CONNECTING) {
    attempt_failed (Failure (Failure::Kind::CONNECTION_CLOSED,
        "no media within " + std::to_string (policy_.connect_timeout_ms) + " ms"));
  } else if (state_ == State::SUBSCRIBED) {
    GstClockTime last = host_.last_media_time ();
    if (!GST_CLOCK_TIME_IS_VALID (last) || last < subscribed_at_)
      last = subscribed_at_;
    GstClockTime switch_after = policy_.standby_switch_after_ms * GST_MSECOND;
    GstClockTime standby_last = host_.standby_media_time ();
    if (hot_standby_ready () && now >= last + switch_after &&
        GST_CLOCK_TIME_IS_VALID (standby_last) && standby_last + switch_after > now) {
      /* the primary is silent while the standby has media: the stream lives on there */
      last_failure_ = "inactive: no media for " + std::to_string ((now - last) / GST_MSECOND) +
          " ms while the standby had media";
      promote_standby ("silent");
    } else if (now >= last + policy_.inactivity_timeout_ms * GST_MSECOND +
            host_.inactivity_allowance ()) {
      attempt_failed (Failure (Failure::Kind::INACTIVE,
          "no media for " + std::to_string ((now - last) / GST_MSECOND) + " ms"));
    } else {
      arm ();   /* media came since: the deadline moves with it */
    }
  }
}

}  // namespace red5pro
