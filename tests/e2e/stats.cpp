/* End-to-end: stats reports as SDK 15.2's stats option sends them (issue 21, item 3).
 * red5prosrc subscribes to the test cluster with stats-interval=500; the cluster keeps the
 * RTCSubscriberStats envelopes it receives (POST /stats on its Stream Manager, or the red5pro
 * data channel) and the tests read them back (control GET /stats): their shape and values,
 * the endpoint the server names, and an endpoint that is down or never answers, which must
 * leave playback, file descriptors and memory alone. Behaviour, not timing: every wait is
 * generous and no figure depends on how busy the machine is. */
#include <gst/check/gstcheck.h>

#include "ports.h"
#include "process-stats.h"
#include "test-cluster.h"
#include "test-subscriber.h"

#include <set>

namespace {

constexpr guint INTERVAL_MS = 500;

/* One envelope as the cluster kept it, the fields the tests look at. */
struct Envelope {
  guint64 seq = 0;
  std::string transport;    /* http, data-channel */
  std::string path;         /* http: the path it was POSTed to */
  std::string name, type, fingerprint, stream_name, subscription_id, host, app;
  std::string user_agent;
  std::string params;       /* client.connectionParams as JSON */
  gint64 created = 0, timestamp = 0;
  std::string data_type;    /* codec, candidate-pair, inbound-rtp, or action */
  std::string action;       /* started, ended */
  std::string kind;         /* inbound-rtp: video, audio */
  std::string state;        /* candidate-pair */
  gint64 packets_received = -1, packets_lost = -1, bytes_received = -1;
  double estimated_bitrate = -1;
  /* inbound-rtp: every SDK field named in the issue is there (video: framesDropped and
   * freezeCount too) */
  bool sdk_fields = false;
};

std::string
member_string (JsonObject *o, const char *name)
{
  return o ? json_object_get_string_member_with_default (o, name, "") : "";
}

JsonObject *
member_object (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : nullptr;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : nullptr;
}

std::vector<Envelope>
received (TestCluster &c, guint64 since = 0)
{
  std::vector<Envelope> out;
  std::string body = c.control ("GET", "/stats?since=" + std::to_string (since));
  JsonParser *parser = json_parser_new ();
  if (json_parser_load_from_data (parser, body.c_str (), -1, nullptr) &&
      JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser))) {
    JsonArray *a = json_node_get_array (json_parser_get_root (parser));
    for (guint i = 0; i < json_array_get_length (a); i++) {
      JsonObject *r = json_array_get_object_element (a, i);
      JsonObject *e = member_object (r, "envelope");
      JsonObject *client = member_object (e, "client");
      JsonObject *device = member_object (e, "device");
      JsonObject *data = member_object (e, "data");
      Envelope env;
      env.seq = guint64 (json_object_get_int_member (r, "seq"));
      env.transport = member_string (r, "transport");
      env.path = member_string (r, "path");
      env.name = member_string (e, "name");
      env.type = member_string (e, "type");
      env.fingerprint = member_string (e, "fingerprint");
      env.created = json_object_get_int_member_with_default (e, "created", 0);
      env.timestamp = json_object_get_int_member_with_default (e, "timestamp", 0);
      env.stream_name = member_string (client, "streamName");
      env.subscription_id = member_string (client, "subscriptionId");
      env.host = member_string (client, "host");
      env.app = member_string (client, "app");
      env.user_agent = member_string (device, "userAgent");
      if (JsonObject *params = member_object (client, "connectionParams")) {
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_set_object (n, params);
        g_autofree char *text = json_to_string (n, FALSE);
        env.params = text;
        json_node_unref (n);
      }
      if (JsonObject *action = member_object (data, "action")) {
        env.data_type = "action";
        env.action = member_string (action, "type");
      } else {
        env.data_type = member_string (data, "type");
        env.kind = member_string (data, "kind");
        env.state = member_string (data, "state");
        env.packets_received = json_object_get_int_member_with_default (data,
            "packetsReceived", -1);
        env.packets_lost = json_object_get_int_member_with_default (data, "packetsLost", -1);
        env.bytes_received = json_object_get_int_member_with_default (data, "bytesReceived", -1);
        env.estimated_bitrate = json_object_get_double_member_with_default (data,
            "estimatedBitrate", -1);
        bool all = true;
        for (const char *f : { "jitter", "packetsReceived", "packetsLost", "bytesReceived",
                 "nackCount", "pliCount", "estimatedBitrate" })
          all = all && json_object_has_member (data, f);
        if (env.kind == "video")
          for (const char *f : { "framesDropped", "freezeCount" })
            all = all && json_object_has_member (data, f);
        env.sdk_fields = all;
      }
      out.push_back (env);
    }
  }
  g_object_unref (parser);
  return out;
}

std::vector<Envelope>
inbound (const std::vector<Envelope> &all, const char *kind)
{
  std::vector<Envelope> out;
  for (const auto &e : all)
    if (e.data_type == "inbound-rtp" && e.kind == kind)
      out.push_back (e);
  return out;
}

guint
count_type (const std::vector<Envelope> &all, const std::string &type)
{
  guint n = 0;
  for (const auto &e : all)
    n += e.data_type == type;
  return n;
}

/* the subscription id the cluster's only subscriber connected with */
std::string
subscription_on_cluster (TestCluster &c)
{
  std::string body = c.control ("GET", "/state");
  JsonParser *parser = json_parser_new ();
  std::string id;
  if (json_parser_load_from_data (parser, body.c_str (), -1, nullptr)) {
    JsonObject *o = json_node_get_object (json_parser_get_root (parser));
    JsonArray *subs = json_object_get_array_member (o, "subscribers");
    if (subs && json_array_get_length (subs) > 0)
      id = member_string (json_array_get_object_element (subs, 0), "subscription-id");
  }
  g_object_unref (parser);
  return id;
}

gint64
stats_state (TestCluster &c, const char *field)
{
  std::string body = c.control ("GET", "/stats/state");
  JsonParser *parser = json_parser_new ();
  gint64 v = -1;
  if (json_parser_load_from_data (parser, body.c_str (), -1, nullptr))
    v = json_object_get_int_member_with_default (
        json_node_get_object (json_parser_get_root (parser)), field, -1);
  g_object_unref (parser);
  return v;
}

guint64
stat (TestSubscriber &sub, const char *field)
{
  GstStructure *s = sub.stats ();
  guint64 v = 0;
  gst_structure_get_uint64 (s, field, &v);
  gst_structure_free (s);
  return v;
}

std::string
props (TestCluster &c, const std::string &more)
{
  return "host=127.0.0.2 port=" + std::to_string (c.port ()) + " stream-name=stream1 "
      "stats-interval=" + std::to_string (INTERVAL_MS) + " " + more;
}

std::string
sm_url (TestCluster &c, const std::string &path)
{
  return "http://127.0.0.1:" + std::to_string (c.port ()) + path;
}

/* waits until the cluster has kept envelopes matching cond */
template <typename F>
bool
wait_received (TestCluster &c, F cond, double timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + gint64 (timeout_s * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < deadline) {
    if (cond (received (c)))
      return true;
    g_usleep (200000);
  }
  return cond (received (c));
}

guint
stats_warnings (TestSubscriber &sub)
{
  guint n = 0;
  for (const auto &w : sub.warnings ())
    n += w.find ("Stats reports") != std::string::npos;
  return n;
}

/* Frames published in a window and how many of them were shown (the frame counter). */
struct Shown {
  guint64 distinct = 0, span = 0;
  double percent () const { return span ? 100.0 * double (distinct) / double (span) : 0; }
};

Shown
shown_since (TestSubscriber &sub, size_t from)
{
  auto frames = sub.frames ();
  std::set<guint32> seen;
  for (size_t i = from; i < frames.size (); i++)
    if (frames[i].counter)
      seen.insert (frames[i].counter);
  Shown s;
  if (!seen.empty ()) {
    s.distinct = seen.size ();
    s.span = *seen.rbegin () - *seen.begin () + 1;
  }
  return s;
}

/* An endpoint that fails (set up by the caller) for 40 intervals: playback goes on, frame
 * for frame; one warning; fds and memory flat. */
void
check_endpoint_failure_leaves_playback_alone (TestCluster &c, TestSubscriber &sub,
    const char *what)
{
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 60; }, 30), "%s: no video: %s",
      what, sub.error_text ().c_str ());
  /* warmed up: a few intervals of failures behind us */
  g_usleep (5 * INTERVAL_MS * 1000);
  guint fds_before = process_stats::fd_count ();
  long rss_before = process_stats::rss_kib ();
  size_t from = sub.frames ().size ();
  guint64 failed_before = stat (sub, "stats-reports-failed");
  guint max_fds = fds_before;
  for (int i = 0; i < 40; i++) {
    g_usleep (INTERVAL_MS * 1000);
    max_fds = MAX (max_fds, process_stats::fd_count ());
  }
  guint fds_after = process_stats::fd_count ();
  long rss_after = process_stats::rss_kib ();
  Shown shown = shown_since (sub, from);
  guint64 failed = stat (sub, "stats-reports-failed");
  g_printerr ("stats (%s): 40 intervals: frames %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
      " (%.1f %%), fds %u -> %u (max %u), RSS %ld -> %ld KiB, failed %" G_GUINT64_FORMAT
      " -> %" G_GUINT64_FORMAT ", sent %" G_GUINT64_FORMAT ", warnings %u, requests %"
      G_GINT64_FORMAT "\n", what, shown.distinct, shown.span, shown.percent (), fds_before,
      fds_after, max_fds, rss_before, rss_after, failed_before, failed,
      stat (sub, "stats-reports-sent"), stats_warnings (sub), stats_state (c, "requests"));
  fail_unless (!sub.has_error (), "%s: %s", what, sub.error_text ().c_str ());
  fail_unless (sub.count ("Red5Pro.Retry.Scheduled") == 0, "%s: a retry", what);
  /* 40 intervals at 30 frames/s: about 600 frames published in the window */
  fail_unless (shown.span >= 300, "%s: the counter moved by %" G_GUINT64_FORMAT " only", what,
      shown.span);
  fail_unless (shown.percent () >= 95.0, "%s: %.1f of the frames shown", what, shown.percent ());
  fail_unless (failed > failed_before, "%s: no failure counted", what);
  fail_unless (stat (sub, "stats-reports-sent") == 0, "%s: reports sent", what);
  fail_unless (stats_warnings (sub) == 1, "%s: %u warnings", what, stats_warnings (sub));
  /* the requests' sockets are closed as they fail: none piles up */
  fail_unless (fds_after <= fds_before + 4 && max_fds <= fds_before + 8,
      "%s: fds %u -> %u (max %u)", what, fds_before, fds_after, max_fds);
#ifndef __SANITIZE_ADDRESS__
  /* under ASan freed memory waits in its quarantine (256 MiB by default): RSS grew 33 MiB
   * there in these 20 s, 4 MiB with quarantine_size_mb=1; leaks are LSan's to find */
  fail_unless (rss_after - rss_before < 16 * 1024, "%s: RSS %ld -> %ld KiB", what, rss_before,
      rss_after);
#endif
  /* the bus event goes on, whatever the endpoint does */
  fail_unless (sub.count ("WebRTC.Stats.Report") >= 40, "%s: %u bus reports", what,
      sub.count ("WebRTC.Stats.Report"));
}

}  // namespace

/* Every 500 ms the envelopes of the current subscription reach the cluster's endpoint in the
 * SDK's shape: one per codec, the candidate pair and each medium's inbound-rtp, with
 * "started" first; packets rise, the fingerprint stays, the subscription id is the one the
 * edge saw, a secret connection parameter is redacted. The element counts them, warns of
 * nothing, and posts the bus event each interval. */
GST_START_TEST (test_envelopes_reach_the_http_endpoint_every_interval)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (props (c, "stats-endpoint=" + sm_url (c, "/stats") +
      " connection-params=\"params,username=bob,password=hunter22\""));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30), "no video: %s",
      sub.error_text ().c_str ());
  fail_unless (wait_received (c, [] (const std::vector<Envelope> &all) {
    return inbound (all, "video").size () >= 10;
  }, 30), "fewer than 10 video reports");
  auto all = received (c);
  auto video = inbound (all, "video"), audio = inbound (all, "audio");
  std::string id = subscription_on_cluster (c);
  fail_unless (!id.empty ());
  std::set<std::string> fingerprints;
  for (const auto &e : all) {
    fail_unless (e.transport == "http" && e.path == "/stats");
    fail_unless (e.name == std::string ("RTCSubscriberStats"));
    fail_unless (e.type == std::string ("stats-report"));
    fail_unless (e.stream_name == std::string ("stream1"));
    fail_unless (e.app == std::string ("live"));
    fail_unless (e.host == std::string ("127.0.0.2"));
    fail_unless (e.subscription_id == id, "subscriptionId %s, the edge saw %s",
        e.subscription_id.c_str (), id.c_str ());
    fail_unless (g_str_has_prefix (e.user_agent.c_str (), "gst-red5pro/"));
    fail_unless (e.params.find ("hunter22") == std::string::npos, "a secret: %s",
        e.params.c_str ());
    fail_unless (e.params.find ("\"bob\"") != std::string::npos, "%s", e.params.c_str ());
    fail_unless (e.timestamp >= e.created && e.created > 0);
    fingerprints.insert (e.fingerprint);
  }
  fail_unless (fingerprints.size () == 1 && !fingerprints.begin ()->empty ());
  fail_unless (all.front ().data_type == "action" && all.front ().action == "started",
      "the first envelope is %s", all.front ().data_type.c_str ());
  fail_unless (count_type (all, "codec") > 0);
  fail_unless (count_type (all, "candidate-pair") > 0);
  for (const auto &e : all)
    if (e.data_type == "candidate-pair")
      fail_unless (e.state == std::string ("succeeded"), "pair state %s", e.state.c_str ());
  fail_unless (!audio.empty ());
  for (const auto &e : video)
    fail_unless (e.sdk_fields, "a video inbound-rtp without the SDK's fields");
  /* plausible values: packets and bytes rise from one report to the next, the bitrate is
   * what 320x240 VP8 costs (tens to hundreds of kbit/s) */
  for (size_t i = 1; i < video.size (); i++) {
    fail_unless (video[i].packets_received >= video[i - 1].packets_received);
    fail_unless (video[i].bytes_received >= video[i - 1].bytes_received);
    fail_unless (video[i].timestamp > video[i - 1].timestamp);
  }
  fail_unless (video.back ().packets_received > video.front ().packets_received);
  double kbps = video.back ().estimated_bitrate;
  fail_unless (kbps > 10 && kbps < 20000, "estimatedBitrate %.1f", kbps);
  /* one report per interval: the timestamps of the video's reports are about 500 ms apart
   * (never closer than the timer allows; a late one is not checked) */
  gint64 span = video.back ().timestamp - video.front ().timestamp;
  double mean = double (span) / double (video.size () - 1);
  for (size_t i = 1; i < video.size (); i++)
    fail_unless (video[i].timestamp - video[i - 1].timestamp >= INTERVAL_MS / 2,
        "two reports %" G_GINT64_FORMAT " ms apart", video[i].timestamp - video[i - 1].timestamp);
  g_printerr ("stats (http): %zu envelopes, %zu video reports %.0f ms apart on average, "
      "packets %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT ", %.0f kbit/s, lost %"
      G_GINT64_FORMAT "\n", all.size (), video.size (), mean, video.front ().packets_received,
      video.back ().packets_received, kbps, video.back ().packets_lost);
  fail_unless (mean >= INTERVAL_MS * 0.8 && mean <= INTERVAL_MS * 4, "mean %.0f ms", mean);
  /* the element's side */
  fail_unless (stat (sub, "stats-reports-sent") >= all.size ());
  fail_unless (stat (sub, "stats-reports-failed") == 0);
  fail_unless (stats_warnings (sub) == 0);
  fail_unless (sub.count ("WebRTC.Stats.Report") >= 10);
  GstStructure *bus = sub.last_event ("WebRTC.Stats.Report");
  fail_unless (bus != nullptr);
  guint count = 0;
  fail_unless (gst_structure_get_uint (bus, "count", &count) && count >= 4);
  fail_unless (std::string (gst_structure_get_string (bus, "endpoint")) == sm_url (c, "/stats"));
  const GValue *reports = gst_structure_get_value (bus, "reports");
  fail_unless (reports && gst_value_array_get_size (reports) == count);
  g_autofree char *text = gst_structure_to_string (bus);
  fail_unless (strstr (text, "hunter22") == nullptr);
  gst_structure_free (bus);
  fail_unless (!sub.has_error (), "%s", sub.error_text ().c_str ());
  /* the end of the subscription is reported too */
  sub.stop ();
  fail_unless (wait_received (c, [] (const std::vector<Envelope> &all) {
    return !all.empty () && all.back ().action == "ended";
  }, 10), "no 'ended' action");
}
GST_END_TEST;

/* Packets the edge's network loses show in the video's packetsLost (the RTP source's
 * count: a packet repaired by retransmission was still lost on the way). */
GST_START_TEST (test_packets_lost_reported_under_loss)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (props (c, "stats-endpoint=" + sm_url (c, "/stats")));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30), "no video: %s",
      sub.error_text ().c_str ());
  fail_unless (wait_received (c, [] (const std::vector<Envelope> &all) {
    return inbound (all, "video").size () >= 2;
  }, 30));
  auto before = inbound (received (c), "video").back ();
  c.control ("POST", "/edge/loss?edge=edge1&percent=5");
  guint64 seq = before.seq;
  fail_unless (wait_received (c, [seq] (const std::vector<Envelope> &all) {
    auto v = inbound (all, "video");
    return v.size () >= 2 && v.back ().seq > seq && v.back ().packets_lost > 0 &&
        v.size () >= 8;
  }, 30), "no loss reported");
  auto after = inbound (received (c, seq), "video").back ();
  c.control ("POST", "/edge/loss?edge=edge1&percent=0");
  g_printerr ("stats (loss 5 %%): packetsLost %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
      ", packetsReceived %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT "\n", before.packets_lost,
      after.packets_lost, before.packets_received, after.packets_received);
  fail_unless (after.packets_lost > before.packets_lost);
  fail_unless (after.packets_received > before.packets_received);
  fail_unless (!sub.has_error (), "%s", sub.error_text ().c_str ());
}
GST_END_TEST;

/* stats-endpoint=data-channel: the envelopes go as text messages on the red5pro channel. */
GST_START_TEST (test_envelopes_go_on_the_data_channel)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (props (c, "stats-endpoint=data-channel"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30), "no video: %s",
      sub.error_text ().c_str ());
  fail_unless (wait_received (c, [] (const std::vector<Envelope> &all) {
    return inbound (all, "video").size () >= 4;
  }, 30), "fewer than 4 video reports on the channel");
  auto all = received (c);
  for (const auto &e : all)
    fail_unless (e.transport == "data-channel" && e.name == "RTCSubscriberStats");
  fail_unless (all.front ().action == "started");
  auto video = inbound (all, "video");
  fail_unless (video.back ().packets_received > video.front ().packets_received);
  fail_unless (count_type (all, "candidate-pair") > 0 && !inbound (all, "audio").empty ());
  g_printerr ("stats (data-channel): %zu envelopes, %zu video reports\n", all.size (),
      video.size ());
  fail_unless (stat (sub, "stats-reports-sent") >= all.size ());
  fail_unless (stat (sub, "stats-reports-failed") == 0);
  fail_unless (stats_warnings (sub) == 0 && !sub.has_error ());
}
GST_END_TEST;

/* The edge's WHEP OPTIONS answer names a stats endpoint (Link rel="statistics"): the
 * element, set to the bus only, reports there and says so. */
GST_START_TEST (test_endpoint_named_in_options_link_is_followed)
{
  TestCluster c ({ "--edges", "1" });
  std::string url = sm_url (c, "/stats/from-link");
  c.control ("POST", "/stats/link?url=" + url);
  TestSubscriber sub (props (c, ""));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait_event ("Subscribe.StatisticsEndpoint.Change", 30), "no change: %s",
      sub.error_text ().c_str ());
  GstStructure *change = sub.last_event ("Subscribe.StatisticsEndpoint.Change");
  std::string endpoint = gst_structure_get_string (change, "endpoint");
  gst_structure_free (change);
  fail_unless (endpoint == url, "endpoint %s", endpoint.c_str ());
  fail_unless (wait_received (c, [] (const std::vector<Envelope> &all) {
    return inbound (all, "video").size () >= 3;
  }, 30), "no reports at the server's endpoint");
  for (const auto &e : received (c))
    fail_unless (e.path == "/stats/from-link", "POSTed to %s", e.path.c_str ());
  fail_unless (sub.count ("Subscribe.StatisticsEndpoint.Change") == 1);
  fail_unless (!sub.has_error (), "%s", sub.error_text ().c_str ());
}
GST_END_TEST;

/* A channel status Application.Statistics.Endpoint moves the reports to its URL. */
GST_START_TEST (test_endpoint_named_on_the_channel_is_followed)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (props (c, "stats-endpoint=" + sm_url (c, "/stats/user")));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30), "no video: %s",
      sub.error_text ().c_str ());
  fail_unless (wait_received (c, [] (const std::vector<Envelope> &all) {
    return inbound (all, "video").size () >= 2;
  }, 30));
  std::string url = sm_url (c, "/stats/from-channel");
  guint status = 0;
  c.control ("POST", "/send/statistics-endpoint?stream=stream1&url=" + url, &status);
  fail_unless (status == 200);
  fail_unless (sub.wait_event ("Subscribe.StatisticsEndpoint.Change", 20));
  GstStructure *change = sub.last_event ("Subscribe.StatisticsEndpoint.Change");
  std::string endpoint = gst_structure_get_string (change, "endpoint");
  gst_structure_free (change);
  fail_unless (endpoint == url, "endpoint %s", endpoint.c_str ());
  fail_unless (wait_received (c, [] (const std::vector<Envelope> &all) {
    return inbound (all, "video").size () >= 2 && all.back ().path == "/stats/from-channel";
  }, 20), "no reports at the new endpoint");
  /* after the first report there, none goes to the old one */
  auto all = received (c);
  bool moved = false;
  for (const auto &e : all) {
    if (e.path == "/stats/from-channel")
      moved = true;
    else
      fail_unless (!moved, "a report went back to %s", e.path.c_str ());
  }
  fail_unless (!sub.has_error (), "%s", sub.error_text ().c_str ());
}
GST_END_TEST;

/* The endpoint is a closed port: every POST is refused at once. */
GST_START_TEST (test_endpoint_down_leaves_playback_alone)
{
  TestCluster c ({ "--edges", "1" });
  guint dead = ports::dead_port ();
  TestSubscriber sub (props (c, "stats-endpoint=http://127.0.0.1:" + std::to_string (dead) +
      "/stats"));
  check_endpoint_failure_leaves_playback_alone (c, sub, "closed port");
}
GST_END_TEST;

/* The endpoint takes the request and never answers: one POST at a time, each given up
 * after request-timeout (2 s here, 4 intervals: the intervals in between are skipped). */
GST_START_TEST (test_endpoint_that_never_answers_leaves_playback_alone)
{
  TestCluster c ({ "--edges", "1" });
  c.control ("POST", "/stats/mode?mode=hang");
  TestSubscriber sub (props (c, "request-timeout=2000 stats-endpoint=" + sm_url (c, "/stats")));
  check_endpoint_failure_leaves_playback_alone (c, sub, "never answers");
  /* about 25 s of reporting in all, a request every 2 s at most: one in flight at a time */
  gint64 requests = stats_state (c, "requests");
  fail_unless (requests >= 5 && requests <= 16, "%" G_GINT64_FORMAT " requests", requests);
}
GST_END_TEST;

/* The endpoint answers 500: dropped and counted, one warning. */
GST_START_TEST (test_endpoint_error_is_warned_once)
{
  TestCluster c ({ "--edges", "1" });
  c.control ("POST", "/stats/mode?mode=fail");
  TestSubscriber sub (props (c, "stats-endpoint=" + sm_url (c, "/stats")));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30), "no video: %s",
      sub.error_text ().c_str ());
  fail_unless (sub.wait ([&] { return stat (sub, "stats-reports-failed") >= 20; }, 30));
  fail_unless (stats_warnings (sub) == 1, "%u warnings", stats_warnings (sub));
  fail_unless (stat (sub, "stats-reports-sent") == 0);
  fail_unless (!sub.has_error (), "%s", sub.error_text ().c_str ());
}
GST_END_TEST;

static Suite *
stats_suite (void)
{
  Suite *s = suite_create ("red5prosrc-stats");
  TCase *tc = tcase_create ("e2e");
  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_envelopes_reach_the_http_endpoint_every_interval);
  tcase_add_test (tc, test_packets_lost_reported_under_loss);
  tcase_add_test (tc, test_envelopes_go_on_the_data_channel);
  tcase_add_test (tc, test_endpoint_named_in_options_link_is_followed);
  tcase_add_test (tc, test_endpoint_named_on_the_channel_is_followed);
  tcase_add_test (tc, test_endpoint_down_leaves_playback_alone);
  tcase_add_test (tc, test_endpoint_that_never_answers_leaves_playback_alone);
  tcase_add_test (tc, test_endpoint_error_is_warned_once);
  return s;
}

GST_CHECK_MAIN (stats);
