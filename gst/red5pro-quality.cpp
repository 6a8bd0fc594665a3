/* red5pro-quality: webrtcbin's inbound-rtp statistics as network quality per medium. */
#include "red5pro-quality.h"

#include <gst/webrtc/webrtc.h>

namespace red5pro {

GstStructure *
NetworkQuality::to_structure () const
{
  return gst_structure_new ("network",
      "packets-received", G_TYPE_UINT64, packets_received,
      "packets-lost", G_TYPE_INT64, packets_lost,
      "fraction-lost", G_TYPE_DOUBLE, fraction_lost,
      "jitter-ms", G_TYPE_DOUBLE, jitter_ms,
      "bitrate", G_TYPE_UINT64, bitrate,
      "nack-count", G_TYPE_UINT, nack_count,
      "pli-count", G_TYPE_UINT, pli_count,
      "fir-count", G_TYPE_UINT, fir_count, NULL);
}

/* the RTP clock rate of an inbound-rtp entry, 0 when its RTP source does not say */
static gint
clock_rate_of (const GstStructure *in)
{
  const GValue *src = gst_structure_get_value (in, "gst-rtpsource-stats");
  gint clock_rate = 0;
  if (!src || !GST_VALUE_HOLDS_STRUCTURE (src) ||
      !gst_structure_get_int (gst_value_get_structure (src), "clock-rate", &clock_rate))
    return 0;
  return MAX (0, clock_rate);
}

void
inbound_rtp_by_kind (const GstStructure *stats, const GstStructure *inbound[2])
{
  /* per kind, the stream with the most packets: a retransmission stream (RTX, its own SSRC
   * at the same clock rate) has an inbound-rtp entry of its own too */
  guint64 most[2] = { 0, 0 };
  inbound[0] = inbound[1] = nullptr;
  for (gint i = 0; i < gst_structure_n_fields (stats); i++) {
    const GValue *v = gst_structure_get_value (stats, gst_structure_nth_field_name (stats, i));
    if (!GST_VALUE_HOLDS_STRUCTURE (v))
      continue;
    const GstStructure *in = gst_value_get_structure (v);
    GstWebRTCStatsType type;
    if (!gst_structure_get (in, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL) ||
        type != GST_WEBRTC_STATS_INBOUND_RTP)
      continue;
    /* webrtcbin 1.22 labels every stream of a bundle with the "kind" of the pad it was
     * asked through; the RTP clock rate tells: video is 90 kHz, audio its sample rate */
    gint clock_rate = clock_rate_of (in);
    if (clock_rate <= 0)
      continue;
    guint64 packets = 0;
    gst_structure_get_uint64 (in, "packets-received", &packets);
    int kind = clock_rate == 90000 ? 0 : 1;
    if (!inbound[kind] || packets > most[kind]) {
      inbound[kind] = in;
      most[kind] = packets;
    }
  }
}

gint64
inbound_packets_lost (const GstStructure *in)
{
  /* the RTP source's own count (RFC 3550: expected - received); the inbound one comes
   * from a jitter buffer webrtcbin 1.22 may have mixed up in a bundle */
  const GValue *src = gst_structure_get_value (in, "gst-rtpsource-stats");
  gint lost = 0;
  if (src && GST_VALUE_HOLDS_STRUCTURE (src) &&
      gst_structure_get_int (gst_value_get_structure (src), "packets-lost", &lost))
    return MAX (0, lost);
  return 0;
}

/* The inbound-rtp entries of a get-stats reply, with rates over the time since the last. */
void
update_quality (NetworkQuality quality[2], const GstStructure *stats, gint64 now)
{
  const GstStructure *inbound[2];
  inbound_rtp_by_kind (stats, inbound);
  NetworkQuality best[2];
  for (int kind = 0; kind < 2; kind++) {
    const GstStructure *in = inbound[kind];
    if (!in)
      continue;
    NetworkQuality &q = best[kind];
    q.valid = true;
    q.sampled = now;
    double jitter = 0;
    gst_structure_get_uint64 (in, "packets-received", &q.packets_received);
    q.packets_lost = inbound_packets_lost (in);
    gst_structure_get_uint64 (in, "bytes-received", &q.bytes_received);
    if (gst_structure_get_double (in, "jitter", &jitter))
      q.jitter_ms = jitter * 1000;
    gst_structure_get_uint (in, "nack-count", &q.nack_count);
    gst_structure_get_uint (in, "pli-count", &q.pli_count);
    gst_structure_get_uint (in, "fir-count", &q.fir_count);
  }
  for (int kind = 0; kind < 2; kind++) {
    NetworkQuality q = best[kind];
    NetworkQuality &last = quality[kind];
    if (!q.valid)
      continue;
    if (last.valid && now > last.sampled) {
      guint64 got = q.packets_received - MIN (q.packets_received, last.packets_received);
      gint64 lost_now = MAX (0, q.packets_lost - last.packets_lost);
      q.fraction_lost = got + lost_now ? double (lost_now) / double (got + lost_now) : 0;
      q.bitrate = (q.bytes_received - MIN (q.bytes_received, last.bytes_received)) * 8 *
          G_USEC_PER_SEC / guint64 (now - last.sampled);
    }
    last = q;
  }
}

}  // namespace red5pro
