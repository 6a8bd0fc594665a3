/* End-to-end: talking to the server as SDK 15 does (issue 21, item 5), through the action
 * signals: switch-stream among an ABR group's variants on the running connection, set-muted
 * (the server pauses its media; no retry, no EOS, the pads stay), send and call-server (what
 * the cluster received on the red5pro channel, read back from its /state). */
#include <gst/check/gstcheck.h>

#include "e2e-checks.h"
#include "test-cluster.h"
#include "test-subscriber.h"

static std::string
sm2_props (TestCluster &c, const char *stream, const char *signaling, const std::string &extra = "")
{
  return "host=127.0.0.1 port=" + std::to_string (c.port ()) +
      " stream-manager=sm2 stream-name=" + stream + " signaling=" + signaling + " " + extra;
}

/* The cluster's only subscriber: its stream, whether it is muted, and the messages it got
 * on the channel. False when there is none. */
struct ClusterSubscriber {
  std::string stream;
  bool muted = false;
  std::vector<std::string> messages;
};
static bool
cluster_subscriber (TestCluster &c, ClusterSubscriber *out)
{
  JsonParser *p = json_parser_new ();
  bool found = false;
  if (json_parser_load_from_data (p, c.control ("GET", "/state").c_str (), -1, nullptr)) {
    JsonArray *subs = json_object_get_array_member (json_node_get_object (
        json_parser_get_root (p)), "subscribers");
    if (subs && json_array_get_length (subs) > 0) {
      JsonObject *o = json_array_get_object_element (subs, json_array_get_length (subs) - 1);
      out->stream = json_object_get_string_member_with_default (o, "stream", "");
      out->muted = json_object_get_boolean_member_with_default (o, "muted", FALSE);
      out->messages.clear ();
      if (JsonArray *m = json_object_get_array_member (o, "messages"))
        for (guint i = 0; i < json_array_get_length (m); i++)
          out->messages.push_back (json_array_get_string_element (m, i));
      found = true;
    }
  }
  g_object_unref (p);
  return found;
}

static bool
received (TestCluster &c, const std::string &needle)
{
  ClusterSubscriber s;
  if (!cluster_subscriber (c, &s))
    return false;
  for (const auto &m : s.messages)
    if (m.find (needle) != std::string::npos)
      return true;
  return false;
}

/* stream1_1 (640 wide) to stream1_3 (320 wide) on the same connection: the server confirms
 * (WebRTC.Subscribe.StreamSwitch), the decoded caps change to the new size, frames go on,
 * and no new attempt is made. */
static void
check_switch (const char *signaling)
{
  TestCluster c ({ "--edges", "1" });
  c.control ("POST", "/publish-abr?stream=stream1");
  TestSubscriber sub (sm2_props (c, "stream1_1", signaling));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30), "no frames");
  fail_unless_equals_int (sub.video_width (), 640);
  gboolean ok = FALSE;
  gint64 asked = g_get_monotonic_time ();
  g_signal_emit_by_name (sub.src (), "switch-stream", "stream1_3", TRUE, &ok);
  fail_unless (ok);
  fail_unless (sub.wait_event ("WebRTC.Subscribe.StreamSwitch", 15), "no StreamSwitch");
  gint64 confirmed = g_get_monotonic_time ();
  check_equal (sub.event_string ("WebRTC.Subscribe.StreamSwitch", "path"), "live/stream1_3");
  fail_unless (sub.wait ([&] { return sub.video_width () == 320; }, 15), "width %d",
      sub.video_width ());
  GST_INFO ("%s: confirmed %.0f ms after the signal, new size %.0f ms after it", signaling,
      (confirmed - asked) / 1000.0, (g_get_monotonic_time () - asked) / 1000.0);
  guint64 frames = sub.counted_frames ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= frames + 30; }, 15),
      "no frames after the switch");
  ClusterSubscriber s;
  fail_unless (cluster_subscriber (c, &s));
  check_equal (s.stream, "stream1_3");
  fail_unless_equals_int (sub.count ("Subscribe.Start"), 1);
  fail_unless_equals_int (sub.stat_uint ("attempts"), 1);
  fail_unless (!sub.has_error ());
  fail_unless (!sub.got_eos ());
  sub.stop ();
}

GST_START_TEST (test_switch_stream_over_whep_changes_the_size_without_a_new_attempt)
{
  check_switch ("whep");
}
GST_END_TEST;

GST_START_TEST (test_switch_stream_over_websocket_changes_the_size_without_a_new_attempt)
{
  check_switch ("websocket");
}
GST_END_TEST;

/* After a switch, a failover subscribes to the stream switched to: the edge killed, the
 * retry on the other edge plays stream1_3 (320 wide) without another switch. */
GST_START_TEST (test_a_failover_after_a_switch_plays_the_new_stream)
{
  TestCluster c ({ "--edges", "2" });
  c.control ("POST", "/publish-abr?stream=stream1");
  TestSubscriber sub (sm2_props (c, "stream1_1", "whep", "retry-timeout=500"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30), "no frames");
  gboolean ok = FALSE;
  g_signal_emit_by_name (sub.src (), "switch-stream", "live/stream1_3", TRUE, &ok);
  fail_unless (sub.wait_event ("WebRTC.Subscribe.StreamSwitch", 15), "no StreamSwitch");
  fail_unless (sub.wait ([&] { return sub.video_width () == 320; }, 15));
  std::string edge = c.edge_name (sub.edge ());
  c.control ("POST", "/edge/kill?edge=" + edge + "&mode=loud");
  fail_unless (sub.wait ([&] { return sub.count ("Subscribe.Start") >= 2; }, 30, false),
      "no new subscription");
  guint64 frames = sub.counted_frames ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= frames + 30; }, 30, false),
      "no frames after the failover");
  ClusterSubscriber s;
  fail_unless (cluster_subscriber (c, &s));
  check_equal (s.stream, "stream1_3");
  fail_unless_equals_int (sub.video_width (), 320);
  fail_unless_equals_int (sub.count ("WebRTC.Subscribe.StreamSwitch"), 1);
  sub.stop ();
}
GST_END_TEST;

/* A stream the server cannot switch to: its answer is a Red5Pro.Call.Result, no switch;
 * the stream plays on. */
GST_START_TEST (test_switch_to_a_stream_outside_the_group_is_answered_and_changes_nothing)
{
  TestCluster c ({ "--edges", "1" });
  c.control ("POST", "/publish-abr?stream=stream1");
  TestSubscriber sub (sm2_props (c, "stream1_2", "whep"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30), "no frames");
  gboolean ok = FALSE;
  g_signal_emit_by_name (sub.src (), "switch-stream", "live/nosuchstream", FALSE, &ok);
  fail_unless (ok);
  fail_unless (sub.wait_event ("Red5Pro.Call.Result", 15), "no answer");
  check_equal (sub.event_string ("Red5Pro.Call.Result", "method"), "switchStreams");
  check_equal (sub.event_string ("Red5Pro.Call.Result", "message"), "Stream switch: Failure");
  fail_unless_equals_int (sub.count ("WebRTC.Subscribe.StreamSwitch"), 0);
  fail_unless_equals_int (sub.video_width (), 480);
  guint64 frames = sub.counted_frames ();
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= frames + 30; }, 15));
  sub.stop ();
}
GST_END_TEST;

/* Muted for 10 s with an inactivity timeout of 1 s: the server sends nothing (its counter),
 * yet no retry, no EOS, no new pad; unmuted, frames again (the time it took is printed:
 * docs/benchmarks.md). Without the pause, the inactivity timeout would retry after 1 s. */
GST_START_TEST (test_set_muted_for_10_s_keeps_the_pads_without_retry)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (sm2_props (c, "stream1", "whep", "inactivity-timeout=1000"));
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30; }, 30), "no frames");
  guint starts = sub.stream_starts ();
  g_signal_emit_by_name (sub.src (), "set-muted", TRUE, TRUE);
  ClusterSubscriber s;
  fail_unless (sub.wait ([&] { return cluster_subscriber (c, &s) && s.muted; }, 10),
      "the server was not asked to pause");
  /* what was under way arrives; then nothing */
  g_usleep (500 * 1000);
  guint64 frames = sub.video_frames ();
  g_usleep (10 * G_USEC_PER_SEC);
  fail_unless (sub.video_frames () <= frames + 2, "%" G_GUINT64_FORMAT " frames while muted",
      sub.video_frames () - frames);
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
  fail_unless_equals_int (sub.count ("Subscribe.Start"), 1);
  fail_unless (!sub.got_eos ());
  fail_unless_equals_int (sub.eos_events (), 0);
  fail_unless_equals_int (sub.stream_starts (), starts);
  fail_unless (!sub.has_error ());
  gint64 unmuted = g_get_monotonic_time ();
  frames = sub.counted_frames ();
  g_signal_emit_by_name (sub.src (), "set-muted", FALSE, FALSE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () > frames; }, 10),
      "no frames after unmuting");
  GST_INFO ("first frame %.0f ms after unmuting", (g_get_monotonic_time () - unmuted) / 1000.0);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= frames + 30; }, 10));
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
  fail_unless_equals_int (sub.stream_starts (), starts);
  sub.stop ();
}
GST_END_TEST;

/* send before the channel is open (kept, the SDK would lose it) and after; call-server's
 * answer comes back as Red5Pro.Call.Result with its id. */
GST_START_TEST (test_send_and_call_server_reach_the_server)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (sm2_props (c, "stream1", "whep"));
  gboolean ok = FALSE;
  /* before PLAYING: kept for the connection to come */
  g_signal_emit_by_name (sub.src (), "send", "early", "{\"n\":1}", &ok);
  fail_unless (ok);
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  g_signal_emit_by_name (sub.src (), "send", "soon", "[1,2,3]", &ok);
  fail_unless (ok);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 10; }, 30), "no frames");
  g_signal_emit_by_name (sub.src (), "send", "later", nullptr, &ok);
  fail_unless (ok);
  fail_unless (sub.wait ([&] { return received (c, "{\"send\":{\"method\":\"later\",\"data\":null}}"); },
      10), "send after the channel opened did not arrive");
  fail_unless (received (c, "{\"send\":{\"method\":\"early\",\"data\":{\"n\":1}}}"),
      "send before PLAYING did not arrive");
  fail_unless (received (c, "{\"send\":{\"method\":\"soon\",\"data\":[1,2,3]}}"),
      "send before the channel opened did not arrive");

  gchar *id = nullptr;
  g_signal_emit_by_name (sub.src (), "call-server", "echo", "{\"x\":\"y\"}", &id);
  fail_unless (id != nullptr);
  std::string call_id = id;
  g_free (id);
  fail_unless (sub.wait_event ("Red5Pro.Call.Result", 10), "no answer");
  check_equal (sub.event_string ("Red5Pro.Call.Result", "id"), call_id);
  check_equal (sub.event_string ("Red5Pro.Call.Result", "method"), "echo");
  check_equal (sub.event_string ("Red5Pro.Call.Result", "data"), "[{\"x\":\"y\"}]");
  fail_unless (received (c, "\"callAdapter\":{\"method\":\"echo\",\"arguments\":[{\"x\":\"y\"}]}"),
      "the call's message");
  fail_unless (received (c, "\"id\":\"" + call_id + "\",\"async\":true"), "the call's id");
  fail_unless (!sub.has_error ());
  sub.stop ();
}
GST_END_TEST;

/* What the application gives that is not JSON, too large or empty is refused at once (FALSE
 * or NULL, a warning in the log), and nothing reaches the server. */
GST_START_TEST (test_bad_messages_are_refused)
{
  GstElement *src = gst_element_factory_make ("red5prosrc", nullptr);
  gboolean ok = TRUE;
  g_signal_emit_by_name (src, "send", "m", "{not json", &ok);
  fail_if (ok);
  ok = TRUE;
  g_signal_emit_by_name (src, "send", "", "{}", &ok);
  fail_if (ok);
  ok = TRUE;
  g_signal_emit_by_name (src, "send", nullptr, "{}", &ok);
  fail_if (ok);
  std::string big = "\"" + std::string (70 * 1024, 'a') + "\"";
  ok = TRUE;
  g_signal_emit_by_name (src, "send", "m", big.c_str (), &ok);
  fail_if (ok);
  std::string deep (200, '[');
  deep += std::string (200, ']');
  ok = TRUE;
  g_signal_emit_by_name (src, "send", "m", deep.c_str (), &ok);
  fail_if (ok);
  gchar *id = (gchar *) "x";
  g_signal_emit_by_name (src, "call-server", "m", "[1,", &id);
  fail_unless (id == nullptr);
  ok = TRUE;
  g_signal_emit_by_name (src, "switch-stream", "", TRUE, &ok);
  fail_if (ok);
  ok = TRUE;
  g_signal_emit_by_name (src, "switch-stream", nullptr, TRUE, &ok);
  fail_if (ok);
  /* no channel to the server: refused */
  GstElement *nochannel = gst_element_factory_make ("red5prosrc", nullptr);
  g_object_set (nochannel, "data-channel", FALSE, NULL);
  ok = TRUE;
  g_signal_emit_by_name (nochannel, "send", "m", "{}", &ok);
  fail_if (ok);
  ok = TRUE;
  g_signal_emit_by_name (nochannel, "switch-stream", "stream1_3", TRUE, &ok);
  fail_if (ok);
  gst_object_unref (nochannel);
  /* not playing: accepted and kept; muting too */
  g_signal_emit_by_name (src, "send", "m", "{}", &ok);
  fail_unless (ok);
  g_signal_emit_by_name (src, "set-muted", TRUE, FALSE);
  gst_object_unref (src);
}
GST_END_TEST;

static Suite *
messages_suite (void)
{
  Suite *s = suite_create ("red5prosrc-messages");
  TCase *tc = tcase_create ("messages");
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_bad_messages_are_refused);
  tcase_add_test (tc, test_switch_stream_over_whep_changes_the_size_without_a_new_attempt);
  tcase_add_test (tc, test_switch_stream_over_websocket_changes_the_size_without_a_new_attempt);
  tcase_add_test (tc, test_switch_to_a_stream_outside_the_group_is_answered_and_changes_nothing);
  tcase_add_test (tc, test_a_failover_after_a_switch_plays_the_new_stream);
  tcase_add_test (tc, test_set_muted_for_10_s_keeps_the_pads_without_retry);
  tcase_add_test (tc, test_send_and_call_server_reach_the_server);
  return s;
}

GST_CHECK_MAIN (messages);
