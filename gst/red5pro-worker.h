/* red5pro-worker: the element's own network thread. Owns one GMainContext, the
 * thread iterating it, and the SoupSession all HTTP goes through; counts requests in
 * flight so that stopping can give a teardown DELETE a bounded chance to leave. */
#pragma once

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace red5pro {

/* One HTTP exchange's outcome. status is 0 when no response arrived (error set). */
struct HttpResult {
  guint status = 0;
  std::string body;
  std::string content_type;
  std::string location;          /* Location header, as sent */
  std::string session_host;      /* Session-Host header (SDK 15 WHEP), as sent */
  std::vector<std::string> links;   /* each Link header element (RFC 8288), as sent */
  std::string error;             /* transport error, empty when a response arrived */
  bool cancelled = false;
  bool tls_failed = false;       /* the server's certificate was not accepted */
  bool too_large = false;        /* the body went past the request's bound (error set) */
  std::string refused;           /* a client's reason to refuse an answer that came fine */
};

/* Response bodies larger than this are refused: Stream Manager answers and SDP are a few
 * KiB; a server that streams without end must not fill the memory. */
constexpr gsize MAX_RESPONSE_BODY = 1024 * 1024;

/* Why a certificate was refused, in words ("unknown certificate authority, ..."). */
std::string describe_tls_errors (GTlsCertificateFlags flags);

using HttpCallback = std::function<void (const HttpResult &)>;

class Worker {
public:
  /* log_object: what its (and its users') log lines are about, the element */
  explicit Worker (const char *name, GstObject *log_object = nullptr);
  ~Worker ();
  Worker (const Worker &) = delete;
  Worker &operator= (const Worker &) = delete;

  /* Starts the thread and creates the SoupSession on it. timeout_ms: how long a request
   * may take, all of it (an idle connection fails sooner, at that many seconds rounded up).
   * database: trust store (nullptr = the system's); insecure: accept any certificate. */
  void start (guint timeout_ms, GTlsDatabase *database = nullptr, bool insecure = false);
  /* what start() was given, for HTTP clients of other libraries (HLS) */
  GTlsDatabase *tls_database () const { return database_; }
  bool tls_insecure () const { return insecure_; }
  /* Applies the TLS policy to a message before it is sent (also WebSocket handshakes). */
  void prepare (SoupMessage *msg);
  /* Lets requests in flight finish for up to drain_ms, aborts the rest, joins the thread. */
  void stop (guint drain_ms);

  GstObject *log_object () const { return log_object_; }

  /* The HTTP session; worker thread only. */
  SoupSession *http () const { return session_; }
  bool on_worker_thread () const;

  /* Runs fn on the worker thread, asynchronously (safe from any thread). False when the
   * worker is not running: fn is dropped without running. */
  bool post (std::function<void ()> fn);
  /* Runs fn on the worker thread and waits for it (never call from the worker). */
  void call (std::function<void ()> fn);
  /* One-shot timer on the worker context; returns the source id (0 if not started). */
  guint add_timeout (guint ms, std::function<void ()> fn);
  void remove_timeout (guint id);

  /* Sends msg (takes ownership) on the worker and reads at most max_body bytes of the
   * response; cb runs on the worker. Redirects are not followed (3xx comes back with its
   * Location). Worker thread only. */
  void send (SoupMessage *msg, GCancellable *cancellable, HttpCallback cb,
      gsize max_body = MAX_RESPONSE_BODY);

private:
  static gpointer thread_main (gpointer data);
  struct Request;
  static void on_sent (GObject *source, GAsyncResult *res, gpointer data);
  static void on_read (GObject *source, GAsyncResult *res, gpointer data);
  static void finish (Request *req, GError *err);
  static void cancel_soon (Request *req);

  /* The context, with a reference, or nullptr when not running; any thread. */
  GMainContext *ref_context () const;

  std::string name_;
  GstObject *log_object_;
  mutable std::mutex context_lock_;  /* context_: other threads post while stop() ends it */
  GMainContext *context_ = nullptr;
  GThread *thread_ = nullptr;
  SoupSession *session_ = nullptr;   /* created and used on the worker thread only */
  guint timeout_ms_ = 10000;
  GTlsDatabase *database_ = nullptr;
  bool insecure_ = false;
  int pending_ = 0;                  /* worker thread only */
  std::set<Request *> in_flight_;    /* worker thread only */
  bool stopping_ = false;            /* worker thread only */
  gint64 deadline_ = 0;              /* worker thread only */
  std::mutex start_lock_;
};

}  // namespace red5pro
