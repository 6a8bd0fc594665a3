/* red5pro-retime: HLS timestamps onto the pipeline's running time, where WebRTC's jitter
 * buffers put theirs: a frame goes out at the time it was captured, as well as the
 * receiver can tell (the freshest frame seen arrived just after its capture). Pure logic,
 * one per HLS attempt, shared by its video and audio; the caller locks. */
#pragma once

#include <gst/gst.h>

namespace red5pro {

class LiveRetimer {
public:
  /* out = in + offset, or the buffer is dropped */
  struct Verdict {
    bool pass = false;
    GstClockTimeDiff offset = 0;
  };

  /* A player joining a live HLS stream is handed segments from before the live edge all at
   * once (hlsdemux starts three from the end); they are old when they arrive and are
   * dropped, until a segment comes that had to be waited for: it is the live edge, and
   * output starts at its first key frame. From then on a frame goes out at in + offset,
   * the offset being the smallest (arrival - in) seen: the time the freshest frame took to
   * reach us. Frames of a segment arrive together, so all but the freshest arrive after
   * their time: latency() says by how much at most.
   *
   * in: the buffer's running time in the demuxer's segment; arrival: the pipeline's running
   * time when it arrived; key: a video key frame. */
  Verdict push (GstClockTime in, GstClockTime arrival, bool video, bool key);
  /* The attempt has video (output then starts at a video key frame) or not. */
  void set_has_video (bool has_video) { has_video_ = has_video; }
  /* A new demuxer segment: in times are not comparable with the last ones; the offset is
   * taken again from the next buffer. */
  void new_segment () { have_offset_ = false; }
  bool started () const { return started_; }
  /* The most a passed buffer's out time was before its arrival. */
  GstClockTime lateness () const { return lateness_; }

  /* How much later than the freshest frame a frame must arrive (relative to its time) to
   * show that it was waited for, not handed over with old ones. */
  static constexpr GstClockTime WAITED = 100 * GST_MSECOND;

private:
  bool have_offset_ = false;
  GstClockTimeDiff offset_ = 0;
  bool started_ = false;
  bool has_video_ = true;
  GstClockTime lateness_ = 0;
};

}  // namespace red5pro
