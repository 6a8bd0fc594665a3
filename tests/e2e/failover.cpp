/* End-to-end failover: the edge dies loudly or silently, the stream is unpublished and
 * republished, the Stream Manager is down at start, retries run out. red5prosrc keeps its
 * pads and resumes, over WHEP and over WebSocket signaling. */
#include <gst/check/gstcheck.h>

#include "test-cluster.h"
#include "test-subscriber.h"

static std::string
props (TestCluster &c, const char *signaling, const char *extra = "")
{
  return "host=127.0.0.1 port=" + std::to_string (c.port ()) +
      " stream-manager=sm2 stream-name=stream1 signaling=" + signaling + " " + extra;
}

static GstPad *
pad (TestSubscriber &sub, const char *name)
{
  GstPad *p = gst_element_get_static_pad (sub.src (), name);
  fail_unless (p != nullptr, "no %s pad", name);
  gst_object_unref (p);   /* the element keeps it; only its identity matters here */
  return p;
}

/* Plays until 30 frames with a readable counter, kills the serving edge the given way,
 * and checks that frames resume on the same pads from the other edge. */
static void
check_edge_kill_resumes (const char *signaling, const char *mode)
{
  TestCluster c ({ "--edges", "2" });
  TestSubscriber sub (props (c, signaling, "retry-timeout=500"));
  sub.play ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30));
  GstPad *video = pad (sub, "video"), *audio = pad (sub, "audio");
  guint32 before = sub.last_counter ();
  guint64 frames = sub.video_frames ();

  c.control ("POST", std::string ("/edge/kill?edge=edge1&mode=") + mode);
  fail_unless (sub.wait_event ("Red5Pro.Retry.Scheduled", 30), "no retry after a %s kill", mode);
  fail_unless (sub.wait ([&] { return sub.count ("Red5Pro.Edge.Resolved") >= 2; }, 30));
  fail_unless (sub.wait ([&] { return sub.video_frames () >= frames + 60; }, 30),
      "frames did not resume after a %s kill", mode);
  fail_unless (sub.last_counter () > before + 10, "counter %u -> %u", before,
      sub.last_counter ());

  GstStructure *resolved = sub.last_event ("Red5Pro.Edge.Resolved");
  fail_unless_equals_string (gst_structure_get_string (resolved, "edge"),
      c.edges ()[1].address.c_str ());
  gst_structure_free (resolved);
  fail_unless (pad (sub, "video") == video && pad (sub, "audio") == audio,
      "the pads changed across the failover");
  fail_unless (!sub.has_error ());
  GstStructure *stats = sub.stats ();
  guint connections = 0;
  gst_structure_get_uint (stats, "connections", &connections);
  fail_unless_equals_int (connections, 2);
  fail_unless_equals_string (gst_structure_get_string (stats, "state"), "subscribed");
  gst_structure_free (stats);
}

GST_START_TEST (test_whep_loud_edge_kill_resumes_from_another_edge)
{
  check_edge_kill_resumes ("whep", "loud");
}
GST_END_TEST;

GST_START_TEST (test_whep_silent_edge_kill_is_detected_by_inactivity_and_resumes)
{
  check_edge_kill_resumes ("whep", "silent");
}
GST_END_TEST;

GST_START_TEST (test_websocket_loud_edge_kill_resumes_from_another_edge)
{
  check_edge_kill_resumes ("websocket", "loud");
}
GST_END_TEST;

GST_START_TEST (test_websocket_silent_edge_kill_is_detected_by_inactivity_and_resumes)
{
  check_edge_kill_resumes ("websocket", "silent");
}
GST_END_TEST;

static void
check_unpublish_republish (const char *signaling)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (props (c, signaling));
  sub.play ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30));
  GstPad *video = pad (sub, "video");
  c.control ("POST", "/unpublish?stream=stream1");
  if (!sub.wait_event ("Subscribe.Play.Unpublish", 20)) {
    std::string seen;
    for (const auto &t : sub.event_types ())
      seen += t + " ";
    GstStructure *retry = sub.last_event ("Red5Pro.Retry.Scheduled");
    gchar *r = retry ? gst_structure_to_string (retry) : g_strdup ("no retry");
    fail ("no Subscribe.Play.Unpublish; events: %s; last retry: %s", seen.c_str (), r);
  }
  guint64 frames = sub.video_frames ();
  /* gone long enough for the element to have looked for it again, twice */
  fail_unless (sub.wait ([&] { return sub.count ("Red5Pro.Retry.Scheduled") >= 2; }, 20, false));
  c.control ("POST", "/publish?stream=stream1");
  fail_unless (sub.wait ([&] { return sub.video_frames () >= frames + 30; }, 30),
      "no frames after republish");
  fail_unless (pad (sub, "video") == video);
  fail_unless (!sub.has_error ());
}

/* The stream comes back at another size: downstream sees one stream, whose caps change
 * (a caps event), with no second stream-start, no flush, no EOS, and running time that
 * moves on across the gap instead of starting over. */
GST_START_TEST (test_republish_at_a_new_size_is_a_caps_change_in_one_stream)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (props (c, "whep"));
  sub.play ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30));
  fail_unless_equals_int (sub.video_width (), 320);
  GstClockTime before = sub.last_running_time ();
  gint64 before_wall = g_get_monotonic_time ();
  guint32 counter = sub.last_counter ();
  c.control ("POST", "/unpublish?stream=stream1");
  fail_unless (sub.wait_event ("Subscribe.Play.Unpublish", 20));
  fail_unless (sub.wait ([&] { return sub.count ("Red5Pro.Retry.Scheduled") >= 2; }, 20, false));
  GstClockTime gap = GstClockTime (g_get_monotonic_time () - before_wall) * GST_USECOND;
  guint status = 0;
  c.control ("POST", "/publish?stream=stream1&width=640&height=360", &status);
  fail_unless_equals_int (status, 200);
  fail_unless (sub.wait ([&] { return sub.video_width () == 640 && sub.counted_frames () > 0 &&
                             sub.last_counter () > counter; }, 30),
      "no 640-wide frames after the republish (width %d)", sub.video_width ());
  fail_unless_equals_int (sub.stream_starts (), 1);
  fail_unless_equals_int (sub.flushes (), 0);
  fail_unless_equals_int (sub.eos_events (), 0);
  fail_unless (!sub.running_time_went_back ());
  /* the gap (the time without a publisher) is in the running time */
  fail_unless (sub.last_running_time () > before + gap - 500 * GST_MSECOND,
      "running time %" GST_TIME_FORMAT " after %" GST_TIME_FORMAT,
      GST_TIME_ARGS (sub.last_running_time ()), GST_TIME_ARGS (before));
  fail_unless (!sub.has_error ());
}
GST_END_TEST;

GST_START_TEST (test_whep_unpublish_then_republish_resumes_on_the_same_pads)
{
  check_unpublish_republish ("whep");
}
GST_END_TEST;

GST_START_TEST (test_websocket_unpublish_then_republish_resumes_on_the_same_pads)
{
  check_unpublish_republish ("websocket");
}
GST_END_TEST;

GST_START_TEST (test_stream_manager_down_at_start_keeps_retrying_then_plays)
{
  TestCluster c ({ "--edges", "1" });
  c.control ("POST", "/sm/down");
  TestSubscriber sub (props (c, "whep"));
  sub.play ();
  fail_unless (sub.wait ([&] { return sub.count ("Red5Pro.Retry.Scheduled") >= 3; }, 20, false),
      "%u retries", sub.count ("Red5Pro.Retry.Scheduled"));
  fail_unless_equals_int (sub.video_frames (), 0);
  c.control ("POST", "/sm/up");
  fail_unless (sub.wait_video (30, 30));
  fail_unless (!sub.has_error ());
}
GST_END_TEST;

GST_START_TEST (test_max_retries_against_a_dead_cluster_gives_up_with_an_error)
{
  TestCluster c ({ "--edges", "1" });
  c.control ("POST", "/sm/down");
  TestSubscriber sub (props (c, "whep", "max-retries=2 retry-timeout=200"));
  sub.play ();
  fail_unless (sub.wait ([&] { return sub.has_error (); }, 30, false));
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 2);
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.GaveUp"), 1);
}
GST_END_TEST;

static Suite *
failover_suite (void)
{
  Suite *s = suite_create ("red5prosrc-failover");
  TCase *tc = tcase_create ("e2e");
  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_whep_loud_edge_kill_resumes_from_another_edge);
  tcase_add_test (tc, test_whep_silent_edge_kill_is_detected_by_inactivity_and_resumes);
  tcase_add_test (tc, test_websocket_loud_edge_kill_resumes_from_another_edge);
  tcase_add_test (tc, test_websocket_silent_edge_kill_is_detected_by_inactivity_and_resumes);
  tcase_add_test (tc, test_whep_unpublish_then_republish_resumes_on_the_same_pads);
  tcase_add_test (tc, test_republish_at_a_new_size_is_a_caps_change_in_one_stream);
  tcase_add_test (tc, test_websocket_unpublish_then_republish_resumes_on_the_same_pads);
  tcase_add_test (tc, test_stream_manager_down_at_start_keeps_retrying_then_plays);
  tcase_add_test (tc, test_max_retries_against_a_dead_cluster_gives_up_with_an_error);
  return s;
}

GST_CHECK_MAIN (failover);
