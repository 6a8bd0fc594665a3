/* red5pro-output: the element's "video" and "audio" source pads, which outlive every
 * attempt. Owns what downstream sees of them: one stream per pad across rebuilds (our own
 * stream-start with a stream id per pad, the stream collection, caps and segment only when
 * they change, no flush or EOS from a dying attempt, a key frame first after a rebuild),
 * no-more-pads, flow combining between the pads, decoding times, and EOS. */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstflowcombiner.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace red5pro {

enum class Medium { VIDEO = 0, AUDIO = 1 };
const char *medium_name (Medium m);
/* When buf was captured, as the sender's RTCP reports tell (the jitter buffer's reference
 * timestamp meta, timestamp/x-ntp, with capture times on); NONE without. */
GstClockTime capture_time (GstBuffer *buf);

class OutputPads {
public:
  /* templates: the element's "video" and "audio" pad templates */
  OutputPads (GstElement *element, GstStaticPadTemplate *video, GstStaticPadTemplate *audio);
  ~OutputPads ();
  OutputPads (const OutputPads &) = delete;
  OutputPads &operator= (const OutputPads &) = delete;

  /* READY→PAUSED: a new stream-start cycle: a group id, stream ids from the URI. */
  void prepare ();
  /* PAUSED→READY: attempts' pads taken away; stream-start, caps, segment, the expected
   * media and no-more-pads forgotten. The pads themselves stay (a pipeline linked to
   * them plays again without relinking). */
  void reset ();

  /* Streaming thread: the attempt's pad for m goes behind ours, ours is added to the
   * element (pad-added) the first time. After a rebuild, video waits for a key frame and
   * one is asked for upstream (unless at_key_frame: the attempt's next buffer is one).
   * Returns true when our pad was added now. */
  bool attach (Medium m, GstPad *attempt_pad, bool at_key_frame = false,
      GstClockTimeDiff offset = 0);
  /* Worker: every attempt's pad taken away (teardown). */
  void detach_all ();
  /* The attempt's pad behind ours (a reference), or nullptr. Any thread. */
  GstPad *target (Medium m);
  /* The time of the last buffer out of our pad for m, NONE before the first. Any thread. */
  GstClockTime last_pts (Medium m) { return pad (m).sent_pts.load (); }
  /* The capture time of that buffer (capture_time()), NONE when it had none. */
  GstClockTime last_capture (Medium m) { return pad (m).sent_capture.load (); }

  /* Which media the negotiation says will come. Once every expected pad exists (or is
   * declared unavailable) no-more-pads is emitted and the stream collection of the exposed
   * pads is posted and sent downstream; later calls change nothing until reset(). */
  void expect (bool video, bool audio);
  /* A medium that will not come after all (refused by the server, never arrived). True
   * when that changed anything. */
  bool unavailable (Medium m);
  /* The expected media that have no pad yet (after expect(); empty before). */
  std::vector<Medium> missing ();
  bool has_pad (Medium m);

  /* EOS out of both pads, creating a pad that never carried media, so that a muxer waiting
   * on it can finish; from a thread of its own (gst_element_call_async), never the caller's:
   * EOS is serialized and may wait behind a full queue downstream. */
  void push_eos (std::function<void ()> then = {});

  /* A LATENCY query answered through the attempts behind our pads (the jitter buffers).
   * False when no pad has an attempt behind it. */
  bool query_latency (GstQuery *query);
  /* Names of our pads that exist but are not linked downstream. */
  std::vector<std::string> unlinked ();

  /* Real time (us) of the last buffer out of our pads; 0 before the first. */
  gint64 last_output_time () const { return last_output_.load (); }
  /* Delta frames dropped while waiting for a key frame after a rebuild. */
  guint64 dropped () const;
  /* Video frames out of the video pad, and the freezes between them: two frames further
   * apart than 3 frame intervals and 150 ms by their presentation times (frames missing:
   * lost, dropped until a key frame, a failover's hole), how many and their total. */
  guint64 video_frames () const { return video_.frames.load (); }
  guint freezes () const { return video_.freezes.load (); }
  GstClockTime frozen () const { return video_.frozen.load (); }

private:
  struct Pad {
    OutputPads *owner = nullptr;
    Medium medium = Medium::VIDEO;
    GstPad *pad = nullptr;          /* our ghost pad (a reference of ours) */
    GstStream *stream = nullptr;    /* lock_ */
    bool added = false;             /* lock_: on the element */
    bool expected = false;          /* lock_ */
    /* streaming thread from here on */
    bool sent_stream_start = false;
    bool have_segment = false;
    GstSegment segment;
    GstCaps *caps = nullptr;
    GstClockTime last_pts = GST_CLOCK_TIME_NONE;
    GstClockTime last_end = GST_CLOCK_TIME_NONE;   /* last_pts + its duration */
    std::atomic<bool> need_keyframe { false };
    std::atomic<bool> allow_eos { false };
    std::atomic<bool> collection_pending { false };
    std::atomic<guint64> dropped { 0 };
    std::atomic<guint64> frames { 0 };
    std::atomic<guint> freezes { 0 };
    std::atomic<GstClockTime> frozen { 0 };
    GstClockTime frame_interval = GST_CLOCK_TIME_NONE;   /* the stream's, estimated */
    std::atomic<GstClockTime> sent_pts { GST_CLOCK_TIME_NONE };   /* last_pts, for others */
    std::atomic<GstClockTime> sent_capture { GST_CLOCK_TIME_NONE };
    /* added to the times of the attempt's buffers behind this pad (a standby's, to go on
     * in our timeline from where the one before it stopped) */
    std::atomic<GstClockTimeDiff> offset { 0 };
  };

  Pad &pad (Medium m) { return m == Medium::VIDEO ? video_ : audio_; }
  void add_locked (Pad &p);
  void make_collection_locked ();
  /* no-more-pads and the collection when the set is complete; call without lock_ */
  void maybe_complete ();
  void send_stream_start (Pad &p);
  GstFlowReturn combine (Pad &p, GstFlowReturn ret);
  GstFlowReturn prepare_buffer (Pad &p, GstBuffer *&buf);
  static void count_frame (Pad &p, GstClockTime pts);

  static GstFlowReturn chain (GstPad *internal, GstObject *parent, GstBuffer *buf);
  static GstFlowReturn chain_list (GstPad *internal, GstObject *parent, GstBufferList *list);
  static gboolean event (GstPad *internal, GstObject *parent, GstEvent *event);
  static Pad *from_internal (GstPad *internal);

  GstElement *element_;   /* not owned: owns us */
  Pad video_;
  Pad audio_;
  std::mutex lock_;       /* the fields marked lock_, the collection, group id */
  guint group_id_ = 0;
  bool expected_known_ = false;
  bool completed_ = false;            /* no-more-pads emitted */
  GstStreamCollection *collection_ = nullptr;
  std::mutex flow_lock_;  /* combiner_, taken only on a flow other than OK */
  /* one pad-added at a time: webrtcbin exposes video and audio from two streaming threads,
   * and pad-added handlers are not all thread-safe (gst-launch's delayed links disconnect
   * themselves from inside the handler) */
  std::mutex expose_lock_;
  GstFlowCombiner *combiner_;
  std::atomic<gint64> last_output_ { 0 };
};

}  // namespace red5pro
