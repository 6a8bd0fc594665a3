/* End-to-end: red5prosrc subscribes over WHEP to the bundled test cluster, through both
 * Stream Manager generations and both WHEP flavours, with real media over loopback. */
#include <gst/check/gstcheck.h>

#include "test-cluster.h"
#include "test-subscriber.h"

#include <dirent.h>

#include <algorithm>
#include <map>

/* Two edges: edge1 speaks Red5 Pro's WHEP (server offers), edge2 the standard one. */
static TestCluster *
start_cluster ()
{
  return new TestCluster ({ "--edges", "2", "--edge-flavours", "red5,standard" });
}

static std::string
props (TestCluster &c, const char *extra)
{
  return "host=127.0.0.1 port=" + std::to_string (c.port ()) + " retry-timeout=0 " + extra;
}

/* Subscribes through the given lookup to the edge with the given flavour and checks
 * that decoded video (with a readable frame counter) and audio arrive. */
static void
check_subscribes (const char *sm, const char *edge)
{
  TestCluster *c = start_cluster ();
  c->control ("POST", std::string ("/route?stream=stream1&edge=") + edge);
  std::string extra = std::string ("stream-manager=") + sm + " stream-name=stream1";
  TestSubscriber sub (props (*c, extra.c_str ()));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30 && sub.audio_buffers () >= 10; },
      30), "frames %" G_GUINT64_FORMAT " (counted %" G_GUINT64_FORMAT ") audio %"
      G_GUINT64_FORMAT, sub.video_frames (), sub.counted_frames (), sub.audio_buffers ());
  fail_unless (sub.count ("Red5Pro.Edge.Resolved") == 1);
  fail_unless (sub.count ("Connect.Success") == 1);
  fail_unless (sub.count ("Subscribe.Start") == 1);
  GstStructure *resolved = sub.last_event ("Red5Pro.Edge.Resolved");
  const TestEdge &e = c->edges ()[edge[4] - '1'];
  fail_unless_equals_string (gst_structure_get_string (resolved, "edge"), e.address.c_str ());
  gst_structure_free (resolved);
  /* the server's offer (Red5 Pro) goes through Offer/Answer events; an answer does not */
  bool red5 = e.flavour == "red5";
  fail_unless_equals_int (sub.count ("WebRTC.Offer.Start") > 0, red5);
  fail_unless_equals_int (sub.count ("WebRTC.Answer.End") > 0, red5);
  fail_unless (!sub.has_error ());
  sub.stop ();
  delete c;
}

GST_START_TEST (test_sm1_lookup_red5_flavour_delivers_video_and_audio)
{
  check_subscribes ("sm1", "edge1");
}
GST_END_TEST;

GST_START_TEST (test_sm1_lookup_standard_flavour_delivers_video_and_audio)
{
  check_subscribes ("sm1", "edge2");
}
GST_END_TEST;

GST_START_TEST (test_sm2_lookup_red5_flavour_delivers_video_and_audio)
{
  check_subscribes ("sm2", "edge1");
}
GST_END_TEST;

GST_START_TEST (test_sm2_lookup_standard_flavour_delivers_video_and_audio)
{
  check_subscribes ("sm2", "edge2");
}
GST_END_TEST;

GST_START_TEST (test_encoded_output_is_vp8_and_opus)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (props (c, "host=127.0.0.2 stream-name=stream1"), false);
  sub.play ();
  fail_unless (sub.wait ([&] { return sub.video_frames () >= 10 && sub.audio_buffers () >= 10; },
      30));
  GstPad *video = gst_element_get_static_pad (sub.src (), "video");
  GstPad *audio = gst_element_get_static_pad (sub.src (), "audio");
  GstCaps *vcaps = gst_pad_get_current_caps (video);
  GstCaps *acaps = gst_pad_get_current_caps (audio);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (vcaps, 0), "video/x-vp8"));
  fail_unless (gst_structure_has_name (gst_caps_get_structure (acaps, 0), "audio/x-opus"));
  gst_caps_unref (vcaps);
  gst_caps_unref (acaps);
  gst_object_unref (video);
  gst_object_unref (audio);
}
GST_END_TEST;

GST_START_TEST (test_stop_sends_delete_to_the_edge)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (props (c, "stream-manager=sm1 stream-name=stream1"));
  sub.play ();
  fail_unless (sub.wait_video (5, 30));
  fail_unless_equals_int (sub.stop (), GST_STATE_CHANGE_SUCCESS);
  std::string post_path, delete_path;
  for (const auto &r : c.requests ("edge1")) {
    if (r.method == "POST")
      post_path = r.path;
    if (r.method == "DELETE")
      delete_path = r.path;
  }
  fail_unless_equals_string (post_path.c_str (), "/live/whep/endpoint/stream1");
  fail_unless (g_str_has_prefix (delete_path.c_str (), "/live/whep/resource/"),
      "no DELETE reached the edge (last: '%s')", delete_path.c_str ());
  fail_unless (sub.count ("Subscribe.Stop") == 1);
}
GST_END_TEST;

GST_START_TEST (test_unknown_stream_on_edge_gives_invalid_name_and_error)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (props (c, "host=127.0.0.2 stream-name=nosuchstream"));
  sub.play ();
  fail_unless (sub.wait ([&] { return sub.has_error (); }, 30, false), "no error, no hang");
  fail_unless (sub.count ("Subscribe.InvalidName") == 1);
  std::string message;
  fail_unless (sub.error_matches (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, &message));
  fail_unless (message.find ("nosuchstream") != std::string::npos, "%s", message.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_unknown_stream_via_stream_manager_gives_invalid_name_and_error)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (props (c, "stream-manager=sm1 stream-name=nosuchstream"));
  sub.play ();
  fail_unless (sub.wait ([&] { return sub.has_error (); }, 30, false), "no error, no hang");
  fail_unless (sub.count ("Subscribe.InvalidName") == 1);
  fail_unless (sub.count ("Connect.Failure") == 1);
  fail_unless (sub.error_matches (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND));
}
GST_END_TEST;

/* "name x count" for every thread of this process, to tell a leak's source */
static std::string
thread_names ()
{
  std::map<std::string, int> names;
  DIR *d = opendir ("/proc/self/task");
  while (struct dirent *e = d ? readdir (d) : nullptr) {
    if (e->d_name[0] == '.')
      continue;
    char *path = g_strdup_printf ("/proc/self/task/%s/comm", e->d_name), *comm = nullptr;
    if (g_file_get_contents (path, &comm, nullptr, nullptr))
      names[g_strstrip (comm)]++;
    g_free (path);
    g_free (comm);
  }
  if (d)
    closedir (d);
  std::string out;
  for (auto &kv : names)
    out += kv.first + " x" + std::to_string (kv.second) + ", ";
  return out;
}

static guint
count_entries (const char *dir)
{
  guint n = 0;
  DIR *d = opendir (dir);
  if (!d)
    return 0;
  while (readdir (d))
    n++;
  closedir (d);
  return n;
}

GST_START_TEST (test_play_stop_twenty_times_leaks_no_threads_or_sockets)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (props (c, "stream-manager=sm2 stream-name=stream1"));
  guint threads_after_warmup = 0, fds_after_warmup = 0;
  for (int i = 0; i < 20; i++) {
    guint64 before = sub.video_frames ();
    sub.play ();
    fail_unless (sub.wait ([&] { return sub.video_frames () > before; }, 30),
        "no video in cycle %d", i);
    fail_unless_equals_int (sub.stop (), GST_STATE_CHANGE_SUCCESS);
    if (i == 2) {
      g_usleep (200000);
      threads_after_warmup = count_entries ("/proc/self/task");
      fds_after_warmup = count_entries ("/proc/self/fd");
    }
  }
  g_usleep (200000);
  guint threads = count_entries ("/proc/self/task"), fds = count_entries ("/proc/self/fd");
  GST_INFO ("threads %u -> %u, fds %u -> %u", threads_after_warmup, threads,
      fds_after_warmup, fds);
  /* a leak per cycle would show 17 more; allow for GLib's thread pools breathing */
  fail_unless (threads <= threads_after_warmup + 4, "threads %u -> %u (%s)",
      threads_after_warmup, threads, thread_names ().c_str ());
  fail_unless (fds <= fds_after_warmup + 4, "fds %u -> %u", fds_after_warmup, fds);
  fail_unless_equals_int (sub.count ("Subscribe.Start"), 20);
  fail_unless_equals_int (sub.count ("Subscribe.Stop"), 20);
}
GST_END_TEST;

/* SDK 15 (protocol notes, section 15): OPTIONS first, with the POST's query; through the
 * Stream Manager 2.0 proxy its Session-Host names the node, which goes as host= on the
 * POST, both PATCHes and the DELETE, and WebRTC.Endpoint.Changed says so. The proxy sends
 * a request with host= to that node (the cluster routes the stream elsewhere meanwhile:
 * the session stays where it began). */
GST_START_TEST (test_session_host_keeps_every_request_on_one_node)
{
  TestCluster c ({ "--edges", "2" });
  c.control ("POST", "/route?stream=stream1&edge=edge2");
  TestSubscriber sub (props (c, "stream-manager=sm2 use-proxy=true stream-name=stream1"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30), "%s",
      sub.error_text ().c_str ());
  GstStructure *changed = sub.last_event ("WebRTC.Endpoint.Changed");
  fail_unless (changed != nullptr, "no WebRTC.Endpoint.Changed");
  const std::string node = c.edges ()[1].address;
  fail_unless_equals_string (gst_structure_get_string (changed, "endpoint"), node.c_str ());
  gst_structure_free (changed);
  c.control ("POST", "/route?stream=stream1&edge=edge1");
  fail_unless_equals_int (sub.stop (), GST_STATE_CHANGE_SUCCESS);
  std::vector<std::string> methods;
  const std::string host = "\"host\":\"" + node + "\"";
  for (const auto &r : c.requests ("sm")) {
    if (!g_str_has_prefix (r.path.c_str (), "/as/v1/proxy/whep"))
      continue;
    methods.push_back (r.method);
    if (r.method == "OPTIONS")
      fail_unless (r.query_json.find ("requestId") != std::string::npos, "%s",
          r.query_json.c_str ());
    else
      fail_unless (r.query_json.find (host) != std::string::npos, "%s without %s: %s",
          r.method.c_str (), host.c_str (), r.query_json.c_str ());
  }
  fail_unless (methods.size () >= 4 && methods[0] == "OPTIONS" && methods[1] == "POST",
      "requests: %zu, first %s", methods.size (), methods.empty () ? "-" : methods[0].c_str ());
  fail_unless (std::count (methods.begin (), methods.end (), "PATCH") >= 1);
  fail_unless (std::count (methods.begin (), methods.end (), "DELETE") == 1);
  /* every one of them reached the node the session began on */
  bool on_edge2 = false;
  for (const auto &r : c.requests ("edge2"))
    on_edge2 = on_edge2 || r.method == "DELETE";
  fail_unless (on_edge2, "the DELETE did not reach the session's node");
}
GST_END_TEST;

/* Without Session-Host (an older server), and with a host of the user's in the connection
 * parameters, no host= is added: the user's stays the only one. */
GST_START_TEST (test_without_session_host_no_host_is_added)
{
  TestCluster c ({ "--edges", "1" });
  c.control ("POST", "/sm/session-host?enabled=false");
  TestSubscriber sub (props (c, "stream-manager=sm2 use-proxy=true stream-name=stream1"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 10; }, 30), "%s",
      sub.error_text ().c_str ());
  fail_unless (sub.count ("WebRTC.Endpoint.Changed") == 0);
  sub.stop ();
  for (const auto &r : c.requests ("sm"))
    fail_unless (r.query_json.find ("\"host\"") == std::string::npos, "%s %s",
        r.method.c_str (), r.query_json.c_str ());
}
GST_END_TEST;

/* An OPTIONS the server refuses (the strict edge answers 405, as a standard server that
 * implements none): no error, the POST goes on and the stream plays. */
GST_START_TEST (test_an_options_that_fails_is_no_error)
{
  TestCluster c ({ "--edges", "1", "--edge-flavours", "strict" });
  TestSubscriber sub (props (c, "host=127.0.0.2 stream-name=stream1"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 10; }, 30), "%s",
      sub.error_text ().c_str ());
  std::vector<std::string> methods;
  for (const auto &r : c.requests ("edge1"))
    methods.push_back (r.method);
  fail_unless (methods.size () >= 2 && methods[0] == "OPTIONS" && methods[1] == "POST");
  sub.stop ();
}
GST_END_TEST;

static Suite *
whep_suite (void)
{
  Suite *s = suite_create ("red5prosrc-whep");
  TCase *tc = tcase_create ("e2e");
  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sm1_lookup_red5_flavour_delivers_video_and_audio);
  tcase_add_test (tc, test_sm1_lookup_standard_flavour_delivers_video_and_audio);
  tcase_add_test (tc, test_sm2_lookup_red5_flavour_delivers_video_and_audio);
  tcase_add_test (tc, test_sm2_lookup_standard_flavour_delivers_video_and_audio);
  tcase_add_test (tc, test_encoded_output_is_vp8_and_opus);
  tcase_add_test (tc, test_stop_sends_delete_to_the_edge);
  tcase_add_test (tc, test_unknown_stream_on_edge_gives_invalid_name_and_error);
  tcase_add_test (tc, test_unknown_stream_via_stream_manager_gives_invalid_name_and_error);
  tcase_add_test (tc, test_play_stop_twenty_times_leaks_no_threads_or_sockets);
  tcase_add_test (tc, test_session_host_keeps_every_request_on_one_node);
  tcase_add_test (tc, test_without_session_host_no_host_is_added);
  tcase_add_test (tc, test_an_options_that_fails_is_no_error);
  return s;
}

GST_CHECK_MAIN (whep);
