/* Fuzzes URL building and redaction. Input, NUL-separated: host, path segment, query key,
 * query value, a text, a Location. A host that host_is_valid accepts gives a URL that GLib
 * parses back with that host; the value of a secret key never survives redact_url; a secret
 * never survives redact; resolve_url gives "" or a parsable URL. */
#include "fuzz-common.h"
#include "red5pro-url.h"

#include <cstring>

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  auto p = fuzz_split (data, size, 5);
  const std::string &host = p[0], &segment = p[1], &key = p[2], &value = p[3], &text = p[4],
      &location = p[5];
  for (const auto &s : p)
    if (!g_utf8_validate (s.data (), gssize (s.size ()), nullptr))
      return 0;   /* properties and headers reach these functions as UTF-8 */

  if (red5pro::host_is_valid (host)) {
    std::string url = red5pro::build_url ("https", host, 443, { "live", segment },
        { { key, value }, { "id", "subscriber-1" } });
    GUri *uri = g_uri_parse (url.c_str (), G_URI_FLAGS_ENCODED, nullptr);
    FUZZ_CHECK (uri != nullptr, "host '%s' is valid, but the URL %s does not parse",
        host.c_str (), url.c_str ());
    if (uri) {
      std::string parsed = g_uri_get_host (uri) ? g_uri_get_host (uri) : "";
      FUZZ_CHECK (g_ascii_strcasecmp (parsed.c_str (), host.c_str ()) == 0,
          "host '%s' became '%s' in %s", host.c_str (), parsed.c_str (), url.c_str ());
      g_uri_unref (uri);
    }
    /* a secret value, not found elsewhere in the URL, is gone once redacted */
    if (red5pro::key_is_secret (key) && value.size () >= 4 &&
        value.find ('*') == std::string::npos) {
      std::string redacted = red5pro::redact_url (url);
      std::string rest = red5pro::build_url ("https", host, 443, { "live", segment },
          { { key, "" }, { "id", "subscriber-1" } });
      char *escaped = g_uri_escape_string (value.c_str (), nullptr, FALSE);
      bool elsewhere = rest.find (value) != std::string::npos ||
          rest.find (escaped) != std::string::npos;
      FUZZ_CHECK (elsewhere || (redacted.find (value) == std::string::npos &&
          redacted.find (escaped) == std::string::npos), "'%s=%s' survives in %s",
          key.c_str (), value.c_str (), redacted.c_str ());
      g_free (escaped);
    }
  }
  if (!value.empty () && value.find ('*') == std::string::npos) {
    std::string out = red5pro::redact (text, { value });
    FUZZ_CHECK (out.find (value) == std::string::npos, "'%s' survives redact: %s",
        value.c_str (), out.c_str ());
  }
  std::string base = "https://127.0.0.1:443/live/whep/endpoint/stream1?requestId=x";
  std::string resolved = red5pro::resolve_url (base, location);
  if (!resolved.empty ()) {
    GUri *uri = g_uri_parse (resolved.c_str (), G_URI_FLAGS_ENCODED, nullptr);
    FUZZ_CHECK (uri != nullptr, "resolve_url gave %s, which does not parse", resolved.c_str ());
    if (uri)
      g_uri_unref (uri);
  }
  return 0;
}
