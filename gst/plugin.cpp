/* gst-red5pro plugin entry point: registers the element, and keeps OpenSSL's exit-time
 * cleanup out of processes that run it. */
#include "gstred5prosrc.h"

#include <openssl/crypto.h>

static gboolean
plugin_init (GstPlugin *plugin)
{
  /* red5prosrc runs webrtcbin, whose DTLS uses OpenSSL on GLib thread-pool threads; the
   * pool retires those whenever it likes, also while the process exits, and OpenSSL's
   * atexit cleanup then frees thread state such a thread is freeing too: a double free
   * in OPENSSL_cleanup that kills gst-launch-1.0 after it finished its work
   * (openssl/openssl#6214; seen here under ASan). A process that exits needs no cleaning.
   * This only takes effect when OpenSSL was not initialized before us (nothing changes
   * otherwise). */
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, nullptr);
  return GST_ELEMENT_REGISTER (red5prosrc, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, red5pro,
    "Subscribe to Red5 Pro live streams (WHEP / Red5 Pro WebSocket signaling, "
    "Stream Manager edge lookup, failover)",
    plugin_init, PACKAGE_VERSION, "LGPL", "gst-red5pro", "https://www.red5.net/")
