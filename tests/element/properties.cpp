/* Element tests without any server: properties, the URI handler, refusing to start with
 * missing settings. (Dead and silent servers: tests/e2e/unreachable.cpp.) */
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>

#include <cstring>
#include <string>

GST_START_TEST (test_defaults_match_the_documentation)
{
  GstElement *src = gst_element_factory_make ("red5prosrc", nullptr);
  fail_unless (src != nullptr);
  gchar *app = nullptr, *group = nullptr, *version = nullptr, *host = nullptr;
  guint port = 1, timeout = 0;
  gboolean tls = TRUE, decode = TRUE, dc = FALSE;
  gint sm = -1, signaling = -1;
  g_object_get (src, "app", &app, "node-group", &group, "sm-api-version", &version,
      "host", &host, "port", &port, "tls", &tls, "decode", &decode, "data-channel", &dc,
      "stream-manager", &sm, "signaling", &signaling, "timeout", &timeout, NULL);
  fail_unless_equals_string (app, "live");
  fail_unless_equals_string (group, "default");
  fail_unless_equals_string (version, "4.0");
  fail_unless (host == nullptr);
  fail_unless_equals_int (port, 0);
  fail_unless (!tls && !decode && dc);
  fail_unless_equals_int (sm, 0);
  fail_unless_equals_int (signaling, 0);
  fail_unless_equals_int (timeout, 10);
  g_free (app);
  g_free (group);
  g_free (version);
  gst_object_unref (src);
}
GST_END_TEST;

static void
check_refuses_ready (const char *props, const char *expected_property)
{
  gchar *desc = g_strdup_printf ("red5prosrc %s ! fakesink", props);
  GstElement *pipeline = gst_parse_launch (desc, nullptr);
  g_free (desc);
  fail_unless (pipeline != nullptr);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  gst_object_unref (bus);
  fail_unless (msg != nullptr, "no error message");
  GError *err = nullptr;
  gst_message_parse_error (msg, &err, nullptr);
  fail_unless (strstr (err->message, expected_property) != nullptr, "message: %s",
      err->message);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS));
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_missing_stream_name_refuses_ready_naming_it)
{
  check_refuses_ready ("host=127.0.0.1", "stream-name");
}
GST_END_TEST;

GST_START_TEST (test_missing_host_refuses_ready_naming_it)
{
  check_refuses_ready ("stream-name=stream1", "'host'");
}
GST_END_TEST;

GST_START_TEST (test_uri_sets_server_stream_and_properties)
{
  GError *err = nullptr;
  GstElement *src = gst_element_make_from_uri (GST_URI_SRC,
      "red5pros://sm.example.com:8443/live/stream1?stream-manager=sm2&node-group=eu&decode=true",
      nullptr, &err);
  fail_unless (src != nullptr, "%s", err ? err->message : "");
  gchar *host = nullptr, *app = nullptr, *stream = nullptr, *group = nullptr;
  guint port = 0;
  gboolean tls = FALSE, decode = FALSE;
  gint sm = 0;
  g_object_get (src, "host", &host, "port", &port, "app", &app, "stream-name", &stream,
      "tls", &tls, "stream-manager", &sm, "node-group", &group, "decode", &decode, NULL);
  fail_unless_equals_string (host, "sm.example.com");
  fail_unless_equals_int (port, 8443);
  fail_unless_equals_string (app, "live");
  fail_unless_equals_string (stream, "stream1");
  fail_unless_equals_string (group, "eu");
  fail_unless (tls && decode);
  fail_unless_equals_int (sm, 2);
  gchar *uri = gst_uri_handler_get_uri (GST_URI_HANDLER (src));
  fail_unless_equals_string (uri, "red5pros://sm.example.com:8443/live/stream1?stream-manager=sm2");
  g_free (uri);
  g_free (host);
  g_free (app);
  g_free (stream);
  g_free (group);
  gst_object_unref (src);
}
GST_END_TEST;

GST_START_TEST (test_uri_with_unknown_parameter_or_no_stream_is_rejected)
{
  GstElement *src = gst_element_factory_make ("red5prosrc", nullptr);
  for (const char *uri : { "red5pro://host/live/s?bogus=1", "red5pro://host/live",
           "red5pro:///live/s", "red5pro://host/live/s?stream-manager=sm9" }) {
    GError *err = nullptr;
    gboolean ok = gst_uri_handler_set_uri (GST_URI_HANDLER (src), uri, &err);
    if (g_str_has_suffix (uri, "sm9")) {
      /* the parameter exists; an invalid enum nick is reported by GStreamer itself */
      g_clear_error (&err);
      continue;
    }
    fail_unless (!ok, "accepted %s", uri);
    fail_unless (err != nullptr);
    g_error_free (err);
  }
  gst_object_unref (src);
}
GST_END_TEST;

GST_START_TEST (test_newer_properties_have_their_documented_defaults)
{
  GstElement *src = gst_element_factory_make ("red5prosrc", nullptr);
  guint request_timeout = 0, latency = 0, backoff = 0;
  gint policy = -1, transport = -1;
  gboolean keep_variant = TRUE, socket_only = FALSE;
  gchar *venc = (gchar *) "x";
  g_object_get (src, "request-timeout", &request_timeout, "latency", &latency,
      "retry-backoff-max", &backoff, "ice-transport-policy", &policy, "ice-transport",
      &transport, "maintain-stream-variant", &keep_variant, "signaling-socket-only",
      &socket_only, "video-encoding", &venc, NULL);
  fail_unless_equals_int (request_timeout, 10000);
  fail_unless_equals_int (latency, 200);
  fail_unless_equals_int (backoff, 30000);
  fail_unless_equals_int (policy, 0);
  fail_unless_equals_int (transport, 0);
  fail_unless (!keep_variant && socket_only && venc == nullptr);
  GValue codecs = G_VALUE_INIT;
  g_value_init (&codecs, GST_TYPE_ARRAY);
  g_object_get_property (G_OBJECT (src), "video-codecs", &codecs);
  gchar *text = gst_value_serialize (&codecs);
  fail_unless_equals_string (text, "< (string)VP8, (string)H264, (string)VP9, (string)H265 >");
  g_free (text);
  g_value_unset (&codecs);
  guint fallback_after = 0, upgrade = 0;
  g_object_get (src, "failures-before-fallback", &fallback_after, "upgrade-interval", &upgrade,
      NULL);
  fail_unless_equals_int (fallback_after, 2);
  fail_unless_equals_int (upgrade, 60000);
  GValue order = G_VALUE_INIT;
  g_value_init (&order, GST_TYPE_ARRAY);
  g_object_get_property (G_OBJECT (src), "playback-order", &order);
  fail_unless_equals_int (gst_value_array_get_size (&order), 0);   /* = signaling alone */
  g_value_unset (&order);
  /* the deprecated timeout is the request timeout in seconds */
  g_object_set (src, "timeout", 3, NULL);
  g_object_get (src, "request-timeout", &request_timeout, NULL);
  fail_unless_equals_int (request_timeout, 3000);
  gst_object_unref (src);
}
GST_END_TEST;

GST_START_TEST (test_settings_that_cannot_work_refuse_ready_naming_them)
{
  check_refuses_ready ("host=fe80::1%eth0 stream-name=s", "zone");
  check_refuses_ready ("host=10.0.0.5 stream-name=s video-encoding=AV1", "video-encoding");
  /* WHEP servers may name a TURN server (Link headers); the WebSocket protocol cannot */
  check_refuses_ready ("host=10.0.0.5 stream-name=s signaling=websocket "
      "ice-transport-policy=relay", "turn-server");
  check_refuses_ready ("host=10.0.0.5 stream-name=s video-codecs=\"<AV1>\"", "video-codecs");
  check_refuses_ready ("host=10.0.0.5 stream-name=s video-codecs=\"<>\" audio-codecs=\"<>\"",
      "nothing to receive");
  check_refuses_ready ("host=10.0.0.5 stream-name=s playback-order=\"<whep, rtmp>\"",
      "playback-order");
  /* the SM 1.x proxy carries WebSocket only: WHEP anywhere in the order cannot work */
  check_refuses_ready ("host=10.0.0.5 stream-name=s stream-manager=sm1 use-proxy=true "
      "signaling=websocket playback-order=\"<whep, hls>\"", "WebSocket");
  check_refuses_ready ("host=10.0.0.5 stream-name=s stats-endpoint=ws://x/y", "stats-endpoint");
  check_refuses_ready ("host=10.0.0.5 stream-name=s stats-endpoint=data-channel "
      "data-channel=false", "data-channel=true");
}
GST_END_TEST;

/* stats reports (SDK 15's stats option): the bus only, every 5 s, unless told otherwise */
GST_START_TEST (test_stats_reporting_defaults_to_the_bus_every_five_seconds)
{
  GstElement *src = gst_element_factory_make ("red5prosrc", nullptr);
  gchar *endpoint = (gchar *) "x";
  guint interval = 0;
  g_object_get (src, "stats-endpoint", &endpoint, "stats-interval", &interval, NULL);
  fail_unless (endpoint == nullptr);
  fail_unless_equals_int (interval, 5000);
  GParamSpecUInt *spec = G_PARAM_SPEC_UINT (g_object_class_find_property (
      G_OBJECT_GET_CLASS (src), "stats-interval"));
  fail_unless_equals_int (spec->minimum, 100);
  g_object_set (src, "stats-endpoint", "data-channel", "stats-interval", 500, NULL);
  g_object_get (src, "stats-endpoint", &endpoint, "stats-interval", &interval, NULL);
  std::string got = endpoint;
  g_free (endpoint);
  fail_unless (got == "data-channel");
  fail_unless_equals_int (interval, 500);
  GstStructure *stats = nullptr;
  g_object_get (src, "stats", &stats, NULL);
  guint64 sent = 1, failed = 1;
  fail_unless (gst_structure_get_uint64 (stats, "stats-reports-sent", &sent) && sent == 0);
  fail_unless (gst_structure_get_uint64 (stats, "stats-reports-failed", &failed) && failed == 0);
  gst_structure_free (stats);
  gst_object_unref (src);
}
GST_END_TEST;

/* GStreamer logs URIs whole: one that would carry a secret is refused, with the way out. */
GST_START_TEST (test_uris_that_would_carry_secrets_are_refused)
{
  GstElement *src = gst_element_factory_make ("red5prosrc", nullptr);
  for (const char *uri : { "red5pros://sm.example.com/live/s?auth-token=abc",
           "red5pros://bob:secret@sm.example.com/live/s",
           "red5pros://sm.example.com/live/s?connection-params=params,password=x" }) {
    GError *err = nullptr;
    fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (src), uri, &err), "accepted %s", uri);
    fail_unless (err != nullptr);
    fail_unless (strstr (err->message, "abc") == nullptr, "the token is in the message");
    fail_unless (strstr (err->message, "propert") != nullptr, "%s", err->message);
    g_error_free (err);
  }
  gst_object_unref (src);
}
GST_END_TEST;

/* Credentials over plain http/ws and tls-insecure are allowed, and said on the bus. */
GST_START_TEST (test_plain_credentials_and_insecure_tls_are_warned_about)
{
  for (const char *props : { "host=127.0.0.1 stream-name=s auth-token=abc",
           "host=127.0.0.1 stream-name=s tls=true tls-insecure=true" }) {
    gchar *desc = g_strdup_printf ("red5prosrc %s ! fakesink", props);
    GstElement *pipeline = gst_parse_launch (desc, nullptr);
    g_free (desc);
    fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    GstBus *bus = gst_element_get_bus (pipeline);
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_WARNING);
    gst_object_unref (bus);
    fail_unless (msg != nullptr, "no warning for %s", props);
    GError *err = nullptr;
    gst_message_parse_warning (msg, &err, nullptr);
    fail_unless (strstr (err->message, "tls") != nullptr, "%s", err->message);
    fail_unless (strstr (err->message, "abc") == nullptr);
    g_error_free (err);
    gst_message_unref (msg);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
  }
}
GST_END_TEST;

static Suite *
properties_suite (void)
{
  Suite *s = suite_create ("red5prosrc-element");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_defaults_match_the_documentation);
  tcase_add_test (tc, test_missing_stream_name_refuses_ready_naming_it);
  tcase_add_test (tc, test_missing_host_refuses_ready_naming_it);
  tcase_add_test (tc, test_uri_sets_server_stream_and_properties);
  tcase_add_test (tc, test_uri_with_unknown_parameter_or_no_stream_is_rejected);
  tcase_add_test (tc, test_newer_properties_have_their_documented_defaults);
  tcase_add_test (tc, test_settings_that_cannot_work_refuse_ready_naming_them);
  tcase_add_test (tc, test_stats_reporting_defaults_to_the_bus_every_five_seconds);
  tcase_add_test (tc, test_uris_that_would_carry_secrets_are_refused);
  tcase_add_test (tc, test_plain_credentials_and_insecure_tls_are_warned_about);
  return s;
}

GST_CHECK_MAIN (properties);
