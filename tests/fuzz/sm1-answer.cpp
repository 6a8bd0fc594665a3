/* Fuzzes parse_sm1_lookup: the Stream Manager 1.x answer (status from the first two bytes,
 * the body after them). Whatever the body, an OK names a usable edge host. */
#include "fuzz-common.h"
#include "red5pro-edge-lookup.h"
#include "red5pro-url.h"

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  guint status = 100 + ((guint (data[0]) << 8 | data[1]) % 500);
  std::string body (reinterpret_cast<const char *> (data + 2), size - 2);
  auto o = red5pro::parse_sm1_lookup (status, body);
  using K = red5pro::LookupOutcome::Kind;
  if (o.kind == K::OK) {
    FUZZ_CHECK (status >= 200 && status < 300, "OK from HTTP %u", status);
    FUZZ_CHECK (red5pro::host_is_valid (o.edge.address), "OK with edge '%s'",
        o.edge.address.c_str ());
    FUZZ_CHECK (o.edge.app.empty () || o.edge.app[0] != '/', "app '%s'", o.edge.app.c_str ());
  } else {
    FUZZ_CHECK (!o.reason.empty (), "a failure without a reason (HTTP %u)", status);
  }
  if (status == 401 || status == 403)
    FUZZ_CHECK (o.kind == K::UNAUTHORIZED, "HTTP %u is not unauthorized", status);
  FUZZ_CHECK (g_utf8_validate (o.reason.c_str (), -1, nullptr), "reason is not UTF-8");
  return 0;
}
