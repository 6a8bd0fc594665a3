/* Fuzzes the WHEP SDP handling: classify_sdp on any body, parse_sdpfrag on any trickle
 * answer, and build_sdpfrag of what was parsed, which must parse back to the same
 * candidates (the PATCH the element sends is what it meant to send). */
#include "fuzz-common.h"
#include "red5pro-whep.h"

#include <algorithm>

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string text (reinterpret_cast<const char *> (data), size);
  red5pro::SdpKind kind = red5pro::classify_sdp (text);
  FUZZ_CHECK (kind == red5pro::SdpKind::OFFER || kind == red5pro::SdpKind::ANSWER ||
      kind == red5pro::SdpKind::INVALID, "kind %d", int (kind));
  auto cands = red5pro::parse_sdpfrag (text);
  for (const auto &c : cands)
    FUZZ_CHECK (g_str_has_prefix (c.candidate.c_str (), "candidate:"), "'%s'",
        c.candidate.c_str ());
  if (cands.empty ())
    return 0;
  std::string frag = red5pro::build_sdpfrag ("ufrag", "pwd", cands);
  auto back = red5pro::parse_sdpfrag (frag);
  FUZZ_CHECK (back.size () == cands.size (), "%zu candidates built, %zu parsed back from:\n%s",
      cands.size (), back.size (), frag.c_str ());
  for (const auto &c : cands) {
    bool found = std::any_of (back.begin (), back.end (), [&] (const red5pro::IceCandidate &b) {
      return b.candidate == c.candidate && b.mid == c.mid;
    });
    FUZZ_CHECK (found, "candidate '%s' (mid '%s') lost in:\n%s", c.candidate.c_str (),
        c.mid.c_str (), frag.c_str ());
  }
  return 0;
}
