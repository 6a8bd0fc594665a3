/* red5pro-config: a plain copy of the element's properties, taken under the object
 * lock when an attempt starts, so that network code never reads properties directly. */
#pragma once

#include "red5pro-url.h"

#include <glib.h>

#include <string>
#include <utility>
#include <vector>

namespace red5pro {

enum class StreamManagerMode { NONE = 0, SM1 = 1, SM2 = 2 };
enum class SignalingProtocol { WHEP = 0, WEBSOCKET = 1 };
enum class IceTransport { UDP = 0, TCP = 1 };
/* A way to receive the stream (playback-order): WebRTC with either signaling, or HLS. */
enum class Tech { WHEP = 0, WEBSOCKET = 1, HLS = 2 };
/* A second WebRTC subscription on another edge, to take over without a gap (issue 20):
 * none, warm (connected, its media paused by the server) or hot (receiving all the time). */
enum class Standby { NONE = 0, WARM = 1, HOT = 2 };

inline const char *
tech_name (Tech t)
{
  return t == Tech::WHEP ? "whep" : t == Tech::WEBSOCKET ? "websocket" : "hls";
}

inline bool
tech_from_name (const std::string &name, Tech *out)
{
  for (Tech t : { Tech::WHEP, Tech::WEBSOCKET, Tech::HLS }) {
    if (g_ascii_strcasecmp (name.c_str (), tech_name (t)) == 0) {
      *out = t;
      return true;
    }
  }
  return false;
}

struct SubscriberConfig {
  std::string host;                 /* edge/standalone host, or the Stream Manager's */
  guint port = 0;                   /* 0 = protocol default (443 with TLS, 5080 without) */
  std::string app = "live";
  std::string stream_name;
  bool tls = false;
  StreamManagerMode stream_manager = StreamManagerMode::NONE;
  std::string node_group = "default";
  std::string region;
  std::string sm_api_version = "4.0";
  SignalingProtocol signaling = SignalingProtocol::WHEP;
  bool use_proxy = false;           /* signal through the Stream Manager's proxy */
  /* connection parameters (credentials, doNotSwitch...), sent as query pairs */
  std::vector<std::pair<std::string, std::string>> connection_params;
  std::string subscription_id;      /* never empty once an attempt starts */
  std::string stun_server;
  std::string turn_server;
  bool decode = false;
  bool data_channel = true;         /* WHEP signal=true: open the red5pro data channel */
  std::vector<std::string> ice_addresses;
  bool relay_only = false;          /* ICE through the TURN server only */
  IceTransport ice_transport = IceTransport::UDP;
  /* asked of the server as the SDK asks (empty = the server chooses); NONE = not sent */
  std::string video_encoding;
  std::string audio_encoding;
  bool maintain_stream_variant = false;   /* the SDK's doNotSwitch */
  bool signaling_socket_only = true;      /* WebSocket: move to the data channel once it is up */
  guint request_timeout_ms = 10000; /* each request's I/O; twice that for media to flow */
  guint latency_ms = 200;           /* the jitter buffers' */
  bool retransmission = true;       /* NACKs for lost video packets */
  bool request_keyframes = true;    /* PLI when a video frame cannot be completed */
  /* codecs we accept, by RTP encoding name; empty = that medium is not received */
  std::vector<std::string> video_codecs { "VP8", "H264", "VP9", "H265" };
  std::vector<std::string> audio_codecs { "OPUS", "PCMU", "PCMA", "SPEEX" };
  std::string auth_token;           /* JWT for Authorization: Bearer (SM 2.0 API, WHEP) */
  /* a standby's (issue 20): the Stream Manager must name another edge than avoid_edge (the
   * current attempt's) */
  bool standby = false;
  bool standby_warm = false;   /* the server is asked to pause its media once connected */
  std::string avoid_edge;
  /* jitter buffers tag buffers with their capture time (RTCP sender reports): a standby
   * matches frames across edges by it */
  bool capture_times = false;
  /* stats reports (SDK 15's stats option): "" = the bus event only, "data-channel", or an
   * http(s) URL they are POSTed to; every stats_interval_ms */
  std::string stats_endpoint;
  guint stats_interval_ms = 5000;

  /* Values that must never be printed: the token and secret connection parameters. */
  std::vector<std::string> secrets () const
  {
    std::vector<std::string> out;
    if (!auth_token.empty ())
      out.push_back (auth_token);
    for (const auto &kv : connection_params) {
      if (key_is_secret (kv.first))
        out.push_back (kv.second);
    }
    return out;
  }

  guint effective_port () const { return port ? port : (tls ? 443 : 5080); }
  const char *http_scheme () const { return tls ? "https" : "http"; }
};

}  // namespace red5pro
