/* bench-playback: WebRTC (WHEP) against HLS through red5prosrc (issue 12), against one test
 * cluster publishing both: the time to the first frame shown, and the glass-to-glass delay
 * of every frame shown (the cluster notes when it stamped each frame's counter; a sink that
 * syncs to the clock, as a video sink does, reads the counter back when it shows the frame).
 * Runs alternate between the techs. Prints one line per run and the medians
 * (docs/benchmarks.md). */
#include <gst/gst.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#include "frame-counter.h"
#include "test-cluster.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace {

struct Run {
  std::mutex lock;
  gint64 started = 0;                               /* real us */
  std::vector<std::pair<guint32, gint64>> shown;    /* counter, real us when shown */
};

void
on_handoff (GstElement *, GstBuffer *buf, GstPad *pad, gpointer data)
{
  auto *run = static_cast<Run *> (data);
  gint64 now = g_get_real_time ();
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstVideoInfo info;
  if (caps && gst_video_info_from_caps (&info, caps)) {
    GstVideoFrame frame;
    if (gst_video_frame_map (&frame, &info, buf, GST_MAP_READ)) {
      uint32_t counter = 0;
      if (frame_counter_read (static_cast<const uint8_t *> (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)),
              GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), &counter)) {
        std::lock_guard<std::mutex> g (run->lock);
        run->shown.emplace_back (counter, now);
      }
      gst_video_frame_unmap (&frame);
    }
  }
  if (caps)
    gst_caps_unref (caps);
}

std::map<guint32, gint64>
stamps (TestCluster &c)
{
  std::map<guint32, gint64> out;
  std::string body = c.control ("GET", "/stamps?stream=stream1");
  JsonParser *parser = json_parser_new ();
  if (json_parser_load_from_data (parser, body.c_str (), -1, nullptr) &&
      JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser))) {
    JsonArray *arr = json_node_get_array (json_parser_get_root (parser));
    for (guint i = 0; i < json_array_get_length (arr); i++) {
      JsonArray *pair = json_array_get_array_element (arr, i);
      out[guint32 (json_array_get_int_element (pair, 0))] = json_array_get_int_element (pair, 1);
    }
  }
  g_object_unref (parser);
  return out;
}

double
median (std::vector<double> v)
{
  if (v.empty ())
    return -1;
  std::sort (v.begin (), v.end ());
  return v[v.size () / 2];
}

double
percentile (std::vector<double> v, double p)
{
  if (v.empty ())
    return -1;
  std::sort (v.begin (), v.end ());
  return v[std::min (v.size () - 1, size_t (p * v.size ()))];
}

struct Result {
  double first_frame_ms = -1;   /* PLAYING to the first frame shown */
  double delay_ms = -1;         /* median glass-to-glass of the frames shown */
  double delay_p95_ms = -1;
  size_t frames = 0;
};

Result
measure (TestCluster &c, const char *tech, double seconds)
{
  Run run;
  std::string desc = "red5prosrc name=src ice-addresses=127.0.0.1 host=" +
      c.edges ()[0].address + " port=" + std::to_string (c.port ()) +
      " stream-name=stream1 decode=true playback-order=<" + tech + "> "
      "src.video ! queue ! videoconvert ! video/x-raw,format=I420 "
      "! fakesink name=v sync=true signal-handoffs=true "
      "src.audio ! queue ! fakesink sync=true";
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch (desc.c_str (), &err);
  g_assert_no_error (err);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "v");
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), &run);
  run.started = g_get_real_time ();
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  /* until the first frame, then the measuring window */
  gint64 give_up = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  gint64 first = 0;
  while (g_get_monotonic_time () < give_up) {
    {
      std::lock_guard<std::mutex> g (run.lock);
      if (!run.shown.empty ()) {
        first = run.shown.front ().second;
        break;
      }
    }
    g_usleep (10000);
  }
  if (first)
    g_usleep (gulong (seconds * G_USEC_PER_SEC));
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);

  Result r;
  if (!first)
    return r;
  r.first_frame_ms = double (first - run.started) / 1000.0;
  std::map<guint32, gint64> stamped = stamps (c);
  std::vector<double> delays;
  for (const auto &s : run.shown) {
    auto it = stamped.find (s.first);
    /* the first second is the start; the rest is the steady delay */
    if (it != stamped.end () && s.second - first > G_USEC_PER_SEC)
      delays.push_back (double (s.second - it->second) / 1000.0);
  }
  r.frames = delays.size ();
  r.delay_ms = median (delays);
  r.delay_p95_ms = percentile (delays, 0.95);
  return r;
}

}  // namespace

int
main (int argc, char **argv)
{
  int runs = 5;
  double seconds = 10;
  GOptionEntry entries[] = {
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Runs per tech (default 5)", "N" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds,
        "Seconds of frames measured per run after the first (default 10)", "S" },
    { nullptr }
  };
  GOptionContext *ctx = g_option_context_new ("- red5prosrc: WebRTC against HLS");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  GError *err = nullptr;
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  gst_init (&argc, &argv);

  TestCluster c ({ "--edges", "1", "--hls" });
  /* the playlist fills (hlsdemux starts three segments from its end) */
  g_usleep (6 * G_USEC_PER_SEC);
  std::map<std::string, std::vector<Result>> all;
  for (int i = 0; i < runs; i++) {
    for (const char *tech : { "whep", "hls" }) {
      Result r = measure (c, tech, seconds);
      g_print ("RESULT playback tech=%s run=%d first-frame-ms=%.0f delay-ms=%.0f "
          "delay-p95-ms=%.0f frames=%zu\n", tech, i + 1, r.first_frame_ms, r.delay_ms,
          r.delay_p95_ms, r.frames);
      all[tech].push_back (r);
    }
  }
  g_print ("\n| tech | runs | first frame shown (median ms) | glass-to-glass (median of run medians, ms) | p95 (median, ms) |\n|---|---|---|---|---|\n");
  for (const char *tech : { "whep", "hls" }) {
    std::vector<double> ff, d, p;
    for (const auto &r : all[tech]) {
      if (r.first_frame_ms < 0)
        continue;
      ff.push_back (r.first_frame_ms);
      d.push_back (r.delay_ms);
      p.push_back (r.delay_p95_ms);
    }
    g_print ("| %s | %zu of %d | %.0f | %.0f | %.0f |\n", tech, ff.size (), runs, median (ff),
        median (d), median (p));
  }
  return 0;
}
