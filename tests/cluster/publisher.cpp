/* publisher: the test cluster's published streams: one pipeline per stream, test video
 * with the frame counter stamped into each frame (tests read it back) and test audio, each
 * encoded in every published codec (VP8, H.264, H.265; Opus, PCMU, PCMA), each encoding
 * into a tee that subscribers' peers (media.cpp) branch from. */
#include "cluster.h"
#include "frame-counter.h"

#include <deque>
#include <mutex>

#include <gst/video/video.h>

#include <glib/gstdio.h>

#include <algorithm>
#include <atomic>

namespace cluster {

/* The counter keeps running across unpublish/republish, so that tests can tell frames
 * from before and after a gap apart. */
static std::map<std::string, std::shared_ptr<std::atomic<uint32_t>>> counters;

/* When each of the last frames was stamped (real time): a subscriber that reads a counter
 * off a frame and notes when it got it has the frame's glass-to-glass delay. */
struct StampLog {
  std::mutex lock;
  std::deque<std::pair<uint32_t, gint64>> stamps;   /* the last STAMPS_KEPT */
};
static constexpr size_t STAMPS_KEPT = 4096;
static std::map<std::string, std::shared_ptr<StampLog>> stamp_logs;
static std::mutex stamp_logs_lock;

struct Stamper {
  std::atomic<uint32_t> *counter;
  std::shared_ptr<StampLog> log;
};

std::string
stamps_json (const std::string &name)
{
  std::shared_ptr<StampLog> log;
  {
    std::lock_guard<std::mutex> g (stamp_logs_lock);
    if (stamp_logs.count (name))
      log = stamp_logs[name];
  }
  std::string out = "[";
  if (log) {
    std::lock_guard<std::mutex> g (log->lock);
    for (const auto &s : log->stamps)
      out += (out.size () > 1 ? "," : "") + std::string ("[") + std::to_string (s.first) + "," +
          std::to_string (s.second) + "]";
  }
  return out + "]";
}

static GstPadProbeReturn
stamp_counter (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  auto *stamper = static_cast<Stamper *> (data);
  auto *counter = stamper->counter;
  GstBuffer *buf = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstVideoInfo vinfo;
  if (caps && gst_video_info_from_caps (&vinfo, caps)) {
    GstVideoFrame frame;
    if (gst_video_frame_map (&frame, &vinfo, buf, GST_MAP_WRITE)) {
      uint32_t n = (*counter)++;
      frame_counter_stamp (static_cast<uint8_t *> (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)),
          GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), n);
      gst_video_frame_unmap (&frame);
      std::lock_guard<std::mutex> g (stamper->log->lock);
      stamper->log->stamps.emplace_back (n & 0xffffff, g_get_real_time ());
      if (stamper->log->stamps.size () > STAMPS_KEPT)
        stamper->log->stamps.pop_front ();
    }
  }
  if (caps)
    gst_caps_unref (caps);
  return GST_PAD_PROBE_OK;
}

void
remove_dir (const std::string &path)
{
  GDir *dir = g_dir_open (path.c_str (), 0, nullptr);
  while (const char *name = dir ? g_dir_read_name (dir) : nullptr)
    g_remove ((path + "/" + name).c_str ());
  if (dir)
    g_dir_close (dir);
  g_rmdir (path.c_str ());
}

static const Codec CODECS[] = {
  { "vp8", "VP8", true, "vp8enc deadline=1 cpu-used=8 keyframe-max-dist=30 target-bitrate=400000",
    "rtpvp8pay", 96,
    "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000" },
  { "h264", "H264", true,
    "openh264enc gop-size=30 complexity=low ! h264parse config-interval=-1 "
    "! video/x-h264,stream-format=byte-stream,alignment=au",
    "rtph264pay", 102,
    "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
    "packetization-mode=(string)1,profile-level-id=(string)42e01f" },
  { "h265", "H265", true,
    "x265enc speed-preset=ultrafast tune=zerolatency key-int-max=30 "
    "! h265parse config-interval=-1 ! video/x-h265,stream-format=byte-stream,alignment=au",
    "rtph265pay", 104,
    "application/x-rtp,media=video,encoding-name=H265,payload=104,clock-rate=90000" },
  { "opus", "Opus", false, "opusenc", "rtpopuspay", 111,
    "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,"
    "encoding-params=(string)2" },
  { "pcmu", "PCMU", false,
    "audioconvert ! audioresample ! audio/x-raw,rate=8000,channels=1 ! mulawenc",
    "rtppcmupay", 0, "application/x-rtp,media=audio,encoding-name=PCMU,payload=0,clock-rate=8000" },
  { "pcma", "PCMA", false,
    "audioconvert ! audioresample ! audio/x-raw,rate=8000,channels=1 ! alawenc",
    "rtppcmapay", 8, "application/x-rtp,media=audio,encoding-name=PCMA,payload=8,clock-rate=8000" },
};

const Codec *
codec_find (const std::string &name)
{
  for (const auto &codec : CODECS)
    if (g_ascii_strcasecmp (name.c_str (), codec.name) == 0 ||
        g_ascii_strcasecmp (name.c_str (), codec.sdk_name) == 0)
      return &codec;
  return nullptr;
}

std::string
codec_for (const Stream &s, bool video, const std::string &requested)
{
  const auto &published = video ? s.video_codecs : s.audio_codecs;
  if (g_ascii_strcasecmp (requested.c_str (), "NONE") == 0 || published.empty ())
    return "";
  const Codec *codec = codec_find (requested);
  for (const auto &name : published)
    if (codec && name == codec->name)
      return name;
  /* none asked for, or one the stream does not have: the default. inferred: a server
   * that does not transcode offers what it has, and the client finds out */
  return published.front ();
}

/* raw -> tee name=raw; raw. ! queue ! encoder ! tee name=<codec>, per codec */
static std::string
encodings (const std::string &raw, const std::vector<std::string> &codecs)
{
  std::string desc = "tee name=" + raw + " allow-not-linked=true ";
  for (const auto &name : codecs)
    desc += raw + ". ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=1000000000 "
        "leaky=downstream ! " + codec_find (name)->encoder + " ! tee name=" + name +
        " allow-not-linked=true ";
  return desc;
}

/* The HLS branch (--hls): H.264 (the published encoding when there is one, else an encoder
 * of its own) and AAC into hlssink2, which cuts a segment every second (it asks the encoder
 * for the key frames) and keeps a rolling playlist of the last five; the files of the ten
 * last segments stay on disk, so that a player that has just read the playlist finds
 * them. */
static std::string
hls_branch (const std::string &stream, const std::string &dir,
    const std::vector<std::string> &video_codecs)
{
  const char *queue = "queue max-size-buffers=0 max-size-bytes=0 max-size-time=2000000000 ";
  bool h264 = std::find (video_codecs.begin (), video_codecs.end (), "h264") !=
      video_codecs.end ();
  std::string video = h264 ? "h264. ! " + std::string (queue) + "! h264parse "
                           : "video_raw. ! " + std::string (queue) + "! " +
                                 codec_find ("h264")->encoder + " ";
  return "hlssink2 name=hls target-duration=1 playlist-length=5 max-files=10 "
         "location=\"" + dir + "/" + hls_segment_pattern (stream) + "\" "
         "playlist-location=\"" + dir + "/" + hls_playlist_name (stream) + "\" " +
      video + "! hls.video "
      "audio_raw. ! " + queue + "! audioconvert ! avenc_aac ! aacparse ! hls.audio ";
}

bool
stream_publish (const std::string &name, guint width, guint height)
{
  Cluster &c = the_cluster ();
  if (c.streams.count (name))
    return true;
  static guint publishes = 0;
  std::string hls_dir;
  if (c.opt.hls) {
    hls_dir = c.hls_dir + "/" + std::to_string (++publishes);
    g_mkdir (hls_dir.c_str (), 0700);
  }
  /* every encoder takes the same stamped frames: each codec carries the same counter */
  std::string desc =
      "videotestsrc is-live=true pattern=ball name=vsrc "
      "! video/x-raw,format=I420,width=" + std::to_string (width) + ",height=" +
      std::to_string (height) + ",framerate=30/1 ! identity name=stamp ! " +
      encodings ("video_raw", c.opt.video_codecs) +
      "audiotestsrc is-live=true wave=sine freq=440 volume=0.2 "
      "! audio/x-raw,rate=48000,channels=2 ! " + encodings ("audio_raw", c.opt.audio_codecs) +
      (hls_dir.empty () ? "" : hls_branch (name, hls_dir, c.opt.video_codecs));
  GError *err = nullptr;
  /* one pipeline per stream: subscribers' bins join it, next to its tees */
  GstElement *bin = gst_parse_launch (desc.c_str (), &err);
  if (!bin || err) {
    g_printerr ("cannot build the stream: %s\n", err->message);
    g_clear_error (&err);
    gst_clear_object (&bin);
    return false;
  }
  auto &counter = counters[name];
  if (!counter)
    counter = std::make_shared<std::atomic<uint32_t>> (1);
  GstElement *stamp = gst_bin_get_by_name (GST_BIN (bin), "stamp");
  GstPad *pad = gst_element_get_static_pad (stamp, "src");
  std::shared_ptr<StampLog> log;
  {
    std::lock_guard<std::mutex> g (stamp_logs_lock);
    auto &l = stamp_logs[name];
    if (!l)
      l = std::make_shared<StampLog> ();
    log = l;
  }
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, stamp_counter,
      new Stamper { counter.get (), log }, [] (gpointer d) { delete static_cast<Stamper *> (d); });
  gst_object_unref (pad);
  gst_object_unref (stamp);

  auto s = std::make_unique<Stream> ();
  s->name = name;
  s->pipeline = bin;
  s->hls_dir = hls_dir;
  s->video_codecs = c.opt.video_codecs;
  s->audio_codecs = c.opt.audio_codecs;
  for (const auto &codecs : { s->video_codecs, s->audio_codecs })
    for (const auto &codec : codecs)
      s->tees[codec] = gst_bin_get_by_name (GST_BIN (bin), codec.c_str ());
  /* a subscriber's PLI reaches the encoder, as Red5 Pro forwards it to the publisher
   * (inferred: the notes do not say; without it a lost key frame waits for the next
   * periodic one): counted where it leaves the codec's tee upstream */
  for (const auto &codec : s->video_codecs) {
    GstPad *tee_sink = gst_element_get_static_pad (s->tees[codec], "sink");
    gst_pad_add_probe (tee_sink, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
        [] (GstPad *, GstPadProbeInfo *info, gpointer data) -> GstPadProbeReturn {
          if (gst_video_event_is_force_key_unit (GST_PAD_PROBE_INFO_EVENT (info)))
            (**static_cast<std::shared_ptr<std::atomic<guint>> *> (data))++;
          return GST_PAD_PROBE_OK;
        }, new std::shared_ptr<std::atomic<guint>> (s->keyframe_requests),
        [] (gpointer d) { delete static_cast<std::shared_ptr<std::atomic<guint>> *> (d); });
    gst_object_unref (tee_sink);
  }
  gst_element_set_state (s->pipeline, GST_STATE_PLAYING);
  c.streams[name] = std::move (s);
  g_printerr ("{\"event\":\"published\",\"stream\":\"%s\"}\n", name.c_str ());
  return true;
}

void
stream_unpublish (const std::string &name)
{
  Cluster &c = the_cluster ();
  auto it = c.streams.find (name);
  if (it == c.streams.end ())
    return;
  /* the edges tell their subscribers first, as Red5 Pro does, and drop them a moment
   * later (the notice must not race the channel's close) */
  std::vector<guint> gone;
  for (auto &kv : c.peers) {
    if (kv.second->stream == name) {
      peer_send (kv.second, json_status ("NetStream.Play.UnpublishNotify",
          name + " unpublished"));
      gone.push_back (kv.first);
    }
  }
  std::shared_ptr<Stream> s (std::move (it->second));
  c.streams.erase (it);   /* lookups stop finding it now */
  g_printerr ("{\"event\":\"unpublished\",\"stream\":\"%s\"}\n", name.c_str ());
  auto finish = [gone, s] {
    for (guint id : gone)
      if (auto p = peer_find (id))
        peer_close (p);
    /* the subscribers' webrtcbins are in the stream's pipeline: it stops once they have
     * closed their data channels */
    run_later (gone.empty () ? 0 : CHANNEL_CLOSE_WAIT_MS + 100, [s] {
      for (auto &kv : s->tees)
        gst_object_unref (kv.second);
      gst_element_set_state (s->pipeline, GST_STATE_NULL);
      gst_object_unref (s->pipeline);
      /* its HLS goes with it (the edges answer 404 from the moment it is unpublished) */
      if (!s->hls_dir.empty ())
        remove_dir (s->hls_dir);
    });
  };
  if (gone.empty ())
    finish ();
  else
    run_later (200, finish);
}

}   // namespace cluster
