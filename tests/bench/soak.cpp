/* soak: cfg.cycles rebuilds. red5prosrc (retry-timeout 100 ms, Stream Manager 2.0 lookup)
 * rebuilds itself when its edge is killed loudly; the floor client is rebuilt by the
 * benchmark, as an application would do it (stop, a new one through the lookup). The
 * killed edge is restarted after each recovery. Every 10 cycles: RSS, file descriptors,
 * threads, frames; at the end, RSS growth over the second half of the cycles. */
#include "element-client.h"
#include "parts.h"
#include "process-stats.h"
#include "results.h"
#include "test-cluster.h"

namespace bench {

using namespace process_stats;

void
run_soak (const Config &cfg)
{
  TestCluster cluster ({ "--edges", "2" });
  Target t;
  t.port = cluster.port ();
  t.sm2 = true;
  t.retry_timeout_ms = 100;
  const std::string &who = cfg.client.label;
  auto sub = make_subscriber (cfg.client, t);
  guint64 frames_before = 0;   /* the floor's earlier instances' */
  if (!sub->start () || !wait_for ([&] { return sub->video.buffers () > 30 || sub->failed (); },
          30)) {
    note ("soak: no video to start with: %s", sub->error ().c_str ());
    sub->stop ();
    return;
  }
  long rss_half = -1;
  int failures = 0;
  bool completed = true;
  for (int i = 0; i <= cfg.cycles; i++) {
    if (i % 10 == 0 || i == cfg.cycles) {
      std::string cycle = std::to_string (i);
      result ("soak", cycle, who, "rss-kib", rss_kib ());
      result ("soak", cycle, who, "fds", fd_count ());
      result ("soak", cycle, who, "threads", thread_count ());
      result ("soak", cycle, who, "frames", frames_before + sub->video.buffers ());
    }
    if (i == cfg.cycles / 2)
      rss_half = rss_kib ();
    if (i == cfg.cycles)
      break;
    std::string edge = cluster.edge_name (sub->edge ());
    guint status = 0;
    cluster.control ("POST", "/edge/kill?edge=" + edge + "&mode=loud", &status);
    if (status != 200) {
      note ("soak cycle %d: the test cluster did not kill %s (HTTP %u): stopping", i,
          edge.empty () ? "(no edge)" : edge.c_str (), status);
      completed = false;
      break;
    }
    if (cfg.client.floor) {
      frames_before += sub->video.buffers ();
      sub->stop ();
      sub = make_subscriber (cfg.client, t);
      sub->start ();
    }
    guint64 frames = sub->video.buffers ();
    if (!wait_for ([&] { return sub->video.buffers () > frames + 5 && sub->edge () != "" &&
                        cluster.edge_name (sub->edge ()) != edge; }, 30)) {
      failures++;
      note ("soak cycle %d: no recovery within 30 s (%s)", i, sub->error ().c_str ());
    }
    cluster.control ("POST", "/edge/restart?edge=" + edge);
  }
  if (completed && rss_half >= 0)
    result ("soak", "end", who, "rss-growth-second-half-kib", rss_kib () - rss_half);
  result ("soak", "end", who, "cycles-without-recovery", failures);
  if (auto *element = dynamic_cast<ElementClient *> (sub.get ()))
    result ("soak", "end", who, "retries", element->event_count ("Red5Pro.Retry.Scheduled"));
  sub->stop ();
}

}  // namespace bench
