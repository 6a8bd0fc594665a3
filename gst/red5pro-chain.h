/* red5pro-chain: the elements an attempt puts between a stream it receives and its pad:
 * depayloader (WebRTC), parser, decoder with decode=true, picked from the registry by caps;
 * and what swallows a stream nobody takes. */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace red5pro {

/* The elements, not linked, that turn RTP of these caps into what our pads carry:
 * depayloader, parser, and decoder with decode, picked from the registry; with
 * request_keyframes, the depayloader and the decoder ask for a key frame when a frame
 * cannot be completed. Empty, with *why naming what is missing, when the codec cannot go
 * out. */
std::vector<GstElement *> make_output_chain (GstCaps *rtp_caps, bool decode,
    bool request_keyframes, std::string *why);
/* The same from encoded caps (HLS's elementary streams): parser (if there is one), and
 * decoder with decode; what names the codec in *why, which is set on failure only. */
std::vector<GstElement *> make_parse_chain (GstCaps *caps, bool decode, const std::string &what,
    std::string *why);

/* decode=true: decoded video from a later attempt in the colour format that the element's
 * video pad already carries (format, colorimetry, chroma siting), converted where another
 * tech's decoder gives another one (videoconvert, passthrough when they match). An encoder
 * downstream would otherwise start a new stream header, which a muxer refuses. Appends to
 * the chain; nothing before the pad has caps. */
void conform_decoded_video (std::vector<GstElement *> &chain, GstElement *element);

/* What a new pad carries: its caps, or what it can carry while it has none yet. */
GstCaps *pad_caps (GstPad *pad);

/* A fakesink that takes whatever a stream we do not expose carries (it must not come back
 * not-linked). */
GstElement *make_swallow_sink ();
/* The chain into bin, from linked to its first element, each following the bin's state;
 * its last element's src pad (a reference), nullptr for a sink. Streaming thread (pad-added). */
GstPad *plug_chain (GstBin *bin, GstPad *from, const std::vector<GstElement *> &chain);

}  // namespace red5pro
