/* End-to-end: the standby (issue 20). A second WebRTC subscription on another edge than the
 * current one takes over the pads when the current one's edge dies, loudly or silently;
 * frames are counted off the cluster's counter (decode=true): how many were never shown,
 * whether any was shown twice, whether time went back. Without another edge there is no
 * standby, and the stream plays on regardless. */
#include <gst/check/gstcheck.h>

#include "e2e-checks.h"
#include "file-check.h"
#include "test-cluster.h"
#include "test-subscriber.h"

#include <glib/gstdio.h>

static std::string
sm2_props (TestCluster &c, const char *signaling, const std::string &extra = "")
{
  return "host=127.0.0.1 port=" + std::to_string (c.port ()) +
      " stream-manager=sm2 stream-name=stream1 signaling=" + signaling + " " + extra;
}

/* Kills the edge (mode), waits for the standby to take over and 60 more frames, and counts
 * what the viewer missed and saw twice from the last frame before the kill on. */
static std::vector<TestSubscriber::Frame>
kill_and_count (TestCluster &c, TestSubscriber &sub, const std::string &edge, const char *mode,
    guint32 *missing, guint32 *repeated, size_t *before)
{
  *before = sub.frames ().size ();
  c.control ("POST", "/edge/kill?edge=" + edge + "&mode=" + mode);
  fail_unless (sub.wait_event ("Red5Pro.Standby.Promoted", 20), "no promotion after a %s kill",
      mode);
  guint64 counted = sub.counted_frames ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= counted + 60; }, 20),
      "frames did not go on after the promotion");
  std::vector<TestSubscriber::Frame> frames = sub.frames ();
  counter_breaks (frames, *before > 0 ? *before - 1 : 0, missing, repeated);
  return frames;
}

/* Plays with a hot standby, kills the current edge (mode), and counts what the viewer
 * missed. Returns the frames missing; repeated frames and a step back in time fail. */
static guint32
kill_with_hot_standby (const char *signaling, const char *mode)
{
  TestCluster c ({ "--edges", "2" });
  TestSubscriber sub (sm2_props (c, signaling, "standby=hot retry-timeout=500"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait_event ("Red5Pro.Standby.Ready", 30), "no standby");
  std::string primary = sub.stat_string ("edge");
  std::string standby = sub.event_string ("Red5Pro.Standby.Ready", "edge");
  fail_unless (!primary.empty () && !standby.empty () && primary != standby,
      "standby on '%s', primary on '%s'", standby.c_str (), primary.c_str ());
  check_equal (sub.stat_string ("standby"), "ready");
  check_equal (sub.stat_string ("standby-edge"), standby.c_str ());
  check_equal (sub.event_string ("Red5Pro.Standby.Ready", "mode"), "hot");
  /* its network figures, refreshed every second once stats are read */
  fail_unless (sub.wait ([&] {
    GstStructure *st = sub.stats ();
    bool has = gst_structure_has_field (st, "standby-network");
    gst_structure_free (st);
    return has; }, 10), "no standby-network in stats");
  guint64 counted = sub.counted_frames ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= counted + 60; }, 20));

  size_t before = 0;
  guint32 missing = 0, repeated = 0;
  std::vector<TestSubscriber::Frame> frames = kill_and_count (c, sub, c.edge_name (primary),
      mode, &missing, &repeated, &before);
  for (size_t i = before > 0 ? before - 1 : 0, shown = 0; i + 1 < frames.size () && shown < 3; i++)
    if (frames[i].counter && frames[i + 1].counter != frames[i].counter + 1) {
      GST_INFO ("break: counter %u at %" GST_TIME_FORMAT " (arrived %" G_GINT64_FORMAT " us) -> %u "
          "at %" GST_TIME_FORMAT " (arrived %" G_GINT64_FORMAT " us later)", frames[i].counter,
          GST_TIME_ARGS (frames[i].running_time), frames[i].arrived_us, frames[i + 1].counter,
          GST_TIME_ARGS (frames[i + 1].running_time),
          frames[i + 1].arrived_us - frames[i].arrived_us);
      shown++;
    }
  GST_INFO ("%s kill, %s: %u frames missing, %u repeated; Promoted reason %s gap %u ms "
      "skipped %u", mode, signaling, missing, repeated,
      sub.event_string ("Red5Pro.Standby.Promoted", "reason").c_str (),
      sub.event_uint ("Red5Pro.Standby.Promoted", "gap-ms"),
      sub.event_uint ("Red5Pro.Standby.Promoted", "frames-skipped"));
  fail_unless_equals_int (repeated, 0);
  fail_unless (!sub.running_time_went_back ());
  fail_unless_equals_int (sub.stream_starts (), 1);
  check_equal (sub.event_string ("Red5Pro.Standby.Promoted", "from"), primary.c_str ());
  check_equal (sub.event_string ("Red5Pro.Standby.Promoted", "to"), standby.c_str ());
  check_equal (sub.stat_string ("edge"), standby.c_str ());
  /* no teardown-and-retry: the standby was the failover */
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
  fail_unless (!sub.has_error ());
  /* the dead edge was the only other one: the next standby cannot be made, quietly */
  fail_unless (sub.wait_event ("Red5Pro.Standby.Lost", 20));
  guint64 now = sub.counted_frames ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= now + 30; }, 20));
  return missing;
}

GST_START_TEST (test_hot_standby_takes_over_a_loud_kill_without_losing_a_frame)
{
  guint32 missing = kill_with_hot_standby ("whep", "loud");
  fail_unless (missing == 0, "%u frames missing", missing);
}
GST_END_TEST;

GST_START_TEST (test_hot_standby_takes_over_a_silent_kill_within_the_switch_time)
{
  /* standby-switch-after (200 ms) plus a frame: 8 frames at 30 fps */
  guint32 missing = kill_with_hot_standby ("whep", "silent");
  fail_unless (missing <= 8, "%u frames missing", missing);
}
GST_END_TEST;

GST_START_TEST (test_hot_standby_over_websocket_signaling)
{
  guint32 missing = kill_with_hot_standby ("websocket", "loud");
  fail_unless (missing == 0, "%u frames missing", missing);
}
GST_END_TEST;

/* A real unpublish reaches both edges: no takeover, the normal retry, and after the
 * republish the same pads play again with a new standby. */
GST_START_TEST (test_an_unpublish_is_not_a_failover)
{
  TestCluster c ({ "--edges", "2" });
  TestSubscriber sub (sm2_props (c, "whep", "standby=hot retry-timeout=500"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait_event ("Red5Pro.Standby.Ready", 30), "no standby");
  c.control ("POST", "/unpublish?stream=stream1");
  fail_unless (sub.wait_event ("Red5Pro.Retry.Scheduled", 20), "no retry after the unpublish");
  fail_unless_equals_int (sub.count ("Red5Pro.Standby.Promoted"), 0);
  guint64 counted = sub.counted_frames ();
  c.control ("POST", "/publish?stream=stream1");
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= counted + 60; }, 40),
      "no frames after the republish");
  fail_unless (sub.wait ([&] { return sub.count ("Red5Pro.Standby.Ready") >= 2; }, 30),
      "no new standby after the republish");
  fail_unless_equals_int (sub.count ("Red5Pro.Standby.Promoted"), 0);
  fail_unless_equals_int (sub.stream_starts (), 1);
  fail_unless (!sub.has_error ());
}
GST_END_TEST;

/* One edge: no standby can be made; it says so and playback goes on untouched. */
GST_START_TEST (test_one_edge_means_no_standby_and_says_so)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (sm2_props (c, "whep", "standby=hot retry-timeout=500"));
  check_plays (sub);
  fail_unless (sub.wait_event ("Red5Pro.Standby.Lost", 20));
  check_equal (sub.event_string ("Red5Pro.Standby.Lost", "reason"), "not-found");
  guint64 counted = sub.counted_frames ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= counted + 60; }, 20));
  fail_unless_equals_int (sub.count ("Red5Pro.Standby.Ready"), 0);
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
  fail_unless_equals_int (sub.count ("Subscribe.InvalidName"), 0);
  fail_unless (!sub.has_error ());
  /* a standby is never made on the current edge: no second subscriber there */
  std::vector<TestCluster::Request> reqs = c.requests ("edge1");
  guint posts = 0;
  for (const auto &r : reqs)
    posts += r.method == "POST";
  fail_unless_equals_int (posts, 1);
}
GST_END_TEST;

/* Stream Manager 1.x names one edge: looked up again until another comes (the cluster's
 * Stream Manager balancing by load, as a real one does). Without a Stream Manager there is
 * no standby. */
GST_START_TEST (test_sm1_lookups_find_another_edge_and_a_standalone_server_has_none)
{
  TestCluster c ({ "--edges", "2" });
  c.control ("POST", "/sm/balance?enabled=true");
  {
    TestSubscriber sub ("host=127.0.0.1 port=" + std::to_string (c.port ()) +
        " stream-manager=sm1 stream-name=stream1 standby=hot retry-timeout=500");
    check_plays (sub);
    fail_unless (sub.wait_event ("Red5Pro.Standby.Ready", 30), "no standby over SM 1.x");
    fail_unless (sub.event_string ("Red5Pro.Standby.Ready", "edge") != sub.stat_string ("edge"));
  }
  {
    TestSubscriber sub ("host=" + c.edges ()[0].address + " port=" + std::to_string (c.port ()) +
        " stream-name=stream1 standby=hot retry-timeout=500");
    check_plays (sub);
    fail_unless (sub.wait_event ("Red5Pro.Standby.Lost", 20));
    fail_unless_equals_int (sub.count ("Red5Pro.Standby.Ready"), 0);
    fail_unless (!sub.has_error ());
  }
}
GST_END_TEST;

/* The cluster's subscribers on an edge: (muted, media bytes sent) of the first one. */
static bool
subscriber_on (TestCluster &c, const std::string &edge, bool *muted, gint64 *bytes)
{
  JsonParser *p = json_parser_new ();
  bool found = false;
  if (json_parser_load_from_data (p, c.control ("GET", "/state").c_str (), -1, nullptr)) {
    JsonArray *subs = json_object_get_array_member (json_node_get_object (
        json_parser_get_root (p)), "subscribers");
    for (guint i = 0; subs && i < json_array_get_length (subs) && !found; i++) {
      JsonObject *o = json_array_get_object_element (subs, i);
      if (edge != json_object_get_string_member_with_default (o, "edge", ""))
        continue;
      *muted = json_object_get_boolean_member_with_default (o, "muted", FALSE);
      *bytes = json_object_get_int_member_with_default (o, "media-bytes", -1);
      found = true;
    }
  }
  g_object_unref (p);
  return found;
}

/* Warm: the standby is connected with its media paused by the server (the mute message),
 * receives nothing while it waits (the cluster's byte counter stands still), and takes over
 * a loud kill within 15 frames (the resume and a key frame). */
GST_START_TEST (test_warm_standby_is_paused_and_takes_over_a_loud_kill)
{
  TestCluster c ({ "--edges", "2" });
  TestSubscriber sub (sm2_props (c, "whep", "standby=warm retry-timeout=500"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait_event ("Red5Pro.Standby.Ready", 30), "no standby");
  check_equal (sub.event_string ("Red5Pro.Standby.Ready", "mode"), "warm");
  std::string primary = sub.stat_string ("edge");
  std::string standby = sub.event_string ("Red5Pro.Standby.Ready", "edge");
  fail_unless (!primary.empty () && primary != standby);
  bool muted = false;
  gint64 bytes = -1, later = -1;
  fail_unless (sub.wait ([&] {
    return subscriber_on (c, c.edge_name (standby), &muted, &bytes) && muted; }, 10),
      "the standby's server-side subscriber is not muted");
  guint64 counted = sub.counted_frames ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= counted + 60; }, 20));
  fail_unless (subscriber_on (c, c.edge_name (standby), &muted, &later) && muted);
  GST_INFO ("standby muted: %" G_GINT64_FORMAT " bytes, 2 s later %" G_GINT64_FORMAT, bytes,
      later);
  fail_unless (later == bytes, "the muted standby was sent %" G_GINT64_FORMAT " bytes",
      later - bytes);

  size_t before = 0;
  guint32 missing = 0, repeated = 0;
  kill_and_count (c, sub, c.edge_name (primary), "loud", &missing, &repeated, &before);
  GST_INFO ("warm, loud kill: %u frames missing, %u repeated", missing, repeated);
  fail_unless (missing <= 15, "%u frames missing", missing);
  fail_unless_equals_int (repeated, 0);
  fail_unless (!sub.running_time_went_back ());
  fail_unless_equals_int (sub.stream_starts (), 1);
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
  fail_unless (subscriber_on (c, c.edge_name (standby), &muted, &later) && !muted);
  fail_unless (!sub.has_error ());
}
GST_END_TEST;

/* Encoded (decode=false) into a muxer, through a loud and then a silent kill (three edges:
 * a new standby after the first promotion), finished by EOS: one valid file, its frames'
 * counters read back after decoding: at most 3 missing at the loud kill (encoded video goes
 * on at a key frame, asked for at the promotion), none repeated, time only forward. */
static void
check_standby_recording (const char *codec, const char *muxer, const char *file,
    const char *demux_and_decoder)
{
  TestCluster c ({ "--edges", "3", "--codec", codec });
  char *dir = g_dir_make_tmp ("red5pro-standby-rec-XXXXXX", nullptr);
  std::string path = std::string (dir) + "/" + file;
  TestSubscriber sub (TestSubscriber::Launch { "red5prosrc name=src ice-addresses=127.0.0.1 "
      "host=127.0.0.1 port=" + std::to_string (c.port ()) + " stream-manager=sm2 "
      "stream-name=stream1 retry-timeout=500 standby=hot " + muxer + " name=mux ! filesink "
      "location=" + path + " src.video ! queue ! mux.video_%u src.audio ! queue ! mux.audio_%u" });
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait_event ("Red5Pro.Standby.Ready", 30), "no standby");
  g_usleep (2 * G_USEC_PER_SEC);
  for (const char *mode : { "loud", "silent" }) {
    guint promoted = sub.count ("Red5Pro.Standby.Promoted");
    guint ready = sub.count ("Red5Pro.Standby.Ready");
    std::string edge = c.edge_name (sub.edge ());
    fail_unless (!edge.empty ());
    c.control ("POST", "/edge/kill?edge=" + edge + "&mode=" + mode);
    fail_unless (sub.wait ([&] { return sub.count ("Red5Pro.Standby.Promoted") > promoted; }, 20,
        false), "no promotion at the %s kill", mode);
    /* the next standby, on the third edge */
    fail_unless (sub.wait ([&] { return sub.count ("Red5Pro.Standby.Ready") > ready; }, 30,
        false), "no new standby after the %s kill", mode);
    g_usleep (2 * G_USEC_PER_SEC);
    if (g_str_equal (mode, "loud"))
      c.control ("POST", "/edge/restart?edge=" + edge);   /* a standby for the silent kill */
  }
  gst_element_send_event (sub.pipeline (), gst_event_new_eos ());
  fail_unless (sub.wait ([&] { return sub.got_eos (); }, 20, false),
      "the recording did not finish");
  fail_unless (!sub.has_error (), "%s", sub.error_text ().c_str ());
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
  sub.stop ();

  FileCheck fc = check_file (path, demux_and_decoder);
  std::string jumps;
  for (const auto &j : fc.jumps)
    jumps += " " + std::to_string (j.first) + "->" + std::to_string (j.second);
  GST_INFO ("%s: %u frames (%u counted), duration %" GST_TIME_FORMAT ", jumps:%s", file,
      fc.frames, fc.counted, GST_TIME_ARGS (fc.duration), jumps.c_str ());
  fail_unless (fc.error.empty (), "the file does not play: %s", fc.error.c_str ());
  fail_unless (fc.eos, "the file was not readable to its end");
  fail_unless (fc.pts_increasing, "timestamps go backwards");
  fail_unless (fc.repeats.empty (), "%zu frames shown again", fc.repeats.size ());
  fail_unless (fc.counted > fc.frames * 9 / 10, "%u of %u frames readable", fc.counted, fc.frames);
  /* at most one jump per kill; with two, the first is the loud kill's: at most 3 frames;
   * the silent kill's waits for standby-switch-after and a key frame: at most 10 */
  fail_unless (fc.jumps.size () <= 2, "jumps:%s", jumps.c_str ());
  if (fc.jumps.size () == 2)
    fail_unless (fc.jumps[0].second - fc.jumps[0].first - 1 <= 3, "jumps:%s", jumps.c_str ());
  for (const auto &j : fc.jumps)
    fail_unless (j.second - j.first - 1 <= 10, "jumps:%s", jumps.c_str ());
  g_unlink (path.c_str ());
  g_rmdir (dir);
  g_free (dir);
}

GST_START_TEST (test_hot_standby_recording_matroska_is_one_file)
{
  check_standby_recording ("vp8", "matroskamux", "standby.mkv",
      "matroskademux name=d d.video_0 ! vp8dec");
}
GST_END_TEST;

GST_START_TEST (test_hot_standby_recording_mp4_is_one_file)
{
  check_standby_recording ("h264", "mp4mux", "standby.mp4",
      "qtdemux name=d d.video_0 ! h264parse ! avdec_h264");
}
GST_END_TEST;

static Suite *
standby_suite (void)
{
  Suite *s = suite_create ("red5prosrc-standby");
  TCase *tc = tcase_create ("e2e");
  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_hot_standby_takes_over_a_loud_kill_without_losing_a_frame);
  tcase_add_test (tc, test_hot_standby_takes_over_a_silent_kill_within_the_switch_time);
  tcase_add_test (tc, test_hot_standby_over_websocket_signaling);
  tcase_add_test (tc, test_warm_standby_is_paused_and_takes_over_a_loud_kill);
  tcase_add_test (tc, test_an_unpublish_is_not_a_failover);
  tcase_add_test (tc, test_one_edge_means_no_standby_and_says_so);
  tcase_add_test (tc, test_sm1_lookups_find_another_edge_and_a_standalone_server_has_none);
  tcase_add_test (tc, test_hot_standby_recording_matroska_is_one_file);
  tcase_add_test (tc, test_hot_standby_recording_mp4_is_one_file);
  return s;
}

GST_CHECK_MAIN (standby);
