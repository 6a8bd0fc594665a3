/* red5pro-events: builds and posts "red5pro-event" ELEMENT messages. */
#include "red5pro-events.h"

GST_DEBUG_CATEGORY (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

void
debug_init ()
{
  static gsize done = 0;
  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (red5prosrc_debug, "red5prosrc", 0, "Red5 Pro subscriber");
    g_once_init_leave (&done, 1);
  }
}

GstStructure *
event_new (const char *type, const char *firstfield, ...)
{
  GstStructure *s = gst_structure_new (EVENT_STRUCTURE, "type", G_TYPE_STRING, type, NULL);
  if (firstfield) {
    va_list args;
    va_start (args, firstfield);
    gst_structure_set_valist (s, firstfield, args);
    va_end (args);
  }
  return s;
}

GstStructure *
event_new (const char *type)
{
  return gst_structure_new (EVENT_STRUCTURE, "type", G_TYPE_STRING, type, NULL);
}

void
warn_media_unavailable (GstElement *element, const char *kind, const char *reason)
{
  const char *other = g_str_equal (kind, "video") ? "audio" : "video";
  GST_ELEMENT_WARNING (element, STREAM, FAILED,
      ("The server sends no %s (%s): a pipeline waiting on the '%s' pad of red5prosrc will "
       "not get it; set %s-codecs=\"<>\" to receive %s only", kind, reason, kind, kind, other),
      (nullptr));
}

void
event_post (GstElement *src, GstStructure *event)
{
  GST_INFO_OBJECT (src, "event %" GST_PTR_FORMAT, event);
  gst_element_post_message (src, gst_message_new_element (GST_OBJECT (src), event));
}

}  // namespace red5pro
