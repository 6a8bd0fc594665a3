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
#include <tuple>

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

/* raw -> tee name=raw; raw. ! queue ! encoder ! tee name=<codec><suffix>, per codec */
static std::string
encodings (const std::string &raw, const std::vector<std::string> &codecs,
    const std::string &suffix = "")
{
  std::string desc = "tee name=" + raw + " allow-not-linked=true ";
  for (const auto &name : codecs)
    desc += raw + ". ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=1000000000 "
        "leaky=downstream ! " + codec_find (name)->encoder + " ! tee name=" + name + suffix +
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

/* The frame counter stamped into a variant's frames, before its encoders. */
static void
add_stamper (GstElement *bin, const std::string &stamp_name, const std::string &stream)
{
  auto &counter = counters[stream];
  if (!counter)
    counter = std::make_shared<std::atomic<uint32_t>> (1);
  GstElement *stamp = gst_bin_get_by_name (GST_BIN (bin), stamp_name.c_str ());
  GstPad *pad = gst_element_get_static_pad (stamp, "src");
  std::shared_ptr<StampLog> log;
  {
    std::lock_guard<std::mutex> g (stamp_logs_lock);
    auto &l = stamp_logs[stream];
    if (!l)
      l = std::make_shared<StampLog> ();
    log = l;
  }
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, stamp_counter,
      new Stamper { counter.get (), log }, [] (gpointer d) { delete static_cast<Stamper *> (d); });
  gst_object_unref (pad);
  gst_object_unref (stamp);
}

/* One pipeline for the streams given (name, width, height): each its own test video
 * (stamped with its own counter) in every video codec; one audio, which they share. With
 * more than one, they are one ABR group (switchStreams moves a subscriber among them). */
static bool
publish_group (const std::vector<std::tuple<std::string, guint, guint>> &variants)
{
  Cluster &c = the_cluster ();
  for (const auto &v : variants)
    if (c.streams.count (std::get<0> (v)))
      return true;
  const bool group = variants.size () > 1;
  static guint publishes = 0;
  std::string hls_dir;
  if (c.opt.hls && !group) {
    hls_dir = c.hls_dir + "/" + std::to_string (++publishes);
    g_mkdir (hls_dir.c_str (), 0700);
  }
  /* every encoder of a variant takes the same stamped frames: each codec carries the same
   * counter */
  std::string desc;
  for (size_t i = 0; i < variants.size (); i++) {
    std::string sfx = group ? "_" + std::to_string (i + 1) : "";
    desc += "videotestsrc is-live=true pattern=ball name=vsrc" + sfx + " "
        "! video/x-raw,format=I420,width=" + std::to_string (std::get<1> (variants[i])) +
        ",height=" + std::to_string (std::get<2> (variants[i])) + ",framerate=30/1 "
        "! identity name=stamp" + sfx + " ! " +
        encodings ("video_raw" + sfx, c.opt.video_codecs, sfx);
  }
  desc += "audiotestsrc is-live=true wave=sine freq=440 volume=0.2 "
      "! audio/x-raw,rate=48000,channels=2 ! " + encodings ("audio_raw", c.opt.audio_codecs) +
      (hls_dir.empty () ? "" : hls_branch (std::get<0> (variants[0]), hls_dir,
                                   c.opt.video_codecs));
  GError *err = nullptr;
  /* one pipeline per stream (or group): subscribers' bins join it, next to its tees */
  GstElement *bin = gst_parse_launch (desc.c_str (), &err);
  if (!bin || err) {
    g_printerr ("cannot build the stream: %s\n", err ? err->message : "?");
    g_clear_error (&err);
    gst_clear_object (&bin);
    return false;
  }
  std::vector<std::string> names;
  for (const auto &v : variants)
    names.push_back (std::get<0> (v));
  for (size_t i = 0; i < variants.size (); i++) {
    const std::string &name = names[i];
    std::string sfx = group ? "_" + std::to_string (i + 1) : "";
    add_stamper (bin, "stamp" + sfx, name);
    auto s = std::make_unique<Stream> ();
    s->name = name;
    s->pipeline = GST_ELEMENT (gst_object_ref (bin));
    s->hls_dir = hls_dir;
    s->video_codecs = c.opt.video_codecs;
    s->audio_codecs = c.opt.audio_codecs;
    if (group)
      s->group = names;
    for (const auto &codec : s->video_codecs)
      s->tees[codec] = gst_bin_get_by_name (GST_BIN (bin), (codec + sfx).c_str ());
    for (const auto &codec : s->audio_codecs)
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
    c.streams[name] = std::move (s);
    g_printerr ("{\"event\":\"published\",\"stream\":\"%s\"}\n", name.c_str ());
  }
  gst_element_set_state (bin, GST_STATE_PLAYING);
  gst_object_unref (bin);
  return true;
}

bool
stream_publish (const std::string &name, guint width, guint height)
{
  return publish_group ({ std::make_tuple (name, width, height) });
}

/* Red5 Pro names an ABR group's variants {name}_1 (the largest) to {name}_3 */
bool
stream_publish_abr (const std::string &name)
{
  return publish_group ({ std::make_tuple (name + "_1", 640u, 360u),
      std::make_tuple (name + "_2", 480u, 270u), std::make_tuple (name + "_3", 320u, 180u) });
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
      /* an ABR group's pipeline stops with the last of its streams */
      bool shared = false;
      for (auto &kv : the_cluster ().streams)
        shared |= kv.second->pipeline == s->pipeline;
      if (!shared)
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
