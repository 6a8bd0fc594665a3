/* End-to-end: Red5 Pro's WebSocket signaling (direct, through the SM 1.x and SM 2.0 proxies),
 * WHEP through the SM 2.0 proxy, connection parameters, and the server messages that reach
 * the subscriber over the socket or the red5pro data channel. */
#include <gst/check/gstcheck.h>

#include "test-cluster.h"
#include "e2e-checks.h"
#include "test-subscriber.h"

static std::string
base (TestCluster &c)
{
  return "host=127.0.0.1 port=" + std::to_string (c.port ()) +
      " stream-name=stream1 retry-timeout=0 ";
}

/* Plays until 30 frames with a readable counter and some audio arrived. */

/* The JSON of /state, parsed; caller unrefs. */
static JsonParser *
state (TestCluster &c)
{
  JsonParser *p = json_parser_new ();
  fail_unless (json_parser_load_from_data (p, c.control ("GET", "/state").c_str (), -1, nullptr));
  return p;
}

/* The first subscriber's query parameter as the edge received it ("" if none). */
static std::string
edge_param (TestCluster &c, const char *name)
{
  JsonParser *p = state (c);
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  JsonArray *subs = json_object_get_array_member (o, "subscribers");
  std::string out;
  if (json_array_get_length (subs) > 0) {
    JsonObject *params = json_object_get_object_member (
        json_array_get_object_element (subs, 0), "params");
    out = json_object_get_string_member_with_default (params, name, "");
  }
  g_object_unref (p);
  return out;
}

static bool
switched (TestCluster &c)
{
  JsonParser *p = state (c);
  JsonArray *subs = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (p)), "subscribers");
  bool out = json_array_get_length (subs) > 0 &&
      json_object_get_boolean_member (json_array_get_object_element (subs, 0), "switched");
  g_object_unref (p);
  return out;
}

GST_START_TEST (test_websocket_direct_to_the_edge_delivers_frames)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (base (c) + "host=127.0.0.2 signaling=websocket");
  check_plays (sub);
  fail_unless (sub.count ("Connect.Success") == 1);
  fail_unless (sub.count ("WebRTC.Offer.Start") == 1);
  bool ws = false;
  for (const auto &r : c.requests ("edge1"))
    ws = ws || (r.method == "WS" && r.path == "/live/");
  fail_unless (ws, "the edge saw no WebSocket at /live/");
}
GST_END_TEST;

GST_START_TEST (test_websocket_via_sm1_proxy_delivers_frames)
{
  TestCluster c ({ "--edges", "2" });
  c.control ("POST", "/route?stream=stream1&edge=edge2");
  TestSubscriber sub (base (c) + "stream-manager=sm1 signaling=websocket use-proxy=true");
  check_plays (sub);
  /* the socket went to the SM, which relayed it to the edge the lookup named */
  bool proxied = false;
  for (const auto &r : c.requests ("sm"))
    proxied = proxied || (r.method == "WS" && r.path == "/streammanager/" &&
        r.query_json.find ("\"host\":\"127.0.0.3\"") != std::string::npos &&
        r.query_json.find ("\"app\":\"live\"") != std::string::npos);
  fail_unless (proxied, "no SM 1.x proxy socket with host= and app=");
  fail_unless (!c.requests ("edge2").empty ());
  fail_unless (c.requests ("edge1").empty ());
}
GST_END_TEST;

GST_START_TEST (test_websocket_via_sm2_proxy_delivers_frames)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (base (c) + "stream-manager=sm2 signaling=websocket use-proxy=true "
                                 "node-group=group1");
  check_plays (sub);
  bool proxied = false;
  for (const auto &r : c.requests ("sm"))
    proxied = proxied || (r.method == "WS" &&
        r.path == "/as/v1/proxy/ws/subscribe/live/stream1" &&
        r.query_json.find ("\"nodeGroup\":\"group1\"") != std::string::npos);
  fail_unless (proxied, "no SM 2.0 WebSocket proxy request with nodeGroup");
}
GST_END_TEST;

GST_START_TEST (test_whep_via_sm2_proxy_delivers_frames)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (base (c) + "stream-manager=sm2 signaling=whep use-proxy=true "
                                 "node-group=group1");
  check_plays (sub);
  bool proxied = false;
  for (const auto &r : c.requests ("sm"))
    proxied = proxied || (r.method == "POST" && r.path == "/as/v1/proxy/whep/live/stream1" &&
        r.query_json.find ("\"nodeGroup\":\"group1\"") != std::string::npos);
  fail_unless (proxied, "no SM 2.0 WHEP proxy POST with nodeGroup");
  sub.stop ();
  /* the DELETE went through the proxy too */
  bool deleted = false;
  for (const auto &r : c.requests ("edge1"))
    deleted = deleted || r.method == "DELETE";
  fail_unless (deleted);
}
GST_END_TEST;

static void
check_connection_params (const char *signaling)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (base (c) + "host=127.0.0.2 signaling=" + signaling);
  GstStructure *params = gst_structure_new ("params", "username", G_TYPE_STRING, "bob",
      "password", G_TYPE_STRING, "s3cret&x", "token", G_TYPE_STRING, "abc def", NULL);
  g_object_set (sub.src (), "connection-params", params, NULL);
  gst_structure_free (params);
  check_plays (sub);
  const std::string username = edge_param (c, "username"), password = edge_param (c, "password"),
      token = edge_param (c, "token");
  fail_unless_equals_string (username.c_str (), "bob");
  fail_unless_equals_string (password.c_str (), "s3cret&x");
  fail_unless_equals_string (token.c_str (), "abc def");
}

GST_START_TEST (test_connection_params_reach_the_edge_over_websocket)
{
  check_connection_params ("websocket");
}
GST_END_TEST;

GST_START_TEST (test_connection_params_reach_the_edge_over_whep)
{
  check_connection_params ("whep");
}
GST_END_TEST;

GST_START_TEST (test_unpublish_on_the_socket_before_the_switch_is_reported)
{
  TestCluster c ({ "--edges", "1" });
  /* the socket stays the signaling channel */
  TestSubscriber sub (base (c) + "host=127.0.0.2 signaling=websocket "
                                 "signaling-socket-only=false");
  check_plays (sub);
  fail_if (switched (c));
  c.control ("POST", "/send/status?stream=stream1&code=NetStream.Play.UnpublishNotify");
  fail_unless (sub.wait_event ("Subscribe.Play.Unpublish", 10, false));
}
GST_END_TEST;

GST_START_TEST (test_unpublish_on_the_data_channel_after_the_switch_is_reported)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (base (c) + "host=127.0.0.2 signaling=websocket");
  check_plays (sub);
  fail_unless (sub.wait ([&] { return switched (c); }, 10), "the client never switched");
  c.control ("POST", "/send/status?stream=stream1&code=NetStream.Play.UnpublishNotify");
  fail_unless (sub.wait_event ("Subscribe.Play.Unpublish", 10, false));
  /* on the data channel, an unpublish also closes the connection */
  fail_unless (sub.count ("Subscribe.Connection.Closed") >= 1);
}
GST_END_TEST;

/* A message the server sent on the socket just before it read the client's switch still
 * counts (it was dropped: the client stopped reading the socket the moment it switched). */
GST_START_TEST (test_a_message_under_way_at_the_switch_is_reported)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (base (c) + "host=127.0.0.2 signaling=websocket");
  sub.play ();
  /* queued as soon as the edge has the subscriber's socket (the switch is a second after
   * the data channel is up) */
  guint status = 0;
  fail_unless (sub.wait ([&] {
    c.control ("POST", "/send/status?stream=stream1&code=NetStream.Play.UnpublishNotify"
        "&when=switch", &status);
    return status == 200; }, 10));
  fail_unless (sub.wait ([&] { return switched (c); }, 10), "the client never switched");
  fail_unless (sub.wait_event ("Subscribe.Play.Unpublish", 10, false));
}
GST_END_TEST;

GST_START_TEST (test_the_edge_closing_the_socket_before_the_switch_is_a_lost_connection)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub ("host=127.0.0.2 port=" + std::to_string (c.port ()) +
      " stream-name=stream1 retry-timeout=300 signaling=websocket "
      "signaling-socket-only=false");
  check_plays (sub);
  guint status = 0;
  c.control ("POST", "/subscriber/close-socket?stream=stream1", &status);
  fail_unless_equals_int (status, 200);
  fail_unless (sub.wait_event ("Subscribe.Connection.Closed", 10));
  /* and it comes back */
  fail_unless (sub.wait ([&] { return sub.count ("Subscribe.Start") >= 2; }, 30));
}
GST_END_TEST;

GST_START_TEST (test_metadata_is_posted_with_its_fields)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (base (c) + "host=127.0.0.2 signaling=whep");
  check_plays (sub);
  guint status = 0;
  std::string body =
      "{\"width\":640,\"height\":360,\"orientation\":90,\"streamingMode\":\"Video/Audio\"}";
  c.control ("POST", "/send/metadata?stream=stream1", &status, &body);
  fail_unless_equals_int (status, 200);

  fail_unless (sub.wait_event ("Subscribe.Metadata", 10));
  GstStructure *event = sub.last_event ("Subscribe.Metadata");
  const GstStructure *md = nullptr;
  fail_unless (gst_structure_get (event, "metadata", GST_TYPE_STRUCTURE, &md, NULL),
      "%" GST_PTR_FORMAT, event);
  gint64 width = 0, height = 0, orientation = -1;
  fail_unless (gst_structure_get_int64 (md, "width", &width) && width == 640,
      "%" GST_PTR_FORMAT, md);
  fail_unless (gst_structure_get_int64 (md, "height", &height) && height == 360);
  fail_unless (gst_structure_get_int64 (md, "orientation", &orientation) && orientation == 90);
  fail_unless_equals_string (gst_structure_get_string (md, "streamingMode"), "Video/Audio");
  gst_structure_free ((GstStructure *) md);
  gst_structure_free (event);
  fail_unless (sub.wait_event ("Subscribe.Orientation.Change", 5));
  fail_unless (sub.wait_event ("Subscribe.VideoDimensions.Change", 5));
}
GST_END_TEST;

/* POSTs body to /send/raw (or ?size=N bytes of 'x'). */
static void
send_raw (TestCluster &c, const std::string &body, const char *extra = "")
{
  guint status = 0;
  c.control ("POST", std::string ("/send/raw?stream=stream1") + extra, &status, &body);
  fail_unless_equals_int (status, 200);
}

static void
check_garbage_is_ignored (bool on_socket)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (base (c) + "host=127.0.0.2 signaling=websocket" +
      (on_socket ? " signaling-socket-only=false" : ""));
  check_plays (sub);
  if (!on_socket)
    fail_unless (sub.wait ([&] { return switched (c); }, 10));
  for (const char *garbage : { "{not json", "[1,2,3]", "\"just a string\"", "{\"data\":5}",
           "{\"data\":{\"type\":\"status\"}}", "{\"unknownThing\":{\"a\":1}}", "\xff\xfe" })
    send_raw (c, garbage);
  if (on_socket)
    send_raw (c, "");   /* an empty message: webrtcbin 1.22 cannot send one on a channel */
  /* on the socket, bigger than any message we accept (256 KiB); a data channel carries
   * far less (webrtcbin's SCTP refuses large messages on the sending side) */
  send_raw (c, "", on_socket ? "&size=1048576" : "&size=16000");
  guint64 frames = sub.video_frames ();
  fail_unless (sub.wait_video (frames + 60, 20), "the stream stopped after garbage");
  fail_unless (!sub.has_error ());
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
  fail_unless_equals_int (sub.count ("Subscribe.Fail"), 0);
}

GST_START_TEST (test_garbage_on_the_socket_is_ignored_and_play_continues)
{
  check_garbage_is_ignored (true);
}
GST_END_TEST;

GST_START_TEST (test_garbage_on_the_data_channel_is_ignored_and_play_continues)
{
  check_garbage_is_ignored (false);
}
GST_END_TEST;

static Suite *
websocket_suite (void)
{
  Suite *s = suite_create ("red5prosrc-websocket");
  TCase *tc = tcase_create ("e2e");
  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_websocket_direct_to_the_edge_delivers_frames);
  tcase_add_test (tc, test_websocket_via_sm1_proxy_delivers_frames);
  tcase_add_test (tc, test_websocket_via_sm2_proxy_delivers_frames);
  tcase_add_test (tc, test_whep_via_sm2_proxy_delivers_frames);
  tcase_add_test (tc, test_connection_params_reach_the_edge_over_websocket);
  tcase_add_test (tc, test_connection_params_reach_the_edge_over_whep);
  tcase_add_test (tc, test_unpublish_on_the_socket_before_the_switch_is_reported);
  tcase_add_test (tc, test_unpublish_on_the_data_channel_after_the_switch_is_reported);
  tcase_add_test (tc, test_a_message_under_way_at_the_switch_is_reported);
  tcase_add_test (tc, test_the_edge_closing_the_socket_before_the_switch_is_a_lost_connection);
  tcase_add_test (tc, test_metadata_is_posted_with_its_fields);
  tcase_add_test (tc, test_garbage_on_the_socket_is_ignored_and_play_continues);
  tcase_add_test (tc, test_garbage_on_the_data_channel_is_ignored_and_play_continues);
  return s;
}

GST_CHECK_MAIN (websocket);
