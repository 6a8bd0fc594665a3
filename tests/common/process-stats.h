/* process-stats: what a test or the benchmark reads off its own process, nothing cached:
 * CPU time (user + system, this process only: a test cluster is a child and does not
 * count), resident memory, threads and open file descriptors (getrusage, /proc/self). */
#pragma once

#include <glib.h>

#include <dirent.h>
#include <sys/resource.h>

#include <cstring>

namespace process_stats {

/* CPU seconds this process has used so far (getrusage, RUSAGE_SELF), -1 when unknown. */
inline double
cpu_seconds ()
{
  struct rusage ru;
  if (getrusage (RUSAGE_SELF, &ru) != 0)
    return -1;
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
      ru.ru_stime.tv_usec / 1e6;
}

/* VmRSS in KiB, -1 when unreadable. */
inline long
rss_kib ()
{
  gchar *text = nullptr;
  long kib = -1;
  if (g_file_get_contents ("/proc/self/status", &text, nullptr, nullptr)) {
    if (const char *p = strstr (text, "VmRSS:"))
      kib = (long) g_ascii_strtoll (p + 6, nullptr, 10);
    g_free (text);
  }
  return kib;
}

inline guint
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

/* Entries of /proc/self/task and /proc/self/fd (less the one opendir holds meanwhile). */
inline guint
thread_count ()
{
  return count_entries ("/proc/self/task");
}

inline guint
fd_count ()
{
  guint n = count_entries ("/proc/self/fd");
  return n ? n - 1 : 0;
}

}  // namespace process_stats
