/* End-to-end: SDK 15's connection health events (issue 21, item 4), forced from the cluster,
 * and renegotiation-policy deciding whether a retry follows (named after the event, with the
 * SDK's Reconnect.Start / Reconnect.Failure beside our own events). An edge whose media is
 * blocked before the subscriber comes: ICE never gets through (IceTimeout). Blocked once
 * playing: the statistics stop moving (StaleStats). webrtcbin reports no round-trip time
 * and keeps ICE "completed" on a dead path (no consent freshness, 1.22 and 1.26 alike), so
 * ExcessiveRTT and StateRegression cannot be forced here: their checks are unit-tested
 * (unit/protocol). */
#include <gst/check/gstcheck.h>

#include "e2e-checks.h"
#include "test-cluster.h"
#include "test-subscriber.h"

static std::string
props (TestCluster &c, const std::string &extra)
{
  return "host=127.0.0.1 port=" + std::to_string (c.port ()) +
      " stream-manager=sm2 stream-name=stream1 stats-interval=500 " + extra;
}

/* ICE that never completes: IceTimeout (5 s of checking); with renegotiation-policy=timeout a
 * retry named ice-timeout follows at once, Reconnect.Start beside it, and when that retry
 * fails the same way, Reconnect.Failure; once the edge lets media through, it plays. */
GST_START_TEST (test_ice_timeout_retries_with_the_timeout_policy)
{
  TestCluster c ({ "--edges", "1" });
  c.control ("POST", "/edge/block-media?edge=edge1");
  TestSubscriber sub (props (c, "renegotiation-policy=timeout retry-timeout=500"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait_event ("WebRTC.Connection.IceTimeout", 20, false), "no IceTimeout");
  fail_unless (sub.event_boolean ("WebRTC.Connection.IceTimeout", "renegotiate"));
  fail_unless (sub.wait_event ("Red5Pro.Retry.Scheduled", 5, false), "no retry");
  check_equal (sub.event_string ("Red5Pro.Retry.Scheduled", "reason"), "ice-timeout");
  check_equal (sub.event_string ("Reconnect.Start", "reason"), "ice-timeout");
  check_equal (sub.event_string ("Subscribe.Fail", "reason"), "ice-timeout");
  fail_unless (sub.wait_event ("Reconnect.Failure", 20, false), "no Reconnect.Failure");
  check_equal (sub.event_string ("Reconnect.Failure", "reason"), "ice-timeout");
  c.control ("POST", "/edge/unblock-media?edge=edge1");
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30, false),
      "no frames once the edge let media through");
  fail_unless (!sub.has_error ());
  sub.stop ();
}
GST_END_TEST;

/* The default policy (disconnect): IceTimeout is posted, nothing more comes of it; the retry
 * comes from the connect timeout, later, for its own reason. */
GST_START_TEST (test_ice_timeout_is_only_posted_with_the_default_policy)
{
  TestCluster c ({ "--edges", "1" });
  c.control ("POST", "/edge/block-media?edge=edge1");
  TestSubscriber sub (props (c, "request-timeout=8000"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait_event ("WebRTC.Connection.IceTimeout", 20, false), "no IceTimeout");
  fail_if (sub.event_boolean ("WebRTC.Connection.IceTimeout", "renegotiate"));
  /* the connect timeout (twice the request timeout) is what retries */
  fail_unless (sub.wait_event ("Red5Pro.Retry.Scheduled", 30, false), "no retry at all");
  fail_if (sub.event_string ("Red5Pro.Retry.Scheduled", "reason") == "ice-timeout");
  sub.stop ();
}
GST_END_TEST;

/* Playing, then the edge sends nothing more: StaleStats after three samples without a new
 * packet (1.5 s at stats-interval=500, before the 10 s inactivity timeout); with
 * renegotiation-policy=regression a retry named stale-stats follows. */
GST_START_TEST (test_stale_stats_retries_with_the_regression_policy)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (props (c, "renegotiation-policy=regression inactivity-timeout=10000 "
      "retry-timeout=500"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30), "no frames");
  fail_unless_equals_int (sub.count ("WebRTC.Connection.StaleStats"), 0);
  c.control ("POST", "/edge/block-media?edge=edge1");
  fail_unless (sub.wait_event ("WebRTC.Connection.StaleStats", 10, false), "no StaleStats");
  fail_unless (sub.wait_event ("Red5Pro.Retry.Scheduled", 5, false), "no retry");
  check_equal (sub.event_string ("Red5Pro.Retry.Scheduled", "reason"), "stale-stats");
  check_equal (sub.event_string ("Reconnect.Start", "reason"), "stale-stats");
  c.control ("POST", "/edge/unblock-media?edge=edge1");
  guint64 frames = sub.counted_frames ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= frames + 30; }, 30, false),
      "no frames after the retry");
  sub.stop ();
}
GST_END_TEST;

/* The same with the default policy: StaleStats is posted, the retry waits for the inactivity
 * timeout and is named after it. While the application has the media paused (set-muted),
 * no StaleStats at all. */
GST_START_TEST (test_stale_stats_is_only_posted_by_default_and_never_while_muted)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (props (c, "inactivity-timeout=4000 retry-timeout=500"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30), "no frames");
  g_signal_emit_by_name (sub.src (), "set-muted", TRUE, TRUE);
  g_usleep (4 * G_USEC_PER_SEC);
  fail_unless_equals_int (sub.count ("WebRTC.Connection.StaleStats"), 0);
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
  g_signal_emit_by_name (sub.src (), "set-muted", FALSE, FALSE);
  guint64 frames = sub.counted_frames ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= frames + 30; }, 10), "no frames");
  c.control ("POST", "/edge/block-media?edge=edge1");
  fail_unless (sub.wait_event ("WebRTC.Connection.StaleStats", 10, false), "no StaleStats");
  fail_if (sub.event_boolean ("WebRTC.Connection.StaleStats", "renegotiate"));
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
  fail_unless (sub.wait_event ("Red5Pro.Retry.Scheduled", 10, false), "no retry");
  check_equal (sub.event_string ("Red5Pro.Retry.Scheduled", "reason"), "inactivity");
  sub.stop ();
}
GST_END_TEST;

static Suite *
health_suite (void)
{
  Suite *s = suite_create ("red5prosrc-health");
  TCase *tc = tcase_create ("health");
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_ice_timeout_retries_with_the_timeout_policy);
  tcase_add_test (tc, test_ice_timeout_is_only_posted_with_the_default_policy);
  tcase_add_test (tc, test_stale_stats_retries_with_the_regression_policy);
  tcase_add_test (tc, test_stale_stats_is_only_posted_by_default_and_never_while_muted);
  return s;
}

GST_CHECK_MAIN (health);
