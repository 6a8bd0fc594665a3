/* End-to-end: TLS (https/wss with a CA made for the test), credentials (connection params,
 * Bearer tokens), what happens when either is wrong, secrets kept out of the logs, and
 * stream names that need escaping. */
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "test-cluster.h"
#include "e2e-checks.h"
#include "test-subscriber.h"

#include <atomic>

/* ---- a CA and a server certificate for 127.0.0.x, made with openssl ---------------- */

struct TestPki {
  std::string dir, ca, cert, key;
};

static bool
run (const std::string &cmd)
{
  gint status = 0;
  GError *err = nullptr;
  gchar *out = nullptr, *errout = nullptr;
  bool ok = g_spawn_command_line_sync (cmd.c_str (), &out, &errout, &status, &err) &&
      g_spawn_check_wait_status (status, nullptr);
  if (!ok)
    g_printerr ("'%s' failed: %s\n", cmd.c_str (), errout ? errout : (err ? err->message : ""));
  g_clear_error (&err);
  g_free (out);
  g_free (errout);
  return ok;
}

static TestPki
make_pki ()
{
  TestPki pki;
  char *dir = g_dir_make_tmp ("red5pro-pki-XXXXXX", nullptr);
  fail_unless (dir != nullptr);
  pki.dir = dir;
  g_free (dir);
  pki.ca = pki.dir + "/ca.pem";
  pki.cert = pki.dir + "/server.pem";
  pki.key = pki.dir + "/server.key";
  std::string ext = pki.dir + "/san.cnf";
  fail_unless (g_file_set_contents (ext.c_str (),
      "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3,IP:127.0.0.4\n"
      "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
      "extendedKeyUsage=serverAuth\n", -1, nullptr));
  const std::string d = pki.dir;
  fail_unless (run ("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=red5pro-test-ca "
                    "-keyout " + d + "/ca.key -out " + pki.ca));
  fail_unless (run ("openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + pki.key +
                    " -out " + d + "/server.csr"));
  fail_unless (run ("openssl x509 -req -days 2 -in " + d + "/server.csr -CA " + pki.ca +
                    " -CAkey " + d + "/ca.key -CAcreateserial -extfile " + ext + " -out " +
                    pki.cert));
  return pki;
}

static void
remove_pki (const TestPki &pki)
{
  run ("rm -rf " + pki.dir);
}

static std::vector<std::string>
tls_args (const TestPki &pki, std::vector<std::string> more = {})
{
  std::vector<std::string> a { "--edges", "1", "--tls-cert", pki.cert, "--tls-key", pki.key,
      "--tls-ca", pki.ca };
  a.insert (a.end (), more.begin (), more.end ());
  return a;
}

static std::string
base (TestCluster &c)
{
  return "host=127.0.0.1 port=" + std::to_string (c.port ()) + " stream-name=stream1 ";
}


/* ---- TLS ------------------------------------------------------------------------ */

static void
check_tls_plays (const char *signaling)
{
  TestPki pki = make_pki ();
  {
    TestCluster c (tls_args (pki));
    TestSubscriber sub (base (c) + "tls=true stream-manager=sm2 retry-timeout=0 signaling=" +
        signaling + " ca-file=" + pki.ca);
    check_plays (sub);
  }
  remove_pki (pki);
}

GST_START_TEST (test_https_with_the_test_ca_trusted_delivers_frames)
{
  check_tls_plays ("whep");
}
GST_END_TEST;

GST_START_TEST (test_wss_with_the_test_ca_trusted_delivers_frames)
{
  check_tls_plays ("websocket");
}
GST_END_TEST;

GST_START_TEST (test_a_relative_ca_file_is_read_from_the_working_directory)
{
  /* GIO's file database loads nothing from a relative path; the element resolves it */
  TestPki pki = make_pki ();
  g_autofree char *old_dir = g_get_current_dir ();
  fail_unless (g_chdir (pki.dir.c_str ()) == 0);
  {
    g_autofree char *relative = g_path_get_basename (pki.ca.c_str ());
    TestCluster c (tls_args (pki));
    TestSubscriber sub (base (c) + "tls=true stream-manager=sm2 retry-timeout=0 "
        "signaling=whep ca-file=" + relative);
    check_plays (sub);
  }
  fail_unless (g_chdir (old_dir) == 0);
  remove_pki (pki);
}
GST_END_TEST;

GST_START_TEST (test_untrusted_certificate_is_a_clear_error_without_retry)
{
  TestPki pki = make_pki ();
  {
    TestCluster c (tls_args (pki));
    TestSubscriber sub (base (c) + "tls=true stream-manager=sm2 retry-timeout=0");
    sub.play ();
    fail_unless (sub.wait ([&] { return sub.has_error (); }, 20, false), "no error, no hang");
    std::string message;
    sub.error_matches (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ, &message);
    fail_unless (message.find ("127.0.0.1") != std::string::npos, "%s", message.c_str ());
    fail_unless (message.find ("certificate") != std::string::npos, "%s", message.c_str ());
    GstStructure *failure = sub.last_event ("Connect.Failure");
    fail_unless (failure != nullptr);
    fail_unless_equals_string (gst_structure_get_string (failure, "reason"), "certificate");
    gst_structure_free (failure);
    fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
  }
  remove_pki (pki);
}
GST_END_TEST;

GST_START_TEST (test_untrusted_certificate_with_retry_paces_retries_and_says_why)
{
  TestPki pki = make_pki ();
  {
    TestCluster c (tls_args (pki));
    TestSubscriber sub (base (c) + "tls=true stream-manager=sm2 retry-timeout=300 max-retries=3");
    sub.play ();
    fail_unless (sub.wait ([&] { return sub.has_error (); }, 30, false), "no error, no hang");
    /* paced by retry-timeout, bounded by max-retries: no storm */
    fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 3);
    GstStructure *retry = sub.last_event ("Red5Pro.Retry.Scheduled");
    fail_unless_equals_string (gst_structure_get_string (retry, "reason"), "certificate");
    gst_structure_free (retry);
    fail_unless_equals_int (sub.count ("Red5Pro.Retry.GaveUp"), 1);
  }
  remove_pki (pki);
}
GST_END_TEST;

/* ---- credentials ------------------------------------------------------------------ */

static void
set_credentials (TestSubscriber &sub, const char *user, const char *password)
{
  GstStructure *params = gst_structure_new ("params", "username", G_TYPE_STRING, user,
      "password", G_TYPE_STRING, password, NULL);
  g_object_set (sub.src (), "connection-params", params, NULL);
  gst_structure_free (params);
}

static void
check_wrong_password (const char *signaling)
{
  TestCluster c ({ "--edges", "1", "--username", "bob", "--password", "right" });
  /* default retry settings: an auth failure must still end, not loop */
  TestSubscriber sub (base (c) + "host=127.0.0.2 signaling=" + signaling);
  set_credentials (sub, "bob", "wrong");
  sub.play ();
  fail_unless (sub.wait ([&] { return sub.has_error (); }, 20, false), "no error, no hang");
  GstStructure *failure = sub.last_event ("Connect.Failure");
  fail_unless (failure != nullptr);
  fail_unless_equals_string (gst_structure_get_string (failure, "reason"), "unauthorized");
  gst_structure_free (failure);
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
  fail_unless (sub.error_matches (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED));
}

GST_START_TEST (test_wrong_password_over_websocket_is_unauthorized_and_ends)
{
  check_wrong_password ("websocket");
}
GST_END_TEST;

GST_START_TEST (test_wrong_password_over_whep_is_unauthorized_and_ends)
{
  check_wrong_password ("whep");
}
GST_END_TEST;

static void
check_right_password (const char *signaling)
{
  TestCluster c ({ "--edges", "1", "--username", "bob", "--password", "right" });
  TestSubscriber sub (base (c) + "host=127.0.0.2 retry-timeout=0 signaling=" + signaling);
  set_credentials (sub, "bob", "right");
  check_plays (sub);
}

GST_START_TEST (test_right_password_over_websocket_delivers_frames)
{
  check_right_password ("websocket");
}
GST_END_TEST;

GST_START_TEST (test_right_password_over_whep_delivers_frames)
{
  check_right_password ("whep");
}
GST_END_TEST;

GST_START_TEST (test_bearer_token_opens_the_sm2_lookup_and_whep)
{
  TestCluster c ({ "--edges", "1", "--bearer", "jwt-abc.def" });
  TestSubscriber sub (base (c) + "stream-manager=sm2 retry-timeout=0 auth-token=jwt-abc.def");
  check_plays (sub);
}
GST_END_TEST;

GST_START_TEST (test_missing_bearer_token_is_unauthorized)
{
  TestCluster c ({ "--edges", "1", "--bearer", "jwt-abc.def" });
  TestSubscriber sub (base (c) + "stream-manager=sm2");
  sub.play ();
  fail_unless (sub.wait ([&] { return sub.has_error (); }, 20, false), "no error, no hang");
  fail_unless (sub.error_matches (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED));
  fail_unless_equals_int (sub.count ("Red5Pro.Retry.Scheduled"), 0);
}
GST_END_TEST;

/* ---- secrets stay out of the logs -------------------------------------------------- */

static const char *const SECRETS[] = { "Pa55-w0rd-x9", "t0ken-Q7Z", "jwt-S3cr3t-77" };
static std::atomic<guint> secret_hits { 0 };
static std::atomic<guint64> lines_seen { 0 };
static std::string first_hit;
static GMutex hit_lock;

static void
grep_log (GstDebugCategory *, GstDebugLevel, const gchar *, const gchar *, gint, GObject *,
    GstDebugMessage *message, gpointer)
{
  const gchar *text = gst_debug_message_get (message);
  lines_seen++;
  if (!text)
    return;
  for (const char *s : SECRETS) {
    if (strstr (text, s)) {
      g_mutex_lock (&hit_lock);
      if (secret_hits++ == 0)
        first_hit = std::string (text).substr (0, 300);
      g_mutex_unlock (&hit_lock);
    }
  }
}

static bool
structure_has_secret (const GstStructure *s)
{
  char *text = gst_structure_to_string (s);
  bool hit = false;
  for (const char *secret : SECRETS)
    hit = hit || strstr (text, secret);
  g_free (text);
  return hit;
}

GST_START_TEST (test_an_authenticated_session_logs_no_password_or_token)
{
  TestCluster c ({ "--edges", "1", "--username", "bob", "--password", SECRETS[0], "--token",
      SECRETS[1], "--bearer", SECRETS[2] });
  TestSubscriber sub (base (c) + "stream-manager=sm2 signaling=websocket retry-timeout=0 "
                                 "auth-token=" + SECRETS[2]);
  GstStructure *params = gst_structure_new ("params", "username", G_TYPE_STRING, "bob",
      "password", G_TYPE_STRING, SECRETS[0], "token", G_TYPE_STRING, SECRETS[1], NULL);
  g_object_set (sub.src (), "connection-params", params, NULL);
  gst_structure_free (params);

  /* everything, as GST_DEBUG=*:9 would print it */
  gst_debug_add_log_function (grep_log, nullptr, nullptr);
  gst_debug_set_active (TRUE);
  gst_debug_set_threshold_from_string ("*:9", TRUE);
  check_plays (sub);
  GstStructure *stats = sub.stats ();
  gst_debug_set_threshold_from_string ("*:0", TRUE);
  gst_debug_remove_log_function (grep_log);

  fail_unless (lines_seen > 1000, "only %" G_GUINT64_FORMAT " log lines", guint64 (lines_seen));
  fail_unless (secret_hits == 0, "%u secrets in the log, first: %s", guint (secret_hits),
      first_hit.c_str ());
  fail_if (structure_has_secret (stats), "a secret in stats");
  gst_structure_free (stats);
  for (const auto &type : sub.event_types ()) {
    GstStructure *e = sub.last_event (type.c_str ());
    fail_if (structure_has_secret (e), "a secret in %s", type.c_str ());
    gst_structure_free (e);
  }
  /* and the edge did get them */
  std::string state = c.control ("GET", "/state");
  fail_unless (state.find (SECRETS[0]) != std::string::npos);
}
GST_END_TEST;

/* ---- names that need escaping -------------------------------------------------------- */

static void
check_odd_name (const char *sm, const char *signaling)
{
  const char *name = "my stream/1?x=y#z-\xc3\xbc\xe6\x97\xa5";   /* ...-ü日 */
  TestCluster c ({ "--edges", "1", "--publish", "" });
  char *escaped = g_uri_escape_string (name, nullptr, FALSE);
  guint status = 0;
  c.control ("POST", std::string ("/publish?stream=") + escaped, &status);
  g_free (escaped);
  fail_unless_equals_int (status, 200);
  TestSubscriber sub ("host=127.0.0.1 port=" + std::to_string (c.port ()) +
      " retry-timeout=0 stream-manager=" + sm + " signaling=" + signaling);
  g_object_set (sub.src (), "stream-name", name, NULL);
  check_plays (sub);
  /* the edge looked the name up intact (it serves nothing else) */
  JsonParser *p = json_parser_new ();
  fail_unless (json_parser_load_from_data (p, c.control ("GET", "/state").c_str (), -1, nullptr));
  JsonArray *subs = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (p)), "subscribers");
  fail_unless_equals_int (json_array_get_length (subs), 1);
  fail_unless_equals_string (json_object_get_string_member (
      json_array_get_object_element (subs, 0), "stream"), name);
  g_object_unref (p);
}

GST_START_TEST (test_a_stream_name_with_spaces_slashes_and_unicode_reaches_the_edge_over_whep)
{
  check_odd_name ("sm2", "whep");
}
GST_END_TEST;

GST_START_TEST (test_a_stream_name_with_spaces_slashes_and_unicode_reaches_the_edge_over_websocket)
{
  check_odd_name ("sm1", "websocket");
}
GST_END_TEST;

static Suite *
secure_suite (void)
{
  Suite *s = suite_create ("red5prosrc-secure");
  TCase *tc = tcase_create ("e2e");
  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_https_with_the_test_ca_trusted_delivers_frames);
  tcase_add_test (tc, test_wss_with_the_test_ca_trusted_delivers_frames);
  tcase_add_test (tc, test_a_relative_ca_file_is_read_from_the_working_directory);
  tcase_add_test (tc, test_untrusted_certificate_is_a_clear_error_without_retry);
  tcase_add_test (tc, test_untrusted_certificate_with_retry_paces_retries_and_says_why);
  tcase_add_test (tc, test_wrong_password_over_websocket_is_unauthorized_and_ends);
  tcase_add_test (tc, test_wrong_password_over_whep_is_unauthorized_and_ends);
  tcase_add_test (tc, test_right_password_over_websocket_delivers_frames);
  tcase_add_test (tc, test_right_password_over_whep_delivers_frames);
  tcase_add_test (tc, test_bearer_token_opens_the_sm2_lookup_and_whep);
  tcase_add_test (tc, test_missing_bearer_token_is_unauthorized);
  tcase_add_test (tc, test_an_authenticated_session_logs_no_password_or_token);
  tcase_add_test (tc, test_a_stream_name_with_spaces_slashes_and_unicode_reaches_the_edge_over_whep);
  tcase_add_test (tc, test_a_stream_name_with_spaces_slashes_and_unicode_reaches_the_edge_over_websocket);
  return s;
}

GST_CHECK_MAIN (secure);
