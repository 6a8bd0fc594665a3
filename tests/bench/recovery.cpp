/* Benchmarks against the test cluster (meson test --benchmark, or run the executable):
 *   startup  - PLAYING to the first decoded video frame, over N runs
 *   recovery - edge killed (loud / silent) to the first frame from the next edge, minus
 *              retry-timeout
 *   soak     - RED5PRO_SOAK_CYCLES rebuild cycles (edge kill/restart), sampling RSS, file
 *              descriptors and threads every 10 cycles
 * Which ones: RED5PRO_BENCH=startup,recovery,soak (default: startup,recovery). Numbers, not
 * assertions: they go into docs/benchmarks.md. */
#include <gst/gst.h>

#include "test-cluster.h"
#include "test-subscriber.h"

#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

static guint
count_entries (const char *dir)
{
  guint n = 0;
  if (DIR *d = opendir (dir)) {
    while (struct dirent *e = readdir (d))
      n += e->d_name[0] != '.';
    closedir (d);
  }
  return n;
}

static long
rss_kib ()
{
  long kib = -1;
  if (FILE *f = fopen ("/proc/self/status", "r")) {
    char line[256];
    while (fgets (line, sizeof line, f))
      if (sscanf (line, "VmRSS: %ld kB", &kib) == 1)
        break;
    fclose (f);
  }
  return kib;
}

static void
summary (const char *what, std::vector<double> v)
{
  if (v.empty ()) {
    g_print ("| %s | no samples | | | |\n", what);
    return;
  }
  std::sort (v.begin (), v.end ());
  g_print ("| %s | %zu | %.0f | %.0f | %.0f |\n", what, v.size (), v.front (), v[v.size () / 2],
      v.back ());
}

static std::string
props (TestCluster &c, const char *extra)
{
  return "host=127.0.0.1 port=" + std::to_string (c.port ()) +
      " stream-manager=sm2 stream-name=stream1 " + extra;
}


static void
bench_startup (int runs)
{
  std::vector<double> ms;
  TestCluster c ({ "--edges", "1" });
  for (int i = 0; i < runs; i++) {
    TestSubscriber sub (props (c, "retry-timeout=0"));
    sub.play ();
    if (sub.wait_video (1, 30))
      ms.push_back (sub.first_frame_us () / 1000.0);
  }
  summary ("PLAYING to first decoded frame (ms)", ms);
}

/* Kills the serving edge the given way, runs times; the time until the first frame after
 * the kill, minus retry-timeout. */
static void
bench_recovery (const char *mode, int runs, guint retry_ms)
{
  std::vector<double> ms;
  TestCluster c ({ "--edges", "2" });
  std::string extra = "retry-timeout=" + std::to_string (retry_ms);
  TestSubscriber sub (props (c, extra.c_str ()));
  sub.play ();
  if (!sub.wait_video (30, 30)) {
    g_printerr ("no video to start with\n");
    return;
  }
  for (int i = 0; i < runs; i++) {
    std::string edge = c.edge_name (sub.edge ());
    guint64 before = sub.video_frames ();
    gint64 killed = g_get_monotonic_time ();
    c.control ("POST", "/edge/kill?edge=" + edge + "&mode=" + mode);
    /* frames still in the jitter buffer land after the kill: count from the new
     * subscription's start (its first RTP packet), then the first frame it decodes */
    guint starts = sub.count ("Subscribe.Start");
    bool ok = sub.wait ([&] { return sub.count ("Subscribe.Start") > starts; }, 30, false);
    guint64 at_start = sub.video_frames ();
    ok = ok && sub.wait ([&] { return sub.video_frames () > at_start; }, 10, false);
    if (ok)
      ms.push_back ((g_get_monotonic_time () - killed) / 1000.0 - retry_ms);
    (void) before;
    c.control ("POST", "/edge/restart?edge=" + edge);
    g_usleep (1500 * 1000);
  }
  std::string what = std::string (mode) + " edge kill to first new frame, minus retry-timeout (ms)";
  summary (what.c_str (), ms);
}

static void
bench_soak (int cycles)
{
  TestCluster c ({ "--edges", "2" });
  TestSubscriber sub (props (c, "retry-timeout=100"));
  sub.play ();
  if (!sub.wait_video (30, 30)) {
    g_printerr ("no video to start with\n");
    return;
  }
  g_print ("| cycle | RSS (KiB) | fds | threads | frames |\n|---|---|---|---|---|\n");
  for (int i = 0; i <= cycles; i++) {
    if (i % 10 == 0)
      g_print ("| %d | %ld | %u | %u | %" G_GUINT64_FORMAT " |\n", i, rss_kib (),
          count_entries ("/proc/self/fd"), count_entries ("/proc/self/task"), sub.video_frames ());
    if (i == cycles)
      break;
    std::string edge = c.edge_name (sub.edge ());
    guint starts = sub.count ("Subscribe.Start");
    guint64 frames = sub.video_frames ();
    c.control ("POST", "/edge/kill?edge=" + edge + "&mode=loud");
    if (!sub.wait ([&] { return sub.count ("Subscribe.Start") > starts &&
                             sub.video_frames () > frames + 5; }, 30, false))
      g_printerr ("cycle %d: no recovery\n", i);
    c.control ("POST", "/edge/restart?edge=" + edge);
  }
  GstStructure *stats = sub.stats ();
  char *text = gst_structure_to_string (stats);
  g_print ("\nstats after the soak: %s\n", text);
  g_free (text);
  gst_structure_free (stats);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  const char *which = g_getenv ("RED5PRO_BENCH");
  std::string w = which ? which : "startup,recovery";
  int runs = g_getenv ("RED5PRO_BENCH_RUNS") ? atoi (g_getenv ("RED5PRO_BENCH_RUNS")) : 5;
  g_print ("| measurement | runs | min | median | max |\n|---|---|---|---|---|\n");
  if (w.find ("startup") != std::string::npos)
    bench_startup (runs);
  if (w.find ("recovery") != std::string::npos) {
    bench_recovery ("loud", runs, 1000);
    bench_recovery ("silent", runs, 1000);
  }
  if (w.find ("soak") != std::string::npos) {
    g_print ("\n");
    bench_soak (g_getenv ("RED5PRO_SOAK_CYCLES") ? atoi (g_getenv ("RED5PRO_SOAK_CYCLES")) : 200);
  }
  return 0;
}
