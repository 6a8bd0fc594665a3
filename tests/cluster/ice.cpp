/* ice: how an edge's peers reach subscribers: host candidates on the edge's own loopback
 * address (UDP and TCP, as webrtcbin gathers by default), only ICE-TCP ones, or only relay
 * candidates from a TURN server (an edge reachable through TURN alone); and an edge whose
 * WebRTC media is blocked, as by a firewall that drops UDP. */
#include "cluster.h"

#include <gst/webrtc/nice/nice.h>
#include <nice/agent.h>

#include <cstring>

namespace cluster {

bool
ice_mode_valid (const std::string &mode)
{
  return mode == "any" || mode == "tcp" || mode == "relay";
}

void
ice_setup (Peer &p)
{
  Edge *e = p.edge;
  GstElement *webrtc = p.webrtc;
  GstWebRTCICE *ice = nullptr;
  g_object_get (webrtc, "ice-agent", &ice, NULL);
  NiceAgent *agent = nullptr;
  if (ice && GST_IS_WEBRTC_NICE (ice))
    g_object_get (ice, "agent", &agent, NULL);
  /* host candidates on the edge's own loopback address only */
  if (agent) {
    NiceAddress addr;
    nice_address_init (&addr);
    nice_address_set_from_string (&addr, e->address.c_str ());
    nice_agent_add_local_address (agent, &addr);
    g_object_unref (agent);
  }
  p.ice_blocked = e->media_blocked;
  if (p.ice_blocked && ice) {
    /* UDP host candidates only, each rewritten to point at the black hole */
    g_object_set (ice, "ice-udp", TRUE, "ice-tcp", FALSE, NULL);
  } else if (e->ice_mode == "any" && the_cluster ().opt.network) {
    /* UDP through the edge's network; TCP host candidates stay direct */
    p.net = net_path_new (e);
  } else if (e->ice_mode == "tcp" && ice) {
    /* libnice gathers TCP candidates (active and passive) and no UDP ones */
    g_object_set (ice, "ice-udp", FALSE, "ice-tcp", TRUE, NULL);
  } else if (e->ice_mode == "relay") {
    /* webrtcbin hands the policy to libnice as force-relay: only the relay candidates it
     * allocates on the TURN server are announced and checked; the host ones stay inside */
    g_object_set (webrtc, "ice-transport-policy", GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY,
        "turn-server", e->turn_url.c_str (), NULL);
    if (ice)
      g_object_set (ice, "ice-tcp", FALSE, NULL);
  }
  gst_clear_object (&ice);
}

std::string
ice_server_link (const Edge &e)
{
  if (e.ice_mode != "relay" || e.turn_url.empty ())
    return "";
  GUri *uri = g_uri_parse (e.turn_url.c_str (), G_URI_FLAGS_HAS_PASSWORD, nullptr);
  if (!uri)
    return "";
  /* Link: <turn:host:port?transport=udp>; rel="ice-server"; username=".."; credential=".."
   * (protocol notes, section 5) */
  std::string link = std::string ("<turn:") + g_uri_get_host (uri) + ":" +
      std::to_string (g_uri_get_port (uri)) + "?transport=udp>; rel=\"ice-server\"";
  if (g_uri_get_user (uri))
    link += std::string ("; username=\"") + g_uri_get_user (uri) + "\"";
  if (g_uri_get_password (uri))
    link += std::string ("; credential=\"") + g_uri_get_password (uri) + "\"";
  g_uri_unref (uri);
  return link;
}

/* ---- blocked media ----
 * A firewall that drops UDP: the subscriber's connectivity checks go out and nothing ever
 * answers, so its ICE agent gives up the way it does in the field. A blocked edge's new
 * peers announce candidates whose port is the edge's black hole, a UDP socket that is
 * bound (no ICMP "port unreachable" comes back) and never read; they ignore the
 * subscriber's candidates, so that no check goes the other way either (a check answered
 * would teach the subscriber a peer-reflexive candidate). Their current peers' RTP is
 * dropped (lose_packets in media.cpp). Signaling is untouched. */

void
edge_block_media (Edge *e, bool blocked)
{
  if (blocked && !e->blackhole) {
    e->blackhole = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
        G_SOCKET_PROTOCOL_UDP, nullptr);
    GInetAddress *ia = g_inet_address_new_from_string (e->address.c_str ());
    GSocketAddress *sa = g_inet_socket_address_new (ia, 0);
    if (!e->blackhole || !g_socket_bind (e->blackhole, sa, FALSE, nullptr))
      g_printerr ("edge %s: cannot bind its black hole\n", e->name.c_str ());
    g_object_unref (sa);
    g_object_unref (ia);
  }
  e->media_blocked = blocked;
  g_printerr ("{\"event\":\"edge-media-%s\",\"edge\":\"%s\"}\n",
      blocked ? "blocked" : "unblocked", e->name.c_str ());
}

static guint
blackhole_port (const Edge &e)
{
  GSocketAddress *sa = e.blackhole ? g_socket_get_local_address (e.blackhole, nullptr) : nullptr;
  guint port = sa ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa)) : 9;
  if (sa)
    g_object_unref (sa);
  return port;
}

/* "candidate:..." as the subscriber is told: a blocked peer's UDP port is the black hole's,
 * a peer behind the edge's network has its UDP host candidate on the relay's port (the
 * relay sends what comes from the subscriber to the candidate's own address); parsed and
 * written by libnice */
std::string
ice_outgoing_candidate (const Peer &p, const std::string &candidate)
{
  if ((!p.ice_blocked && !p.net) || candidate.empty ())
    return candidate;
  GstWebRTCICE *ice = nullptr;
  g_object_get (p.webrtc, "ice-agent", &ice, NULL);
  NiceAgent *agent = nullptr;
  if (ice && GST_IS_WEBRTC_NICE (ice))
    g_object_get (ice, "agent", &agent, NULL);
  gst_clear_object (&ice);
  std::string out;
  const std::string line = g_str_has_prefix (candidate.c_str (), "a=") ? candidate
                                                                       : "a=" + candidate;
  NiceCandidate *c = agent ? nice_agent_parse_remote_candidate_sdp (agent, 1, line.c_str ())
                           : nullptr;
  if (c && p.net && c->transport != NICE_CANDIDATE_TRANSPORT_UDP) {
    out = candidate;   /* ICE-TCP: not through the network */
  } else if (c) {
    if (p.net) {
      char ip[NICE_ADDRESS_STRING_LEN];
      nice_address_to_string (&c->addr, ip);
      net_path_set_edge (*p.net, ip, nice_address_get_port (&c->addr));
    }
    nice_address_set_port (&c->addr, p.net ? net_path_port (*p.net) : blackhole_port (*p.edge));
    char *text = nice_agent_generate_local_candidate_sdp (agent, c);
    out = g_str_has_prefix (text, "a=") ? text + 2 : text;
    g_free (text);
  }
  if (c)
    nice_candidate_free (c);
  g_clear_object (&agent);
  return out;   /* "" (nothing announced) for what libnice cannot read */
}

void
ice_outgoing_sdp (const Peer &p, GstSDPMessage *sdp)
{
  if (!p.ice_blocked && !p.net)
    return;
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    GstSDPMedia *m = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);
    for (guint a = gst_sdp_media_attributes_len (m); a > 0; a--) {
      const GstSDPAttribute *attr = gst_sdp_media_get_attribute (m, a - 1);
      if (g_strcmp0 (attr->key, "candidate") != 0)
        continue;
      std::string moved = ice_outgoing_candidate (p, std::string ("candidate:") + attr->value);
      if (moved.empty ()) {
        gst_sdp_media_remove_attribute (m, a - 1);
        continue;
      }
      GstSDPAttribute replaced;
      gst_sdp_attribute_set (&replaced, "candidate", moved.c_str () + strlen ("candidate:"));
      gst_sdp_media_replace_attribute (m, a - 1, &replaced);
    }
  }
}

/* A blocked peer, and one behind the edge's network, hear none of the subscriber's
 * candidates: the one learns the subscriber from its checks through the relay (a
 * peer-reflexive candidate), so that no packet goes around the network. */
void
ice_incoming_sdp (const Peer &p, GstSDPMessage *sdp)
{
  if (!p.ice_blocked && !p.net)
    return;
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    GstSDPMedia *m = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);
    for (guint a = gst_sdp_media_attributes_len (m); a > 0; a--)
      if (g_strcmp0 (gst_sdp_media_get_attribute (m, a - 1)->key, "candidate") == 0)
        gst_sdp_media_remove_attribute (m, a - 1);
  }
}

bool
ice_accepts_candidates (const Peer &p)
{
  return !p.ice_blocked && !p.net;
}

}   // namespace cluster
