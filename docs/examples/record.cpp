/* red5pro-record: an application embedding red5prosrc. It records a Red5 Pro stream into a
 * Matroska file through failovers, prints the subscriber's events and its state as they
 * change, and on Ctrl-C (or after SECONDS) ends the recording the way a recorder must:
 * EOS first, so that the muxer finishes the file, then NULL.
 *
 *   red5pro-record 'red5pros://sm.example.com/live/stream1?stream-manager=sm2' rec.mkv [SECONDS]
 *
 * What it shows: making the source from a URI (query pairs are red5prosrc properties),
 * linking its sometimes pads, which appear once media flows, to muxer pads asked for
 * beforehand (a muxer takes no new pad once it has written its header), reading the
 * "red5pro-event" bus messages, and watching the "stats" property. */
#include <gst/gst.h>
#include <glib-unix.h>

#include <cstdio>
#include <cstring>

struct App {
  GstElement *pipeline = nullptr;
  GstPad *mux_video = nullptr;   /* requested before PLAYING */
  GstPad *mux_audio = nullptr;
  GMainLoop *loop = nullptr;
  bool finishing = false;
  int status = 0;
};

/* Streaming thread: red5prosrc exposes "video" or "audio"; a queue takes it to its muxer pad.
 * Its pads stay across failovers, so this runs once per pad. */
static void
on_pad_added (GstElement *, GstPad *pad, gpointer data)
{
  auto *app = static_cast<App *> (data);
  GstPad *mux_pad = g_str_equal (GST_PAD_NAME (pad), "video") ? app->mux_video : app->mux_audio;
  GstElement *queue = gst_element_factory_make ("queue", nullptr);
  gst_bin_add (GST_BIN (app->pipeline), queue);
  GstPad *in = gst_element_get_static_pad (queue, "sink");
  GstPad *out = gst_element_get_static_pad (queue, "src");
  if (gst_pad_link (out, mux_pad) != GST_PAD_LINK_OK || gst_pad_link (pad, in) != GST_PAD_LINK_OK)
    g_printerr ("could not link the %s pad\n", GST_PAD_NAME (pad));
  gst_object_unref (in);
  gst_object_unref (out);
  gst_element_sync_state_with_parent (queue);
}

/* The element's own thread: notify::stats fires on every change of state. */
static void
on_stats (GObject *src, GParamSpec *, gpointer)
{
  GstStructure *stats = nullptr;
  g_object_get (src, "stats", &stats, NULL);
  guint attempts = 0, connections = 0;
  gst_structure_get_uint (stats, "attempts", &attempts);
  gst_structure_get_uint (stats, "connections", &connections);
  g_print ("  [state %s: attempts %u, connections %u, edge '%s']\n",
      gst_structure_get_string (stats, "state"), attempts, connections,
      gst_structure_get_string (stats, "edge"));
  gst_structure_free (stats);
}

static gboolean
on_message (GstBus *, GstMessage *msg, gpointer data)
{
  auto *app = static_cast<App *> (data);
  const GstStructure *s = gst_message_get_structure (msg);
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      if (s && gst_structure_has_name (s, "red5pro-event")) {
        /* type is the Red5 Pro SDK's event name; the other fields depend on it (a
         * WebRTC.Stats.Report's JSON reports are left out: its count says enough here) */
        GstStructure *fields = gst_structure_copy (s);
        gst_structure_remove_fields (fields, "type", "attempt", "reports", NULL);
        gchar *text = gst_structure_to_string (fields);   /* "red5pro-event, a=(t)1, ...;" */
        text[strlen (text) - 1] = '\0';
        const char *rest = strchr (text, ',');
        g_print ("%s%s\n", gst_structure_get_string (s, "type"), rest ? rest + 1 : "");
        g_free (text);
        gst_structure_free (fields);
      }
      break;
    case GST_MESSAGE_ERROR: {
      GError *err = nullptr;
      gchar *debug = nullptr;
      gst_message_parse_error (msg, &err, &debug);
      g_printerr ("error: %s\n(%s)\n", err->message, debug ? debug : "");
      g_error_free (err);
      g_free (debug);
      app->status = 1;
      g_main_loop_quit (app->loop);
      break;
    }
    case GST_MESSAGE_EOS:
      g_print ("recording finished\n");
      g_main_loop_quit (app->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* Ctrl-C or the time is up: EOS through the pipeline; the file is done when it reaches the
 * sink (the EOS message). A second Ctrl-C stops at once. */
static gboolean
finish (gpointer data)
{
  auto *app = static_cast<App *> (data);
  if (app->finishing) {
    g_main_loop_quit (app->loop);
    return G_SOURCE_REMOVE;
  }
  app->finishing = true;
  g_print ("finishing the recording\n");
  gst_element_send_event (app->pipeline, gst_event_new_eos ());
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  setvbuf (stdout, nullptr, _IOLBF, 0);   /* events as they come, also into a pipe */
  if (argc < 3) {
    g_printerr ("usage: %s red5pro[s]://host[:port]/app/stream[?property=value&...] "
        "OUTPUT.mkv [SECONDS]\n", argv[0]);
    return 2;
  }
  App app;
  GError *err = nullptr;
  GstElement *src = gst_element_make_from_uri (GST_URI_SRC, argv[1], "src", &err);
  if (!src) {
    g_printerr ("%s\n", err ? err->message : "no element for that URI (is GST_PLUGIN_PATH set?)");
    g_clear_error (&err);
    return 2;
  }
  app.pipeline = gst_pipeline_new ("recorder");
  GstElement *mux = gst_element_factory_make ("matroskamux", nullptr);
  GstElement *sink = gst_element_factory_make ("filesink", nullptr);
  g_object_set (sink, "location", argv[2], NULL);
  gst_bin_add_many (GST_BIN (app.pipeline), src, mux, sink, NULL);
  gst_element_link (mux, sink);
  app.mux_video = gst_element_request_pad_simple (mux, "video_%u");
  app.mux_audio = gst_element_request_pad_simple (mux, "audio_%u");
  g_signal_connect (src, "pad-added", G_CALLBACK (on_pad_added), &app);
  g_signal_connect (src, "notify::stats", G_CALLBACK (on_stats), nullptr);

  app.loop = g_main_loop_new (nullptr, FALSE);
  GstBus *bus = gst_element_get_bus (app.pipeline);
  gst_bus_add_watch (bus, on_message, &app);
  g_unix_signal_add (SIGINT, finish, &app);
  if (argc > 3)
    g_timeout_add_seconds (guint (g_ascii_strtoull (argv[3], nullptr, 10)), finish, &app);

  if (gst_element_set_state (app.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("could not start (see the error above)\n");
    app.status = 1;
    /* the error message is on the bus: show it */
    while (GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR)) {
      on_message (bus, m, &app);
      gst_message_unref (m);
    }
  } else {
    g_main_loop_run (app.loop);
  }

  gst_element_set_state (app.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_element_release_request_pad (mux, app.mux_video);
  gst_element_release_request_pad (mux, app.mux_audio);
  gst_object_unref (app.mux_video);
  gst_object_unref (app.mux_audio);
  gst_object_unref (app.pipeline);
  g_main_loop_unref (app.loop);
  return app.status;
}
