/* Fuzzes parse_sm2_lookup: the Stream Manager 2.0 answer. Input: status (two bytes), the
 * stream name, a NUL, the body. An OK names a usable edge host and an app that, with the
 * stream name, makes the streamGuid it came from. */
#include "fuzz-common.h"
#include "red5pro-edge-lookup.h"
#include "red5pro-url.h"

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  guint status = 100 + ((guint (data[0]) << 8 | data[1]) % 500);
  auto parts = fuzz_split (data + 2, size - 2, 1);
  const std::string &stream = parts[0], &body = parts[1];
  auto o = red5pro::parse_sm2_lookup (status, body, stream);
  using K = red5pro::LookupOutcome::Kind;
  if (o.kind == K::OK) {
    FUZZ_CHECK (status >= 200 && status < 300, "OK from HTTP %u", status);
    FUZZ_CHECK (red5pro::host_is_valid (o.edge.address), "OK with edge '%s'",
        o.edge.address.c_str ());
  } else {
    FUZZ_CHECK (!o.reason.empty (), "a failure without a reason (HTTP %u)", status);
  }
  FUZZ_CHECK (g_utf8_validate (o.reason.c_str (), -1, nullptr), "reason is not UTF-8");
  return 0;
}
