/* element-client: red5prosrc as the benchmark runs it, whichever build the registry holds
 * (this tree's, or an older one for "today's" numbers): its pads straight into fakesinks,
 * nothing in between, and its red5pro-event messages timed as they are posted. */
#pragma once

#include "subscriber.h"

#include <map>
#include <mutex>

namespace bench {

class ElementClient : public Subscriber {
public:
  /* properties: red5prosrc properties, e.g. "host=127.0.0.2 port=5080 stream-name=s" */
  ElementClient (std::string properties, bool decode);
  ~ElementClient () override;

  bool start () override;
  void stop () override;
  bool failed () const override;
  std::string error () const override;
  std::string edge () override;   /* from its stats */

  /* How many events of that type were posted, and when the last one was (monotonic µs,
   * 0 = never). A Red5Pro.Retry.Scheduled also arms the video counter: the old attempt
   * is gone by then, so the next frame comes from the new one. */
  guint event_count (const std::string &type) const;
  gint64 event_time (const std::string &type) const;
  std::string last_reason (const std::string &type) const;

  GstElement *source () const { return src_; }

private:
  static GstBusSyncReply on_bus (GstBus *, GstMessage *msg, gpointer data);

  std::string properties_;
  bool decode_;
  GstElement *pipeline_ = nullptr;
  GstElement *src_ = nullptr;
  mutable std::mutex lock_;
  struct Seen {
    guint count = 0;
    gint64 last_us = 0;
    std::string reason;
  };
  std::map<std::string, Seen> events_;   /* bounded: one entry per type */
  std::string error_;
};

}  // namespace bench
