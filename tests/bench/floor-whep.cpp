/* floor-whep: the floor client's WHEP exchange (protocol notes, section 5), both flavours:
 * POST our offer; a 201 whose body is an offer (Red5 Pro) is answered and the answer
 * PATCHed; one that is an answer (RFC 9725) is applied with our offer. Our candidates go in
 * one trickle PATCH once gathering is over, as red5prosrc sends them. */
#include "floor-client.h"

#include <algorithm>

namespace bench {

std::string
FloorClient::whep_endpoint () const
{
  /* the query red5prosrc sends by default */
  return "http://" + edge_ + ":" + std::to_string (opt_.port) + "/" + opt_.app +
      "/whep/endpoint/" + opt_.stream + "?requestId=" + request_id_ + "&signal=" +
      (opt_.data_channel ? "true" : "false") + "&doNotSwitch=false";
}

void
FloorClient::whep_start ()
{
  create_offer ([] (FloorClient &self, GstWebRTCSessionDescription *offer) {
    char *text = gst_sdp_message_as_text (offer->sdp);
    std::string sdp = text;
    g_free (text);
    if (self.opt_.offer_first) {
      g_signal_emit_by_name (self.webrtc_, "set-local-description", offer, NULL);
      gst_webrtc_session_description_free (offer);
    } else {
      self.offer_ = offer;   /* applied if the server answers it */
    }
    self.http ("POST", self.whep_endpoint (), "application/sdp", sdp,
        [] (FloorClient &self, guint status, const std::string &body, const std::string &loc) {
          self.whep_posted (status, body, loc);
        });
  });
}

void
FloorClient::whep_posted (guint status, const std::string &body, const std::string &location)
{
  if (status != 201 && status != 200) {
    fail ("WHEP POST: HTTP " + std::to_string (status));
    return;
  }
  std::string endpoint = whep_endpoint ();
  if (!location.empty ()) {
    char *resolved = g_uri_resolve_relative (endpoint.c_str (), location.c_str (),
        G_URI_FLAGS_NONE, nullptr);
    resource_ = resolved ? resolved : "";
    g_free (resolved);
  } else {
    /* no Location: the endpoint with /endpoint/ replaced by /resource/ */
    resource_ = endpoint;
    auto at = resource_.find ("/endpoint/");
    if (at != std::string::npos)
      resource_.replace (at, 10, "/resource/");
  }
  if (body.find ("a=setup:actpass") != std::string::npos) {
    /* Red5 Pro: the server offers; our offer is dropped unapplied */
    if (opt_.offer_first) {
      fail ("the edge offers (Red5 Pro WHEP), but offer_first applied our offer already");
      return;
    }
    answer_offer (body, [] (FloorClient &self, const std::string &answer) {
      self.http ("PATCH", self.resource_, "application/sdp", answer,
          [] (FloorClient &self, guint status, const std::string &, const std::string &) {
            if (status < 200 || status >= 300) {
              self.fail ("WHEP PATCH of the answer: HTTP " + std::to_string (status));
              return;
            }
            self.negotiated_ = true;
            self.whep_trickle ();
          });
    });
    return;
  }
  /* standard WHEP: the server answered our offer */
  if (offer_) {
    g_signal_emit_by_name (webrtc_, "set-local-description", offer_, NULL);
    gst_webrtc_session_description_free (offer_);
    offer_ = nullptr;
  }
  apply (GST_WEBRTC_SDP_TYPE_ANSWER, body, "the server's answer");
  negotiated_ = true;
  whep_trickle ();
}

/* Once gathered and negotiated: every candidate of ours in one sdpfrag (RFC 8840). */
void
FloorClient::whep_trickle ()
{
  if (!gathered_ || !negotiated_ || trickled_ || resource_.empty () || candidates_.empty ())
    return;
  trickled_ = true;
  std::string frag = "a=ice-ufrag:" + local_attribute ("ice-ufrag", G_MAXUINT) + "\r\n" +
      "a=ice-pwd:" + local_attribute ("ice-pwd", G_MAXUINT) + "\r\n";
  std::vector<guint> mlines;
  for (const auto &c : candidates_)
    if (std::find (mlines.begin (), mlines.end (), c.first) == mlines.end ())
      mlines.push_back (c.first);
  for (guint mline : mlines) {
    frag += "m=audio 9 RTP/AVP 0\r\na=mid:" + local_attribute ("mid", mline) + "\r\n";
    for (const auto &c : candidates_)
      if (c.first == mline)
        frag += "a=" + c.second + "\r\n";
    frag += "a=end-of-candidates\r\n";
  }
  http ("PATCH", resource_, "application/trickle-ice-sdpfrag", frag,
      [] (FloorClient &, guint, const std::string &, const std::string &) {});
}

}  // namespace bench
