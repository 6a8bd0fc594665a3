/* red5pro-whep: WHEP over libsoup, SDP inspection and sdpfrags over gstsdp. */
#include "red5pro-whep.h"
#include "red5pro-url.h"
#include "red5pro-codecs.h"

#include <gst/sdp/sdp.h>

#include <algorithm>
#include <map>
#include <cstring>

GST_DEBUG_CATEGORY_EXTERN (red5prosrc_debug);
#define GST_CAT_DEFAULT red5prosrc_debug

namespace red5pro {

SdpKind
classify_sdp (const std::string &sdp)
{
  GstSDPMessage *msg = nullptr;
  gst_sdp_message_new (&msg);
  SdpKind kind = SdpKind::INVALID;
  if (!sdp.empty () && gst_sdp_message_parse_buffer (reinterpret_cast<const guint8 *> (sdp.data ()),
          guint (sdp.size ()), msg) == GST_SDP_OK && gst_sdp_message_medias_len (msg) > 0) {
    const char *setup = gst_sdp_message_get_attribute_val (msg, "setup");
    for (guint i = 0; !setup && i < gst_sdp_message_medias_len (msg); i++)
      setup = gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (msg, i), "setup");
    if (setup && g_str_equal (setup, "actpass"))
      kind = SdpKind::OFFER;
    else if (setup && (g_str_equal (setup, "active") || g_str_equal (setup, "passive")))
      kind = SdpKind::ANSWER;
  }
  gst_sdp_message_free (msg);
  return kind;
}

std::string
build_sdpfrag (const std::string &ufrag, const std::string &pwd,
    const std::vector<IceCandidate> &candidates)
{
  /* One media section per mid, carrying that mid's credentials and candidates. */
  std::vector<std::string> mids;
  for (const auto &c : candidates) {
    if (std::find (mids.begin (), mids.end (), c.mid) == mids.end ())
      mids.push_back (c.mid);
  }
  std::string frag;
  for (const auto &mid : mids) {
    GstSDPMedia *media = nullptr;
    gst_sdp_media_new (&media);
    gst_sdp_media_set_media (media, "audio");
    gst_sdp_media_set_port_info (media, 9, 1);
    gst_sdp_media_set_proto (media, "RTP/AVP");
    gst_sdp_media_add_format (media, "0");
    gst_sdp_media_add_attribute (media, "ice-ufrag", ufrag.c_str ());
    gst_sdp_media_add_attribute (media, "ice-pwd", pwd.c_str ());
    gst_sdp_media_add_attribute (media, "mid", mid.c_str ());
    bool ended = false;
    for (const auto &c : candidates) {
      if (c.mid != mid)
        continue;
      if (c.candidate.empty ()) {
        ended = true;
        continue;
      }
      const char *value = c.candidate.c_str ();
      if (g_str_has_prefix (value, "candidate:"))
        value += strlen ("candidate:");
      gst_sdp_media_add_attribute (media, "candidate", value);
    }
    if (ended)
      gst_sdp_media_add_attribute (media, "end-of-candidates", nullptr);
    char *text = gst_sdp_media_as_text (media);
    frag += text;
    g_free (text);
    gst_sdp_media_free (media);
  }
  return frag;
}

std::vector<IceCandidate>
parse_sdpfrag (const std::string &frag)
{
  std::vector<IceCandidate> out;
  GstSDPMessage *msg = nullptr;
  gst_sdp_message_new (&msg);
  if (!frag.empty () && gst_sdp_message_parse_buffer (reinterpret_cast<const guint8 *> (frag.data ()),
          guint (frag.size ()), msg) == GST_SDP_OK) {
    for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++) {
      const GstSDPMedia *media = gst_sdp_message_get_media (msg, i);
      const char *mid = gst_sdp_media_get_attribute_val (media, "mid");
      for (guint a = 0; a < gst_sdp_media_attributes_len (media); a++) {
        const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, a);
        if (!attr->key || !g_str_equal (attr->key, "candidate") || !attr->value)
          continue;
        IceCandidate c;
        c.mline = G_MAXUINT;
        c.mid = mid ? mid : "";
        c.candidate = std::string ("candidate:") + attr->value;
        out.push_back (std::move (c));
      }
    }
  }
  gst_sdp_message_free (msg);
  return out;
}

/* One Link header element (RFC 8288): <target>; key=value; ... The keys lowercase; false
 * when it has no <target>. */
static bool
parse_link (const std::string &link, std::string *target,
    std::map<std::string, std::string> *params)
{
  size_t open = link.find ('<'), close = link.find ('>');
  if (open == std::string::npos || close == std::string::npos || close < open)
    return false;
  *target = link.substr (open + 1, close - open - 1);
  std::string rest = link.substr (close + 1);
  size_t start = rest.find_first_not_of ("; \t");
  GHashTable *list = soup_header_parse_semi_param_list (
      start == std::string::npos ? "" : rest.c_str () + start);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, list);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    if (!v)
      continue;
    g_autofree char *key = g_ascii_strdown (static_cast<const char *> (k), -1);
    (*params)[key] = static_cast<const char *> (v);
  }
  soup_header_free_param_list (list);
  return true;
}

/* True when the link's rel (a space-separated list) has that relation type. */
static bool
link_has_rel (const std::map<std::string, std::string> &params, const char *rel)
{
  auto it = params.find ("rel");
  if (it == params.end ())
    return false;
  bool found = false;
  gchar **rels = g_strsplit (it->second.c_str (), " ", -1);
  for (gchar **r = rels; *r; r++)
    found |= g_ascii_strcasecmp (*r, rel) == 0;
  g_strfreev (rels);
  return found;
}

std::vector<std::string>
ice_servers_from_links (const std::vector<std::string> &links)
{
  std::vector<std::string> out;
  for (const auto &link : links) {
    /* <uri>; rel="ice-server"; username="..."; credential="..." */
    std::string target;
    std::map<std::string, std::string> params;
    if (!parse_link (link, &target, &params) || !link_has_rel (params, "ice-server"))
      continue;
    std::string username = params.count ("username") ? params["username"] : "";
    std::string credential = params.count ("credential") ? params["credential"] : "";
    /* stun:host[:port], turn:host[:port][?transport=udp|tcp] (RFC 7064, 7065) */
    g_autofree char *scheme = nullptr, *path = nullptr, *query = nullptr;
    if (!g_uri_split (target.c_str (), G_URI_FLAGS_NONE, &scheme, nullptr, nullptr, nullptr,
            &path, &query, nullptr, nullptr) || !scheme || !path)
      continue;
    g_autofree char *lower = g_ascii_strdown (scheme, -1);
    std::string s = lower;
    bool stun = s == "stun" || s == "stuns", turn = s == "turn" || s == "turns";
    std::string host;
    unsigned port = 0;
    if ((!stun && !turn) || !split_host_port (path, &host, &port))
      continue;
    if (!port)
      port = (s == "turns" || s == "stuns") ? 5349 : 3478;
    std::string transport;
    if (query) {
      GHashTable *q = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_CASE_INSENSITIVE, nullptr);
      const char *t = q ? static_cast<const char *> (g_hash_table_lookup (q, "transport")) : nullptr;
      if (t && (g_ascii_strcasecmp (t, "udp") == 0 || g_ascii_strcasecmp (t, "tcp") == 0))
        transport = g_ascii_strcasecmp (t, "udp") == 0 ? "udp" : "tcp";
      if (q)
        g_hash_table_unref (q);
    }
    if (turn && (username.empty () || credential.empty ()))
      continue;
    /* webrtcbin 1.22 takes stun:// only (its STUN is plain) */
    if (s == "stuns")
      continue;
    g_autofree char *uri = g_uri_join_with_user (G_URI_FLAGS_NONE, s.c_str (),
        turn ? username.c_str () : nullptr, turn ? credential.c_str () : nullptr, nullptr,
        host.c_str (), int (port), "", transport.empty () ? nullptr
                                                          : ("transport=" + transport).c_str (),
        nullptr);
    if (uri)
      out.emplace_back (uri);
  }
  return out;
}

std::string
statistics_endpoint_from_links (const std::vector<std::string> &links, const std::string &base)
{
  for (const auto &link : links) {
    std::string target;
    std::map<std::string, std::string> params;
    if (!parse_link (link, &target, &params) || !link_has_rel (params, "statistics"))
      continue;
    std::string url = resolve_url (base, target);
    const char *scheme = g_uri_peek_scheme (url.c_str ());
    if (scheme && (g_str_equal (scheme, "http") || g_str_equal (scheme, "https")))
      return url;
  }
  return "";
}

std::string
whep_endpoint_url (const SubscriberConfig &cfg, const std::string &edge_host,
    const std::string &app, guint edge_port)
{
  QueryPairs query {
    { "requestId", cfg.subscription_id },
    { "signal", cfg.data_channel ? "true" : "false" },
  };
  bool sm2_proxy = cfg.use_proxy && cfg.stream_manager == StreamManagerMode::SM2;
  if (sm2_proxy)
    query.emplace_back ("nodeGroup", cfg.node_group);
  /* the SDK's subscriber options, unless the connection parameters say otherwise */
  auto given = [&cfg] (const char *key) {
    for (const auto &kv : cfg.connection_params)
      if (kv.first == key)
        return true;
    return false;
  };
  if (!given ("doNotSwitch"))
    query.emplace_back ("doNotSwitch", cfg.maintain_stream_variant ? "true" : "false");
  if (!cfg.video_encoding.empty () && !given ("videoEncoding"))
    query.emplace_back ("videoEncoding", sdk_encoding (cfg.video_encoding, true));
  if (!cfg.audio_encoding.empty () && !given ("audioEncoding"))
    query.emplace_back ("audioEncoding", sdk_encoding (cfg.audio_encoding, false));
  for (const auto &kv : cfg.connection_params)
    query.push_back (kv);
  if (sm2_proxy) {
    /* the Stream Manager 2.0 proxy picks the edge */
    return build_url (cfg.http_scheme (), cfg.host, cfg.effective_port (),
        { "as", "v1", "proxy", "whep", app, cfg.stream_name }, query);
  }
  return build_url (cfg.http_scheme (), edge_host, edge_port ? edge_port : cfg.effective_port (),
      { app, "whep", "endpoint", cfg.stream_name }, query);
}

/* A WHEP load balancer may redirect the POST; more hops than this are a loop. */
static constexpr guint MAX_REDIRECTS = 3;

static bool
is_https (const std::string &url)
{
  return g_str_has_prefix (url_origin (url).c_str (), "https:");
}

WhepClient::WhepClient (Worker &worker, std::string endpoint, std::string auth_token,
    GCancellable *cancellable)
  : worker_ (worker), endpoint_ (std::move (endpoint)), auth_token_ (std::move (auth_token)),
    token_origin_ (url_origin (endpoint_)),
    cancellable_ (cancellable ? G_CANCELLABLE (g_object_ref (cancellable)) : nullptr)
{
}

WhepClient::~WhepClient ()
{
  g_clear_object (&cancellable_);
}

void
WhepClient::request (const char *method, const std::string &target, const char *content_type,
    const std::string &body, bool cancellable, Done done, GCancellable *own)
{
  /* SDK 15: the node the OPTIONS answer named goes on every request (protocol notes,
   * section 15); the endpoint's own host stays */
  std::string url = session_host_.empty () ? target
                                           : add_query_pair (target, "host", session_host_);
  SoupMessage *msg = url.empty () ? nullptr : soup_message_new (method, url.c_str ());
  if (!msg) {
    HttpResult r;
    r.error = std::string ("invalid WHEP URL for ") + method;
    done (r);
    return;
  }
  /* the token goes to the origin it was given for, never further (a Location or a redirect
   * elsewhere) */
  std::string origin = url_origin (url);
  bool trusted = origin == token_origin_;
  if (!auth_token_.empty () && trusted)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
        ("Bearer " + auth_token_).c_str ());
  else if (!auth_token_.empty ())
    GST_INFO_OBJECT (worker_.log_object (), "WHEP %s to %s without the token (another origin)",
        method, origin.c_str ());
  if (content_type) {
    g_autoptr (GBytes) bytes = g_bytes_new (body.data (), body.size ());
    soup_message_set_request_body_from_bytes (msg, content_type, bytes);
  }
  GST_DEBUG_OBJECT (worker_.log_object (), "WHEP %s %s (%zu bytes)", method,
      redact_url (url).c_str (), body.size ());
  worker_.send (msg, own ? own : cancellable ? cancellable_ : nullptr, std::move (done));
}

void
WhepClient::options (guint timeout_ms, Done done)
{
  auto self = shared_from_this ();
  /* A deadline of its own (half the request timeout): a server that never answers it would
   * otherwise spend what the POST and the media have (the connect deadline is twice the
   * request timeout). Our cancellable, cancelled by the attempt's or the deadline. */
  GCancellable *own = g_cancellable_new ();
  gulong chained = cancellable_ ? g_cancellable_connect (cancellable_,
      G_CALLBACK (+[] (GCancellable *, gpointer c) { g_cancellable_cancel (G_CANCELLABLE (c)); }),
      g_object_ref (own), g_object_unref) : 0;
  auto timed_out = std::make_shared<bool> (false);
  guint timer = timeout_ms ? worker_.add_timeout (timeout_ms, [own, timed_out] () {
    *timed_out = true;
    g_cancellable_cancel (own);
  }) : 0;
  request ("OPTIONS", endpoint_, nullptr, {}, true, [self, done, own, chained, timer,
      timed_out] (const HttpResult &answer) {
    if (!*timed_out && timer)
      self->worker_.remove_timeout (timer);
    if (chained)
      g_cancellable_disconnect (self->cancellable_, chained);
    g_object_unref (own);
    HttpResult r = answer;
    if (r.cancelled && *timed_out) {
      r.cancelled = false;
      r.error = "no answer in time";
    }
    /* with disableProxy (the SDK's default) and no host of the user's: Session-Host on */
    if (r.status >= 200 && r.status < 300 && !r.session_host.empty () &&
        host_is_valid (r.session_host)) {
      self->session_host_ = r.session_host;
      GST_INFO_OBJECT (self->worker_.log_object (), "WHEP Session-Host: %s",
          r.session_host.c_str ());
    }
    done (r);
  }, own);
}

void
WhepClient::post_offer (const std::string &sdp, Done done)
{
  post_to (endpoint_, sdp, 0, std::move (done));
}

/* The POST, following 307/308 (a load balancer's) to where it says, https never to http,
 * the token only to the endpoint's own origin. */
void
WhepClient::post_to (const std::string &url, const std::string &sdp, guint hops, Done done)
{
  auto self = shared_from_this ();
  request ("POST", url, "application/sdp", sdp, true, [self, url, sdp, hops, done] (
      const HttpResult &r) {
    if ((r.status == 307 || r.status == 308) && !r.location.empty ()) {
      std::string target = resolve_url (url, r.location);
      HttpResult refused = r;
      if (hops >= MAX_REDIRECTS)
        refused.refused = "more than " + std::to_string (MAX_REDIRECTS) + " redirects";
      else if (url_origin (target).empty ())
        refused.refused = "a redirect to an unusable URL";
      else if (is_https (url) && !is_https (target))
        refused.refused = "a redirect from https to plain http, refused";
      if (!refused.refused.empty ()) {
        done (refused);
        return;
      }
      GST_INFO_OBJECT (self->worker_.log_object (), "WHEP POST redirected (%u) to %s",
          r.status, redact_url (target).c_str ());
      /* the token stays with the endpoint's origin: a redirect elsewhere goes without it,
       * as fetch() and libsoup's own redirects do */
      self->endpoint_ = target;
      self->post_to (target, sdp, hops + 1, done);
      return;
    }
    if (r.status >= 200 && r.status < 300) {
      /* The session resource: Location resolved against the endpoint, or, when the server
       * sends none, the endpoint with /endpoint/ replaced by /resource/. */
      if (!r.location.empty ()) {
        self->resource_ = resolve_url (self->endpoint_, r.location);
      } else {
        self->resource_ = self->endpoint_;
        auto pos = self->resource_.find ("/endpoint/");
        if (pos != std::string::npos)
          self->resource_.replace (pos, strlen ("/endpoint/"), "/resource/");
      }
      bool unusable = url_origin (self->resource_).empty ();
      if (unusable || (is_https (self->endpoint_) && !is_https (self->resource_))) {
        HttpResult refused = r;
        /* without a resource no answer, candidate or DELETE can reach the session */
        refused.refused = unusable
            ? "the session resource (Location: " + text_excerpt (r.location, 100) +
                ") is not a URL"
            : std::string ("the session resource is not on https like the endpoint");
        self->resource_.clear ();
        done (refused);
        return;
      }
      GST_INFO_OBJECT (self->worker_.log_object (), "WHEP resource: %s",
          redact_url (self->resource_).c_str ());
    }
    done (r);
  });
}

void
WhepClient::patch (const char *content_type, const std::string &body, Done done)
{
  request ("PATCH", resource_, content_type, body, true, std::move (done));
}

void
WhepClient::remove ()
{
  if (resource_.empty ())
    return;
  GST_INFO_OBJECT (worker_.log_object (), "WHEP DELETE %s", redact_url (resource_).c_str ());
  GstObject *log = worker_.log_object ();
  request ("DELETE", resource_, nullptr, {}, false, [log] (const HttpResult &r) {
    GST_DEBUG_OBJECT (log, "WHEP DELETE done: %u %s", r.status, r.error.c_str ());
  });
  resource_.clear ();
}

/* ---- Signaling ---------------------------------------------------------------------- */

WhepSignaling::WhepSignaling (Worker &worker, std::string endpoint, std::string auth_token,
    GCancellable *cancellable, guint options_timeout_ms)
  : client_ (std::make_shared<WhepClient> (worker, std::move (endpoint), std::move (auth_token),
        cancellable)),
    options_timeout_ms_ (options_timeout_ms)
{
}

WhepSignaling::~WhepSignaling ()
{
  *alive_ = false;
}

std::string
WhepSignaling::where () const
{
  return redact_url (client_->endpoint ());
}

/* SDK 15 (protocol notes, section 15): OPTIONS first, with the POST's query. Its
 * Session-Host keeps the session on one node (host= on the POST, the PATCHes and the
 * DELETE); its Link headers name ICE servers. An OPTIONS that fails in any way (405, 404,
 * no answer within the request timeout) is no error: the POST goes as before. */
void
WhepSignaling::start (const std::string &offer, Events events)
{
  events_ = std::move (events);
  auto alive = alive_;
  client_->options (options_timeout_ms_, [this, alive, offer] (const HttpResult &r) {
    if (!*alive || r.cancelled)
      return;
    if (r.status >= 200 && r.status < 300) {
      if (!client_->session_host ().empty () && events_.endpoint_changed)
        events_.endpoint_changed (client_->session_host ());
      if (!*alive)
        return;
      take_links (r);
      if (!*alive)
        return;
    } else {
      GST_DEBUG_OBJECT (client_->log_object (), "WHEP OPTIONS: %u %s, going on", r.status,
          r.error.c_str ());
    }
    post (offer);
  });
}

void
WhepSignaling::take_links (const HttpResult &r)
{
  std::vector<std::string> uris = ice_servers_from_links (r.links);
  /* SDK 15: the server names where stats reports go (Link rel="statistics") */
  std::string stats = statistics_endpoint_from_links (r.links, client_->endpoint ());
  auto alive = alive_;
  if (!uris.empty () && events_.ice_servers)
    events_.ice_servers (uris);
  if (*alive && !stats.empty () && events_.statistics_endpoint)
    events_.statistics_endpoint (stats);
}

void
WhepSignaling::post (const std::string &offer)
{
  auto alive = alive_;
  client_->post_offer (offer, [this, alive] (const HttpResult &r) {
    if (!*alive)
      return;
    Failure f = http_failure (r, "WHEP POST", false, "");
    if (f.failed ()) {
      events_.failed (f);
      return;
    }
    events_.connected (r.status);
    if (!*alive)
      return;
    /* RFC 9725: the POST's answer may name ICE servers (and a stats endpoint) too */
    take_links (r);
    if (!*alive)
      return;
    SdpKind kind = classify_sdp (r.body);
    if (kind == SdpKind::INVALID) {
      events_.failed (Failure (Failure::Kind::PROTOCOL,
          "the WHEP response carries no usable SDP", r.status));
      return;
    }
    /* an answer: the server has all it needs; an offer waits for our answer */
    negotiated_ = kind == SdpKind::ANSWER;
    events_.description (kind, r.body);
    if (*alive)
      send_candidates ();
  });
}

void
WhepSignaling::send_answer (const std::string &sdp)
{
  auto alive = alive_;
  client_->patch ("application/sdp", sdp, [this, alive] (const HttpResult &r) {
    if (!*alive)
      return;
    Failure f = http_failure (r, "WHEP PATCH of our answer", false, "");
    if (f.failed ()) {
      f.reason = "the edge refused our answer: " + f.reason;
      events_.failed (f);
      return;
    }
    negotiated_ = true;
    events_.answer_delivered ();
    if (*alive)
      send_candidates ();
  });
}

void
WhepSignaling::send_candidate (const IceCandidate &c, const std::string &ufrag,
    const std::string &pwd)
{
  ufrag_ = ufrag;
  pwd_ = pwd;
  if (mid_.empty ())
    mid_ = c.mid;
  pending_.push_back (c);
  send_candidates ();
}

void
WhepSignaling::end_of_candidates (const std::string &ufrag, const std::string &pwd)
{
  ufrag_ = ufrag;
  pwd_ = pwd;
  gathered_ = true;
  send_candidates ();
}

/* Our candidates in trickle PATCHes as they come, once the server has the negotiation, then
 * the end of them. A server that does not trickle may refuse them: not fatal, the
 * candidates in its SDP and peer-reflexive ones do. */
void
WhepSignaling::send_candidates ()
{
  if (!negotiated_ || client_->resource ().empty () || trickle_refused_ || mid_.empty ())
    return;
  std::vector<IceCandidate> batch;
  batch.swap (pending_);
  bool ends = gathered_ && !end_sent_;
  if (ends) {
    IceCandidate end;
    end.mid = mid_;
    batch.push_back (end);
    end_sent_ = true;
  }
  if (batch.empty ())
    return;
  auto alive = alive_;
  client_->patch ("application/trickle-ice-sdpfrag", build_sdpfrag (ufrag_, pwd_, batch),
      [this, alive, ends] (const HttpResult &r) {
    if (!*alive)
      return;
    if (http_failure (r, "WHEP PATCH of our candidates", false, "").failed ()) {
      if (!trickle_refused_)
        GST_WARNING_OBJECT (client_->log_object (), "trickle PATCH refused (HTTP %u %s); "
            "relying on candidates in the SDP and peer-reflexive ones", r.status,
            r.error.c_str ());
      trickle_refused_ = true;
      return;
    }
    /* the response may carry the server's candidates */
    for (const auto &c : parse_sdpfrag (r.body)) {
      events_.candidate (c);
      if (!*alive)
        return;
    }
    if (ends)
      events_.candidate (IceCandidate ());
  });
}

void
WhepSignaling::stop ()
{
  *alive_ = false;
  client_->remove ();
}

}  // namespace red5pro
