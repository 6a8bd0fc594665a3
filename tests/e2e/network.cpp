/* End-to-end: red5prosrc through a lossy network (issue 19). The test cluster's network (its
 * default) loses packets after SRTP, both ways, where a network loses them: the edge's RTP
 * session has them and can send them again. Frames are counted off the
 * decoded video (the cluster's frame counter): with retransmission and key-frame requests
 * (the defaults) next to nothing is lost; switched off, the same loss costs whole groups
 * of pictures. Behaviour, not timing: the figures (and the floor) are the network benchmark's
 * (scripts/bench network, docs/benchmarks.md). */
#include <gst/check/gstcheck.h>

#include "test-cluster.h"
#include "test-subscriber.h"

#include <set>

namespace {

constexpr double WINDOW_S = 10;

struct Shown {
  guint64 distinct = 0;   /* counters read in the window */
  guint64 span = 0;       /* counters published from the first to the last of them */
  double percent () const { return span ? 100.0 * double (distinct) / double (span) : 0; }
};

/* The key-frame requests that reached the publisher's encoders (GET /state) */
gint64
encoder_keyframe_requests (TestCluster &c)
{
  std::string body = c.control ("GET", "/state");
  JsonParser *parser = json_parser_new ();
  gint64 n = -1;
  if (json_parser_load_from_data (parser, body.c_str (), -1, nullptr)) {
    JsonObject *o = json_node_get_object (json_parser_get_root (parser));
    JsonObject *k = json_object_get_object_member (o, "keyframe-requests");
    if (k && json_object_has_member (k, "stream1"))
      n = json_object_get_int_member (k, "stream1");
  }
  g_object_unref (parser);
  return n;
}

guint64
stat (GstStructure *stats, const char *field)
{
  guint64 v = 0;
  gst_structure_get_uint64 (stats, field, &v);
  return v;
}

/* One subscriber on edge1 (props added), the loss switched on once it plays, WINDOW_S of
 * frames; its stats at the end in *stats (to free). */
Shown
play_through_loss (TestCluster &c, const std::string &props, GstStructure **stats)
{
  TestSubscriber sub ("host=127.0.0.2 port=" + std::to_string (c.port ()) +
      " stream-name=stream1 " + props);
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 60; }, 30), "%s: no video: %s",
      props.c_str (), sub.error_text ().c_str ());
  c.control ("POST", "/edge/network?edge=edge1&reset=true&loss=3&delay=20");
  size_t from = sub.frames ().size ();
  g_usleep (gulong (WINDOW_S * G_USEC_PER_SEC));
  c.control ("POST", "/edge/network?edge=edge1&reset=true");
  auto frames = sub.frames ();
  std::set<guint32> seen;
  for (size_t i = from; i < frames.size (); i++)
    if (frames[i].counter)
      seen.insert (frames[i].counter);
  Shown shown;
  if (!seen.empty ()) {
    shown.distinct = seen.size ();
    shown.span = *seen.rbegin () - *seen.begin () + 1;
  }
  *stats = sub.stats ();
  fail_unless (!sub.has_error (), "%s: %s", props.c_str (), sub.error_text ().c_str ());
  sub.stop ();
  return shown;
}

}  // namespace

/* 3 % random loss both ways, 40 ms round trip, for 10 s: with NACKs and key-frame
 * requests at least 99 % of the frames published are shown; with both off, clearly fewer
 * (every frame after a loss is dropped until the next periodic key frame). The stats say
 * what was done: retransmissions asked for and received, key frames asked for, frames
 * dropped and freezes where nothing was (a few key-frame requests still leave the RTP
 * session with ours off, from elsewhere in GStreamer, not traced yet: no figure is asserted
 * for them). */
GST_START_TEST (test_nacks_and_keyframe_requests_keep_the_frames_through_loss)
{
  TestCluster c ({ "--edges", "1" });
  GstStructure *with_stats = nullptr, *without_stats = nullptr;
  gint64 forced = encoder_keyframe_requests (c);
  Shown with = play_through_loss (c, "", &with_stats);
  /* its PLIs (one at least: the first, for the first key frame) reached the encoder */
  fail_unless (stat (with_stats, "keyframes-requested") > 0);
  fail_unless (encoder_keyframe_requests (c) > forced, "no PLI reached the encoder");
  Shown without = play_through_loss (c, "retransmission=false request-keyframes=false",
      &without_stats);
  GST_INFO ("with: %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " %" GST_PTR_FORMAT,
      with.distinct, with.span, with_stats);
  GST_INFO ("without: %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " %" GST_PTR_FORMAT,
      without.distinct, without.span, without_stats);
  fail_unless (with.span >= 200 && without.span >= 200, "too few frames: %" G_GUINT64_FORMAT
      " and %" G_GUINT64_FORMAT, with.span, without.span);
  fail_unless (with.percent () >= 99.0, "with NACKs and PLIs: %.1f %% shown", with.percent ());
  fail_unless (without.percent () <= with.percent () - 5.0, "without: %.1f %% shown, with %.1f %%",
      without.percent (), with.percent ());
  fail_unless (stat (with_stats, "retransmissions-requested") > 0);
  fail_unless (stat (with_stats, "retransmissions-received") > 0);
  fail_unless (stat (without_stats, "retransmissions-requested") == 0);
  fail_unless (stat (without_stats, "frames-dropped") > 0);
  guint freezes = 0;
  gst_structure_get_uint (without_stats, "freezes", &freezes);
  fail_unless (freezes > 0);
  fail_unless (stat (without_stats, "freeze-duration-ms") > 0);
  fail_unless (stat (with_stats, "frames-received") > 200);
  gst_structure_free (with_stats);
  gst_structure_free (without_stats);
}
GST_END_TEST;

static Suite *
network_suite (void)
{
  Suite *s = suite_create ("red5prosrc-network");
  TCase *tc = tcase_create ("e2e");
  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_nacks_and_keyframe_requests_keep_the_frames_through_loss);
  return s;
}

GST_CHECK_MAIN (network);
