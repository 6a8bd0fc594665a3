/* End-to-end: a recording pipeline (red5prosrc ! matroskamux or mp4mux ! filesink) survives three
 * failovers and leaves one valid file: readable to the end by a separate pipeline, as long
 * as the wall time, timestamps increasing, and frames from before and after every gap
 * (told apart by the test cluster's frame counter). */
#include <gst/app/gstappsink.h>
#include <gst/check/gstcheck.h>

#include "test-cluster.h"
#include "test-subscriber.h"

#include <glib/gstdio.h>

#include <cstring>

struct FileCheck {
  bool eos = false;
  std::string error;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  guint frames = 0;
  guint counted = 0;
  bool pts_increasing = true;
  bool counters_increasing = true;
  std::vector<std::pair<guint32, guint32>> gaps;   /* (last before, first after) */
  guint frames_after_last_gap = 0;
};

/* Decodes the whole file with its own pipeline and reads the counters off the frames. */
static FileCheck
check_file (const std::string &path, const char *demux_and_decoder)
{
  FileCheck fc;
  std::string desc = "filesrc location=" + path + " ! " + demux_and_decoder +
      " ! videoconvert ! video/x-raw,format=I420 ! appsink name=sink sync=false";
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch (desc.c_str (), &err);
  fail_unless (pipeline != nullptr && err == nullptr);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_element_set_state (pipeline, GST_STATE_PAUSED);
  gst_element_get_state (pipeline, nullptr, nullptr, 10 * GST_SECOND);
  gint64 duration = -1;
  if (gst_element_query_duration (pipeline, GST_FORMAT_TIME, &duration))
    fc.duration = GstClockTime (duration);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  GstClockTime last_pts = GST_CLOCK_TIME_NONE;
  guint32 last_counter = 0;
  bool have_counter = false;
  while (GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND)) {
    GstBuffer *buf = gst_sample_get_buffer (sample);
    GstVideoInfo info;
    gst_video_info_from_caps (&info, gst_sample_get_caps (sample));
    fc.frames++;
    GstClockTime pts = GST_BUFFER_PTS (buf);
    /* Matroska keeps milliseconds: frames bunched up after a stall may share one */
    if (GST_CLOCK_TIME_IS_VALID (last_pts) && GST_CLOCK_TIME_IS_VALID (pts) && pts < last_pts) {
      fc.pts_increasing = false;
      GST_WARNING ("PTS %" GST_TIME_FORMAT " after %" GST_TIME_FORMAT, GST_TIME_ARGS (pts),
          GST_TIME_ARGS (last_pts));
    }
    last_pts = pts;
    GstVideoFrame frame;
    if (gst_video_frame_map (&frame, &info, buf, GST_MAP_READ)) {
      guint32 counter = 0;
      if (frame_counter_read (static_cast<const uint8_t *> (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)),
              GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), &counter)) {
        fc.counted++;
        if (have_counter) {
          if (counter <= last_counter)
            fc.counters_increasing = false;
          else if (counter > last_counter + 5) {   /* frames missing: a failover's gap */
            fc.gaps.emplace_back (last_counter, counter);
            fc.frames_after_last_gap = 0;
          }
        }
        fc.frames_after_last_gap++;
        last_counter = counter;
        have_counter = true;
      }
      gst_video_frame_unmap (&frame);
    }
    gst_sample_unref (sample);
  }
  fc.eos = gst_app_sink_is_eos (GST_APP_SINK (sink));
  GstBus *bus = gst_element_get_bus (pipeline);
  if (GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR)) {
    GError *e = nullptr;
    gst_message_parse_error (m, &e, nullptr);
    fc.error = e->message;
    g_error_free (e);
    gst_message_unref (m);
  }
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return fc;
}


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
