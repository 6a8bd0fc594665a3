/* red5pro-failure: failure kinds, the HTTP classifier, the element's error messages. */
#include "red5pro-failure.h"

#include <cstring>

namespace red5pro {

const char *
failure_kind_name (Failure::Kind kind)
{
  switch (kind) {
    case Failure::Kind::NONE: return "none";
    case Failure::Kind::NOT_FOUND: return "not-found";
    case Failure::Kind::UNAUTHORIZED: return "unauthorized";
    case Failure::Kind::UNREACHABLE: return "unreachable";
    case Failure::Kind::CERTIFICATE: return "certificate";
    case Failure::Kind::REFUSED: return "refused";
    case Failure::Kind::SERVER_ERROR: return "server-error";
    case Failure::Kind::PROTOCOL: return "protocol-error";
    case Failure::Kind::CONNECTION_CLOSED: return "connection-closed";
    case Failure::Kind::UNPUBLISHED: return "unpublished";
    case Failure::Kind::INACTIVE: return "inactivity";
    case Failure::Kind::UNSUPPORTED: return "unsupported-codec";
    case Failure::Kind::INTERNAL: return "internal-error";
  }
  return "unknown";
}

const char *
connect_failure_reason (Failure::Kind kind)
{
  return kind == Failure::Kind::PROTOCOL ? "bad-response" : failure_kind_name (kind);
}

bool
failure_is_final (Failure::Kind kind, bool retry_on_auth_failure)
{
  return kind == Failure::Kind::UNSUPPORTED || kind == Failure::Kind::INTERNAL ||
      (kind == Failure::Kind::UNAUTHORIZED && !retry_on_auth_failure);
}

std::string
text_excerpt (const std::string &text, gsize max)
{
  g_autofree gchar *valid = g_utf8_make_valid (text.data (), gssize (text.size ()));
  if (strlen (valid) <= max)
    return valid;
  /* the last character that starts within max bytes, and no more */
  const gchar *end = g_utf8_find_prev_char (valid, valid + max + 1);
  return std::string (valid, end ? gsize (end - valid) : 0) + "...";
}

Failure
http_failure (const HttpResult &r, const std::string &what, bool any_4xx_not_found,
    const std::string &detail)
{
  using K = Failure::Kind;
  if (!r.refused.empty ())
    return Failure (K::PROTOCOL, what + ": " + r.refused, r.status);
  if (r.status == 0) {
    if (r.too_large)
      return Failure (K::PROTOCOL, what + ": " + r.error);
    if (r.tls_failed)
      return Failure (K::CERTIFICATE, r.error);
    return Failure (K::UNREACHABLE, what + " failed: " + r.error);
  }
  if (r.status >= 200 && r.status < 300)
    return Failure ();
  if (r.status == 407)
    return Failure (K::UNAUTHORIZED, what + " answered HTTP 407: an HTTP proxy between us and "
        "the server requires authentication (see the http_proxy environment variable)", 407);
  K kind = r.status == 401 || r.status == 403 ? K::UNAUTHORIZED
      : r.status == 404 || r.status == 409 ? K::NOT_FOUND
      : r.status >= 400 && r.status < 500 ? (any_4xx_not_found ? K::NOT_FOUND : K::REFUSED)
      : r.status >= 500 && r.status < 600 ? K::SERVER_ERROR
      : K::REFUSED;
  std::string said = detail.empty () ? text_excerpt (r.body, 200) : text_excerpt (detail, 200);
  return Failure (kind, what + " answered HTTP " + std::to_string (r.status) +
      (said.empty () ? "" : ": " + said), r.status);
}

void
post_failure_error (GstElement *element, const Failure &f, const std::string &stream,
    const std::string &host_or_empty, bool retried)
{
  const std::string &host = f.edge.empty () ? host_or_empty : f.edge;
  std::string debug = f.reason + (retried ? " (retries exhausted)" : "");
  const char *s = stream.c_str (), *h = host.c_str (), *d = debug.c_str ();
  const char *reason = failure_name (f);
  guint status = f.http_status;
  /* the error's details: what an application can act on without parsing the message */
#define DETAILS ("reason", G_TYPE_STRING, reason, "http-status", G_TYPE_UINT, status, \
    "edge", G_TYPE_STRING, h, "stream-name", G_TYPE_STRING, s, "retried", G_TYPE_BOOLEAN, \
    gboolean (retried), NULL)
#define POST(domain, code, ...) \
  GST_ELEMENT_ERROR_WITH_DETAILS (element, domain, code, (__VA_ARGS__), ("%s", d), DETAILS)
  switch (f.kind) {
    case Failure::Kind::NOT_FOUND:
      POST (RESOURCE, NOT_FOUND, "Stream '%s' was not found on %s", s, h);
      break;
    case Failure::Kind::UNAUTHORIZED:
      POST (RESOURCE, NOT_AUTHORIZED, "Not authorized to subscribe to '%s' on %s", s, h);
      break;
    case Failure::Kind::UNREACHABLE:
      POST (RESOURCE, OPEN_READ, "Could not reach %s", h);
      break;
    case Failure::Kind::REFUSED:
    case Failure::Kind::SERVER_ERROR:
      POST (RESOURCE, OPEN_READ, "%s refused the subscription to '%s'", h, s);
      break;
    case Failure::Kind::CERTIFICATE:
      GST_ELEMENT_ERROR_WITH_DETAILS (element, RESOURCE, OPEN_READ,
          ("The TLS certificate of %s is not trusted: %s", h, f.reason.c_str ()),
          ("set ca-file to trust a private CA, or tls-insecure=true to skip the check; %s", d),
          DETAILS);
      break;
    case Failure::Kind::PROTOCOL:
      POST (RESOURCE, READ, "Unexpected answer from %s while subscribing to '%s'", h, s);
      break;
    case Failure::Kind::CONNECTION_CLOSED:
    case Failure::Kind::INACTIVE:
      POST (RESOURCE, READ, "Lost the connection to %s", h);
      break;
    case Failure::Kind::UNPUBLISHED:
      POST (RESOURCE, READ, "Stream '%s' was unpublished", s);
      break;
    case Failure::Kind::UNSUPPORTED:
      POST (STREAM, CODEC_NOT_FOUND, "Cannot receive '%s': %s", s, f.reason.c_str ());
      break;
    case Failure::Kind::NONE:
    case Failure::Kind::INTERNAL:
      POST (CORE, FAILED, "Could not subscribe to '%s': %s", s, f.reason.c_str ());
      break;
  }
#undef POST
#undef DETAILS
}

}  // namespace red5pro
