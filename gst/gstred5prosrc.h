/* red5prosrc: the element's GObject types: the element, and the enums of its properties. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_RED5PRO_SRC (gst_red5pro_src_get_type ())
G_DECLARE_FINAL_TYPE (GstRed5ProSrc, gst_red5pro_src, GST, RED5PRO_SRC, GstBin)

#define GST_TYPE_RED5PRO_STREAM_MANAGER (gst_red5pro_stream_manager_get_type ())
GType gst_red5pro_stream_manager_get_type (void);
#define GST_TYPE_RED5PRO_SIGNALING (gst_red5pro_signaling_get_type ())
GType gst_red5pro_signaling_get_type (void);

#define GST_TYPE_RED5PRO_ICE_TRANSPORT (gst_red5pro_ice_transport_get_type ())
GType gst_red5pro_ice_transport_get_type (void);
#define GST_TYPE_RED5PRO_STANDBY (gst_red5pro_standby_get_type ())
#define GST_TYPE_RED5PRO_RENEGOTIATION_POLICY (gst_red5pro_renegotiation_policy_get_type ())
GType gst_red5pro_standby_get_type (void);
GType gst_red5pro_renegotiation_policy_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (red5prosrc);

G_END_DECLS
