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
