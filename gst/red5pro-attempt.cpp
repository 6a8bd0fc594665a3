/* red5pro-attempt: what every attempt does alike: its events, its failures, its end. */
#include "red5pro-attempt.h"
#include "red5pro-events.h"
#include "red5pro-messages.h"

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

void
add_attempt_bin (GstElement *element, GstBin *bin)
{
  gst_bin_add (GST_BIN (element), GST_ELEMENT (bin));
  gst_element_sync_state_with_parent (GST_ELEMENT (bin));
}

void
remove_attempt_bin (GstElement *element, GstBin *bin)
{
  gst_element_set_locked_state (GST_ELEMENT (bin), TRUE);
  if (GST_OBJECT_PARENT (bin) == GST_OBJECT (element))
    gst_bin_remove (GST_BIN (element), GST_ELEMENT (bin));
  gst_element_set_state (GST_ELEMENT (bin), GST_STATE_NULL);
}

Attempt::Attempt (GstElement *element, Worker &worker, SubscriberConfig cfg,
    AttemptListener *listener, guint number, Tech tech, bool upgrade)
  : element_ (element), worker_ (worker), cfg_ (std::move (cfg)), listener_ (listener),
    number_ (number), tech_ (tech), upgrade_ (upgrade), cancellable_ (g_cancellable_new ())
{
}

Attempt::~Attempt () = default;

void
Attempt::post (GstStructure *event)
{
  /* nothing a server echoes back may leak a secret into the bus, however deep */
  redact_structure (event, cfg_.secrets ());
  gst_structure_set (event, "attempt", G_TYPE_UINT, number_, NULL);
  if (upgrade_)
    gst_structure_set (event, cfg_.standby ? "standby" : "upgrade", G_TYPE_BOOLEAN, TRUE, NULL);
  event_post (element_, event);
}

void
Attempt::fail (Failure f)
{
  if (failed_ || stopped_)
    return;
  failed_ = true;
  f.reason = redact (std::move (f.reason), cfg_.secrets ());
  f.edge = edge_;
  GST_WARNING_OBJECT (element_, "attempt %u (%s) failed (%s): %s", number_, tech_name (tech_),
      failure_name (f), f.reason.c_str ());
  post (event_new (event::SUBSCRIBE_FAIL, "reason", G_TYPE_STRING, failure_name (f),
      "message", G_TYPE_STRING, f.reason.c_str (), "edge", G_TYPE_STRING, edge_.c_str (),
      "http-status", G_TYPE_UINT, f.http_status, NULL));
  listener_->attempt_failed (*this, f);
}

bool
Attempt::take_lookup (const LookupOutcome &o)
{
  if (!o.ok ()) {
    /* a standby the Stream Manager has no other edge for: no Connect.Failure or
     * InvalidName, the stream is fine (Red5Pro.Standby.Lost says it) */
    if (cfg_.standby)
      fail (o.failure);
    else
      fail_connecting (o.failure);
    return false;
  }
  edge_ = o.edge.address;
  edge_port_ = o.edge.port;
  app_ = o.edge.app.empty () ? cfg_.app : o.edge.app;
  post (event_new (event::EDGE_RESOLVED, "edge", G_TYPE_STRING, edge_.c_str (),
      "app", G_TYPE_STRING, app_.c_str (), "region", G_TYPE_STRING, o.edge.region.c_str (),
      NULL));
  return true;
}

void
Attempt::post_started ()
{
  if (!started_.exchange (true))
    post (event_new (event::SUBSCRIBE_START, "edge", G_TYPE_STRING, edge_.c_str (),
        "stream-name", G_TYPE_STRING, cfg_.stream_name.c_str (), "tech", G_TYPE_STRING,
        tech_name (tech_), NULL));
}

/* A failure to reach or be taken by a server says so (Connect.Failure) before the attempt
 * fails; a stream that is not there is Subscribe.InvalidName; a lost connection,
 * Subscribe.Connection.Closed. */
void
Attempt::fail_connecting (Failure f)
{
  if (failed_)
    return;
  if (f.kind == Failure::Kind::CONNECTION_CLOSED) {
    post (event_new (event::SUBSCRIBE_CONNECTION_CLOSED, "edge", G_TYPE_STRING, edge_.c_str (),
        NULL));
  } else if (!connected_) {
    std::string message = redact (f.reason, cfg_.secrets ());
    post (event_new (event::CONNECT_FAILURE, "reason", G_TYPE_STRING,
        connect_failure_reason (f.kind), "message", G_TYPE_STRING, message.c_str (),
        "http-status", G_TYPE_UINT, f.http_status, "edge", G_TYPE_STRING, edge_.c_str (),
        "stream-name", G_TYPE_STRING, cfg_.stream_name.c_str (), NULL));
  }
  if (f.kind == Failure::Kind::NOT_FOUND)
    post (event_new (event::SUBSCRIBE_INVALID_NAME, "stream-name", G_TYPE_STRING,
        cfg_.stream_name.c_str (), "edge", G_TYPE_STRING, edge_.c_str (), "http-status",
        G_TYPE_UINT, f.http_status, NULL));
  fail (std::move (f));
}

Failure
Attempt::child_failure (const std::string &message, bool downstream, const GError *)
{
  /* a pipeline that cannot take our output will not take it from another edge either */
  return Failure (downstream ? Failure::Kind::INTERNAL : Failure::Kind::CONNECTION_CLOSED,
      message);
}

void
Attempt::child_error (const std::string &message, bool downstream, const GError *error)
{
  if (retired_)
    return;
  Failure f = child_failure (message, downstream, error);
  if (f.kind == Failure::Kind::INTERNAL || f.kind == Failure::Kind::CONNECTION_CLOSED)
    fail (std::move (f));
  else
    fail_connecting (std::move (f));
}

void
Attempt::stop ()
{
  g_assert (worker_.on_worker_thread ());
  if (stopped_.exchange (true))
    return;
  g_cancellable_cancel (cancellable_.get ());
  teardown ();
  post (event_new (event::SUBSCRIBE_STOP, "edge", G_TYPE_STRING, edge_.c_str (), NULL));
  GST_INFO_OBJECT (element_, "attempt %u stopped", number_);
}

}  // namespace red5pro
