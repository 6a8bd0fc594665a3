/* red5pro-retime: when HLS output starts, and at what time each frame goes out. */
#include "red5pro-retime.h"

namespace red5pro {

LiveRetimer::Verdict
LiveRetimer::push (GstClockTime in, GstClockTime arrival, bool video, bool key)
{
  Verdict v;
  if (!GST_CLOCK_TIME_IS_VALID (in) || !GST_CLOCK_TIME_IS_VALID (arrival))
    return v;
  GstClockTimeDiff took = GST_CLOCK_DIFF (in, arrival);   /* arrival - in */
  if (!have_offset_) {
    have_offset_ = true;
    offset_ = took;
    if (!started_)
      return v;   /* the first of the old segments */
  } else if (took < offset_) {
    offset_ = took;   /* fresher than any before */
    if (!started_)
      return v;   /* still handed over with the old ones */
  } else if (!started_) {
    /* waited for: the live edge, from its first key frame (or any audio without video) */
    bool waited = took > offset_ + GstClockTimeDiff (WAITED);
    if (!waited || !(video ? key : !has_video_))
      return v;
    started_ = true;
  }
  v.pass = true;
  v.offset = offset_;
  GstClockTime late = GstClockTime (took - offset_);
  if (late > lateness_)
    lateness_ = late;
  return v;
}

}  // namespace red5pro
