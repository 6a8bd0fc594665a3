/* Fuzzes parse_server_message: Red5 Pro's JSON messages from the WebSocket and the data
 * channel. Never fatal: whatever arrives is one kind, its texts are UTF-8, and its payload
 * (metadata, send data) is a GstStructure GStreamer can print and copy. */
#include "fuzz-common.h"
#include "red5pro-messages.h"

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string text (reinterpret_cast<const char *> (data), size);
  red5pro::ServerMessage m = red5pro::parse_server_message (text);
  using K = red5pro::ServerMessage::Kind;
  if (size == 0 || size > red5pro::MAX_MESSAGE_SIZE)
    FUZZ_CHECK (m.kind == K::INVALID, "%zu bytes not refused", size);
  for (const std::string *s : { &m.code, &m.message, &m.description, &m.sdp, &m.candidate,
           &m.mid, &m.method, &m.sender })
    FUZZ_CHECK (g_utf8_validate (s->data (), gssize (s->size ()), nullptr), "a field is not UTF-8");
  if (m.data) {
    FUZZ_CHECK (m.kind == K::METADATA || m.kind == K::SEND, "data on kind %d", int (m.kind));
    gchar *printed = gst_structure_to_string (m.data);
    FUZZ_CHECK (printed != nullptr, "unprintable payload");
    g_free (printed);
    GstStructure *copy = gst_structure_copy (m.data);
    FUZZ_CHECK (gst_structure_is_equal (copy, m.data), "payload copy differs");
    gst_structure_free (copy);
  }
  /* moving keeps exactly one owner of the payload */
  red5pro::ServerMessage moved = std::move (m);
  (void) moved;
  return 0;
}
