/* fuzz-common: what every libFuzzer target of red5pro-core shares: GStreamer initialised
 * once (GstStructure needs it), and a check that aborts with a message, so that libFuzzer
 * keeps the input as a crash. */
#pragma once

#include <gst/gst.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#define FUZZ_CHECK(cond, ...)                                                              \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      fprintf (stderr, "FUZZ_CHECK failed: %s: ", #cond);                                 \
      fprintf (stderr, __VA_ARGS__);                                                      \
      fprintf (stderr, "\n");                                                             \
      abort ();                                                                           \
    }                                                                                     \
  } while (0)

extern "C" int
LLVMFuzzerInitialize (int *, char ***)
{
  /* no registry scan: the parsers need the core types only */
  g_setenv ("GST_REGISTRY_DISABLE", "yes", TRUE);
  gst_init (nullptr, nullptr);
  return 0;
}

/* Splits data at the first n NUL bytes into n + 1 strings (missing parts are empty). */
static inline std::vector<std::string>
fuzz_split (const uint8_t *data, size_t size, size_t n)
{
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < size; i++) {
    if (data[i] == 0 && out.size () < n) {
      out.push_back (cur);
      cur.clear ();
    } else {
      cur += char (data[i]);
    }
  }
  out.push_back (cur);
  while (out.size () < n + 1)
    out.emplace_back ();
  return out;
}
