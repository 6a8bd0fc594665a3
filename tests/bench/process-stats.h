/* process-stats: what the benchmark reads off its own process: CPU time (user + system,
 * this process only: the test cluster is a child and does not count), resident memory,
 * threads and open file descriptors. */
#pragma once

#include <glib.h>

namespace bench {

/* CPU seconds this process has used so far (getrusage, RUSAGE_SELF). */
double cpu_seconds ();
/* VmRSS in KiB, -1 when unreadable. */
long rss_kib ();
/* Entries of /proc/self/task and /proc/self/fd. */
guint thread_count ();
guint fd_count ();

}  // namespace bench
