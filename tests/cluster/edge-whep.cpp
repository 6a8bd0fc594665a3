/* edge-whep: an edge's WHEP endpoint and resources (protocol notes, section 5), in Red5 Pro's
 * flavour (the POST answer is the server's offer), the standard one (RFC 9725: the server
 * answers) or the strict standard one. */
#include "cluster.h"
#include "red5pro-whep.h"

#include <algorithm>

namespace cluster {

static std::shared_ptr<Peer>
peer_by_resource (Edge *e, const std::string &id)
{
  for (auto &kv : the_cluster ().peers)
    if (kv.second->edge == e && kv.second->resource == id)
      return kv.second;
  return nullptr;
}

/* What a subscriber's offer (standard WHEP) says of one kind of media. */
struct OfferedMedia {
  bool present = false;
  bool port_zero = false;
  std::vector<std::string> encodings;   /* its rtpmap encoding names, upper case */
};

static OfferedMedia
offered_media (const GstSDPMessage *sdp, const char *kind)
{
  OfferedMedia out;
  for (guint i = 0; sdp && i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), kind) != 0)
      continue;
    out.present = true;
    out.port_zero = gst_sdp_media_get_port (m) == 0;
    for (guint f = 0; f < gst_sdp_media_formats_len (m); f++) {
      GstCaps *caps = gst_sdp_media_get_caps_from_media (m,
          atoi (gst_sdp_media_get_format (m, f)));
      const char *name = caps ? gst_structure_get_string (gst_caps_get_structure (caps, 0),
          "encoding-name") : nullptr;
      if (name)
        out.encodings.emplace_back (name);
      if (caps)
        gst_caps_unref (caps);
    }
    break;
  }
  return out;
}

/* The codecs a subscriber is sent: Red5 Pro's flavour takes videoEncoding/audioEncoding
 * (an SDK subscriber's request); the standard ones answer the subscriber's offer: a kind it
 * does not offer gets nothing, and without a request the first published codec it offers.
 * Kinds to answer inactive go into rejected: asked NONE, or (strict) offered on port 0. */
static void
choose_codecs (const Edge &e, const Stream &s, const std::map<std::string, std::string> &params,
    const std::string &offer, std::string *video, std::string *audio,
    std::vector<std::string> *rejected)
{
  auto param = [&] (const char *k) {
    auto it = params.find (k);
    return it == params.end () ? std::string () : it->second;
  };
  *video = codec_for (s, true, param ("videoEncoding"));
  *audio = codec_for (s, false, param ("audioEncoding"));
  if (e.flavour == "red5")
    return;
  GstSDPMessage *sdp = nullptr;
  gst_sdp_message_new_from_text (offer.c_str (), &sdp);
  for (bool is_video : { true, false }) {
    const char *kind = is_video ? "video" : "audio";
    const std::string requested = param (is_video ? "videoEncoding" : "audioEncoding");
    std::string &codec = is_video ? *video : *audio;
    OfferedMedia m = offered_media (sdp, kind);
    if (!m.present) {
      codec.clear ();
      continue;
    }
    if (requested.empty ()) {
      codec.clear ();
      for (const auto &name : is_video ? s.video_codecs : s.audio_codecs) {
        const char *sdk = codec_find (name)->sdk_name;
        if (std::any_of (m.encodings.begin (), m.encodings.end (),
                [sdk] (const std::string &enc) { return !g_ascii_strcasecmp (enc.c_str (), sdk); })) {
          codec = name;
          break;
        }
      }
    }
    /* an offered m-line is always answered: a medium not sent goes inactive */
    if (codec.empty ()) {
      codec = codec_for (s, is_video, "");
      rejected->emplace_back (kind);
    } else if (e.flavour == "strict" && m.port_zero) {
      /* the strictest standard servers take port 0 for "rejected", bundle-only or not */
      rejected->emplace_back (kind);
    }
  }
  if (sdp)
    gst_sdp_message_free (sdp);
}

static void
whep_post (Edge *e, SoupServerMessage *msg, const std::string &stream,
    const std::map<std::string, std::string> &params)
{
  Cluster &c = the_cluster ();
  if (!bearer_ok (msg) || !credentials_ok (params)) {
    respond (msg, SOUP_STATUS_UNAUTHORIZED, "text/plain", "Not authorized");
    return;
  }
  if (!c.streams.count (stream)) {
    respond (msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Stream " + stream + " not found");
    return;
  }
  std::string offer = request_body (msg);
  const bool red5 = e->flavour == "red5";
  if ((!red5 && offer.empty ()) ||
      (!offer.empty () && red5pro::classify_sdp (offer) != red5pro::SdpKind::OFFER)) {
    respond (msg, SOUP_STATUS_BAD_REQUEST, "text/plain", "Bad offer");
    return;
  }
  std::string video, audio;
  std::vector<std::string> rejected;
  choose_codecs (*e, *c.streams.at (stream), params, offer, &video, &audio, &rejected);
  auto p = peer_create (e, stream, red5 ? Peer::Signaling::WHEP_RED5
                                        : Peer::Signaling::WHEP_STANDARD, video, audio);
  if (!p) {
    respond (msg, SOUP_STATUS_NOT_ACCEPTABLE, "text/plain", "Playback creation failed");
    return;
  }
  for (const auto &kind : rejected)
    (kind == "video" ? p->video_codec : p->audio_codec).clear ();
  p->params = params;
  auto sig = params.find ("signal");
  p->want_channel = sig == params.end () || sig->second != "false";
  auto rid = params.find ("requestId");
  p->subscription_id = rid == params.end () ? "" : rid->second;
  /* answered when ICE gathering completes: the SDP carries every candidate */
  soup_server_message_pause (msg);
  p->pending = SOUP_SERVER_MESSAGE (g_object_ref (msg));
  guint id = p->id;
  auto failed = [id] (bool ok) {
    if (ok)
      return;
    if (auto peer = peer_find (id)) {
      if (peer->pending) {
        respond (peer->pending, SOUP_STATUS_BAD_REQUEST, "text/plain", "Cannot negotiate");
        soup_server_message_unpause (peer->pending);
        g_clear_object (&peer->pending);
      }
      peer_close (peer);
    }
  };
  if (red5)
    peer_create_offer (p, failed);
  else
    peer_answer_offer (p, offer, failed, rejected);
}

void
whep_gathered (const std::shared_ptr<Peer> &p)
{
  if (!p->pending)
    return;
  const Options &o = the_cluster ().opt;
  SoupServerMessage *msg = p->pending;
  p->pending = nullptr;
  std::string location = "/" + o.app + "/whep/resource/" + p->resource;
  respond (msg, SOUP_STATUS_CREATED, "application/sdp", peer_local_sdp (p));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location",
      location.c_str ());
  std::string link = ice_server_link (*p->edge);
  if (!link.empty ())
    soup_message_headers_append (soup_server_message_get_response_headers (msg), "Link",
        link.c_str ());
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static void
whep_patch (Edge *, SoupServerMessage *msg, const std::shared_ptr<Peer> &p)
{
  const char *type = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (msg), nullptr);
  std::string body = request_body (msg);
  if (g_strcmp0 (type, "application/sdp") == 0) {
    if (p->signaling != Peer::Signaling::WHEP_RED5 ||
        red5pro::classify_sdp (body) != red5pro::SdpKind::ANSWER ||
        !peer_apply_answer (p, body)) {
      respond (msg, SOUP_STATUS_BAD_REQUEST, "text/plain", "Bad answer");
      return;
    }
    respond (msg, SOUP_STATUS_NO_CONTENT);
  } else if (g_strcmp0 (type, "application/trickle-ice-sdpfrag") == 0) {
    for (const auto &cand : red5pro::parse_sdpfrag (body))
      peer_add_candidate (p, cand.mline == guint (-1) ? 0 : cand.mline, cand.candidate);
    respond (msg, SOUP_STATUS_NO_CONTENT);
  } else {
    respond (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "text/plain", "Unsupported type");
  }
}

/* A POST to the endpoint answered with a redirect to the same endpoint, query included, on
 * another edge (an absolute URL), as a load-balanced deployment may do. True if done. */
static bool
whep_redirect (Edge *e, SoupServerMessage *msg, const std::string &stream)
{
  Cluster &c = the_cluster ();
  Edge *to = e->redirect_to.empty () ? nullptr : edge_named (e->redirect_to);
  if (!to)
    return false;
  /* libsoup hands the path over decoded (a %2F in the stream name too): each segment is
   * escaped again, as the client built it; the query goes as it came */
  auto escape = [] (const std::string &segment) {
    char *e = g_uri_escape_string (segment.c_str (), nullptr, FALSE);
    std::string out = e;
    g_free (e);
    return out;
  };
  std::string path = "/" + escape (c.opt.app) + "/whep/endpoint/" + escape (stream);
  GUri *target = g_uri_build (G_URI_FLAGS_ENCODED, c.tls ? "https" : "http", nullptr,
      to->address.c_str (), gint (c.port), path.c_str (),
      g_uri_get_query (soup_server_message_get_uri (msg)), nullptr);
  char *location = g_uri_to_string (target);
  respond (msg, e->redirect_status, "text/plain", "Moved to " + to->name);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location",
      location);
  g_free (location);
  g_uri_unref (target);
  if (e->redirect_once)
    e->redirect_to.clear ();
  return true;
}

/* /{app}/whep/endpoint/{stream} and /{app}/whep/resource/{id} */
void
whep_handler (SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *query,
    gpointer data)
{
  auto *e = static_cast<Edge *> (data);
  const char *method = soup_server_message_get_method (msg);
  edge_log_request (e->log, method, msg);
  if (edge_is_dead (e, msg))
    return;
  Cluster &c = the_cluster ();
  auto seg = path_segments (path, 4);
  if (seg.size () != 4 || seg[0] != c.opt.app || seg[1] != "whep") {
    respond (msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Unknown scope");
    return;
  }
  if (g_str_equal (method, "OPTIONS") && e->flavour == "strict") {
    /* a strict standard server that implements no OPTIONS (RFC 9725 makes it optional) */
    respond (msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
    return;
  }
  if (g_str_equal (method, "OPTIONS")) {
    /* ICE servers to use, when the edge has any (section 5) */
    respond (msg, SOUP_STATUS_NO_CONTENT);
    std::string link = ice_server_link (*e);
    if (!link.empty ())
      soup_message_headers_append (soup_server_message_get_response_headers (msg), "Link",
          link.c_str ());
    /* where stats reports go (SDK 15), when /stats/link set one */
    if (!stats_link ().empty ())
      soup_message_headers_append (soup_server_message_get_response_headers (msg), "Link",
          stats_link ().c_str ());
    return;
  }
  if (seg[2] == "endpoint") {
    if (g_str_equal (method, "POST") && whep_redirect (e, msg, seg[3]))
      return;
    if (g_str_equal (method, "POST"))
      whep_post (e, msg, seg[3], query_map (query));
    else
      respond (msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
    return;
  }
  auto p = seg[2] == "resource" ? peer_by_resource (e, seg[3]) : nullptr;
  if (!p) {
    respond (msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Unknown resource");
    return;
  }
  if (g_str_equal (method, "PATCH")) {
    whep_patch (e, msg, p);
  } else if (g_str_equal (method, "DELETE")) {
    peer_close (p);
    respond (msg, SOUP_STATUS_OK);
  } else {
    respond (msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
  }
}

}   // namespace cluster
