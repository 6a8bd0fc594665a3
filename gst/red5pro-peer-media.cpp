/* red5pro-peer-media: the media out of an attempt's webrtcbin (streaming threads): the
 * edge's DTLS certificate checked against its SDP before anything leaves, each track's
 * depayload/parse/decode chain and its pad out of the attempt's bin, and the probes that say
 * when media arrives (the network's heartbeat) and when it leaves (media flows). */
#include "red5pro-peer.h"
#include "red5pro-codecs.h"
#include "red5pro-events.h"
#include "red5pro-chain.h"
#include "red5pro-output.h"

#include <gst/rtp/rtp.h>
#include <gst/video/video.h>
#include <gst/sdp/sdp.h>

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

namespace {
/* consecutive packets after which a jitter buffer starts, before its latency elapsed */
constexpr guint FASTSTART_PACKETS = 5;
/* the shortest time between two key-frame requests (on_keyframe_request_cb) */
constexpr gint64 KEYFRAME_REQUEST_GAP_US = 500 * 1000;
/* the least RTP session bandwidth (bits/s) we tell the RTP session (session_bandwidth) */
constexpr double MIN_SESSION_BANDWIDTH = 500000;
}  // namespace

/* ---- media pads (streaming threads) ---------------------------------------------------- */

/* The edge's DTLS certificate against the a=fingerprint of its description, which
 * webrtcbin does not compare: without it a man in the middle would go unnoticed. Empty when
 * they match. */
std::string
Peer::check_fingerprint (GstPad *pad)
{
  g_autoptr (GstWebRTCRTPTransceiver) trans = nullptr;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (pad), "transceiver"))
    g_object_get (pad, "transceiver", &trans, NULL);
  g_autoptr (GstWebRTCRTPReceiver) receiver = nullptr;
  if (trans)
    g_object_get (trans, "receiver", &receiver, NULL);
  g_autoptr (GstWebRTCDTLSTransport) dtls = nullptr;
  if (receiver)
    g_object_get (receiver, "transport", &dtls, NULL);
  g_autofree gchar *pem = nullptr;
  if (dtls)
    g_object_get (dtls, "remote-certificate", &pem, NULL);
  DescriptionPtr remote = remote_description ();
  if (!pem || !remote)
    return "no DTLS certificate from the edge to check";
  const char *fp = gst_sdp_message_get_attribute_val (remote->sdp, "fingerprint");
  for (guint i = 0; !fp && i < gst_sdp_message_medias_len (remote->sdp); i++)
    fp = gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (remote->sdp, i),
        "fingerprint");
  g_auto (GStrv) parts = g_strsplit (fp ? fp : "", " ", 2);
  if (!parts[0] || !parts[1])
    return "the edge's SDP has no a=fingerprint";
  g_autofree gchar *algo = g_ascii_strdown (parts[0], -1);
  GChecksumType type;
  if (g_str_equal (algo, "sha-256"))
    type = G_CHECKSUM_SHA256;
  else if (g_str_equal (algo, "sha-1"))
    type = G_CHECKSUM_SHA1;
  else if (g_str_equal (algo, "sha-384"))
    type = G_CHECKSUM_SHA384;
  else if (g_str_equal (algo, "sha-512"))
    type = G_CHECKSUM_SHA512;
  else
    return std::string ("the edge's fingerprint uses an unknown hash: ") + parts[0];
  g_autoptr (GError) err = nullptr;
  g_autoptr (GTlsCertificate) cert = g_tls_certificate_new_from_pem (pem, -1, &err);
  g_autoptr (GByteArray) der = nullptr;
  if (cert)
    g_object_get (cert, "certificate", &der, NULL);
  if (!der)
    return "the edge's DTLS certificate does not parse";
  g_autoptr (GChecksum) sum = g_checksum_new (type);
  g_checksum_update (sum, der->data, der->len);
  guint8 digest[64];
  gsize len = sizeof digest;
  g_checksum_get_digest (sum, digest, &len);
  std::string computed;
  for (gsize i = 0; i < len; i++) {
    char hex[4];
    g_snprintf (hex, sizeof hex, "%s%02X", i ? ":" : "", digest[i]);
    computed += hex;
  }
  g_strstrip (parts[1]);
  if (g_ascii_strcasecmp (computed.c_str (), parts[1]) != 0)
    return "the edge's DTLS certificate does not match the fingerprint in its SDP";
  return {};
}

void
Peer::on_pad_added (GstPad *pad)
{
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  std::unique_lock<std::mutex> guard (pads_lock_);
  if (stopped_)
    return;

  g_autoptr (GstCaps) caps = pad_caps (pad);
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  const char *media = s ? gst_structure_get_string (s, "media") : nullptr;
  const char *encoding = s ? gst_structure_get_string (s, "encoding-name") : nullptr;
  bool video = g_strcmp0 (media, "video") == 0;
  bool audio = g_strcmp0 (media, "audio") == 0;
  const char *kind = video ? "video" : audio ? "audio" : "other";
  GST_INFO_OBJECT (element_, "webrtcbin pad %s: %" GST_PTR_FORMAT, GST_PAD_NAME (pad), caps);
  events_.post (event_new (event::PEER_CONNECTION_ON_TRACK, "kind", G_TYPE_STRING, kind,
      "encoding-name", G_TYPE_STRING, encoding ? encoding : "", NULL));

  bool wanted = (video && !have_video_ && !cfg_.video_codecs.empty ()) ||
      (audio && !have_audio_ && !cfg_.audio_codecs.empty ());
  /* before any media leaves: the first pad comes once DTLS is up */
  if (!fingerprint_checked_) {
    fingerprint_checked_ = true;
    std::string bad = check_fingerprint (pad);
    GST_INFO_OBJECT (element_, "attempt %u: DTLS certificate against the SDP fingerprint: %s",
        attempt_, bad.empty () ? "match" : bad.c_str ());
    if (!bad.empty ()) {
      fingerprint_bad_ = true;
      on_worker ([bad] (Peer &self) {
        self.events_.failed (Failure (Failure::Kind::CERTIFICATE, bad));
      });
    }
  }
  wanted = wanted && !fingerprint_bad_;
  std::vector<GstElement *> chain;
  if (wanted) {
    std::string unsupported;
    chain = make_output_chain (caps, cfg_.decode, cfg_.request_keyframes, &unsupported);
    if (!chain.empty () && cfg_.decode && video)
      conform_decoded_video (chain, element_);
    if (chain.empty ()) {
      /* another edge would send the same codec: the end, with its name */
      on_worker ([unsupported] (Peer &self) {
        self.events_.failed (Failure (Failure::Kind::UNSUPPORTED, unsupported));
      });
    }
  }
  if (chain.empty ()) {
    /* a stream we do not expose: swallowed, so that webrtcbin is not not-linked */
    chain.push_back (make_swallow_sink ());
    wanted = false;
  }
  GstObjectPtr<GstPad> tail { plug_chain (bin_.get (), pad, chain) };
  if (!wanted)
    return;
  if (video) {
    /* frames into the depayloader and out of it: what it could not complete (counters) */
    GstObjectPtr<GstPad> in { gst_element_get_static_pad (chain.front (), "sink") };
    GstObjectPtr<GstPad> out { gst_element_get_static_pad (chain.front (), "src") };
    for (auto probe : { std::make_pair (in.get (), on_frame_in_cb),
             std::make_pair (out.get (), on_frame_out_cb) })
      if (probe.first)
        gst_pad_add_probe (probe.first, GstPadProbeType (GST_PAD_PROBE_TYPE_BUFFER |
                GST_PAD_PROBE_TYPE_BUFFER_LIST), probe.second, weak_data (),
            [] (gpointer d) { free_weak<Peer> (d); });
    if (in)
      gst_pad_add_probe (in.get (), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_keyframe_request_cb,
          weak_data (), [] (gpointer d) { free_weak<Peer> (d); });
  }

  GstPad *ghost = gst_ghost_pad_new (kind, tail.get ());
  /* media flows when buffers leave the chain, not when RTP arrives: a stream we could
   * not turn into buffers must not count as a subscription */
  gst_pad_add_probe (ghost, GstPadProbeType (GST_PAD_PROBE_TYPE_BUFFER |
          GST_PAD_PROBE_TYPE_BUFFER_LIST), on_output_cb, weak_data (),
      [] (gpointer d) { free_weak<Peer> (d); });
  gst_pad_set_active (ghost, TRUE);
  gst_element_add_pad (GST_ELEMENT (bin_.get ()), ghost);
  (video ? have_video_ : have_audio_) = true;
  guard.unlock ();
  /* no lock of ours while the element puts it behind its pad (pad-added runs the
   * application's code) */
  events_.media_pad (ghost);
  events_.post (event_new (event::ADD_STREAM, "kind", G_TYPE_STRING, kind, NULL));
}

GstPadProbeReturn
Peer::on_rtp_cb (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto self = lock_weak<Peer> (data);
  if (!self)
    return GST_PAD_PROBE_OK;
  guint64 size = 0, n = 1;
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    n = gst_buffer_list_length (list);
    size = gst_buffer_list_calculate_size (list);
  } else {
    size = gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info));
  }
  self->packets_ += n;
  guint64 bytes = self->bytes_ += size;
  gint64 now = g_get_monotonic_time ();
  self->last_media_ = now;
  /* once a second: the RTP session's bandwidth is what arrives (session_bandwidth) */
  gint64 since = self->bandwidth_sampled_.load ();
  if (since == 0) {
    self->bandwidth_sampled_ = now;
    self->bandwidth_bytes_ = bytes;
  } else if (now - since >= G_USEC_PER_SEC &&
      self->bandwidth_sampled_.compare_exchange_strong (since, now)) {
    double bps = double (bytes - self->bandwidth_bytes_.exchange (bytes)) * 8 * G_USEC_PER_SEC /
        double (now - since);
    self->on_worker ([bps] (Peer &peer) { peer.session_bandwidth (bps); });
  }
  return GST_PAD_PROBE_OK;
}

/* RTCP feedback in time (issue 19). The RTP session follows RFC 4585: after an early RTCP
 * packet (a NACK, a PLI) the next may only go T_rr later, with the next regular report,
 * and T_rr follows the session's RTCP share, 5 % of its bandwidth (RFC 3550, 6.2). A
 * receiver that sends nothing leaves that bandwidth at GStreamer's guess, which gave T_rr
 * of 0.2-0.9 s: a second NACK (a retry, or a loss right after another) went out too late
 * for the jitter buffer (measured: retransmissions arrived 140-180 ms after the request on
 * a 40 ms RTT, and frames froze). The session's bandwidth is what arrives, measured each
 * second, and at least 500 kbit/s: T_rr about 40 ms, for about 19 kbit/s of receiver
 * reports (at the 160 kbit/s the test stream measures, the 5 % of the stream alone gave
 * T_rr about 130 ms: at 10 % loss 92 % of the frames shown, against 100 % with the
 * floor). Browsers send NACKs at once, outside these rules. Worker. */
void
Peer::session_bandwidth (double bits_per_second)
{
  GObjectPtr<GObject> session;
  {
    std::lock_guard<std::mutex> guard (pads_lock_);
    if (rtp_session_)
      session.reset (G_OBJECT (g_object_ref (rtp_session_.get ())));
  }
  if (session && bits_per_second > 0)
    g_object_set (session.get (), "bandwidth", MAX (MIN_SESSION_BANDWIDTH, bits_per_second),
        NULL);
}

/* Video RTP into the depayloader: a new RTP timestamp is a new frame. Streaming thread. */
GstPadProbeReturn
Peer::on_frame_in_cb (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto self = lock_weak<Peer> (data);
  if (!self)
    return GST_PAD_PROBE_OK;
  auto count = [&self] (GstBuffer *buf) -> gboolean {
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
      return TRUE;
    guint32 ts = gst_rtp_buffer_get_timestamp (&rtp);
    gst_rtp_buffer_unmap (&rtp);
    if (!self->have_rtp_time_ || ts != self->last_rtp_time_)
      self->frames_in_++;
    self->have_rtp_time_ = true;
    self->last_rtp_time_ = ts;
    return TRUE;
  };
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    gst_buffer_list_foreach (GST_PAD_PROBE_INFO_BUFFER_LIST (info),
        [] (GstBuffer **buf, guint, gpointer fn) -> gboolean {
          return (*static_cast<decltype (count) *> (fn)) (*buf);
        }, &count);
  else
    count (GST_PAD_PROBE_INFO_BUFFER (info));
  return GST_PAD_PROBE_OK;
}

/* Key-frame requests (the depayloader's on a loss, the decoder's on a broken frame) on
 * their way to the RTP session, which sends each as a PLI: one per KEYFRAME_REQUEST_GAP.
 * A key frame takes a round trip and an encode to come, and every request makes the
 * publisher send one, far larger than a delta frame: under a bandwidth cap the requests
 * of every loss (141 in 20 s, measured) filled the link with key frames. */
GstPadProbeReturn
Peer::on_keyframe_request_cb (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  if (!gst_video_event_is_force_key_unit (GST_PAD_PROBE_INFO_EVENT (info)))
    return GST_PAD_PROBE_OK;
  auto self = lock_weak<Peer> (data);
  if (!self)
    return GST_PAD_PROBE_OK;
  gint64 now = g_get_monotonic_time (), last = self->last_keyframe_request_.load ();
  if (last && now - last < KEYFRAME_REQUEST_GAP_US)
    return GST_PAD_PROBE_DROP;
  self->last_keyframe_request_ = now;
  return GST_PAD_PROBE_OK;
}

/* Frames out of the video depayloader (one buffer each). Streaming thread. */
GstPadProbeReturn
Peer::on_frame_out_cb (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  if (auto self = lock_weak<Peer> (data))
    self->frames_out_ += (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER_LIST)
        ? gst_buffer_list_length (GST_PAD_PROBE_INFO_BUFFER_LIST (info)) : 1;
  return GST_PAD_PROBE_OK;
}

/* What the network cost and what was done about it: frames the depayloader could not
 * complete (the one it is assembling aside), the video jitter buffer's retransmission
 * requests and what came back of them (every jitter buffer's: audio asks for none), and the key frames the RTP session asked for (PLI,
 * FIR). Any thread. */
MediaCounters
Peer::counters ()
{
  MediaCounters c;
  guint64 out = frames_out_.load (), in = frames_in_.load ();
  c.frames_dropped = in > out + 1 ? in - out - 1 : 0;
  std::vector<GstObjectPtr<GstElement>> jitterbuffers;
  GObjectPtr<GObject> session;
  {
    std::lock_guard<std::mutex> guard (pads_lock_);
    for (auto &jb : jitterbuffers_)
      jitterbuffers.emplace_back (GST_ELEMENT (gst_object_ref (jb.get ())));
    if (rtp_session_)
      session.reset (G_OBJECT (g_object_ref (rtp_session_.get ())));
  }
  /* every jitter buffer's (audio asks for nothing) */
  for (auto &jb : jitterbuffers) {
    GstStructure *st = nullptr;
    g_object_get (jb.get (), "stats", &st, NULL);
    guint64 requested = 0, received = 0;
    if (st) {
      gst_structure_get_uint64 (st, "rtx-count", &requested);
      gst_structure_get_uint64 (st, "rtx-success-count", &received);
      gst_structure_free (st);
    }
    c.retransmissions_requested += requested;
    c.retransmissions_received += received;
  }
  if (session) {
    GstStructure *st = nullptr;
    g_object_get (session.get (), "stats", &st, NULL);
    const GValue *sources = st ? gst_structure_get_value (st, "source-stats") : nullptr;
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    GValueArray *arr = sources && G_VALUE_HOLDS (sources, g_value_array_get_type ())
        ? static_cast<GValueArray *> (g_value_get_boxed (sources)) : nullptr;
    for (guint i = 0; arr && i < arr->n_values; i++) {
      const GValue *v = g_value_array_get_nth (arr, i);
      const GstStructure *src = GST_VALUE_HOLDS_STRUCTURE (v) ? gst_value_get_structure (v)
                                                             : nullptr;
      gboolean internal = FALSE;
      guint pli = 0, fir = 0;
      if (!src || (gst_structure_get_boolean (src, "internal", &internal) && internal))
        continue;
      gst_structure_get_uint (src, "sent-pli-count", &pli);
      gst_structure_get_uint (src, "sent-fir-count", &fir);
      c.keyframes_requested += pli + fir;
    }
    G_GNUC_END_IGNORE_DEPRECATIONS
    if (st)
      gst_structure_free (st);
  }
  return c;
}

GstPadProbeReturn
Peer::on_output_cb (GstPad *, GstPadProbeInfo *, gpointer data)
{
  auto self = lock_weak<Peer> (data);
  if (self && !self->media_out_.exchange (true))
    self->events_.media_out ();
  return GST_PAD_PROBE_REMOVE;
}

void
Peer::on_new_jitterbuffer_cb (GstElement *, GstElement *jitterbuffer, guint session_id,
    guint ssrc,
    gpointer data)
{
  auto self = lock_weak<Peer> (data);
  if (!self)
    return;
  /* webrtcbin 1.22 gives every jitter buffer of a bundle the NACK setting of the last
   * m-line it looks at (the audio's, off); the video's is ours to put back */
  DescriptionPtr remote = self->remote_description ();
  if (!self->cfg_.retransmission)
    g_object_set (jitterbuffer, "do-retransmission", FALSE, NULL);
  else if (remote && g_strcmp0 (kind_of_ssrc (remote->sdp, ssrc), "video") == 0)
    g_object_set (jitterbuffer, "do-retransmission", TRUE, NULL);
  /* capture times (NTP, from the sender reports) on every buffer: frames from two edges
   * are matched by them (the standby), an upgrade waits for them (red5pro-switch) */
  if (self->cfg_.capture_times)
    g_object_set (jitterbuffer, "add-reference-timestamp-meta", TRUE, NULL);
  {
    std::lock_guard<std::mutex> guard (self->pads_lock_);
    self->jitterbuffers_.emplace_back (GST_ELEMENT (gst_object_ref (jitterbuffer)));
  }
  /* the RTP session of this jitter buffer (one with BUNDLE): its RTCP timing follows its
   * bandwidth (session_bandwidth) */
  GObject *session = nullptr;
  if (GstObjectPtr<GstObject> rtpbin { gst_object_get_parent (GST_OBJECT (jitterbuffer)) })
    g_signal_emit_by_name (rtpbin.get (), "get-internal-session", session_id, &session);
  if (session) {
    std::lock_guard<std::mutex> guard (self->pads_lock_);
    if (!self->rtp_session_)
      g_object_set (session, "bandwidth", MIN_SESSION_BANDWIDTH, NULL);
    self->rtp_session_.reset (session);
  }
  /* Start as soon as a few packets came in order, instead of after the whole latency: a
   * browser shows the first frame that early too. The latency stays what the jitter buffer
   * waits for a missing packet, so a lossy network is as well off as before. */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (jitterbuffer), "faststart-min-packets"))
    g_object_set (jitterbuffer, "faststart-min-packets", FASTSTART_PACKETS, NULL);
  GstObjectPtr<GstPad> sink { gst_element_get_static_pad (jitterbuffer, "sink") };
  if (sink)
    gst_pad_add_probe (sink.get (), GstPadProbeType (GST_PAD_PROBE_TYPE_BUFFER |
            GST_PAD_PROBE_TYPE_BUFFER_LIST), on_rtp_cb, self->weak_data (),
        [] (gpointer d) { free_weak<Peer> (d); });
}

}  // namespace red5pro
