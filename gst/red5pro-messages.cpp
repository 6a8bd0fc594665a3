/* red5pro-messages: parsing Red5 Pro server messages with json-glib. */
#include "red5pro-messages.h"

#include <json-glib/json-glib.h>

#include <atomic>
#include <cstring>

namespace red5pro {

ServerMessage &
ServerMessage::operator= (ServerMessage &&o) noexcept
{
  if (this == &o)
    return *this;
  kind = o.kind;
  code = std::move (o.code);
  message = std::move (o.message);
  description = std::move (o.description);
  statistics = std::move (o.statistics);
  sdp = std::move (o.sdp);
  candidate = std::move (o.candidate);
  mid = std::move (o.mid);
  mline = o.mline;
  available = o.available;
  method = std::move (o.method);
  sender = std::move (o.sender);
  if (data)
    gst_structure_free (data);
  data = o.data;
  o.data = nullptr;
  return *this;
}

ServerMessage::~ServerMessage ()
{
  if (data)
    gst_structure_free (data);
}

namespace {

JsonObject *
object_member (JsonObject *obj, const char *name)
{
  if (!obj)
    return nullptr;
  JsonNode *n = json_object_get_member (obj, name);
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : nullptr;
}

/* A member as text: strings as they are, numbers and booleans printed. */
std::string
text_member (JsonObject *obj, const char *name)
{
  if (!obj)
    return {};
  JsonNode *n = json_object_get_member (obj, name);
  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return {};
  GType t = json_node_get_value_type (n);
  if (t == G_TYPE_STRING)
    return json_string (n);
  if (t == G_TYPE_INT64)
    return std::to_string (json_node_get_int (n));
  if (t == G_TYPE_DOUBLE)
    return std::to_string (json_node_get_double (n));
  if (t == G_TYPE_BOOLEAN)
    return json_node_get_boolean (n) ? "true" : "false";
  return {};
}

/* Field names become GQuarks, which live as long as the process: a server must not be able
 * to grow that table without end. Names already known cost nothing; new ones come out of
 * this budget, and once it is spent they are left out (the message's text still has them). */
std::atomic<guint> new_key_budget { MAX_NEW_KEYS };

bool
key_allowed (const char *key)
{
  if (g_quark_try_string (key))
    return true;
  guint left = new_key_budget.load ();
  while (left > 0 && !new_key_budget.compare_exchange_weak (left, left - 1)) {
  }
  return left > 0;
}

/* A JSON object as a GstStructure: scalars typed, nested values as JSON text. */
GstStructure *
structure_from_object (const char *name, JsonObject *obj)
{
  GstStructure *s = gst_structure_new_empty (name);
  if (!obj)
    return s;
  JsonObjectIter it;
  const char *key;
  JsonNode *n;
  guint fields = 0;
  json_object_iter_init (&it, obj);
  while (json_object_iter_next (&it, &key, &n) && fields < MAX_FIELDS) {
    /* GstStructure field names must be valid: skip what is not */
    if (!key || !g_ascii_isalpha (key[0]) || strlen (key) > 64)
      continue;
    bool valid = true;
    for (const char *c = key; *c; c++)
      valid = valid && (g_ascii_isalnum (*c) || strchr ("-_+/:.", *c));
    if (!valid || !key_allowed (key))
      continue;
    fields++;
    if (JSON_NODE_HOLDS_VALUE (n)) {
      GType t = json_node_get_value_type (n);
      if (t == G_TYPE_STRING)
        gst_structure_set (s, key, G_TYPE_STRING, json_string (n).c_str (), NULL);
      else if (t == G_TYPE_INT64)
        gst_structure_set (s, key, G_TYPE_INT64, json_node_get_int (n), NULL);
      else if (t == G_TYPE_DOUBLE)
        gst_structure_set (s, key, G_TYPE_DOUBLE, json_node_get_double (n), NULL);
      else if (t == G_TYPE_BOOLEAN)
        gst_structure_set (s, key, G_TYPE_BOOLEAN, json_node_get_boolean (n), NULL);
    } else if (!JSON_NODE_HOLDS_NULL (n)) {
      char *json = json_to_string (n, FALSE);
      gst_structure_set (s, key, G_TYPE_STRING, json, NULL);
      g_free (json);
    }
  }
  return s;
}

void
parse_status_or_error (ServerMessage &m, JsonObject *obj)
{
  std::string type = text_member (obj, "type");
  m.kind = type == "error" ? ServerMessage::Kind::ERROR : ServerMessage::Kind::STATUS;
  m.code = text_member (obj, "code");
  /* some servers put the code in "status" */
  if (m.code.empty ())
    m.code = text_member (obj, "status");
  m.message = text_member (obj, "message");
  m.description = text_member (obj, "description");
  m.statistics = text_member (obj, "statistics");
  if (m.kind == ServerMessage::Kind::ERROR && m.message.empty ())
    m.message = m.code;
}

/* The 16-bit value of the \uXXXX escape whose 'u' is at text[i], or -1. */
int
unicode_escape_at (const std::string &text, size_t i)
{
  if (i + 4 >= text.size () || text[i] != 'u')
    return -1;
  int v = 0;
  for (size_t k = i + 1; k <= i + 4; k++) {
    int d = g_ascii_xdigit_value (text[k]);
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

}  // namespace

JsonNode *
parse_json_bounded (JsonParser *parser, const std::string &text)
{
  if (text.empty ())
    return nullptr;
  /* One pass before json-glib: brackets outside strings, counted as json-glib would recurse
   * into them; and every lone surrogate escape (\ud800 without its pair) made \ufffd.
   * json-glib 1.6 (Debian 12) let a lone surrogate through as invalid UTF-8 (json_string
   * mends that); json-glib 1.10 (Debian 13) refuses the whole text ("invalid surrogate"),
   * which lost a server status for one odd character. Rewritten here, both versions read
   * the same message. */
  std::string mended;   /* a copy only once something is rewritten */
  guint depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size (); i++) {
    char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
        int v = c == 'u' ? unicode_escape_at (text, i) : -1;
        if (v >= 0xD800 && v <= 0xDBFF && i + 6 < text.size () && text[i + 5] == '\\' &&
            unicode_escape_at (text, i + 6) >= 0xDC00 &&
            unicode_escape_at (text, i + 6) <= 0xDFFF) {
          i += 10;   /* a pair: both escapes as they are */
        } else if (v >= 0xD800 && v <= 0xDFFF) {
          if (mended.empty ())
            mended = text;
          mended.replace (i + 1, 4, "fffd");
          i += 4;
        }
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > MAX_JSON_DEPTH)
        return nullptr;
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
  const std::string &json = mended.empty () ? text : mended;
  if (!json_parser_load_from_data (parser, json.data (), gssize (json.size ()), nullptr))
    return nullptr;
  return json_parser_get_root (parser);
}

std::string
json_string (JsonNode *node)
{
  const char *s = node ? json_node_get_string (node) : nullptr;
  if (!s)
    return {};
  g_autofree char *valid = g_utf8_make_valid (s, -1);
  return valid;
}

ServerMessage
parse_server_message (const std::string &text)
{
  ServerMessage m;
  if (text.empty () || text.size () > MAX_MESSAGE_SIZE)
    return m;
  JsonParser *parser = json_parser_new ();
  JsonNode *root_node = parse_json_bounded (parser, text);
  if (!root_node || !JSON_NODE_HOLDS_OBJECT (root_node)) {
    g_object_unref (parser);
    return m;
  }
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonObject *data = object_member (root, "data");
  m.kind = ServerMessage::Kind::UNKNOWN;

  if (json_object_has_member (root, "isAvailable")) {
    JsonNode *n = json_object_get_member (root, "isAvailable");
    m.kind = ServerMessage::Kind::AVAILABLE;
    m.available = JSON_NODE_HOLDS_VALUE (n) &&
        json_node_get_value_type (n) == G_TYPE_BOOLEAN && json_node_get_boolean (n);
  } else if (JsonObject *send = object_member (root, "send")) {
    m.kind = ServerMessage::Kind::SEND;
    m.method = text_member (send, "method");
    m.sender = text_member (root, "senderName");
    m.data = structure_from_object ("red5pro-send", object_member (send, "data"));
  } else if (text_member (root, "type") == "metadata") {
    m.kind = ServerMessage::Kind::METADATA;
    JsonObject *md = object_member (root, "metadata");
    if (!md)
      md = object_member (root, "data");
    m.method = text_member (root, "method");
    m.data = structure_from_object ("red5pro-metadata", md);
  } else if (text_member (root, "type") == "error") {
    parse_status_or_error (m, root);
  } else if (data && object_member (data, "sdp")) {
    JsonObject *sdp = object_member (data, "sdp");
    if (text_member (sdp, "type") == "offer") {
      m.kind = ServerMessage::Kind::OFFER;
      m.sdp = text_member (sdp, "sdp");
    }
  } else if (data && object_member (data, "candidate")) {
    JsonObject *c = object_member (data, "candidate");
    m.kind = ServerMessage::Kind::CANDIDATE;
    m.candidate = text_member (c, "candidate");
    m.mid = text_member (c, "sdpMid");
    std::string idx = text_member (c, "sdpMLineIndex");
    m.mline = idx.empty () ? 0 : guint (g_ascii_strtoull (idx.c_str (), nullptr, 10));
  } else if (data && (text_member (data, "type") == "status" ||
                 text_member (data, "type") == "error")) {
    parse_status_or_error (m, data);
  } else if (data && text_member (data, "type") == "result") {
    m.kind = ServerMessage::Kind::RESULT;
    m.message = text_member (data, "message");
    m.id = text_member (data, "id");
    if (m.id.empty ())
      m.id = text_member (root, "id");
    if (JsonNode *r = json_object_get_member (data, "data")) {
      g_autofree char *t = json_to_string (r, FALSE);
      if (t && strlen (t) <= MAX_CLIENT_MESSAGE && g_utf8_validate (t, -1, nullptr))
        m.result = t;
    }
  } else if (data && text_member (data, "type") == "metadata") {
    m.kind = ServerMessage::Kind::METADATA;
    JsonObject *md = object_member (data, "metadata");
    m.data = structure_from_object ("red5pro-metadata", md ? md : object_member (data, "data"));
  }
  g_object_unref (parser);
  return m;
}

namespace {

/* the builder's root as compact JSON text, "" when over MAX_CLIENT_MESSAGE; b is taken */
std::string
finish_message (JsonBuilder *b)
{
  JsonNode *root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  json_node_unref (root);
  g_object_unref (b);
  std::string out = text ? text : "";
  return out.size () <= MAX_CLIENT_MESSAGE ? out : "";
}

/* the application's JSON, checked as a server's is (depth); nullptr when it is not JSON */
JsonNode *
client_json (JsonParser *parser, const std::string &text)
{
  if (text.size () > MAX_CLIENT_MESSAGE)
    return nullptr;
  return parse_json_bounded (parser, text);
}

}  // namespace

std::string
send_message (const std::string &method, const std::string &json_data)
{
  JsonParser *parser = json_parser_new ();
  JsonNode *data = client_json (parser, json_data.empty () ? "null" : json_data);
  if (!data || method.empty () || !g_utf8_validate (method.c_str (), -1, nullptr)) {
    g_object_unref (parser);
    return "";
  }
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "send");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, method.c_str ());
  json_builder_set_member_name (b, "data");
  json_builder_add_value (b, json_node_copy (data));
  json_builder_end_object (b);
  json_builder_end_object (b);
  g_object_unref (parser);
  return finish_message (b);
}

static std::string
call_with (const std::string &method, JsonNode *arguments, const std::string &id)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "callAdapter");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, method.c_str ());
  json_builder_set_member_name (b, "arguments");
  if (JSON_NODE_HOLDS_ARRAY (arguments)) {
    json_builder_add_value (b, arguments);
  } else {
    json_builder_begin_array (b);
    json_builder_add_value (b, arguments);
    json_builder_end_array (b);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id.c_str ());
  json_builder_set_member_name (b, "async");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_end_object (b);
  return finish_message (b);
}

std::string
call_message (const std::string &method, const std::string &json_arguments,
    const std::string &id)
{
  JsonParser *parser = json_parser_new ();
  JsonNode *args = client_json (parser, json_arguments.empty () ? "[]" : json_arguments);
  std::string out;
  if (args && !method.empty () && g_utf8_validate (method.c_str (), -1, nullptr))
    out = call_with (method, json_node_copy (args), id);
  g_object_unref (parser);
  return out;
}

std::string
switch_streams_message (const std::string &path, bool immediate, const std::string &id)
{
  if (path.empty () || !g_utf8_validate (path.c_str (), -1, nullptr))
    return "";
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, path.c_str ());
  json_builder_set_member_name (b, "isImmediate");
  json_builder_add_boolean_value (b, immediate);
  json_builder_end_object (b);
  json_builder_end_array (b);
  JsonNode *args = json_builder_get_root (b);
  g_object_unref (b);
  return call_with ("switchStreams", args, id);
}

std::string
make_call_id ()
{
  char buf[20];
  g_snprintf (buf, sizeof buf, "%08x%08x", g_random_int (), g_random_int ());
  return buf;
}

std::string
mute_message (bool audio, bool video)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "mute");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "muteAudio");
  json_builder_add_boolean_value (b, audio);
  json_builder_set_member_name (b, "muteVideo");
  json_builder_add_boolean_value (b, video);
  json_builder_end_object (b);
  json_builder_end_object (b);
  JsonNode *root = json_builder_get_root (b);
  char *text = json_to_string (root, FALSE);
  std::string out = text;
  g_free (text);
  json_node_unref (root);
  g_object_unref (b);
  return out;
}

}  // namespace red5pro
