/* file-check: a recording read back by a pipeline of its own: readable to the end, its
 * duration, timestamps, and the test cluster's frame counter on every frame (gaps where
 * frames are missing). Header-only, gstcheck. */
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include "frame-counter.h"

#include <string>
#include <utility>
#include <vector>

struct FileCheck {
  bool eos = false;
  std::string error;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  guint frames = 0;
  guint counted = 0;
  bool pts_increasing = true;
  bool counters_increasing = true;
  std::vector<std::pair<guint32, guint32>> repeats;  /* (last before, first after <= it) */
  /* every jump forward in the counter (last before, first after), however small */
  std::vector<std::pair<guint32, guint32>> jumps;
  std::vector<std::pair<guint32, guint32>> gaps;   /* (last before, first after) */
  guint frames_after_last_gap = 0;
};

/* Decodes the whole file with its own pipeline and reads the counters off the frames. */
static inline FileCheck
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
          if (counter <= last_counter) {
            fc.counters_increasing = false;
            fc.repeats.emplace_back (last_counter, counter);
          }
          if (counter > last_counter + 1)
            fc.jumps.emplace_back (last_counter, counter);
          if (counter > last_counter + 5) {   /* frames missing: a failover's gap */
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


