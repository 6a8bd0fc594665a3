/* End-to-end against servers that are not there or never answer: a clear error without
 * retry, max-retries giving up, a request timeout, and stopping promptly while a request
 * hangs or a retry waits. */
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>

#include "ports.h"

#include <atomic>
#include <string>
#include <vector>

/* Runs the pipeline until ERROR (returned, owned) or timeout_s, collecting the types of
 * red5pro-event messages. */
static GstMessage *
run_until_error (GstElement *pipeline, guint timeout_s, std::vector<std::string> *events)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *error = nullptr;
  gint64 deadline = g_get_monotonic_time () + gint64 (timeout_s) * G_USEC_PER_SEC;
  while (!error && g_get_monotonic_time () < deadline) {
    GstMessage *msg = gst_bus_timed_pop (bus, 100 * GST_MSECOND);
    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      error = msg;
      continue;
    }
    const GstStructure *s = gst_message_get_structure (msg);
    if (events && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
        gst_structure_has_name (s, "red5pro-event"))
      events->emplace_back (gst_structure_get_string (s, "type"));
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return error;
}

static bool
has (const std::vector<std::string> &events, const char *type)
{
  for (const auto &e : events)
    if (e == type)
      return true;
  return false;
}

GST_START_TEST (test_dead_stream_manager_without_retry_gives_connect_failure_and_error)
{
  gchar *desc = g_strdup_printf ("red5prosrc host=127.0.0.1 port=%u stream-manager=sm2 "
      "stream-name=stream1 retry-timeout=0 ! fakesink", ports::dead_port ());
  GstElement *pipeline = gst_parse_launch (desc, nullptr);
  g_free (desc);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  std::vector<std::string> events;
  GstMessage *msg = run_until_error (pipeline, 20, &events);
  fail_unless (msg != nullptr, "no error");
  GError *err = nullptr;
  gst_message_parse_error (msg, &err, nullptr);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ),
      "%s", err->message);
  fail_unless (strstr (err->message, "127.0.0.1") != nullptr, "%s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  fail_unless (has (events, "Connect.Failure"));
  fail_unless (has (events, "Subscribe.Fail"));
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipeline);
}
GST_END_TEST;

GST_START_TEST (test_max_retries_against_dead_cluster_gives_up_with_an_error)
{
  gchar *desc = g_strdup_printf ("red5prosrc name=src host=127.0.0.1 port=%u "
      "stream-manager=sm1 stream-name=stream1 retry-timeout=50 max-retries=2 ! fakesink",
      ports::dead_port ());
  GstElement *pipeline = gst_parse_launch (desc, nullptr);
  g_free (desc);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  std::vector<std::string> events;
  GstMessage *msg = run_until_error (pipeline, 30, &events);
  fail_unless (msg != nullptr, "no error");
  gst_message_unref (msg);
  guint scheduled = 0;
  for (const auto &e : events)
    scheduled += e == "Red5Pro.Retry.Scheduled";
  fail_unless_equals_int (scheduled, 2);
  fail_unless (events.back () == "Red5Pro.Retry.GaveUp" || has (events, "Red5Pro.Retry.GaveUp"));
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  GstStructure *stats = nullptr;
  g_object_get (src, "stats", &stats, NULL);
  guint attempts = 0, retries = 0;
  gst_structure_get_uint (stats, "attempts", &attempts);
  gst_structure_get_uint (stats, "retries", &retries);
  fail_unless_equals_int (attempts, 3);
  fail_unless_equals_int (retries, 2);
  fail_unless_equals_string (gst_structure_get_string (stats, "state"), "gave-up");
  gst_structure_free (stats);
  gst_object_unref (src);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}
GST_END_TEST;

/* A server that accepts the request and never answers. */
static std::atomic<guint> requests_held { 0 };

static void
never_answer (SoupServer *, SoupServerMessage *msg, const char *, GHashTable *, gpointer)
{
  soup_server_message_pause (msg);
  requests_held++;
}

static gboolean silent_server_listen (gpointer data);
static gpointer silent_server_main (gpointer data);

/* A server on its own thread that accepts every request and never answers; it listens
 * once constructed and is gone once destroyed. */
struct SilentServer {
  GMainContext *ctx = g_main_context_new ();
  GMainLoop *loop = g_main_loop_new (ctx, FALSE);
  SoupServer *server = nullptr;
  guint port = 0;
  GThread *thread = nullptr;

  SilentServer ()
  {
    thread = g_thread_new ("silent-server", silent_server_main, this);
    while (!g_atomic_int_get (&port))
      g_usleep (1000);
  }
  ~SilentServer ()
  {
    g_main_loop_quit (loop);
    g_thread_join (thread);
    g_main_loop_unref (loop);
    g_main_context_unref (ctx);
  }
};

static gboolean
silent_server_listen (gpointer data)
{
  auto *ss = static_cast<SilentServer *> (data);
  ss->server = soup_server_new (nullptr, nullptr);
  soup_server_add_handler (ss->server, nullptr, never_answer, nullptr, nullptr);
  soup_server_listen_local (ss->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, nullptr);
  GSList *uris = soup_server_get_uris (ss->server);
  g_atomic_int_set (&ss->port, g_uri_get_port (static_cast<GUri *> (uris->data)));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return G_SOURCE_REMOVE;
}

static gpointer
silent_server_main (gpointer data)
{
  auto *ss = static_cast<SilentServer *> (data);
  g_main_context_push_thread_default (ss->ctx);
  g_main_context_invoke (ss->ctx, silent_server_listen, ss);
  g_main_loop_run (ss->loop);
  g_clear_object (&ss->server);
  g_main_context_pop_thread_default (ss->ctx);
  return nullptr;
}

GST_START_TEST (test_silent_server_times_out_with_an_error)
{
  SilentServer ss;
  gchar *desc = g_strdup_printf ("red5prosrc host=127.0.0.1 port=%u stream-name=stream1 "
      "request-timeout=1000 retry-timeout=0 ! fakesink", ss.port);
  GstElement *pipeline = gst_parse_launch (desc, nullptr);
  g_free (desc);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  std::vector<std::string> events;
  GstMessage *msg = run_until_error (pipeline, 20, &events);
  fail_unless (msg != nullptr, "no error after the timeout");
  gst_message_unref (msg);
  fail_unless (has (events, "Connect.Failure"));
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipeline);
}
GST_END_TEST;

/* Runs until a red5pro-event of that type (true) or timeout_s (false). */
static bool
wait_for_event (GstElement *pipeline, const char *type, guint timeout_s)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  bool seen = false;
  gint64 deadline = g_get_monotonic_time () + gint64 (timeout_s) * G_USEC_PER_SEC;
  while (!seen && g_get_monotonic_time () < deadline) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 100 * GST_MSECOND, GST_MESSAGE_ELEMENT);
    if (!msg)
      continue;
    const GstStructure *s = gst_message_get_structure (msg);
    seen = gst_structure_has_name (s, "red5pro-event") &&
        g_strcmp0 (gst_structure_get_string (s, "type"), type) == 0;
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return seen;
}

/* Seconds that setting the pipeline to NULL takes. */
static double
seconds_to_stop (GstElement *pipeline)
{
  gint64 t0 = g_get_monotonic_time ();
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  return double (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
}

/* Stopping cancels what is under way: a request the server never answers (60 s timeout)
 * and a retry that waits (10 min) end at once, not when they would have. The bound is
 * far from both, not a performance goal. */
GST_START_TEST (test_stopping_while_a_request_hangs_or_a_retry_waits_is_prompt)
{
  gchar *desc;
  GstElement *pipeline;
  double s;
  {
    SilentServer ss;
    desc = g_strdup_printf ("red5prosrc host=127.0.0.1 port=%u stream-name=stream1 "
        "request-timeout=60000 ! fakesink", ss.port);
    pipeline = gst_parse_launch (desc, nullptr);
    g_free (desc);
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    /* the WHEP POST is out, unanswered */
    gint64 until = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
    while (requests_held.load () == 0 && g_get_monotonic_time () < until)
      g_usleep (10000);
    fail_unless (requests_held.load () > 0, "the POST never reached the server");
    s = seconds_to_stop (pipeline);
    fail_unless (s < 5.0, "stopping during a hanging request took %.1f s", s);
    gst_object_unref (pipeline);
  }

  desc = g_strdup_printf ("red5prosrc host=127.0.0.1 port=%u stream-manager=sm2 "
      "stream-name=stream1 retry-timeout=600000 ! fakesink", ports::dead_port ());
  pipeline = gst_parse_launch (desc, nullptr);
  g_free (desc);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  fail_unless (wait_for_event (pipeline, "Red5Pro.Retry.Scheduled", 20));
  s = seconds_to_stop (pipeline);
  fail_unless (s < 5.0, "stopping during a retry wait took %.1f s", s);
  gst_object_unref (pipeline);
}
GST_END_TEST;

static Suite *
unreachable_suite (void)
{
  Suite *s = suite_create ("red5prosrc-unreachable");
  TCase *tc = tcase_create ("e2e");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_dead_stream_manager_without_retry_gives_connect_failure_and_error);
  tcase_add_test (tc, test_max_retries_against_dead_cluster_gives_up_with_an_error);
  tcase_add_test (tc, test_silent_server_times_out_with_an_error);
  tcase_add_test (tc, test_stopping_while_a_request_hangs_or_a_retry_waits_is_prompt);
  return s;
}

GST_CHECK_MAIN (unreachable);
