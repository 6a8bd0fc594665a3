/* red5pro-codecs: known codecs, and SDP media sections read with gstsdp. */
#include "red5pro-codecs.h"

#include <iterator>

namespace red5pro {

namespace {

/* Payload types only matter for standard WHEP servers, which answer our offer with them;
 * Red5 Pro offers its own. */
struct KnownCodec {
  const char *name;
  bool video;
  const char *caps;
};
const KnownCodec KNOWN_CODECS[] = {
  { "VP8", true, "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000" },
  { "H264", true, "application/x-rtp,media=video,encoding-name=H264,payload=102,"
        "clock-rate=90000,packetization-mode=(string)1,profile-level-id=(string)42e01f,"
        "level-asymmetry-allowed=(string)1" },
  { "VP9", true, "application/x-rtp,media=video,encoding-name=VP9,payload=98,clock-rate=90000" },
  { "H265", true, "application/x-rtp,media=video,encoding-name=H265,payload=104,"
        "clock-rate=90000" },
  { "OPUS", false, "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,"
        "clock-rate=48000,encoding-params=(string)2" },
  { "PCMU", false, "application/x-rtp,media=audio,encoding-name=PCMU,payload=0,clock-rate=8000" },
  { "PCMA", false, "application/x-rtp,media=audio,encoding-name=PCMA,payload=8,clock-rate=8000" },
  { "SPEEX", false, "application/x-rtp,media=audio,encoding-name=SPEEX,payload=97,"
        "clock-rate=16000" },
};

const char *const VIDEO_ENCODINGS[] = { "VP8", "H264", "NONE" };
const char *const AUDIO_ENCODINGS[] = { "Opus", "PCMU", "PCMA", "Speex", "NONE" };

bool
has_attribute (const GstSDPMedia *m, const char *key)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (m); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, i);
    if (a->key && g_str_equal (a->key, key))
      return true;
  }
  return false;
}

}  // namespace

const char *
sdk_encoding (const std::string &value, bool video)
{
  const auto &names = video ? std::vector<const char *> (std::begin (VIDEO_ENCODINGS),
      std::end (VIDEO_ENCODINGS)) : std::vector<const char *> (std::begin (AUDIO_ENCODINGS),
      std::end (AUDIO_ENCODINGS));
  for (const char *name : names)
    if (g_ascii_strcasecmp (value.c_str (), name) == 0)
      return name;
  return nullptr;
}

bool
codec_is_known (const std::string &name, bool video)
{
  for (const auto &codec : KNOWN_CODECS)
    if (codec.video == video && g_ascii_strcasecmp (codec.name, name.c_str ()) == 0)
      return true;
  return false;
}

std::string
known_codecs (bool video)
{
  std::string out;
  for (const auto &codec : KNOWN_CODECS)
    if (codec.video == video)
      out += (out.empty () ? "" : ", ") + std::string (codec.name);
  return out;
}

GstCaps *
codec_caps (const std::vector<std::string> &names, bool video)
{
  GstCaps *caps = gst_caps_new_empty ();
  for (const auto &codec : KNOWN_CODECS) {
    if (codec.video != video)
      continue;
    bool wanted = names.empty ();
    for (const auto &n : names)
      wanted |= g_ascii_strcasecmp (n.c_str (), codec.name) == 0;
    if (wanted)
      gst_caps_append (caps, gst_caps_from_string (codec.caps));
  }
  return caps;
}

MediaState
media_state (const GstSDPMessage *sdp, const char *kind, bool ours)
{
  MediaState state = MediaState::ABSENT;
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), kind) != 0)
      continue;
    bool to_us = gst_sdp_media_get_port (m) != 0 && !has_attribute (m, "inactive") &&
        !has_attribute (m, ours ? "sendonly" : "recvonly");
    if (to_us)
      return MediaState::RECEIVING;
    state = MediaState::REFUSED;
  }
  return state;
}

std::string
sdp_codecs (const GstSDPMessage *sdp, const char *kind)
{
  std::string out;
  for (guint i = 0; sdp && i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), kind) != 0)
      continue;
    for (guint f = 0; f < gst_sdp_media_formats_len (m); f++) {
      g_autoptr (GstCaps) caps = gst_sdp_media_get_caps_from_media (m,
          (gint) g_ascii_strtoll (gst_sdp_media_get_format (m, f), nullptr, 10));
      const char *name = caps && !gst_caps_is_empty (caps)
          ? gst_structure_get_string (gst_caps_get_structure (caps, 0), "encoding-name")
          : nullptr;
      if (name && !g_str_equal (name, "RTX") && !g_str_equal (name, "RED") &&
          !g_str_equal (name, "ULPFEC") && !g_str_equal (name, "FLEXFEC-03") &&
          !codec_listed (out, name))
        out += (out.empty () ? "" : ", ") + std::string (name);
    }
  }
  return out;
}

bool
codec_listed (const std::string &list, const std::string &name)
{
  g_auto (GStrv) parts = g_strsplit (list.c_str (), ", ", -1);
  for (gchar **p = parts; *p; p++)
    if (g_ascii_strcasecmp (*p, name.c_str ()) == 0)
      return true;
  return false;
}

/* The kind of the m-line of a description that announces this SSRC (a=ssrc), or null. */
const char *
kind_of_ssrc (const GstSDPMessage *sdp, guint ssrc)
{
  std::string prefix = std::to_string (ssrc) + " ";
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    for (guint a = 0; a < gst_sdp_media_attributes_len (m); a++) {
      const GstSDPAttribute *attr = gst_sdp_media_get_attribute (m, a);
      if (g_strcmp0 (attr->key, "ssrc") == 0 && attr->value &&
          g_str_has_prefix (attr->value, prefix.c_str ()))
        return gst_sdp_media_get_media (m);
    }
  }
  return nullptr;
}

}  // namespace red5pro
