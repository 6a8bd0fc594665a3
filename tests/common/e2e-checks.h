/* e2e-checks: assertions the end-to-end tests share (gstcheck). Header-only. */
#pragma once

#include <gst/check/gstcheck.h>

#include "test-subscriber.h"

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
