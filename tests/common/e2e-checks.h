/* e2e-checks: assertions the end-to-end tests share (gstcheck). Header-only. */
#pragma once

#include <gst/check/gstcheck.h>

#include "test-subscriber.h"

/* a == b, both kept alive for the message (gstcheck's string check keeps the pointers of
 * temporaries past their end) */
static inline void
check_equal (const std::string &a, const std::string &b)
{
  fail_unless (a == b, "'%s' is not '%s'", a.c_str (), b.c_str ());
}

/* Plays until 30 frames with a readable counter and 10 audio buffers arrived, without an
 * error. */
static inline void
check_plays (TestSubscriber &sub)
{
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30 && sub.audio_buffers () >= 10; },
      30), "frames %" G_GUINT64_FORMAT " (counted %" G_GUINT64_FORMAT ") audio %"
      G_GUINT64_FORMAT, sub.video_frames (), sub.counted_frames (), sub.audio_buffers ());
  fail_unless (!sub.has_error ());
}

/* The webrtcbin inside a red5prosrc (its current attempt's), a reference; nullptr if none. */
static inline GstElement *
attempt_webrtcbin (GstElement *src)
{
  GstElement *webrtc = nullptr;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (src));
  GValue item = G_VALUE_INIT;
  while (!webrtc && gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *el = GST_ELEMENT (g_value_get_object (&item));
    GstElementFactory *f = gst_element_get_factory (el);
    if (f && g_str_equal (GST_OBJECT_NAME (f), "webrtcbin"))
      webrtc = GST_ELEMENT (gst_object_ref (el));
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return webrtc;
}

/* The frame counter only goes up from frame index `from` on (frames without one skipped). */
static inline bool
counters_go_forward (const std::vector<TestSubscriber::Frame> &frames, size_t from)
{
  guint32 last = 0;
  for (size_t i = from; i < frames.size (); i++) {
    if (!frames[i].counter)
      continue;
    if (last && frames[i].counter <= last) {
      GST_WARNING ("counter %u after %u (frame %zu)", frames[i].counter, last, i);
      return false;
    }
    last = frames[i].counter;
  }
  return true;
}

/* The first break in the counter from frame index `from` on: at = the index of the frame
 * after it; lost = frames skipped there, repeated = frames shown again (HLS starts a little
 * behind live, so it may repeat what WebRTC showed last). False if there is none. */
static inline bool
first_break (const std::vector<TestSubscriber::Frame> &frames, size_t from, size_t *at,
    guint32 *lost, guint32 *repeated)
{
  guint32 last = 0;
  for (size_t i = from; i < frames.size (); i++) {
    guint32 n = frames[i].counter;
    if (!n)
      continue;
    if (last && n != last + 1) {
      *at = i;
      *lost = n > last ? n - last - 1 : 0;
      *repeated = n <= last ? last - n + 1 : 0;
      return true;
    }
    last = n;
  }
  return false;
}

/* Every break in the counter from frame index `from` on, summed: frames never shown
 * (missing) and frames shown again or out of order (repeated). */
static inline void
counter_breaks (const std::vector<TestSubscriber::Frame> &frames, size_t from, guint32 *missing,
    guint32 *repeated)
{
  guint32 last = 0;
  *missing = *repeated = 0;
  for (size_t i = from; i < frames.size (); i++) {
    guint32 n = frames[i].counter;
    if (!n)
      continue;
    if (last && n > last + 1)
      *missing += n - last - 1;
    else if (last && n <= last)
      *repeated += last - n + 1;
    last = MAX (last, n);
  }
}
