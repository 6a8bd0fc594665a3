/* Unit tests for the retry controller, on a GstTestClock: every transition, the retry delay
 * and its backoff, max-retries, final failures, the connect and inactivity deadlines. No
 * thread, no network: time moves when the test says so. */
#include <gst/check/gstcheck.h>
#include <gst/check/gsttestclock.h>

#include "red5pro-events.h"
#include "red5pro-retry.h"

#include <map>
#include <vector>

using namespace red5pro;
using State = RetryController::State;
using K = Failure::Kind;

/* Time from a test clock; the deadlines fire when the test advances past them. */
class TestScheduler : public Scheduler {
public:
  TestScheduler () : clock_ (GST_TEST_CLOCK (gst_test_clock_new ())) {}
  ~TestScheduler () override { gst_object_unref (clock_); }
  GstClockTime now () override { return gst_clock_get_time (GST_CLOCK (clock_)); }
  using Scheduler::schedule;
  using Scheduler::cancel;
  void schedule (Slot slot, GstClockTime deadline, std::function<void ()> fn) override
  {
    deadline_[slot] = deadline;
    fn_[slot] = std::move (fn);
  }
  void cancel (Slot slot) override
  {
    deadline_[slot] = GST_CLOCK_TIME_NONE;
    fn_[slot] = nullptr;
  }
  /* moves the clock on, firing the deadlines (and those they set) when due, earliest first */
  void advance (guint ms)
  {
    gst_test_clock_advance_time (clock_, ms * GST_MSECOND);
    for (;;) {
      int due = -1;
      for (int i = 0; i < 2; i++)
        if (fn_[i] && GST_CLOCK_TIME_IS_VALID (deadline_[i]) && deadline_[i] <= now () &&
            (due < 0 || deadline_[i] < deadline_[due]))
          due = i;
      if (due < 0)
        break;
      auto fn = std::move (fn_[due]);
      cancel (Slot (due));
      fn ();
    }
  }
  GstClockTime deadline (Slot slot = MAIN) const { return deadline_[slot]; }

private:
  GstTestClock *clock_;
  GstClockTime deadline_[2] = { GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE };
  std::function<void ()> fn_[2];
};

class TestHost : public RetryController::Host {
public:
  void start_attempt (Tech tech) override
  {
    starts++;
    techs.push_back (tech);
  }
  void stop_attempt () override { stops++; }
  void start_upgrade (Tech tech) override
  {
    upgrades++;
    upgrade_tech = tech;
    upgrading = true;
  }
  void stop_upgrade () override
  {
    upgrade_stops++;
    upgrading = false;
  }
  void promote_upgrade () override
  {
    promotions++;
    upgrading = false;
  }
  void start_standby (Tech) override
  {
    standbys++;
    upgrading = true;
  }
  void promote_standby (const char *reason) override
  {
    standby_promotions++;
    promotion_reason = reason;
    upgrading = false;
  }
  GstClockTime standby_media_time () override { return standby_media; }
  GstClockTime last_media_time () override { return last_media; }
  GstClockTime inactivity_allowance () override { return allowance; }
  void give_up (const Failure &f, bool was_retried) override
  {
    gave_up = f.kind;
    retried = was_retried;
  }
  void post_event (GstStructure *event) override
  {
    std::string type = gst_structure_get_string (event, "type");
    events[type]++;
    if (gst_structure_has_field (event, "delay-ms"))
      gst_structure_get_uint (event, "delay-ms", &last_delay);
    if (type == "Red5Pro.Playback.Changed")
      changes_of_tech.push_back (std::string (gst_structure_get_string (event, "from")) + ">" +
          gst_structure_get_string (event, "to") + ":" +
          gst_structure_get_string (event, "reason"));
    gst_structure_free (event);
  }
  void changed () override { changes++; }

  guint starts = 0, stops = 0, changes = 0, last_delay = 0;
  guint upgrades = 0, upgrade_stops = 0, promotions = 0;
  guint standbys = 0, standby_promotions = 0;
  std::string promotion_reason;
  GstClockTime standby_media = GST_CLOCK_TIME_NONE;
  bool upgrading = false;
  Tech upgrade_tech = Tech::WHEP;
  std::vector<Tech> techs;
  std::vector<std::string> changes_of_tech;
  GstClockTime last_media = GST_CLOCK_TIME_NONE;
  GstClockTime allowance = 0;
  K gave_up = K::NONE;
  bool retried = false;
  std::map<std::string, guint> events;
};

struct Fixture {
  TestScheduler sched;
  TestHost host;
  GstObject *log_object = GST_OBJECT (gst_object_ref_sink (gst_bin_new ("log")));
  RetryController retry { sched, host, log_object };
  RetryPolicy policy;

  Fixture ()
  {
    policy.retry_timeout_ms = 1000;
    policy.backoff_max_ms = 0;   /* a constant delay, but where a test says otherwise */
    policy.connect_timeout_ms = 20000;
    policy.inactivity_timeout_ms = 2000;
  }
  ~Fixture () { gst_object_unref (log_object); }
  /* media arrives now */
  void media () { host.last_media = sched.now (); }
  /* standby=hot, media flowing, the standby made at once and ready */
  void subscribed_with_a_ready_hot_standby ()
  {
    policy.standby = Standby::HOT;
    retry.start (policy);
    media ();
    retry.media_started ();
    sched.advance (0);
    fail_unless_equals_int (host.standbys, 1);
    retry.standby_ready ();
  }
};

static Failure
failure (K kind)
{
  return Failure (kind, "test");
}

GST_START_TEST (test_start_connects_and_media_subscribes)
{
  Fixture f;
  f.retry.start (f.policy);
  fail_unless (f.retry.state () == State::CONNECTING);
  fail_unless_equals_int (f.host.starts, 1);
  f.media ();
  f.retry.media_started ();
  fail_unless (f.retry.state () == State::SUBSCRIBED);
  fail_unless_equals_int (f.host.stops, 0);
}
GST_END_TEST;

GST_START_TEST (test_a_failure_retries_once_after_the_retry_timeout)
{
  Fixture f;
  f.retry.start (f.policy);
  f.retry.attempt_failed (failure (K::CONNECTION_CLOSED));
  fail_unless (f.retry.state () == State::RETRYING);
  fail_unless_equals_int (f.host.stops, 1);
  fail_unless_equals_int (f.host.events["Red5Pro.Retry.Scheduled"], 1);
  fail_unless_equals_int (f.host.last_delay, 1000);
  /* a second failure report while retrying changes nothing: one timer at a time */
  f.retry.attempt_failed (failure (K::CONNECTION_CLOSED));
  fail_unless_equals_int (f.host.events["Red5Pro.Retry.Scheduled"], 1);
  f.sched.advance (999);
  fail_unless_equals_int (f.host.starts, 1);
  f.sched.advance (1);
  fail_unless_equals_int (f.host.starts, 2);
  fail_unless (f.retry.state () == State::CONNECTING);
  fail_unless_equals_int (f.retry.retries (), 1);
}
GST_END_TEST;

GST_START_TEST (test_no_media_within_the_connect_timeout_is_a_failure)
{
  Fixture f;
  f.retry.start (f.policy);
  f.sched.advance (19999);
  fail_unless (f.retry.state () == State::CONNECTING);
  f.sched.advance (1);
  fail_unless (f.retry.state () == State::RETRYING);
  fail_unless (f.retry.last_failure ().find ("connection-closed") == 0);
}
GST_END_TEST;

GST_START_TEST (test_inactivity_fails_exactly_at_the_timeout_after_the_last_media)
{
  Fixture f;
  f.retry.start (f.policy);
  f.media ();
  f.retry.media_started ();
  /* media keeps coming for a while: the deadline moves with it */
  for (int i = 0; i < 5; i++) {
    f.sched.advance (500);
    f.media ();
  }
  f.sched.advance (1999);
  fail_unless (f.retry.state () == State::SUBSCRIBED);
  f.sched.advance (1);
  fail_unless (f.retry.state () == State::RETRYING);
  fail_unless (f.retry.last_failure ().find ("inactivity") == 0, "%s",
      f.retry.last_failure ().c_str ());
}
GST_END_TEST;

/* set-muted: while the application has the media paused, silence is no failure; resumed,
 * the inactivity timeout counts from the resume */
GST_START_TEST (test_paused_media_is_no_inactivity_until_resumed)
{
  Fixture f;
  f.retry.start (f.policy);
  f.media ();
  f.retry.media_started ();
  f.sched.advance (500);
  f.retry.set_paused (true);
  f.sched.advance (60000);
  fail_unless (f.retry.state () == State::SUBSCRIBED);
  f.retry.set_paused (false);
  f.sched.advance (1999);
  fail_unless (f.retry.state () == State::SUBSCRIBED);
  f.sched.advance (1);
  fail_unless (f.retry.state () == State::RETRYING);
  /* paused while connecting: no connect timeout either */
  for (int i = 0; i < 1000 && f.retry.state () != State::CONNECTING; i++)
    f.sched.advance (10);
  fail_unless (f.retry.state () == State::CONNECTING);
  f.retry.set_paused (true);
  f.sched.advance (60000);
  fail_unless (f.retry.state () == State::CONNECTING);
}
GST_END_TEST;

GST_START_TEST (test_max_retries_without_media_gives_up_with_eos_and_error)
{
  Fixture f;
  f.policy.max_retries = 2;
  f.retry.start (f.policy);
  for (int i = 0; i < 2; i++) {
    f.retry.attempt_failed (failure (K::UNREACHABLE));
    fail_unless (f.retry.state () == State::RETRYING);
    f.sched.advance (1000);
  }
  f.retry.attempt_failed (failure (K::UNREACHABLE));
  fail_unless (f.retry.state () == State::GAVE_UP);
  fail_unless (f.host.gave_up == K::UNREACHABLE);
  fail_unless (f.host.retried);
  fail_unless_equals_int (f.host.events["Red5Pro.Retry.GaveUp"], 1);
  f.sched.advance (60000);
  fail_unless_equals_int (f.host.starts, 3);
}
GST_END_TEST;

GST_START_TEST (test_media_starts_the_count_of_retries_over)
{
  Fixture f;
  f.policy.max_retries = 1;
  f.retry.start (f.policy);
  for (int i = 0; i < 3; i++) {
    f.media ();
    f.retry.media_started ();
    f.retry.attempt_failed (failure (K::UNPUBLISHED));
    fail_unless (f.retry.state () == State::RETRYING, "round %d", i);
    f.sched.advance (1000);
  }
  fail_unless_equals_int (f.host.starts, 4);
}
GST_END_TEST;

GST_START_TEST (test_failures_no_retry_fixes_give_up_at_once)
{
  for (K kind : { K::UNSUPPORTED, K::INTERNAL, K::UNAUTHORIZED }) {
    Fixture f;
    f.retry.start (f.policy);
    f.retry.attempt_failed (failure (kind));
    fail_unless (f.retry.state () == State::GAVE_UP, "%s", failure_kind_name (kind));
    fail_unless (f.host.gave_up == kind && !f.host.retried);
  }
  Fixture f;
  f.policy.retry_on_auth_failure = true;
  f.retry.start (f.policy);
  f.retry.attempt_failed (failure (K::UNAUTHORIZED));
  fail_unless (f.retry.state () == State::RETRYING);
}
GST_END_TEST;

GST_START_TEST (test_retry_timeout_zero_makes_every_failure_an_error)
{
  Fixture f;
  f.policy.retry_timeout_ms = 0;
  f.retry.start (f.policy);
  f.retry.attempt_failed (failure (K::NOT_FOUND));
  fail_unless (f.retry.state () == State::GAVE_UP);
  fail_unless (f.host.gave_up == K::NOT_FOUND && !f.host.retried);
}
GST_END_TEST;

GST_START_TEST (test_stop_cancels_the_pending_retry)
{
  Fixture f;
  f.retry.start (f.policy);
  f.retry.attempt_failed (failure (K::CONNECTION_CLOSED));
  f.retry.stop ();
  fail_unless (f.retry.state () == State::IDLE);
  fail_unless (!GST_CLOCK_TIME_IS_VALID (f.sched.deadline ()));
  f.sched.advance (60000);
  fail_unless_equals_int (f.host.starts, 1);
}
GST_END_TEST;

GST_START_TEST (test_backoff_doubles_with_jitter_up_to_the_cap_without_overflow)
{
  RetryPolicy p;
  p.retry_timeout_ms = 1000;
  p.backoff_max_ms = 30000;
  /* the first retry is the retry timeout, so that one failover stays fast */
  fail_unless_equals_int (RetryController::retry_delay (p, 0, 0), 1000);
  fail_unless_equals_int (RetryController::retry_delay (p, 0, 999999), 1000);
  for (guint n = 1; n < 70; n++) {
    guint64 full = MIN (guint64 (30000), guint64 (1000) << MIN (n, 32u));
    for (guint32 r : { 0u, 500u, 1000u, 123456789u, G_MAXUINT32 }) {
      guint d = RetryController::retry_delay (p, n, r);
      fail_unless (d >= MAX (full / 2, 1000u) && d <= full, "n %u random %u: %u", n, r, d);
    }
  }
  /* without backoff, always the retry timeout */
  p.backoff_max_ms = 0;
  fail_unless_equals_int (RetryController::retry_delay (p, 10, 77), 1000);
  /* a huge retry timeout does not overflow either */
  p.retry_timeout_ms = G_MAXUINT;
  p.backoff_max_ms = G_MAXUINT;
  fail_unless_equals_int (RetryController::retry_delay (p, 40, 7), G_MAXUINT);
}
GST_END_TEST;

GST_START_TEST (test_consecutive_failures_back_off_by_default)
{
  Fixture f;
  f.policy = RetryPolicy ();   /* the defaults: backoff up to 30 s */
  fail_unless_equals_int (f.policy.backoff_max_ms, 30000);
  f.retry.start (f.policy);
  std::vector<guint> delays;
  for (int i = 0; i < 8; i++) {
    f.retry.attempt_failed (failure (K::SERVER_ERROR));
    delays.push_back (f.host.last_delay);
    f.sched.advance (f.host.last_delay);
  }
  fail_unless_equals_int (delays[0], 1000);
  for (size_t i = 1; i < delays.size (); i++) {
    guint full = MIN (30000u, 1000u << i);
    fail_unless (delays[i] >= MAX (full / 2, 1000u) && delays[i] <= full, "retry %zu: %u", i,
        delays[i]);
  }
}
GST_END_TEST;

/* ---- playback order ----------------------------------------------------------------- */

static void
order_whep_hls (Fixture &f)
{
  f.policy.playback_order = { Tech::WHEP, Tech::HLS };
  f.policy.fallback_after = 2;
  f.policy.upgrade_interval_ms = 60000;
}

/* two attempts without media on WHEP, then HLS */
static void
fall_back_to_hls (Fixture &f)
{
  f.retry.start (f.policy);
  f.retry.attempt_failed (failure (K::CONNECTION_CLOSED));
  f.sched.advance (f.host.last_delay);
  f.retry.attempt_failed (failure (K::CONNECTION_CLOSED));
  f.sched.advance (f.host.last_delay);
}

GST_START_TEST (test_a_tech_without_media_n_times_falls_back_to_the_next)
{
  Fixture f;
  order_whep_hls (f);
  f.policy.backoff_max_ms = 30000;
  fall_back_to_hls (f);
  fail_unless_equals_int (f.host.starts, 3);
  fail_unless (f.host.techs[0] == Tech::WHEP && f.host.techs[1] == Tech::WHEP);
  fail_unless (f.host.techs[2] == Tech::HLS);
  fail_unless (f.retry.tech () == Tech::HLS);
  fail_unless_equals_int (f.host.changes_of_tech.size (), 1);
  fail_unless_equals_string (f.host.changes_of_tech[0].c_str (), "whep>hls:fallback");
  /* a new tech starts at the retry timeout, not the backoff of the last */
  fail_unless_equals_int (f.host.last_delay, 1000);
}
GST_END_TEST;

GST_START_TEST (test_a_failure_after_media_does_not_count_towards_fallback)
{
  Fixture f;
  order_whep_hls (f);
  f.retry.start (f.policy);
  for (int i = 0; i < 4; i++) {
    f.media ();
    f.retry.media_started ();
    f.retry.attempt_failed (failure (K::UNPUBLISHED));
    f.sched.advance (f.host.last_delay);
  }
  fail_unless (f.retry.tech () == Tech::WHEP);
  fail_unless_equals_int (f.host.changes_of_tech.size (), 0);
}
GST_END_TEST;

GST_START_TEST (test_one_tech_never_changes_and_never_upgrades)
{
  Fixture f;
  f.retry.start (f.policy);
  for (int i = 0; i < 5; i++) {
    f.retry.attempt_failed (failure (K::CONNECTION_CLOSED));
    f.sched.advance (f.host.last_delay);
  }
  f.media ();
  f.retry.media_started ();
  f.sched.advance (120000);
  fail_unless_equals_int (f.host.changes_of_tech.size (), 0);
  fail_unless_equals_int (f.host.upgrades, 0);
}
GST_END_TEST;

GST_START_TEST (test_the_last_tech_falls_back_to_the_first)
{
  Fixture f;
  order_whep_hls (f);
  fall_back_to_hls (f);
  f.retry.attempt_failed (failure (K::NOT_FOUND));
  f.sched.advance (f.host.last_delay);
  f.retry.attempt_failed (failure (K::NOT_FOUND));
  f.sched.advance (f.host.last_delay);
  fail_unless (f.retry.tech () == Tech::WHEP);
  fail_unless (f.host.techs.back () == Tech::WHEP);
  fail_unless_equals_string (f.host.changes_of_tech.back ().c_str (), "hls>whep:fallback");
}
GST_END_TEST;

GST_START_TEST (test_on_a_lower_tech_the_first_is_tried_beside_it_and_takes_over)
{
  Fixture f;
  order_whep_hls (f);
  fall_back_to_hls (f);
  f.media ();
  f.retry.media_started ();
  fail_unless_equals_int (f.host.upgrades, 0);
  /* the inactivity deadline moves with the media; the upgrade one stays */
  for (int i = 0; i < 59; i++) {
    f.sched.advance (1000);
    f.media ();
  }
  fail_unless_equals_int (f.host.upgrades, 0);
  f.sched.advance (1000);
  f.media ();
  fail_unless_equals_int (f.host.upgrades, 1);
  fail_unless (f.host.upgrade_tech == Tech::WHEP);
  fail_unless (f.retry.upgrading ());
  fail_unless_equals_int (f.host.events["Red5Pro.Playback.Upgrade.Start"], 1);
  /* the current attempt goes on meanwhile */
  fail_unless (f.retry.state () == State::SUBSCRIBED);
  fail_unless_equals_int (f.host.stops, 2);
  f.retry.upgrade_ready ();
  fail_unless_equals_int (f.host.promotions, 1);
  fail_unless (f.retry.tech () == Tech::WHEP);
  fail_unless_equals_string (f.host.changes_of_tech.back ().c_str (), "hls>whep:upgrade");
  fail_unless (f.retry.state () == State::SUBSCRIBED);
  /* no attempt was stopped by the controller: the host swaps */
  fail_unless_equals_int (f.host.stops, 2);
  /* on the first tech: no more upgrades */
  for (int i = 0; i < 130; i++) {
    f.sched.advance (1000);
    f.media ();
  }
  fail_unless_equals_int (f.host.upgrades, 1);
}
GST_END_TEST;

GST_START_TEST (test_a_failed_upgrade_is_tried_again_after_the_interval)
{
  Fixture f;
  order_whep_hls (f);
  fall_back_to_hls (f);
  f.media ();
  f.retry.media_started ();
  f.host.allowance = 200 * GST_SECOND;   /* no inactivity in this test */
  f.sched.advance (60000);
  fail_unless_equals_int (f.host.upgrades, 1);
  f.retry.upgrade_failed (failure (K::CONNECTION_CLOSED));
  fail_unless_equals_int (f.host.upgrade_stops, 1);
  fail_unless_equals_int (f.host.events["Red5Pro.Playback.Upgrade.Failed"], 1);
  fail_unless (f.retry.tech () == Tech::HLS);
  fail_unless (f.retry.state () == State::SUBSCRIBED);
  f.sched.advance (59000);
  fail_unless_equals_int (f.host.upgrades, 1);
  f.sched.advance (1000);
  fail_unless_equals_int (f.host.upgrades, 2);
  /* an upgrade that brings nothing by the connect timeout failed too */
  f.sched.advance (20000);
  fail_unless_equals_int (f.host.upgrade_stops, 2);
  fail_unless_equals_int (f.host.events["Red5Pro.Playback.Upgrade.Failed"], 2);
}
GST_END_TEST;

/* Issue 20, downwards: media that stops on WHEP goes to HLS at once (no WHEP retry without
 * media first), and WHEP is tried beside HLS at the retry pace with the backoff, not every
 * upgrade interval; a loud failure after media (unpublish) is a plain retry of WHEP. */
GST_START_TEST (test_stopped_media_falls_to_hls_at_once)
{
  Fixture f;
  order_whep_hls (f);
  f.policy.backoff_max_ms = 4000;
  f.retry.start (f.policy);
  f.media ();
  f.retry.media_started ();
  f.retry.attempt_failed (failure (K::UNPUBLISHED));
  fail_unless_equals_int (f.host.last_delay, 1000);
  f.sched.advance (1000);
  fail_unless (f.host.techs.back () == Tech::WHEP);
  f.media ();
  f.retry.media_started ();
  f.sched.advance (2000);   /* inactivity */
  fail_unless_equals_int (f.host.events["Red5Pro.Retry.Scheduled"], 2);
  fail_unless_equals_int (f.host.last_delay, 0);
  fail_unless_equals_string (f.host.changes_of_tech.back ().c_str (), "whep>hls:fallback");
  f.sched.advance (0);
  fail_unless (f.host.techs.back () == Tech::HLS);
  fail_unless_equals_int (f.host.starts, 3);
  /* HLS plays; WHEP beside it after the retry timeout, then the backoff (jitter: half) */
  f.host.allowance = 200 * GST_SECOND;
  f.media ();
  f.retry.media_started ();
  f.sched.advance (999);
  fail_unless_equals_int (f.host.upgrades, 0);
  f.sched.advance (1);
  fail_unless_equals_int (f.host.upgrades, 1);
  fail_unless (f.host.upgrade_tech == Tech::WHEP);
  f.retry.upgrade_failed (failure (K::CONNECTION_CLOSED));
  GstClockTime next = f.sched.deadline (Scheduler::UPGRADE) - f.sched.now ();
  fail_unless (next >= 1000 * GST_MSECOND && next <= 2000 * GST_MSECOND);
  f.sched.advance (2000);
  fail_unless_equals_int (f.host.upgrades, 2);
  f.retry.upgrade_failed (failure (K::CONNECTION_CLOSED));
  next = f.sched.deadline (Scheduler::UPGRADE) - f.sched.now ();
  fail_unless (next >= 2000 * GST_MSECOND && next <= 4000 * GST_MSECOND);
  /* WHEP takes over: back to the interval, should it fall again by failures */
  f.sched.advance (4000);
  f.retry.upgrade_ready ();
  fail_unless_equals_int (f.host.promotions, 1);
  fail_unless (f.retry.tech () == Tech::WHEP);
  /* on HLS itself media that stops is a plain retry */
  Fixture g;
  g.policy.playback_order = { Tech::HLS, Tech::WHEP };
  g.retry.start (g.policy);
  g.media ();
  g.retry.media_started ();
  g.sched.advance (2000);
  fail_unless_equals_int (g.host.last_delay, 1000);
  fail_unless_equals_int (g.host.changes_of_tech.size (), 0);
}
GST_END_TEST;

/* Issue 20: a standby once media flows; it takes over from a loud failure (no retry), or
 * (hot) from a primary silent for standby-switch-after while it has media; a new one after
 * the retry delay; one lost is replaced after the delay, with the backoff; a final failure
 * is no failover. */
GST_START_TEST (test_a_hot_standby_takes_over_loud_and_silent_failures)
{
  Fixture f;
  f.policy.standby = Standby::HOT;
  f.policy.standby_switch_after_ms = 200;
  f.retry.start (f.policy);
  fail_unless_equals_int (f.host.standbys, 0);
  f.media ();
  f.retry.media_started ();
  f.sched.advance (0);
  fail_unless_equals_int (f.host.standbys, 1);
  fail_unless (f.retry.standby ());
  /* not ready yet: a failure is the normal retry, the standby goes with it */
  f.retry.standby_ready ();
  fail_unless (f.retry.standby_is_ready ());
  /* loud */
  f.retry.attempt_failed (failure (K::CONNECTION_CLOSED));
  fail_unless_equals_int (f.host.standby_promotions, 1);
  fail_unless_equals_string (f.host.promotion_reason.c_str (), "connection-closed");
  fail_unless (f.retry.state () == State::SUBSCRIBED);
  fail_unless_equals_int (f.host.events["Red5Pro.Retry.Scheduled"], 0);
  fail_unless_equals_int (f.host.stops, 0);
  /* the next standby after the retry timeout */
  f.media ();
  f.sched.advance (999);
  fail_unless_equals_int (f.host.standbys, 1);
  f.media ();
  f.sched.advance (1);
  fail_unless_equals_int (f.host.standbys, 2);
  f.retry.standby_ready ();
  /* silent: the primary's last media 200 ms ago, the standby's just now */
  f.media ();
  f.sched.advance (150);
  f.host.standby_media = f.sched.now ();
  f.sched.advance (50);
  fail_unless_equals_int (f.host.standby_promotions, 2);
  fail_unless_equals_string (f.host.promotion_reason.c_str (), "silent");
  /* the third standby cannot be made: lost, then again after the delay */
  f.media ();
  f.sched.advance (1000);
  fail_unless_equals_int (f.host.standbys, 3);
  f.retry.upgrade_failed (failure (K::NOT_FOUND));
  fail_unless_equals_int (f.host.events["Red5Pro.Standby.Lost"], 1);
  fail_unless (!f.retry.standby ());
  fail_unless (f.retry.state () == State::SUBSCRIBED);
  GstClockTime next = f.sched.deadline (Scheduler::UPGRADE) - f.sched.now ();
  fail_unless (next >= 1000 * GST_MSECOND, "next standby in %" GST_TIME_FORMAT,
      GST_TIME_ARGS (next));
  /* both silent: no early promotion to a standby without media; at the inactivity
   * timeout the failure goes to the standby like any other */
  f.media ();
  f.sched.advance (guint (next / GST_MSECOND));
  fail_unless_equals_int (f.host.standbys, 4);
  f.retry.standby_ready ();
  f.media ();
  f.host.standby_media = f.sched.now () - 500 * GST_MSECOND;
  f.sched.advance (1999);
  fail_unless_equals_int (f.host.standby_promotions, 2);
  f.sched.advance (1);
  fail_unless_equals_int (f.host.standby_promotions, 3);
  fail_unless_equals_string (f.host.promotion_reason.c_str (), "inactivity");
  fail_unless_equals_int (f.host.events["Red5Pro.Retry.Scheduled"], 0);
}
GST_END_TEST;

/* An unpublish the standby hears too is the stream's end, not a failover; one only the
 * current edge says is its own trouble: the standby takes over after the grace. */
GST_START_TEST (test_an_unpublish_both_edges_say_is_no_failover)
{
  Fixture f;
  f.subscribed_with_a_ready_hot_standby ();
  f.retry.attempt_failed (failure (K::UNPUBLISHED));
  fail_unless_equals_int (f.host.standby_promotions, 0);
  f.sched.advance (100);
  f.retry.upgrade_failed (failure (K::UNPUBLISHED));
  fail_unless_equals_int (f.host.standby_promotions, 0);
  fail_unless (f.retry.state () == State::RETRYING);
  fail_unless_equals_int (f.host.events["Red5Pro.Retry.Scheduled"], 1);
  fail_unless_equals_int (f.host.events["Red5Pro.Standby.Lost"], 0);
  f.sched.advance (1000);
  fail_unless_equals_int (f.host.starts, 2);
  /* only the current edge says so: after the grace, the standby */
  f.media ();
  f.retry.media_started ();
  f.sched.advance (1000);
  fail_unless (f.retry.standby ());
  f.retry.standby_ready ();
  f.retry.attempt_failed (failure (K::UNPUBLISHED));
  f.sched.advance (299);
  fail_unless_equals_int (f.host.standby_promotions, 0);
  f.sched.advance (1);
  fail_unless_equals_int (f.host.standby_promotions, 1);
  fail_unless_equals_string (f.host.promotion_reason.c_str (), "unpublished");
  fail_unless (f.retry.state () == State::SUBSCRIBED);
}
GST_END_TEST;

GST_START_TEST (test_a_final_failure_is_no_failover_and_none_is_no_standby)
{
  Fixture f;
  f.subscribed_with_a_ready_hot_standby ();
  f.retry.attempt_failed (failure (K::UNAUTHORIZED));
  fail_unless_equals_int (f.host.standby_promotions, 0);
  fail_unless (f.retry.state () == State::GAVE_UP);
  fail_unless (!f.retry.standby ());
  Fixture g;
  g.retry.start (g.policy);
  g.media ();
  g.retry.media_started ();
  g.sched.advance (10000);
  fail_unless_equals_int (g.host.standbys, 0);
}
GST_END_TEST;

GST_START_TEST (test_a_failure_of_the_current_attempt_ends_the_upgrade)
{
  Fixture f;
  order_whep_hls (f);
  fall_back_to_hls (f);
  f.media ();
  f.retry.media_started ();
  f.host.allowance = 200 * GST_SECOND;
  f.sched.advance (60000);
  fail_unless (f.host.upgrading);
  f.retry.attempt_failed (failure (K::CONNECTION_CLOSED));
  fail_unless (!f.host.upgrading);
  fail_unless (!f.retry.upgrading ());
  fail_unless (f.retry.state () == State::RETRYING);
  /* a late word from the stopped upgrade changes nothing */
  f.retry.upgrade_ready ();
  fail_unless_equals_int (f.host.promotions, 0);
  f.sched.advance (f.host.last_delay);
  fail_unless (f.host.techs.back () == Tech::HLS);
}
GST_END_TEST;

GST_START_TEST (test_the_inactivity_allowance_extends_the_deadline)
{
  Fixture f;
  f.host.allowance = 3 * GST_SECOND;
  f.retry.start (f.policy);
  f.media ();
  f.retry.media_started ();
  f.sched.advance (4900);
  fail_unless (f.retry.state () == State::SUBSCRIBED);
  f.sched.advance (200);
  fail_unless (f.retry.state () == State::RETRYING);
}
GST_END_TEST;


static Suite *
retry_suite (void)
{
  Suite *s = suite_create ("red5pro-retry");
  TCase *tc = tcase_create ("retry");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_start_connects_and_media_subscribes);
  tcase_add_test (tc, test_a_failure_retries_once_after_the_retry_timeout);
  tcase_add_test (tc, test_no_media_within_the_connect_timeout_is_a_failure);
  tcase_add_test (tc, test_inactivity_fails_exactly_at_the_timeout_after_the_last_media);
  tcase_add_test (tc, test_paused_media_is_no_inactivity_until_resumed);
  tcase_add_test (tc, test_max_retries_without_media_gives_up_with_eos_and_error);
  tcase_add_test (tc, test_media_starts_the_count_of_retries_over);
  tcase_add_test (tc, test_failures_no_retry_fixes_give_up_at_once);
  tcase_add_test (tc, test_retry_timeout_zero_makes_every_failure_an_error);
  tcase_add_test (tc, test_stop_cancels_the_pending_retry);
  tcase_add_test (tc, test_backoff_doubles_with_jitter_up_to_the_cap_without_overflow);
  tcase_add_test (tc, test_consecutive_failures_back_off_by_default);
  tcase_add_test (tc, test_a_tech_without_media_n_times_falls_back_to_the_next);
  tcase_add_test (tc, test_a_failure_after_media_does_not_count_towards_fallback);
  tcase_add_test (tc, test_one_tech_never_changes_and_never_upgrades);
  tcase_add_test (tc, test_the_last_tech_falls_back_to_the_first);
  tcase_add_test (tc, test_on_a_lower_tech_the_first_is_tried_beside_it_and_takes_over);
  tcase_add_test (tc, test_a_failed_upgrade_is_tried_again_after_the_interval);
  tcase_add_test (tc, test_a_failure_of_the_current_attempt_ends_the_upgrade);
  tcase_add_test (tc, test_stopped_media_falls_to_hls_at_once);
  tcase_add_test (tc, test_a_hot_standby_takes_over_loud_and_silent_failures);
  tcase_add_test (tc, test_a_final_failure_is_no_failover_and_none_is_no_standby);
  tcase_add_test (tc, test_an_unpublish_both_edges_say_is_no_failover);
  tcase_add_test (tc, test_the_inactivity_allowance_extends_the_deadline);
  return s;
}

GST_CHECK_MAIN (retry);
