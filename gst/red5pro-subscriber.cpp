/* red5pro-subscriber: the element's attempts, retries, pads and statistics. */
#include "red5pro-subscriber.h"
#include "red5pro-events.h"
#include "red5pro-hls.h"
#include "red5pro-messages.h"
#include "red5pro-webrtc.h"

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

/* How long, once one medium has its pad, the others the negotiation promised may take to
 * show before they count as not coming (no-more-pads is emitted without them). */
static constexpr guint MEDIA_WAIT_MS = 3000;
/* How often the network quality in "stats" is refreshed. */
static constexpr guint QUALITY_REFRESH_MS = 1000;

/* The SDK's "subscriber-" form, with 64 random bits: a farm of recorders on one edge must
 * not collide (16 bits collided half of the time among 300). */
static std::string
make_subscription_id ()
{
  char buf[40];
  g_snprintf (buf, sizeof buf, "subscriber-%08x%08x", g_random_int (), g_random_int ());
  return buf;
}

Subscriber::Subscriber (GstElement *element, GstStaticPadTemplate *video,
    GstStaticPadTemplate *audio, std::function<void ()> notify)
  : element_ (element), notify_ (std::move (notify)), worker_ ("red5prosrc", GST_OBJECT (element)),
    retry_ (scheduler_, *this, GST_OBJECT (element)), outputs_ (element, video, audio)
{
}

Subscriber::~Subscriber ()
{
  *alive_ = false;
  worker_.stop (0);
}

void
Subscriber::later (std::function<void (Subscriber &)> fn)
{
  std::shared_ptr<bool> alive = alive_;
  worker_.post ([this, alive, fn] () {
    if (*alive)
      fn (*this);
  });
}

/* ---- state changes (the application's thread) --------------------------------------- */

void
Subscriber::open (guint request_timeout_ms, GTlsDatabase *database, bool insecure)
{
  worker_.start (request_timeout_ms, database, insecure);
  /* The DTLS certificate webrtcbin uses is made once per process, about 80 ms of RSA key
   * generation on the first attempt's path: made now, beside the settings and the lookup.
   * (dtlssrtpdec makes it when the first one is created, and keeps it.) */
  static gsize warmed = 0;
  if (g_once_init_enter (&warmed)) {
    gst_element_call_async (element_, [] (GstElement *, gpointer) {
      if (GstElement *dec = gst_element_factory_make ("dtlssrtpdec", nullptr))
        gst_object_unref (gst_object_ref_sink (dec));
    }, nullptr, nullptr);
    g_once_init_leave (&warmed, 1);
  }
}

void
Subscriber::play (const SubscriberConfig &cfg, const RetryPolicy &policy)
{
  later ([cfg, policy] (Subscriber &self) {
    if (self.running_)
      return;
    self.running_ = true;
    self.cfg_ = cfg;
    /* capture times on every WebRTC attempt's buffers: a standby matches frames by them, an
     * upgrade waits for them (red5pro-switch) */
    self.cfg_.capture_times = true;
    self.standby_mode_ = policy.standby;
    self.retry_.start (policy);
    self.apply_pause ();
    self.refresh_quality ();
    self.stats_reporter_.start (cfg.stats_endpoint, cfg.secrets ());
    self.stats_timer_ = self.worker_.add_timeout (self.cfg_.stats_interval_ms,
        [&self] () { self.report_stats (); });
  });
}

void
Subscriber::stop_playing ()
{
  worker_.call ([this] () {
    running_ = false;
    retry_.stop ();
    stop_upgrade ();
    worker_.remove_timeout (media_wait_timer_);
    worker_.remove_timeout (quality_timer_);
    worker_.remove_timeout (stats_timer_);
    media_wait_timer_ = 0;
    quality_timer_ = 0;
    stats_timer_ = 0;
    stats_reporter_.stop ();
  });
}

void
Subscriber::close (guint drain_ms)
{
  worker_.stop (drain_ms);
}

void
Subscriber::child_error (GstObject *origin, const std::string &text, bool downstream,
    const GError *error)
{
  gst_object_ref (origin);
  std::shared_ptr<bool> alive = alive_;
  std::shared_ptr<GError> err (error ? g_error_copy (error) : nullptr,
      [] (GError *e) { if (e) g_error_free (e); });
  bool posted = worker_.post ([this, alive, origin, text, downstream, err] () {
    if (*alive) {
      for (const auto &a : { attempt_, upgrade_ })
        if (a && a->owns (origin))
          a->child_error (text, downstream, err.get ());
    }
    gst_object_unref (origin);
  });
  if (!posted)
    gst_object_unref (origin);
}

/* ---- attempts (worker thread) -------------------------------------------------------- */

std::shared_ptr<Attempt>
Subscriber::make_attempt (Tech tech, bool upgrade, bool standby)
{
  SubscriberConfig cfg = cfg_;
  cfg.standby = standby;
  cfg.standby_warm = standby && standby_mode_ == Standby::WARM;
  cfg.avoid_edge = standby && attempt_ ? attempt_->edge () : "";
  if (cfg.subscription_id.empty ())
    cfg.subscription_id = make_subscription_id ();
  guint n;
  {
    std::lock_guard<std::mutex> guard (stats_lock_);
    n = ++stats_.attempts;
  }
  if (tech == Tech::HLS)
    return std::make_shared<HlsAttempt> (element_, worker_, std::move (cfg), this, n, upgrade);
  cfg.signaling = tech == Tech::WEBSOCKET ? SignalingProtocol::WEBSOCKET : SignalingProtocol::WHEP;
  return std::make_shared<WebRtcAttempt> (element_, worker_, std::move (cfg), this, n, tech,
      upgrade);
}

void
Subscriber::start_attempt (Tech tech)
{
  g_assert (worker_.on_worker_thread ());
  stop_attempt ();
  attempt_ = make_attempt (tech, false);
  {
    std::lock_guard<std::mutex> guard (stats_lock_);
    stats_.edge.clear ();
    stats_.tech = tech_name (tech);
    stats_.current = attempt_;
  }
  deliver_to_current ();
  attempt_->start ();
}

void
Subscriber::deliver_to_current (bool mute)
{
  if (!attempt_)
    return;
  std::lock_guard<std::mutex> guard (outbox_lock_);
  if (mute && mute_set_)
    attempt_->set_muted (mute_audio_, mute_video_);
  while (!outbox_.empty () && attempt_->send_client_message (outbox_.front ()))
    outbox_.pop_front ();
}

/* silence is expected when every medium the attempt receives is paused */
void
Subscriber::apply_pause ()
{
  bool paused;
  {
    std::lock_guard<std::mutex> guard (outbox_lock_);
    paused = mute_set_ && (mute_audio_ || !expects_audio_) && (mute_video_ || !expects_video_);
  }
  retry_.set_paused (paused);
}

void
Subscriber::send_client_message (ClientMessage m)
{
  {
    std::lock_guard<std::mutex> guard (outbox_lock_);
    if (outbox_.size () >= MAX_OUTBOX) {
      GST_WARNING_OBJECT (element_, "%zu messages wait for a WebRTC connection: the oldest "
          "is dropped", outbox_.size ());
      outbox_.pop_front ();
    }
    outbox_.push_back (std::move (m));
  }
  later ([] (Subscriber &self) { self.deliver_to_current (false); });
}

void
Subscriber::set_muted (bool audio, bool video)
{
  {
    std::lock_guard<std::mutex> guard (outbox_lock_);
    mute_set_ = true;
    mute_audio_ = audio;
    mute_video_ = video;
  }
  later ([] (Subscriber &self) {
    self.deliver_to_current ();
    self.apply_pause ();
  });
}

/* The current attempt plays another stream of the same (ABR) group now: the attempts after
 * it subscribe to that one. */
void
Subscriber::attempt_stream_switched (Attempt &attempt, const std::string &path)
{
  if (&attempt != attempt_.get () || path.empty ())
    return;
  size_t slash = path.rfind ('/');
  if (slash != std::string::npos && slash > 0)
    cfg_.app = path.substr (0, slash);
  cfg_.stream_name = path.substr (slash == std::string::npos ? 0 : slash + 1);
  GST_INFO_OBJECT (element_, "now playing %s/%s", cfg_.app.c_str (), cfg_.stream_name.c_str ());
  /* a standby plays what it would take over: the same switch on its edge */
  if (upgrade_ && retry_.standby ()) {
    std::string id = make_call_id ();
    upgrade_->send_client_message (ClientMessage { switch_streams_message (path, true, id), id,
        "switchStreams", path });
  }
}

void
Subscriber::stop_attempt ()
{
  g_assert (worker_.on_worker_thread ());
  stop_retired ();
  if (!attempt_)
    return;
  outputs_.detach_all ();
  auto attempt = std::move (attempt_);
  stats_ended (*attempt);
  attempt->stop ();
  {
    std::lock_guard<std::mutex> guard (switch_lock_);
    switches_.erase (attempt.get ());
  }
  std::lock_guard<std::mutex> guard (stats_lock_);
  stats_.packets_done += attempt->packets ();
  stats_.bytes_done += attempt->bytes ();
  stats_.counters_done += attempt->counters ();
  stats_.subscribed_since = 0;
  stats_.current.reset ();
}

void
Subscriber::stop_retired ()
{
  for (auto &a : retired_) {
    a->stop ();
    std::lock_guard<std::mutex> guard (stats_lock_);
    stats_.packets_done += a->packets ();
    stats_.bytes_done += a->bytes ();
    stats_.counters_done += a->counters ();
  }
  retired_.clear ();
}

/* ---- the climb back (worker thread) --------------------------------------------------- */

void
Subscriber::start_upgrade (Tech tech)
{
  g_assert (worker_.on_worker_thread ());
  stop_upgrade ();
  upgrade_ = make_attempt (tech, true);
  std::weak_ptr<Attempt> weak = upgrade_;
  std::shared_ptr<bool> alive = alive_;
  auto sw = std::make_shared<Switch> (element_, outputs_,
      attempt_ ? attempt_->switch_wait () : GST_SECOND,
      [this, alive, weak] () {
        /* its key frame is in place: the controller decides */
        worker_.post ([this, alive, weak] () {
          auto a = weak.lock ();
          if (*alive && a && a == upgrade_)
            retry_.upgrade_ready ();
        });
      },
      [this, alive] () {
        /* the pads are the new attempt's: the old one goes, the latency changed */
        worker_.post ([this, alive] () {
          if (*alive)
            stop_retired ();
        });
        gst_element_post_message (element_, gst_message_new_latency (GST_OBJECT (element_)));
      }, false, tech != Tech::HLS);
  {
    std::lock_guard<std::mutex> guard (switch_lock_);
    switches_[upgrade_.get ()] = sw;
  }
  upgrade_->start ();
}

void
Subscriber::stop_upgrade ()
{
  g_assert (worker_.on_worker_thread ());
  if (!upgrade_)
    return;
  auto a = std::move (upgrade_);
  std::shared_ptr<Switch> sw;
  {
    std::lock_guard<std::mutex> guard (switch_lock_);
    auto it = switches_.find (a.get ());
    if (it != switches_.end ()) {
      sw = it->second;
      switches_.erase (it);
    }
  }
  /* the switch first: a key frame it holds lets go, then the attempt can stop */
  if (sw)
    sw->abort ();
  a->stop ();
  std::lock_guard<std::mutex> guard (stats_lock_);
  stats_.packets_done += a->packets ();
  stats_.bytes_done += a->bytes ();
  stats_.standby_state = "none";
  stats_.standby_edge.clear ();
  stats_.standby.reset ();
}

std::shared_ptr<Switch>
Subscriber::switch_of (const Attempt *attempt)
{
  std::lock_guard<std::mutex> guard (switch_lock_);
  auto it = switches_.find (attempt);
  return it != switches_.end () ? it->second : nullptr;
}

/* ---- the standby (worker thread) --------------------------------------------------------- */

/* A second attempt of the current one's tech, on another edge (the lookup avoids the
 * current one's), held back by a switch in hold mode. */
void
Subscriber::start_standby (Tech tech)
{
  g_assert (worker_.on_worker_thread ());
  stop_upgrade ();
  upgrade_ = make_attempt (tech, true, true);
  std::weak_ptr<Attempt> weak = upgrade_;
  std::shared_ptr<bool> alive = alive_;
  Standby mode = standby_mode_;
  auto sw = std::make_shared<Switch> (element_, outputs_, GST_SECOND,
      [this, alive, weak, mode] () {
        /* its first key frame: a hot one could take over (a warm one is ready once its
         * media is paused: attempt_connected) */
        if (mode != Standby::HOT)
          return;
        worker_.post ([this, alive, weak] () {
          auto a = weak.lock ();
          if (*alive && a && a == upgrade_)
            standby_ready (*a);
        });
      },
      [this, alive, weak] () {
        /* the standby's first frame went out: the old attempt goes, the latency changed */
        auto a = weak.lock ();
        std::shared_ptr<Switch> sw = a ? switch_of (a.get ()) : nullptr;
        GstClockTime gap = sw ? sw->gap () : GST_CLOCK_TIME_NONE;
        GstClockTime interval = sw ? sw->frame_interval () : GST_CLOCK_TIME_NONE;
        worker_.post ([this, alive, weak, gap, interval] () {
          if (!*alive)
            return;
          stop_retired ();
          auto a = weak.lock ();
          /* frames skipped: whole intervals in the step beyond the one a frame takes */
          guint skipped = 0;
          if (GST_CLOCK_TIME_IS_VALID (gap) && GST_CLOCK_TIME_IS_VALID (interval) &&
              interval > 0 && gap > interval + interval / 2)
            skipped = guint ((gap + interval / 2) / interval) - 1;
          event_post (element_, event_new (event::STANDBY_PROMOTED, "from", G_TYPE_STRING,
              promoted_from_.c_str (), "to", G_TYPE_STRING, a ? a->edge ().c_str () : "",
              "reason", G_TYPE_STRING, last_promotion_reason_.c_str (),
              "gap-ms", G_TYPE_UINT, guint (GST_CLOCK_TIME_IS_VALID (gap) ? gap / GST_MSECOND : 0),
              "frames-skipped", G_TYPE_UINT, skipped, "frames-repeated", G_TYPE_UINT, 0u,
              NULL));
        });
        gst_element_post_message (element_, gst_message_new_latency (GST_OBJECT (element_)));
      }, true);
  {
    std::lock_guard<std::mutex> guard (switch_lock_);
    switches_[upgrade_.get ()] = sw;
  }
  {
    std::lock_guard<std::mutex> guard (stats_lock_);
    stats_.standby_state = "connecting";
    stats_.standby_edge.clear ();
  }
  upgrade_->start ();
}

void
Subscriber::standby_ready (Attempt &a)
{
  if (retry_.standby_is_ready () || !retry_.standby ())
    return;
  {
    std::lock_guard<std::mutex> guard (stats_lock_);
    stats_.standby_state = "ready";
    stats_.standby_edge = a.edge ();
    stats_.standby = a.shared_from_this ();
  }
  event_post (element_, event_new (event::STANDBY_READY, "edge", G_TYPE_STRING,
      a.edge ().c_str (), "mode", G_TYPE_STRING,
      standby_mode_ == Standby::HOT ? "hot" : "warm", "attempt", G_TYPE_UINT, a.number (),
      NULL));
  retry_.standby_ready ();
}

/* A warm standby is ready once connected: it asked the server to pause its media. */
void
Subscriber::attempt_connected (Attempt &attempt)
{
  if (&attempt == upgrade_.get () && standby_mode_ == Standby::WARM && attempt.upgrade ())
    standby_ready (attempt);
}

/* The current attempt failed or went silent: the standby is the current attempt now, and
 * its switch swaps the pads at its next buffer (warm: once the server resumes its media,
 * from a key frame asked for now). */
void
Subscriber::promote_standby (const char *reason)
{
  g_assert (worker_.on_worker_thread ());
  if (!upgrade_)
    return;
  std::shared_ptr<Switch> sw = switch_of (upgrade_.get ());
  promoted_from_ = attempt_ ? attempt_->edge () : "";
  last_promotion_reason_ = reason;
  GST_INFO_OBJECT (element_, "standby on %s takes over from %s (%s)",
      upgrade_->edge ().c_str (), promoted_from_.c_str (), reason);
  bool warm = standby_mode_ == Standby::WARM;
  /* the server resumes its media, but what the application paused */
  if (warm) {
    std::lock_guard<std::mutex> guard (outbox_lock_);
    upgrade_->set_muted (mute_set_ && mute_audio_, mute_set_ && mute_video_);
  }
  promote_upgrade ();
  {
    std::lock_guard<std::mutex> guard (stats_lock_);
    stats_.standby_state = "none";
    stats_.standby_edge.clear ();
    stats_.standby.reset ();
  }
  /* warm: no key frame asked for here: the request could reach the encoder before the
   * server reads the unmute, its key frame paused with the rest, and hold back (the
   * 500 ms throttle) the depayloader's own request at the first frame that comes */
  if (sw)
    sw->take_over ();
}

GstClockTime
Subscriber::standby_media_time ()
{
  std::shared_ptr<Switch> sw = upgrade_ ? switch_of (upgrade_.get ()) : nullptr;
  gint64 us = sw ? sw->last_media_us () : 0;
  return us ? GstClockTime (us) * GST_USECOND : GST_CLOCK_TIME_NONE;
}

/* The controller takes the upgrade: it is the current attempt, the old one is retired
 * (what it says no longer counts) and goes once the switch has swapped the pads. */
void
Subscriber::promote_upgrade ()
{
  g_assert (worker_.on_worker_thread ());
  if (!upgrade_)
    return;
  std::shared_ptr<Switch> sw;
  {
    std::lock_guard<std::mutex> guard (switch_lock_);
    auto it = switches_.find (upgrade_.get ());
    if (it != switches_.end ())
      sw = it->second;
  }
  if (attempt_) {
    stats_ended (*attempt_);
    attempt_->retire ();
    retired_.push_back (std::move (attempt_));
  }
  attempt_ = std::move (upgrade_);
  stats_started (*attempt_);
  {
    std::lock_guard<std::mutex> guard (stats_lock_);
    stats_.connections++;
    stats_.edge = attempt_->edge ();
    stats_.tech = tech_name (attempt_->tech ());
    stats_.current = attempt_;
    stats_.subscribed_since = g_get_monotonic_time ();
    if (!retired_.empty ()) {
      stats_.packets_done += retired_.back ()->packets ();
      stats_.bytes_done += retired_.back ()->bytes ();
    }
  }
  deliver_to_current ();
  if (sw)
    sw->go ();
}

GstClockTime
Subscriber::last_media_time ()
{
  gint64 us = attempt_ ? attempt_->last_media_time () : 0;
  return us ? GstClockTime (us) * GST_USECOND : GST_CLOCK_TIME_NONE;
}

GstClockTime
Subscriber::inactivity_allowance ()
{
  return attempt_ ? attempt_->inactivity_allowance () : 0;
}

void
Subscriber::post_event (GstStructure *event)
{
  event_post (element_, event);
}

void
Subscriber::changed ()
{
  {
    std::lock_guard<std::mutex> guard (stats_lock_);
    stats_.state = RetryController::state_name (retry_.state ());
    stats_.retries = retry_.retries ();
    stats_.last_failure = retry_.last_failure ();
  }
  notify_ ();
}

/* The end: retry is off, the failure is one no retry fixes, or retries are exhausted. EOS
 * first, so that a muxer downstream finishes its file before the error stops the pipeline;
 * both from the thread that pushes EOS. */
void
Subscriber::give_up (const Failure &f, bool retried)
{
  GstElement *element = element_;
  std::string stream = cfg_.stream_name, host = cfg_.host;
  outputs_.push_eos ([element, f, stream, host, retried] () {
    post_failure_error (element, f, stream, host, retried);
  });
}

/* ---- what an attempt tells (streaming threads or the worker) ------------------------------ */

void
Subscriber::attempt_pad_added (Attempt &attempt, GstPad *pad)
{
  Medium m = g_str_equal (GST_PAD_NAME (pad), "video") ? Medium::VIDEO : Medium::AUDIO;
  if (attempt.retired ())
    return;   /* swapped out: its late pads go nowhere */
  if (attempt.upgrade ()) {
    /* held back by its switch until it takes over */
    std::shared_ptr<Switch> sw;
    {
      std::lock_guard<std::mutex> guard (switch_lock_);
      auto it = switches_.find (&attempt);
      if (it != switches_.end ())
        sw = it->second;
    }
    if (sw)
      sw->add_pad (m, pad);
    return;
  }
  outputs_.attach (m, pad);
  if (!outputs_.missing ().empty ()) {
    later ([] (Subscriber &self) {
      if (!self.media_wait_timer_)
        self.media_wait_timer_ = self.worker_.add_timeout (MEDIA_WAIT_MS,
            [&self] () { self.give_up_missing_media (); });
    });
  }
}

/* The first negotiation of a run decides which pads to wait for. */
void
Subscriber::attempt_media_expected (Attempt &attempt, bool video, bool audio)
{
  outputs_.expect (video, audio);
  if (&attempt == attempt_.get ()) {
    expects_video_ = video;
    expects_audio_ = audio;
    apply_pause ();
  }
}

/* Media the negotiation promised that did not come in time are given up on. */
void
Subscriber::give_up_missing_media ()
{
  media_wait_timer_ = 0;
  for (Medium m : outputs_.missing ()) {
    if (!outputs_.unavailable (m))
      continue;
    event_post (element_, event_new (event::MEDIA_UNAVAILABLE, "kind", G_TYPE_STRING,
        medium_name (m), "reason", G_TYPE_STRING, "no-media", NULL));
    warn_media_unavailable (element_, medium_name (m), "no-media");
  }
}

void
Subscriber::attempt_media_started (Attempt &attempt)
{
  std::weak_ptr<Attempt> started = attempt.shared_from_this ();
  later ([started] (Subscriber &self) {
    auto a = started.lock ();
    if (!a || a != self.attempt_ || a->upgrade ())
      return;   /* an upgrade attempt's start is its promotion */
    {
      std::lock_guard<std::mutex> guard (self.stats_lock_);
      self.stats_.connections++;
      self.stats_.edge = a->edge ();
      self.stats_.subscribed_since = g_get_monotonic_time ();
    }
    self.stats_started (*a);
    self.retry_.media_started ();
  });
}

/* From inside the attempt: handled once its callback has returned. */
void
Subscriber::attempt_failed (Attempt &attempt, const Failure &f)
{
  std::weak_ptr<Attempt> failed = attempt.shared_from_this ();
  later ([failed, f] (Subscriber &self) {
    auto a = failed.lock ();
    if (a && a == self.attempt_)
      self.retry_.attempt_failed (f);
    else if (a && a == self.upgrade_)
      self.retry_.upgrade_failed (f);
  });
}

/* HLS's latency is known once it plays: the pipeline asks again. */
void
Subscriber::attempt_latency_changed (Attempt &)
{
  gst_element_post_message (element_, gst_message_new_latency (GST_OBJECT (element_)));
}

/* ---- statistics ------------------------------------------------------------------------ */

/* webrtcbin's get-stats is not free (every RTP session and transport, each second): the
 * refresh starts with the first read of "stats" (most pipelines never read it). */
void
Subscriber::refresh_quality ()
{
  if (attempt_ && quality_wanted_.load ())
    attempt_->refresh_quality ();
  if (upgrade_ && quality_wanted_.load () && retry_.standby ())
    upgrade_->refresh_quality ();
  quality_timer_ = worker_.add_timeout (QUALITY_REFRESH_MS, [this] () { refresh_quality (); });
}

/* ---- stats reports (SDK 15's stats option) ------------------------------------------------ */

void
Subscriber::report_stats ()
{
  stats_timer_ = worker_.add_timeout (cfg_.stats_interval_ms, [this] () { report_stats (); });
  std::shared_ptr<Attempt> a = reporting_.lock ();
  if (!a || a != attempt_)
    return;
  std::weak_ptr<Attempt> weak = a;
  std::shared_ptr<bool> alive = alive_;
  a->get_stats ([this, alive, weak] (const GstStructure *stats) {
    auto a = weak.lock ();
    if (!*alive || !running_ || !a || a != attempt_)
      return;
    StatsExtras extras;
    extras.frames_dropped = a->counters ().frames_dropped;
    extras.freezes = outputs_.freezes ();
    stats_reporter_.report (stats_client (*a), stats, extras, stats_channel (a));
  });
}

/* A WebRTC attempt is the current one and has media. */
void
Subscriber::stats_started (Attempt &attempt)
{
  if (attempt.tech () == Tech::HLS || reporting_.lock ().get () == &attempt)
    return;
  auto a = attempt.shared_from_this ();
  reporting_ = a;
  stats_reporter_.action (stats_client (attempt), "started", stats_channel (a));
}

/* ... and goes (stopped, or swapped out by an upgrade or a standby). */
void
Subscriber::stats_ended (Attempt &attempt)
{
  if (reporting_.lock ().get () != &attempt)
    return;
  reporting_.reset ();
  stats_reporter_.action (stats_client (attempt), "ended",
      stats_channel (attempt.shared_from_this ()));
}

StatsClient
Subscriber::stats_client (const Attempt &attempt) const
{
  StatsClient c;
  c.host = cfg_.host;
  c.app = cfg_.app;
  c.stream_name = cfg_.stream_name;
  c.subscription_id = attempt.subscription_id ();
  c.connection_params = cfg_.connection_params;
  return c;
}

StatsReporter::ChannelSend
Subscriber::stats_channel (const std::shared_ptr<Attempt> &attempt) const
{
  std::weak_ptr<Attempt> weak = attempt;
  return [weak] (const std::string &text) {
    auto a = weak.lock ();
    return a && a->send_message (text);
  };
}

/* The server named another stats endpoint: for the rest of this run. */
void
Subscriber::attempt_stats_endpoint (Attempt &, const std::string &endpoint)
{
  stats_reporter_.change_endpoint (endpoint);
}

GstStructure *
Subscriber::stats ()
{
  if (!quality_wanted_.exchange (true))
    later ([] (Subscriber &self) {
      if (self.attempt_)
        self.attempt_->refresh_quality ();
    });
  std::lock_guard<std::mutex> guard (stats_lock_);
  const Stats &s = stats_;
  gint64 now = g_get_monotonic_time ();
  guint64 packets = s.packets_done + (s.current ? s.current->packets () : 0);
  guint64 bytes = s.bytes_done + (s.current ? s.current->bytes () : 0);
  MediaCounters c = s.counters_done;
  if (s.current)
    c += s.current->counters ();
  GstStructure *out = gst_structure_new ("red5pro-stats",
      "state", G_TYPE_STRING, s.state.c_str (),
      "attempts", G_TYPE_UINT, s.attempts,
      "connections", G_TYPE_UINT, s.connections,
      "retries", G_TYPE_UINT, s.retries,
      "edge", G_TYPE_STRING, s.edge.c_str (),
      "tech", G_TYPE_STRING, s.tech.c_str (),
      "connected-ms", G_TYPE_UINT64,
          guint64 (s.subscribed_since ? (now - s.subscribed_since) / 1000 : 0),
      "last-frame-time", G_TYPE_INT64, outputs_.last_output_time (),
      "last-failure", G_TYPE_STRING, s.last_failure.c_str (),
      "packets-received", G_TYPE_UINT64, packets,
      "bytes-received", G_TYPE_UINT64, bytes,
      "frames-received", G_TYPE_UINT64, outputs_.video_frames (),
      "frames-dropped", G_TYPE_UINT64, outputs_.dropped () + c.frames_dropped,
      "freezes", G_TYPE_UINT, outputs_.freezes (),
      "freeze-duration-ms", G_TYPE_UINT64, guint64 (outputs_.frozen () / GST_MSECOND),
      "keyframes-requested", G_TYPE_UINT64, c.keyframes_requested,
      "retransmissions-requested", G_TYPE_UINT64, c.retransmissions_requested,
      "retransmissions-received", G_TYPE_UINT64, c.retransmissions_received,
      "standby", G_TYPE_STRING, s.standby_state.c_str (),
      "standby-edge", G_TYPE_STRING, s.standby_edge.c_str (),
      "stats-reports-sent", G_TYPE_UINT64, stats_reporter_.sent (),
      "stats-reports-failed", G_TYPE_UINT64, stats_reporter_.failed (),
      NULL);
  for (bool video : { true, false }) {
    NetworkQuality q = s.current ? s.current->quality (video) : NetworkQuality ();
    if (!q.valid)
      continue;
    StructurePtr net (q.to_structure ());
    gst_structure_set (out, video ? "video-network" : "audio-network", GST_TYPE_STRUCTURE,
        net.get (), NULL);
  }
  /* the standby's network, as its video comes in (a warm one's says little) */
  NetworkQuality sq = s.standby ? s.standby->quality (true) : NetworkQuality ();
  if (sq.valid) {
    StructurePtr net (sq.to_structure ());
    gst_structure_set (out, "standby-network", GST_TYPE_STRUCTURE, net.get (), NULL);
  }
  return out;
}

}  // namespace red5pro
