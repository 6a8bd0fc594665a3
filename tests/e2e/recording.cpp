/* End-to-end: a recording pipeline (red5prosrc ! matroskamux or mp4mux ! filesink) survives three
 * failovers and leaves one valid file: readable to the end by a separate pipeline, as long
 * as the wall time, timestamps increasing, and frames from before and after every gap
 * (told apart by the test cluster's frame counter). */
#include <gst/app/gstappsink.h>
#include <gst/check/gstcheck.h>

#include "test-cluster.h"
#include "file-check.h"
#include "test-subscriber.h"

#include <glib/gstdio.h>

#include <cstring>

/* Records through three failovers with the given muxer (VP8 into Matroska, H.264 into
 * MP4), ends with EOS as gst-launch-1.0 -e does, and reads the file back. */
static void
check_recording (const char *codec, const char *muxer, const char *file,
    const char *demux_and_decoder)
{
  TestCluster c ({ "--edges", "2", "--codec", codec });
  char *dir = g_dir_make_tmp ("red5pro-rec-XXXXXX", nullptr);
  std::string path = std::string (dir) + "/" + file;
  TestSubscriber sub (TestSubscriber::Launch { "red5prosrc name=src ice-addresses=127.0.0.1 "
      "host=127.0.0.1 port=" + std::to_string (c.port ()) + " stream-manager=sm2 "
      "stream-name=stream1 retry-timeout=500 " + muxer + " name=mux ! filesink location=" +
      path + " src.video ! queue ! mux.video_%u src.audio ! queue ! mux.audio_%u" });
  gint64 started = g_get_monotonic_time ();
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait_event ("Subscribe.Start", 30));
  g_usleep (2 * G_USEC_PER_SEC);

  for (guint k = 1; k <= 3; k++) {
    /* the serving edge, once media flows from it (stats name it then) */
    std::string edge;
    fail_unless (sub.wait ([&] { return !(edge = c.edge_name (sub.edge ())).empty (); }, 30,
        false), "no media before failover %u", k);
    c.control ("POST", "/edge/kill?edge=" + edge + "&mode=loud");
    fail_unless (sub.wait ([&] { return sub.count ("Subscribe.Start") >= k + 1; }, 30, false),
        "no new subscription after failover %u", k);
    c.control ("POST", "/edge/restart?edge=" + edge);   /* so that there is always another */
    g_usleep (2 * G_USEC_PER_SEC);
  }
  gst_element_send_event (sub.pipeline (), gst_event_new_eos ());
  fail_unless (sub.wait ([&] { return sub.got_eos (); }, 20, false), "the recording did not finish");
  double wall_s = double (g_get_monotonic_time () - started) / G_USEC_PER_SEC;
  fail_unless (!sub.has_error ());
  sub.stop ();

  FileCheck fc = check_file (path, demux_and_decoder);
  GST_INFO ("%u frames (%u counted), duration %" GST_TIME_FORMAT ", wall %.1f s, %zu gaps",
      fc.frames, fc.counted, GST_TIME_ARGS (fc.duration), wall_s, fc.gaps.size ());
  fail_unless (fc.error.empty (), "the file does not play: %s", fc.error.c_str ());
  fail_unless (fc.eos, "the file was not readable to its end");
  fail_unless (GST_CLOCK_TIME_IS_VALID (fc.duration));
  /* the file spans the recording (less the time to the first frame) */
  fail_unless (double (fc.duration) / GST_SECOND > 0.8 * wall_s - 2.0,
      "duration %.1f s for %.1f s of wall time", double (fc.duration) / GST_SECOND, wall_s);
  fail_unless (fc.pts_increasing, "timestamps go backwards");
  fail_unless (fc.counters_increasing, "frames out of order");
  fail_unless (fc.counted > fc.frames * 9 / 10, "%u of %u frames readable", fc.counted, fc.frames);
  /* three gaps, each with frames on both sides, and the stream after the last one */
  fail_unless (fc.gaps.size () >= 3, "%zu gaps in the counter", fc.gaps.size ());
  fail_unless (fc.frames_after_last_gap >= 30);
  g_unlink (path.c_str ());
  g_rmdir (dir);
  g_free (dir);
}

GST_START_TEST (test_recording_survives_three_failovers_matroska)
{
  check_recording ("vp8", "matroskamux", "rec.mkv", "matroskademux name=d d.video_0 ! vp8dec");
}
GST_END_TEST;

GST_START_TEST (test_recording_survives_three_failovers_mp4_finished_by_eos)
{
  check_recording ("h264", "mp4mux", "rec.mp4", "qtdemux name=d d.video_0 ! h264parse ! avdec_h264");
}
GST_END_TEST;

/* docs/examples/record.cpp run as a user runs it: it records across a failover, ends the
 * file with its own EOS after the time given, exits 0, and the file plays to its end. */
GST_START_TEST (test_the_record_example_records_across_a_failover)
{
  TestCluster c ({ "--edges", "2" });
  char *dir = g_dir_make_tmp ("red5pro-example-XXXXXX", nullptr);
  std::string path = std::string (dir) + "/example.mkv";
  std::string uri = "red5pro://127.0.0.1:" + std::to_string (c.port ()) +
      "/live/stream1?stream-manager=sm2&ice-addresses=127.0.0.1&retry-timeout=500";
  GError *err = nullptr;
  GSubprocess *proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &err,
      g_getenv ("RED5PRO_EXAMPLE_RECORD"), uri.c_str (), path.c_str (), "10", NULL);
  fail_unless (proc != nullptr, "%s", err ? err->message : "");
  GDataInputStream *out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  std::string output, edge;
  bool killed = false;
  while (char *line = g_data_input_stream_read_line (out, nullptr, nullptr, nullptr)) {
    output += std::string (line) + "\n";
    /* "Red5Pro.Edge.Resolved edge=(string)127.0.0.2, ..." names the edge it goes to */
    if (const char *at = strstr (line, "Red5Pro.Edge.Resolved edge=(string)")) {
      std::string address = at + strlen ("Red5Pro.Edge.Resolved edge=(string)");
      edge = c.edge_name (address.substr (0, address.find (',')));
    }
    if (!killed && g_str_has_prefix (line, "Subscribe.Start") && !edge.empty ()) {
      g_usleep (2 * G_USEC_PER_SEC);   /* frames before the gap; its output waits in the pipe */
      c.control ("POST", "/edge/kill?edge=" + edge + "&mode=loud");
      killed = true;
    }
    g_free (line);
  }
  g_object_unref (out);
  fail_unless (g_subprocess_wait (proc, nullptr, nullptr));
  fail_unless (g_subprocess_get_if_exited (proc) && g_subprocess_get_exit_status (proc) == 0,
      "the example failed:\n%s", output.c_str ());
  g_object_unref (proc);
  fail_unless (killed, "the example never started:\n%s", output.c_str ());
  fail_unless (output.find ("Red5Pro.Retry.Scheduled") != std::string::npos &&
      output.find ("recording finished") != std::string::npos, "%s", output.c_str ());

  FileCheck fc = check_file (path, "matroskademux name=d d.video_0 ! vp8dec");
  fail_unless (fc.error.empty (), "the file does not play: %s", fc.error.c_str ());
  fail_unless (fc.eos && fc.pts_increasing && fc.counters_increasing);
  fail_unless (fc.gaps.size () >= 1 && fc.frames_after_last_gap >= 30,
      "%zu gaps, %u frames after the last", fc.gaps.size (), fc.frames_after_last_gap);
  g_unlink (path.c_str ());
  g_rmdir (dir);
  g_free (dir);
}
GST_END_TEST;

static Suite *
recording_suite (void)
{
  Suite *s = suite_create ("red5prosrc-recording");
  TCase *tc = tcase_create ("e2e");
  tcase_set_timeout (tc, 240);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_recording_survives_three_failovers_matroska);
  tcase_add_test (tc, test_recording_survives_three_failovers_mp4_finished_by_eos);
  if (g_getenv ("RED5PRO_EXAMPLE_RECORD"))   /* built with -Dexamples (the default) */
    tcase_add_test (tc, test_the_record_example_records_across_a_failover);
  return s;
}

GST_CHECK_MAIN (recording);
