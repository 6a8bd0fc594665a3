/* End-to-end: the playback order (issue 12) against the test cluster's HLS. WebRTC that
 * cannot get through (media blocked at the edge, a TURN server that never answers) falls
 * back to HLS, frames (the cluster's counter, read back) keep coming as one stream; when
 * WebRTC gets through again it takes over beside HLS without a gap in the timeline; a
 * Matroska recording across both switches is one valid file. */
#include <gst/check/gstcheck.h>

#include "ports.h"
#include "e2e-checks.h"
#include "file-check.h"
#include "test-cluster.h"
#include "test-subscriber.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

/* the cluster publishes at 30 fps */
static constexpr GstClockTime FRAME_INTERVAL = GST_SECOND / 30;

static std::vector<std::string>
hls_cluster ()
{
  return { "--edges", "1", "--hls" };
}

static std::string
edge_props (TestCluster &c)
{
  return "host=" + c.edges ()[0].address + " port=" + std::to_string (c.port ()) +
      " stream-name=stream1 ";
}

static std::string
tech_of (TestSubscriber &sub)
{
  GstStructure *stats = nullptr;
  g_object_get (sub.src (), "stats", &stats, NULL);
  std::string tech = stats && gst_structure_get_string (stats, "tech")
      ? gst_structure_get_string (stats, "tech") : "";
  if (stats)
    gst_structure_free (stats);
  return tech;
}

/* Red5Pro.Playback.Changed events so far, as "from>to:reason" */
static guint
changes_to (TestSubscriber &sub, const char *to, const char *reason)
{
  GstStructure *last = sub.last_event ("Red5Pro.Playback.Changed");
  guint n = 0;
  if (last && g_strcmp0 (gst_structure_get_string (last, "to"), to) == 0 &&
      g_strcmp0 (gst_structure_get_string (last, "reason"), reason) == 0)
    n = sub.count ("Red5Pro.Playback.Changed");
  if (last)
    gst_structure_free (last);
  return n;
}

/* The largest step between two frames' running times from frame index `from` on. */
static GstClockTime
largest_step (const std::vector<TestSubscriber::Frame> &frames, size_t from,
    size_t *at = nullptr)
{
  GstClockTime largest = 0;
  for (size_t i = MAX (from, size_t (1)); i < frames.size (); i++) {
    GstClockTime a = frames[i - 1].running_time, b = frames[i].running_time;
    if (GST_CLOCK_TIME_IS_VALID (a) && GST_CLOCK_TIME_IS_VALID (b) && b > a && b - a > largest) {
      largest = b - a;
      if (at)
        *at = i;
    }
  }
  return largest;
}

GST_START_TEST (test_blocked_webrtc_falls_back_to_hls_and_climbs_back_without_a_gap)
{
  TestCluster c (hls_cluster ());
  c.control ("POST", "/edge/block-media?edge=edge1");
  TestSubscriber sub (edge_props (c) + "playback-order=<whep,hls> failures-before-fallback=1 "
      "request-timeout=3000 upgrade-interval=4000 retry-timeout=500");
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);

  /* WebRTC never connects: HLS, with the counter read off the frames */
  fail_unless (sub.wait ([&] { return changes_to (sub, "hls", "fallback") > 0; }, 30),
      "no fallback to HLS: %s", tech_of (sub).c_str ());
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 60; }, 30),
      "%" G_GUINT64_FORMAT " frames over HLS", sub.counted_frames ());
  fail_unless (tech_of (sub) == "hls", "tech %s", tech_of (sub).c_str ());
  /* upgrades are tried while WebRTC is still blocked, and fail without harm */
  fail_unless (sub.wait_event ("Red5Pro.Playback.Upgrade.Failed", 30));
  guint64 before_unblock = sub.video_frames ();

  c.control ("POST", "/edge/unblock-media?edge=edge1");
  fail_unless (sub.wait ([&] { return changes_to (sub, "whep", "upgrade") > 0; }, 40),
      "no climb back to WebRTC");
  guint64 at_upgrade = sub.video_frames ();
  fail_unless (sub.wait ([&] { return sub.video_frames () >= at_upgrade + 60; }, 20));
  fail_unless (tech_of (sub) == "whep", "tech %s", tech_of (sub).c_str ());
  fail_unless (!sub.has_error ());

  /* one stream downstream, time only forward, the counter only forward */
  fail_unless_equals_int (sub.stream_starts (), 1);
  fail_unless (!sub.running_time_went_back ());
  std::vector<TestSubscriber::Frame> frames = sub.frames ();
  fail_unless (counters_go_forward (frames, 0));
  /* from HLS's first frame through the switch up and on: no step longer than a frame
   * (a millisecond for rounding) */
  size_t at = 0;
  GstClockTime step = largest_step (frames, 1, &at);
  GST_INFO ("largest step %" GST_TIME_FORMAT " at frame %zu of %zu (unblocked at %"
      G_GUINT64_FORMAT ", upgraded at %" G_GUINT64_FORMAT ")", GST_TIME_ARGS (step), at,
      frames.size (), before_unblock, at_upgrade);
  for (size_t i = at > 5 ? at - 5 : 0; step > FRAME_INTERVAL + GST_MSECOND &&
      i < frames.size () && i < at + 5; i++)
    GST_WARNING ("frame %zu: counter %u at %" GST_TIME_FORMAT, i, frames[i].counter,
        GST_TIME_ARGS (frames[i].running_time));
  fail_unless (step <= FRAME_INTERVAL + GST_MSECOND, "a step of %" GST_TIME_FORMAT
      " at frame %zu (upgrade at about %" G_GUINT64_FORMAT ")", GST_TIME_ARGS (step), at,
      at_upgrade);
  /* WebRTC frames carry the counter too, past HLS's */
  fail_unless (frames.back ().counter > 0);
}
GST_END_TEST;

/* Issue 20, downwards: WebRTC media that stops (blocked at the edge, defaults otherwise) is
 * covered by HLS at once, not after failures-before-fallback WebRTC attempts that cannot
 * bring media (21 s, 553 frames before). The hole, counted from the counters, is at most
 * the inactivity timeout plus one HLS join (measured here first, on this machine) and a
 * second; WebRTC is retried beside HLS at the retry pace and takes over without a gap once
 * media flows again. */
GST_START_TEST (test_stopped_webrtc_media_is_covered_by_hls_at_once)
{
  TestCluster c (hls_cluster ());
  gint64 hls_join_us;
  {
    TestSubscriber hls (edge_props (c) + "playback-order=<hls>");
    fail_if (hls.play () == GST_STATE_CHANGE_FAILURE);
    fail_unless (hls.wait ([&] { return hls.counted_frames () >= 1; }, 30));
    hls_join_us = hls.first_frame_us ();
  }
  TestSubscriber sub (edge_props (c) + "playback-order=<whep,hls>");
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 120; }, 30));
  fail_unless (tech_of (sub) == "whep", "tech %s", tech_of (sub).c_str ());
  size_t blocked_at = sub.frames ().size ();
  c.control ("POST", "/edge/block-media?edge=edge1");
  fail_unless (sub.wait ([&] { return changes_to (sub, "hls", "fallback") > 0; }, 30),
      "no fallback to HLS");
  guint64 at_fallback = sub.counted_frames ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= at_fallback + 60; }, 40),
      "no HLS frames after the fallback");

  std::vector<TestSubscriber::Frame> frames = sub.frames ();
  size_t at = 0;
  guint32 lost = 0, repeated = 0;
  fail_unless (first_break (frames, blocked_at > 0 ? blocked_at - 1 : 0, &at, &lost, &repeated),
      "no break in the counter at the fallback");
  double hole_s = double (frames[at].arrived_us - frames[at - 1].arrived_us) / G_USEC_PER_SEC;
  double allowed_s = 2.0 /* inactivity-timeout */ + double (hls_join_us) / G_USEC_PER_SEC + 1.0;
  GST_INFO ("fallback: %u frames lost, %u repeated (counter %u -> %u), %.2f s between their "
      "arrivals; HLS join %.2f s; allowed %.0f frames", lost, repeated, frames[at - 1].counter,
      frames[at].counter, hole_s, double (hls_join_us) / G_USEC_PER_SEC, allowed_s * 30);
  fail_unless (lost <= guint32 (allowed_s * 30), "%u frames lost, allowed %.0f (HLS join %.2f s)",
      lost, allowed_s * 30, double (hls_join_us) / G_USEC_PER_SEC);
  /* one fallback, no WebRTC attempt in between that had to fail first */
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 1);

  /* back up at the retry pace (not the 60 s upgrade interval), without a gap */
  size_t before_unblock = sub.frames ().size ();
  c.control ("POST", "/edge/unblock-media?edge=edge1");
  fail_unless (sub.wait ([&] { return changes_to (sub, "whep", "upgrade") > 0; }, 50),
      "no climb back to WebRTC");
  guint64 at_upgrade = sub.video_frames ();
  fail_unless (sub.wait ([&] { return sub.video_frames () >= at_upgrade + 30; }, 20));
  frames = sub.frames ();
  /* from HLS's first frame on, through the switch up */
  fail_unless (counters_go_forward (frames, at));
  /* the switch up, from a second before it on: no step longer than a frame (HLS's own
   * timeline, settling after its start, is not what this checks) */
  size_t hls_step_at = 0;
  GstClockTime hls_step = largest_step (frames, at, &hls_step_at);
  GST_INFO ("largest step from HLS's first frame (%zu) on: %" GST_TIME_FORMAT " at frame %zu; "
      "upgrade at about %" G_GUINT64_FORMAT, at, GST_TIME_ARGS (hls_step), hls_step_at, at_upgrade);
  size_t from = MAX (size_t (at_upgrade), size_t (30)) - 30, step_at = 0;
  GstClockTime step = largest_step (frames, MAX (from, before_unblock), &step_at);
  fail_unless (step <= FRAME_INTERVAL + GST_MSECOND, "a step of %" GST_TIME_FORMAT
      " at frame %zu (upgrade at about %" G_GUINT64_FORMAT ")", GST_TIME_ARGS (step), step_at,
      at_upgrade);
  fail_unless_equals_int (sub.stream_starts (), 1);
  fail_unless (!sub.running_time_went_back ());
  fail_unless (!sub.has_error ());
}
GST_END_TEST;

GST_START_TEST (test_a_matroska_recording_across_both_switches_is_one_valid_file)
{
  TestCluster c (hls_cluster ());
  char *dir = g_dir_make_tmp ("red5pro-hls-rec-XXXXXX", nullptr);
  std::string path = std::string (dir) + "/switches.mkv";
  TestSubscriber sub (TestSubscriber::Launch { "red5prosrc name=src ice-addresses=127.0.0.1 " +
      edge_props (c) + "decode=true playback-order=<whep,hls> failures-before-fallback=1 "
      "request-timeout=3000 upgrade-interval=4000 retry-timeout=500 inactivity-timeout=1500 "
      "matroskamux name=mux ! filesink location=" + path + " "
      "src.video ! queue ! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast "
      "key-int-max=30 ! h264parse ! queue ! mux.video_%u "
      "src.audio ! queue ! audioconvert ! audioresample ! opusenc ! queue ! mux.audio_%u" });
  gint64 started = g_get_monotonic_time ();
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait_event ("Subscribe.Start", 30));
  g_usleep (2 * G_USEC_PER_SEC);

  /* down: WebRTC's media stops at the edge, the retries cannot get through */
  c.control ("POST", "/edge/block-media?edge=edge1");
  fail_unless (sub.wait ([&] { return changes_to (sub, "hls", "fallback") > 0; }, 40),
      "no fallback to HLS");
  fail_unless (sub.wait ([&] { return sub.count ("Subscribe.Start") >= 2; }, 30),
      "HLS did not start");
  g_usleep (3 * G_USEC_PER_SEC);
  /* up again */
  c.control ("POST", "/edge/unblock-media?edge=edge1");
  fail_unless (sub.wait ([&] { return changes_to (sub, "whep", "upgrade") > 0; }, 40),
      "no climb back to WebRTC");
  g_usleep (3 * G_USEC_PER_SEC);
  gst_element_send_event (sub.pipeline (), gst_event_new_eos ());
  fail_unless (sub.wait ([&] { return sub.got_eos (); }, 20, false), "the recording did not finish");
  double wall_s = double (g_get_monotonic_time () - started) / G_USEC_PER_SEC;
  fail_unless (!sub.has_error (), "%s", sub.error_text ().c_str ());
  sub.stop ();

  FileCheck fc = check_file (path, "matroskademux name=d d.video_0 ! h264parse ! avdec_h264");
  GST_INFO ("%u frames (%u counted), duration %" GST_TIME_FORMAT ", wall %.1f s, %zu gaps",
      fc.frames, fc.counted, GST_TIME_ARGS (fc.duration), wall_s, fc.gaps.size ());
  fail_unless (fc.error.empty (), "the file does not play: %s", fc.error.c_str ());
  fail_unless (fc.eos, "the file was not readable to its end");
  fail_unless (fc.pts_increasing, "timestamps go backwards");
  /* HLS starts behind live: when it covers for stopped WebRTC media it may show again up to
   * its delay of what WebRTC showed last (one step back, a few seconds at most); the switch
   * up never repeats */
  fail_unless (fc.repeats.size () <= 1, "%zu steps back in the counter", fc.repeats.size ());
  for (const auto &r : fc.repeats)
    fail_unless (r.first - r.second < 150, "counter %u after %u", r.second, r.first);
  fail_unless (fc.counted > fc.frames * 9 / 10, "%u of %u frames readable", fc.counted, fc.frames);
  /* WebRTC, the fallback's gap, HLS, then WebRTC again */
  fail_unless (fc.gaps.size () >= 1, "%zu gaps in the counter", fc.gaps.size ());
  fail_unless (fc.frames_after_last_gap >= 30);
  fail_unless (double (fc.duration) / GST_SECOND > 0.5 * wall_s - 2.0,
      "duration %.1f s for %.1f s of wall time", double (fc.duration) / GST_SECOND, wall_s);
  g_unlink (path.c_str ());
  g_rmdir (dir);
  g_free (dir);
}
GST_END_TEST;

GST_START_TEST (test_relay_only_through_a_turn_server_that_never_answers_falls_back_to_hls)
{
  TestCluster c (hls_cluster ());
  std::string turn = "turn://user:pass@127.0.0.1:" + std::to_string (ports::dead_port (G_SOCKET_TYPE_DATAGRAM));
  TestSubscriber sub (edge_props (c) + "playback-order=<whep,hls> failures-before-fallback=1 "
      "ice-transport-policy=relay turn-server=" + turn + " request-timeout=3000 "
      "upgrade-interval=3000 retry-timeout=500");
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return changes_to (sub, "hls", "fallback") > 0; }, 40),
      "no fallback to HLS");
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30));
  /* the climb back keeps failing, for the same reason, without touching the pads */
  fail_unless (sub.wait ([&] { return sub.count ("Red5Pro.Playback.Upgrade.Failed") >= 1; }, 40));
  guint64 frames = sub.counted_frames ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= frames + 30; }, 20));
  fail_unless (tech_of (sub) == "hls", "tech %s", tech_of (sub).c_str ());
  fail_unless_equals_int (sub.stream_starts (), 1);
  fail_unless (!sub.has_error ());
}
GST_END_TEST;

GST_START_TEST (test_hls_alone_plays_from_the_edge_and_through_the_stream_manager)
{
  TestCluster c (hls_cluster ());
  {
    TestSubscriber sub (edge_props (c) + "playback-order=<hls>");
    check_plays (sub);
    fail_unless (tech_of (sub) == "hls", "tech %s", tech_of (sub).c_str ());
    GstStructure *start = sub.last_event ("Subscribe.Start");
    fail_unless (start != nullptr);
    fail_unless_equals_string (gst_structure_get_string (start, "tech"), "hls");
    gst_structure_free (start);
  }
  {
    /* the Stream Manager 2.0 names the edge */
    TestSubscriber sub ("host=127.0.0.1 port=" + std::to_string (c.port ()) +
        " stream-manager=sm2 stream-name=stream1 playback-order=<hls>");
    check_plays (sub);
    fail_unless (sub.count ("Red5Pro.Edge.Resolved") >= 1);
  }
  {
    /* the Stream Manager 1.x file API, for clients that only reach the SM */
    TestSubscriber sub ("host=127.0.0.1 port=" + std::to_string (c.port ()) +
        " stream-manager=sm1 use-proxy=true stream-name=stream1 playback-order=<hls>");
    check_plays (sub);
    std::vector<TestCluster::Request> reqs = c.requests ("sm");
    bool file_api = false;
    for (const auto &r : reqs)
      file_api |= r.path.find ("/streammanager/api/4.0/file/live/stream1.m3u8") == 0;
    fail_unless (file_api, "the SM file API was not asked");
  }
}
GST_END_TEST;

GST_START_TEST (test_hls_unpublish_retries_and_republish_plays_again)
{
  TestCluster c (hls_cluster ());
  TestSubscriber sub (edge_props (c) + "playback-order=<hls> retry-timeout=500");
  check_plays (sub);
  c.control ("POST", "/unpublish?stream=stream1");
  fail_unless (sub.wait_event ("Red5Pro.Retry.Scheduled", 30));
  fail_unless (!sub.has_error ());
  guint64 frames = sub.counted_frames ();
  c.control ("POST", "/publish?stream=stream1");
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= frames + 30; }, 40),
      "no frames after the republish");
  fail_unless_equals_int (sub.stream_starts (), 1);
  fail_unless (!sub.running_time_went_back ());
}
GST_END_TEST;

static Suite *
playback_suite (void)
{
  Suite *s = suite_create ("red5prosrc-playback");
  TCase *tc = tcase_create ("e2e");
  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_hls_alone_plays_from_the_edge_and_through_the_stream_manager);
  tcase_add_test (tc, test_blocked_webrtc_falls_back_to_hls_and_climbs_back_without_a_gap);
  tcase_add_test (tc, test_stopped_webrtc_media_is_covered_by_hls_at_once);
  tcase_add_test (tc, test_relay_only_through_a_turn_server_that_never_answers_falls_back_to_hls);
  tcase_add_test (tc, test_a_matroska_recording_across_both_switches_is_one_valid_file);
  tcase_add_test (tc, test_hls_unpublish_retries_and_republish_plays_again);
  return s;
}

GST_CHECK_MAIN (playback);
