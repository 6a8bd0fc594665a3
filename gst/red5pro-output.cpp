/* red5pro-output: the stable source pads, as a demuxer's: their stream ids and collection,
 * no-more-pads, combined flow, and the one stream downstream sees across rebuilds. */
#include "red5pro-output.h"
#include "red5pro-events.h"

#include <gst/video/video.h>

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

GstClockTime
capture_time (GstBuffer *buf)
{
  static GstCaps *ntp = gst_caps_new_empty_simple ("timestamp/x-ntp");
  GstReferenceTimestampMeta *meta = gst_buffer_get_reference_timestamp_meta (buf, ntp);
  return meta ? meta->timestamp : GST_CLOCK_TIME_NONE;
}

namespace {
/* the shortest gap between two frames that is a freeze, whatever the frame rate */
constexpr GstClockTime FREEZE_MIN = 150 * GST_MSECOND;
}  // namespace

const char *
medium_name (Medium m)
{
  return m == Medium::VIDEO ? "video" : "audio";
}

/* ---- our pads ---------------------------------------------------------------------------- */

OutputPads::OutputPads (GstElement *element, GstStaticPadTemplate *video,
    GstStaticPadTemplate *audio)
  : element_ (element), combiner_ (gst_flow_combiner_new ())
{
  for (Medium m : { Medium::VIDEO, Medium::AUDIO }) {
    Pad &p = pad (m);
    p.owner = this;
    p.medium = m;
    GstPadTemplate *templ = gst_static_pad_template_get (m == Medium::VIDEO ? video : audio);
    p.pad = GST_PAD (gst_object_ref_sink (gst_ghost_pad_new_no_target_from_template (
        medium_name (m), templ)));
    gst_object_unref (templ);
    gst_segment_init (&p.segment, GST_FORMAT_UNDEFINED);
    /* The ghost pad's inner half receives what the attempt pushes: our functions decide
     * what goes on downstream. */
    GstPad *internal = GST_PAD (gst_proxy_pad_get_internal (GST_PROXY_PAD (p.pad)));
    gst_pad_set_element_private (internal, &p);
    gst_pad_set_chain_function (internal, chain);
    gst_pad_set_chain_list_function (internal, chain_list);
    gst_pad_set_event_function (internal, event);
    gst_object_unref (internal);
  }
}

OutputPads::~OutputPads ()
{
  for (Pad *p : { &video_, &audio_ }) {
    gst_clear_caps (&p->caps);
    gst_clear_object (&p->stream);
    gst_clear_object (&p->pad);
  }
  gst_clear_object (&collection_);
  gst_flow_combiner_free (combiner_);
}

OutputPads::Pad *
OutputPads::from_internal (GstPad *internal)
{
  return static_cast<Pad *> (gst_pad_get_element_private (internal));
}

void
OutputPads::prepare ()
{
  std::vector<GstStream *> fresh;
  for (Medium m : { Medium::VIDEO, Medium::AUDIO }) {
    /* from the element's URI: the same stream keeps the same id, rebuild after rebuild */
    gchar *id = gst_pad_create_stream_id (pad (m).pad, element_, medium_name (m));
    fresh.push_back (gst_stream_new (id, nullptr, m == Medium::VIDEO ? GST_STREAM_TYPE_VIDEO
                                                                     : GST_STREAM_TYPE_AUDIO,
        GST_STREAM_FLAG_NONE));
    g_free (id);
  }
  std::lock_guard<std::mutex> guard (lock_);
  group_id_ = gst_util_group_id_next ();
  gst_object_replace ((GstObject **) &video_.stream, GST_OBJECT (fresh[0]));
  gst_object_replace ((GstObject **) &audio_.stream, GST_OBJECT (fresh[1]));
  gst_object_unref (fresh[0]);
  gst_object_unref (fresh[1]);
}

void
OutputPads::reset ()
{
  detach_all ();
  {
    std::lock_guard<std::mutex> guard (lock_);
    expected_known_ = false;
    completed_ = false;
    gst_clear_object (&collection_);
    /* streaming has stopped (the pads are inactive): the streaming fields are ours */
    for (Pad *p : { &video_, &audio_ }) {
      p->expected = false;
      p->sent_stream_start = false;
      p->have_segment = false;
      gst_clear_caps (&p->caps);
      p->last_pts = GST_CLOCK_TIME_NONE;
      p->sent_pts = GST_CLOCK_TIME_NONE;
      p->sent_capture = GST_CLOCK_TIME_NONE;
      p->offset = 0;
      p->last_end = GST_CLOCK_TIME_NONE;
      p->need_keyframe = false;
      p->allow_eos = false;
      p->collection_pending = false;
    }
  }
  std::lock_guard<std::mutex> guard (flow_lock_);
  gst_flow_combiner_clear (combiner_);
}

void
OutputPads::detach_all ()
{
  for (Pad *p : { &video_, &audio_ })
    gst_ghost_pad_set_target (GST_GHOST_PAD (p->pad), nullptr);
}

/* lock_ held: the pad joins the flow combiner, flowing. */
void
OutputPads::add_locked (Pad &p)
{
  std::lock_guard<std::mutex> guard (flow_lock_);
  gst_flow_combiner_remove_pad (combiner_, p.pad);
  gst_flow_combiner_add_pad (combiner_, p.pad);
  gst_flow_combiner_update_pad_flow (combiner_, p.pad, GST_FLOW_OK);
}

GstPad *
OutputPads::target (Medium m)
{
  return gst_ghost_pad_get_target (GST_GHOST_PAD (pad (m).pad));
}

bool
OutputPads::attach (Medium m, GstPad *attempt_pad, bool at_key_frame, GstClockTimeDiff offset)
{
  Pad &p = pad (m);
  p.offset = offset;
  std::lock_guard<std::mutex> exposing (expose_lock_);
  bool add;
  {
    std::lock_guard<std::mutex> guard (lock_);
    add = !p.added;
    p.added = true;
    add_locked (p);
  }
  /* after a rebuild, encoded video resumes at a key frame (decoded video has no delta
   * units and passes) */
  if (!add && !at_key_frame)
    p.need_keyframe = m == Medium::VIDEO;
  GST_INFO_OBJECT (element_, "%s pad %s %" GST_PTR_FORMAT, medium_name (m),
      add ? "exposed on" : "now in front of", attempt_pad);
  gst_ghost_pad_set_target (GST_GHOST_PAD (p.pad), attempt_pad);
  if (add) {
    gst_pad_set_active (p.pad, TRUE);
    gst_element_add_pad (element_, p.pad);
  } else if (m == Medium::VIDEO && !at_key_frame) {
    /* becomes a PLI/FIR on the new RTP session */
    gst_pad_send_event (attempt_pad, gst_video_event_new_upstream_force_key_unit (
        GST_CLOCK_TIME_NONE, TRUE, 0));
  }
  maybe_complete ();
  return add;
}

void
OutputPads::expect (bool video, bool audio)
{
  {
    std::lock_guard<std::mutex> guard (lock_);
    if (expected_known_)
      return;
    expected_known_ = true;
    video_.expected = video;
    audio_.expected = audio;
    /* a pad still to come counts as flowing: NOT_LINKED on the other is no error yet */
    for (Pad *p : { &video_, &audio_ })
      if (p->expected)
        add_locked (*p);
    /* the collection from here on, ahead of any pad's first buffer: decodebin3 1.26 holds a
     * pad's stream-start back until it has a collection, and a buffer that comes first (the
     * audio pad's, before the video pad is there) is "data flow before stream-start"
     * (e2e/idioms, uridecodebin3/playbin3, 1 run in 3 on Debian 13) */
    make_collection_locked ();
  }
  GST_INFO_OBJECT (element_, "expecting%s%s", video ? " video" : "", audio ? " audio" : "");
  maybe_complete ();
}

bool
OutputPads::unavailable (Medium m)
{
  Pad &p = pad (m);
  {
    std::lock_guard<std::mutex> guard (lock_);
    if (!p.expected || p.added || completed_)
      return false;
    p.expected = false;
    make_collection_locked ();
    std::lock_guard<std::mutex> flow (flow_lock_);
    gst_flow_combiner_remove_pad (combiner_, p.pad);
  }
  GST_INFO_OBJECT (element_, "no %s will come", medium_name (m));
  maybe_complete ();
  return true;
}

std::vector<Medium>
OutputPads::missing ()
{
  std::vector<Medium> out;
  std::lock_guard<std::mutex> guard (lock_);
  for (Pad *p : { &video_, &audio_ })
    if (expected_known_ && p->expected && !p->added)
      out.push_back (p->medium);
  return out;
}

bool
OutputPads::has_pad (Medium m)
{
  std::lock_guard<std::mutex> guard (lock_);
  return pad (m).added;
}

/* The collection of the streams expected, each pad to send it before its next buffer. */
void
OutputPads::make_collection_locked ()
{
  gst_clear_object (&collection_);
  collection_ = gst_stream_collection_new (nullptr);
  for (Pad *p : { &video_, &audio_ }) {
    if (p->expected && p->stream) {
      gst_stream_collection_add_stream (collection_, GST_STREAM (gst_object_ref (p->stream)));
      p->collection_pending = true;   /* sent by its streaming thread, in order */
    }
  }
}

void
OutputPads::maybe_complete ()
{
  GstStreamCollection *collection = nullptr;
  {
    std::lock_guard<std::mutex> guard (lock_);
    if (completed_ || !expected_known_)
      return;
    for (Pad *p : { &video_, &audio_ })
      if (p->expected && !p->added)
        return;
    completed_ = true;
    if (!collection_)
      make_collection_locked ();
    collection = GST_STREAM_COLLECTION (gst_object_ref (collection_));
  }
  GST_INFO_OBJECT (element_, "no more pads: %u stream(s)",
      gst_stream_collection_get_size (collection));
  gst_element_post_message (element_,
      gst_message_new_stream_collection (GST_OBJECT (element_), collection));
  gst_object_unref (collection);
  gst_element_no_more_pads (element_);
}

/* ---- what downstream sees (streaming threads) -------------------------------------- */

void
OutputPads::send_stream_start (Pad &p)
{
  GstEvent *ev;
  {
    std::lock_guard<std::mutex> guard (lock_);
    ev = gst_event_new_stream_start (gst_stream_get_stream_id (p.stream));
    gst_event_set_group_id (ev, group_id_);
    gst_event_set_stream (ev, p.stream);
  }
  p.sent_stream_start = true;
  gst_pad_push_event (p.pad, ev);
}

GstFlowReturn
OutputPads::combine (Pad &p, GstFlowReturn ret)
{
  if (G_LIKELY (ret == GST_FLOW_OK))
    return ret;
  /* like a demuxer: one pad not linked is fine while another is */
  std::lock_guard<std::mutex> guard (flow_lock_);
  GstFlowReturn combined = gst_flow_combiner_update_pad_flow (combiner_, p.pad, ret);
  if (combined != ret)
    GST_LOG_OBJECT (p.pad, "%s, combined %s", gst_flow_get_name (ret),
        gst_flow_get_name (combined));
  return combined;
}

/* A video frame leaves at pts (after last_pts): the count, and a freeze when it comes too
 * long after the last one (issue 19; browsers count freezes so). The frame interval is the
 * stream's own: the shortest gap seen, drifting up slowly with gaps up to twice it (a
 * frame rate that drops). Streaming thread. */
void
OutputPads::count_frame (Pad &p, GstClockTime pts)
{
  p.frames++;
  if (!GST_CLOCK_TIME_IS_VALID (pts) || !GST_CLOCK_TIME_IS_VALID (p.last_pts) ||
      pts <= p.last_pts)
    return;
  GstClockTime gap = pts - p.last_pts;
  if (!GST_CLOCK_TIME_IS_VALID (p.frame_interval) || gap < p.frame_interval)
    p.frame_interval = gap;
  else if (gap < 2 * p.frame_interval)
    p.frame_interval += (gap - p.frame_interval) / 16;
  if (gap > MAX (3 * p.frame_interval, FREEZE_MIN)) {
    p.freezes++;
    p.frozen += gap;
  }
}

/* The buffer as it may leave, or false to drop it. */
GstFlowReturn
OutputPads::prepare_buffer (Pad &p, GstBuffer *&buf)
{
  if (p.collection_pending.exchange (false)) {
    GstStreamCollection *collection;
    {
      std::lock_guard<std::mutex> guard (lock_);
      collection = collection_ ? GST_STREAM_COLLECTION (gst_object_ref (collection_)) : nullptr;
    }
    if (collection)
      gst_pad_push_event (p.pad, gst_event_new_stream_collection (collection));
    gst_clear_object (&collection);
  }
  if (p.need_keyframe.load ()) {
    if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
      p.dropped++;
      return GST_FLOW_CUSTOM_SUCCESS;
    }
    p.need_keyframe = false;
  }
  if (GstClockTimeDiff offset = p.offset.load ()) {
    buf = gst_buffer_make_writable (buf);
    for (GstClockTime *t : { &GST_BUFFER_PTS (buf), &GST_BUFFER_DTS (buf) })
      if (GST_CLOCK_TIME_IS_VALID (*t))
        *t = offset < 0 && GstClockTime (-offset) > *t ? 0 : GstClockTime (*t + offset);
  }
  GstClockTime pts = GST_BUFFER_PTS (buf);
  /* Within an attempt the jitter buffer's timestamps follow the RTP clock and only go
   * forward, frame after frame, audio buffer after audio buffer. A new attempt's start is
   * its first packet's arrival: one that starts before the last one ended (its first packet
   * far later than the rest) is let in where its time passes ours, video at a key frame.
   * Audio must not overlap either: an encoder that counts samples (avenc_aac) would step
   * back. A muxer refuses time going back, and rewriting times would make up a stream. */
  if (GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (p.last_end) &&
      (p.medium == Medium::VIDEO ? pts <= p.last_pts : pts + GST_MSECOND < p.last_end)) {
    GST_DEBUG_OBJECT (p.pad, "dropping a buffer at %" GST_TIME_FORMAT ", before %"
        GST_TIME_FORMAT, GST_TIME_ARGS (pts), GST_TIME_ARGS (p.last_end));
    p.dropped++;
    p.need_keyframe = p.medium == Medium::VIDEO;
    return GST_FLOW_CUSTOM_SUCCESS;
  }
  if (p.medium == Medium::VIDEO)
    count_frame (p, pts);
  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    p.last_pts = pts;
    p.sent_pts = pts;
    p.sent_capture = capture_time (buf);
    p.last_end = GST_BUFFER_DURATION_IS_VALID (buf) ? pts + GST_BUFFER_DURATION (buf) : pts;
  }
  /* RTP carries presentation times only, and WebRTC's codecs do not reorder frames, so
   * the decoding time is the presentation time; muxers (mp4mux) want both. */
  if (!GST_BUFFER_DTS_IS_VALID (buf) && GST_CLOCK_TIME_IS_VALID (pts)) {
    buf = gst_buffer_make_writable (buf);
    GST_BUFFER_DTS (buf) = pts;
  }
  last_output_ = g_get_real_time ();
  return GST_FLOW_OK;
}

GstFlowReturn
OutputPads::chain (GstPad *internal, GstObject *parent, GstBuffer *buf)
{
  Pad *p = from_internal (internal);
  if (G_UNLIKELY (!p->sent_stream_start))
    p->owner->send_stream_start (*p);
  GstFlowReturn ret = p->owner->prepare_buffer (*p, buf);
  if (ret == GST_FLOW_CUSTOM_SUCCESS) {
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  return p->owner->combine (*p, gst_proxy_pad_chain_default (internal, parent, buf));
}

GstFlowReturn
OutputPads::chain_list (GstPad *internal, GstObject *parent, GstBufferList *list)
{
  /* rare here (depayloaders and parsers push buffers): one at a time keeps one rule */
  GstFlowReturn ret = GST_FLOW_OK;
  guint n = gst_buffer_list_length (list);
  for (guint i = 0; i < n && ret == GST_FLOW_OK; i++)
    ret = chain (internal, parent, gst_buffer_ref (gst_buffer_list_get (list, i)));
  gst_buffer_list_unref (list);
  return ret;
}

gboolean
OutputPads::event (GstPad *internal, GstObject *parent, GstEvent *event)
{
  Pad *p = from_internal (internal);
  OutputPads *self = p->owner;
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
      /* ours, once: the same stream id and group whatever attempt is behind the pad */
      if (!p->sent_stream_start)
        self->send_stream_start (*p);
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_FLUSH_START:
    case GST_EVENT_FLUSH_STOP:
      gst_event_unref (event);   /* a dying attempt's; downstream keeps its data */
      return TRUE;
    case GST_EVENT_EOS:
      if (!p->allow_eos.load ()) {
        gst_event_unref (event);
        return TRUE;
      }
      break;
    case GST_EVENT_SEGMENT: {
      if (!p->sent_stream_start)
        self->send_stream_start (*p);
      const GstSegment *seg = nullptr;
      gst_event_parse_segment (event, &seg);
      /* every attempt's jitter buffer starts the same live segment, only its position
       * (the first packet's time) differs: a new segment downstream would make encoders
       * drain and muxers start over, so only one that changes anything else goes on */
      GstSegment same;
      gst_segment_copy_into (seg, &same);
      same.position = p->segment.position;
      if (p->have_segment && gst_segment_is_equal (&p->segment, &same)) {
        gst_event_unref (event);
        return TRUE;
      }
      gst_segment_copy_into (seg, &p->segment);
      p->have_segment = true;
      break;
    }
    case GST_EVENT_CAPS: {
      if (!p->sent_stream_start)
        self->send_stream_start (*p);
      GstCaps *caps = nullptr;
      gst_event_parse_caps (event, &caps);
      /* Decoded video described as the pad first described it. Decoders of different
       * techs describe the same picture differently: vp8dec says nothing of colorimetry
       * and chroma siting, avdec_h264 (HLS) gives them and "mono" multiview; an encoder
       * downstream takes such a caps change for a new stream header (x264enc writes a new
       * SPS), which a muxer refuses. Where the pad's first caps said what these are, a new
       * attempt's video is converted to that (conform_decoded_video); where they said
       * nothing, nothing is said now either. */
      if (p->caps && gst_caps_get_size (caps) == 1 && gst_caps_get_size (p->caps) == 1 &&
          gst_structure_has_name (gst_caps_get_structure (caps, 0), "video/x-raw") &&
          gst_structure_has_name (gst_caps_get_structure (p->caps, 0), "video/x-raw")) {
        const GstStructure *first = gst_caps_get_structure (p->caps, 0);
        GstCaps *described = gst_caps_copy (caps);
        GstStructure *d = gst_caps_get_structure (described, 0);
        for (const char *field : { "colorimetry", "chroma-site", "multiview-mode",
                 "multiview-flags" }) {
          if (const GValue *v = gst_structure_get_value (first, field))
            gst_structure_set_value (d, field, v);
          else
            gst_structure_remove_field (d, field);
        }
        GstEvent *replaced = gst_event_new_caps (described);
        gst_event_set_seqnum (replaced, gst_event_get_seqnum (event));
        gst_caps_unref (described);
        gst_event_unref (event);
        event = replaced;
        gst_event_parse_caps (event, &caps);
      }
      if (p->caps && gst_caps_is_equal (p->caps, caps)) {
        gst_event_unref (event);
        return TRUE;
      }
      const char *was = p->caps ? gst_structure_get_name (gst_caps_get_structure (p->caps, 0))
                                : nullptr;
      const char *now = gst_structure_get_name (gst_caps_get_structure (caps, 0));
      if (was && g_strcmp0 (was, now) != 0) {
        /* another tech, another codec (decode=false): a muxer downstream may refuse it */
        GST_WARNING_OBJECT (p->pad, "codec changed from %s to %s", was, now);
        event_post (self->element_, event_new (event::MEDIA_CODEC_CHANGED, "kind",
            G_TYPE_STRING, medium_name (p->medium), "from", G_TYPE_STRING, was, "to",
            G_TYPE_STRING, now, NULL));
      }
      GST_INFO_OBJECT (p->pad, "caps %" GST_PTR_FORMAT, caps);
      gst_caps_replace (&p->caps, caps);
      {
        std::lock_guard<std::mutex> guard (self->lock_);
        if (p->stream)
          gst_stream_set_caps (p->stream, caps);
      }
      break;
    }
    default:
      break;
  }
  return gst_pad_push_event (p->pad, event);
}

/* ---- EOS, queries ------------------------------------------------------------------ */

namespace {
struct EosCall {
  OutputPads *self;
  std::function<void ()> then;
};
}  // namespace

void
OutputPads::push_eos (std::function<void ()> then)
{
  gst_element_call_async (element_, [] (GstElement *, gpointer data) {
    auto *call = static_cast<EosCall *> (data);
    OutputPads *self = call->self;
    std::vector<Pad *> fresh;
    {
      std::lock_guard<std::mutex> guard (self->lock_);
      for (Pad *p : { &self->video_, &self->audio_ }) {
        p->allow_eos = true;
        if (!p->added) {
          p->added = true;
          fresh.push_back (p);
        }
      }
    }
    /* a sink waiting on a pad that never carried media (gst-launch-1.0 -e) must hear EOS
     * too: such a pad is created for it */
    for (Pad *p : fresh) {
      gst_pad_set_active (p->pad, TRUE);
      gst_element_add_pad (self->element_, p->pad);
      self->send_stream_start (*p);
      GstSegment segment;
      gst_segment_init (&segment, GST_FORMAT_TIME);
      gst_pad_push_event (p->pad, gst_event_new_segment (&segment));
    }
    if (!fresh.empty ()) {
      std::lock_guard<std::mutex> guard (self->lock_);
      self->completed_ = true;
    }
    if (!fresh.empty ())
      gst_element_no_more_pads (self->element_);
    GST_INFO_OBJECT (self->element_, "EOS out of our pads");
    for (Pad *p : { &self->video_, &self->audio_ })
      gst_pad_push_event (p->pad, gst_event_new_eos ());
    if (call->then)
      call->then ();
  }, new EosCall { this, std::move (then) }, [] (gpointer data) {
    delete static_cast<EosCall *> (data);
  });
}

bool
OutputPads::query_latency (GstQuery *query)
{
  gboolean live_all = FALSE;
  GstClockTime min_all = 0, max_all = GST_CLOCK_TIME_NONE;
  bool answered = false;
  for (Pad *p : { &video_, &audio_ }) {
    GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (p->pad));
    if (!target)
      continue;
    GstQuery *q = gst_query_new_latency ();
    if (gst_pad_query (target, q)) {
      gboolean live;
      GstClockTime min, max;
      gst_query_parse_latency (q, &live, &min, &max);
      answered = true;
      live_all |= live;
      min_all = MAX (min_all, min);
      if (GST_CLOCK_TIME_IS_VALID (max))
        max_all = GST_CLOCK_TIME_IS_VALID (max_all) ? MIN (max_all, max) : max;
    }
    gst_query_unref (q);
    gst_object_unref (target);
  }
  if (answered)
    gst_query_set_latency (query, live_all, min_all, max_all);
  return answered;
}

std::vector<std::string>
OutputPads::unlinked ()
{
  std::vector<std::string> out;
  std::lock_guard<std::mutex> guard (lock_);
  for (Pad *p : { &video_, &audio_ })
    if (p->added && !gst_pad_is_linked (p->pad))
      out.emplace_back (medium_name (p->medium));
  return out;
}

guint64
OutputPads::dropped () const
{
  return video_.dropped.load () + audio_.dropped.load ();
}

}  // namespace red5pro
