/* parts: the benchmark's parts, one file each; every process runs the parts it is asked
 * for, for one client, and prints RESULT lines (see results.h). */
#pragma once

#include "clients.h"

#include <vector>

namespace bench {

struct Config {
  ClientSpec client;
  int runs = 1;                 /* measurements per case in this process */
  double seconds = 10;          /* CPU and scale: the measuring window */
  std::vector<int> subscribers { 1, 5 };   /* scale */
  bool scale_decode = false;    /* scale: decoded output (default: encoded) */
  int cycles = 20;              /* soak */
  guint retry_timeout_ms = 1000;       /* recovery */
  guint inactivity_timeout_ms = 2000;  /* recovery (silent) */
};

/* join: start () to the first video frame: WHEP Red5 Pro flavour, WHEP standard,
 * WebSocket, and WHEP after a Stream Manager 2.0 lookup */
void run_join (const Config &cfg);
/* cpu: process CPU time per minute of receiving, decoded and encoded, 320x240 and 640x360 */
void run_cpu (const Config &cfg);
/* recovery: loud and silent edge kills (red5prosrc only) */
void run_recovery (const Config &cfg);
/* scale: N subscribers in this process: CPU, RSS, threads, frames */
void run_scale (const Config &cfg);
/* soak: rebuilds after edge kills: RSS, fds, threads every 10 cycles */
void run_soak (const Config &cfg);

}  // namespace bench
