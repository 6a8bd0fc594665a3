/* test-cluster: what tests use to run the bundled Red5 Pro test cluster: start it as a
 * child process, read its ports, drive its control API, stop it. Header-only. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <string>
#include <vector>

struct TestEdge {
  std::string name;
  std::string address;
  std::string flavour;
};

class TestCluster {
public:
  /* args: extra command-line arguments, e.g. {"--edges", "2"} */
  explicit TestCluster (const std::vector<std::string> &args = {})
  {
    const char *exe = g_getenv ("RED5PRO_TEST_CLUSTER");
    g_assert (exe && "RED5PRO_TEST_CLUSTER must name the test cluster executable");
    std::vector<const char *> argv { exe };
    for (const auto &a : args)
      argv.push_back (a.c_str ());
    argv.push_back (nullptr);
    GError *err = nullptr;
    proc_ = g_subprocess_newv (argv.data (), G_SUBPROCESS_FLAGS_STDOUT_PIPE, &err);
    g_assert_no_error (err);
    GDataInputStream *in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc_));
    char *line = g_data_input_stream_read_line (in, nullptr, nullptr, &err);
    g_object_unref (in);
    g_assert_no_error (err);
    g_assert (line && "the test cluster printed no ports line");
    JsonParser *parser = json_parser_new ();
    g_assert (json_parser_load_from_data (parser, line, -1, nullptr));
    JsonObject *o = json_node_get_object (json_parser_get_root (parser));
    port_ = guint (json_object_get_int_member (o, "port"));
    control_port_ = guint (json_object_get_int_member (o, "control_port"));
    JsonArray *edges = json_object_get_array_member (o, "edges");
    for (guint i = 0; i < json_array_get_length (edges); i++) {
      JsonObject *e = json_array_get_object_element (edges, i);
      edges_.push_back ({ json_object_get_string_member (e, "name"),
          json_object_get_string_member (e, "address"),
          json_object_get_string_member (e, "flavour") });
    }
    g_object_unref (parser);
    g_free (line);
    http_ = soup_session_new_with_options ("timeout", 20u, NULL);
  }

  ~TestCluster ()
  {
    control ("POST", "/quit");
    GError *err = nullptr;
    /* GSubprocess reaps the child in GLib's worker: no identifier = it has exited */
    for (int i = 0; i < 200 && g_subprocess_get_identifier (proc_); i++)
      g_usleep (25000);
    if (g_subprocess_get_identifier (proc_))
      g_subprocess_force_exit (proc_);
    g_subprocess_wait (proc_, nullptr, &err);
    g_clear_error (&err);
    g_object_unref (proc_);
    g_object_unref (http_);
  }

  guint port () const { return port_; }
  guint control_port () const { return control_port_; }
  const std::vector<TestEdge> &edges () const { return edges_; }
  /* the name of the edge at that address ("" when none) */
  std::string edge_name (const std::string &address) const
  {
    for (const auto &e : edges_)
      if (e.address == address)
        return e.name;
    return "";
  }

  /* A control API call; returns the body (empty on failure), status in *status. */
  std::string control (const char *method, const std::string &path_and_query,
      guint *status = nullptr, const std::string *request_body = nullptr)
  {
    char *url = g_strdup_printf ("http://127.0.0.1:%u%s", control_port_,
        path_and_query.c_str ());
    SoupMessage *msg = soup_message_new (method, url);
    g_free (url);
    if (request_body) {
      GBytes *b = g_bytes_new (request_body->data (), request_body->size ());
      soup_message_set_request_body_from_bytes (msg, "application/octet-stream", b);
      g_bytes_unref (b);
    }
    std::string body;
    GBytes *bytes = soup_session_send_and_read (http_, msg, nullptr, nullptr);
    if (bytes) {
      gsize n = 0;
      const char *p = static_cast<const char *> (g_bytes_get_data (bytes, &n));
      body.assign (p ? p : "", n);
      g_bytes_unref (bytes);
    }
    if (status)
      *status = soup_message_get_status (msg);
    g_object_unref (msg);
    return body;
  }

  /* The requests an edge received, as (method, path) pairs and their query params. */
  struct Request {
    std::string method;
    std::string path;
    std::string query_json;
  };
  std::vector<Request> requests (const std::string &edge)
  {
    std::vector<Request> out;
    std::string body = control ("GET", "/requests?edge=" + edge);
    JsonParser *parser = json_parser_new ();
    if (json_parser_load_from_data (parser, body.c_str (), -1, nullptr) &&
        JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser))) {
      JsonArray *arr = json_node_get_array (json_parser_get_root (parser));
      for (guint i = 0; i < json_array_get_length (arr); i++) {
        JsonObject *r = json_array_get_object_element (arr, i);
        Request req;
        req.method = json_object_get_string_member_with_default (r, "method", "");
        req.path = json_object_get_string_member_with_default (r, "path", "");
        if (json_object_has_member (r, "query")) {
          char *q = json_to_string (json_object_get_member (r, "query"), FALSE);
          req.query_json = q;
          g_free (q);
        }
        out.push_back (req);
      }
    }
    g_object_unref (parser);
    return out;
  }

private:
  GSubprocess *proc_ = nullptr;
  SoupSession *http_ = nullptr;
  guint port_ = 0;
  guint control_port_ = 0;
  std::vector<TestEdge> edges_;
};
