/* red5pro-failure: why an attempt failed, classified once. The one Failure type every
 * client (Stream Manager, WHEP, WebSocket, the peer) reports, the HTTP/transport classifier,
 * and what each kind means to users: event reasons and the element's error. */
#pragma once

#include "red5pro-worker.h"

#include <gst/gst.h>

#include <string>

namespace red5pro {

struct Failure {
  enum class Kind {
    NONE,               /* no failure */
    NOT_FOUND,          /* stream unknown or not available (yet) */
    UNAUTHORIZED,       /* 401/403, rejected credentials */
    UNREACHABLE,        /* no answer from the Stream Manager or edge */
    CERTIFICATE,        /* a TLS certificate was refused */
    REFUSED,            /* an HTTP error that is none of the above */
    SERVER_ERROR,       /* 5xx */
    PROTOCOL,           /* an answer we cannot use (bad JSON, bad SDP, negotiation failed) */
    CONNECTION_CLOSED,  /* the peer connection or signaling failed or closed */
    UNPUBLISHED,        /* the publisher stopped (NetStream.Play.UnpublishNotify) */
    INACTIVE,           /* no media for the inactivity timeout */
    UNSUPPORTED,        /* media we cannot depayload, parse or decode: no edge helps */
    INTERNAL,           /* a missing element, or the application's pipeline takes nothing */
  };
  Kind kind = Kind::NONE;
  guint http_status = 0;
  std::string reason;   /* human readable, secrets redacted by whoever posts it */
  std::string edge;     /* where it happened, when known */
  /* the reason events give, when not the kind's own (a health event's: ice-timeout...) */
  const char *name = nullptr;

  Failure () = default;
  Failure (Kind k, std::string why, guint status = 0)
    : kind (k), http_status (status), reason (std::move (why)) {}
  bool failed () const { return kind != Kind::NONE; }
};

/* Subscribe.Fail / Red5Pro.Retry.* "reason": not-found, unauthorized, ... */
const char *failure_kind_name (Failure::Kind kind);
/* the failure's own name if it has one, else its kind's */
inline const char *
failure_name (const Failure &f)
{
  return f.name ? f.name : failure_kind_name (f.kind);
}
/* Connect.Failure "reason" (a failure to reach or be taken by a server). */
const char *connect_failure_reason (Failure::Kind kind);
/* True for the failures no retry can fix. */
bool failure_is_final (Failure::Kind kind, bool retry_on_auth_failure);

/* How an HTTP exchange went: NONE for a 2xx; 401/403 unauthorized (407 too, naming the
 * proxy); 404/409 (any 4xx when
 * any_4xx_not_found) not found; other 4xx refused; 5xx server error; no response at all
 * unreachable, or certificate when TLS refused it. what names the request in the reason
 * ("WHEP POST"); detail is the server's own words, when it said something. */
Failure http_failure (const HttpResult &r, const std::string &what, bool any_4xx_not_found,
    const std::string &detail);

/* At most max bytes of a server's text, cut at a character boundary, made valid UTF-8
 * (event fields and error messages must be). */
std::string text_excerpt (const std::string &text, gsize max);

/* The element's error for a failure it gives up on (GST_ELEMENT_ERROR_WITH_DETAILS: the
 * details carry reason, http-status and edge). */
void post_failure_error (GstElement *element, const Failure &f, const std::string &stream,
    const std::string &host, bool retried);

}  // namespace red5pro
