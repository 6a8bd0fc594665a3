/* ice: how an edge's peers reach subscribers: host candidates on the edge's own loopback
 * address (UDP and TCP, as webrtcbin gathers by default), only ICE-TCP ones, or only relay
 * candidates from a TURN server (an edge reachable through TURN alone). */
#include "cluster.h"

#include <gst/webrtc/nice/nice.h>
#include <nice/agent.h>

namespace cluster {

bool
ice_mode_valid (const std::string &mode)
{
  return mode == "any" || mode == "tcp" || mode == "relay";
}

void
ice_setup (Edge *e, GstElement *webrtc)
{
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
  if (e->ice_mode == "tcp" && ice) {
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

}   // namespace cluster
