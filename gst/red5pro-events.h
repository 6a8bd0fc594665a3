/* red5pro-events: subscriber event names (Red5 Pro SDK names, plus our lifecycle ones)
 * and how they reach the application: ELEMENT messages named "red5pro-event". */
#pragma once

#include <gst/gst.h>

namespace red5pro {
namespace event {

/* Common subscriber events (SDK names) */
constexpr const char *CONNECT_SUCCESS = "Connect.Success";
constexpr const char *CONNECT_FAILURE = "Connect.Failure";
constexpr const char *SUBSCRIBE_START = "Subscribe.Start";
constexpr const char *SUBSCRIBE_STOP = "Subscribe.Stop";
constexpr const char *SUBSCRIBE_FAIL = "Subscribe.Fail";
constexpr const char *SUBSCRIBE_INVALID_NAME = "Subscribe.InvalidName";
constexpr const char *SUBSCRIBE_METADATA = "Subscribe.Metadata";
constexpr const char *SUBSCRIBE_STATUS = "Subscribe.Status";
constexpr const char *SUBSCRIBE_SEND_INVOKE = "Subscribe.Send.Invoke";
constexpr const char *SUBSCRIBE_PLAY_UNPUBLISH = "Subscribe.Play.Unpublish";
constexpr const char *SUBSCRIBE_CONNECTION_CLOSED = "Subscribe.Connection.Closed";
constexpr const char *SUBSCRIBE_PUBLISHER_CONGESTION = "Subscribe.Publisher.NetworkCongestion";
constexpr const char *SUBSCRIBE_PUBLISHER_RECOVERY = "Subscribe.Publisher.NetworkRecovery";
constexpr const char *SUBSCRIBE_ORIENTATION_CHANGE = "Subscribe.Orientation.Change";
constexpr const char *SUBSCRIBE_DIMENSIONS_CHANGE = "Subscribe.VideoDimensions.Change";
constexpr const char *SUBSCRIBE_STREAMING_MODE_CHANGE = "Subscribe.StreamingMode.Change";
/* the server named another stats endpoint (endpoint, redacted) */
constexpr const char *SUBSCRIBE_STATISTICS_ENDPOINT_CHANGE = "Subscribe.StatisticsEndpoint.Change";

/* SDK 15's reconnect (its renegotiation), posted beside Red5Pro.Retry.Scheduled (reason)
 * and when an attempt that was a retry fails (error, reason) */
constexpr const char *RECONNECT_START = "Reconnect.Start";
constexpr const char *RECONNECT_FAILURE = "Reconnect.Failure";

/* WebRTC events (SDK names) */
constexpr const char *PEER_CONNECTION_AVAILABLE = "WebRTC.PeerConnection.Available";
constexpr const char *ENDPOINT_CHANGED = "WebRTC.Endpoint.Changed";
constexpr const char *OFFER_START = "WebRTC.Offer.Start";
constexpr const char *OFFER_END = "WebRTC.Offer.End";
constexpr const char *ANSWER_START = "WebRTC.Answer.Start";
constexpr const char *ANSWER_END = "WebRTC.Answer.End";
constexpr const char *CANDIDATE_START = "WebRTC.Candidate.Start";
constexpr const char *CANDIDATE_END = "WebRTC.Candidate.End";
constexpr const char *ICE_TRICKLE_COMPLETE = "WebRTC.IceTrickle.Complete";
constexpr const char *DATA_CHANNEL_AVAILABLE = "WebRTC.DataChannel.Available";
constexpr const char *DATA_CHANNEL_OPEN = "WebRTC.DataChannel.Open";
constexpr const char *DATA_CHANNEL_CLOSE = "WebRTC.DataChannel.Close";
constexpr const char *DATA_CHANNEL_ERROR = "WebRTC.DataChannel.Error";
constexpr const char *DATA_CHANNEL_MESSAGE = "WebRTC.DataChannel.Message";
constexpr const char *PEER_CONNECTION_ON_TRACK = "WebRTC.PeerConnection.OnTrack";
constexpr const char *ADD_STREAM = "WebRTC.Add.Stream";
/* the server confirmed a switchStreams (switch-stream): path */
constexpr const char *SUBSCRIBE_STREAM_SWITCH = "WebRTC.Subscribe.StreamSwitch";
/* stats reports (stats-interval): one per interval, or per started/ended action, with the
 * envelopes sent (count, reports: their JSON texts, endpoint) */
constexpr const char *STATS_REPORT = "WebRTC.Stats.Report";

/* gst-red5pro's own lifecycle events */
constexpr const char *EDGE_RESOLVED = "Red5Pro.Edge.Resolved";
constexpr const char *RETRY_SCHEDULED = "Red5Pro.Retry.Scheduled";
constexpr const char *RETRY_GAVE_UP = "Red5Pro.Retry.GaveUp";
constexpr const char *MEDIA_UNAVAILABLE = "Red5Pro.Media.Unavailable";
/* the tech in use changed (from, to, reason: fallback | upgrade) */
constexpr const char *PLAYBACK_CHANGED = "Red5Pro.Playback.Changed";
/* the first tech is tried beside the current one (from, to), and that failed (to, reason) */
constexpr const char *PLAYBACK_UPGRADE_START = "Red5Pro.Playback.Upgrade.Start";
constexpr const char *PLAYBACK_UPGRADE_FAILED = "Red5Pro.Playback.Upgrade.Failed";
/* a pad's caps changed codec (kind, from, to: media types), e.g. VP8 over WebRTC to
 * H.264 over HLS with decode=false */
constexpr const char *MEDIA_CODEC_CHANGED = "Red5Pro.Media.CodecChanged";
/* the standby (issue 20) has media on another edge (edge, mode); it went or could not be
 * made (reason, message); it took over the pads (from, to, reason, gap-ms, frames-skipped,
 * frames-repeated) */
constexpr const char *STANDBY_READY = "Red5Pro.Standby.Ready";
constexpr const char *STANDBY_LOST = "Red5Pro.Standby.Lost";
constexpr const char *STANDBY_PROMOTED = "Red5Pro.Standby.Promoted";
/* the server answered a call (call-server, or a switch-stream it refused): id, method,
 * message, data (its JSON text, "" for none) */
constexpr const char *CALL_RESULT = "Red5Pro.Call.Result";

}  // namespace event

/* Name of the structure of every event message. */
constexpr const char *EVENT_STRUCTURE = "red5pro-event";

/* A new event structure: name "red5pro-event", field "type" = type, then the
 * NULL-terminated field list as in gst_structure_new(). */
GstStructure *event_new (const char *type, const char *firstfield, ...) G_GNUC_NULL_TERMINATED;

/* An event with no field but "type". */
GstStructure *event_new (const char *type);

/* Posts the event (takes ownership) as an ELEMENT message from src. */
void event_post (GstElement *src, GstStructure *event);

/* A bus WARNING for a medium that will not come ("refused", "not-offered", "no-media"):
 * a pipeline linked to that pad would wait for it. */
void warn_media_unavailable (GstElement *element, const char *kind, const char *reason);

/* Registers the "red5prosrc" debug category the protocol code logs to. Idempotent. */
void debug_init ();

}  // namespace red5pro
