/* cluster: the shared state of the Red5 Pro test cluster (one process: a Stream Manager,
 * edges, a publisher) and the declarations its files share. Everything here lives on the
 * process's main context; other threads hand work to it with run_on_main(). */
#pragma once

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "main-context.h"
#include "server-util.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cluster {

/* Runs fn on the main context (from any thread). */
inline void
run_on_main (std::function<void ()> fn)
{
  main_context::invoke (std::move (fn));
}
/* Runs fn on the main context after ms milliseconds. */
inline void
run_later (guint ms, std::function<void ()> fn)
{
  main_context::after (ms, std::move (fn));
}

using server_util::json_text;

/* A request path's segments, at most max: the last one keeps the rest, slashes included.
 * libsoup hands handlers the path already percent-decoded (%2F included), so a stream
 * name, always last, is whatever follows the fixed part. */
inline std::vector<std::string>
path_segments (const char *path, int max)
{
  std::vector<std::string> out;
  char **parts = g_strsplit (path[0] == '/' ? path + 1 : path, "/", max);
  for (char **p = parts; *p; p++)
    out.emplace_back (*p);
  g_strfreev (parts);
  return out;
}
std::string json_status (const char *code, const std::string &message = "",
    const std::string &description = "");
std::string json_error (const char *code, const std::string &message);

/* A codec the publisher can encode and an edge can send. */
struct Codec {
  const char *name;       /* ours: vp8, h264, h265, opus, pcmu, pcma */
  const char *sdk_name;   /* as videoEncoding/audioEncoding spell it: VP8, H264, Opus... */
  bool video;
  const char *encoder;    /* a gst-launch description from raw video/audio */
  const char *payloader;
  guint pt;
  const char *rtp_caps;   /* the transceiver's codec preferences */
};
/* by our name or the SDK's, any case; nullptr when unknown */
const Codec *codec_find (const std::string &name);

/* One published stream: video with the frame counter and audio, each encoded in every
 * codec published (--codecs), each encoding into a tee that subscribers' peers branch
 * from. */
struct Stream {
  std::string name;
  GstElement *pipeline = nullptr;
  std::map<std::string, GstElement *> tees;   /* by codec name, references */
  std::vector<std::string> video_codecs, audio_codecs;   /* published, the default first */
  /* an ABR group's streams (stream_publish_abr), in one pipeline: a subscriber's video can
   * move among them (switchStreams); empty for a stream of its own */
  std::vector<std::string> group;
  /* --hls: this publish's HLS files (H.264 + AAC in MPEG-TS, a rolling playlist), in a
   * directory of its own under the cluster's; "" without HLS */
  std::string hls_dir;
  /* key-frame requests (GstForceKeyUnit, from the edges' RTP sessions on a PLI or FIR)
   * that reached this publish's video encoders */
  std::shared_ptr<std::atomic<guint>> keyframe_requests =
      std::make_shared<std::atomic<guint>> (0);
};

struct Edge;
struct NetPath;

/* One subscriber as an edge sees it: a webrtcbin sending the stream, its signaling (a
 * WHEP resource or a WebSocket) and the red5pro data channel. */
struct Peer {
  enum class Signaling { WHEP_RED5, WHEP_STANDARD, WEBSOCKET };
  guint id = 0;
  std::string resource;   /* WHEP resource id */
  std::string stream;
  std::string subscription_id;
  Edge *edge = nullptr;
  Signaling signaling = Signaling::WHEP_RED5;
  bool ice_blocked = false;   /* created while its edge blocked media: it never connects */
  /* its UDP path through the edge's network (network.cpp); none for TCP and relay edges */
  std::shared_ptr<NetPath> net;
  std::map<std::string, std::string> params;   /* query pairs it connected with */
  std::string video_codec, audio_codec;   /* what it is sent ("" = that medium is not) */
  GstElement *pipeline = nullptr;   /* the stream's */
  GstElement *bin = nullptr;
  GstElement *webrtc = nullptr;
  GstPad *video_tee_pad = nullptr;
  GstPad *audio_tee_pad = nullptr;
  /* the sending transceivers by kind ("video", "audio"), references */
  std::map<std::string, GstWebRTCRTPTransceiver *> transceivers;
  /* the red5pro channel the client opened (the server opens none: protocol notes, 4) */
  GstWebRTCDataChannel *channel = nullptr;
  bool channel_open = false;
  /* a negotiated channel nobody sees, only there for the offer's m=application section */
  GstWebRTCDataChannel *offer_channel = nullptr;
  SoupWebsocketConnection *ws = nullptr;
  bool subscribed = false;     /* WebSocket: the client sent subscribe */
  bool switched = false;       /* WebSocket: the client moved to the data channel */
  std::vector<std::string> at_switch;   /* sent on the socket as the switch arrives */
  bool channel_announced = false;   /* NetConnection.DataChannel.Available was sent */
  bool want_channel = true;    /* WHEP signal=true, WebSocket datachannel=true */
  SoupServerMessage *pending = nullptr;   /* WHEP POST waiting for ICE gathering */
  bool gathered = false;
  std::string created_sdp;   /* our offer/answer as created (before ICE candidates) */
  bool closed = false;
  std::vector<std::string> queued;   /* messages waiting for the data channel */
  /* the last JSON messages the subscriber sent on the channel (/state "messages") */
  std::vector<std::string> received;
  static constexpr size_t RECEIVED_KEPT = 64;
  /* Red5 Pro's standby message ({"mute":{"muteAudio","muteVideo"}} on the channel): the
   * medium's frames stop before its payloader (sequence numbers go on without a gap), the
   * connection stays; and the RTP bytes each medium sent. Streaming threads read them. */
  struct MediaGate {
    std::atomic<bool> muted { false };
    std::atomic<guint64> bytes { 0 };
  };
  std::shared_ptr<MediaGate> gates[2] = { std::make_shared<MediaGate> (),
                                          std::make_shared<MediaGate> () };   /* video, audio */
};

/* An edge's network to its subscribers (network.cpp), the same in both directions. */
struct NetworkSettings {
  double loss = 0;           /* random loss, share of the packets */
  double burst_loss = 0;     /* burst loss (Gilbert-Elliott), share of the packets... */
  double burst_length = 0;   /* ...in bursts of this mean length, packets */
  guint delay_ms = 0;        /* one way */
  guint jitter_ms = 0;       /* +- uniformly; reorders packets closer than that */
  guint rate_kbps = 0;       /* bandwidth cap, 0 = none */
  guint queue_ms = 200;      /* drop-tail: no packet waits longer for the link */
};
struct NetworkCounters {
  guint64 packets = 0, bytes = 0, lost = 0;
};

struct LoggedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
};

struct Edge {
  enum class State { UP, KILLED, SILENT };
  std::string name;
  std::string address;
  /* WHEP: "red5" (the server offers), "standard" (RFC 9725: it answers), or "strict"
   * (standard, and like the strictest real servers it reads an offered m-line with port 0
   * as rejected and answers it inactive) */
  std::string flavour;
  /* its network to subscribers (control /edge/loss, /edge/network) and what passed it,
   * [down] to the subscribers, [up] from them; read and written under net_lock */
  std::mutex net_lock;
  NetworkSettings net;
  NetworkCounters net_down, net_up;
  /* WHEP POSTs are answered with a redirect (307/308) to this edge ("" = none), once or
   * until cleared (control /edge/redirect) */
  std::string redirect_to;
  guint redirect_status = 307;
  bool redirect_once = true;
  /* how its next peers reach subscribers (ice.cpp): "any" (UDP and TCP host candidates),
   * "tcp" (ICE-TCP only) or "relay" (relay candidates from the TURN server turn_url) */
  std::string ice_mode = "any";
  std::string turn_url;   /* turn://user:password@host:port */
  /* WebRTC media blocked, as by a firewall dropping UDP (control /edge/block-media):
   * signaling still answers, new peers never connect, current ones send nothing */
  std::atomic<bool> media_blocked { false };
  GSocket *blackhole = nullptr;   /* where a blocked edge's candidates point: never read */
  State state = State::UP;
  SoupServer *server = nullptr;
  std::vector<LoggedRequest> log;
  std::vector<SoupServerMessage *> held;   /* requests a silent edge never answers */
};

struct Options {
  guint edges = 2;
  std::vector<std::string> flavours;
  std::vector<std::string> ice_modes;   /* per edge, see Edge::ice_mode */
  std::string turn_url;                 /* the TURN server of "relay" edges */
  std::vector<std::string> publish { "stream1" };
  std::string app = "live";
  std::string codec = "vp8";
  /* published codecs (--codecs), the default of each kind first */
  std::vector<std::string> video_codecs { "vp8" }, audio_codecs { "opus" };
  guint port = 0;
  guint control_port = 0;
  guint kill_after_s = 0;
  /* credentials the edges demand (empty = none) */
  std::string username, password, token;
  std::string bearer;   /* SM 2.0 API and WHEP: Authorization: Bearer */
  std::string tls_cert, tls_key;
  /* lookups answer serverAddress "<address>:<port>" instead of "<address>" */
  bool address_with_port = false;
  /* the SM 2.0 WHEP proxy's OPTIONS answer names the node (Session-Host, SDK 15) */
  bool session_host = true;
  /* lookups put the edge with the fewest subscribers first, as a Stream Manager balancing
   * load does (/sm/balance); off: the first edge that is up (deterministic for tests) */
  bool sm_balance = false;
  bool hls = false;   /* streams are published as HLS too */
  /* --network: each UDP path goes through the edge's network (network.cpp) */
  bool network = false;
};

struct Cluster {
  Options opt;
  guint port = 0;
  bool tls = false;
  GTlsCertificate *certificate = nullptr;
  std::map<std::string, std::unique_ptr<Stream>> streams;
  std::vector<std::unique_ptr<Edge>> edges;
  std::map<guint, std::shared_ptr<Peer>> peers;
  guint next_peer_id = 1;
  std::map<std::string, std::string> routes;   /* stream -> edge name */
  SoupServer *sm = nullptr;
  bool sm_up = true;
  std::vector<LoggedRequest> sm_log;
  SoupServer *control = nullptr;
  guint closing_peers = 0;   /* closed peers whose webrtcbin still waits to go */
  std::string hls_dir;       /* --hls: a temporary directory, one subdirectory per publish */
  SoupSession *http = nullptr;   /* the Stream Manager's proxy client */
  GMainLoop *loop = nullptr;
};

Cluster &the_cluster ();

/* publisher.cpp */
/* Publishes the stream (no-op when it is published); video of that size (at least 320
 * wide, for the frame counter). */
bool stream_publish (const std::string &name, guint width = 320, guint height = 240);
/* An ABR group: {name}_1 640x360, {name}_2 480x270, {name}_3 320x180 (Red5 Pro's naming) */
bool stream_publish_abr (const std::string &name);
void stream_unpublish (const std::string &name);
/* [[counter, real time us], ...]: when the stream's last frames were stamped */
std::string stamps_json (const std::string &name);
/* removes a directory and the files in it */
void remove_dir (const std::string &path);

/* media.cpp */
/* the codec of that kind a subscriber is sent: the one it asked for (videoEncoding,
 * audioEncoding: SDK names), "" for NONE, the stream's default when it asked for none */
std::string codec_for (const Stream &stream, bool video, const std::string &requested);
/* a peer sending the stream in these codecs ("" = that medium not offered) */
std::shared_ptr<Peer> peer_create (Edge *edge, const std::string &stream, Peer::Signaling sig,
    const std::string &video_codec, const std::string &audio_codec);
std::shared_ptr<Peer> peer_find (guint id);
/* what the peer's webrtcbin does next; callbacks run on the main context */
void peer_create_offer (const std::shared_ptr<Peer> &peer, std::function<void (bool)> done);
/* kinds listed in rejected are answered inactive */
void peer_answer_offer (const std::shared_ptr<Peer> &peer, const std::string &sdp,
    std::function<void (bool)> done, const std::vector<std::string> &rejected = {});
bool peer_apply_answer (const std::shared_ptr<Peer> &peer, const std::string &sdp);
void peer_add_candidate (const std::shared_ptr<Peer> &peer, guint mline,
    const std::string &candidate);
std::string peer_local_sdp (const std::shared_ptr<Peer> &peer);
/* sends a JSON text to the subscriber: on the WebSocket until the switch, then on the
 * data channel (queued until it opens) */
void peer_send (const std::shared_ptr<Peer> &peer, const std::string &text);
void peer_set_silent (const std::shared_ptr<Peer> &peer, bool silent);
/* closes the data channel, then the rest within CHANNEL_CLOSE_WAIT_MS */
void peer_close (const std::shared_ptr<Peer> &peer);
constexpr guint CHANNEL_CLOSE_WAIT_MS = 1000;
/* callbacks the signaling side installs */
extern std::function<void (const std::shared_ptr<Peer> &)> on_peer_gathered;
extern std::function<void (const std::shared_ptr<Peer> &, guint, const std::string &)>
    on_peer_candidate;
extern std::function<void (const std::shared_ptr<Peer> &)> on_peer_channel_open;

/* control.cpp */
void reply_json (SoupServerMessage *msg, guint status, JsonNode *node);   /* takes node */
void add_edge_json (JsonBuilder *b, Edge &e, bool with_state);

/* http.cpp */
using server_util::query_map;
std::map<std::string, std::string> uri_query_map (GUri *uri);
using server_util::request_body;
using server_util::add_string_map;
void respond (SoupServerMessage *msg, guint status, const char *type = nullptr,
    const std::string &body = "");
/* Every answer of the server carries Access-Control-Allow-Origin and exposes Location and
 * Link; pre-flights are answered (204, the methods and headers allowed) while answers()
 * says so (a dead edge's handler deals with them as with any request). */
void cors_serve (SoupServer *server, std::function<bool ()> answers = {});

/* edge.cpp */
bool bearer_ok (SoupServerMessage *msg);   /* --bearer, when set, is in Authorization */
bool edge_start (Edge *edge);
void edge_kill (Edge *edge, bool silent);
bool edge_restart (Edge *edge);
bool credentials_ok (const std::map<std::string, std::string> &params);
void edge_log_request (std::vector<LoggedRequest> &log, const char *method,
    SoupServerMessage *msg);
/* A dead edge answers nothing: a killed one drops the connection, a silent one keeps the
 * request waiting forever. True when the request was taken care of that way. */
bool edge_is_dead (Edge *edge, SoupServerMessage *msg);

/* edge-whep.cpp: /{app}/whep/endpoint/{stream} and /{app}/whep/resource/{id} */
void whep_handler (SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *query,
    gpointer edge);
void whep_gathered (const std::shared_ptr<Peer> &peer);   /* answers the waiting POST */

/* edge-hls.cpp: /{app}/{stream}.m3u8 and its segments, /{app}/{stream}_{n}.ts */
void hls_handler (SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *query,
    gpointer edge);
/* the file a request for /{app}/{name} reads: the stream's playlist or one of its segments;
 * "" when the stream is not published with HLS or the name is neither */
std::string hls_file (const std::string &name, const char **content_type);
/* the stream a playlist or segment name is of ("" when it is neither) */
std::string hls_stream_of (const std::string &name);
/* what the publisher's hlssink2 writes for the stream, in its directory */
std::string hls_playlist_name (const std::string &stream);
std::string hls_segment_pattern (const std::string &stream);

/* edge-websocket.cpp: ws://{edge}/{app}/?id=... */
void ws_handler (SoupServer *, SoupServerMessage *msg, const char *path,
    SoupWebsocketConnection *ws, gpointer edge);
void ws_candidate (const std::shared_ptr<Peer> &peer, guint mline, const std::string &cand);
void ws_channel_available (const std::shared_ptr<Peer> &peer);

/* ice.cpp */
bool ice_mode_valid (const std::string &mode);
/* the edge's ICE mode applied to a new peer's webrtcbin */
void ice_setup (Peer &peer);
void edge_block_media (Edge *edge, bool blocked);
/* what a peer tells the subscriber of its candidates, and hears of the subscriber's: a
 * blocked peer's candidates point into a black hole and it hears none */
std::string ice_outgoing_candidate (const Peer &peer, const std::string &candidate);
void ice_outgoing_sdp (const Peer &peer, GstSDPMessage *sdp);
void ice_incoming_sdp (const Peer &peer, GstSDPMessage *sdp);
bool ice_accepts_candidates (const Peer &peer);
/* a WHEP Link header naming the edge's TURN server (relay mode), or "" */
std::string ice_server_link (const Edge &edge);

/* network.cpp: a peer's relay through its edge's network */
std::shared_ptr<NetPath> net_path_new (Edge *edge);
void net_path_free (NetPath *path);
/* the relay's port on the subscriber side (what its candidate announces) */
guint net_path_port (const NetPath &path);
/* where the relay sends what comes from the subscriber: the edge's own UDP candidate */
void net_path_set_edge (NetPath &path, const std::string &address, guint port);
/* /edge/network's query: loss, burst-loss, burst, delay, jitter, kbps, queue, reset */
bool network_set (Edge *edge, const std::map<std::string, std::string> &args, std::string *why);
void add_network_json (JsonBuilder *b, Edge &edge);

/* stream-manager.cpp */
bool stream_manager_start ();
void stream_manager_down ();
bool stream_manager_up ();
/* the edge a lookup returns for the stream, or nullptr */
Edge *stream_manager_pick (const std::string &stream);
/* every edge that can serve the stream, best first (the SM 2.0 lookup's list) */
std::vector<Edge *> stream_manager_candidates (const std::string &stream);
/* the edge's serverAddress in lookup answers: its address, with ":port" if so configured */
std::string server_address (const Edge &edge);
Edge *edge_named (const std::string &name);

bool control_start ();

/* stats.cpp: SDK 15 stats reports */
/* POST /stats[/...] on the Stream Manager: envelopes kept, or refused (fail), or never
 * answered (hang) as /stats/mode says */
void stats_http_handler (SoupServer *, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer);
/* a message on a subscriber's red5pro channel: kept when it is an envelope (true) */
bool stats_channel_message (guint peer, JsonNode *root);
/* the Link header WHEP OPTIONS answers carry (rel="statistics"), "" when none is set */
std::string stats_link ();
void stats_set_link (const std::string &url);
bool stats_set_mode (const std::string &mode);   /* ok, fail, hang */
void stats_clear ();
void stats_shutdown ();
/* [{"seq","transport","path","peer","time-us","envelope"}...] past seq since */
JsonNode *stats_json (guint64 since);
JsonNode *stats_state_json ();
/* the channel status that names a stats endpoint (Application.Statistics.Endpoint) */
std::string stats_endpoint_status (const std::string &url);

}   // namespace cluster
