/* red5pro-peer-media: the media out of an attempt's webrtcbin (streaming threads): the
 * edge's DTLS certificate checked against its SDP before anything leaves, each track's
 * depayload/parse/decode chain and its pad out of the attempt's bin, and the probes that say
 * when media arrives (the network's heartbeat) and when it leaves (media flows). */
#include "red5pro-peer.h"
#include "red5pro-codecs.h"
#include "red5pro-events.h"
#include "red5pro-chain.h"
#include "red5pro-output.h"

#include <gst/sdp/sdp.h>

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

namespace {
/* consecutive packets after which a jitter buffer starts, before its latency elapsed */
constexpr guint FASTSTART_PACKETS = 5;
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
    chain = make_output_chain (caps, cfg_.decode, &unsupported);
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
  self->bytes_ += size;
  self->last_media_ = g_get_monotonic_time ();
  return GST_PAD_PROBE_OK;
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
Peer::on_new_jitterbuffer_cb (GstElement *, GstElement *jitterbuffer, guint, guint ssrc,
    gpointer data)
{
  auto self = lock_weak<Peer> (data);
  if (!self)
    return;
  /* webrtcbin 1.22 gives every jitter buffer of a bundle the NACK setting of the last
   * m-line it looks at (the audio's, off); the video's is ours to put back */
  DescriptionPtr remote = self->remote_description ();
  if (remote && g_strcmp0 (kind_of_ssrc (remote->sdp, ssrc), "video") == 0)
    g_object_set (jitterbuffer, "do-retransmission", TRUE, NULL);
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
