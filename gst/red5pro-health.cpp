/* red5pro-health: SDK 15's connection health checks over an attempt's samples. */
#include "red5pro-health.h"

namespace red5pro {

const char *
health_event_name (Health h)
{
  switch (h) {
    case Health::STALE_STATS: return "WebRTC.Connection.StaleStats";
    case Health::STATE_REGRESSION: return "WebRTC.Connection.StateRegression";
    case Health::EXCESSIVE_RTT: return "WebRTC.Connection.ExcessiveRTT";
    case Health::ICE_TIMEOUT: return "WebRTC.Connection.IceTimeout";
  }
  return "";
}

const char *
health_reason (Health h)
{
  switch (h) {
    case Health::STALE_STATS: return "stale-stats";
    case Health::STATE_REGRESSION: return "state-regression";
    case Health::EXCESSIVE_RTT: return "excessive-rtt";
    case Health::ICE_TIMEOUT: return "ice-timeout";
  }
  return "";
}

/* inferred: the notes name the policies (regression, timeout, disconnect) and the checks,
 * not which check each policy acts on; regression is taken to act on the checks of a
 * connection that got worse (state, stale figures, RTT), timeout on ICE that never gets
 * through, and both also on a disconnect */
bool
health_retries (RenegotiationPolicy policy, Health h)
{
  switch (policy) {
    case RenegotiationPolicy::REGRESSION:
      return h == Health::STATE_REGRESSION || h == Health::STALE_STATS ||
          h == Health::EXCESSIVE_RTT;
    case RenegotiationPolicy::TIMEOUT:
      return h == Health::ICE_TIMEOUT;
    case RenegotiationPolicy::NONE:
    case RenegotiationPolicy::DISCONNECT:
      return false;
  }
  return false;
}

std::vector<Health>
HealthMonitor::sample (const HealthSample &s)
{
  std::vector<Health> out;
  const bool up = s.ice == "connected" || s.ice == "completed";

  /* StaleStats: the SDK's RTT unchanged over STALE_SAMPLES samples; where webrtcbin reports
   * no RTT, the packets received (the statistics that stopped moving). Not while the
   * application has the media paused, nor before ICE is up. */
  bool stale_now = false;
  if (have_last_ && up && !s.paused) {
    bool same = s.rtt_s >= 0 ? s.rtt_s == last_.rtt_s : s.packets == last_.packets;
    unchanged_ = same ? unchanged_ + 1 : 0;
    stale_now = unchanged_ >= STALE_SAMPLES;
  } else {
    unchanged_ = 0;
  }
  if (stale_now && !stale_said_)
    out.push_back (Health::STALE_STATS);
  stale_said_ = stale_now;

  /* StateRegression: the pair left succeeded while ICE is not connected, i.e. ICE went back
   * from connected to checking or disconnected (failed is a disconnect: the attempt's
   * failure) */
  bool regressed = ice_was_up_ && (s.ice == "checking" || s.ice == "disconnected");
  if (regressed && !regression_said_)
    out.push_back (Health::STATE_REGRESSION);
  regression_said_ = regressed;
  if (up)
    ice_was_up_ = true;

  /* ExcessiveRTT: over a second */
  bool slow = s.rtt_s > EXCESSIVE_RTT_S;
  if (slow && !rtt_said_)
    out.push_back (Health::EXCESSIVE_RTT);
  rtt_said_ = slow;

  /* IceTimeout: checking (the pair in progress) for longer than the ICE timeout */
  if (s.ice == "checking") {
    if (!checking_since_)
      checking_since_ = s.now_us ? s.now_us : 1;
  } else {
    checking_since_ = 0;
  }
  bool timed_out = checking_since_ && s.now_us - checking_since_ >= gint64 (ice_timeout_ms_) * 1000;
  if (timed_out && !timeout_said_)
    out.push_back (Health::ICE_TIMEOUT);
  timeout_said_ = timed_out;

  last_ = s;
  have_last_ = true;
  return out;
}

}  // namespace red5pro
