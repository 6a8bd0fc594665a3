/* red5pro-switch: an upgrade attempt takes over the pads at a key frame, without a gap; a
 * standby, at the frame after the last one shown. */
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
/* a standby keeps at most this many buffers per medium, whatever their times say */
constexpr size_t RING_MAX_BUFFERS = 900;

bool
is_key (Medium m, GstBuffer *buf)
{
  return m != Medium::VIDEO || !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
}

/* the shortest step between two buffers' times: the frame interval (NONE if unknown) */
GstClockTime
shortest_step (const std::deque<GstBuffer *> &ring)
{
  guint64 shortest = G_MAXUINT64;
  for (size_t i = 1; i < ring.size (); i++) {
    GstClockTime a = GST_BUFFER_PTS (ring[i - 1]), b = GST_BUFFER_PTS (ring[i]);
    if (GST_CLOCK_TIME_IS_VALID (a) && GST_CLOCK_TIME_IS_VALID (b) && b > a)
      shortest = MIN (shortest, b - a);
  }
  return shortest == G_MAXUINT64 ? GST_CLOCK_TIME_NONE : shortest;
}

}  // namespace

Switch::Switch (GstElement *element, OutputPads &outputs, GstClockTime max_wait,
    std::function<void ()> ready, std::function<void ()> swapped, bool hold, bool need_sync)
  : element_ (element), outputs_ (outputs), max_wait_ (max_wait), ready_ (std::move (ready)),
    swapped_cb_ (std::move (swapped)), need_sync_ (need_sync), hold_ (hold)
{
}

Switch::~Switch ()
{
  cut_current (GST_CLOCK_TIME_NONE);
  for (GstPad *&p : pads_)
    gst_clear_object (&p);
  for (auto &r : ring_) {
    for (GstBuffer *b : r)
      gst_buffer_unref (b);
    r.clear ();
  }
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
    if (!swapped_ && hold_) {
      gst_object_replace ((GstObject **) &pads_[int (m)], GST_OBJECT (pad));
      gst_pad_add_probe (pad, DATA, +[] (GstPad *p, GstPadProbeInfo *info, gpointer data) {
        auto *d = static_cast<ProbeData *> (data);
        auto self = d->owner.lock ();
        return self ? self->on_standby_data (d->medium, p, info) : GST_PAD_PROBE_DROP;
      }, new ProbeData { shared_from_this (), m }, [] (gpointer d) {
        delete static_cast<ProbeData *> (d);
      });
      return;
    }
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
  for (auto &r : ring_) {
    for (GstBuffer *b : r)
      gst_buffer_unref (b);
    r.clear ();
  }
  cond_.notify_all ();
}

void
Switch::take_over ()
{
  GstPad *video;
  {
    std::lock_guard<std::mutex> guard (lock_);
    take_over_ = true;
    video = pads_[int (Medium::VIDEO)] ? GST_PAD (gst_object_ref (pads_[int (Medium::VIDEO)]))
                                       : nullptr;
  }
  if (!video)
    return;
  /* Encoded video goes on at a key frame: the kept ones are usually older than the last
   * frame shown, so one is asked for now (a PLI on the standby's RTP session), not when
   * the next buffer comes. Decoded video goes on at any frame. */
  GstCaps *caps = gst_pad_get_current_caps (video);
  if (caps && !gst_structure_has_name (gst_caps_get_structure (caps, 0), "video/x-raw")) {
    {
      std::lock_guard<std::mutex> guard (lock_);
      last_key_request_ = g_get_monotonic_time ();
    }
    gst_pad_send_event (video, gst_video_event_new_upstream_force_key_unit (
        GST_CLOCK_TIME_NONE, TRUE, 0));
  }
  if (caps)
    gst_caps_unref (caps);
  gst_object_unref (video);
}

/* ---- hold mode: the standby ------------------------------------------------------------ */

/* Keeps buf; drops what is older than RING_MIN before the newest, but video only a whole
 * GOP at a time (the ring starts at a key frame, or is empty). */
void
Switch::keep_locked (Medium m, GstBuffer *buf)
{
  auto &r = ring_[int (m)];
  GstClockTime newest = GST_BUFFER_PTS (buf);
  if (!GST_CLOCK_TIME_IS_VALID (newest))
    return;
  r.push_back (gst_buffer_ref (buf));
  /* the last key frame at least RING_MIN old: what comes before it can go */
  size_t cut = 0;
  for (size_t i = 1; i < r.size (); i++) {
    GstClockTime t = GST_BUFFER_PTS (r[i]);
    if (t + RING_MIN > newest)
      break;
    if (is_key (m, r[i]))
      cut = i;
  }
  if (r.size () > RING_MAX_BUFFERS)
    cut = MAX (cut, r.size () - RING_MAX_BUFFERS);
  for (size_t i = 0; i < cut; i++) {
    gst_buffer_unref (r.front ());
    r.pop_front ();
  }
  while (!r.empty () && !is_key (m, r.front ())) {
    gst_buffer_unref (r.front ());
    r.pop_front ();
  }
}

GstPadProbeReturn
Switch::on_standby_data (Medium m, GstPad *pad, GstPadProbeInfo *info)
{
  /* what replay() pushes on this pad passes its own probe */
  static thread_local bool replaying = false;
  if (replaying)
    return GST_PAD_PROBE_OK;
  GstBuffer *buf = first_buffer (info);
  if (!buf)
    return GST_PAD_PROBE_DROP;
  GstClockTime pts = GST_BUFFER_PTS (buf);
  bool key = is_key (m, buf);
  last_media_us_ = g_get_monotonic_time ();
  bool swap;
  {
    std::unique_lock<std::mutex> guard (lock_);
    if (aborted_)
      return GST_PAD_PROBE_DROP;
    /* the standby's time-to-capture mapping, from its latest buffer that has one (a warm
     * standby's first comes with the take-over) */
    GstClockTime cap = capture_time (buf);
    if (!swapped_ && GST_CLOCK_TIME_IS_VALID (cap) && GST_CLOCK_TIME_IS_VALID (pts)) {
      standby_map_[int (m)] = GstClockTimeDiff (pts) - GstClockTimeDiff (cap);
      have_map_[int (m)] = true;
    }
    if (!swapped_ && !take_over_) {
      if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
        GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
        for (guint i = 0; i < gst_buffer_list_length (list); i++)
          keep_locked (m, gst_buffer_list_get (list, i));
      } else {
        keep_locked (m, buf);
      }
      Medium lead = outputs_.has_pad (Medium::VIDEO) ? Medium::VIDEO : Medium::AUDIO;
      bool say = !ready_said_ && m == lead && key && GST_CLOCK_TIME_IS_VALID (pts);
      ready_said_ = ready_said_ || say;
      guard.unlock ();
      if (say) {
        GST_INFO_OBJECT (element_, "standby: first key frame at %" GST_TIME_FORMAT,
            GST_TIME_ARGS (pts));
        ready_ ();
      }
      return GST_PAD_PROBE_DROP;
    }
    swap = !swapped_;
  }
  if (swap)
    swap_standby (m, pad);
  replaying = true;
  bool pass = replay (m, pad, buf);
  replaying = false;
  return pass ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

/* Both pads behind ours before anything of the standby goes out (as in switch_at), with
 * the offset that puts the standby's times onto ours: both attempts' buffers carry their
 * capture time, and the same capture time must come out at the same time of ours (each
 * jitter buffer has its own idea of when a frame is due: two edges' differ by hundreds of
 * milliseconds, measured). Without capture times, none. */
void
Switch::swap_standby (Medium, GstPad *)
{
  GstPad *pads[2];
  GstClockTimeDiff offset = 0;
  {
    std::lock_guard<std::mutex> guard (lock_);
    if (swapped_)
      return;
    for (int i = 0; i < 2; i++)
      pads[i] = pads_[i] ? GST_PAD (gst_object_ref (pads_[i])) : nullptr;
    for (Medium m : { Medium::VIDEO, Medium::AUDIO }) {
      GstClockTime pts = outputs_.last_pts (m), cap = outputs_.last_capture (m);
      if (!have_map_[int (m)] || !GST_CLOCK_TIME_IS_VALID (pts) || !GST_CLOCK_TIME_IS_VALID (cap))
        continue;
      offset = (GstClockTimeDiff (pts) - GstClockTimeDiff (cap)) - standby_map_[int (m)];
      use_capture_ = true;
      break;
    }
    offset_ = offset;
    GST_INFO_OBJECT (element_, "standby: %s, offset %" GST_STIME_FORMAT, use_capture_
        ? "frames matched by capture time" : "no capture times: frames matched by our time",
        GST_STIME_ARGS (offset));
  }
  if (pads[0])
    outputs_.attach (Medium::VIDEO, pads[0], true, offset);
  if (pads[1])
    outputs_.attach (Medium::AUDIO, pads[1], false, offset);
  std::lock_guard<std::mutex> guard (lock_);
  swapped_ = true;
  cond_.notify_all ();
  GST_INFO_OBJECT (element_, "standby: the pads are the standby's");
  for (GstPad *&p : pads)
    gst_clear_object (&p);
}

/* The first time after the swap: what the ring holds past what our pad sent goes out (video
 * from a key frame), then buf if it is past that too. Every later buffer: passes when past
 * the first point, and (video) once a key frame went out. "Past": by capture time when both
 * attempts have them, else by our time (the standby's plus the offset), half a frame later
 * than the last buffer sent. */
bool
Switch::replay (Medium m, GstPad *pad, GstBuffer *buf)
{
  std::vector<GstBuffer *> out;
  bool pass, first_video_out = false, ask_key = false;
  GstClockTime buf_pts = GST_BUFFER_PTS (buf);
  {
    std::lock_guard<std::mutex> guard (lock_);
    int i = int (m);
    auto &r = ring_[i];
    /* a buffer's capture time; one without (h264parse's key frames with the parameter
     * sets put in front carry no meta) by the standby's own time-to-capture mapping */
    if (!replayed_[i])
      by_capture_[i] = use_capture_ && have_map_[i] &&
          GST_CLOCK_TIME_IS_VALID (outputs_.last_capture (m));
    auto when = [this, i] (GstBuffer *b) {
      GstClockTime pts = GST_BUFFER_PTS (b);
      if (!by_capture_[i])
        return GST_CLOCK_TIME_IS_VALID (pts) ? GstClockTime (pts + offset_) : GST_CLOCK_TIME_NONE;
      GstClockTime cap = capture_time (b);
      if (GST_CLOCK_TIME_IS_VALID (cap) || !GST_CLOCK_TIME_IS_VALID (pts))
        return cap;
      return GstClockTime (GstClockTimeDiff (pts) - standby_map_[i]);
    };
    if (!replayed_[i]) {
      replayed_[i] = true;
      GstClockTime last = by_capture_[i] ? outputs_.last_capture (m) : outputs_.last_pts (m);
      /* the frame interval the kept buffers show, else a usual one */
      GstClockTime measured = shortest_step (r);
      GstClockTime step = GST_CLOCK_TIME_IS_VALID (measured) ? measured
          : m == Medium::VIDEO ? GST_SECOND / 30 : 20 * GST_MSECOND;
      if (m == Medium::VIDEO)
        frame_interval_ = step;
      from_[i] = GST_CLOCK_TIME_IS_VALID (last) ? last + step / 2 : GST_CLOCK_TIME_NONE;
      size_t k = 0;
      for (; k < r.size (); k++) {
        GstClockTime t = when (r[k]);
        if (GST_CLOCK_TIME_IS_VALID (t) && (!GST_CLOCK_TIME_IS_VALID (from_[i]) ||
                t > from_[i]) && is_key (m, r[k]))
          break;
      }
      for (size_t j = 0; j < r.size (); j++) {
        if (j >= k)
          out.push_back (r[j]);
        else
          gst_buffer_unref (r[j]);
      }
      r.clear ();
      GST_INFO_OBJECT (element_, "standby: %s goes on after %" GST_TIME_FORMAT " (%s) with "
          "%zu kept buffers", medium_name (m), GST_TIME_ARGS (last), by_capture_[i] ?
          "capture time" : "our time", out.size ());
      if (m == Medium::VIDEO) {
        need_key_ = out.empty ();
        GstClockTime sent = outputs_.last_pts (m);
        if (!out.empty () && GST_CLOCK_TIME_IS_VALID (sent)) {
          gap_ = GST_BUFFER_PTS (out.front ()) + offset_ - sent;
          first_video_out = true;
        }
      }
    }
    GstClockTime t = when (buf);
    pass = GST_CLOCK_TIME_IS_VALID (t) && (!GST_CLOCK_TIME_IS_VALID (from_[i]) || t > from_[i]);
    GST_LOG_OBJECT (element_, "standby: %s buffer at %" GST_TIME_FORMAT " (capture %"
        GST_TIME_FORMAT ")%s: %s", medium_name (m), GST_TIME_ARGS (buf_pts),
        GST_TIME_ARGS (capture_time (buf)), is_key (m, buf) ? " key" : "",
        pass ? "past the last one sent" : "not past the last one sent");
    if (pass && !out.empty ())
      pass = GST_CLOCK_TIME_IS_VALID (buf_pts) && buf_pts > GST_BUFFER_PTS (out.back ());
    if (m == Medium::VIDEO && need_key_) {
      if (pass && is_key (m, buf)) {
        need_key_ = false;
        GstClockTime sent = outputs_.last_pts (m);
        if (GST_CLOCK_TIME_IS_VALID (sent) && buf_pts + offset_ > sent) {
          gap_ = buf_pts + offset_ - sent;
          first_video_out = true;
        }
      } else {
        pass = false;
        gint64 now = g_get_monotonic_time ();
        if (now - last_key_request_ > KEY_REQUEST_INTERVAL_US) {
          last_key_request_ = now;
          ask_key = true;
        }
      }
    }
  }
  /* upstream, not under our lock */
  if (ask_key)
    gst_pad_send_event (pad, gst_video_event_new_upstream_force_key_unit (
        GST_CLOCK_TIME_NONE, TRUE, 0));
  for (GstBuffer *b : out) {
    GstFlowReturn ret = gst_pad_push (pad, b);
    if (ret != GST_FLOW_OK)
      GST_DEBUG_OBJECT (element_, "standby: a kept buffer: %s", gst_flow_get_name (ret));
  }
  bool say = m == (outputs_.has_pad (Medium::VIDEO) ? Medium::VIDEO : Medium::AUDIO) &&
      (first_video_out || m == Medium::AUDIO) && (pass || !out.empty ());
  if (say) {
    std::lock_guard<std::mutex> guard (lock_);
    say = !said_swapped_;
    said_swapped_ = true;
  }
  if (say)
    swapped_cb_ ();
  return pass;
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
  /* Not before its sender reports came: until then rtpbin has not synchronised the
   * attempt's streams, and when it does (the first report) its video's times move (by 37
   * to 75 ms measured, with a server whose reports give capture times): a key frame taken
   * before that would leave a step of two frames right after the switch. The reference
   * timestamp meta on its buffers says the reports are in. */
  if (need_sync_ && !GST_CLOCK_TIME_IS_VALID (capture_time (buf)))
    return GST_PAD_PROBE_DROP;
  if (m == Medium::VIDEO && GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
    /* synchronised now: a key frame from here on, asked for once (not under our lock: the
     * event goes upstream on this thread) */
    bool ask;
    {
      std::lock_guard<std::mutex> guard (lock_);
      ask = need_sync_ && !asked_synced_key_;
      asked_synced_key_ = asked_synced_key_ || ask;
      if (ask)
        last_key_request_ = g_get_monotonic_time ();
    }
    if (ask)
      gst_pad_send_event (pad, gst_video_event_new_upstream_force_key_unit (
          GST_CLOCK_TIME_NONE, TRUE, 0));
    return GST_PAD_PROBE_DROP;
  }
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
