/* results: how a benchmark process reports: one tab-separated RESULT line per number
 * (part, case, client, metric, value) on stdout for scripts/bench to gather, and comment
 * lines ("# ...") for people. */
#pragma once

#include <glib.h>

#include <cstdarg>
#include <cstdio>
#include <string>

namespace bench {

inline void
result (const std::string &part, const std::string &what, const std::string &client,
    const std::string &metric, double value)
{
  g_print ("RESULT\t%s\t%s\t%s\t%s\t%.3f\n", part.c_str (), what.c_str (), client.c_str (),
      metric.c_str (), value);
  fflush (stdout);
}

G_GNUC_PRINTF (1, 2) inline void
note (const char *format, ...)
{
  va_list args;
  va_start (args, format);
  char *text = g_strdup_vprintf (format, args);
  va_end (args);
  g_print ("# %s\n", text);
  fflush (stdout);
  g_free (text);
}

}  // namespace bench
