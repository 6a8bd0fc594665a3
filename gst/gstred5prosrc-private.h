/* gstred5prosrc-private: what the element's two files share: its instance struct and the
 * State behind it, and the properties' side (gstred5prosrc-properties.cpp). */
#pragma once

#include "gstred5prosrc.h"
#include "red5pro-config.h"
#include "red5pro-retry.h"
#include "red5pro-subscriber.h"

#include <memory>
#include <string>
#include <vector>

/* Everything C++ the element owns: its settings, and the subscriber doing the work. */
struct GstRed5ProSrcState {
  red5pro::SubscriberConfig props;         /* GST_OBJECT_LOCK */
  red5pro::RetryPolicy policy;             /* GST_OBJECT_LOCK */
  /* playback-order as set (empty = the signaling property alone) */
  std::vector<std::string> playback_order; /* GST_OBJECT_LOCK */
  std::string ca_file;                     /* GST_OBJECT_LOCK */
  GTlsDatabase *tls_database = nullptr;    /* GST_OBJECT_LOCK */
  bool tls_insecure = false;               /* GST_OBJECT_LOCK */
  std::unique_ptr<red5pro::Subscriber> subscriber;
};

struct _GstRed5ProSrc {
  GstBin parent;
  GstRed5ProSrcState *state;
};

/* the "stats" property, for notify::stats */
extern GParamSpec *gst_red5pro_src_stats_pspec;

void gst_red5pro_src_install_properties (GObjectClass *klass);
void gst_red5pro_src_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec);
void gst_red5pro_src_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec);
/* False, with an element error naming the setting, when the settings cannot work. */
gboolean gst_red5pro_src_check_settings (GstRed5ProSrc *self);
/* The techs to play with, in order: playback-order, or the signaling property alone.
 * GST_OBJECT_LOCK held; the names are valid (check_settings). */
std::vector<red5pro::Tech> gst_red5pro_src_playback_order (GstRed5ProSrc *self);
