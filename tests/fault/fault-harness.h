/* fault-harness: what the fault-matrix suite uses around each case: the hostile server as
 * a child process, a red5prosrc pipeline that records everything it posts, GLib warnings and
 * (for the redaction cases) every debug line, process counters (fds, threads, RSS), and a CA
 * for the https cases. Header-only, like tests/common. */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "process-stats.h"

namespace fault {

/* ---- process counters ----------------------------------------------------------------- */

inline guint64 rss_kib () { return (guint64) MAX (process_stats::rss_kib (), 0L); }
inline guint fds () { return process_stats::fd_count (); }
inline guint threads () { return process_stats::thread_count (); }


/* what the open fds are, by kind: "socket 12, pipe 4, anon_inode:[eventfd] 9" */
inline std::string
fd_kinds ()
{
  std::vector<std::pair<std::string, guint>> kinds;
  if (DIR *d = opendir ("/proc/self/fd")) {
    while (struct dirent *e = readdir (d)) {
      if (e->d_name[0] == '.')
        continue;
      char path[64], target[256];
      g_snprintf (path, sizeof path, "/proc/self/fd/%s", e->d_name);
      ssize_t n = readlink (path, target, sizeof target - 1);
      std::string kind = n > 0 ? std::string (target, size_t (n)) : "?";
      auto colon = kind.find (":[");
      if (colon != std::string::npos && kind.compare (0, 11, "anon_inode:") != 0)
        kind = kind.substr (0, colon);
      auto it = std::find_if (kinds.begin (), kinds.end (),
          [&] (const auto &k) { return k.first == kind; });
      if (it == kinds.end ())
        kinds.emplace_back (kind, 1);
      else
        it->second++;
    }
    closedir (d);
  }
  std::string out;
  for (const auto &k : kinds)
    out += (out.empty () ? "" : ", ") + k.first + " " + std::to_string (k.second);
  return out;
}

/* ---- the hostile server --------------------------------------------------------------- */

struct LoggedRequest {
  std::string listener, method, path, authorization;
  bool has_authorization = false;
  std::vector<std::pair<std::string, std::string>> query;
  std::string param (const char *key) const
  {
    for (const auto &kv : query)
      if (kv.first == key)
        return kv.second;
    return "";
  }
};

class HostileServer {
public:
  HostileServer (const std::string &scenario, const std::vector<std::string> &extra = {})
  {
    const char *exe = g_getenv ("RED5PRO_HOSTILE");
    g_assert (exe && "RED5PRO_HOSTILE must name the hostile server executable");
    std::vector<const char *> argv { exe, "--scenario", scenario.c_str (), "--lifetime", "600" };
    for (const auto &a : extra)
      argv.push_back (a.c_str ());
    argv.push_back (nullptr);
    GError *err = nullptr;
    GSubprocessLauncher *launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    /* the server is test equipment: its leaks at exit are not what the sanitizer run is for */
    std::string asan = std::string (g_getenv ("ASAN_OPTIONS") ? g_getenv ("ASAN_OPTIONS") : "") +
        ":detect_leaks=0";   /* the last one counts */
    g_subprocess_launcher_setenv (launcher, "ASAN_OPTIONS", asan.c_str (), TRUE);
    proc_ = g_subprocess_launcher_spawnv (launcher, argv.data (), &err);
    g_object_unref (launcher);
    g_assert_no_error (err);
    GDataInputStream *in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc_));
    char *line = g_data_input_stream_read_line (in, nullptr, nullptr, &err);
    g_object_unref (in);
    g_assert_no_error (err);
    g_assert (line && "the hostile server printed no ports line (unknown scenario?)");
    JsonParser *parser = json_parser_new ();
    g_assert (json_parser_load_from_data (parser, line, -1, nullptr));
    JsonObject *o = json_node_get_object (json_parser_get_root (parser));
    port_ = guint (json_object_get_int_member (o, "port"));
    other_port_ = guint (json_object_get_int_member (o, "other_port"));
    control_port_ = guint (json_object_get_int_member (o, "control_port"));
    closer_port_ = guint (json_object_get_int_member (o, "closer_port"));
    g_object_unref (parser);
    g_free (line);
    http_ = soup_session_new_with_options ("timeout", 10u, NULL);
  }

  ~HostileServer ()
  {
    control ("POST", "/quit");
    for (int i = 0; i < 200 && g_subprocess_get_identifier (proc_); i++)
      g_usleep (10000);
    if (g_subprocess_get_identifier (proc_))
      g_subprocess_force_exit (proc_);
    g_subprocess_wait (proc_, nullptr, nullptr);
    g_object_unref (proc_);
    g_object_unref (http_);
  }

  guint port () const { return port_; }
  guint other_port () const { return other_port_; }
  /* reads and closes without a word: a plain-http port as a TLS client sees it */
  guint closer_port () const { return closer_port_; }

  std::string control (const char *method, const char *path)
  {
    char *url = g_strdup_printf ("http://127.0.0.1:%u%s", control_port_, path);
    SoupMessage *msg = soup_message_new (method, url);
    g_free (url);
    std::string body;
    if (GBytes *bytes = soup_session_send_and_read (http_, msg, nullptr, nullptr)) {
      gsize n = 0;
      const char *p = static_cast<const char *> (g_bytes_get_data (bytes, &n));
      body.assign (p ? p : "", n);
      g_bytes_unref (bytes);
    }
    g_object_unref (msg);
    return body;
  }

  /* every request the server received so far */
  std::vector<LoggedRequest> log ()
  {
    std::vector<LoggedRequest> out;
    std::string body = control ("GET", "/log");
    JsonParser *parser = json_parser_new ();
    if (json_parser_load_from_data (parser, body.c_str (), gssize (body.size ()), nullptr) &&
        JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser))) {
      JsonArray *arr = json_node_get_array (json_parser_get_root (parser));
      for (guint i = 0; i < json_array_get_length (arr); i++) {
        JsonObject *r = json_array_get_object_element (arr, i);
        LoggedRequest l;
        l.listener = json_object_get_string_member_with_default (r, "listener", "");
        l.method = json_object_get_string_member_with_default (r, "method", "");
        l.path = json_object_get_string_member_with_default (r, "path", "");
        JsonNode *auth = json_object_get_member (r, "authorization");
        l.has_authorization = auth && !JSON_NODE_HOLDS_NULL (auth);
        if (l.has_authorization)
          l.authorization = json_node_get_string (auth);
        JsonObject *q = json_object_get_object_member (r, "query");
        GList *members = q ? json_object_get_members (q) : nullptr;
        for (GList *m = members; m; m = m->next) {
          const char *k = static_cast<const char *> (m->data);
          l.query.emplace_back (k, json_object_get_string_member_with_default (q, k, ""));
        }
        g_list_free (members);
        out.push_back (std::move (l));
      }
    }
    g_object_unref (parser);
    return out;
  }

  guint64 body_bytes_sent ()
  {
    std::string body = control ("GET", "/stats");
    JsonParser *parser = json_parser_new ();
    guint64 n = 0;
    if (json_parser_load_from_data (parser, body.c_str (), gssize (body.size ()), nullptr) &&
        JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
      n = guint64 (json_object_get_int_member_with_default (
          json_node_get_object (json_parser_get_root (parser)), "body_bytes_sent", 0));
    g_object_unref (parser);
    return n;
  }

private:
  GSubprocess *proc_ = nullptr;
  SoupSession *http_ = nullptr;
  guint port_ = 0, other_port_ = 0, control_port_ = 0, closer_port_ = 0;
};

/* ---- GLib warnings and debug lines ------------------------------------------------------ */

/* Every g_warning / g_critical from the libraries, instead of gstcheck's abort: a server
 * must not be able to make GLib complain. */
class GLibWarnings {
public:
  static GLibWarnings &get ()
  {
    static GLibWarnings w;
    return w;
  }
  void install ()
  {
    if (installed_)
      return;
    installed_ = true;
    static const char *domains[] = { "GStreamer", "GLib", "GLib-GObject", "GLib-GIO",
      "GStreamer-WebRTC", "GStreamer-SDP", "GStreamer-RTP", "GStreamer-Base", "GStreamer-Video",
      "GStreamer-Check", "GStreamer-SCTP", "libsoup", "Json", "libnice", nullptr };
    for (const char **d = domains; *d; d++) {
      gst_check_add_log_filter (*d, GLogLevelFlags (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING),
          g_regex_new (".*", GRegexCompileFlags (0), GRegexMatchFlags (0), nullptr), on_log,
          nullptr, nullptr);
      g_log_set_handler (*d, GLogLevelFlags (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING),
          [] (const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer) {
            on_log (domain, level, msg, nullptr);
          }, nullptr);
    }
  }
  std::vector<std::string> take ()
  {
    std::lock_guard<std::mutex> g (lock_);
    return std::move (seen_);
  }
private:
  static gboolean on_log (const gchar *domain, GLogLevelFlags level, const gchar *msg,
      gpointer)
  {
    auto &self = get ();
    std::lock_guard<std::mutex> g (self.lock_);
    if (self.seen_.size () < 50)
      self.seen_.push_back (std::string (domain ? domain : "") +
          ((level & G_LOG_LEVEL_CRITICAL) ? "-CRITICAL: " : "-WARNING: ") + (msg ? msg : ""));
    return TRUE;   /* discarded: the case reports it */
  }
  bool installed_ = false;
  std::mutex lock_;
  std::vector<std::string> seen_;
};

/* Every GStreamer debug line at DEBUG and above while it lives; finds secrets in them.
 * What the log function reads stays allocated until the process ends: GStreamer may still
 * call a removed log function with its data from a thread already logging (the DTLS
 * certificate warm-up's, seen under ASan), so that data is never freed under it. */
class DebugCapture {
public:
  explicit DebugCapture (std::vector<std::string> secrets)
  {
    static std::mutex kept_lock;
    static std::vector<std::unique_ptr<State>> kept;   /* a few dozen cases: a few kB */
    {
      std::lock_guard<std::mutex> g (kept_lock);
      kept.push_back (std::make_unique<State> ());
      state_ = kept.back ().get ();
    }
    state_->secrets = std::move (secrets);
    for (const auto &s : std::vector<std::string> (state_->secrets)) {
      char *e = g_uri_escape_string (s.c_str (), nullptr, FALSE);
      if (s != e)
        state_->secrets.emplace_back (e);
      g_free (e);
    }
    old_level_ = gst_debug_get_default_threshold ();
    gst_debug_remove_log_function (gst_debug_log_default);
    gst_debug_add_log_function (on_line, state_, nullptr);
    gst_debug_set_default_threshold (GST_LEVEL_DEBUG);
  }
  ~DebugCapture ()
  {
    gst_debug_set_default_threshold (old_level_);
    gst_debug_remove_log_function (on_line);
    gst_debug_add_log_function (gst_debug_log_default, nullptr, nullptr);
  }
  guint leaks () const { return state_->leaks; }
  guint lines () const { return state_->lines; }
  std::string first_leak ()
  {
    std::lock_guard<std::mutex> g (state_->lock);
    return state_->first;
  }

private:
  struct State {
    std::vector<std::string> secrets;
    std::atomic<guint> leaks { 0 }, lines { 0 };
    std::mutex lock;
    std::string first;
  };
  static void on_line (GstDebugCategory *cat, GstDebugLevel, const gchar *file, const gchar *func,
      gint line, GObject *, GstDebugMessage *message, gpointer data)
  {
    auto *self = static_cast<State *> (data);
    const gchar *text = gst_debug_message_get (message);
    if (!text)
      return;
    self->lines++;
    for (const auto &s : self->secrets) {
      if (!s.empty () && strstr (text, s.c_str ())) {
        if (self->leaks++ == 0) {
          std::lock_guard<std::mutex> g (self->lock);
          self->first = std::string (gst_debug_category_get_name (cat)) + " " + file + ":" +
              std::to_string (line) + " " + func + ": " + text;
        }
      }
    }
  }
  State *state_ = nullptr;
  GstDebugLevel old_level_;
};

/* ---- the subscriber -------------------------------------------------------------------- */

/* A red5prosrc (from properties, or from a URI) with fakesinks, recording every
 * red5pro-event, every warning and the first error, and the text of every bus message. */
class Subscriber {
public:
  explicit Subscriber (const std::string &props)
  {
    std::string desc = "red5prosrc name=src " + props +
        " src.video ! queue ! fakesink name=vsink sync=false async=false"
        " src.audio ! queue ! fakesink name=asink sync=false async=false";
    GError *err = nullptr;
    pipeline_ = gst_parse_launch (desc.c_str (), &err);
    g_assert_no_error (err);
    src_ = gst_bin_get_by_name (GST_BIN (pipeline_), "src");
    count_buffers ("vsink", &video_);
    count_buffers ("asink", &audio_);
    watch ();
  }
  ~Subscriber ()
  {
    gst_element_set_state (pipeline_, GST_STATE_NULL);
    GstBus *bus = gst_element_get_bus (pipeline_);
    gst_bus_set_sync_handler (bus, nullptr, nullptr, nullptr);
    gst_object_unref (bus);
    gst_object_unref (src_);
    gst_object_unref (pipeline_);
    for (auto *s : events_)
      gst_structure_free (s);
    if (error_)
      g_error_free (error_);
  }

  GstElement *src () const { return src_; }
  GstStateChangeReturn play () { return gst_element_set_state (pipeline_, GST_STATE_PLAYING); }
  /* to NULL; the time it took, in ms */
  double stop ()
  {
    gint64 t0 = g_get_monotonic_time ();
    gst_element_set_state (pipeline_, GST_STATE_NULL);
    return (g_get_monotonic_time () - t0) / 1000.0;
  }

  guint64 video () const { return video_; }
  guint64 audio () const { return audio_; }

  /* copies of every red5pro-event of that type, in order */
  std::vector<GstStructure *> events (const char *type)
  {
    std::lock_guard<std::mutex> g (lock_);
    std::vector<GstStructure *> out;
    for (auto *s : events_)
      if (g_strcmp0 (gst_structure_get_string (s, "type"), type) == 0)
        out.push_back (s);
    return out;   /* owned by us; valid while we live */
  }
  guint count (const char *type) { return guint (events (type).size ()); }
  /* a string field of the first event of that type ("" when none) */
  std::string field (const char *type, const char *name, guint index = 0)
  {
    auto evs = events (type);
    if (evs.size () <= index)
      return "";
    const char *v = gst_structure_get_string (evs[index], name);
    return v ? v : "";
  }
  bool has_field (const char *type, const char *name)
  {
    auto evs = events (type);
    return !evs.empty () && gst_structure_has_field (evs[0], name);
  }
  bool has_error ()
  {
    std::lock_guard<std::mutex> g (lock_);
    return error_ != nullptr;
  }
  bool error_is (GQuark domain, gint code)
  {
    std::lock_guard<std::mutex> g (lock_);
    return error_ && g_error_matches (error_, domain, code);
  }
  std::string error_text ()
  {
    std::lock_guard<std::mutex> g (lock_);
    return error_ ? std::string (g_quark_to_string (error_->domain)) + "/" +
        std::to_string (error_->code) + ": " + error_->message + " (" + error_debug_ + ")" : "";
  }
  std::vector<std::string> warnings ()
  {
    std::lock_guard<std::mutex> g (lock_);
    return warnings_;
  }
  /* the text of every bus message so far contains none of these */
  std::string find_on_bus (const std::vector<std::string> &needles)
  {
    std::lock_guard<std::mutex> g (lock_);
    for (const auto &t : bus_text_)
      for (const auto &n : needles)
        if (!n.empty () && t.find (n) != std::string::npos)
          return t.substr (0, 300);
    return "";
  }

  template <typename F> bool wait (F cond, double timeout_s)
  {
    gint64 deadline = g_get_monotonic_time () + gint64 (timeout_s * G_USEC_PER_SEC);
    while (g_get_monotonic_time () < deadline) {
      if (cond ())
        return true;
      g_usleep (5000);
    }
    return cond ();
  }

private:
  void watch ()
  {
    GstBus *bus = gst_element_get_bus (pipeline_);
    gst_bus_set_sync_handler (bus, on_bus, this, nullptr);
    gst_object_unref (bus);
  }
  void count_buffers (const char *sink, std::atomic<guint64> *counter)
  {
    GstElement *el = gst_bin_get_by_name (GST_BIN (pipeline_), sink);
    GstPad *pad = gst_element_get_static_pad (el, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, [] (GstPad *, GstPadProbeInfo *,
        gpointer data) {
      (*static_cast<std::atomic<guint64> *> (data))++;
      return GST_PAD_PROBE_OK;
    }, counter, nullptr);
    gst_object_unref (pad);
    gst_object_unref (el);
  }
  static GstBusSyncReply on_bus (GstBus *, GstMessage *msg, gpointer data)
  {
    auto *self = static_cast<Subscriber *> (data);
    const GstStructure *s = gst_message_get_structure (msg);
    std::lock_guard<std::mutex> g (self->lock_);
    std::string text;
    if (s) {
      char *t = gst_structure_to_string (s);
      text = t ? t : "";
      g_free (t);
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && s &&
        gst_structure_has_name (s, "red5pro-event")) {
      if (self->events_.size () < 10000)
        self->events_.push_back (gst_structure_copy (s));
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      GError *err = nullptr;
      gchar *dbg = nullptr;
      gst_message_parse_warning (msg, &err, &dbg);
      self->warnings_.push_back (std::string (GST_MESSAGE_SRC_NAME (msg)) + ": " +
          err->message + " (" + (dbg ? dbg : "") + ")");
      text += " " + self->warnings_.back ();
      g_error_free (err);
      g_free (dbg);
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = nullptr;
      gchar *dbg = nullptr;
      gst_message_parse_error (msg, &err, &dbg);
      text += std::string (" ") + err->message + " (" + (dbg ? dbg : "") + ")";
      if (!self->error_) {
        self->error_ = err;
        self->error_debug_ = dbg ? dbg : "";
      } else {
        g_error_free (err);
      }
      g_free (dbg);
    }
    if (!text.empty () && self->bus_text_.size () < 20000)
      self->bus_text_.push_back (std::move (text));
    gst_message_unref (msg);
    return GST_BUS_DROP;
  }

  GstElement *pipeline_ = nullptr;
  GstElement *src_ = nullptr;
  std::mutex lock_;
  std::vector<GstStructure *> events_;
  std::vector<std::string> warnings_;
  std::vector<std::string> bus_text_;
  GError *error_ = nullptr;
  std::string error_debug_;
  std::atomic<guint64> video_ { 0 }, audio_ { 0 };
};

/* ---- a CA and a server certificate for 127.0.0.1, made with openssl ---------------------- */

struct Pki {
  std::string dir, ca, cert, key;
};

inline bool
run_command (const std::string &cmd)
{
  gint status = 0;
  gchar *out = nullptr, *err = nullptr;
  bool ok = g_spawn_command_line_sync (cmd.c_str (), &out, &err, &status, nullptr) &&
      g_spawn_check_wait_status (status, nullptr);
  if (!ok)
    g_printerr ("'%s' failed: %s\n", cmd.c_str (), err ? err : "");
  g_free (out);
  g_free (err);
  return ok;
}

inline Pki &
pki_paths ()
{
  static Pki p;
  return p;
}

/* Removes the CA's directory (at exit, or by hand before _exit). */
inline void
remove_pki ()
{
  Pki &p = pki_paths ();
  if (!p.dir.empty ())
    run_command ("rm -rf " + p.dir);
  p.dir.clear ();
}

/* Made once per process, removed at exit. */
inline const Pki &
pki ()
{
  Pki &p = pki_paths ();
  if (!p.dir.empty ())
    return p;
  char *dir = g_dir_make_tmp ("red5pro-faults-XXXXXX", nullptr);
  g_assert (dir);
  p.dir = dir;
  g_free (dir);
  p.ca = p.dir + "/ca.pem";
  p.cert = p.dir + "/server.pem";
  p.key = p.dir + "/server.key";
  std::string ext = p.dir + "/san.cnf";
  g_file_set_contents (ext.c_str (), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
      "extendedKeyUsage=serverAuth\n", -1, nullptr);
  const std::string d = p.dir;
  bool ok = run_command ("openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
                         "-subj /CN=red5pro-faults-ca -keyout " + d + "/ca.key -out " + p.ca) &&
      run_command ("openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + p.key +
                   " -out " + d + "/server.csr") &&
      run_command ("openssl x509 -req -days 2 -in " + d + "/server.csr -CA " + p.ca + " -CAkey " +
                   d + "/ca.key -CAcreateserial -extfile " + ext + " -out " + p.cert);
  g_assert (ok && "openssl could not make the test CA");
  atexit (remove_pki);
  return p;
}

}  // namespace fault
