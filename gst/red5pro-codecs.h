/* red5pro-codecs: the codecs red5prosrc receives (the video-codecs and audio-codecs
 * properties pick from them) and what a session description says of the media. */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include <string>
#include <vector>

namespace red5pro {

/* True for a codec (RTP encoding name, any case) red5prosrc receives as video / audio. */
bool codec_is_known (const std::string &name, bool video);
/* The codecs red5prosrc receives as video / audio, for messages: "VP8, H264". */
std::string known_codecs (bool video);
/* The SDK's spelling of an encoding to ask a Red5 Pro server for (videoEncoding: VP8, H264,
 * NONE; audioEncoding: Opus, PCMU, PCMA, Speex, NONE), any case in; null for none of them. */
const char *sdk_encoding (const std::string &value, bool video);
/* The RTP caps to receive these codecs with (every known one of the kind when none). */
GstCaps *codec_caps (const std::vector<std::string> &names, bool video);

/* What a description says of the media of one kind: absent, refused (port 0 or inactive,
 * or flowing the wrong way), or flowing to us. ours: it is our own answer (we receive with
 * recvonly/sendrecv), else the server's (it sends with sendonly/sendrecv). */
enum class MediaState { ABSENT, REFUSED, RECEIVING };
MediaState media_state (const GstSDPMessage *sdp, const char *kind, bool ours);
/* The RTP encoding names the m-lines of that kind carry (not retransmission or FEC),
 * comma-separated. */
std::string sdp_codecs (const GstSDPMessage *sdp, const char *kind);
/* The kind of the m-line that announces this SSRC (a=ssrc), or null. */
const char *kind_of_ssrc (const GstSDPMessage *sdp, guint ssrc);
/* True when name is one of the codecs in such a list. */
bool codec_listed (const std::string &list, const std::string &name);

}  // namespace red5pro
