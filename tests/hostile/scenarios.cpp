/* scenarios: what the hostile server does wrong, one way per scenario, and the correct
 * behaviour every scenario falls back to for the roles it does not touch. The table at the
 * end is the list; docs/faults.md says which test uses which and what it expects. */
#include "hostile.h"

#include <gio/gio.h>

namespace hostile {

/* ---- the correct behaviour ---------------------------------------------------------- */

static void
add_member (JsonBuilder *b, const char *name, const std::string &value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value.c_str ());
}

JsonNode *
sm1_answer (const std::string &address)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  add_member (b, "name", "stream1");
  add_member (b, "scope", "/live");
  add_member (b, "serverAddress", address);
  add_member (b, "region", "hostile-1");
  json_builder_end_object (b);
  JsonNode *root = json_builder_get_root (b);
  g_object_unref (b);
  return root;
}

JsonNode *
sm2_answer (const std::string &address)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_member (b, "streamGuid", "live/stream1");
  add_member (b, "serverAddress", address);
  add_member (b, "nodeRole", "edge");
  add_member (b, "nodeState", "INSERVICE");
  add_member (b, "subGroup", "hostile-1");
  json_builder_end_object (b);
  json_builder_end_array (b);
  JsonNode *root = json_builder_get_root (b);
  g_object_unref (b);
  return root;
}

/* A redirect to the same path and query on the other origin. */
void
redirect_to_other (const Request &r, guint status)
{
  GUri *uri = soup_server_message_get_uri (r.msg);
  std::string target = base_url ("other") + g_uri_get_path (uri);
  if (g_uri_get_query (uri))
    target += std::string ("?") + g_uri_get_query (uri);
  r.header ("Location", target);
  r.reply (status);
}

void
sm_ok (const Request &req, const std::string &address)
{
  req.reply_json (SOUP_STATUS_OK,
      req.role == Role::SM2 ? sm2_answer (address) : sm1_answer (address));
}

/* Replies to a paused request later; the message is kept alive until then. */
static std::function<void (guint, const char *, const std::string &,
    const std::vector<std::pair<std::string, std::string>> &)>
deferred (const Request &req)
{
  SoupServerMessage *msg = SOUP_SERVER_MESSAGE (g_object_ref (req.msg));
  soup_server_message_pause (msg);
  auto keep = std::shared_ptr<SoupServerMessage> (msg, [] (SoupServerMessage *m) {
    g_object_unref (m);
  });
  return [keep] (guint status, const char *type, const std::string &body,
             const std::vector<std::pair<std::string, std::string>> &headers) {
    SoupServerMessage *m = keep.get ();
    soup_server_message_set_status (m, status, nullptr);
    for (const auto &h : headers)
      soup_message_headers_append (soup_server_message_get_response_headers (m),
          h.first.c_str (), h.second.c_str ());
    if (type)
      soup_server_message_set_response (m, type, SOUP_MEMORY_COPY, body.data (), body.size ());
    soup_server_message_unpause (m);
  };
}

void
whep_ok (const Request &req, bool red5, std::function<std::string (const std::string &)> edit,
    const std::string &location)
{
  if (!red5 && req.body.empty ()) {
    req.reply (SOUP_STATUS_BAD_REQUEST, "text/plain", "an offer is needed");
    return;
  }
  auto peer = std::make_shared<Peer> ();
  std::string id = "r" + std::to_string (peer->id ());
  state ().resources[id] = peer;
  std::string loc = location.empty () ? "/live/whep/resource/{id}" : location;
  auto pos = loc.find ("{id}");
  if (pos != std::string::npos)
    loc.replace (pos, 4, id);
  auto reply = deferred (req);
  auto done = [reply, edit, loc] (const std::string &sdp) {
    if (sdp.empty ()) {
      reply (SOUP_STATUS_BAD_REQUEST, "text/plain", "cannot negotiate", {});
      return;
    }
    std::vector<std::pair<std::string, std::string>> headers;
    if (loc != "-")
      headers.emplace_back ("Location", loc);
    reply (SOUP_STATUS_CREATED, "application/sdp", edit ? edit (sdp) : sdp, headers);
  };
  if (red5)
    peer->offer (done);
  else
    peer->answer (req.body, done);
}

/* The candidates of an sdpfrag (or any SDP text), read with gstsdp. */
static std::vector<std::string>
frag_candidates (const std::string &frag)
{
  std::vector<std::string> out;
  GstSDPMessage *msg = nullptr;
  gst_sdp_message_new (&msg);
  if (gst_sdp_message_parse_buffer (reinterpret_cast<const guint8 *> (frag.data ()),
          guint (frag.size ()), msg) == GST_SDP_OK) {
    for (guint m = 0; m < gst_sdp_message_medias_len (msg); m++) {
      const GstSDPMedia *media = gst_sdp_message_get_media (msg, m);
      for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
        const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
        if (g_strcmp0 (a->key, "candidate") == 0 && a->value)
          out.push_back (std::string ("candidate:") + a->value);
      }
    }
  }
  gst_sdp_message_free (msg);
  return out;
}

void
resource_ok (const Request &req)
{
  auto &resources = state ().resources;
  auto it = resources.find (req.resource);
  if (it == resources.end ()) {
    req.reply (SOUP_STATUS_NOT_FOUND, "text/plain", "no such resource");
    return;
  }
  if (req.method == "DELETE") {
    it->second->close ();
    resources.erase (it);
    req.reply (SOUP_STATUS_OK);
    return;
  }
  if (req.method != "PATCH") {
    req.reply (SOUP_STATUS_METHOD_NOT_ALLOWED);
    return;
  }
  const char *type = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (req.msg), nullptr);
  if (g_strcmp0 (type, "application/sdp") == 0) {
    req.reply (it->second->apply_answer (req.body) ? SOUP_STATUS_NO_CONTENT
                                                   : SOUP_STATUS_BAD_REQUEST);
    return;
  }
  /* bundled: every candidate goes to m-line 0 */
  for (const auto &c : frag_candidates (req.body))
    it->second->add_candidate (0, c);
  req.reply (SOUP_STATUS_NO_CONTENT);
}

static std::string
text_member (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : nullptr;
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return {};
  return json_node_get_string (n);
}

static JsonObject *
object_member (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : nullptr;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : nullptr;
}

/* {"data":{"sdp":{"type":type,"sdp":sdp}}} */
static std::string
sdp_message (const char *type, const std::string &sdp)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "data");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sdp");
  json_builder_begin_object (b);
  add_member (b, "type", type);
  add_member (b, "sdp", sdp);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  std::string out = json_text (json_builder_get_root (b));
  g_object_unref (b);
  return out;
}

/* The server's offer over the socket, then TrickleCompleted (candidates are inline). */
static void
ws_offer (Ws &ws, std::function<std::string (const std::string &)> edit = nullptr)
{
  ws.peer = std::make_shared<Peer> ();
  std::weak_ptr<Peer> weak = ws.peer;
  Ws *w = &ws;
  ws.peer->offer ([w, weak, edit] (const std::string &sdp) {
    if (weak.expired () || w->closed || sdp.empty ())
      return;
    w->send (sdp_message ("offer", edit ? edit (sdp) : sdp));
    w->send (status_json ("NetConnection.ICE.TrickleCompleted"));
  });
}

void
ws_default (Ws &ws, JsonObject *m)
{
  if (json_object_has_member (m, "isAvailable")) {
    JsonBuilder *b = json_builder_new ();
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "isAvailable");
    json_builder_add_boolean_value (b, TRUE);
    add_member (b, "name", text_member (m, "isAvailable"));
    json_builder_end_object (b);
    ws.send (json_builder_get_root (b));
    g_object_unref (b);
  } else if (json_object_has_member (m, "requestOffer")) {
    ws_offer (ws);
  } else if (json_object_has_member (m, "handleAnswer")) {
    JsonObject *sdp = object_member (object_member (m, "data"), "sdp");
    if (ws.peer)
      ws.peer->apply_answer (text_member (sdp, "sdp"));
  } else if (json_object_has_member (m, "handleCandidate")) {
    JsonObject *c = object_member (object_member (m, "data"), "candidate");
    if (ws.peer && c)
      ws.peer->add_candidate (0, text_member (c, "candidate"));
  } else if (json_object_has_member (m, "subscribe")) {
    ws.send (status_json ("NetStream.Play.Start", text_member (m, "subscribe") + " starting"));
  }
}

/* ---- building blocks of the scenarios ----------------------------------------------- */

/* {"errorMessage": text, "timestamp": 1} */
static JsonNode *
sm_error (const std::string &text)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  add_member (b, "errorMessage", text);
  json_builder_set_member_name (b, "timestamp");
  json_builder_add_int_value (b, 1);
  json_builder_end_object (b);
  JsonNode *root = json_builder_get_root (b);
  g_object_unref (b);
  return root;
}

/* The answer of the request's generation with one member replaced by value (a node). */
static void
sm_with (const Request &req, const char *member, JsonNode *value)
{
  JsonNode *root = req.role == Role::SM2 ? sm2_answer ("127.0.0.1") : sm1_answer ("127.0.0.1");
  JsonObject *o = req.role == Role::SM2
      ? json_array_get_object_element (json_node_get_array (root), 0)
      : json_node_get_object (root);
  json_object_set_member (o, member, value);
  req.reply_json (SOUP_STATUS_OK, root);
}

static JsonNode *
string_node (const std::string &s)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);
  json_node_set_string (n, s.c_str ());
  return n;
}

static JsonNode *
double_node (double d)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);
  json_node_set_double (n, d);
  return n;
}

/* n levels of nested arrays: "[[[...]]]". Not built with json-glib, whose printer recurses
 * as deep as its parser (the point of the scenario). */
static std::string
deep_nesting (guint levels)
{
  return std::string (levels, '[') + std::string (levels, ']');
}

/* An object of n members "hostilekeyNNNNNN": i (unique, so each would be a new GQuark). */
static void
add_many_keys (JsonBuilder *b, guint first, guint n)
{
  char name[32];
  for (guint i = first; i < first + n; i++) {
    g_snprintf (name, sizeof name, "hostilekey%06u", i);
    json_builder_set_member_name (b, name);
    json_builder_add_int_value (b, i);
  }
}

/* A socket scenario that does its thing when the client asks isAvailable, then says
 * Hostile.Alive (a status the test waits for: the connection survived) and stops there. */
static std::function<void (Ws &, JsonObject *)>
on_available (std::function<void (Ws &)> act, bool alive = true)
{
  return [act, alive] (Ws &ws, JsonObject *m) {
    if (!json_object_has_member (m, "isAvailable"))
      return;
    act (ws);
    if (alive)
      ws.send (status_json ("Hostile.Alive", "still here"));
  };
}

static std::string
metadata_message (std::function<void (JsonBuilder *)> members)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  add_member (b, "type", "metadata");
  add_member (b, "method", "onMetaData");
  json_builder_set_member_name (b, "data");
  json_builder_begin_object (b);
  members (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  std::string out = json_text (json_builder_get_root (b));
  g_object_unref (b);
  return out;
}

/* A UDP port on 127.0.0.1 that is bound (so nobody else takes it) and never read: ICE
 * checks sent there are never answered. */
static guint
dead_udp_port ()
{
  static GSocket *sock = nullptr;
  if (!sock) {
    sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
        G_SOCKET_PROTOCOL_UDP, nullptr);
    GInetAddress *ia = g_inet_address_new_from_string ("127.0.0.1");
    GSocketAddress *sa = g_inet_socket_address_new (ia, 0);
    g_socket_bind (sock, sa, FALSE, nullptr);
    g_object_unref (sa);
    g_object_unref (ia);
  }
  GSocketAddress *local = g_socket_get_local_address (sock, nullptr);
  guint port = local ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)) : 9;
  g_clear_object (&local);
  return port;
}

static const char *const WRONG_FINGERPRINT =
    "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
    "AA:BB:CC:DD:EE:FF";

/* ---- the table ---------------------------------------------------------------------- */

static std::vector<Scenario>
build ()
{
  std::vector<Scenario> t;
  t.push_back ({ "ok", "every role done right (standard WHEP: the server answers)" });
  t.push_back ({ "ok-red5", "every role done right, Red5 Pro WHEP (the server offers)",
      nullptr, [] (const Request &r) { whep_ok (r, true); } });

  /* Stream Manager: every status class and the notable codes */
  for (guint code : { 204u, 299u, 400u, 401u, 403u, 404u, 409u, 429u, 500u, 503u, 599u }) {
    t.push_back ({ "sm-status-" + std::to_string (code), "the Stream Manager answers this HTTP status",
        [code] (const Request &r) {
          if (code == 429)
            r.header ("Retry-After", "3");
          if (code == 204)
            r.reply (code);
          else if (code == 299)
            sm_ok (r);   /* an odd 2xx with a good answer */
          else
            r.reply_json (code, sm_error ("hostile " + std::to_string (code)));
        } });
  }
  t.push_back ({ "sm-redirect-loop", "302 to itself, forever",
      [] (const Request &r) {
        GUri *uri = soup_server_message_get_uri (r.msg);
        char *u = g_uri_to_string (uri);
        r.header ("Location", u);
        g_free (u);
        r.reply (SOUP_STATUS_FOUND);
      } });
  t.push_back ({ "sm-redirect-other", "302 to the same path on another origin (plain http), "
      "which answers right",
      [] (const Request &r) {
        if (r.listener == "other") {
          sm_ok (r);
          return;
        }
        redirect_to_other (r, SOUP_STATUS_FOUND);
      } });
  t.push_back ({ "sm-slow-headers", "the Stream Manager never answers",
      [] (const Request &r) { r.hold (); } });
  t.push_back ({ "sm-slow-body", "the right answer, one byte every 500 ms",
      [] (const Request &r) {
        r.trickle (json_text (r.role == Role::SM2 ? sm2_answer ("127.0.0.1")
                                                  : sm1_answer ("127.0.0.1")), 500);
      } });
  t.push_back ({ "sm-endless-body", "200 with a chunked body that never ends",
      [] (const Request &r) { r.endless ("application/json"); } });
  t.push_back ({ "sm-huge-body", "the right answer padded with a 24 MiB string member",
      [] (const Request &r) {
        sm_with (r, "padding", string_node (std::string (24u << 20, 'x')));
      } });
  t.push_back ({ "sm-empty-200", "200 with an empty body",
      [] (const Request &r) { r.reply (SOUP_STATUS_OK, "application/json", ""); } });
  t.push_back ({ "sm-garbage", "200 with an HTML page",
      [] (const Request &r) {
        r.reply (SOUP_STATUS_OK, "text/html", "<html><body>It works!</body></html>");
      } });
  t.push_back ({ "sm-non-utf8", "200 with bytes that are not UTF-8",
      [] (const Request &r) {
        r.reply (SOUP_STATUS_OK, "application/json",
            std::string ("{\"serverAddress\":\"\xff\xfe\xc0\x80\",\"scope\":\"/live\"}"));
      } });
  t.push_back ({ "sm-truncated", "the right answer cut in the middle",
      [] (const Request &r) {
        std::string text = json_text (r.role == Role::SM2 ? sm2_answer ("127.0.0.1")
                                                          : sm1_answer ("127.0.0.1"));
        r.reply (SOUP_STATUS_OK, "application/json", text.substr (0, text.size () / 2));
      } });
  t.push_back ({ "sm-deep-nesting", "200 with 100,000 nested arrays (200 kB)",
      [] (const Request &r) {
        r.reply (SOUP_STATUS_OK, "application/json", deep_nesting (100000));
      } });
  t.push_back ({ "sm-many-keys", "the right answer with 20,000 more members (540 kB, under "
      "the proposed 1 MiB limit)",
      [] (const Request &r) {
        JsonBuilder *b = json_builder_new ();
        json_builder_begin_object (b);
        add_member (b, "name", "stream1");
        add_member (b, "scope", "/live");
        add_member (b, "serverAddress", "127.0.0.1");
        add_member (b, "streamGuid", "live/stream1");
        add_many_keys (b, 0, 20000);
        json_builder_end_object (b);
        JsonNode *obj = json_builder_get_root (b);
        g_object_unref (b);
        if (r.role == Role::SM2) {
          JsonArray *arr = json_array_new ();
          json_array_add_element (arr, obj);
          obj = json_node_init_array (json_node_alloc (), arr);
          json_array_unref (arr);
        }
        r.reply_json (SOUP_STATUS_OK, obj);
      } });
  t.push_back ({ "sm-wrong-shape", "the other generation's answer (object for SM 2.0, "
      "array for SM 1.x)",
      [] (const Request &r) {
        r.reply_json (SOUP_STATUS_OK, r.role == Role::SM2 ? sm1_answer ("127.0.0.1")
                                                          : sm2_answer ("127.0.0.1"));
      } });
  t.push_back ({ "sm-numbers-as-strings", "numbers where strings belong (region, subGroup, "
      "nodeState, name), the address right",
      [] (const Request &r) {
        JsonNode *root = r.role == Role::SM2 ? sm2_answer ("127.0.0.1")
                                             : sm1_answer ("127.0.0.1");
        JsonObject *o = r.role == Role::SM2
            ? json_array_get_object_element (json_node_get_array (root), 0)
            : json_node_get_object (root);
        for (const char *m : { "region", "subGroup", "nodeState", "name" })
          json_object_set_int_member (o, m, 42);
        r.reply_json (SOUP_STATUS_OK, root);
      } });
  t.push_back ({ "sm-nulls", "serverAddress, scope and region are null",
      [] (const Request &r) {
        JsonNode *root = r.role == Role::SM2 ? sm2_answer ("127.0.0.1")
                                             : sm1_answer ("127.0.0.1");
        JsonObject *o = r.role == Role::SM2
            ? json_array_get_object_element (json_node_get_array (root), 0)
            : json_node_get_object (root);
        for (const char *m : { "serverAddress", "scope", "region", "streamGuid" })
          json_object_set_null_member (o, m);
        r.reply_json (SOUP_STATUS_OK, root);
      } });
  t.push_back ({ "sm-address-1e300", "serverAddress is the number 1e300",
      [] (const Request &r) { sm_with (r, "serverAddress", double_node (1e300)); } });
  t.push_back ({ "sm-address-empty", "serverAddress is \"\"",
      [] (const Request &r) { sm_ok (r, ""); } });
  t.push_back ({ "sm-address-url", "serverAddress is a URL (of this server)",
      [] (const Request &r) { sm_ok (r, base_url ("main") + "/"); } });
  t.push_back ({ "sm-address-ipv6-zone", "serverAddress is fe80::1%lo (a zone id)",
      [] (const Request &r) { sm_ok (r, "fe80::1%lo"); } });
  t.push_back ({ "sm-address-with-port", "serverAddress is 127.0.0.1:<port>",
      [] (const Request &r) {
        sm_ok (r, "127.0.0.1:" + std::to_string (state ().port));
      } });
  t.push_back ({ "sm-address-spaces", "serverAddress is \" 127.0.0.1 \"",
      [] (const Request &r) { sm_ok (r, " 127.0.0.1 "); } });
  t.push_back ({ "sm-drop", "the Stream Manager closes the connection without a response",
      [] (const Request &r) { r.drop (); } });
  t.push_back ({ "sm2-empty-array", "SM 2.0 answers []",
      [] (const Request &r) { r.reply (SOUP_STATUS_OK, "application/json", "[]"); } });
  t.push_back ({ "sm2-garbage-entries", "SM 2.0 answers [1, \"x\", null, {}, []]",
      [] (const Request &r) {
        JsonArray *arr = json_array_new ();
        json_array_add_int_element (arr, 1);
        json_array_add_string_element (arr, "x");
        json_array_add_null_element (arr);
        json_array_add_object_element (arr, json_object_new ());
        json_array_add_array_element (arr, json_array_new ());
        JsonNode *root = json_node_init_array (json_node_alloc (), arr);
        json_array_unref (arr);
        r.reply_json (SOUP_STATUS_OK, root);
      } });
  t.push_back ({ "sm2-draining-only", "SM 2.0 names one edge, DRAINING",
      [] (const Request &r) {
        JsonNode *root = sm2_answer ("127.0.0.1");
        json_object_set_string_member (
            json_array_get_object_element (json_node_get_array (root), 0), "nodeState",
            "DRAINING");
        r.reply_json (SOUP_STATUS_OK, root);
      } });

  /* WHEP endpoint */
  for (guint code : { 204u, 400u, 401u, 403u, 404u, 406u, 409u, 429u, 500u, 503u }) {
    t.push_back ({ "whep-status-" + std::to_string (code), "the WHEP POST answers this HTTP status", nullptr,
        [code] (const Request &r) {
          if (code == 429)
            r.header ("Retry-After", "3");
          if (code == 204)
            r.reply (code);
          else
            r.reply (code, "text/plain", "hostile " + std::to_string (code));
        } });
  }
  t.push_back ({ "whep-error-utf8-cut", "400 whose text has a 3-byte character across byte 200",
      nullptr, [] (const Request &r) {
        /* "hostile" and dots to byte 199, then euro signs: one straddles bytes 199-201 */
        std::string text = "hostile" + std::string (192, '.');
        for (int i = 0; i < 20; i++)
          text += "\xe2\x82\xac";
        r.reply (SOUP_STATUS_BAD_REQUEST, "text/plain; charset=utf-8", text);
      } });
  t.push_back ({ "whep-sdp-garbage", "201 with a body that is not SDP", nullptr,
      [] (const Request &r) {
        r.header ("Location", "/live/whep/resource/none");
        r.reply (SOUP_STATUS_CREATED, "application/sdp", "this is not SDP at all\r\n");
      } });
  t.push_back ({ "whep-sdp-no-media", "201 with an SDP without any m-line", nullptr,
      [] (const Request &r) {
        GstSDPMessage *sdp = nullptr;
        gst_sdp_message_new (&sdp);
        gst_sdp_message_set_version (sdp, "0");
        gst_sdp_message_set_origin (sdp, "-", "1", "1", "IN", "IP4", "127.0.0.1");
        gst_sdp_message_set_session_name (sdp, "-");
        gst_sdp_message_add_time (sdp, "0", "0", nullptr);
        gst_sdp_message_add_attribute (sdp, "setup", "actpass");
        char *text = gst_sdp_message_as_text (sdp);
        gst_sdp_message_free (sdp);
        r.header ("Location", "/live/whep/resource/none");
        r.reply (SOUP_STATUS_CREATED, "application/sdp", text);
        g_free (text);
      } });
  t.push_back ({ "whep-echo-offer", "201 with the subscriber's own offer sent back", nullptr,
      [] (const Request &r) {
        r.header ("Location", "/live/whep/resource/none");
        r.reply (SOUP_STATUS_CREATED, "application/sdp", r.body);
      } });
  t.push_back ({ "whep-answer-says-actpass", "a real answer whose a=setup says actpass "
      "(an answer dressed as an offer)", nullptr,
      [] (const Request &r) {
        whep_ok (r, false, [] (const std::string &s) { return sdp_with_setup (s, "actpass"); });
      } });
  t.push_back ({ "whep-answer-one-mline", "a real answer with only its first m-line", nullptr,
      [] (const Request &r) { whep_ok (r, false, sdp_first_media_only); } });
  t.push_back ({ "whep-wrong-fingerprint", "a real answer whose a=fingerprint is another "
      "certificate's", nullptr,
      [] (const Request &r) {
        whep_ok (r, false, [] (const std::string &s) {
          return sdp_with_fingerprint (s, WRONG_FINGERPRINT);
        });
      } });
  t.push_back ({ "whep-wrong-fingerprint-red5", "Red5 Pro WHEP: the server's offer carries "
      "another certificate's fingerprint", nullptr,
      [] (const Request &r) {
        whep_ok (r, true, [] (const std::string &s) {
          return sdp_with_fingerprint (s, WRONG_FINGERPRINT);
        });
      } });
  t.push_back ({ "whep-ice-dead-port", "a real answer whose only candidate is a UDP port "
      "nobody answers on; trickled candidates ignored", nullptr,
      [] (const Request &r) {
        guint port = dead_udp_port ();
        whep_ok (r, false, [port] (const std::string &s) {
          return sdp_with_candidates_at (s, port);
        });
      },
      [] (const Request &r) {
        if (r.method == "PATCH")
          r.reply (SOUP_STATUS_NO_CONTENT);
        else
          resource_ok (r);
      } });
  t.push_back ({ "whep-no-candidates", "a real answer without candidates; trickled "
      "candidates ignored", nullptr,
      [] (const Request &r) { whep_ok (r, false, sdp_without_candidates); },
      [] (const Request &r) {
        if (r.method == "PATCH")
          r.reply (SOUP_STATUS_NO_CONTENT);
        else
          resource_ok (r);
      } });
  t.push_back ({ "whep-location-relative", "Location: resource/{id} (relative path)", nullptr,
      [] (const Request &r) { whep_ok (r, false, nullptr, "../resource/{id}"); } });
  t.push_back ({ "whep-location-absolute", "Location: the full URL on this origin", nullptr,
      [] (const Request &r) {
        whep_ok (r, false, nullptr, base_url ("main") + "/live/whep/resource/{id}");
      } });
  t.push_back ({ "whep-location-other", "Location: the resource on another origin (plain "
      "http), which serves it", nullptr,
      [] (const Request &r) {
        whep_ok (r, false, nullptr, base_url ("other") + "/live/whep/resource/{id}");
      } });
  t.push_back ({ "whep-location-none", "no Location header", nullptr,
      [] (const Request &r) { whep_ok (r, false, nullptr, "-"); } });
  t.push_back ({ "whep-location-garbage", "Location: http://[::1 (does not parse)", nullptr,
      [] (const Request &r) { whep_ok (r, false, nullptr, "http://[::1"); } });
  t.push_back ({ "whep-redirect-other", "307 to the endpoint on another origin (plain http), "
      "which serves it", nullptr,
      [] (const Request &r) {
        if (r.listener == "other") {
          whep_ok (r);
          return;
        }
        redirect_to_other (r, SOUP_STATUS_TEMPORARY_REDIRECT);
      } });
  t.push_back ({ "whep-redirect-loop", "307 to itself, forever", nullptr,
      [] (const Request &r) {
        GUri *uri = soup_server_message_get_uri (r.msg);
        char *u = g_uri_to_string (uri);
        r.header ("Location", u);
        g_free (u);
        r.reply (SOUP_STATUS_TEMPORARY_REDIRECT);
      } });
  t.push_back ({ "whep-slow-headers", "the POST is never answered", nullptr,
      [] (const Request &r) { r.hold (); } });
  t.push_back ({ "whep-endless-body", "201 with a chunked body that never ends", nullptr,
      [] (const Request &r) { r.endless ("application/sdp"); } });
  t.push_back ({ "whep-huge-sdp", "a real answer followed by 24 MiB of a= lines", nullptr,
      [] (const Request &r) {
        whep_ok (r, false, [] (const std::string &s) {
          std::string out = s;
          std::string line = "a=x-hostile:" + std::string (100, 'x') + "\r\n";
          out.reserve (s.size () + (24u << 20));
          while (out.size () < s.size () + (24u << 20))
            out += line;
          return out;
        });
      } });
  t.push_back ({ "whep-drop", "the POST's connection closes without a response", nullptr,
      [] (const Request &r) { r.drop (); } });
  t.push_back ({ "whep-patch-404", "Red5 Pro WHEP whose resource answers the PATCH 404",
      nullptr, [] (const Request &r) { whep_ok (r, true); },
      [] (const Request &r) {
        if (r.method == "PATCH")
          r.reply (SOUP_STATUS_NOT_FOUND, "text/plain", "hostile: gone");
        else
          resource_ok (r);
      } });
  t.push_back ({ "whep-delete-hangs", "everything right, but DELETE is never answered",
      nullptr, nullptr,
      [] (const Request &r) {
        if (r.method == "DELETE")
          r.hold ();
        else
          resource_ok (r);
      } });

  /* WebSocket */
  t.push_back ({ "ws-ok", "the WebSocket protocol done right, with a real peer" });
  t.push_back ({ "ws-garbage-text", "text frames that are not JSON objects, then a status",
      nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        for (const char *g : { "", "not json", "{", "[1,2,3]", "\"string\"", "null", "42",
                 "{\"data\":", "{\"data\":[]}", "{\"data\":{\"type\":7}}" })
          ws.send (g);
      }) });
  t.push_back ({ "ws-binary", "binary frames (some of them JSON), then a status",
      nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        ws.send_binary (std::string ("\x00\x01\x02\xff", 4));
        ws.send_binary (status_json ("NetConnection.Connect.Closed"));
      }) });
  t.push_back ({ "ws-huge-frame", "a 17 MiB text frame, then a status",
      nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) { ws.send (std::string (17u << 20, ' ')); }) });
  t.push_back ({ "ws-close-on-open", "the socket closes as soon as it opens",
      nullptr, nullptr, nullptr, [] (Ws &ws) { ws.close (); } });
  t.push_back ({ "ws-close-after-available", "the socket closes when asked isAvailable",
      nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) { ws.close (); }, false) });
  t.push_back ({ "ws-close-after-request-offer", "the socket closes when asked for an offer",
      nullptr, nullptr, nullptr, nullptr,
      [] (Ws &ws, JsonObject *m) {
        if (json_object_has_member (m, "requestOffer"))
          ws.close ();
        else
          ws_default (ws, m);
      } });
  t.push_back ({ "ws-close-after-answer", "a real offer; the socket closes at the answer",
      nullptr, nullptr, nullptr, nullptr,
      [] (Ws &ws, JsonObject *m) {
        if (json_object_has_member (m, "handleAnswer"))
          ws.close (SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
        else
          ws_default (ws, m);
      } });
  t.push_back ({ "ws-never-answers", "the socket opens and the server says nothing",
      nullptr, nullptr, nullptr, [] (Ws &) {} });
  t.push_back ({ "ws-rejected", "NetConnection.Connect.Rejected on open",
      nullptr, nullptr, nullptr,
      [] (Ws &ws) { ws.send (status_json ("NetConnection.Connect.Rejected", "bad creds")); } });
  t.push_back ({ "ws-connect-failed", "NetConnection.Connect.Failed on open",
      nullptr, nullptr, nullptr,
      [] (Ws &ws) { ws.send (status_json ("NetConnection.Connect.Failed")); } });
  t.push_back ({ "ws-error-message", "an error message, then a status",
      nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        ws.send (status_json ("Hostile.Error", "hostile error", "error"));
      }) });
  t.push_back ({ "ws-not-available", "isAvailable: false",
      nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) { ws.send ("{\"isAvailable\":false}"); }, false) });
  t.push_back ({ "ws-stream-not-found", "NetStream.Play.StreamNotFound",
      nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        ws.send (status_json ("NetStream.Play.StreamNotFound"));
      }, false) });
  t.push_back ({ "ws-unpublish", "NetStream.Play.UnpublishNotify",
      nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        ws.send (status_json ("NetStream.Play.UnpublishNotify"));
      }, false) });
  t.push_back ({ "ws-connect-closed", "NetConnection.Connect.Closed",
      nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        ws.send (status_json ("NetConnection.Connect.Closed"));
      }, false) });
  t.push_back ({ "ws-metadata-many-keys", "10 metadata messages of 10,000 unique keys each, "
      "and a publisher call with 10,000 more", nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        for (guint i = 0; i < 10; i++)
          ws.send (metadata_message ([i] (JsonBuilder *b) { add_many_keys (b, i * 10000, 10000); }));
        JsonBuilder *b = json_builder_new ();
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "send");
        json_builder_begin_object (b);
        add_member (b, "method", "onHostile");
        json_builder_set_member_name (b, "data");
        json_builder_begin_object (b);
        add_many_keys (b, 100000, 10000);
        json_builder_end_object (b);
        json_builder_end_object (b);
        add_member (b, "senderName", "hostile");
        json_builder_end_object (b);
        ws.send (json_builder_get_root (b));
        g_object_unref (b);
      }) });
  t.push_back ({ "ws-metadata-secret-echo", "metadata and a publisher call echoing the "
      "password the client sent, at the top and nested", nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        auto it = ws.query.find ("password");
        std::string secret = it == ws.query.end () ? "no-password-sent" : it->second;
        ws.send (metadata_message ([secret] (JsonBuilder *b) {
          add_member (b, "echo", secret);
          json_builder_set_member_name (b, "nested");
          json_builder_begin_object (b);
          add_member (b, "password", secret);
          json_builder_set_member_name (b, "deeper");
          json_builder_begin_array (b);
          json_builder_add_string_value (b, ("user:" + secret).c_str ());
          json_builder_end_array (b);
          json_builder_end_object (b);
        }));
        JsonBuilder *b = json_builder_new ();
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "send");
        json_builder_begin_object (b);
        add_member (b, "method", "onHostile");
        json_builder_set_member_name (b, "data");
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "inner");
        json_builder_begin_object (b);
        add_member (b, "secret", secret);
        json_builder_end_object (b);
        json_builder_end_object (b);
        json_builder_end_object (b);
        add_member (b, "senderName", secret);
        json_builder_end_object (b);
        ws.send (json_builder_get_root (b));
        g_object_unref (b);
        ws.send (status_json ("Hostile.Echo", "your password is " + secret));
      }) });
  t.push_back ({ "ws-metadata-1e300", "metadata width and height 1e300",
      nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        ws.send (metadata_message ([] (JsonBuilder *b) {
          json_builder_set_member_name (b, "width");
          json_builder_add_double_value (b, 1e300);
          json_builder_set_member_name (b, "height");
          json_builder_add_double_value (b, -1e300);
        }));
      }) });
  t.push_back ({ "ws-metadata-strings", "metadata numbers as strings (width \"640\", "
      "height \"480\") and an orientation number", nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        ws.send (metadata_message ([] (JsonBuilder *b) {
          add_member (b, "width", "640");
          add_member (b, "height", "480");
          json_builder_set_member_name (b, "orientation");
          json_builder_add_int_value (b, 90);
        }));
      }) });
  t.push_back ({ "ws-metadata-wrong-shape", "metadata that is an array, a string, null, and "
      "members with odd names", nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        for (const char *m : { "{\"type\":\"metadata\",\"metadata\":[1,2]}",
                 "{\"type\":\"metadata\",\"data\":\"x\"}", "{\"type\":\"metadata\",\"data\":null}",
                 "{\"type\":\"metadata\"}", "{\"send\":{\"method\":7,\"data\":[]}}" })
          ws.send (m);
        ws.send (metadata_message ([] (JsonBuilder *b) {
          for (const char *k : { "", " ", "0lead", "with space", "é", "a\"b", "width" }) {
            json_builder_set_member_name (b, k);
            json_builder_add_null_value (b);
          }
        }));
      }) });
  t.push_back ({ "ws-offer-garbage", "an offer whose sdp is not SDP",
      nullptr, nullptr, nullptr, nullptr,
      [] (Ws &ws, JsonObject *m) {
        if (json_object_has_member (m, "requestOffer"))
          ws.send (sdp_message ("offer", "this is not SDP"));
        else
          ws_default (ws, m);
      } });
  t.push_back ({ "ws-offer-is-answer", "a real offer whose a=setup says active (an offer "
      "dressed as an answer)", nullptr, nullptr, nullptr, nullptr,
      [] (Ws &ws, JsonObject *m) {
        if (json_object_has_member (m, "requestOffer"))
          ws_offer (ws, [] (const std::string &s) { return sdp_with_setup (s, "active"); });
        else
          ws_default (ws, m);
      } });
  t.push_back ({ "ws-candidate-garbage", "candidates that are not candidates (bad text, "
      "m-line 4294967295, -1, 1e300), then a status", nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        for (const char *c : {
                 "{\"data\":{\"candidate\":{\"candidate\":\"garbage\",\"sdpMLineIndex\":0}}}",
                 "{\"data\":{\"candidate\":{\"candidate\":\"candidate:1 1 UDP 1 127.0.0.1 9 typ host\",\"sdpMLineIndex\":4294967295}}}",
                 "{\"data\":{\"candidate\":{\"candidate\":\"candidate:1 1 UDP 1 127.0.0.1 9 typ host\",\"sdpMLineIndex\":-1}}}",
                 "{\"data\":{\"candidate\":{\"candidate\":\"candidate:1 1 UDP 1 127.0.0.1 9 typ host\",\"sdpMLineIndex\":1e300}}}",
                 "{\"data\":{\"candidate\":{\"candidate\":7}}}" })
          ws.send (c);
      }) });
  t.push_back ({ "ws-utf8-escapes", "JSON escapes that decode to invalid UTF-8 (a lone "
      "surrogate) or cut a string (\\u0000) in a status, an error and metadata, then a status",
      nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        /* valid JSON text (RFC 8259 allows lone surrogates in escapes): written out, as no
         * JSON library produces it */
        ws.send ("{\"data\":{\"type\":\"status\",\"code\":\"Hostile.Escape\","
                 "\"message\":\"a\\ud800b\",\"description\":\"c\\u0000d\"}}");
        ws.send ("{\"data\":{\"type\":\"error\",\"message\":\"e\\udfffrror\"}}");
        ws.send ("{\"type\":\"metadata\",\"data\":{\"title\":\"t\\ud83d\",\"width\":320}}");
      }) });
  t.push_back ({ "ws-deep-nesting", "a 200 kB message of 100,000 nested arrays",
      nullptr, nullptr, nullptr, nullptr,
      on_available ([] (Ws &ws) {
        ws.send ("{\"type\":\"metadata\",\"data\":{\"x\":" + deep_nesting (100000) + "}}");
      }) });
  return t;
}

const std::vector<Scenario> &
scenarios ()
{
  static const std::vector<Scenario> table = build ();
  return table;
}

const Scenario *
find_scenario (const std::string &name)
{
  for (const auto &s : scenarios ())
    if (name == s.name)
      return &s;
  return nullptr;
}

}  // namespace hostile
