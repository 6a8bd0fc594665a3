/* test-subscriber: a red5prosrc pipeline as tests use it: decoded (or encoded) video and
 * audio into fakesinks, counting buffers, reading the cluster's frame counter off each
 * video frame, and recording every red5pro-event and the first error. Header-only. */
#pragma once

#include "frame-counter.h"

#include <gst/gst.h>
#include <gst/video/video.h>

#include <algorithm>
#include <map>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

class TestSubscriber {
public:
  /* props: red5prosrc properties, e.g. "host=127.0.0.1 port=1234 stream-name=stream1" */
  explicit TestSubscriber (const std::string &props, bool decode = true)
  {
    std::string desc = "red5prosrc name=src ice-addresses=127.0.0.1 " + props +
        (decode ? " decode=true src.video ! queue ! videoconvert ! video/x-raw,format=I420 "
                  "! fakesink name=vsink sync=false async=false "
                  "src.audio ! queue ! fakesink name=asink sync=false async=false"
                : " decode=false src.video ! queue ! fakesink name=vsink sync=false async=false "
                  "src.audio ! queue ! fakesink name=asink sync=false async=false");
    GError *err = nullptr;
    pipeline_ = gst_parse_launch (desc.c_str (), &err);
    g_assert_no_error (err);
    src_ = gst_bin_get_by_name (GST_BIN (pipeline_), "src");
    decode_ = decode;
    gst_segment_init (&segment_, GST_FORMAT_TIME);
    GstBus *bus = gst_element_get_bus (pipeline_);
    gst_bus_set_sync_handler (bus, on_bus, this, nullptr);
    gst_object_unref (bus);
    probe ("vsink", true);
    probe ("asink", false);
  }

  /* Any pipeline holding a red5prosrc named "src" (fakesinks "vsink"/"asink" optional). */
  struct Launch {
    std::string description;
  };
  explicit TestSubscriber (const Launch &launch)
  {
    GError *err = nullptr;
    pipeline_ = gst_parse_launch (launch.description.c_str (), &err);
    g_assert_no_error (err);
    if (!GST_IS_PIPELINE (pipeline_)) {   /* a description of one element gives just it */
      GstElement *pipeline = gst_pipeline_new (nullptr);
      gst_bin_add (GST_BIN (pipeline), pipeline_);
      pipeline_ = pipeline;
    }
    src_ = gst_bin_get_by_name (GST_BIN (pipeline_), "src");
    decode_ = false;
    GstBus *bus = gst_element_get_bus (pipeline_);
    gst_bus_set_sync_handler (bus, on_bus, this, nullptr);
    gst_object_unref (bus);
  }

  ~TestSubscriber ()
  {
    stop ();
    GstBus *bus = gst_element_get_bus (pipeline_);
    gst_bus_set_sync_handler (bus, nullptr, nullptr, nullptr);
    gst_object_unref (bus);
    gst_object_unref (src_);
    gst_object_unref (pipeline_);
    std::lock_guard<std::mutex> g (lock_);
    for (auto &kv : last_)
      gst_structure_free (kv.second);
    if (error_)
      g_error_free (error_);
  }

  GstStateChangeReturn play ()
  {
    started_ = g_get_monotonic_time ();
    return gst_element_set_state (pipeline_, GST_STATE_PLAYING);
  }
  GstStateChangeReturn stop () { return gst_element_set_state (pipeline_, GST_STATE_NULL); }

  GstElement *pipeline () const { return pipeline_; }
  GstElement *src () const { return src_; }

  guint64 video_frames () const { return video_frames_; }
  guint64 audio_buffers () const { return audio_buffers_; }
  /* frames whose counter could be read, and the last counter read */
  guint64 counted_frames () const { return counted_frames_; }
  /* every video frame so far: its running time, and its counter (0: none read) */
  struct Frame {
    GstClockTime running_time;
    guint32 counter;
    gint64 arrived_us;   /* monotonic, when the sink got it */
  };
  std::vector<Frame> frames ()
  {
    std::lock_guard<std::mutex> g (lock_);
    return frames_;
  }
  guint32 last_counter () const { return last_counter_; }
  bool got_eos () const { return eos_; }
  gint64 first_frame_us () const { return first_frame_ ? first_frame_ - started_ : -1; }

  /* What the video sink saw (decoded pipelines): events that would tell it a new stream
   * began, the last frame width, and video running time (a new attempt must not take it
   * back). */
  guint stream_starts () const { return stream_starts_; }
  guint flushes () const { return flushes_; }
  guint eos_events () const { return eos_events_; }
  gint video_width () const { return video_width_; }
  GstClockTime last_running_time () const { return last_running_time_; }
  bool running_time_went_back () const { return running_time_back_; }

  /* Polls until cond() or the timeout; false on timeout or when an error arrived. */
  template <typename F> bool wait (F cond, double timeout_s, bool stop_on_error = true)
  {
    gint64 deadline = g_get_monotonic_time () + gint64 (timeout_s * G_USEC_PER_SEC);
    while (g_get_monotonic_time () < deadline) {
      if (cond ())
        return true;
      if (stop_on_error && has_error ())
        return false;
      g_usleep (10000);
    }
    return cond ();
  }
  bool wait_video (guint64 n, double timeout_s)
  {
    return wait ([&] { return video_frames_ >= n; }, timeout_s);
  }
  bool wait_event (const char *type, double timeout_s, bool stop_on_error = true)
  {
    return wait ([&] { return count (type) > 0; }, timeout_s, stop_on_error);
  }

  guint count (const char *type)
  {
    std::lock_guard<std::mutex> g (lock_);
    auto it = counts_.find (type);
    return it == counts_.end () ? 0 : it->second;
  }
  /* a copy of the last event of that type, or nullptr */
  GstStructure *last_event (const char *type)
  {
    std::lock_guard<std::mutex> g (lock_);
    auto it = last_.find (type);
    return it == last_.end () ? nullptr : gst_structure_copy (it->second);
  }
  /* a field of the last event of that type: "" (strings), false, fallback when the event or
   * the field is not there */
  std::string event_string (const char *type, const char *field)
  {
    std::lock_guard<std::mutex> g (lock_);
    auto it = last_.find (type);
    const char *v = it == last_.end () ? nullptr : gst_structure_get_string (it->second, field);
    return v ? v : "";
  }
  bool event_boolean (const char *type, const char *field)
  {
    std::lock_guard<std::mutex> g (lock_);
    auto it = last_.find (type);
    gboolean v = FALSE;
    if (it != last_.end ())
      gst_structure_get_boolean (it->second, field, &v);
    return v;
  }
  guint event_uint (const char *type, const char *field, guint fallback = G_MAXUINT)
  {
    std::lock_guard<std::mutex> g (lock_);
    auto it = last_.find (type);
    guint v = fallback;
    if (it != last_.end ())
      gst_structure_get_uint (it->second, field, &v);
    return v;
  }
  /* every type seen, in the order first seen */
  std::vector<std::string> event_types ()
  {
    std::lock_guard<std::mutex> g (lock_);
    return types_;
  }
  /* the WARNING messages posted so far (their texts, the first 100) */
  std::vector<std::string> warnings ()
  {
    std::lock_guard<std::mutex> g (lock_);
    return warnings_;
  }
  bool has_error ()
  {
    std::lock_guard<std::mutex> g (lock_);
    return error_ != nullptr;
  }
  /* the first error: its source, message and debug text ("" = none) */
  std::string error_text ()
  {
    std::lock_guard<std::mutex> g (lock_);
    return error_text_;
  }
  /* the first error's domain/code match, and its message */
  bool error_matches (GQuark domain, gint code, std::string *message = nullptr)
  {
    std::lock_guard<std::mutex> g (lock_);
    if (!error_)
      return false;
    if (message)
      *message = error_->message;
    return g_error_matches (error_, domain, code);
  }
  /* the address of the edge it is on, from its stats */
  std::string edge ()
  {
    GstStructure *s = stats ();
    std::string out = gst_structure_get_string (s, "edge");
    gst_structure_free (s);
    return out;
  }
  /* a field of "stats": "" or 0 when it is not there */
  std::string stat_string (const char *field)
  {
    GstStructure *s = stats ();
    const char *v = gst_structure_get_string (s, field);
    std::string out = v ? v : "";
    gst_structure_free (s);
    return out;
  }
  guint stat_uint (const char *field)
  {
    GstStructure *s = stats ();
    guint v = 0;
    gst_structure_get_uint (s, field, &v);
    gst_structure_free (s);
    return v;
  }
  GstStructure *stats ()
  {
    GstStructure *s = nullptr;
    g_object_get (src_, "stats", &s, NULL);
    return s;
  }

private:
  static GstBusSyncReply on_bus (GstBus *, GstMessage *msg, gpointer data)
  {
    auto *self = static_cast<TestSubscriber *> (data);
    const GstStructure *s = gst_message_get_structure (msg);
    std::lock_guard<std::mutex> g (self->lock_);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && s &&
        gst_structure_has_name (s, "red5pro-event")) {
      /* counts and the last of each type: bounded, so that a soak measures the element */
      std::string type = gst_structure_get_string (s, "type") ? gst_structure_get_string (s, "type") : "";
      if (self->counts_[type]++ == 0)
        self->types_.push_back (type);
      GstStructure *&last = self->last_[type];
      if (last)
        gst_structure_free (last);
      last = gst_structure_copy (s);
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      self->eos_ = true;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING && self->warnings_.size () < 100) {
      GError *warning = nullptr;
      gst_message_parse_warning (msg, &warning, nullptr);
      self->warnings_.push_back (warning ? warning->message : "");
      g_clear_error (&warning);
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR && !self->error_) {
      gchar *debug = nullptr;
      gst_message_parse_error (msg, &self->error_, &debug);
      self->error_text_ = std::string (GST_MESSAGE_SRC_NAME (msg) ?: "?") + ": " +
          self->error_->message + " (" + (debug ? debug : "") + ")";
      g_free (debug);
      GST_INFO ("pipeline error: %s", self->error_text_.c_str ());
    }
    gst_message_unref (msg);   /* a sync handler that drops a message owns it */
    return GST_BUS_DROP;
  }

  void probe (const char *sink, bool video)
  {
    GstElement *el = gst_bin_get_by_name (GST_BIN (pipeline_), sink);
    GstPad *pad = gst_element_get_static_pad (el, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER,
        video ? on_video : on_audio, this, nullptr);
    if (video)
      gst_pad_add_probe (pad, GstPadProbeType (GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
              GST_PAD_PROBE_TYPE_EVENT_FLUSH), on_video_event, this, nullptr);
    gst_object_unref (pad);
    gst_object_unref (el);
  }

  static GstPadProbeReturn on_audio (GstPad *, GstPadProbeInfo *, gpointer data)
  {
    static_cast<TestSubscriber *> (data)->audio_buffers_++;
    return GST_PAD_PROBE_OK;
  }

  static GstPadProbeReturn on_video_event (GstPad *, GstPadProbeInfo *info, gpointer data)
  {
    auto *self = static_cast<TestSubscriber *> (data);
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    switch (GST_EVENT_TYPE (event)) {
      case GST_EVENT_STREAM_START: self->stream_starts_++; break;
      case GST_EVENT_FLUSH_START: self->flushes_++; break;
      case GST_EVENT_EOS: self->eos_events_++; break;
      case GST_EVENT_SEGMENT: {
        const GstSegment *segment = nullptr;
        gst_event_parse_segment (event, &segment);
        gst_segment_copy_into (segment, &self->segment_);
        break;
      }
      case GST_EVENT_CAPS: {
        GstCaps *caps = nullptr;
        gst_event_parse_caps (event, &caps);
        gint width = 0;
        if (gst_structure_get_int (gst_caps_get_structure (caps, 0), "width", &width))
          self->video_width_ = width;
        break;
      }
      default:
        break;
    }
    return GST_PAD_PROBE_OK;
  }

  static GstPadProbeReturn on_video (GstPad *pad, GstPadProbeInfo *info, gpointer data)
  {
    auto *self = static_cast<TestSubscriber *> (data);
    if (!self->first_frame_)
      self->first_frame_ = g_get_monotonic_time ();
    self->video_frames_++;
    GstClockTime rt = gst_segment_to_running_time (&self->segment_, GST_FORMAT_TIME,
        GST_BUFFER_PTS (GST_PAD_PROBE_INFO_BUFFER (info)));
    if (GST_CLOCK_TIME_IS_VALID (rt)) {
      if (GST_CLOCK_TIME_IS_VALID (self->last_running_time_) && rt < self->last_running_time_)
        self->running_time_back_ = true;
      self->last_running_time_ = rt;
    }
    if (!self->decode_) {
      std::lock_guard<std::mutex> g (self->lock_);
      self->frames_.push_back ({ rt, 0, g_get_monotonic_time () });
      return GST_PAD_PROBE_OK;
    }
    uint32_t counter = 0;
    GstCaps *caps = gst_pad_get_current_caps (pad);
    GstVideoInfo vinfo;
    if (caps && gst_video_info_from_caps (&vinfo, caps)) {
      GstVideoFrame frame;
      if (gst_video_frame_map (&frame, &vinfo, GST_PAD_PROBE_INFO_BUFFER (info), GST_MAP_READ)) {
        if (GST_VIDEO_FRAME_WIDTH (&frame) >= 320 && GST_VIDEO_FRAME_HEIGHT (&frame) >= 16 &&
            frame_counter_read (static_cast<const uint8_t *> (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)),
                GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), &counter)) {
          self->counted_frames_++;
          self->last_counter_ = counter;
        }
        gst_video_frame_unmap (&frame);
      }
    }
    if (caps)
      gst_caps_unref (caps);
    std::lock_guard<std::mutex> g (self->lock_);
    self->frames_.push_back ({ rt, counter, g_get_monotonic_time () });
    return GST_PAD_PROBE_OK;
  }

  GstElement *pipeline_ = nullptr;
  GstElement *src_ = nullptr;
  bool decode_ = true;
  std::mutex lock_;
  std::map<std::string, guint> counts_;
  std::vector<Frame> frames_;
  std::map<std::string, GstStructure *> last_;
  std::vector<std::string> types_;
  std::vector<std::string> warnings_;
  GError *error_ = nullptr;
  std::string error_text_;
  std::atomic<guint64> video_frames_ { 0 };
  std::atomic<guint64> audio_buffers_ { 0 };
  std::atomic<guint64> counted_frames_ { 0 };
  std::atomic<guint32> last_counter_ { 0 };
  std::atomic<gint64> first_frame_ { 0 };
  std::atomic<bool> eos_ { false };
  gint64 started_ = 0;
  GstSegment segment_ {};                   /* video streaming thread */
  std::atomic<guint> stream_starts_ { 0 };
  std::atomic<guint> flushes_ { 0 };
  std::atomic<guint> eos_events_ { 0 };
  std::atomic<gint> video_width_ { 0 };
  std::atomic<GstClockTime> last_running_time_ { GST_CLOCK_TIME_NONE };
  std::atomic<bool> running_time_back_ { false };
};
