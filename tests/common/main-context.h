/* main-context: hands a std::function to the default main context, now or after a delay,
 * from any thread. Shared by the test servers (the cluster, the hostile server), whose work
 * all runs on their main context. */
#pragma once

#include <glib.h>

#include <functional>

namespace main_context {

namespace detail {
inline gboolean
call_once (gpointer data)
{
  (*static_cast<std::function<void ()> *> (data)) ();
  return G_SOURCE_REMOVE;
}

inline void
free_fn (gpointer data)
{
  delete static_cast<std::function<void ()> *> (data);
}
}  // namespace detail

/* Runs fn on the default main context (at once when called from it). */
inline void
invoke (std::function<void ()> fn)
{
  g_main_context_invoke_full (nullptr, G_PRIORITY_DEFAULT, detail::call_once,
      new std::function<void ()> (std::move (fn)), detail::free_fn);
}

/* Runs fn on the default main context after ms milliseconds; the source id. */
inline guint
after (guint ms, std::function<void ()> fn)
{
  return g_timeout_add_full (G_PRIORITY_DEFAULT, ms, detail::call_once,
      new std::function<void ()> (std::move (fn)), detail::free_fn);
}

}  // namespace main_context
