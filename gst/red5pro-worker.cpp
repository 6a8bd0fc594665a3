/* red5pro-worker: the element's network thread, its main context and HTTP session. */
#include "red5pro-worker.h"

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

namespace {

struct Closure {
  std::function<void ()> fn;
};

gboolean
run_closure (gpointer data)
{
  static_cast<Closure *> (data)->fn ();
  return G_SOURCE_REMOVE;
}

void
free_closure (gpointer data)
{
  delete static_cast<Closure *> (data);
}

}  // namespace

struct Worker::Request {
  Worker *worker;
  SoupMessage *msg;
  HttpCallback cb;
  gsize max_body;
  GCancellable *cancellable;     /* ours: the caller's cancels it, and so does the deadline */
  GCancellable *caller;
  gulong caller_handler = 0;
  guint deadline = 0;
  bool timed_out = false;
  GInputStream *stream = nullptr;
  HttpResult result;
};

Worker::Worker (const char *name, GstObject *log_object)
  : name_ (name), log_object_ (log_object)
{
}

Worker::~Worker ()
{
  stop (0);
}

std::string
describe_tls_errors (GTlsCertificateFlags flags)
{
  std::string out;
  auto add = [&] (GTlsCertificateFlags f, const char *what) {
    if (flags & f)
      out += (out.empty () ? "" : ", ") + std::string (what);
  };
  add (G_TLS_CERTIFICATE_UNKNOWN_CA, "signed by an unknown certificate authority");
  add (G_TLS_CERTIFICATE_BAD_IDENTITY, "issued for another host");
  add (G_TLS_CERTIFICATE_NOT_ACTIVATED, "not valid yet");
  add (G_TLS_CERTIFICATE_EXPIRED, "expired");
  add (G_TLS_CERTIFICATE_REVOKED, "revoked");
  add (G_TLS_CERTIFICATE_INSECURE, "using an insecure algorithm");
  add (G_TLS_CERTIFICATE_GENERIC_ERROR, "invalid");
  return out.empty () ? "rejected" : out;
}

void
Worker::start (guint timeout_ms, GTlsDatabase *database, bool insecure)
{
  std::lock_guard<std::mutex> guard (start_lock_);
  if (thread_)
    return;
  timeout_ms_ = timeout_ms;
  g_clear_object (&database_);
  database_ = database ? G_TLS_DATABASE (g_object_ref (database)) : nullptr;
  insecure_ = insecure;
  stopping_ = false;
  pending_ = 0;
  {
    std::lock_guard<std::mutex> guard (context_lock_);
    context_ = g_main_context_new ();
  }
  thread_ = g_thread_new (name_.c_str (), thread_main, this);
}

gpointer
Worker::thread_main (gpointer data)
{
  auto *self = static_cast<Worker *> (data);
  g_main_context_push_thread_default (self->context_);
  /* libsoup 3: a session belongs to the thread-default context it is created in. */
  self->session_ = soup_session_new_with_options ("timeout", (self->timeout_ms_ + 999) / 1000,
      "idle-timeout", 30u, "user-agent", "gst-red5pro/" PACKAGE_VERSION " ", NULL);
  if (self->database_)
    g_object_set (self->session_, "tls-database", self->database_, NULL);
  for (;;) {
    g_main_context_iteration (self->context_, TRUE);
    if (!self->stopping_)
      continue;
    if (self->pending_ == 0)
      break;
    if (g_get_monotonic_time () >= self->deadline_) {
      GST_DEBUG_OBJECT (self->log_object_, "cancelling %d request(s) still in flight",
          self->pending_);
      /* each the safe way (cancel_soon), not soup_session_abort: they complete (cancelled)
       * on the next iterations */
      for (Request *req : self->in_flight_)
        cancel_soon (req);
      self->deadline_ = G_MAXINT64;
    }
  }
  soup_session_abort (self->session_);
  g_clear_object (&self->session_);
  /* dispatch whatever is left (callbacks for aborted requests, closures' destroy) */
  while (g_main_context_iteration (self->context_, FALSE)) {
  }
  g_main_context_pop_thread_default (self->context_);
  return nullptr;
}

GMainContext *
Worker::ref_context () const
{
  std::lock_guard<std::mutex> guard (context_lock_);
  return context_ ? g_main_context_ref (context_) : nullptr;
}

bool
Worker::on_worker_thread () const
{
  GMainContext *ctx = ref_context ();
  bool owner = ctx && g_main_context_is_owner (ctx);
  if (ctx)
    g_main_context_unref (ctx);
  return owner;
}

bool
Worker::post (std::function<void ()> fn)
{
  GMainContext *ctx = ref_context ();
  if (!ctx)
    return false;
  GSource *src = g_idle_source_new ();
  g_source_set_priority (src, G_PRIORITY_DEFAULT);
  g_source_set_callback (src, run_closure, new Closure { std::move (fn) }, free_closure);
  g_source_attach (src, ctx);
  g_source_unref (src);
  g_main_context_unref (ctx);
  return true;
}

void
Worker::call (std::function<void ()> fn)
{
  g_return_if_fail (!on_worker_thread ());
  if (!thread_)
    return;
  std::mutex lock;
  std::condition_variable cond;
  bool done = false;
  bool posted = post ([&] {
    fn ();
    std::lock_guard<std::mutex> g (lock);
    done = true;
    cond.notify_one ();
  });
  if (!posted)
    return;
  std::unique_lock<std::mutex> g (lock);
  cond.wait (g, [&] { return done; });
}

guint
Worker::add_timeout (guint ms, std::function<void ()> fn)
{
  GMainContext *ctx = ref_context ();
  if (!ctx)
    return 0;
  GSource *src = g_timeout_source_new (ms);
  g_source_set_callback (src, run_closure, new Closure { std::move (fn) }, free_closure);
  guint id = g_source_attach (src, ctx);
  g_source_unref (src);
  g_main_context_unref (ctx);
  return id;
}

void
Worker::remove_timeout (guint id)
{
  GMainContext *ctx = id ? ref_context () : nullptr;
  if (!ctx)
    return;
  GSource *src = g_main_context_find_source_by_id (ctx, id);
  if (src)
    g_source_destroy (src);
  g_main_context_unref (ctx);
}

void
Worker::prepare (SoupMessage *msg)
{
  if (insecure_) {
    g_signal_connect (msg, "accept-certificate", G_CALLBACK (+[] (SoupMessage *,
        GTlsCertificate *, GTlsCertificateFlags flags, gpointer) -> gboolean {
      GST_WARNING ("accepting a certificate that is %s (tls-insecure=true)",
          describe_tls_errors (flags).c_str ());
      return TRUE;
    }), nullptr);
  }
}

void
Worker::send (SoupMessage *msg, GCancellable *cancellable, HttpCallback cb, gsize max_body)
{
  g_assert (on_worker_thread ());
  prepare (msg);
  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  pending_++;
  auto *req = new Request { this, msg, std::move (cb), max_body, g_cancellable_new (),
      cancellable ? G_CANCELLABLE (g_object_ref (cancellable)) : nullptr };
  in_flight_.insert (req);
  if (req->caller)
    req->caller_handler = g_cancellable_connect (req->caller, G_CALLBACK (+[] (GCancellable *,
        gpointer r) { cancel_soon (static_cast<Request *> (r)); }), req, nullptr);
  /* the whole exchange, body included: a server that trickles a byte now and then never
   * lets the idle timeout fire */
  req->deadline = add_timeout (timeout_ms_, [req] () {
    req->deadline = 0;
    req->timed_out = true;
    cancel_soon (req);
  });
  soup_session_send_async (session_, msg, G_PRIORITY_DEFAULT, req->cancellable, on_sent, req);
}

/* Cancels the request from an idle of low priority, after whatever libsoup has already
 * queued for it. libsoup 3.6 (Debian 13) frees the request's queue item twice when its
 * cancellable is cancelled between the response headers' arrival and the dispatch of that
 * completion (fixed in libsoup 3.7.1, "fix 'heap-use-after-free' caused by 'finishing' queue
 * item twice"): soup_session_send_finish() then read freed memory (fault/matrix,
 * whep_stop_during_negotiation, about one run in 400 on Debian 13). A completion already
 * queued runs first, so the cancellable only ever reaches a request that waits on the
 * network. The cancellable is held by the idle: the request may be finished by then. */
void
Worker::cancel_soon (Request *req)
{
  GMainContext *ctx = req->worker->ref_context ();
  if (!ctx)
    return;
  GSource *src = g_idle_source_new ();
  g_source_set_priority (src, G_PRIORITY_LOW);
  g_source_set_callback (src, +[] (gpointer c) -> gboolean {
    g_cancellable_cancel (G_CANCELLABLE (c));
    return G_SOURCE_REMOVE;
  }, g_object_ref (req->cancellable), g_object_unref);
  g_source_attach (src, ctx);
  g_source_unref (src);
  g_main_context_unref (ctx);
}

void
Worker::on_sent (GObject *source, GAsyncResult *res, gpointer data)
{
  auto *req = static_cast<Request *> (data);
  GError *err = nullptr;
  req->stream = soup_session_send_finish (SOUP_SESSION (source), res, &err);
  if (!req->stream) {
    finish (req, err);
    return;
  }
  req->result.status = soup_message_get_status (req->msg);
  SoupMessageHeaders *hdrs = soup_message_get_response_headers (req->msg);
  if (const char *ct = soup_message_headers_get_content_type (hdrs, nullptr))
    req->result.content_type = ct;
  if (const char *loc = soup_message_headers_get_one (hdrs, "Location"))
    req->result.location = loc;
  if (const char *host = soup_message_headers_get_one (hdrs, "Session-Host"))
    req->result.session_host = host;
  /* every Link header, split into its elements (commas inside quotes stay) */
  if (const char *links = soup_message_headers_get_list (hdrs, "Link")) {
    GSList *items = soup_header_parse_list (links);
    for (GSList *l = items; l; l = l->next)
      req->result.links.emplace_back (static_cast<const char *> (l->data));
    soup_header_free_list (items);
  }
  g_input_stream_read_bytes_async (req->stream, 64 * 1024, G_PRIORITY_DEFAULT,
      req->cancellable, on_read, req);
}

void
Worker::on_read (GObject *source, GAsyncResult *res, gpointer data)
{
  auto *req = static_cast<Request *> (data);
  GError *err = nullptr;
  GBytes *chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), res, &err);
  if (!chunk) {
    finish (req, err);
    return;
  }
  gsize size = 0;
  const char *p = static_cast<const char *> (g_bytes_get_data (chunk, &size));
  if (size == 0) {
    g_bytes_unref (chunk);
    finish (req, nullptr);
    return;
  }
  req->result.body.append (p, size);
  g_bytes_unref (chunk);
  if (req->result.body.size () > req->max_body) {
    req->result.too_large = true;
    finish (req, g_error_new (G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
        "the response is larger than %" G_GSIZE_FORMAT " bytes", req->max_body));
    return;
  }
  g_input_stream_read_bytes_async (req->stream, 64 * 1024, G_PRIORITY_DEFAULT,
      req->cancellable, on_read, req);
}

/* err (taken): what ended the exchange early, if anything */
void
Worker::finish (Request *req, GError *err)
{
  HttpResult &r = req->result;
  if (err) {
    r.status = 0;
    r.body.clear ();
    r.cancelled = g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !req->timed_out;
    GUri *uri = soup_message_get_uri (req->msg);
    const char *host = g_uri_get_host (uri) ? g_uri_get_host (uri) : "?";
    GTlsCertificateFlags flags = soup_message_get_tls_peer_certificate_errors (req->msg);
    if (req->timed_out) {
      r.error = "no complete answer within " + std::to_string (req->worker->timeout_ms_) + " ms";
    } else if (err->domain == G_TLS_ERROR && (err->code == G_TLS_ERROR_BAD_CERTIFICATE || flags)) {
      r.tls_failed = true;
      r.error = std::string ("the TLS certificate of ") + host + " is " +
          describe_tls_errors (flags);
    } else if (err->domain == G_TLS_ERROR) {
      /* not a certificate: https to a port that speaks plain http, say */
      r.error = std::string ("no TLS connection with ") + host + " (is it an https port?): " +
          err->message;
    } else {
      r.error = err->message;
    }
    g_error_free (err);
  }
  Worker *worker = req->worker;
  worker->remove_timeout (req->deadline);
  if (req->caller) {
    g_cancellable_disconnect (req->caller, req->caller_handler);
    g_object_unref (req->caller);
  }
  if (req->stream) {
    g_input_stream_close_async (req->stream, G_PRIORITY_DEFAULT, nullptr, nullptr, nullptr);
    g_object_unref (req->stream);
  }
  worker->pending_--;
  worker->in_flight_.erase (req);
  req->cb (r);
  g_object_unref (req->cancellable);
  g_object_unref (req->msg);
  delete req;
}

void
Worker::stop (guint drain_ms)
{
  std::lock_guard<std::mutex> guard (start_lock_);
  if (!thread_)
    return;
  gint64 deadline = g_get_monotonic_time () + gint64 (drain_ms) * 1000;
  post ([this, deadline] {
    stopping_ = true;
    deadline_ = deadline;
  });
  /* wakes the loop at the deadline even when nothing else happens */
  add_timeout (drain_ms + 1, [] {});
  g_thread_join (thread_);
  thread_ = nullptr;
  g_clear_object (&database_);
  GMainContext *ctx;
  {
    std::lock_guard<std::mutex> guard (context_lock_);
    ctx = context_;
    context_ = nullptr;
  }
  /* destroys what was posted after the loop ended (their closures run no code) */
  g_main_context_unref (ctx);
}

}  // namespace red5pro
