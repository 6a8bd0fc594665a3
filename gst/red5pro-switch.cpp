/* red5pro-switch: an upgrade attempt takes over the pads at a key frame, without a gap. */
#include "red5pro-switch.h"

#include <gst/video/video.h>

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

namespace {

struct ProbeData {
  std::weak_ptr<Switch> owner;
  Medium medium;
};

GstBuffer *
first_buffer (GstPadProbeInfo *info)
{
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    return gst_buffer_list_length (list) ? gst_buffer_list_get (list, 0) : nullptr;
  }
  return GST_PAD_PROBE_INFO_BUFFER (info);
}

constexpr GstPadProbeType DATA = GstPadProbeType (GST_PAD_PROBE_TYPE_BUFFER |
    GST_PAD_PROBE_TYPE_BUFFER_LIST);
/* how often the upgrade attempt may ask for a key frame while it waits for a usable one */
constexpr gint64 KEY_REQUEST_INTERVAL_US = G_USEC_PER_SEC;

}  // namespace

Switch::Switch (GstElement *element, OutputPads &outputs, GstClockTime max_wait,
    std::function<void ()> ready, std::function<void ()> swapped)
  : element_ (element), outputs_ (outputs), max_wait_ (max_wait), ready_ (std::move (ready)),
    swapped_cb_ (std::move (swapped))
{
}

Switch::~Switch ()
{
  cut_current (GST_CLOCK_TIME_NONE);
  for (GstPad *&p : pads_)
    gst_clear_object (&p);
}

bool
Switch::swapped ()
{
  std::lock_guard<std::mutex> guard (lock_);
  return swapped_;
}

void
Switch::add_pad (Medium m, GstPad *pad)
{
  {
    std::lock_guard<std::mutex> guard (lock_);
    if (aborted_)
      return;
    if (!swapped_) {
      gst_object_replace ((GstObject **) &pads_[int (m)], GST_OBJECT (pad));
      gst_pad_add_probe (pad, DATA, +[] (GstPad *p, GstPadProbeInfo *info, gpointer data) {
        auto *d = static_cast<ProbeData *> (data);
        auto self = d->owner.lock ();
        GstBuffer *buf = first_buffer (info);
        if (!self || !buf)
          return GST_PAD_PROBE_DROP;
        return self->on_upgrade_buffer (d->medium, p, buf);
      }, new ProbeData { shared_from_this (), m }, [] (gpointer d) {
        delete static_cast<ProbeData *> (d);
      });
      return;
    }
  }
  /* it came after the swap: straight behind ours */
  outputs_.attach (m, pad);
}

void
Switch::go ()
{
  std::lock_guard<std::mutex> guard (lock_);
  answer_ = Answer::GO;
  cond_.notify_all ();
}

void
Switch::abort ()
{
  std::lock_guard<std::mutex> guard (lock_);
  aborted_ = true;
  if (answer_ == Answer::NONE)
    answer_ = Answer::ABORT;
  cond_.notify_all ();
}

/* lock_ held */
void
Switch::cut_current (GstClockTime t)
{
  for (int i = 0; i < 2; i++) {
    if (current_[i] && cut_probes_[i])
      gst_pad_remove_probe (current_[i], cut_probes_[i]);
    cut_probes_[i] = 0;
    gst_clear_object (&current_[i]);
  }
  cut_at_ = t;
  reached_ = false;
  cond_.notify_all ();   /* what waits for the cut's outcome */
  if (!GST_CLOCK_TIME_IS_VALID (t))
    return;
  Medium lead = outputs_.has_pad (Medium::VIDEO) ? Medium::VIDEO : Medium::AUDIO;
  for (Medium m : { Medium::VIDEO, Medium::AUDIO }) {
    int i = int (m);
    current_[i] = outputs_.target (m);
    if (!current_[i]) {
      reached_ = reached_ || m == lead;   /* nothing to wait for */
      continue;
    }
    cut_probes_[i] = gst_pad_add_probe (current_[i], DATA, +[] (GstPad *,
        GstPadProbeInfo *info, gpointer data) {
      auto *d = static_cast<ProbeData *> (data);
      auto self = d->owner.lock ();
      GstBuffer *buf = first_buffer (info);
      if (!self || !buf)
        return GST_PAD_PROBE_OK;
      return self->on_current_buffer (d->medium, buf);
    }, new ProbeData { shared_from_this (), m }, [] (gpointer d) {
      delete static_cast<ProbeData *> (d);
    });
  }
}

/* The current attempt, cut: nothing at or past the upgrade's key frame goes out of it. */
GstPadProbeReturn
Switch::on_current_buffer (Medium m, GstBuffer *buf)
{
  std::lock_guard<std::mutex> guard (lock_);
  if (!GST_CLOCK_TIME_IS_VALID (cut_at_))
    return GST_PAD_PROBE_OK;
  GstClockTime pts = GST_BUFFER_PTS (buf);
  if (swapped_ || (GST_CLOCK_TIME_IS_VALID (pts) && pts >= cut_at_)) {
    Medium lead = outputs_.has_pad (Medium::VIDEO) ? Medium::VIDEO : Medium::AUDIO;
    if (m == lead && !reached_) {
      reached_ = true;
      cond_.notify_all ();
    }
    return GST_PAD_PROBE_DROP;
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn
Switch::on_upgrade_buffer (Medium m, GstPad *pad, GstBuffer *buf)
{
  {
    std::lock_guard<std::mutex> guard (lock_);
    if (swapped_)
      return GST_PAD_PROBE_REMOVE;   /* this one and the rest go out */
    if (aborted_)
      return GST_PAD_PROBE_DROP;
  }
  /* video leads, at a key frame; audio alone when there is no video */
  Medium lead = outputs_.has_pad (Medium::VIDEO) ? Medium::VIDEO : Medium::AUDIO;
  GstClockTime pts = GST_BUFFER_PTS (buf);
  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return GST_PAD_PROBE_DROP;
  if (m != lead) {
    /* from the cut on, it waits with the key frame: the current attempt's stops there */
    std::unique_lock<std::mutex> guard (lock_);
    if (!GST_CLOCK_TIME_IS_VALID (cut_at_) || pts < cut_at_)
      return GST_PAD_PROBE_DROP;
    cond_.wait (guard, [this] () {
      return swapped_ || aborted_ || !GST_CLOCK_TIME_IS_VALID (cut_at_);
    });
    return swapped_ ? GST_PAD_PROBE_REMOVE : GST_PAD_PROBE_DROP;
  }
  if (m == Medium::VIDEO && GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT))
    return GST_PAD_PROBE_DROP;
  GstClockTime sent = outputs_.last_pts (m);
  if (GST_CLOCK_TIME_IS_VALID (sent) && pts <= sent) {
    /* the current attempt is ahead of this key frame: a later one, then */
    gint64 now = g_get_monotonic_time ();
    if (m == Medium::VIDEO && now - last_key_request_ > KEY_REQUEST_INTERVAL_US) {
      last_key_request_ = now;
      gst_pad_send_event (pad, gst_video_event_new_upstream_force_key_unit (
          GST_CLOCK_TIME_NONE, TRUE, 0));
    }
    GST_LOG_OBJECT (element_, "upgrade key frame at %" GST_TIME_FORMAT " is behind %"
        GST_TIME_FORMAT, GST_TIME_ARGS (pts), GST_TIME_ARGS (sent));
    return GST_PAD_PROBE_DROP;
  }
  return switch_at (pad, pts) ? GST_PAD_PROBE_REMOVE : GST_PAD_PROBE_DROP;
}

/* The key frame at t holds this streaming thread until the pads are ours, or not. */
bool
Switch::switch_at (GstPad *pad, GstClockTime t)
{
  std::unique_lock<std::mutex> guard (lock_);
  cut_current (t);
  GST_INFO_OBJECT (element_, "upgrade: key frame at %" GST_TIME_FORMAT ", waiting up to %"
      GST_TIME_FORMAT " for the current attempt to get there", GST_TIME_ARGS (t),
      GST_TIME_ARGS (max_wait_));
  bool reached = cond_.wait_for (guard, std::chrono::nanoseconds (max_wait_),
      [this] () { return reached_ || aborted_; });
  if (aborted_) {
    cut_current (GST_CLOCK_TIME_NONE);
    return false;
  }
  if (!reached)
    GST_INFO_OBJECT (element_, "upgrade: the current attempt did not get there in time");
  guard.unlock ();
  ready_ ();
  guard.lock ();
  /* the worker answers at once (or aborts when it stops) */
  cond_.wait (guard, [this] () { return answer_ != Answer::NONE; });
  if (answer_ != Answer::GO) {
    cut_current (GST_CLOCK_TIME_NONE);
    return false;
  }
  Medium lead = pad == pads_[0] ? Medium::VIDEO : Medium::AUDIO;
  int other = lead == Medium::VIDEO ? 1 : 0;
  GstPad *other_pad = pads_[other] ? GST_PAD (gst_object_ref (pads_[other])) : nullptr;
  guard.unlock ();
  /* both pads in place before either lets buffers through: a buffer let through to a pad
   * not behind ours yet would come back not-linked */
  outputs_.attach (lead, pad, true);
  if (other_pad)
    outputs_.attach (Medium (other), other_pad);
  guard.lock ();
  swapped_ = true;
  cond_.notify_all ();
  GstPad *late = pads_[other] != other_pad && pads_[other]
      ? GST_PAD (gst_object_ref (pads_[other])) : nullptr;
  guard.unlock ();
  if (late) {
    /* it came while the first ones went in */
    outputs_.attach (Medium (other), late);
    gst_object_unref (late);
  }
  gst_clear_object (&other_pad);
  GST_INFO_OBJECT (element_, "upgrade: the pads are the new attempt's from %"
      GST_TIME_FORMAT, GST_TIME_ARGS (t));
  swapped_cb_ ();
  return true;
}

}  // namespace red5pro
