/* hostile: a Red5 Pro server that misbehaves on purpose, one way per scenario, for the
 * fault-matrix tests (tests/fault/). Shared declarations of its files. Everything runs on
 * the process's main context; webrtcbin's threads hand work to it with on_main(). */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "main-context.h"
#include "server-util.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hostile {

/* Runs fn on the main context, now (from any thread) or after ms milliseconds. */
inline void
on_main (std::function<void ()> fn)
{
  main_context::invoke (std::move (fn));
}
inline guint
later (guint ms, std::function<void ()> fn)
{
  return main_context::after (ms, std::move (fn));
}

/* JSON built with json-glib, as text. */
using server_util::json_text;
using server_util::query_map;
using server_util::request_body;
using server_util::add_string_map;
std::string status_json (const char *code, const std::string &message = "",
    const char *type = "status");

/* ---- the media peer (peer.cpp): a webrtcbin sending test video and audio ---------- */

class Peer {
public:
  using SdpDone = std::function<void (const std::string &sdp)>;   /* "" = failed */
  Peer ();
  ~Peer ();
  /* Standard WHEP: answers the subscriber's offer; done gets the answer once ICE
   * gathering is complete (every candidate inline). */
  void answer (const std::string &offer, SdpDone done);
  /* Red5 Pro flavour and WebSocket: the server's offer, candidates inline. */
  void offer (SdpDone done);
  bool apply_answer (const std::string &answer);
  void add_candidate (guint mline, const std::string &candidate);
  void close ();
  guint id () const { return id_; }

  /* main context, from webrtcbin's callbacks */
  void created (GstWebRTCSessionDescription *desc);

private:
  void on_gathered ();
  static void on_gathering_state (GstElement *webrtc, GParamSpec *, gpointer data);

  guint id_;
  GstElement *pipeline_ = nullptr;
  GstElement *webrtc_ = nullptr;
  SdpDone pending_;
  bool gathered_ = false;
  bool described_ = false;
  bool closed_ = false;
};

/* SDP edits with gstsdp, for the scenarios that lie about a real exchange. */
std::string sdp_with_fingerprint (const std::string &sdp, const std::string &fingerprint);
/* every candidate replaced by one host candidate on 127.0.0.1:port (a dead port) */
std::string sdp_with_candidates_at (const std::string &sdp, guint port);
std::string sdp_without_candidates (const std::string &sdp);
/* a=setup changed (actpass/active/passive), to confuse offers and answers */
std::string sdp_with_setup (const std::string &sdp, const char *setup);
/* only the first m-line kept */
std::string sdp_first_media_only (const std::string &sdp);

/* ---- requests ----------------------------------------------------------------------- */

enum class Role { SM1, SM2, WHEP_POST, WHEP_RESOURCE, OTHER };

/* One HTTP request as a scenario sees it. */
struct Request {
  SoupServer *server = nullptr;
  SoupServerMessage *msg = nullptr;
  Role role = Role::OTHER;
  std::string listener;        /* "main" or "other" (another origin) */
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::string body;
  std::string resource;        /* WHEP_RESOURCE: its id */

  void reply (guint status, const char *type = nullptr, const std::string &body = "") const;
  void reply_json (guint status, JsonNode *node) const;   /* takes node */
  void header (const char *name, const std::string &value) const;
  /* never answered (the client's timeout must end it) */
  void hold () const;
  /* the connection closed without a response */
  void drop () const;
  /* 200 with a chunked body that never ends (until the client goes or 2 GiB) */
  void endless (const char *type) const;
  /* 200 whose body comes one byte every interval_ms */
  void trickle (const std::string &body, guint interval_ms) const;
};

/* The Stream Manager's correct answers, naming address as the edge. */
JsonNode *sm1_answer (const std::string &address);
JsonNode *sm2_answer (const std::string &address);
/* The answer of the right generation for req (SM1 or SM2). */
void sm_ok (const Request &req, const std::string &address = "127.0.0.1");

/* A correct WHEP POST: a peer answers the offer (standard) or offers (red5 flavour);
 * edit may change the SDP before it is sent; Location as given ("" = the usual relative
 * path, "-" = none). */
void whep_ok (const Request &req, bool red5 = false,
    std::function<std::string (const std::string &)> edit = nullptr,
    const std::string &location = "");
/* PATCH (answer or trickle sdpfrag) and DELETE of a resource, done right. */
void resource_ok (const Request &req);

/* ---- WebSocket ---------------------------------------------------------------------- */

struct Ws {
  SoupWebsocketConnection *conn = nullptr;
  std::map<std::string, std::string> query;
  std::shared_ptr<Peer> peer;
  bool closed = false;

  void send (const std::string &text) const;
  void send (JsonNode *node) const;   /* takes node */
  void send_binary (const std::string &bytes) const;
  void close (gushort code = SOUP_WEBSOCKET_CLOSE_NORMAL) const;
};

/* The protocol done right from that message on (isAvailable, requestOffer with a real
 * peer offering, handleAnswer, handleCandidate, subscribe). */
void ws_default (Ws &ws, JsonObject *message);

/* ---- scenarios ---------------------------------------------------------------------- */

struct Scenario {
  std::string name;
  std::string what;
  /* each unset one behaves correctly */
  std::function<void (const Request &)> sm;
  std::function<void (const Request &)> whep;        /* POST to the endpoint */
  std::function<void (const Request &)> resource;    /* PATCH / DELETE of a resource */
  std::function<void (Ws &)> ws_open;                 /* default: Connect.Success */
  /* a client message; default: ws_default */
  std::function<void (Ws &, JsonObject *message)> ws_message;
};

const std::vector<Scenario> &scenarios ();
const Scenario *find_scenario (const std::string &name);

/* ---- the server's state (main.cpp) -------------------------------------------------- */

struct Logged {
  std::string listener, method, path, authorization, content_type;
  std::map<std::string, std::string> query;
  bool has_authorization = false;
};

struct State {
  const Scenario *scenario = nullptr;
  guint port = 0;              /* main: SM, WHEP and WebSocket (https/wss with --tls-cert) */
  guint other_port = 0;        /* another origin, always plain http */
  bool tls = false;
  std::vector<Logged> log;
  guint64 body_bytes_sent = 0; /* by endless and trickled bodies */
  std::vector<SoupServerMessage *> held;
  std::map<std::string, std::shared_ptr<Peer>> resources;   /* WHEP resource id -> peer */
  std::vector<std::shared_ptr<Ws>> sockets;
  GMainLoop *loop = nullptr;
};

State &state ();

/* The base URL of a listener ("main" or "other"), e.g. http://127.0.0.1:1234 */
std::string base_url (const std::string &listener);

}  // namespace hostile
