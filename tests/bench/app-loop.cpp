/* app-loop: a GMainLoop on its own thread, started once per process. */
#include "app-loop.h"

#include <condition_variable>
#include <mutex>

namespace bench::app_loop {

namespace {

GMainContext *the_context;
GThread *the_thread;

gpointer
run (gpointer data)
{
  auto *ready = static_cast<GMainLoop *> (data);
  g_main_context_push_thread_default (the_context);
  g_main_loop_run (ready);   /* until the process exits */
  return nullptr;
}

gboolean
call_once (gpointer data)
{
  (*static_cast<std::function<void ()> *> (data)) ();
  return G_SOURCE_REMOVE;
}

void
free_fn (gpointer data)
{
  delete static_cast<std::function<void ()> *> (data);
}

}  // namespace

GMainContext *
context ()
{
  static gsize started = 0;
  if (g_once_init_enter (&started)) {
    the_context = g_main_context_new ();
    GMainLoop *loop = g_main_loop_new (the_context, FALSE);
    the_thread = g_thread_new ("app-loop", run, loop);
    g_once_init_leave (&started, 1);
  }
  return the_context;
}

bool
on_loop_thread ()
{
  context ();
  return g_thread_self () == the_thread;
}

void
post (std::function<void ()> fn)
{
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, call_once, new std::function<void ()> (std::move (fn)), free_fn);
  g_source_attach (source, context ());
  g_source_unref (source);
}

void
call (std::function<void ()> fn)
{
  if (on_loop_thread ()) {
    fn ();
    return;
  }
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  post ([&] {
    fn ();
    std::lock_guard<std::mutex> g (m);
    done = true;
    cv.notify_one ();
  });
  std::unique_lock<std::mutex> g (m);
  cv.wait (g, [&] { return done; });
}

}  // namespace bench::app_loop
