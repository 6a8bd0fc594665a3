/* subscriber: what a benchmarked client is to the benchmark, whichever it is (red5prosrc
 * of this tree, red5prosrc of an older build, the floor client): start, stop, and what its
 * fakesinks saw, timed on the monotonic clock in the streaming threads (not polled). */
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <string>

namespace bench {

/* Counts the buffers reaching a fakesink and times the first one, and the first one after
 * arm() (monotonic microseconds, 0 = none yet). */
class SinkCounter {
public:
  void attach (GstElement *fakesink);
  guint64 buffers () const { return buffers_; }
  gint64 first_us () const { return first_; }
  gint64 last_us () const { return last_; }
  /* the next buffer's time goes to next_us () */
  void arm ();
  gint64 next_us () const { return next_; }

private:
  static GstPadProbeReturn on_data (GstPad *, GstPadProbeInfo *info, gpointer data);
  std::atomic<guint64> buffers_ { 0 };
  std::atomic<gint64> first_ { 0 }, last_ { 0 }, next_ { 0 };
  std::atomic<bool> armed_ { false };
};

inline void
SinkCounter::attach (GstElement *fakesink)
{
  GstPad *pad = gst_element_get_static_pad (fakesink, "sink");
  gst_pad_add_probe (pad, GstPadProbeType (GST_PAD_PROBE_TYPE_BUFFER |
          GST_PAD_PROBE_TYPE_BUFFER_LIST), on_data, this, nullptr);
  gst_object_unref (pad);
}

inline void
SinkCounter::arm ()
{
  next_ = 0;
  armed_ = true;
}

inline GstPadProbeReturn
SinkCounter::on_data (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *self = static_cast<SinkCounter *> (data);
  gint64 now = g_get_monotonic_time ();
  guint n = GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER_LIST
      ? gst_buffer_list_length (GST_PAD_PROBE_INFO_BUFFER_LIST (info)) : 1;
  gint64 none = 0;
  self->first_.compare_exchange_strong (none, now);
  self->last_ = now;
  if (self->armed_.exchange (false))
    self->next_ = now;
  self->buffers_ += n;
  return GST_PAD_PROBE_OK;
}

class Subscriber {
public:
  virtual ~Subscriber () = default;
  /* Builds and starts the client; the join is timed from the call. False: could not even
   * start (error () says why). */
  virtual bool start () = 0;
  /* Stops it and releases everything (idempotent). */
  virtual void stop () = 0;
  /* An error was seen (pipeline ERROR, failed negotiation); error () says which. */
  virtual bool failed () const = 0;
  virtual std::string error () const = 0;
  /* The address of the edge it receives from ("" when it does not know yet). */
  virtual std::string edge () = 0;

  gint64 started_us () const { return started_; }
  /* start () to the first video buffer at the sink, in ms; < 0 when none came */
  double join_ms () const
  {
    return video.first_us () ? (video.first_us () - started_) / 1000.0 : -1;
  }

  SinkCounter video, audio;

protected:
  gint64 started_ = 0;
};

/* Polls cond every 5 ms until it holds or timeout_s passes. Measurements come from the
 * timestamps above, not from this loop. */
template <typename F>
bool
wait_for (F cond, double timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + gint64 (timeout_s * G_USEC_PER_SEC);
  while (!cond ()) {
    if (g_get_monotonic_time () > deadline)
      return false;
    g_usleep (5000);
  }
  return true;
}

}  // namespace bench
