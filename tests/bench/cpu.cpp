/* cpu: this process's CPU time (user + system) per minute of receiving one stream, once the
 * first frame has come and two seconds have passed; decoded and encoded output, 320x240
 * and 640x360 (VP8 30 fps, Opus). The test cluster encodes in its own process: only the
 * subscriber's work counts. */
#include "parts.h"
#include "process-stats.h"
#include "results.h"
#include "test-cluster.h"

namespace bench {

using namespace process_stats;

void
run_cpu (const Config &cfg)
{
  TestCluster cluster ({ "--edges", "1" });
  guint status = 0;
  cluster.control ("POST", "/publish?stream=s640&width=640&height=360", &status);
  if (status != 200) {
    note ("the cluster did not publish 640x360 (HTTP %u)", status);
    return;
  }
  struct Case {
    const char *name;
    const char *stream;
    bool decode;
  };
  const Case cases[] = {
    { "decoded-320x240", "stream1", true }, { "encoded-320x240", "stream1", false },
    { "decoded-640x360", "s640", true }, { "encoded-640x360", "s640", false },
  };
  for (int run = 0; run < cfg.runs; run++) {
    for (const Case &c : cases) {
      Target t;
      t.edge = cluster.edges ()[0].address;
      t.port = cluster.port ();
      t.stream = c.stream;
      t.decode = c.decode;
      auto sub = make_subscriber (cfg.client, t);
      if (!sub->start () || !wait_for ([&] { return sub->video.first_us () || sub->failed (); },
              20) || sub->failed ()) {
        note ("%s %s: no frames: %s", cfg.client.label.c_str (), c.name, sub->error ().c_str ());
        sub->stop ();
        continue;
      }
      g_usleep (2 * G_USEC_PER_SEC);
      double cpu0 = cpu_seconds ();
      guint64 frames0 = sub->video.buffers ();
      gint64 t0 = g_get_monotonic_time ();
      g_usleep (gulong (cfg.seconds * G_USEC_PER_SEC));
      double cpu1 = cpu_seconds ();
      guint64 frames1 = sub->video.buffers ();
      double elapsed = (g_get_monotonic_time () - t0) / 1e6;
      sub->stop ();
      result ("cpu", c.name, cfg.client.label, "cpu-s-per-min", (cpu1 - cpu0) / elapsed * 60);
      result ("cpu", c.name, cfg.client.label, "fps", (frames1 - frames0) / elapsed);
      g_usleep (500 * 1000);
    }
  }
}

}  // namespace bench
