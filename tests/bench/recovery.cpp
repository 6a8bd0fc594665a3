/* recovery: red5prosrc (the floor has no failover) on an edge found through the Stream
 * Manager 2.0; the serving edge is killed, loudly (sockets and data channel closed) or
 * silently (media stops, nothing closes, nothing answers), and the next edge takes over.
 *   recovery     kill → first video frame from the next edge
 *   detection    kill → Red5Pro.Retry.Scheduled (the old attempt is gone by then)
 *   reconnect    recovery − retry-timeout − the detection the design allows (loud: 0,
 *                silent: inactivity-timeout): what the failover itself costs; compare it
 *                with the join through the Stream Manager
 *   retry-to-frame  Retry.Scheduled → first frame, minus retry-timeout: the reconnect
 *                alone, without the detection's own delay
 *   silent-detection-excess   detection − inactivity-timeout, silent kills */
#include "element-client.h"
#include "parts.h"
#include "results.h"
#include "test-cluster.h"

namespace bench {

void
run_recovery (const Config &cfg)
{
  if (cfg.client.floor) {
    note ("recovery: the floor client has no failover; compare reconnect with the join");
    return;
  }
  TestCluster cluster ({ "--edges", "2" });
  Target t;
  t.port = cluster.port ();
  t.sm2 = true;
  t.retry_timeout_ms = cfg.retry_timeout_ms;
  t.inactivity_timeout_ms = cfg.inactivity_timeout_ms;
  auto sub = make_subscriber (cfg.client, t);
  auto *element = dynamic_cast<ElementClient *> (sub.get ());
  if (!sub->start () || !wait_for ([&] { return sub->video.buffers () > 30 || sub->failed (); },
          30) || sub->failed ()) {
    note ("recovery: no video to start with: %s", sub->error ().c_str ());
    sub->stop ();
    return;
  }
  const char *scheduled = "Red5Pro.Retry.Scheduled";
  for (int run = 0; run < cfg.runs; run++) {
    for (const char *mode : { "loud", "silent" }) {
      std::string edge = cluster.edge_name (sub->edge ());
      if (edge.empty ()) {
        note ("recovery: the element names no edge it is on");
        break;
      }
      guint retries = element->event_count (scheduled);
      gint64 killed = g_get_monotonic_time ();
      guint status = 0;
      cluster.control ("POST", "/edge/kill?edge=" + edge + "&mode=" + mode, &status);
      if (status != 200) {
        note ("recovery: the test cluster did not kill %s (HTTP %u): stopping", edge.c_str (),
            status);
        break;
      }
      bool ok = wait_for ([&] {
        return element->event_count (scheduled) > retries && sub->video.next_us () > 0;
      }, 30);
      if (ok) {
        bool silent = g_str_equal (mode, "silent");
        double recovery = (sub->video.next_us () - killed) / 1000.0;
        /* the first retry after media waits retry-timeout exactly (no backoff yet) */
        double detection = (element->event_time (scheduled) - killed) / 1000.0;
        double allowed = silent ? cfg.inactivity_timeout_ms : 0;
        result ("recovery", mode, cfg.client.label, "recovery-ms", recovery);
        result ("recovery", mode, cfg.client.label, "detection-ms", detection);
        result ("recovery", mode, cfg.client.label, "reconnect-ms",
            recovery - cfg.retry_timeout_ms - allowed);
        result ("recovery", mode, cfg.client.label, "retry-to-frame-ms",
            (sub->video.next_us () - element->event_time (scheduled)) / 1000.0 -
            cfg.retry_timeout_ms);
        if (silent)
          result ("recovery", mode, cfg.client.label, "silent-detection-excess-ms",
              detection - cfg.inactivity_timeout_ms);
        if (element->event_count (scheduled) > retries + 1)
          note ("recovery %s: %u retries", mode, element->event_count (scheduled) - retries);
      } else {
        note ("recovery %s: no recovery within 30 s (%s)", mode, sub->error ().c_str ());
      }
      cluster.control ("POST", "/edge/restart?edge=" + edge);
      /* steady again before the next kill */
      guint64 frames = sub->video.buffers ();
      wait_for ([&] { return sub->video.buffers () > frames + 45; }, 10);
    }
  }
  sub->stop ();
}

}  // namespace bench
