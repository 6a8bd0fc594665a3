/* Unit tests for the protocol code: Stream Manager answers, WHEP SDP handling, URLs.
 * Pure functions, no network: what the element does with each server shape. */
#include <gst/check/gstcheck.h>

#include "red5pro-edge-lookup.h"
#include "red5pro-events.h"
#include "red5pro-health.h"
#include "red5pro-messages.h"
#include "red5pro-stats-report.h"
#include "red5pro-websocket.h"
#include "red5pro-url.h"
#include "red5pro-whep.h"

/* compares a std::string result (kept alive) with the expected text */
#define assert_string(actual, expected) \
  G_STMT_START { \
    std::string actual_ = (actual); \
    fail_unless_equals_string (actual_.c_str (), expected); \
  } G_STMT_END

using namespace red5pro;
using K = Failure::Kind;

GST_START_TEST (test_sm1_answer_gives_edge_and_app_without_slash)
{
  auto o = parse_sm1_lookup (200,
      R"({"name":"stream1","scope":"/live","serverAddress":"10.0.0.5","region":"us-east"})");
  fail_unless (o.ok ());
  fail_unless_equals_string (o.edge.address.c_str (), "10.0.0.5");
  fail_unless_equals_string (o.edge.app.c_str (), "live");
  fail_unless_equals_string (o.edge.region.c_str (), "us-east");
  /* F1 (found by the sm1-answer fuzzer): every leading slash goes, not only the first */
  o = parse_sm1_lookup (200, R"({"scope":"//live","serverAddress":"10.0.0.5"})");
  fail_unless_equals_string (o.edge.app.c_str (), "live");
  o = parse_sm1_lookup (200, R"({"scope":"/","serverAddress":"10.0.0.5"})");
  fail_unless_equals_string (o.edge.app.c_str (), "");
}
GST_END_TEST;

GST_START_TEST (test_sm1_404_is_not_found_with_the_sm_message)
{
  auto o = parse_sm1_lookup (404, R"({"errorMessage":"Did not find stream","timestamp":1})");
  fail_unless (o.failure.kind == K::NOT_FOUND);
  fail_unless_equals_int (o.failure.http_status, 404);
  fail_unless_equals_string (o.failure.reason.c_str (), "Did not find stream");
}
GST_END_TEST;

GST_START_TEST (test_sm1_garbage_is_a_bad_response_not_a_crash)
{
  for (const char *body : { "", "{", "[]", "null", "{\"serverAddress\":42}",
           "{\"serverAddress\":\"\"}", "\xff\xfe\x00garbage" }) {
    auto o = parse_sm1_lookup (200, body);
    fail_unless (o.failure.kind == K::PROTOCOL, "body %s", body);
  }
  /* an error page that is not JSON is still a plain failure */
  auto o = parse_sm1_lookup (503, "<html>down</html>");
  fail_unless (o.failure.kind == K::SERVER_ERROR);
}
GST_END_TEST;

GST_START_TEST (test_sm1_server_address_with_path_or_userinfo_is_rejected)
{
  for (const char *addr : { "10.0.0.5/evil", "user@10.0.0.5", "a b", "http://x",
           "fe80::1%eth0", "10.0.0.5:99999", "" }) {
    std::string body = std::string (R"({"scope":"live","serverAddress":")") + addr + "\"}";
    auto o = parse_sm1_lookup (200, body);
    fail_unless (o.failure.kind == K::PROTOCOL, "address %s accepted", addr);
  }
}
GST_END_TEST;

/* The SDK's subscriber options go with the WHEP request, spelled as the SDK spells them;
 * connection parameters of the same name win. */
GST_START_TEST (test_whep_url_carries_the_sdk_subscriber_options)
{
  SubscriberConfig cfg;
  cfg.stream_name = "s";
  cfg.subscription_id = "subscriber-1";
  cfg.video_encoding = "h264";
  cfg.audio_encoding = "none";
  cfg.maintain_stream_variant = true;
  assert_string (whep_endpoint_url (cfg, "10.0.0.5", "live"),
      "http://10.0.0.5:5080/live/whep/endpoint/s?requestId=subscriber-1&signal=true"
      "&doNotSwitch=true&videoEncoding=H264&audioEncoding=NONE");
  cfg.connection_params = { { "doNotSwitch", "false" } };
  cfg.video_encoding.clear ();
  cfg.audio_encoding.clear ();
  assert_string (whep_endpoint_url (cfg, "10.0.0.5", "live"),
      "http://10.0.0.5:5080/live/whep/endpoint/s?requestId=subscriber-1&signal=true"
      "&doNotSwitch=false");
}
GST_END_TEST;

/* Some Stream Managers name the edge's port too: the edge is reached on it. */
GST_START_TEST (test_server_address_with_a_port_names_the_edge_port)
{
  struct {
    const char *address, *host;
    guint port;
  } cases[] = {
    { "10.0.0.5:5080", "10.0.0.5", 5080 },
    { "edge-3.example.com:443", "edge-3.example.com", 443 },
    { "[2001:db8::5]:8443", "2001:db8::5", 8443 },
    { "2001:db8::5", "2001:db8::5", 0 },
    { "10.0.0.5", "10.0.0.5", 0 },
  };
  for (const auto &c : cases) {
    std::string body = std::string (R"({"scope":"live","serverAddress":")") + c.address + "\"}";
    auto o = parse_sm1_lookup (200, body);
    fail_unless (o.ok (), "%s: %s", c.address, o.failure.reason.c_str ());
    fail_unless_equals_string (o.edge.address.c_str (), c.host);
    fail_unless_equals_int (o.edge.port, c.port);
  }
  SubscriberConfig cfg;
  cfg.stream_name = "s";
  cfg.subscription_id = "subscriber-1";
  assert_string (whep_endpoint_url (cfg, "2001:db8::5", "live", 8443),
      "http://[2001:db8::5]:8443/live/whep/endpoint/s?requestId=subscriber-1&signal=true"
      "&doNotSwitch=false");
}
GST_END_TEST;

GST_START_TEST (test_sm2_array_picks_first_in_service_node)
{
  auto o = parse_sm2_lookup (200, R"([
      {"streamGuid":"live/stream1","serverAddress":"10.0.0.9","nodeRole":"edge","nodeState":"DRAINING"},
      {"streamGuid":"live/stream1","serverAddress":"10.0.0.5","nodeRole":"edge","nodeState":"INSERVICE","subGroup":"us-east"}])");
  fail_unless (o.ok ());
  fail_unless_equals_string (o.edge.address.c_str (), "10.0.0.5");
  fail_unless_equals_string (o.edge.app.c_str (), "live");
  fail_unless_equals_string (o.edge.region.c_str (), "us-east");
}
GST_END_TEST;

/* A standby's lookup (issue 20): the best edge that is not the current one, ports aside;
 * none other is a not-found that names the edge. */
GST_START_TEST (test_sm2_standby_lookup_takes_the_best_other_edge)
{
  const char *two = R"([
      {"streamGuid":"live/stream1","serverAddress":"10.0.0.5:5080","nodeState":"INSERVICE"},
      {"streamGuid":"live/stream1","serverAddress":"10.0.0.6","nodeState":"DRAINING"},
      {"streamGuid":"live/stream1","serverAddress":"10.0.0.7","nodeState":"INSERVICE"}])";
  auto o = parse_sm2_lookup (200, two, "stream1", "10.0.0.5");
  fail_unless (o.ok ());
  fail_unless_equals_string (o.edge.address.c_str (), "10.0.0.7");
  auto other = parse_sm2_lookup (200, two, "stream1", "10.0.0.9");
  fail_unless_equals_string (other.edge.address.c_str (), "10.0.0.5");
  auto none = parse_sm2_lookup (200,
      R"([{"streamGuid":"live/stream1","serverAddress":"10.0.0.5"}])", "stream1", "10.0.0.5");
  fail_unless (none.failure.kind == K::NOT_FOUND);
  fail_unless (none.failure.reason.find ("other than 10.0.0.5") != std::string::npos,
      "%s", none.failure.reason.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_sm2_empty_array_means_not_there_yet)
{
  /* a stream name with a slash: the app is what precedes the name */
  auto odd = parse_sm2_lookup (200,
      R"([{"streamGuid":"live/sub/a/b","serverAddress":"10.0.0.9"}])", "a/b");
  fail_unless_equals_string (odd.edge.app.c_str (), "live/sub");
  fail_unless (parse_sm2_lookup (200, "[]").failure.kind == K::NOT_FOUND);
  fail_unless (parse_sm2_lookup (404, R"({"errorMessage":"x"})").failure.kind == K::NOT_FOUND);
  fail_unless (parse_sm2_lookup (500, "").failure.kind == K::SERVER_ERROR);
  fail_unless (parse_sm2_lookup (200, "{}").failure.kind == K::PROTOCOL);
}
GST_END_TEST;

GST_START_TEST (test_lookup_urls_follow_both_sm_generations)
{
  SubscriberConfig cfg;
  cfg.host = "sm.example.com";
  cfg.stream_name = "my stream/1";
  cfg.stream_manager = StreamManagerMode::SM1;
  cfg.region = "us-east";
  assert_string (edge_lookup_url (cfg),
      "http://sm.example.com:5080/streammanager/api/4.0/event/live/my%20stream%2F1"
      "?action=subscribe&region=us-east");
  cfg.stream_manager = StreamManagerMode::SM2;
  cfg.tls = true;
  cfg.node_group = "group a";
  assert_string (edge_lookup_url (cfg),
      "https://sm.example.com:443/as/v1/streams/stream/group%20a/subscribe/live/my%20stream%2F1");
}
GST_END_TEST;

GST_START_TEST (test_whep_endpoint_url_carries_request_id_and_signal)
{
  SubscriberConfig cfg;
  cfg.port = 8080;
  cfg.stream_name = "stream1";
  cfg.subscription_id = "subscriber-12ab";
  assert_string (whep_endpoint_url (cfg, "10.0.0.5", "live"),
      "http://10.0.0.5:8080/live/whep/endpoint/stream1?requestId=subscriber-12ab&signal=true"
      "&doNotSwitch=false");
}
GST_END_TEST;

static const char *OFFER =
    "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=setup:actpass\r\na=mid:0\r\n"
    "a=rtpmap:96 VP8/90000\r\na=sendonly\r\n";

GST_START_TEST (test_sdp_setup_attribute_tells_offer_from_answer)
{
  fail_unless (classify_sdp (OFFER) == SdpKind::OFFER);
  std::string answer (OFFER);
  answer.replace (answer.find ("actpass"), 7, "passive");
  fail_unless (classify_sdp (answer) == SdpKind::ANSWER);
  fail_unless (classify_sdp ("") == SdpKind::INVALID);
  fail_unless (classify_sdp ("<html>hello</html>") == SdpKind::INVALID);
  fail_unless (classify_sdp ("v=0\r\ns=-\r\n") == SdpKind::INVALID);
}
GST_END_TEST;

GST_START_TEST (test_sdpfrag_round_trips_candidates)
{
  std::vector<IceCandidate> cands (2);
  cands[0].mid = "0";
  cands[0].candidate = "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host";
  cands[1].mid = "0";   /* end of candidates */
  std::string frag = build_sdpfrag ("ufrag1", "pwd1", cands);
  fail_unless (frag.find ("a=ice-ufrag:ufrag1") != std::string::npos, "%s", frag.c_str ());
  fail_unless (frag.find ("a=mid:0") != std::string::npos);
  fail_unless (frag.find ("a=end-of-candidates") != std::string::npos);
  auto back = parse_sdpfrag (frag);
  fail_unless_equals_int (back.size (), 1);
  fail_unless_equals_string (back[0].candidate.c_str (), cands[0].candidate.c_str ());
  fail_unless_equals_string (back[0].mid.c_str (), "0");
  fail_unless (parse_sdpfrag ("garbage\x01\x02").empty ());
}
GST_END_TEST;

GST_START_TEST (test_relative_location_resolves_against_endpoint)
{
  assert_string (resolve_url ("http://10.0.0.5:5080/live/whep/endpoint/s?x=1",
      "/live/whep/resource/abc"), "http://10.0.0.5:5080/live/whep/resource/abc");
  assert_string (resolve_url ("http://10.0.0.5:5080/live/whep/endpoint/s",
      "https://other/r/1"), "https://other/r/1");
}
GST_END_TEST;

GST_START_TEST (test_secret_query_values_are_redacted_in_logged_urls)
{
  assert_string (redact_url ("wss://sm:443/live/?id=s-1&username=bob&password=s%20cret&token=abc"),
      "wss://sm:443/live/?id=s-1&username=bob&password=***&token=***");
  assert_string (redact_url ("http://h/p"), "http://h/p");
  assert_string (redact ("failed for s cret and s%20cret and abc", { "s cret", "abc" }),
      "failed for *** and *** and ***");
}
GST_END_TEST;

static SubscriberConfig
ws_config ()
{
  SubscriberConfig cfg;
  cfg.host = "sm.example.com";
  cfg.port = 5080;
  cfg.stream_name = "stream 1";
  cfg.subscription_id = "subscriber-00ff";
  cfg.connection_params = { { "username", "bob" }, { "password", "a&b=c" } };
  return cfg;
}

GST_START_TEST (test_websocket_url_direct_carries_id_and_encoded_params)
{
  SubscriberConfig cfg = ws_config ();
  assert_string (websocket_url (cfg, "10.0.0.5", "live"),
      "ws://10.0.0.5:5080/live/?id=subscriber-00ff&username=bob&password=a%26b%3Dc");
}
GST_END_TEST;

GST_START_TEST (test_websocket_url_through_sm1_proxy_names_edge_and_app)
{
  SubscriberConfig cfg = ws_config ();
  cfg.use_proxy = true;
  cfg.stream_manager = StreamManagerMode::SM1;
  cfg.tls = true;
  cfg.port = 443;
  assert_string (websocket_url (cfg, "10.0.0.5", "live"),
      "wss://sm.example.com:443/streammanager/?id=subscriber-00ff&host=10.0.0.5&app=live"
      "&username=bob&password=a%26b%3Dc");
}
GST_END_TEST;

GST_START_TEST (test_sm2_proxy_urls_name_app_stream_and_node_group)
{
  SubscriberConfig cfg = ws_config ();
  cfg.use_proxy = true;
  cfg.stream_manager = StreamManagerMode::SM2;
  cfg.connection_params.clear ();
  assert_string (websocket_url (cfg, "", "live"),
      "ws://sm.example.com:5080/as/v1/proxy/ws/subscribe/live/stream%201"
      "?id=subscriber-00ff&nodeGroup=default");
  assert_string (whep_endpoint_url (cfg, "", "live"),
      "http://sm.example.com:5080/as/v1/proxy/whep/live/stream%201"
      "?requestId=subscriber-00ff&signal=true&nodeGroup=default&doNotSwitch=false");
}
GST_END_TEST;

GST_START_TEST (test_server_status_messages_parse_in_both_shapes)
{
  auto m = parse_server_message (
      R"({"data":{"type":"status","code":"NetStream.Play.UnpublishNotify"}})");
  fail_unless (m.kind == ServerMessage::Kind::STATUS);
  fail_unless (m.is_status (status::UNPUBLISH_NOTIFY));
  /* some servers put the code in "status" */
  auto m2 = parse_server_message (
      R"({"data":{"type":"status","status":"NetStream.Play.UnpublishNotify"}})");
  fail_unless (m2.is_status (status::UNPUBLISH_NOTIFY));
  auto m3 = parse_server_message (
      R"({"data":{"type":"status","code":"NetConnection.ICE.TricleCompleted"}})");
  fail_unless (m3.is_status (status::TRICKLE_COMPLETED_OLD));
  auto m4 = parse_server_message (R"({"data":{"type":"status","message":"stream1 starting"}})");
  fail_unless_equals_string (m4.message.c_str (), "stream1 starting");
}
GST_END_TEST;

GST_START_TEST (test_offer_candidate_and_availability_messages_parse)
{
  auto offer = parse_server_message (R"({"data":{"sdp":{"type":"offer","sdp":"v=0"}}})");
  fail_unless (offer.kind == ServerMessage::Kind::OFFER);
  fail_unless_equals_string (offer.sdp.c_str (), "v=0");
  auto cand = parse_server_message (
      R"({"data":{"candidate":{"candidate":"candidate:1 1 UDP 1 1.2.3.4 5 typ host","sdpMid":"0","sdpMLineIndex":0}}})");
  fail_unless (cand.kind == ServerMessage::Kind::CANDIDATE);
  fail_unless_equals_string (cand.mid.c_str (), "0");
  auto end = parse_server_message (R"({"data":{"candidate":{"candidate":""}}})");
  fail_unless (end.kind == ServerMessage::Kind::CANDIDATE && end.candidate.empty ());
  auto no = parse_server_message (R"({"isAvailable":false})");
  fail_unless (no.kind == ServerMessage::Kind::AVAILABLE && !no.available);
}
GST_END_TEST;

GST_START_TEST (test_metadata_and_send_messages_carry_their_fields)
{
  auto md = parse_server_message (
      R"({"type":"metadata","method":"onMetaData","data":{"width":640,"height":480,"orientation":90,"streamingMode":"Video/Audio","bad key":1}})");
  fail_unless (md.kind == ServerMessage::Kind::METADATA);
  gint64 w = 0;
  fail_unless (gst_structure_get_int64 (md.data, "width", &w) && w == 640);
  fail_unless (!gst_structure_has_field (md.data, "bad key"));
  auto send = parse_server_message (
      R"({"send":{"method":"onPublisherNetworkCongestion","data":{"level":2}},"senderName":"pub"})");
  fail_unless (send.kind == ServerMessage::Kind::SEND);
  fail_unless_equals_string (send.method.c_str (), "onPublisherNetworkCongestion");
  fail_unless_equals_string (send.sender.c_str (), "pub");
}
GST_END_TEST;

GST_START_TEST (test_garbage_and_oversized_messages_are_invalid_not_fatal)
{
  for (const char *text : { "", "not json", "[1,2]", "{\"data\":", "\"str\"", "null" })
    fail_unless (parse_server_message (text).kind == ServerMessage::Kind::INVALID, "%s", text);
  fail_unless (parse_server_message (R"({"hello":"world"})").kind == ServerMessage::Kind::UNKNOWN);
  std::string big = "{\"pad\":\"" + std::string (MAX_MESSAGE_SIZE, 'x') + "\"}";
  fail_unless (parse_server_message (big).kind == ServerMessage::Kind::INVALID);
}
GST_END_TEST;

GST_START_TEST (test_http_statuses_are_classified)
{
  auto kind = [] (guint status, bool any_4xx_not_found = false) {
    HttpResult r;
    r.status = status;
    return http_failure (r, "WHEP POST", any_4xx_not_found, "").kind;
  };
  fail_unless (kind (201) == K::NONE);
  fail_unless (kind (401) == K::UNAUTHORIZED);
  fail_unless (kind (403) == K::UNAUTHORIZED);
  fail_unless (kind (404) == K::NOT_FOUND);
  fail_unless (kind (409) == K::NOT_FOUND);
  fail_unless (kind (400) == K::REFUSED);
  fail_unless (kind (400, true) == K::NOT_FOUND);
  fail_unless (kind (503) == K::SERVER_ERROR);
  /* a proxy that wants credentials is not a missing stream */
  fail_unless (kind (407, true) == K::UNAUTHORIZED);
  HttpResult r;
  r.status = 407;
  Failure f = http_failure (r, "Stream Manager lookup", true, "");
  fail_unless (f.reason.find ("proxy") != std::string::npos, "%s", f.reason.c_str ());
  fail_unless_equals_int (f.http_status, 407);
  HttpResult none;
  none.error = "Connection refused";
  fail_unless (http_failure (none, "WHEP POST", false, "").kind == K::UNREACHABLE);
  none.tls_failed = true;
  fail_unless (http_failure (none, "WHEP POST", false, "").kind == K::CERTIFICATE);
}
GST_END_TEST;

/* json-glib recurses once per level: a deep answer is refused before it, not a crash */
GST_START_TEST (test_deeply_nested_json_is_refused_not_a_crash)
{
  std::string deep = std::string (100000, '[') + std::string (100000, ']');
  fail_unless (parse_sm1_lookup (200, deep).failure.kind == K::PROTOCOL);
  fail_unless (parse_sm2_lookup (200, deep, "live").failure.kind == K::PROTOCOL);
  fail_unless (parse_server_message ("{\"data\":" + deep + "}").kind ==
      ServerMessage::Kind::INVALID);
  /* brackets inside strings are text, and 64 levels are fine */
  std::string ok = "{\"a\":\"" + std::string (1000, '[') + "\",\"data\":" +
      std::string (60, '[') + std::string (60, ']') + ",\"status\":\"NetStream.Play.Start\"}";
  fail_unless (parse_server_message (ok).kind != ServerMessage::Kind::INVALID);
  /* a lone surrogate escape is made valid UTF-8 */
  ServerMessage m = parse_server_message (
      R"({"data":{"type":"status","code":"NetStream.Play.Start","message":"x\ud800y"}})");
  fail_unless (m.kind == ServerMessage::Kind::STATUS);
  fail_unless (!m.message.empty ());
  fail_unless (g_utf8_validate (m.message.c_str (), -1, nullptr), "%s", m.message.c_str ());
}
GST_END_TEST;

/* SDK 15 / RFC 9725: Link headers' ICE servers as webrtcbin takes them; anything else is
 * left out, never a crash. */
GST_START_TEST (test_link_headers_give_ice_servers_webrtcbin_takes)
{
  auto uris = ice_servers_from_links ({
      R"(<turn:turn.example.com:3478?transport=udp>; rel="ice-server"; username="u s"; credential="p@ss:w")",
      R"(<stun:stun.example.com>; rel="ice-server")",
      R"(<turns:127.0.0.1:5349?transport=tcp>; rel="ice-server"; username="a"; credential="b")",
      R"(<https://example.com/stats>; rel="statistics")",
      R"(<turn:nocredentials.example.com>; rel="ice-server")",
      R"(<turn:[::1]:3478>; rel="ice-server"; username="a"; credential="b")",
      "<>; rel=ice-server", "garbage", "<turn:bad host:1>; rel=\"ice-server\"; username=a; credential=b",
  });
  fail_unless_equals_int (uris.size (), 4);
  /* no format strings: the URIs hold per cent signs */
  const std::vector<std::string> want = {
    "turn://u%20s:p%40ss:w@turn.example.com:3478?transport=udp",
    "stun://stun.example.com:3478",
    "turns://a:b@127.0.0.1:5349?transport=tcp",
    "turn://a:b@[::1]:3478",
  };
  for (size_t i = 0; i < want.size (); i++)
    fail_unless (uris[i] == want[i], "%zu: %s", i, uris[i].c_str ());
}
GST_END_TEST;

/* host= goes on a URL once, escaped, never over the user's own */
GST_START_TEST (test_a_query_pair_is_added_once)
{
  struct Case {
    const char *url, *value, *want;
  } cases[] = {
    { "http://sm:5080/as/v1/proxy/whep/live/s?requestId=a", "10.0.0.1",
      "http://sm:5080/as/v1/proxy/whep/live/s?requestId=a&host=10.0.0.1" },
    { "http://sm/x", "a b", "http://sm/x?host=a%20b" },
    { "http://sm/x?host=mine", "10.0.0.1", "http://sm/x?host=mine" },
    { "not a url", "x", "" },
  };
  for (const auto &c : cases) {
    std::string got = add_query_pair (c.url, "host", c.value);
    fail_unless (got == c.want, "%s: %s", c.url, got.c_str ());
  }
}
GST_END_TEST;

/* The application's messages (action signals) in the SDK's shapes, and the server's answer
 * to a call. */
GST_START_TEST (test_client_messages_and_call_results)
{
  assert_string (send_message ("hello", R"({"a":1})"), R"({"send":{"method":"hello","data":{"a":1}}})");
  assert_string (send_message ("hello", ""), R"({"send":{"method":"hello","data":null}})");
  fail_unless (send_message ("hello", "{nope").empty ());
  fail_unless (send_message ("", "{}").empty ());
  assert_string (call_message ("echo", "[1,2]", "ab"),
      R"({"callAdapter":{"method":"echo","arguments":[1,2]},"id":"ab","async":true})");
  assert_string (call_message ("echo", R"({"x":1})", "ab"),
      R"({"callAdapter":{"method":"echo","arguments":[{"x":1}]},"id":"ab","async":true})");
  assert_string (switch_streams_message ("live/stream1_2", true, "cd"),
      R"({"callAdapter":{"method":"switchStreams","arguments":[{"path":"live/stream1_2","isImmediate":true}]},"id":"cd","async":true})");
  fail_unless (switch_streams_message ("", true, "cd").empty ());
  fail_unless_equals_int (make_call_id ().size (), 16);
  auto r = parse_server_message (R"({"data":{"type":"result","message":"Stream switch: Success"}})");
  fail_unless (r.kind == ServerMessage::Kind::RESULT);
  assert_string (r.message, "Stream switch: Success");
  fail_unless (r.id.empty () && r.result.empty ());
  auto r2 = parse_server_message (R"({"data":{"type":"result","id":"ab","data":[1]}})");
  fail_unless (r2.kind == ServerMessage::Kind::RESULT);
  assert_string (r2.id, "ab");
  assert_string (r2.result, "[1]");
}
GST_END_TEST;

/* SDK 15's health checks: each event once per episode, none while paused, the policies */
GST_START_TEST (test_health_checks_follow_the_sdk_thresholds)
{
  HealthMonitor m (5000);
  HealthSample s;
  auto at = [&] (gint64 ms, const char *ice, guint64 packets, double rtt = -1) {
    s.now_us = (ms + 1000) * 1000;   /* monotonic time is never 0 */
    s.ice = ice;
    s.packets = packets;
    s.rtt_s = rtt;
    return m.sample (s);
  };
  /* checking for 5 s: IceTimeout, once */
  fail_unless (at (0, "checking", 0).empty ());
  fail_unless (at (4999, "checking", 0).empty ());
  auto e = at (5000, "checking", 0);
  fail_unless (e.size () == 1 && e[0] == Health::ICE_TIMEOUT);
  fail_unless (at (6000, "checking", 0).empty ());
  /* connected, packets moving: nothing; three samples without a new packet: StaleStats */
  fail_unless (at (7000, "completed", 10).empty ());
  fail_unless (at (8000, "completed", 20).empty ());
  fail_unless (at (9000, "completed", 20).empty ());
  fail_unless (at (10000, "completed", 20).empty ());
  e = at (11000, "completed", 20);
  fail_unless (e.size () == 1 && e[0] == Health::STALE_STATS);
  fail_unless (at (12000, "completed", 20).empty ());
  fail_unless (at (13000, "completed", 30).empty ());
  /* paused by the application: silence is no staleness */
  s.paused = true;
  for (int i = 0; i < 5; i++)
    fail_unless (at (14000 + i * 1000, "completed", 30).empty ());
  s.paused = false;
  /* back to checking after connected: StateRegression (and, 5 s later, IceTimeout) */
  e = at (20000, "checking", 40);
  fail_unless (e.size () == 1 && e[0] == Health::STATE_REGRESSION);
  e = at (25000, "checking", 40);
  fail_unless (e.size () == 1 && e[0] == Health::ICE_TIMEOUT);
  /* an RTT over 1 s, and an RTT that stays the same (when webrtcbin reports one) */
  fail_unless (at (26000, "connected", 50, 0.1).empty ());
  e = at (27000, "connected", 60, 1.5);
  fail_unless (e.size () == 1 && e[0] == Health::EXCESSIVE_RTT);
  at (28000, "connected", 70, 0.2);
  at (29000, "connected", 80, 0.2);
  at (30000, "connected", 90, 0.2);
  e = at (31000, "connected", 100, 0.2);
  fail_unless (e.size () == 1 && e[0] == Health::STALE_STATS);
  assert_string (health_event_name (Health::ICE_TIMEOUT), "WebRTC.Connection.IceTimeout");
  assert_string (health_reason (Health::STALE_STATS), "stale-stats");
  fail_unless (health_retries (RenegotiationPolicy::TIMEOUT, Health::ICE_TIMEOUT));
  fail_if (health_retries (RenegotiationPolicy::TIMEOUT, Health::STALE_STATS));
  fail_unless (health_retries (RenegotiationPolicy::REGRESSION, Health::STATE_REGRESSION));
  fail_if (health_retries (RenegotiationPolicy::DISCONNECT, Health::ICE_TIMEOUT));
  fail_if (health_retries (RenegotiationPolicy::NONE, Health::STALE_STATS));
}
GST_END_TEST;

/* SDK 15: the OPTIONS answer's Link rel="statistics" names the stats endpoint, resolved
 * against the request's URL; only http(s) is taken */
GST_START_TEST (test_link_header_names_the_stats_endpoint)
{
  const std::string base = "https://edge.example.com:443/live/whep/endpoint/s?requestId=a";
  assert_string (statistics_endpoint_from_links ({
      R"(<turn:t.example.com>; rel="ice-server"; username="a"; credential="b")",
      R"(<https://stats.example.com/collect?k=1>; rel="statistics")" }, base),
      "https://stats.example.com/collect?k=1");
  assert_string (statistics_endpoint_from_links ({ R"(</stats/in>; rel="statistics")" }, base),
      "https://edge.example.com:443/stats/in");
  assert_string (statistics_endpoint_from_links ({ R"(<ftp://x/y>; rel="statistics")",
      R"(<https://x/y>; rel="ice-server")", "garbage" }, base), "");
}
GST_END_TEST;

/* SDK 15: a channel status names the stats endpoint in "statistics" */
GST_START_TEST (test_statistics_endpoint_status_parses)
{
  auto m = parse_server_message (R"({"data":{"type":"status",)"
      R"("code":"Application.Statistics.Endpoint","statistics":"https://s.example.com/x"}})");
  fail_unless (m.kind == ServerMessage::Kind::STATUS);
  fail_unless (m.is_status (status::STATISTICS_ENDPOINT));
  assert_string (m.statistics, "https://s.example.com/x");
}
GST_END_TEST;

GST_START_TEST (test_stats_endpoint_takes_a_url_or_data_channel)
{
  for (const char *ok : { "", "data-channel", "http://127.0.0.1:5080/stats",
           "https://stats.example.com/x?token=1" })
    fail_unless (stats_endpoint_valid (ok), "%s", ok);
  for (const char *bad : { "event-transport", "ftp://x/y", "http://", "stats.example.com",
           "ws://x/y" })
    fail_unless (!stats_endpoint_valid (bad), "%s", bad);
}
GST_END_TEST;

/* a webrtcbin get-stats reply as 1.22 gives it (the fields the report reads) */
static GstStructure *
fake_stats (guint64 video_packets, guint64 video_bytes, gint video_lost)
{
  auto src = [] (gint clock_rate, gint lost) {
    return gst_structure_new ("application/x-rtp-source-stats", "clock-rate", G_TYPE_INT,
        clock_rate, "packets-lost", G_TYPE_INT, lost, NULL);
  };
  GstStructure *vsrc = src (90000, video_lost), *rtxsrc = src (90000, 0), *asrc = src (48000, 0);
  auto inbound = [] (const char *id, guint64 packets, guint64 bytes, GstStructure *s) {
    GstStructure *in = gst_structure_new ("inbound-rtp", "type", GST_TYPE_WEBRTC_STATS_TYPE,
        GST_WEBRTC_STATS_INBOUND_RTP, "id", G_TYPE_STRING, id, "kind", G_TYPE_STRING, "audio",
        "timestamp", G_TYPE_DOUBLE, 1234.5, "packets-received", G_TYPE_UINT64, packets,
        "packets-lost", G_TYPE_INT64, (gint64) 0, "jitter", G_TYPE_DOUBLE, 0.002,
        "bytes-received", G_TYPE_UINT64, bytes, "nack-count", G_TYPE_UINT, 3u,
        "pli-count", G_TYPE_UINT, 1u, "fir-count", G_TYPE_UINT, 0u,
        "gst-rtpsource-stats", GST_TYPE_STRUCTURE, s, NULL);
    gst_structure_free (s);
    return in;
  };
  GstStructure *v = inbound ("in-video", video_packets, video_bytes, vsrc);
  GstStructure *rtx = inbound ("in-rtx", 3, 300, rtxsrc);
  GstStructure *a = inbound ("in-audio", 100, 5000, asrc);
  GstStructure *codec = gst_structure_new ("codec", "type", GST_TYPE_WEBRTC_STATS_TYPE,
      GST_WEBRTC_STATS_CODEC, "id", G_TYPE_STRING, "codec-0", "payload-type", G_TYPE_UINT, 96u,
      NULL);
  GstStructure *transport = gst_structure_new ("transport", "type", GST_TYPE_WEBRTC_STATS_TYPE,
      GST_WEBRTC_STATS_TRANSPORT, "id", G_TYPE_STRING, "t0", "selected-candidate-pair-id",
      G_TYPE_STRING, "pair-1", NULL);
  auto pair = [] (const char *id) {
    return gst_structure_new ("candidate-pair", "type", GST_TYPE_WEBRTC_STATS_TYPE,
        GST_WEBRTC_STATS_CANDIDATE_PAIR, "id", G_TYPE_STRING, id, "local-candidate-id",
        G_TYPE_STRING, "l", NULL);
  };
  GstStructure *p0 = pair ("pair-0"), *p1 = pair ("pair-1");
  GstStructure *stats = gst_structure_new ("application/x-webrtc-stats",
      "codec-0", GST_TYPE_STRUCTURE, codec, "t0", GST_TYPE_STRUCTURE, transport,
      "pair-0", GST_TYPE_STRUCTURE, p0, "pair-1", GST_TYPE_STRUCTURE, p1,
      "in-video", GST_TYPE_STRUCTURE, v, "in-rtx", GST_TYPE_STRUCTURE, rtx,
      "in-audio", GST_TYPE_STRUCTURE, a, NULL);
  for (GstStructure *s : { codec, transport, p0, p1, v, rtx, a })
    gst_structure_free (s);
  return stats;
}

static JsonObject *
parse_object (JsonParser *parser, const std::string &text)
{
  fail_unless (json_parser_load_from_data (parser, text.c_str (), -1, nullptr), "%s",
      text.c_str ());
  return json_node_get_object (json_parser_get_root (parser));
}

/* The SDK's envelope: codec, the selected candidate pair, inbound-rtp per medium (the kind
 * from the clock rate, the RTX stream left out, losses from the RTP source, the bitrate
 * since the last report in kbit/s), secrets redacted, the fingerprint kept. */
GST_START_TEST (test_stats_envelopes_in_the_sdk_shape)
{
  StatsReport report ("fp1");
  StatsClient client;
  client.host = "sm.example.com";
  client.app = "live";
  client.stream_name = "stream1";
  client.subscription_id = "subscriber-1";
  client.connection_params = { { "username", "bob" }, { "password", "hunter22" } };
  StatsExtras extras;
  extras.frames_dropped = 7;
  extras.freezes = 2;
  GstStructure *first = fake_stats (100, 10000, 0), *second = fake_stats (200, 22500, 4);
  auto a = report.envelopes (client, first, extras, 1000);
  auto b = report.envelopes (client, second, extras, 2000);
  gst_structure_free (first);
  gst_structure_free (second);
  /* codec, one pair (the selected), video, audio */
  fail_unless_equals_int (a.size (), 4);
  fail_unless_equals_int (b.size (), 4);
  JsonParser *parser = json_parser_new ();
  std::vector<std::string> types;
  for (const auto &text : b) {
    fail_unless (text.find ("hunter22") == std::string::npos);
    JsonObject *e = parse_object (parser, text);
    assert_string (json_object_get_string_member (e, "name"), "RTCSubscriberStats");
    assert_string (json_object_get_string_member (e, "type"), "stats-report");
    assert_string (json_object_get_string_member (e, "fingerprint"), "fp1");
    fail_unless_equals_int (json_object_get_int_member (e, "timestamp"), 2000);
    JsonObject *c = json_object_get_object_member (e, "client");
    assert_string (json_object_get_string_member (c, "streamName"), "stream1");
    assert_string (json_object_get_string_member (c, "subscriptionId"), "subscriber-1");
    JsonObject *params = json_object_get_object_member (c, "connectionParams");
    assert_string (json_object_get_string_member (params, "password"), "***");
    assert_string (json_object_get_string_member (params, "username"), "bob");
    JsonObject *d = json_object_get_object_member (e, "data");
    std::string type = json_object_get_string_member (d, "type");
    types.push_back (type);
    if (type == "candidate-pair") {
      assert_string (json_object_get_string_member (d, "id"), "pair-1");
      assert_string (json_object_get_string_member (d, "state"), "succeeded");
      assert_string (json_object_get_string_member (d, "localCandidateId"), "l");
    } else if (type == "codec") {
      fail_unless_equals_int (json_object_get_int_member (d, "payloadType"), 96);
    } else if (type == "inbound-rtp") {
      std::string kind = json_object_get_string_member (d, "kind");
      fail_unless (!json_object_has_member (d, "gstRtpsourceStats"));
      fail_unless_equals_int (json_object_get_int_member (d, "nackCount"), 3);
      fail_unless_equals_int (json_object_get_int_member (d, "pliCount"), 1);
      fail_unless (json_object_has_member (d, "jitter"));
      if (kind == "video") {
        assert_string (json_object_get_string_member (d, "id"), "in-video");
        fail_unless_equals_int (json_object_get_int_member (d, "packetsReceived"), 200);
        fail_unless_equals_int (json_object_get_int_member (d, "packetsLost"), 4);
        fail_unless_equals_int (json_object_get_int_member (d, "framesDropped"), 7);
        fail_unless_equals_int (json_object_get_int_member (d, "freezeCount"), 2);
        /* 12500 bytes in 1000 ms: 100 kbit/s */
        fail_unless (json_object_get_double_member (d, "estimatedBitrate") == 100.0);
      } else {
        assert_string (kind, "audio");
        fail_unless (!json_object_has_member (d, "framesDropped"));
      }
    }
  }
  std::vector<std::string> want = { "codec", "candidate-pair", "inbound-rtp", "inbound-rtp" };
  fail_unless (types == want);
  JsonObject *action = parse_object (parser, report.action (client, "ended", 3000));
  JsonObject *d = json_object_get_object_member (action, "data");
  assert_string (json_object_get_string_member (json_object_get_object_member (d, "action"),
      "type"), "ended");
  g_object_unref (parser);
}
GST_END_TEST;

static Suite *
protocol_suite (void)
{
  debug_init ();
  Suite *s = suite_create ("red5pro-protocol");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sm1_answer_gives_edge_and_app_without_slash);
  tcase_add_test (tc, test_sm2_standby_lookup_takes_the_best_other_edge);
  tcase_add_test (tc, test_sm1_404_is_not_found_with_the_sm_message);
  tcase_add_test (tc, test_sm1_garbage_is_a_bad_response_not_a_crash);
  tcase_add_test (tc, test_sm1_server_address_with_path_or_userinfo_is_rejected);
  tcase_add_test (tc, test_server_address_with_a_port_names_the_edge_port);
  tcase_add_test (tc, test_whep_url_carries_the_sdk_subscriber_options);
  tcase_add_test (tc, test_sm2_array_picks_first_in_service_node);
  tcase_add_test (tc, test_sm2_empty_array_means_not_there_yet);
  tcase_add_test (tc, test_lookup_urls_follow_both_sm_generations);
  tcase_add_test (tc, test_whep_endpoint_url_carries_request_id_and_signal);
  tcase_add_test (tc, test_sdp_setup_attribute_tells_offer_from_answer);
  tcase_add_test (tc, test_sdpfrag_round_trips_candidates);
  tcase_add_test (tc, test_relative_location_resolves_against_endpoint);
  tcase_add_test (tc, test_secret_query_values_are_redacted_in_logged_urls);
  tcase_add_test (tc, test_websocket_url_direct_carries_id_and_encoded_params);
  tcase_add_test (tc, test_websocket_url_through_sm1_proxy_names_edge_and_app);
  tcase_add_test (tc, test_sm2_proxy_urls_name_app_stream_and_node_group);
  tcase_add_test (tc, test_server_status_messages_parse_in_both_shapes);
  tcase_add_test (tc, test_offer_candidate_and_availability_messages_parse);
  tcase_add_test (tc, test_metadata_and_send_messages_carry_their_fields);
  tcase_add_test (tc, test_garbage_and_oversized_messages_are_invalid_not_fatal);
  tcase_add_test (tc, test_http_statuses_are_classified);
  tcase_add_test (tc, test_deeply_nested_json_is_refused_not_a_crash);
  tcase_add_test (tc, test_link_headers_give_ice_servers_webrtcbin_takes);
  tcase_add_test (tc, test_a_query_pair_is_added_once);
  tcase_add_test (tc, test_client_messages_and_call_results);
  tcase_add_test (tc, test_health_checks_follow_the_sdk_thresholds);
  tcase_add_test (tc, test_link_header_names_the_stats_endpoint);
  tcase_add_test (tc, test_statistics_endpoint_status_parses);
  tcase_add_test (tc, test_stats_endpoint_takes_a_url_or_data_channel);
  tcase_add_test (tc, test_stats_envelopes_in_the_sdk_shape);
  return s;
}

GST_CHECK_MAIN (protocol);
