/* process-stats: getrusage and /proc/self, nothing cached. */
#include "process-stats.h"

#include <dirent.h>
#include <sys/resource.h>

#include <cstdio>

namespace bench {

double
cpu_seconds ()
{
  struct rusage ru;
  if (getrusage (RUSAGE_SELF, &ru) != 0)
    return -1;
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
      ru.ru_stime.tv_usec / 1e6;
}

long
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

guint
thread_count ()
{
  return count_entries ("/proc/self/task");
}

guint
fd_count ()
{
  /* less the one opendir holds while counting */
  guint n = count_entries ("/proc/self/fd");
  return n ? n - 1 : 0;
}

}  // namespace bench
