/* red5pro-health: SDK 15's connection health checks (protocol notes, section 15), read off
 * one WebRTC attempt's samples, one per stats interval: what each sample says (events with
 * the SDK's names), and which of them the renegotiation policy turns into a retry. Pure logic,
 * no GStreamer objects: the attempt samples, this decides. */
#pragma once

#include <glib.h>

#include <string>
#include <vector>

namespace red5pro {

/* renegotiation-policy: which health event, besides the failures every attempt has (peer
 * connection failed, the channel closed, inactivity), also starts a retry */
enum class RenegotiationPolicy {
  NONE,         /* none: health events are only posted; a failed peer connection is left to
                 * the inactivity timeout and the channel's close */
  REGRESSION,   /* StateRegression, StaleStats, ExcessiveRTT (and what disconnect does) */
  TIMEOUT,      /* IceTimeout (and what disconnect does) */
  DISCONNECT,   /* ICE failed: today's failover (default) */
};

enum class Health {
  STALE_STATS,        /* WebRTC.Connection.StaleStats */
  STATE_REGRESSION,   /* WebRTC.Connection.StateRegression */
  EXCESSIVE_RTT,      /* WebRTC.Connection.ExcessiveRTT */
  ICE_TIMEOUT,        /* WebRTC.Connection.IceTimeout */
};

/* the SDK's event name, and the retry reason (stale-stats, state-regression, excessive-rtt,
 * ice-timeout) */
const char *health_event_name (Health h);
const char *health_reason (Health h);
/* true when the policy retries on this event */
bool health_retries (RenegotiationPolicy policy, Health h);

struct HealthSample {
  gint64 now_us = 0;          /* monotonic */
  /* ICE as webrtcbin says it: new, checking, connected, completed, failed, disconnected,
   * closed (GstWebRTCICEConnectionState's nicks) */
  std::string ice;
  /* the selected candidate pair's current round-trip time (s), < 0 when webrtcbin reports
   * none: 1.22 to 1.26 report none */
  double rtt_s = -1;
  guint64 packets = 0;        /* RTP packets received so far, every medium */
  bool paused = false;        /* the application paused all of the media (set-muted) */
};

class HealthMonitor {
public:
  /* the SDK's thresholds: an RTT over 1 s, stale over 3 samples, ICE checking for longer
   * than ice_timeout_ms (iceTimeoutInterval, 5000) */
  explicit HealthMonitor (guint ice_timeout_ms = 5000) : ice_timeout_ms_ (ice_timeout_ms) {}
  /* What this sample says that the last ones did not: each event once per episode (again
   * after the condition has cleared). */
  std::vector<Health> sample (const HealthSample &s);

  static constexpr double EXCESSIVE_RTT_S = 1.0;
  static constexpr guint STALE_SAMPLES = 3;

private:
  guint ice_timeout_ms_;
  bool have_last_ = false;
  HealthSample last_;
  guint unchanged_ = 0;          /* samples in a row whose figure did not move */
  bool ice_was_up_ = false;      /* ICE was connected or completed */
  gint64 checking_since_ = 0;    /* when ICE went into checking (0: it is not) */
  bool stale_said_ = false, regression_said_ = false, rtt_said_ = false, timeout_said_ = false;
};

}  // namespace red5pro
