/* End-to-end: red5prosrc in the ways GStreamer users use a source: playbin(3), uridecodebin(3),
 * urisourcebin, decodebin3 after it, gst-discoverer-1.0, a pad-added handler plugging
 * decodebin, one pad linked, no pad linked; against the test cluster, including its strict
 * standard-WHEP edges, a codec the element is told not to take, the latency it reports and
 * the network quality in its stats under packet loss. */
#include <gst/check/gstcheck.h>
#include <gst/pbutils/pbutils.h>

#include <glib/gstdio.h>

#include "test-cluster.h"
#include "test-subscriber.h"

#include <atomic>
#include <set>

static std::string
uri_of (TestCluster &c, const std::string &extra = "")
{
  return "red5pro://127.0.0.1:" + std::to_string (c.port ()) +
      "/live/stream1?stream-manager=sm2&ice-addresses=127.0.0.1&retry-timeout=500" + extra;
}

/* Buffers counted on a pad, and the frame counters read off decoded I420 video. */
struct Count {
  std::atomic<guint64> buffers { 0 };
  std::mutex lock;
  std::set<guint32> counters;
};

static GstPadProbeReturn
count_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  auto *c = static_cast<Count *> (data);
  c->buffers++;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstVideoInfo vinfo;
  if (caps && gst_video_info_from_caps (&vinfo, caps) &&
      GST_VIDEO_INFO_FORMAT (&vinfo) == GST_VIDEO_FORMAT_I420) {
    GstVideoFrame frame;
    if (gst_video_frame_map (&frame, &vinfo, GST_PAD_PROBE_INFO_BUFFER (info), GST_MAP_READ)) {
      guint32 counter;
      if (frame_counter_read (static_cast<const uint8_t *> (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)),
              GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), &counter)) {
        std::lock_guard<std::mutex> g (c->lock);
        c->counters.insert (counter);
      }
      gst_video_frame_unmap (&frame);
    }
  }
  gst_clear_caps (&caps);
  return GST_PAD_PROBE_OK;
}

static void
count_on (GstElement *sink, Count &c)
{
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, &c, nullptr);
  gst_object_unref (pad);
}

/* A chain into a counted fakesink (sync, as a player would), added to bin and linked from
 * pad. Raw video goes through videoconvert to I420, so the frame counter can be read. */
static void
link_counted_sink (GstBin *bin, GstPad *pad, Count &c)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, nullptr);
  const char *name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  bool raw_video = g_str_equal (name, "video/x-raw");
  gst_caps_unref (caps);
  std::string desc = std::string ("queue ! ") +
      (raw_video ? "videoconvert ! video/x-raw,format=I420 ! " : "") + "fakesink name=sink";
  GstElement *chain = gst_parse_bin_from_description (desc.c_str (), TRUE, nullptr);
  gst_bin_add (bin, chain);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (chain), "sink");
  count_on (sink, c);
  gst_object_unref (sink);
  gst_element_sync_state_with_parent (chain);
  GstPad *sinkpad = gst_element_get_static_pad (chain, "sink");
  fail_unless (GST_PAD_LINK_SUCCESSFUL (gst_pad_link (pad, sinkpad)));
  gst_object_unref (sinkpad);
}

/* Media of both kinds in a pipeline under test; the bus's first error is kept. */
struct Player {
  GstElement *pipeline = nullptr;
  Count video, audio;
  std::mutex lock;
  std::string error;
  guint collections = 0;

  explicit Player (GstElement *p) : pipeline (p)
  {
    GstBus *bus = gst_element_get_bus (pipeline);
    gst_bus_set_sync_handler (bus, [] (GstBus *, GstMessage *msg, gpointer data) {
      auto *self = static_cast<Player *> (data);
      std::lock_guard<std::mutex> g (self->lock);
      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR && self->error.empty ()) {
        GError *err = nullptr;
        gst_message_parse_error (msg, &err, nullptr);
        self->error = err->message;
        g_error_free (err);
      } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_STREAM_COLLECTION) {
        self->collections++;
      }
      gst_message_unref (msg);
      return GST_BUS_DROP;
    }, this, nullptr);
    gst_object_unref (bus);
  }
  ~Player ()
  {
    gst_element_set_state (pipeline, GST_STATE_NULL);
    GstBus *bus = gst_element_get_bus (pipeline);
    gst_bus_set_sync_handler (bus, nullptr, nullptr, nullptr);
    gst_object_unref (bus);
    gst_object_unref (pipeline);
  }
  std::string first_error ()
  {
    std::lock_guard<std::mutex> g (lock);
    return error;
  }
  /* waits for n more video and audio buffers than now; false on timeout or error */
  bool wait_more (guint64 n, double timeout_s)
  {
    guint64 v0 = video.buffers, a0 = audio.buffers;
    gint64 end = g_get_monotonic_time () + gint64 (timeout_s * G_USEC_PER_SEC);
    while (g_get_monotonic_time () < end && first_error ().empty ()) {
      if (video.buffers >= v0 + n && audio.buffers >= a0 + n)
        return true;
      g_usleep (20000);
    }
    return false;
  }
};

/* Plays, checks both media arrive, kills the serving edge, checks they arrive again. */
static void
check_plays_across_a_failover (TestCluster &c, Player &p)
{
  fail_if (gst_element_set_state (p.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
  fail_unless (p.wait_more (30, 30), "video %" G_GUINT64_FORMAT " audio %" G_GUINT64_FORMAT
      " error '%s'", p.video.buffers.load (), p.audio.buffers.load (), p.first_error ().c_str ());
  /* the lookup always names the first edge that is up */
  c.control ("POST", "/edge/kill?edge=edge1&mode=loud");
  fail_unless (p.wait_more (30, 30), "after the failover: video %" G_GUINT64_FORMAT " audio %"
      G_GUINT64_FORMAT " error '%s'", p.video.buffers.load (), p.audio.buffers.load (),
      p.first_error ().c_str ());
  fail_unless (p.first_error ().empty (), "%s", p.first_error ().c_str ());
}

static void
check_player (const char *factory)
{
  TestCluster c ({ "--edges", "2" });
  GstElement *playbin = gst_element_factory_make (factory, nullptr);
  fail_unless (playbin != nullptr);
  Player p (playbin);
  GstElement *vsink = gst_element_factory_make ("fakesink", nullptr);
  GstElement *asink = gst_element_factory_make ("fakesink", nullptr);
  count_on (vsink, p.video);
  count_on (asink, p.audio);
  g_object_set (playbin, "uri", uri_of (c).c_str (), "video-sink", vsink, "audio-sink", asink,
      NULL);
  check_plays_across_a_failover (c, p);
}

GST_START_TEST (test_playbin_plays_the_uri_across_a_failover)
{
  check_player ("playbin");
}
GST_END_TEST;

GST_START_TEST (test_playbin3_plays_the_uri_across_a_failover)
{
  check_player ("playbin3");
}
GST_END_TEST;

/* A bin with dynamic pads (uridecodebin(3), urisourcebin, decodebin3) into counted sinks. */
static void
on_dynamic_pad (GstElement *el, GstPad *pad, gpointer data)
{
  auto *p = static_cast<Player *> (data);
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, nullptr);
  bool video = g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure (caps, 0)),
      "video/");
  gst_caps_unref (caps);
  GstBin *bin = GST_BIN (GST_ELEMENT_PARENT (el));
  link_counted_sink (bin, pad, video ? p->video : p->audio);
}

static void
check_dynamic (const char *factory)
{
  TestCluster c ({ "--edges", "2" });
  GstElement *pipeline = gst_pipeline_new (nullptr);
  Player p (pipeline);
  GstElement *el = gst_element_factory_make (factory, nullptr);
  fail_unless (el != nullptr);
  g_object_set (el, "uri", uri_of (c).c_str (), NULL);
  gst_bin_add (GST_BIN (pipeline), el);
  g_signal_connect (el, "pad-added", G_CALLBACK (on_dynamic_pad), &p);
  check_plays_across_a_failover (c, p);
}

GST_START_TEST (test_uridecodebin_plays_the_uri_across_a_failover)
{
  check_dynamic ("uridecodebin");
}
GST_END_TEST;

GST_START_TEST (test_uridecodebin3_plays_the_uri_across_a_failover)
{
  check_dynamic ("uridecodebin3");
}
GST_END_TEST;

GST_START_TEST (test_urisourcebin_exposes_both_streams_across_a_failover)
{
  check_dynamic ("urisourcebin");
}
GST_END_TEST;

/* red5prosrc's pads into decodebin3's sink pads, then counted sinks. */
GST_START_TEST (test_decodebin3_after_the_element_across_a_failover)
{
  TestCluster c ({ "--edges", "2" });
  GstElement *pipeline = gst_pipeline_new (nullptr);
  Player p (pipeline);
  GstElement *src = gst_element_make_from_uri (GST_URI_SRC, uri_of (c).c_str (), nullptr, nullptr);
  GstElement *dec = gst_element_factory_make ("decodebin3", nullptr);
  gst_bin_add_many (GST_BIN (pipeline), src, dec, NULL);
  g_signal_connect (dec, "pad-added", G_CALLBACK (on_dynamic_pad), &p);
  g_signal_connect (src, "pad-added", G_CALLBACK (+[] (GstElement *, GstPad *pad, gpointer d) {
    auto *dec = GST_ELEMENT (d);
    GstPad *sink = gst_element_request_pad_simple (dec, "sink_%u");
    fail_unless (GST_PAD_LINK_SUCCESSFUL (gst_pad_link (pad, sink)));
    gst_object_unref (sink);
  }), dec);
  check_plays_across_a_failover (c, p);
}
GST_END_TEST;

/* gst-discoverer-1.0 as a user runs it, with its default timeout (10 s). */
GST_START_TEST (test_discoverer_reports_two_streams_with_distinct_ids)
{
  TestCluster c ({ "--edges", "1" });
  std::string uri = uri_of (c);
  const char *argv[] = { "gst-discoverer-1.0", uri.c_str (), nullptr };
  gchar *out = nullptr, *err = nullptr;
  gint status = 0;
  fail_unless (g_spawn_sync (nullptr, (gchar **) argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr,
      nullptr, &out, &err, &status, nullptr));
  std::string text (out ? out : "");
  g_free (out);
  g_free (err);
  fail_unless (g_spawn_check_wait_status (status, nullptr), "%s", text.c_str ());
  fail_unless (text.find ("timed out") == std::string::npos, "%s", text.c_str ());
  fail_unless (text.find ("video #") != std::string::npos, "%s", text.c_str ());
  fail_unless (text.find ("audio #") != std::string::npos, "%s", text.c_str ());
  std::set<std::string> ids;
  size_t pos = 0;
  while ((pos = text.find ("Stream ID: ", pos)) != std::string::npos) {
    pos += strlen ("Stream ID: ");
    ids.insert (text.substr (pos, text.find ('\n', pos) - pos));
  }
  fail_unless_equals_int (ids.size (), 2);
}
GST_END_TEST;

/* The most common application pattern: in pad-added, a bin queue ! decodebin joins the
 * playing pipeline (decodebin plugs the decoder and its sink later, while PLAYING: the
 * pipeline loses its state for a moment). The published frames arrive, nearly all. */
static void
on_pad_plug_decodebin (GstElement *src, GstPad *pad, gpointer data)
{
  auto *p = static_cast<Player *> (data);
  GstBin *pipeline = GST_BIN (GST_ELEMENT_PARENT (src));
  GstElement *queue = gst_element_factory_make ("queue", nullptr);
  GstElement *decodebin = gst_element_factory_make ("decodebin", nullptr);
  GstElement *bin = gst_bin_new (nullptr);
  gst_bin_add_many (GST_BIN (bin), queue, decodebin, NULL);
  gst_element_link (queue, decodebin);
  GstPad *qsink = gst_element_get_static_pad (queue, "sink");
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", qsink));
  gst_object_unref (qsink);
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (on_dynamic_pad), p);
  gst_bin_add (pipeline, bin);
  gst_element_sync_state_with_parent (bin);
  GstPad *sink = gst_element_get_static_pad (bin, "sink");
  fail_unless (GST_PAD_LINK_SUCCESSFUL (gst_pad_link (pad, sink)));
  gst_object_unref (sink);
}

GST_START_TEST (test_pad_added_decodebin_pattern_receives_nine_frames_in_ten)
{
  TestCluster c ({ "--edges", "1" });
  GstElement *pipeline = gst_pipeline_new (nullptr);
  Player p (pipeline);
  GstElement *src = gst_element_make_from_uri (GST_URI_SRC, uri_of (c).c_str (), nullptr, nullptr);
  gst_bin_add (GST_BIN (pipeline), src);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_pad_plug_decodebin), &p);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
  fail_unless (p.wait_more (10, 30), "error '%s'", p.first_error ().c_str ());
  {
    std::lock_guard<std::mutex> g (p.video.lock);
    p.video.counters.clear ();
  }
  g_usleep (10 * G_USEC_PER_SEC);
  std::lock_guard<std::mutex> g (p.video.lock);
  fail_unless (p.video.counters.size () > 2);
  guint32 first = *p.video.counters.begin (), last = *p.video.counters.rbegin ();
  guint published = last - first + 1;
  GST_INFO ("%zu of %u published frames over 10 s", p.video.counters.size (), published);
  fail_unless (published >= 250, "only %u frames published in 10 s", published);
  fail_unless (p.video.counters.size () * 10 >= published * 9, "%zu of %u frames",
      p.video.counters.size (), published);
  fail_unless (p.first_error ().empty (), "%s", p.first_error ().c_str ());
}
GST_END_TEST;

/* A recording with one medium: only its pad linked (the other pad is not an error), or
 * the other medium not asked for at all. The file holds that one stream. */
static void
check_single_medium_recording (const char *medium, const char *extra)
{
  TestCluster c ({ "--edges", "2" });
  char *dir = g_dir_make_tmp ("red5pro-one-XXXXXX", nullptr);
  std::string path = std::string (dir) + "/one.mkv";
  TestSubscriber sub (TestSubscriber::Launch { std::string ("red5prosrc name=src "
      "ice-addresses=127.0.0.1 host=127.0.0.1 port=") + std::to_string (c.port ()) +
      " stream-manager=sm2 stream-name=stream1 retry-timeout=500 " + extra +
      " matroskamux name=mux ! filesink location=" + path + " src." + medium + " ! queue ! mux." +
      medium + "_%u" });
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait_event ("Subscribe.Start", 30));
  g_usleep (3 * G_USEC_PER_SEC);
  c.control ("POST", "/edge/kill?edge=edge1&mode=loud");
  std::string error;
  fail_unless (sub.wait ([&] { return sub.count ("Subscribe.Start") >= 2; }, 30),
      "no second subscription (%s)", sub.error_matches (0, 0, &error) ? "" : error.c_str ());
  g_usleep (3 * G_USEC_PER_SEC);
  gst_element_send_event (sub.pipeline (), gst_event_new_eos ());
  fail_unless (sub.wait ([&] { return sub.got_eos (); }, 20), "no EOS");
  fail_unless (!sub.has_error ());
  sub.stop ();

  GstDiscoverer *disc = gst_discoverer_new (10 * GST_SECOND, nullptr);
  gchar *uri = gst_filename_to_uri (path.c_str (), nullptr);
  GstDiscovererInfo *info = gst_discoverer_discover_uri (disc, uri, nullptr);
  fail_unless (info != nullptr);
  GList *video = gst_discoverer_info_get_video_streams (info);
  GList *audio = gst_discoverer_info_get_audio_streams (info);
  bool want_video = g_str_equal (medium, "video");
  fail_unless_equals_int (g_list_length (video), want_video ? 1 : 0);
  fail_unless_equals_int (g_list_length (audio), want_video ? 0 : 1);
  fail_unless (gst_discoverer_info_get_duration (info) > 5 * GST_SECOND);
  gst_discoverer_stream_info_list_free (video);
  gst_discoverer_stream_info_list_free (audio);
  gst_discoverer_info_unref (info);
  g_object_unref (disc);
  g_free (uri);
  g_unlink (path.c_str ());
  g_rmdir (dir);
  g_free (dir);
}

GST_START_TEST (test_video_only_recording_with_the_audio_pad_unlinked)
{
  check_single_medium_recording ("video", "");
}
GST_END_TEST;

GST_START_TEST (test_video_only_recording_asking_for_no_audio)
{
  check_single_medium_recording ("video", "audio-codecs=\"<>\"");
}
GST_END_TEST;

GST_START_TEST (test_audio_only_recording_asking_for_no_video)
{
  check_single_medium_recording ("audio", "video-codecs=\"<>\"");
}
GST_END_TEST;

GST_START_TEST (test_no_pad_linked_is_a_clear_error_not_a_retry_loop)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (TestSubscriber::Launch { "red5prosrc name=src ice-addresses=127.0.0.1 "
      "host=127.0.0.2 port=" + std::to_string (c.port ()) + " stream-name=stream1" });
  sub.play ();
  fail_unless (sub.wait ([&] { return sub.has_error (); }, 30, false), "no error, no hang");
  std::string message;
  fail_unless (sub.error_matches (GST_CORE_ERROR, GST_CORE_ERROR_FAILED, &message));
  fail_unless (message.find ("no pad of red5prosrc is linked") != std::string::npos, "%s",
      message.c_str ());
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
}
GST_END_TEST;

/* Like the strictest standard WHEP servers, the edge answers an m-line with port 0
 * inactive: an offer with bundle-only audio would get no audio. */
GST_START_TEST (test_strict_standard_edge_delivers_both_pads)
{
  TestCluster c ({ "--edges", "1", "--edge-flavours", "strict" });
  TestSubscriber sub ("host=127.0.0.2 port=" + std::to_string (c.port ()) +
      " stream-name=stream1 retry-timeout=0");
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30 && sub.audio_buffers () >= 30; },
      30), "video %" G_GUINT64_FORMAT " audio %" G_GUINT64_FORMAT, sub.video_frames (),
      sub.audio_buffers ());
  fail_unless_equals_int (sub.count ("Red5Pro.Media.Unavailable"), 0);
  fail_unless (!sub.has_error ());
}
GST_END_TEST;

/* The cluster publishes H.265: received by default, a clear final error when the element
 * is told to take VP8 and H.264 only (another edge would send the same). */
GST_START_TEST (test_h265_is_received_by_default)
{
  TestCluster c ({ "--edges", "1", "--codec", "h265" });
  TestSubscriber sub ("host=127.0.0.2 port=" + std::to_string (c.port ()) +
      " stream-name=stream1 retry-timeout=0");
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.counted_frames () >= 30 && sub.audio_buffers () >= 30; },
      30), "video %" G_GUINT64_FORMAT " audio %" G_GUINT64_FORMAT, sub.video_frames (),
      sub.audio_buffers ());
}
GST_END_TEST;

GST_START_TEST (test_a_codec_not_accepted_is_a_final_error_naming_it)
{
  TestCluster c ({ "--edges", "1", "--codec", "h265" });
  TestSubscriber sub ("host=127.0.0.2 port=" + std::to_string (c.port ()) +
      " stream-name=stream1 request-timeout=3000 video-codecs=\"<VP8,H264>\"");
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait ([&] { return sub.has_error (); }, 3 * 2 + 5, false));
  std::string message;
  fail_unless (sub.error_matches (GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND, &message));
  fail_unless (message.find ("H265") != std::string::npos, "%s", message.c_str ());
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
  fail_unless (sub.video_frames () == 0);
}
GST_END_TEST;

/* The latency property sets the jitter buffers', and both the element and a pipeline of
 * synchronizing sinks report it. */
static GstClockTime
pipeline_latency (guint latency_ms, GstClockTime *element_min)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub (TestSubscriber::Launch { "red5prosrc name=src ice-addresses=127.0.0.1 "
      "host=127.0.0.2 port=" + std::to_string (c.port ()) + " stream-name=stream1 latency=" +
      std::to_string (latency_ms) + " decode=true src.video ! queue ! fakesink sync=true "
      "src.audio ! queue ! fakesink sync=true" });
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait_event ("Subscribe.Start", 30));
  g_usleep (G_USEC_PER_SEC);
  GstQuery *q = gst_query_new_latency ();
  gboolean live = FALSE;
  GstClockTime min = 0, max = 0;
  fail_unless (gst_element_query (sub.src (), q));
  gst_query_parse_latency (q, &live, element_min, &max);
  fail_unless (live, "the element says it is not live");
  gst_query_unref (q);
  q = gst_query_new_latency ();
  fail_unless (gst_element_query (sub.pipeline (), q));
  gst_query_parse_latency (q, &live, &min, &max);
  gst_query_unref (q);
  fail_unless (live);
  return min;
}

GST_START_TEST (test_pipeline_latency_follows_the_latency_property)
{
  GstClockTime el_low, el_high;
  GstClockTime low = pipeline_latency (50, &el_low);
  GstClockTime high = pipeline_latency (700, &el_high);
  GST_INFO ("latency=50: element %" GST_TIME_FORMAT " pipeline %" GST_TIME_FORMAT
      "; latency=700: element %" GST_TIME_FORMAT " pipeline %" GST_TIME_FORMAT,
      GST_TIME_ARGS (el_low), GST_TIME_ARGS (low), GST_TIME_ARGS (el_high), GST_TIME_ARGS (high));
  fail_unless (el_low >= 50 * GST_MSECOND && el_low < 700 * GST_MSECOND);
  fail_unless (el_high >= 700 * GST_MSECOND);
  fail_unless (low >= el_low && high >= el_high);
  fail_unless (high - low >= 600 * GST_MSECOND);
}
GST_END_TEST;

/* With 10 % of the RTP lost on the edge, the stats' video network quality shows losses and
 * NACKs rising; jitter and bitrate are numbers. */
GST_START_TEST (test_stats_show_loss_and_nacks_when_packets_are_lost)
{
  TestCluster c ({ "--edges", "1" });
  TestSubscriber sub ("host=127.0.0.2 port=" + std::to_string (c.port ()) +
      " stream-name=stream1 retry-timeout=500");
  fail_if (sub.play () == GST_STATE_CHANGE_FAILURE);
  fail_unless (sub.wait_event ("Subscribe.Start", 30));
  auto video_net = [&] (const char *field) -> gdouble {
    GstStructure *stats = sub.stats ();
    const GValue *v = gst_structure_get_value (stats, "video-network");
    gdouble out = -1;
    if (v) {
      const GstStructure *net = gst_value_get_structure (v);
      const GValue *f = gst_structure_get_value (net, field);
      GValue d = G_VALUE_INIT;
      g_value_init (&d, G_TYPE_DOUBLE);
      if (f && g_value_transform (f, &d))
        out = g_value_get_double (&d);
      g_value_unset (&d);
    }
    gst_structure_free (stats);
    return out;
  };
  fail_unless (sub.wait ([&] { return video_net ("bitrate") > 0; }, 10));
  gdouble lost0 = video_net ("packets-lost"), nacks0 = video_net ("nack-count");
  fail_unless (video_net ("jitter-ms") >= 0);
  c.control ("POST", "/edge/loss?edge=edge1&percent=10");
  fail_unless (sub.wait ([&] {
    return video_net ("packets-lost") >= lost0 + 5 && video_net ("nack-count") >= nacks0 + 5 &&
        video_net ("fraction-lost") > 0; }, 20),
      "lost %.0f -> %.0f, nacks %.0f -> %.0f", lost0, video_net ("packets-lost"), nacks0,
      video_net ("nack-count"));
  fail_unless (!sub.has_error ());
}
GST_END_TEST;

/* Pads like a demuxer's: each with its own stream id, one collection, no-more-pads once,
 * and none of it changes across a failover. */
GST_START_TEST (test_pads_streams_and_collection_stay_across_a_failover)
{
  TestCluster c ({ "--edges", "2" });
  GstElement *pipeline = gst_pipeline_new (nullptr);
  Player p (pipeline);
  GstElement *src = gst_element_make_from_uri (GST_URI_SRC, uri_of (c).c_str (), nullptr, nullptr);
  gst_bin_add (GST_BIN (pipeline), src);
  static std::atomic<guint> pads, no_more_pads;
  static std::mutex ids_lock;
  static std::vector<std::string> ids;
  pads = 0;
  no_more_pads = 0;
  ids.clear ();
  g_signal_connect (src, "no-more-pads", G_CALLBACK (+[] (GstElement *, gpointer) {
    no_more_pads++;
  }), nullptr);
  g_signal_connect (src, "pad-added", G_CALLBACK (+[] (GstElement *el, GstPad *pad, gpointer d) {
    auto *p = static_cast<Player *> (d);
    pads++;
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        [] (GstPad *, GstPadProbeInfo *info, gpointer) -> GstPadProbeReturn {
      GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
      if (GST_EVENT_TYPE (ev) == GST_EVENT_STREAM_START) {
        const gchar *id = nullptr;
        gst_event_parse_stream_start (ev, &id);
        std::lock_guard<std::mutex> g (ids_lock);
        ids.emplace_back (id);
      }
      return GST_PAD_PROBE_OK;
    }, nullptr, nullptr);
    bool video = g_str_equal (GST_PAD_NAME (pad), "video");
    link_counted_sink (GST_BIN (GST_ELEMENT_PARENT (el)), pad, video ? p->video : p->audio);
  }), &p);
  check_plays_across_a_failover (c, p);
  fail_unless_equals_int (pads.load (), 2);
  fail_unless_equals_int (no_more_pads.load (), 1);
  fail_unless_equals_int (p.collections, 1);
  std::lock_guard<std::mutex> g (ids_lock);
  fail_unless_equals_int (ids.size (), 2);   /* one stream-start per pad, rebuild or not */
  fail_unless (ids[0] != ids[1]);
}
GST_END_TEST;

static Suite *
idioms_suite (void)
{
  Suite *s = suite_create ("red5prosrc-idioms");
  TCase *tc = tcase_create ("e2e");
  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_playbin_plays_the_uri_across_a_failover);
  tcase_add_test (tc, test_playbin3_plays_the_uri_across_a_failover);
  tcase_add_test (tc, test_uridecodebin_plays_the_uri_across_a_failover);
  tcase_add_test (tc, test_uridecodebin3_plays_the_uri_across_a_failover);
  tcase_add_test (tc, test_urisourcebin_exposes_both_streams_across_a_failover);
  tcase_add_test (tc, test_decodebin3_after_the_element_across_a_failover);
  tcase_add_test (tc, test_discoverer_reports_two_streams_with_distinct_ids);
  tcase_add_test (tc, test_pad_added_decodebin_pattern_receives_nine_frames_in_ten);
  tcase_add_test (tc, test_video_only_recording_with_the_audio_pad_unlinked);
  tcase_add_test (tc, test_video_only_recording_asking_for_no_audio);
  tcase_add_test (tc, test_audio_only_recording_asking_for_no_video);
  tcase_add_test (tc, test_no_pad_linked_is_a_clear_error_not_a_retry_loop);
  tcase_add_test (tc, test_strict_standard_edge_delivers_both_pads);
  tcase_add_test (tc, test_h265_is_received_by_default);
  tcase_add_test (tc, test_a_codec_not_accepted_is_a_final_error_naming_it);
  tcase_add_test (tc, test_pipeline_latency_follows_the_latency_property);
  tcase_add_test (tc, test_stats_show_loss_and_nacks_when_packets_are_lost);
  tcase_add_test (tc, test_pads_streams_and_collection_stay_across_a_failover);
  return s;
}

GST_CHECK_MAIN (idioms);
