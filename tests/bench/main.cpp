/* bench-subscribers: one benchmark process: the parts asked for, for one client (red5prosrc
 * from whatever build GST_PLUGIN_PATH names, or the floor client), against its own test
 * cluster. scripts/bench runs several of these interleaved and turns their RESULT lines
 * into ratios; docs/benchmarks.md says what each number means. */
#include "parts.h"
#include "results.h"

#include <gst/gst.h>
#include <openssl/crypto.h>

#include <string>

using namespace bench;

static std::vector<int>
int_list (const char *text)
{
  std::vector<int> out;
  char **parts = g_strsplit (text, ",", -1);
  for (char **p = parts; *p; p++)
    if (**p)
      out.push_back (atoi (*p));
  g_strfreev (parts);
  return out;
}

int
main (int argc, char **argv)
{
  /* webrtcbin's DTLS threads and OpenSSL's atexit cleanup race at exit (gst/plugin.cpp
   * does this for red5prosrc; the floor client has no plugin to do it) */
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, nullptr);
  char *client = nullptr, *label = nullptr, *parts = nullptr, *subscribers = nullptr;
  int runs = 1, cycles = 20, retry_ms = 1000, inactivity_ms = 2000;
  double seconds = 10;
  gboolean no_channel = FALSE, offer_first = FALSE, scale_decoded = FALSE;
  GOptionEntry entries[] = {
    { "client", 0, 0, G_OPTION_ARG_STRING, &client, "element (red5prosrc) or floor", "C" },
    { "label", 0, 0, G_OPTION_ARG_STRING, &label,
        "Name in the results (default: the client; e.g. baseline for an older build)", "L" },
    { "parts", 0, 0, G_OPTION_ARG_STRING, &parts,
        "Comma-separated: join, cpu, recovery, scale, soak (default join)", "LIST" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Measurements per case (default 1)", "N" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds,
        "cpu and scale: the measuring window in seconds (default 10)", "S" },
    { "subscribers", 0, 0, G_OPTION_ARG_STRING, &subscribers,
        "scale: subscriber counts, comma-separated (default 1,5)", "LIST" },
    { "scale-decoded", 0, 0, G_OPTION_ARG_NONE, &scale_decoded,
        "scale: decode the video (default: encoded output)", nullptr },
    { "cycles", 0, 0, G_OPTION_ARG_INT, &cycles, "soak: rebuilds (default 20)", "N" },
    { "retry-timeout", 0, 0, G_OPTION_ARG_INT, &retry_ms,
        "recovery: red5prosrc retry-timeout in ms (default 1000)", "MS" },
    { "inactivity-timeout", 0, 0, G_OPTION_ARG_INT, &inactivity_ms,
        "recovery: red5prosrc inactivity-timeout in ms (default 2000)", "MS" },
    { "no-data-channel", 0, 0, G_OPTION_ARG_NONE, &no_channel,
        "Neither client opens the red5pro data channel", nullptr },
    { "floor-offer-first", 0, 0, G_OPTION_ARG_NONE, &offer_first,
        "The floor applies its offer before the POST on standard WHEP edges", nullptr },
    { nullptr }
  };
  GOptionContext *ctx = g_option_context_new ("- gst-red5pro benchmark, one client");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  GError *err = nullptr;
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);

  Config cfg;
  std::string c = client ? client : "element";
  if (c != "element" && c != "floor") {
    g_printerr ("--client: element or floor\n");
    return 2;
  }
  cfg.client.floor = c == "floor";
  cfg.client.label = label ? label : c;
  cfg.client.data_channel = !no_channel;
  cfg.client.floor_offer_first = offer_first;
  cfg.runs = MAX (runs, 1);
  cfg.seconds = seconds;
  if (subscribers)
    cfg.subscribers = int_list (subscribers);
  cfg.scale_decode = scale_decoded;
  cfg.cycles = MAX (cycles, 0);
  cfg.retry_timeout_ms = guint (MAX (retry_ms, 1));
  cfg.inactivity_timeout_ms = guint (MAX (inactivity_ms, 0));

  if (!cfg.client.floor && !gst_element_factory_find ("red5prosrc")) {
    g_printerr ("no red5prosrc in the registry: set GST_PLUGIN_PATH_1_0 to its build\n");
    return 1;
  }
  std::string p = parts ? parts : "join";
  note ("%s: parts %s, %d run(s), %s", cfg.client.label.c_str (), p.c_str (),
      cfg.runs, gst_version_string ());
  char **list = g_strsplit (p.c_str (), ",", -1);
  for (char **part = list; *part; part++) {
    std::string name = *part;
    if (name == "join")
      run_join (cfg);
    else if (name == "cpu")
      run_cpu (cfg);
    else if (name == "recovery")
      run_recovery (cfg);
    else if (name == "scale")
      run_scale (cfg);
    else if (name == "soak")
      run_soak (cfg);
    else if (!name.empty ())
      g_printerr ("unknown part %s\n", name.c_str ());
  }
  g_strfreev (list);
  return 0;
}
