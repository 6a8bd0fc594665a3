/* red5pro-quality: the network quality of the media an attempt receives, read off
 * webrtcbin's statistics (get-stats), with rates over the time between two readings. */
#pragma once

#include <gst/gst.h>

namespace red5pro {

/* Network quality of one medium, from webrtcbin's statistics (inbound-rtp). */
struct NetworkQuality {
  bool valid = false;
  guint64 packets_received = 0;
  gint64 packets_lost = 0;
  double jitter_ms = 0;          /* interarrival jitter */
  guint64 bytes_received = 0;
  guint nack_count = 0;          /* NACKs, PLIs and FIRs we sent */
  guint pli_count = 0;
  guint fir_count = 0;
  double fraction_lost = 0;      /* over the last refresh interval */
  guint64 bitrate = 0;           /* bits/s over the last refresh interval */
  gint64 sampled = 0;            /* monotonic us */
  /* the fields as a structure named "network" */
  GstStructure *to_structure () const;
};

/* An attempt's video repairs (issue 19), summed over its life. */
struct MediaCounters {
  guint64 frames_dropped = 0;           /* frames that came in but could not be completed */
  guint64 retransmissions_requested = 0;   /* packets asked for again (the jitter buffer) */
  guint64 retransmissions_received = 0;    /* of those, how many came back in time */
  guint64 keyframes_requested = 0;      /* PLIs and FIRs sent */
  MediaCounters &operator+= (const MediaCounters &o)
  {
    frames_dropped += o.frames_dropped;
    retransmissions_requested += o.retransmissions_requested;
    retransmissions_received += o.retransmissions_received;
    keyframes_requested += o.keyframes_requested;
    return *this;
  }
};

/* quality[0] (video) and quality[1] (audio) from a get-stats reply taken at now (us). */
void update_quality (NetworkQuality quality[2], const GstStructure *stats, gint64 now);

/* The inbound-rtp entry of each medium in a get-stats reply: inbound[0] video, [1] audio
 * (nullptr when none), pointing into stats. The kind comes from the RTP clock rate, and a
 * retransmission stream's entry is not taken (see update_quality). */
void inbound_rtp_by_kind (const GstStructure *stats, const GstStructure *inbound[2]);
/* An inbound-rtp entry's packets lost, as its RTP source counts them (RFC 3550). */
gint64 inbound_packets_lost (const GstStructure *inbound);

}  // namespace red5pro
