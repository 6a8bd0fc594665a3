/* red5pro-hls: an HLS attempt (protocol notes, section 14): the edge lookup, then
 * souphttpsrc ! hlsdemux ! tsdemux ! parser [! decoder] per medium in a bin of its own,
 * behind pads named as a WebRTC attempt's; HLS timestamps onto the running time
 * (red5pro-retime), the latency that costs, and what HLS errors mean. Worker thread but for
 * the streaming-thread callbacks. */
#pragma once

#include "red5pro-attempt.h"
#include "red5pro-edge-lookup.h"
#include "red5pro-ptr.h"
#include "red5pro-retime.h"

#include <gst/gst.h>

#include <atomic>
#include <mutex>
#include <string>

namespace red5pro {

/* Where the stream's playlist is: through the Stream Manager 1.x proxy, its file API;
 * else the edge's own /{app}/{stream}.m3u8 (an app with a context path keeps its slash). */
std::string hls_url (const SubscriberConfig &cfg, const std::string &edge,
    const std::string &app, guint edge_port);

class HlsAttempt : public Attempt {
public:
  HlsAttempt (GstElement *element, Worker &worker, SubscriberConfig cfg,
      AttemptListener *listener, guint number, bool upgrade);
  ~HlsAttempt () override;

  void start () override;
  bool owns (GstObject *object) const override;
  gint64 last_media_time () const override { return last_media_.load (); }
  guint64 packets () const override { return packets_.load (); }
  guint64 bytes () const override { return bytes_.load (); }
  GstClockTime inactivity_allowance () const override;
  GstClockTime switch_wait () const override;
  GstClockTime latency () const override;

private:
  struct Branch;

  void teardown () override;
  Failure child_failure (const std::string &message, bool downstream,
      const GError *error) override;
  void on_lookup (const LookupOutcome &outcome);
  void play (const std::string &url);
  /* streaming threads */
  void on_demux_pad (GstPad *pad);
  void on_ts_pad (GstPad *pad);
  void on_ts_no_more_pads ();
  GstPadProbeReturn on_data (Branch &branch, GstPadProbeInfo *info);
  bool retime (Branch &branch, GstBuffer **buf);
  void configure_source (GstElement *element);
  gpointer weak_data ();

  GstObjectPtr<GstBin> bin_;
  GstElement *tsdemux_ = nullptr;  /* in bin_ */
  std::mutex pads_lock_;           /* pad-added against teardown; the fields below */
  bool has_video_ = false;
  bool has_audio_ = false;
  bool media_expected_ = false;

  std::mutex time_lock_;
  LiveRetimer retimer_;            /* time_lock_ */
  GstClockTime reported_latency_ = 0;   /* time_lock_ */
  std::atomic<gint64> last_media_ { 0 };
  std::atomic<gint64> longest_pause_ { 0 };   /* us between two buffers in */
  std::atomic<guint64> packets_ { 0 };
  std::atomic<guint64> bytes_ { 0 };
  std::atomic<bool> media_out_ { false };
};

}  // namespace red5pro
