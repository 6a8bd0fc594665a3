/* gst-red5pro plugin entry point: registers the elements, nothing else. */
#include "gstred5prosrc.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  return GST_ELEMENT_REGISTER (red5prosrc, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, red5pro,
    "Subscribe to Red5 Pro live streams (WHEP / Red5 Pro WebSocket signaling, "
    "Stream Manager edge lookup, failover)",
    plugin_init, PACKAGE_VERSION, "LGPL", "gst-red5pro", "https://www.red5.net/")
