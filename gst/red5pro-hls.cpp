/* red5pro-hls: an HLS attempt, from the playlist URL to pads with live timestamps. */
#include "red5pro-hls.h"
#include "red5pro-events.h"
#include "red5pro-chain.h"
#include "red5pro-output.h"
#include "red5pro-url.h"

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

namespace {

using WeakAttempt = std::weak_ptr<HlsAttempt>;
constexpr auto from_data = lock_weak<HlsAttempt>;

/* The latency reported is the lateness seen, rounded up, with this much on top. */
constexpr GstClockTime LATENCY_STEP = 100 * GST_MSECOND;
constexpr GstClockTime LATENCY_MAX = 10 * GST_SECOND;

}  // namespace

std::string
hls_url (const SubscriberConfig &cfg, const std::string &edge, const std::string &app,
    guint edge_port)
{
  std::vector<std::string> path;
  std::string host = edge;
  guint port = edge_port ? edge_port : cfg.effective_port ();
  if (cfg.use_proxy && cfg.stream_manager == StreamManagerMode::SM1) {
    /* {proto}://{sm}:{port}/streammanager/api/{version}/file/{app}/{stream}.m3u8 */
    host = cfg.host;
    port = cfg.effective_port ();
    path = { "streammanager", "api", cfg.sm_api_version, "file" };
  }
  /* "live/context": the context path is a path of its own */
  g_auto (GStrv) parts = g_strsplit (app.c_str (), "/", -1);
  for (char **p = parts; *p; p++)
    if (**p)
      path.emplace_back (*p);
  path.push_back (cfg.stream_name + ".m3u8");
  return build_url (cfg.http_scheme (), host, port, path);
}

/* One medium: the tsdemux pad's chain, its segment, its pad out of the bin. */
struct HlsAttempt::Branch {
  WeakAttempt owner;
  bool video;
  GstSegment segment;
  bool have_segment = false;
};

HlsAttempt::HlsAttempt (GstElement *element, Worker &worker, SubscriberConfig cfg,
    AttemptListener *listener, guint number, bool upgrade)
  : Attempt (element, worker, std::move (cfg), listener, number, Tech::HLS, upgrade)
{
}

HlsAttempt::~HlsAttempt () = default;

gpointer
HlsAttempt::weak_data ()
{
  return new_weak (std::static_pointer_cast<HlsAttempt> (shared_from_this ()));
}

void
HlsAttempt::start ()
{
  g_assert (worker_.on_worker_thread ());
  GST_INFO_OBJECT (element_, "attempt %u: %s over HLS", number_, cfg_.stream_name.c_str ());
  if (cfg_.stream_manager == StreamManagerMode::NONE ||
      (cfg_.use_proxy && cfg_.stream_manager == StreamManagerMode::SM1)) {
    /* a standalone server, or the Stream Manager 1.x's file API (it finds the edge) */
    edge_ = cfg_.host;
    app_ = cfg_.app;
    play (hls_url (cfg_, edge_, app_, 0));
    return;
  }
  /* The Stream Manager names the edge, whose HLS we read directly. (The notes say nothing
   * of HLS through the 2.0 proxy: with use-proxy and sm2, the edge is read directly too.) */
  lookup_edge (worker_, cfg_, cancellable_.get (), guarded<HlsAttempt> ([] (HlsAttempt &a,
      const LookupOutcome &o) { a.on_lookup (o); }));
}

void
HlsAttempt::on_lookup (const LookupOutcome &o)
{
  if (take_lookup (o))
    play (hls_url (cfg_, edge_, app_, edge_port_));
}

/* The HTTP sources (the playlist's and those hlsdemux makes for the segments) trust what
 * the element trusts and give up when a request does. */
void
HlsAttempt::configure_source (GstElement *element)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS (element);
  if (!g_object_class_find_property (klass, "ssl-strict"))
    return;
  g_object_set (element, "ssl-strict", !worker_.tls_insecure (), NULL);
  if (worker_.tls_database () && g_object_class_find_property (klass, "tls-database"))
    g_object_set (element, "tls-database", worker_.tls_database (), NULL);
  if (g_object_class_find_property (klass, "timeout"))
    g_object_set (element, "timeout", MAX (1u, cfg_.request_timeout_ms / 1000), NULL);
}

void
HlsAttempt::play (const std::string &url)
{
  GST_INFO_OBJECT (element_, "attempt %u: HLS from %s", number_, redact_url (url).c_str ());
  g_autofree char *name = g_strdup_printf ("attempt-%u-hls", number_);
  bin_.reset (GST_BIN (gst_object_ref_sink (gst_bin_new (name))));
  GstElement *src = gst_element_make_from_uri (GST_URI_SRC, url.c_str (), nullptr, nullptr);
  GstElement *demux = gst_element_factory_make ("hlsdemux", nullptr);
  tsdemux_ = gst_element_factory_make ("tsdemux", nullptr);
  if (!src || !demux || !tsdemux_) {
    for (GstElement *e : { src, demux, tsdemux_ })
      if (e)
        gst_object_unref (gst_object_ref_sink (e));
    tsdemux_ = nullptr;
    fail (Failure (Failure::Kind::UNSUPPORTED, std::string ("HLS needs ") +
        (!src ? "an HTTP source (souphttpsrc, gst-plugins-good)"
              : !demux ? "hlsdemux (gst-plugins-bad)" : "tsdemux (gst-plugins-bad)")));
    return;
  }
  configure_source (src);
  g_signal_connect_data (bin_.get (), "deep-element-added", G_CALLBACK (+[] (GstBin *,
      GstBin *, GstElement *element, gpointer data) {
    if (auto self = from_data (data))
      self->configure_source (element);
  }), weak_data (), free_weak<HlsAttempt>, GConnectFlags (0));
  gst_bin_add_many (bin_.get (), src, demux, tsdemux_, NULL);
  gst_element_link (src, demux);
  g_signal_connect_data (demux, "pad-added", G_CALLBACK (+[] (GstElement *, GstPad *pad,
      gpointer data) {
    if (auto self = from_data (data))
      self->on_demux_pad (pad);
  }), weak_data (), free_weak<HlsAttempt>, GConnectFlags (0));
  g_signal_connect_data (tsdemux_, "pad-added", G_CALLBACK (+[] (GstElement *, GstPad *pad,
      gpointer data) {
    if (auto self = from_data (data))
      self->on_ts_pad (pad);
  }), weak_data (), free_weak<HlsAttempt>, GConnectFlags (0));
  g_signal_connect_data (tsdemux_, "no-more-pads", G_CALLBACK (+[] (GstElement *,
      gpointer data) {
    if (auto self = from_data (data))
      self->on_ts_no_more_pads ();
  }), weak_data (), free_weak<HlsAttempt>, GConnectFlags (0));
  add_attempt_bin (element_, bin_.get ());
  connected_ = true;
}

/* ---- streaming threads --------------------------------------------------------------- */

void
HlsAttempt::on_demux_pad (GstPad *pad)
{
  std::lock_guard<std::mutex> guard (pads_lock_);
  if (stopped_ || !tsdemux_)
    return;
  GstObjectPtr<GstPad> sink { gst_element_get_static_pad (tsdemux_, "sink") };
  if (gst_pad_is_linked (sink.get ())) {
    GST_DEBUG_OBJECT (element_, "ignoring another HLS rendition %s", GST_PAD_NAME (pad));
    return;
  }
  gst_pad_link (pad, sink.get ());
}

void
HlsAttempt::on_ts_pad (GstPad *pad)
{
  std::unique_lock<std::mutex> guard (pads_lock_);
  if (stopped_)
    return;
  g_autoptr (GstCaps) caps = pad_caps (pad);
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  const char *type = s ? gst_structure_get_name (s) : "";
  bool video = g_str_has_prefix (type, "video/");
  bool audio = g_str_has_prefix (type, "audio/");
  GST_INFO_OBJECT (element_, "HLS stream %s: %" GST_PTR_FORMAT, GST_PAD_NAME (pad), caps);
  bool wanted = (video && !has_video_ && !cfg_.video_codecs.empty ()) ||
      (audio && !has_audio_ && !cfg_.audio_codecs.empty ());
  std::vector<GstElement *> chain;
  if (wanted) {
    std::string unsupported;
    chain = make_parse_chain (caps, cfg_.decode, type, &unsupported);
    if (!unsupported.empty ()) {
      on_worker<HlsAttempt> ([unsupported] (HlsAttempt &a) {
        a.fail (Failure (Failure::Kind::UNSUPPORTED, unsupported));
      });
      wanted = false;
    } else if (chain.empty ()) {
      chain.push_back (gst_element_factory_make ("identity", nullptr));
    } else if (cfg_.decode && video) {
      conform_decoded_video (chain, element_);
    }
  }
  if (!wanted)   /* ID3 metadata, a second audio, what we do not take: swallowed */
    chain = { make_swallow_sink () };
  GstObjectPtr<GstPad> tail { plug_chain (bin_.get (), pad, chain) };
  if (!wanted)
    return;
  (video ? has_video_ : has_audio_) = true;

  auto *branch = new Branch { std::static_pointer_cast<HlsAttempt> (shared_from_this ()),
      video, {}, false };
  gst_segment_init (&branch->segment, GST_FORMAT_TIME);
  gst_pad_add_probe (tail.get (), GstPadProbeType (GST_PAD_PROBE_TYPE_BUFFER |
          GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      +[] (GstPad *, GstPadProbeInfo *info, gpointer data) {
        auto *b = static_cast<Branch *> (data);
        auto self = b->owner.lock ();
        return self ? self->on_data (*b, info) : GST_PAD_PROBE_DROP;
      }, branch, [] (gpointer data) { delete static_cast<Branch *> (data); });
  GstPad *ghost = gst_ghost_pad_new (video ? "video" : "audio", tail.get ());
  /* the latency HLS costs is ours to say: hlsdemux knows nothing of live */
  gst_pad_add_probe (ghost, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM, +[] (GstPad *,
      GstPadProbeInfo *info, gpointer data) {
    GstQuery *q = GST_PAD_PROBE_INFO_QUERY (info);
    auto self = from_data (data);
    if (!self || GST_QUERY_TYPE (q) != GST_QUERY_LATENCY)
      return GST_PAD_PROBE_OK;
    gst_query_set_latency (q, TRUE, self->latency (), GST_CLOCK_TIME_NONE);
    return GST_PAD_PROBE_HANDLED;
  }, weak_data (), [] (gpointer d) { free_weak<HlsAttempt> (d); });
  gst_pad_set_active (ghost, TRUE);
  gst_element_add_pad (GST_ELEMENT (bin_.get ()), ghost);
  guard.unlock ();
  listener_->attempt_pad_added (*this, ghost);
  post (event_new (event::ADD_STREAM, "kind", G_TYPE_STRING, video ? "video" : "audio", NULL));
}

void
HlsAttempt::on_ts_no_more_pads ()
{
  bool video, audio;
  {
    std::lock_guard<std::mutex> guard (pads_lock_);
    if (stopped_ || media_expected_)
      return;
    media_expected_ = true;
    video = has_video_;
    audio = has_audio_;
  }
  {
    std::lock_guard<std::mutex> guard (time_lock_);
    retimer_.set_has_video (video);
  }
  on_worker<HlsAttempt> ([video, audio] (HlsAttempt &a) {
    a.connected_ = true;
    for (bool v : { true, false }) {
      bool wanted = !(v ? a.cfg_.video_codecs : a.cfg_.audio_codecs).empty ();
      if (wanted && !(v ? video : audio)) {
        const char *kind = v ? "video" : "audio";
        a.post (event_new (event::MEDIA_UNAVAILABLE, "kind", G_TYPE_STRING, kind, "reason",
            G_TYPE_STRING, "not-offered", "edge", G_TYPE_STRING, a.edge_.c_str (), NULL));
      }
    }
    a.listener_->attempt_media_expected (a, video, audio);
  });
}

/* Every buffer out of a branch: counted, dropped until the live edge, then put at its
 * capture time on the running time; the demuxer's segment replaced by the one live
 * segment every attempt sends. */
GstPadProbeReturn
HlsAttempt::on_data (Branch &b, GstPadProbeInfo *info)
{
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT) {
      gst_event_copy_segment (ev, &b.segment);
      {
        std::lock_guard<std::mutex> guard (time_lock_);
        if (b.have_segment)
          retimer_.new_segment ();
      }
      b.have_segment = true;
      GstSegment live;
      gst_segment_init (&live, GST_FORMAT_TIME);
      GstEvent *out = gst_event_new_segment (&live);
      gst_event_set_seqnum (out, gst_event_get_seqnum (ev));
      gst_event_unref (ev);
      GST_PAD_PROBE_INFO_DATA (info) = out;
    } else if (GST_EVENT_TYPE (ev) == GST_EVENT_EOS) {
      /* a live playlist ends when the stream does */
      on_worker<HlsAttempt> ([] (HlsAttempt &a) {
        a.post (event_new (event::SUBSCRIBE_PLAY_UNPUBLISH, "stream-name", G_TYPE_STRING,
            a.cfg_.stream_name.c_str (), "edge", G_TYPE_STRING, a.edge_.c_str (), NULL));
        a.fail (Failure (Failure::Kind::UNPUBLISHED, "the HLS playlist ended"));
      });
    }
    return GST_PAD_PROBE_OK;
  }
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    /* rare (parsers and decoders push buffers): each buffer as if pushed alone */
    GstBufferList *list = gst_buffer_list_make_writable (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
    for (guint i = 0; i < gst_buffer_list_length (list);) {
      GstBuffer *buf = gst_buffer_ref (gst_buffer_list_get (list, i));
      gst_buffer_list_remove (list, i, 1);
      if (retime (b, &buf))
        gst_buffer_list_insert (list, gint (i++), buf);
    }
    GST_PAD_PROBE_INFO_DATA (info) = list;
    return gst_buffer_list_length (list) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
  }
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  bool keep = retime (b, &buf);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return keep ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

/* False to drop *buf (still ours to give back in the probe's data); else *buf may be a
 * writable copy with its times moved. */
bool
HlsAttempt::retime (Branch &b, GstBuffer **bufp)
{
  GstBuffer *buf = *bufp;
  gint64 now_us = g_get_monotonic_time ();
  gint64 last = last_media_.exchange (now_us);
  if (last && now_us - last > longest_pause_.load ())
    longest_pause_ = now_us - last;
  packets_++;
  bytes_ += gst_buffer_get_size (buf);

  GstClockTime arrival = GST_CLOCK_TIME_NONE;
  if (GstClock *clock = gst_element_get_clock (element_)) {
    arrival = gst_clock_get_time (clock) - gst_element_get_base_time (element_);
    gst_object_unref (clock);
  }
  GstClockTime pts = gst_segment_to_running_time (&b.segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
  GstClockTime dts = gst_segment_to_running_time (&b.segment, GST_FORMAT_TIME,
      GST_BUFFER_DTS (buf));
  bool key = !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  LiveRetimer::Verdict v;
  GstClockTime lateness;
  {
    std::lock_guard<std::mutex> guard (time_lock_);
    /* decoding order goes forward, presentation order need not */
    v = retimer_.push (GST_CLOCK_TIME_IS_VALID (dts) ? dts : pts, arrival, b.video, key);
    lateness = retimer_.lateness ();
  }
  auto shift = [&v] (GstClockTime t) -> GstClockTime {
    if (!GST_CLOCK_TIME_IS_VALID (t) || GstClockTimeDiff (t) + v.offset < 0)
      return GST_CLOCK_TIME_NONE;
    return GstClockTime (GstClockTimeDiff (t) + v.offset);
  };
  if (!v.pass || !GST_CLOCK_TIME_IS_VALID (shift (pts)))
    return false;
  buf = gst_buffer_make_writable (buf);
  GST_BUFFER_PTS (buf) = shift (pts);
  GST_BUFFER_DTS (buf) = shift (dts);
  *bufp = buf;

  bool grew = false;
  {
    std::lock_guard<std::mutex> guard (time_lock_);
    GstClockTime want = MIN (gst_util_uint64_scale_ceil (lateness, 1, LATENCY_STEP) *
        LATENCY_STEP + LATENCY_STEP, LATENCY_MAX);
    if (want > reported_latency_) {
      reported_latency_ = want;
      grew = true;
    }
  }
  if (grew) {
    GST_INFO_OBJECT (element_, "attempt %u: HLS latency %" GST_TIME_FORMAT, number_,
        GST_TIME_ARGS (latency ()));
    listener_->attempt_latency_changed (*this);
  }
  if (!media_out_.exchange (true)) {
    listener_->attempt_media_started (*this);
    on_worker<HlsAttempt> ([] (HlsAttempt &a) { a.post_started (); });
  }
  return true;
}

/* ---- the rest -------------------------------------------------------------------------- */

GstClockTime
HlsAttempt::latency () const
{
  std::lock_guard<std::mutex> guard (const_cast<std::mutex &> (time_lock_));
  return reported_latency_;
}

/* HLS comes a segment at a time: a pause twice the longest seen is no failure yet. */
GstClockTime
HlsAttempt::inactivity_allowance () const
{
  GstClockTime pause = GstClockTime (longest_pause_.load ()) * GST_USECOND;
  return CLAMP (2 * pause, 3 * GST_SECOND, 30 * GST_SECOND);
}

/* A switch waits for the segment that reaches the other attempt's first key frame. */
GstClockTime
HlsAttempt::switch_wait () const
{
  GstClockTime pause = GstClockTime (longest_pause_.load ()) * GST_USECOND;
  return CLAMP (2 * pause + GST_SECOND, 2 * GST_SECOND, 15 * GST_SECOND);
}

Failure
HlsAttempt::child_failure (const std::string &message, bool downstream, const GError *error)
{
  if (downstream || !error || error->domain != GST_RESOURCE_ERROR)
    return Attempt::child_failure (message, downstream, error);
  switch (error->code) {
    case GST_RESOURCE_ERROR_NOT_FOUND:
      /* a playlist that was there and went away: the stream was unpublished */
      return media_out_ ? Failure (Failure::Kind::UNPUBLISHED, message)
                        : Failure (Failure::Kind::NOT_FOUND, message);
    case GST_RESOURCE_ERROR_NOT_AUTHORIZED:
      return Failure (Failure::Kind::UNAUTHORIZED, message);
    case GST_RESOURCE_ERROR_OPEN_READ:
    case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
      return media_out_ ? Failure (Failure::Kind::CONNECTION_CLOSED, message)
                        : Failure (Failure::Kind::UNREACHABLE, message);
    default:
      return Attempt::child_failure (message, downstream, error);
  }
}

bool
HlsAttempt::owns (GstObject *object) const
{
  return bin_ && object && gst_object_has_as_ancestor (object, GST_OBJECT (bin_.get ()));
}

void
HlsAttempt::teardown ()
{
  if (!bin_)
    return;
  {
    /* wait for a pad-added that is building a chain; later ones see stopped_ */
    std::lock_guard<std::mutex> guard (pads_lock_);
  }
  remove_attempt_bin (element_, bin_.get ());
  tsdemux_ = nullptr;
  bin_.reset ();
}

}  // namespace red5pro
