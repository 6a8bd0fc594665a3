/* red5pro-switch: make before break. An upgrade attempt runs beside the current one with
 * its pads held back (their buffers dropped). At its first key frame past what our pads
 * have sent, the current attempt is cut at that frame's time (its buffers from there on
 * dropped) and the key frame waits until the current attempt's video gets there, or a
 * bounded wait passes. Then the subscriber is asked (ready); on go() the element's pads
 * take the upgrade attempt's and the key frame goes out: no gap in the timeline longer
 * than a frame. On abort() the cut is undone and nothing of the upgrade attempt goes out.
 * Streaming threads, but for go() and abort() (the worker).
 *
 * A standby (hold mode, issue 20) is the same switch kept waiting: the standby attempt's
 * buffers are dropped, the last ones kept (video from a key frame on, and at least
 * RING_MIN of it; audio as much) while the current attempt plays; ready is said once at its
 * first key frame. take_over() (the current attempt failed or went silent) swaps the pads at
 * the standby's next buffer and sends first what it kept past the last buffer our pads sent:
 * the frame after the last one shown, never one twice (times compared on the running time
 * both attempts' jitter buffers give their frames; the edges' delays differ by less than
 * half a frame on the networks measured, see docs/architecture.md). */
#pragma once

#include "red5pro-output.h"

#include <gst/gst.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace red5pro {

class Switch : public std::enable_shared_from_this<Switch> {
public:
  /* max_wait: how long the key frame may wait for the current attempt's video (its
   * switch_wait()); ready and swapped are called on the streaming thread */
  /* need_sync: the upgrade's buffers count only once they carry capture times (its
   * sender reports came: WebRTC with capture times on) */
  Switch (GstElement *element, OutputPads &outputs, GstClockTime max_wait,
      std::function<void ()> ready, std::function<void ()> swapped, bool hold = false,
      bool need_sync = false);
  ~Switch ();
  Switch (const Switch &) = delete;
  Switch &operator= (const Switch &) = delete;

  /* A pad of the upgrade attempt ("video" or "audio"); after the swap it goes straight
   * behind ours. */
  void add_pad (Medium m, GstPad *pad);
  void go ();
  void abort ();
  /* The pads are the upgrade attempt's. */
  bool swapped ();
  /* Hold mode: the standby takes over at its next buffer (worker). */
  void take_over ();
  /* Hold mode: monotonic us of the standby's last buffer, 0 before the first. */
  gint64 last_media_us () const { return last_media_us_.load (); }
  /* Hold mode, once swapped: the step in time from the last video frame the current
   * attempt sent to the first of the standby's (NONE when there was none), and the
   * frame interval then estimated. */
  GstClockTime gap () const { return gap_.load (); }
  GstClockTime frame_interval () const { return frame_interval_.load (); }
  /* how much a standby keeps, at least */
  static constexpr GstClockTime RING_MIN = GST_SECOND;

private:
  enum class Answer { NONE, GO, ABORT };
  GstPadProbeReturn on_upgrade_buffer (Medium m, GstPad *pad, GstBuffer *buf);
  GstPadProbeReturn on_current_buffer (Medium m, GstBuffer *buf);
  /* the current attempt's pads cut at t; undone with t = NONE */
  void cut_current (GstClockTime t);
  bool switch_at (GstPad *pad, GstClockTime t);
  GstPadProbeReturn on_standby_data (Medium m, GstPad *pad, GstPadProbeInfo *info);
  /* lock_ held: keep buf (a ref) in m's ring, trimmed */
  void keep_locked (Medium m, GstBuffer *buf);
  /* the pads are the standby's (streaming thread, lock_ not held) */
  void swap_standby (Medium m, GstPad *pad);
  /* what of m's ring goes out before buf, and whether buf does */
  bool replay (Medium m, GstPad *pad, GstBuffer *buf);

  GstElement *element_;
  OutputPads &outputs_;
  const GstClockTime max_wait_;
  std::function<void ()> ready_;
  std::function<void ()> swapped_cb_;

  std::mutex lock_;
  std::condition_variable cond_;
  GstPad *pads_[2] = { nullptr, nullptr };        /* the upgrade attempt's (refs) */
  GstPad *current_[2] = { nullptr, nullptr };     /* the current attempt's, cut (refs) */
  gulong cut_probes_[2] = { 0, 0 };
  GstClockTime cut_at_ = GST_CLOCK_TIME_NONE;
  bool reached_ = false;         /* the current attempt's lead medium got to cut_at_ */
  Answer answer_ = Answer::NONE;
  bool aborted_ = false;
  bool swapped_ = false;
  gint64 last_key_request_ = 0;
  const bool need_sync_;
  bool asked_synced_key_ = false;   /* lock_ */

  /* hold mode */
  const bool hold_;
  bool take_over_ = false;                 /* lock_ */
  bool ready_said_ = false;                /* lock_ */
  std::deque<GstBuffer *> ring_[2];        /* lock_, refs */
  bool replayed_[2] = { false, false };    /* lock_: the ring went out after the swap */
  /* lock_, once swapped: only buffers past this go out, by capture time when both
   * attempts' buffers have one (use_capture_), else by our time */
  GstClockTime from_[2] = { GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE };
  bool use_capture_ = false;
  bool by_capture_[2] = { false, false };   /* lock_: this medium is matched by capture time */
  /* lock_: the standby's latest buffer per medium: its time minus its capture time */
  GstClockTimeDiff standby_map_[2] = { 0, 0 };
  bool have_map_[2] = { false, false };
  GstClockTimeDiff offset_ = 0;            /* lock_: added to the standby's times */
  bool need_key_ = false;                  /* lock_: video waits for a key frame */
  bool said_swapped_ = false;              /* lock_ */
  std::atomic<gint64> last_media_us_ { 0 };
  std::atomic<GstClockTime> gap_ { GST_CLOCK_TIME_NONE };
  std::atomic<GstClockTime> frame_interval_ { GST_CLOCK_TIME_NONE };
};

}  // namespace red5pro
