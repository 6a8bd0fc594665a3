/* red5pro-messages: Red5 Pro's JSON server messages (protocol notes, sections 3, 4, 12),
 * as they arrive on the signaling WebSocket or the "red5pro" data channel: parsed into
 * one ServerMessage, never trusted, never fatal. */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <string>

namespace red5pro {

struct ServerMessage {
  enum class Kind {
    STATUS,        /* {"data":{"type":"status","code":..,"message":..}} */
    ERROR,         /* {"data":{"type":"error",...}} or {"type":"error",...} */
    OFFER,         /* {"data":{"sdp":{"type":"offer","sdp":..}}} */
    CANDIDATE,     /* {"data":{"candidate":{...}}}; empty candidate = end */
    AVAILABLE,     /* {"isAvailable":true|false} */
    METADATA,      /* {"type":"metadata",...} */
    SEND,          /* {"send":{"method":..,"data":{..}},"senderName":..} */
    RESULT,        /* {"data":{"type":"result","message":..}}: a callAdapter's answer */
    UNKNOWN,       /* valid JSON we do not know */
    INVALID,       /* not JSON, not an object, too large */
  };
  Kind kind = Kind::INVALID;
  std::string code;         /* status code, e.g. NetStream.Play.UnpublishNotify */
  std::string message;      /* status or error message */
  std::string description;
  std::string statistics;   /* STATUS Application.Statistics.Endpoint: the stats endpoint */
  std::string sdp;          /* OFFER */
  std::string candidate;    /* CANDIDATE: "candidate:..." or empty at the end */
  std::string mid;
  guint mline = 0;
  bool available = false;   /* AVAILABLE */
  std::string method;       /* SEND */
  std::string sender;
  std::string id;           /* RESULT: the call's id, when the server says it */
  std::string result;       /* RESULT: its "data" member as JSON text ("" = none) */
  GstStructure *data = nullptr;   /* METADATA / SEND payload, owned */

  ServerMessage () = default;
  ServerMessage (const ServerMessage &) = delete;
  ServerMessage &operator= (const ServerMessage &) = delete;
  ServerMessage (ServerMessage &&o) noexcept { *this = std::move (o); }
  ServerMessage &operator= (ServerMessage &&o) noexcept;
  ~ServerMessage ();

  bool is_status (const char *status_code) const { return code == status_code; }
};

/* Messages larger than this are refused unparsed. */
constexpr gsize MAX_MESSAGE_SIZE = 256 * 1024;
/* Metadata and invoke data: at most this many fields (64 bytes of name each) per message,
 * and at most this many field names never seen before in the life of the process. */
constexpr guint MAX_FIELDS = 64;
constexpr guint MAX_NEW_KEYS = 4096;

ServerMessage parse_server_message (const std::string &text);

/* Client messages on the red5pro data channel (protocol notes, section 15). The server's
 * media pause (standby): {"mute":{"muteAudio":..,"muteVideo":..}}. */
std::string mute_message (bool audio, bool video);
/* What the application sends the server (action signals), each at most MAX_CLIENT_MESSAGE
 * bytes; "" when the JSON given is not JSON, too deep or the result too large.
 *   {"send":{"method":..,"data":<json_data>}}
 *   {"callAdapter":{"method":..,"arguments":<json_arguments, an array; one value is put in
 *    one>},"id":..,"async":true}
 *   switchStreams: a callAdapter with [{"path":..,"isImmediate":..}] */
constexpr gsize MAX_CLIENT_MESSAGE = 64 * 1024;
std::string send_message (const std::string &method, const std::string &json_data);
std::string call_message (const std::string &method, const std::string &json_arguments,
    const std::string &id);
std::string switch_streams_message (const std::string &path, bool immediate,
    const std::string &id);
/* an id for a call: 16 hexadecimal digits, random */
std::string make_call_id ();

/* What every JSON text from a server goes through before json-glib, which recurses once
 * per level: no deeper than MAX_JSON_DEPTH arrays/objects (100,000 nested brackets in a
 * 200 kB answer overflowed the stack). Returns the root node owned by *parser, or nullptr. */
constexpr guint MAX_JSON_DEPTH = 64;
JsonNode *parse_json_bounded (JsonParser *parser, const std::string &text);
/* A JSON string as UTF-8 we can put in events: json-glib passes lone surrogate escapes
 * (\ud800) through as invalid UTF-8. */
std::string json_string (JsonNode *node);

namespace status {
constexpr const char *CONNECT_SUCCESS = "NetConnection.Connect.Success";
constexpr const char *CONNECT_REJECTED = "NetConnection.Connect.Rejected";
constexpr const char *CONNECT_FAILED = "NetConnection.Connect.Failed";
constexpr const char *CONNECT_CLOSED = "NetConnection.Connect.Closed";
constexpr const char *TRICKLE_COMPLETED = "NetConnection.ICE.TrickleCompleted";
constexpr const char *TRICKLE_COMPLETED_OLD = "NetConnection.ICE.TricleCompleted";
constexpr const char *DATA_CHANNEL_AVAILABLE = "NetConnection.DataChannel.Available";
constexpr const char *UNPUBLISH_NOTIFY = "NetStream.Play.UnpublishNotify";
constexpr const char *STREAM_NOT_FOUND = "NetStream.Play.StreamNotFound";
/* SDK 15: where stats reports go from now on, in the status's "statistics" */
constexpr const char *STATISTICS_ENDPOINT = "Application.Statistics.Endpoint";
}  // namespace status

}  // namespace red5pro
