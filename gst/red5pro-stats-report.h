/* red5pro-stats-report: stats reporting as SDK 15.2's `stats` option does it (protocol
 * notes, section 15): the RTCSubscriberStats envelopes, built with json-glib from
 * webrtcbin's get-stats, and where they go (POSTed to an http(s) endpoint, or sent on the
 * red5pro data channel, and always the bus event): one request in flight at most, failures
 * dropped, counted and warned of once. Runs on the worker. */
#pragma once

#include "red5pro-ptr.h"
#include "red5pro-url.h"
#include "red5pro-worker.h"

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace red5pro {

/* The envelope's "client": who reports (connection parameters with secret values
 * redacted in the envelope). */
struct StatsClient {
  std::string host;
  std::string app;
  std::string stream_name;
  std::string subscription_id;
  QueryPairs connection_params;
};

/* What the element counts beside webrtcbin, reported with the video's inbound-rtp. */
struct StatsExtras {
  guint64 frames_dropped = 0;   /* frames that could not be completed (the depayloader) */
  guint freezes = 0;            /* the element's freezes (by presentation time) */
};

/* The envelopes, in the SDK's shape:
 * {"name":"RTCSubscriberStats","created","fingerprint","device","client","type":"stats-report",
 *  "timestamp","data":{...}}; times in ms since the epoch. */
class StatsReport {
public:
  /* fingerprint: the element's (random when empty) */
  explicit StatsReport (std::string fingerprint = "");

  const std::string &fingerprint () const { return fingerprint_; }
  /* Reporting (re)starts: "created" is now. */
  void restart ();
  /* One envelope per stats object of a get-stats reply: every codec, the selected
   * candidate pair (every pair when none is selected), the inbound-rtp of each medium
   * (the SDK's field names: webrtcbin's in camel case, estimatedBitrate in kbit/s since
   * the last report). */
  std::vector<std::string> envelopes (const StatsClient &client, const GstStructure *stats,
      const StatsExtras &extras, gint64 now_ms);
  /* {"action":{"type":type}}: "started" or "ended" */
  std::string action (const StatsClient &client, const char *type, gint64 now_ms);

private:
  std::string envelope (const StatsClient &client, JsonNode *data, gint64 now_ms);

  std::string fingerprint_;
  gint64 created_ms_ = 0;
  std::string subscription_;   /* of the last report: bytes_ is per subscription */
  std::map<std::string, std::pair<guint64, gint64>> bytes_;   /* by stats id: bytes, ms */
};

/* The three forms of stats-endpoint: "" (the bus event only), "data-channel", or an
 * http(s) URL with a host. */
bool stats_endpoint_valid (const std::string &endpoint);
constexpr const char *STATS_DATA_CHANNEL = "data-channel";

/* Where the envelopes go, and what it cost. */
class StatsReporter {
public:
  /* Hands a text to the attempt's red5pro data channel; false when it has none. */
  using ChannelSend = std::function<bool (const std::string &text)>;

  StatsReporter (GstElement *element, Worker &worker);
  ~StatsReporter ();
  StatsReporter (const StatsReporter &) = delete;
  StatsReporter &operator= (const StatsReporter &) = delete;

  /* PLAYING: the configured endpoint; secrets are kept out of the bus event. */
  void start (const std::string &endpoint, std::vector<std::string> secrets);
  /* The queue is dropped; a request in flight gets STOP_GRACE_MS more (a final "ended"). */
  void stop ();
  static constexpr guint STOP_GRACE_MS = 500;
  /* The server named another endpoint: used from now on, with
   * Subscribe.StatisticsEndpoint.Change. */
  void change_endpoint (const std::string &endpoint);
  const std::string &endpoint () const { return endpoint_; }

  /* One interval's reports of the current attempt. Over HTTP, skipped while the previous
   * interval's POSTs are still under way (the bus event goes all the same). */
  void report (const StatsClient &client, const GstStructure *stats, const StatsExtras &extras,
      const ChannelSend &channel);
  /* A WebRTC attempt started ("started") or ended ("ended"). */
  void action (const StatsClient &client, const char *type, const ChannelSend &channel);

  /* Envelopes delivered (HTTP 2xx, or handed to the data channel) and dropped. Any thread. */
  guint64 sent () const { return sent_.load (); }
  guint64 failed () const { return failed_.load (); }

  /* Envelopes waiting for the one request in flight; more are dropped (counted). */
  static constexpr size_t MAX_QUEUED = 32;

private:
  void deliver (std::vector<std::string> envelopes, const ChannelSend &channel, bool interval);
  void post_next ();
  void dropped (guint64 n, const std::string &why);

  GstElement *element_;
  Worker &worker_;
  StatsReport report_;
  std::string endpoint_;
  std::vector<std::string> secrets_;
  GObjectPtr<GCancellable> cancellable_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool> (true);
  guint generation_ = 0;           /* +1 per start and stop: old answers are not ours */
  bool in_flight_ = false;
  std::deque<std::string> queue_;  /* waiting for the POST in flight */
  bool warned_ = false;            /* the WARNING for this endpoint was posted */
  std::atomic<guint64> sent_ { 0 };
  std::atomic<guint64> failed_ { 0 };
};

}  // namespace red5pro
