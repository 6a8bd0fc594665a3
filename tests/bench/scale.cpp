/* scale: N subscribers of one stream in this one process (WHEP, Red5 Pro flavour, straight
 * to one edge; encoded output unless asked for decoded), started one after the other, each
 * once the previous one has video; three seconds after the last, a window of cfg.seconds:
 * process CPU per minute, RSS, threads, file descriptors, and video frames per second per
 * subscriber (median and lowest). The idle process (cluster started, nothing subscribed)
 * is measured first, so that the report can tell what subscribers add. */
#include "parts.h"
#include "process-stats.h"
#include "results.h"
#include "test-cluster.h"

#include <algorithm>

namespace bench {

using namespace process_stats;

void
run_scale (const Config &cfg)
{
  TestCluster cluster ({ "--edges", "1" });
  Target t;
  t.edge = cluster.edges ()[0].address;
  t.port = cluster.port ();
  t.decode = cfg.scale_decode;
  const char *output = cfg.scale_decode ? "decoded" : "encoded";
  for (int n : cfg.subscribers) {
    std::string what = std::string (output) + "-n" + std::to_string (n);
    const std::string &who = cfg.client.label;
    result ("scale", what, who, "idle-threads", thread_count ());
    result ("scale", what, who, "idle-rss-kib", rss_kib ());
    /* one after the other, each once it has video (or 10 s): the steady state is what is
     * measured, not N signaling exchanges at once against one test edge */
    std::vector<std::shared_ptr<Subscriber>> subs;
    for (int i = 0; i < n; i++) {
      auto sub = make_subscriber (cfg.client, t);
      subs.push_back (sub);
      if (!sub->start ())
        note ("scale: subscriber %d did not start: %s", i, sub->error ().c_str ());
      else if (!wait_for ([&] { return sub->video.buffers () > 0 || sub->failed (); }, 10))
        note ("scale: subscriber %d has no video after 10 s", i);
    }
    auto with_video = [&] {
      return std::count_if (subs.begin (), subs.end (), [] (const auto &s) {
        return s->video.buffers () > 0;
      });
    };
    if (with_video () < n)
      note ("scale %s: %ld of %d subscribers have video", what.c_str (), long (with_video ()), n);
    g_usleep (3 * G_USEC_PER_SEC);
    std::vector<guint64> frames0;
    for (auto &s : subs)
      frames0.push_back (s->video.buffers ());
    double cpu0 = cpu_seconds ();
    gint64 t0 = g_get_monotonic_time ();
    g_usleep (gulong (cfg.seconds * G_USEC_PER_SEC));
    double cpu1 = cpu_seconds ();
    double elapsed = (g_get_monotonic_time () - t0) / 1e6;
    std::vector<double> fps;
    for (size_t i = 0; i < subs.size (); i++)
      fps.push_back ((subs[i]->video.buffers () - frames0[i]) / elapsed);
    std::sort (fps.begin (), fps.end ());
    result ("scale", what, who, "cpu-s-per-min", (cpu1 - cpu0) / elapsed * 60);
    result ("scale", what, who, "rss-kib", rss_kib ());
    result ("scale", what, who, "threads", thread_count ());
    result ("scale", what, who, "fds", fd_count ());
    result ("scale", what, who, "fps-median", fps[fps.size () / 2]);
    result ("scale", what, who, "fps-lowest", fps.front ());
    result ("scale", what, who, "with-video", double (with_video ()));
    long failed = std::count_if (subs.begin (), subs.end (), [] (const auto &s) {
      return s->failed ();
    });
    if (failed)
      note ("scale %s: %ld subscribers report an error, e.g. %s", what.c_str (), failed,
          std::find_if (subs.begin (), subs.end (), [] (const auto &s) {
            return s->failed ();
          })->get ()->error ().c_str ());
    for (auto &s : subs)
      s->stop ();
    subs.clear ();
    g_usleep (G_USEC_PER_SEC);
  }
}

}  // namespace bench
