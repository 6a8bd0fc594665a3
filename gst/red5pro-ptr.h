/* red5pro-ptr: owning pointers for the GLib/GStreamer references kept in C++ objects
 * (function scopes use g_autoptr / g_autofree). */
#pragma once

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <memory>

namespace red5pro {

struct GObjectUnref {
  void operator() (gpointer p) const { g_object_unref (p); }
};
struct GstObjectUnref {
  void operator() (gpointer p) const { gst_object_unref (p); }
};
struct DescriptionFree {
  void operator() (GstWebRTCSessionDescription *d) const { gst_webrtc_session_description_free (d); }
};
struct StructureFree {
  void operator() (GstStructure *s) const { gst_structure_free (s); }
};

template <typename T> using GObjectPtr = std::unique_ptr<T, GObjectUnref>;
template <typename T> using GstObjectPtr = std::unique_ptr<T, GstObjectUnref>;
using DescriptionPtr = std::unique_ptr<GstWebRTCSessionDescription, DescriptionFree>;
using StructurePtr = std::unique_ptr<GstStructure, StructureFree>;

/* A weak reference to a C++ object as GLib user data (signal handlers, pad probes), so
 * that a callback that outlives the object finds nothing: new_weak() to pass, with
 * free_weak<T> as its destroy notify; lock_weak<T>() in the callback. */
template <typename T>
gpointer
new_weak (const std::shared_ptr<T> &object)
{
  return new std::weak_ptr<T> (object);
}
template <typename T>
void
free_weak (gpointer data, GClosure * = nullptr)
{
  delete static_cast<std::weak_ptr<T> *> (data);
}
template <typename T>
std::shared_ptr<T>
lock_weak (gpointer data)
{
  return static_cast<std::weak_ptr<T> *> (data)->lock ();
}

}  // namespace red5pro
