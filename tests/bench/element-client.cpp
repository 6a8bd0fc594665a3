/* element-client: a red5prosrc pipeline for the benchmark. */
#include "element-client.h"

namespace bench {

ElementClient::ElementClient (std::string properties, bool decode)
  : properties_ (std::move (properties)), decode_ (decode)
{
}

ElementClient::~ElementClient ()
{
  stop ();
}

bool
ElementClient::start ()
{
  started_ = g_get_monotonic_time ();
  /* the same sinks as the floor client: no queue, no conversion, no clock */
  std::string desc = "red5prosrc name=src " + properties_ +
      (decode_ ? " decode=true" : " decode=false") +
      " src.video ! fakesink name=vsink sync=false async=false"
      " src.audio ! fakesink name=asink sync=false async=false";
  GError *err = nullptr;
  pipeline_ = gst_parse_launch (desc.c_str (), &err);
  if (!pipeline_ || err) {
    error_ = err ? err->message : "gst_parse_launch failed";
    g_clear_error (&err);
    gst_clear_object (&pipeline_);
    return false;
  }
  src_ = gst_bin_get_by_name (GST_BIN (pipeline_), "src");
  for (auto [name, counter] : { std::pair<const char *, SinkCounter *> { "vsink", &video },
           { "asink", &audio } }) {
    GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline_), name);
    counter->attach (sink);
    gst_object_unref (sink);
  }
  GstBus *bus = gst_element_get_bus (pipeline_);
  gst_bus_set_sync_handler (bus, on_bus, this, nullptr);
  gst_object_unref (bus);
  if (gst_element_set_state (pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::lock_guard<std::mutex> g (lock_);
    if (error_.empty ())
      error_ = "red5prosrc refused PLAYING";
    return false;
  }
  return true;
}

void
ElementClient::stop ()
{
  if (!pipeline_)
    return;
  gst_element_set_state (pipeline_, GST_STATE_NULL);
  GstBus *bus = gst_element_get_bus (pipeline_);
  gst_bus_set_sync_handler (bus, nullptr, nullptr, nullptr);
  gst_object_unref (bus);
  gst_clear_object (&src_);
  gst_clear_object (&pipeline_);
}

bool
ElementClient::failed () const
{
  std::lock_guard<std::mutex> g (lock_);
  return !error_.empty ();
}

std::string
ElementClient::error () const
{
  std::lock_guard<std::mutex> g (lock_);
  return error_;
}

std::string
ElementClient::edge ()
{
  if (!src_)
    return "";
  GstStructure *stats = nullptr;
  g_object_get (src_, "stats", &stats, NULL);
  const char *e = stats ? gst_structure_get_string (stats, "edge") : nullptr;
  std::string out = e ? e : "";
  if (stats)
    gst_structure_free (stats);
  return out;
}

guint
ElementClient::event_count (const std::string &type) const
{
  std::lock_guard<std::mutex> g (lock_);
  auto it = events_.find (type);
  return it == events_.end () ? 0 : it->second.count;
}

gint64
ElementClient::event_time (const std::string &type) const
{
  std::lock_guard<std::mutex> g (lock_);
  auto it = events_.find (type);
  return it == events_.end () ? 0 : it->second.last_us;
}

std::string
ElementClient::last_reason (const std::string &type) const
{
  std::lock_guard<std::mutex> g (lock_);
  auto it = events_.find (type);
  return it == events_.end () ? "" : it->second.reason;
}

GstBusSyncReply
ElementClient::on_bus (GstBus *, GstMessage *msg, gpointer data)
{
  auto *self = static_cast<ElementClient *> (data);
  gint64 now = g_get_monotonic_time ();
  const GstStructure *s = gst_message_get_structure (msg);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && s &&
      gst_structure_has_name (s, "red5pro-event")) {
    const char *type = gst_structure_get_string (s, "type");
    const char *reason = gst_structure_get_string (s, "reason");
    if (type && g_str_equal (type, "Red5Pro.Retry.Scheduled"))
      self->video.arm ();
    std::lock_guard<std::mutex> g (self->lock_);
    Seen &seen = self->events_[type ? type : ""];
    seen.count++;
    seen.last_us = now;
    seen.reason = reason ? reason : "";
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = nullptr;
    gst_message_parse_error (msg, &err, nullptr);
    std::lock_guard<std::mutex> g (self->lock_);
    if (self->error_.empty ())
      self->error_ = err ? err->message : "error";
    g_clear_error (&err);
  }
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

}  // namespace bench
