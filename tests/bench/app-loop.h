/* app-loop: the floor client's application main loop: one thread iterating one
 * GMainContext for every floor client in the process, as a GStreamer application has.
 * Signaling (libsoup) and webrtcbin's callbacks are handled there. */
#pragma once

#include <glib.h>

#include <functional>

namespace bench::app_loop {

/* The loop's context (started on first use). */
GMainContext *context ();
bool on_loop_thread ();
/* Runs fn on the loop, later. */
void post (std::function<void ()> fn);
/* Runs fn on the loop and waits for it (runs it at once when called on the loop). */
void call (std::function<void ()> fn);

}  // namespace bench::app_loop
