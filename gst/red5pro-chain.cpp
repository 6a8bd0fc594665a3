/* red5pro-chain: depayload/parse/decode chains from the registry, by caps. */
#include "red5pro-chain.h"

#include <gst/video/video.h>

namespace red5pro {

namespace {

GstElement *
make_chain_element (GstElementFactoryListType type, GstCaps *caps, GstRank min_rank)
{
  GList *all = gst_element_factory_list_get_elements (type, min_rank);
  GList *matching = gst_element_factory_list_filter (all, caps, GST_PAD_SINK, FALSE);
  matching = g_list_sort (matching, gst_plugin_feature_rank_compare_func);
  /* Prefer a factory that takes every caps we may send it: one that only intersects
   * (vp8alphadecodebin wants codec-alpha=true) would refuse the real caps later. */
  GList *pick = nullptr;
  for (GList *l = matching; l && !pick; l = l->next)
    if (gst_element_factory_can_sink_all_caps (GST_ELEMENT_FACTORY (l->data), caps))
      pick = l;
  GstElement *el = pick ? gst_element_factory_create (GST_ELEMENT_FACTORY (pick->data), nullptr)
                        : nullptr;
  for (GList *l = matching; l && !el; l = l->next)
    el = gst_element_factory_create (GST_ELEMENT_FACTORY (l->data), nullptr);
  gst_plugin_feature_list_free (matching);
  gst_plugin_feature_list_free (all);
  return el;
}

/* The caps an element's always-src template produces. */
GstCaps *
src_template_caps (GstElement *el)
{
  g_autoptr (GstPad) pad = gst_element_get_static_pad (el, "src");
  return pad ? gst_pad_get_pad_template_caps (pad) : gst_caps_new_any ();
}

}  // namespace

std::vector<GstElement *>
make_parse_chain (GstCaps *caps, bool decode, const std::string &what, std::string *why)
{
  std::vector<GstElement *> chain;
  g_autoptr (GstCaps) out = gst_caps_ref (caps);
  if (GstElement *parse = make_chain_element (GST_ELEMENT_FACTORY_TYPE_PARSER, out,
          GST_RANK_NONE)) {
    chain.push_back (parse);
    gst_caps_unref (out);
    out = src_template_caps (parse);
  }
  if (decode) {
    if (GstElement *dec = make_chain_element (GST_ELEMENT_FACTORY_TYPE_DECODER, out,
            GST_RANK_MARGINAL)) {
      chain.push_back (dec);
    } else {
      *why = "no decoder for " + what + " is installed (decode=true)";
      for (auto *el : chain)
        gst_object_unref (gst_object_ref_sink (el));
      chain.clear ();
      return chain;
    }
  }
  return chain;
}

std::vector<GstElement *>
make_output_chain (GstCaps *rtp_caps, bool decode, bool request_keyframes, std::string *why)
{
  const GstStructure *s = gst_caps_get_structure (rtp_caps, 0);
  std::string what = std::string (gst_structure_get_string (s, "media") ?: "?") + " " +
      (gst_structure_get_string (s, "encoding-name") ?: "?");
  GstElement *depay = make_chain_element (GST_ELEMENT_FACTORY_TYPE_DEPAYLOADER, rtp_caps,
      GST_RANK_MARGINAL);
  if (!depay) {
    *why = "no RTP depayloader for " + what + " is installed";
    return {};
  }
  /* a new attempt starts mid-stream, and a frame can lose a packet for good: drop until
   * the next key frame, and ask for it (a PLI) instead of waiting for the periodic one */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (depay), "wait-for-keyframe"))
    g_object_set (depay, "wait-for-keyframe", TRUE, NULL);
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (depay), "request-keyframe"))
    g_object_set (depay, "request-keyframe", request_keyframes, NULL);
  g_autoptr (GstCaps) out = src_template_caps (depay);
  why->clear ();
  std::vector<GstElement *> rest = make_parse_chain (out, decode, what, why);
  if (!why->empty ()) {
    gst_object_unref (gst_object_ref_sink (depay));
    return rest;
  }
  /* a decoder that finds a frame broken asks for a key frame too (upstream, which the RTP
   * session turns into a PLI) */
  if (request_keyframes && decode && !rest.empty () && GST_IS_VIDEO_DECODER (rest.back ()) &&
      g_object_class_find_property (G_OBJECT_GET_CLASS (rest.back ()),
          "automatic-request-sync-points"))
    g_object_set (rest.back (), "automatic-request-sync-points", TRUE, NULL);
  rest.insert (rest.begin (), depay);
  return rest;
}

GstCaps *
pad_caps (GstPad *pad)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  return caps ? caps : gst_pad_query_caps (pad, nullptr);
}

GstElement *
make_swallow_sink ()
{
  GstElement *sink = gst_element_factory_make ("fakesink", nullptr);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  return sink;
}

void
conform_decoded_video (std::vector<GstElement *> &chain, GstElement *element)
{
  g_autoptr (GstPad) pad = gst_element_get_static_pad (element, "video");
  g_autoptr (GstCaps) sent = pad ? gst_pad_get_current_caps (pad) : nullptr;
  const GstStructure *s = sent ? gst_caps_get_structure (sent, 0) : nullptr;
  /* system memory only: a hardware decoder's frames are no videoconvert's to convert */
  GstCapsFeatures *features = sent ? gst_caps_get_features (sent, 0) : nullptr;
  if (!s || !gst_structure_has_name (s, "video/x-raw") ||
      (features && !gst_caps_features_is_equal (features, GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY)))
    return;
  /* the colour format only: size and frame rate are the stream's to change */
  GstStructure *want = gst_structure_new_empty ("video/x-raw");
  for (const char *field : { "format", "colorimetry", "chroma-site" })
    if (const GValue *v = gst_structure_get_value (s, field))
      gst_structure_set_value (want, field, v);
  GstCaps *caps = gst_caps_new_full (want, NULL);
  GstElement *convert = gst_element_factory_make ("videoconvert", nullptr);
  GstElement *filter = gst_element_factory_make ("capsfilter", nullptr);
  if (!convert || !filter) {
    gst_clear_object (&convert);
    gst_clear_object (&filter);
    gst_caps_unref (caps);
    return;
  }
  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);
  chain.push_back (convert);
  chain.push_back (filter);
}

GstPad *
plug_chain (GstBin *bin, GstPad *from, const std::vector<GstElement *> &chain)
{
  for (auto *el : chain)
    gst_bin_add (bin, el);
  GstPad *sinkpad = gst_element_get_static_pad (chain.front (), "sink");
  gst_pad_link (from, sinkpad);
  gst_object_unref (sinkpad);
  for (size_t i = 1; i < chain.size (); i++)
    gst_element_link (chain[i - 1], chain[i]);
  for (auto it = chain.rbegin (); it != chain.rend (); ++it)
    gst_element_sync_state_with_parent (*it);
  return gst_element_get_static_pad (chain.back (), "src");
}

}  // namespace red5pro
