/* red5pro-switch: make before break. An upgrade attempt runs beside the current one with
 * its pads held back (their buffers dropped). At its first key frame past what our pads
 * have sent, the current attempt is cut at that frame's time (its buffers from there on
 * dropped) and the key frame waits until the current attempt's video gets there, or a
 * bounded wait passes. Then the subscriber is asked (ready); on go() the element's pads
 * take the upgrade attempt's and the key frame goes out: no gap in the timeline longer
 * than a frame. On abort() the cut is undone and nothing of the upgrade attempt goes out.
 * Streaming threads, but for go() and abort() (the worker). */
#pragma once

#include "red5pro-output.h"

#include <gst/gst.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

namespace red5pro {

class Switch : public std::enable_shared_from_this<Switch> {
public:
  /* max_wait: how long the key frame may wait for the current attempt's video (its
   * switch_wait()); ready and swapped are called on the streaming thread */
  Switch (GstElement *element, OutputPads &outputs, GstClockTime max_wait,
      std::function<void ()> ready, std::function<void ()> swapped);
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

private:
  enum class Answer { NONE, GO, ABORT };
  GstPadProbeReturn on_upgrade_buffer (Medium m, GstPad *pad, GstBuffer *buf);
  GstPadProbeReturn on_current_buffer (Medium m, GstBuffer *buf);
  /* the current attempt's pads cut at t; undone with t = NONE */
  void cut_current (GstClockTime t);
  bool switch_at (GstPad *pad, GstClockTime t);

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
};

}  // namespace red5pro
