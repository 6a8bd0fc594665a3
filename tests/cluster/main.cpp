/* red5pro-test-cluster: a Red5 Pro cluster in one process for tests and demos: a Stream
 * Manager on 127.0.0.1:PORT, edges on 127.0.0.2:PORT, 127.0.0.3:PORT..., a publisher, and a
 * control API. Prints {"port":..,"control_port":..,"edges":[..]} as its first line. */
#include "cluster.h"

#include <glib-unix.h>
#include <glib/gstdio.h>

#include <openssl/crypto.h>

namespace cluster {

Cluster &
the_cluster ()
{
  static Cluster c;
  return c;
}


static std::string
data_message (const char *type, const char *code, const std::string &message,
    const std::string &description)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "data");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  if (!message.empty ()) {
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, message.c_str ());
  }
  if (!description.empty ()) {
    json_builder_set_member_name (b, "description");
    json_builder_add_string_value (b, description.c_str ());
  }
  json_builder_end_object (b);
  json_builder_end_object (b);
  std::string out = json_text (json_builder_get_root (b));
  g_object_unref (b);
  return out;
}

std::string
json_status (const char *code, const std::string &message, const std::string &description)
{
  return data_message ("status", code, message, description);
}

std::string
json_error (const char *code, const std::string &message)
{
  return data_message ("error", code, message, "");
}

}   // namespace cluster

using namespace cluster;

static gboolean
on_signal (gpointer)
{
  g_main_loop_quit (the_cluster ().loop);
  return G_SOURCE_REMOVE;
}

static std::vector<std::string>
split (const char *list)
{
  std::vector<std::string> out;
  if (!list)
    return out;
  char **parts = g_strsplit (list, ",", -1);
  for (char **p = parts; *p; p++)
    if (**p)
      out.emplace_back (*p);
  g_strfreev (parts);
  return out;
}

static void
print_ports ()
{
  Cluster &c = the_cluster ();
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, c.port);
  json_builder_set_member_name (b, "control_port");
  json_builder_add_int_value (b, c.opt.control_port);
  json_builder_set_member_name (b, "tls");
  json_builder_add_boolean_value (b, c.tls);
  json_builder_set_member_name (b, "edges");
  json_builder_begin_array (b);
  for (auto &e : c.edges)
    add_edge_json (b, *e, false);
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_print ("%s\n", json_text (json_builder_get_root (b)).c_str ());
  g_object_unref (b);
  fflush (stdout);
}

/* the control API, for --help (README.md, "The test cluster", has the same list) */
static const char CONTROL_HELP[] =
    "Control API on 127.0.0.1:<control_port> (POST unless noted):\n"
    "  GET /state, GET /requests?edge=edge1|sm    what is up, what each server was asked\n"
    "  GET /stamps?stream=                        [counter, real time us] of its last frames\n"
    "  /publish?stream=[&width=&height=], /publish-abr?stream= ({stream}_1.._3), /unpublish?stream=\n"
    "  /route?stream=&edge=                       the edge lookups answer for the stream\n"
    "  /edge/kill?edge=&mode=loud|silent, /edge/restart?edge=\n"
    "  /edge/flavour?edge=&flavour=red5|standard|strict\n"
    "  /edge/loss?edge=&percent=                  that share of its packets is lost (both ways,\n"
    "                                             after SRTP, on the UDP path)\n"
    "  /edge/network?edge=[&loss=%][&burst-loss=%&burst=N][&delay=ms][&jitter=ms][&kbps=]\n"
    "      [&queue=ms][&reset=true]               its network: random or burst loss (Gilbert-\n"
    "                                             Elliott, mean burst N packets), one-way delay\n"
    "                                             and jitter, a bandwidth cap with a drop-tail\n"
    "                                             queue of queue ms (200)\n"
    "  /edge/ice?edge=&mode=any|tcp|relay[&turn=turn://user:password@host:port]\n"
    "                                             how its next subscribers reach it\n"
    "  /edge/block-media?edge=, /edge/unblock-media?edge=\n"
    "                                             WebRTC media blocked as by a firewall dropping\n"
    "                                             UDP: ICE never connects, signaling answers\n"
    "  /edge/redirect?edge=&to=&status=307|308&once=true|false\n"
    "                                             WHEP POSTs redirected to edge 'to' (no to= clears)\n"
    "  /sm/down, /sm/up\n"
    "  /sm/server-address?with-port=true|false   lookups answer serverAddress <address>:<port>\n"
    "  /sm/session-host?enabled=true|false       the SM 2.0 WHEP proxy's OPTIONS names the node\n"
    "  /send/metadata?stream=, /send/invoke?stream=&method=   (JSON body)\n"
    "  /send/status?stream=&code=[&when=switch], /send/raw?stream=[&size=N]\n"
    "  GET /stats[?since=SEQ], GET /stats/state  stats envelopes received (POST /stats on the\n"
    "                                             SM, or the data channel), the endpoint's state\n"
    "  /stats/mode?mode=ok|fail|hang             the SM's /stats answers, 500s, or never answers\n"
    "  /stats/link?url=                          WHEP OPTIONS answers name url (Link\n"
    "                                             rel=statistics); no url: none\n"
    "  /stats/clear, /send/statistics-endpoint?stream=&url=   (the channel status naming url)\n"
    "  /subscriber/close-socket?stream=, /quit\n";

int
main (int argc, char **argv)
{
  /* webrtcbin's DTLS threads and OpenSSL's atexit cleanup race at exit (see gst/plugin.cpp) */
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, nullptr);
  Cluster &c = the_cluster ();
  int edges = 2, port = 0, control_port = 0, kill_after = 0;
  gboolean address_with_port = FALSE, hls = FALSE, network = TRUE;
  char *flavours = nullptr, *publish = nullptr, *app = nullptr, *codec = nullptr;
  char *ice_modes = nullptr, *turn = nullptr, *codecs = nullptr;
  char *username = nullptr, *password = nullptr, *token = nullptr, *bearer = nullptr;
  char *cert = nullptr, *key = nullptr, *ca = nullptr;
  GOptionEntry entries[] = {
    { "edges", 0, 0, G_OPTION_ARG_INT, &edges, "Number of edges (default 2)", "N" },
    { "edge-flavours", 0, 0, G_OPTION_ARG_STRING, &flavours,
        "WHEP flavour per edge, comma-separated: red5 (server offers), standard (RFC 9725), "
        "or strict (standard, answering port-0 m-lines inactive, OPTIONS refused with 405)", "LIST" },
    { "edge-ice", 0, 0, G_OPTION_ARG_STRING, &ice_modes,
        "ICE per edge, comma-separated: any (UDP and TCP host candidates, the default), "
        "tcp (ICE-TCP only) or relay (only relay candidates from --turn-server)", "LIST" },
    { "turn-server", 0, 0, G_OPTION_ARG_STRING, &turn,
        "TURN server of the relay edges: turn://user:password@host:port", "URL" },
    { "publish", 0, 0, G_OPTION_ARG_STRING, &publish,
        "Streams published at start, comma-separated (default stream1; '' for none)", "LIST" },
    { "app", 0, 0, G_OPTION_ARG_STRING, &app, "Application scope (default live)", "APP" },
    { "codec", 0, 0, G_OPTION_ARG_STRING, &codec, "Video codec: vp8 (default), h264 or h265", "C" },
    { "codecs", 0, 0, G_OPTION_ARG_STRING, &codecs,
        "Codecs every stream is published in at once, comma-separated, the default of each "
        "kind first: vp8, h264, h265; opus, pcmu, pcma (default: --codec and opus). "
        "Subscribers get what videoEncoding/audioEncoding ask for (NONE: that medium not "
        "offered)", "LIST" },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "Port of the SM and every edge (0 = pick)", "P" },
    { "control-port", 0, 0, G_OPTION_ARG_INT, &control_port, "Control API port (0 = pick)", "P" },
    { "hls", 0, 0, G_OPTION_ARG_NONE, &hls,
        "Publish every stream as HLS too (H.264 + AAC, 1 s segments, a rolling playlist), "
        "served by every edge at /APP/STREAM.m3u8 and by the SM at "
        "/streammanager/api/4.0/file/APP/STREAM.m3u8", nullptr },
    { "server-address-with-port", 0, 0, G_OPTION_ARG_NONE, &address_with_port,
        "Lookups answer serverAddress \"<edge address>:<port>\" (control: /sm/server-address)",
        nullptr },
    { "network", 0, 0, G_OPTION_ARG_NONE, &network,
        "Every edge reaches its subscribers' UDP through a network of its own (a relay per "
        "subscriber, after SRTP, both ways): /edge/loss and /edge/network impair it there, "
        "so that a lost packet can be asked for again (the default)", nullptr },
    { "no-network", 0, G_OPTION_FLAG_REVERSE, G_OPTION_ARG_NONE, &network,
        "No relay: the edges' UDP goes straight to the subscribers, /edge/loss drops RTP "
        "before the edge's RTP session (no NACK can bring it back), /edge/network does "
        "nothing", nullptr },
    { "kill-after-s", 0, 0, G_OPTION_ARG_INT, &kill_after,
        "Kill the edge serving the first stream (loudly) after S seconds", "S" },
    { "username", 0, 0, G_OPTION_ARG_STRING, &username, "Edges demand this username", "U" },
    { "password", 0, 0, G_OPTION_ARG_STRING, &password, "... with this password", "P" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token, "Edges demand this token= parameter", "T" },
    { "bearer", 0, 0, G_OPTION_ARG_STRING, &bearer,
        "SM 2.0 API and WHEP demand Authorization: Bearer this", "JWT" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &cert, "Serve HTTPS/WSS with this PEM certificate", "F" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &key, "... and this PEM key", "F" },
    { "tls-ca", 0, 0, G_OPTION_ARG_FILENAME, &ca, "CA the proxies trust to reach the edges", "F" },
    { nullptr }
  };
  GOptionContext *ctx = g_option_context_new ("- a Red5 Pro test cluster on loopback");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  g_option_context_set_description (ctx, CONTROL_HELP);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  GError *err = nullptr;
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);

  c.opt.edges = guint (CLAMP (edges, 1, 250));
  c.opt.flavours = split (flavours);
  c.opt.ice_modes = split (ice_modes);
  for (const auto &m : c.opt.ice_modes) {
    if (!ice_mode_valid (m)) {
      g_printerr ("--edge-ice: unknown mode %s\n", m.c_str ());
      return 2;
    }
    if (m == "relay" && !turn) {
      g_printerr ("--edge-ice relay needs --turn-server\n");
      return 2;
    }
  }
  c.opt.turn_url = turn ? turn : "";
  if (publish)
    c.opt.publish = split (publish);
  if (app)
    c.opt.app = app;
  if (codec)
    c.opt.codec = codec;
  c.opt.video_codecs = { c.opt.codec };
  c.opt.audio_codecs = { "opus" };
  if (codecs) {
    std::vector<std::string> video, audio;
    for (const auto &name : split (codecs)) {
      const Codec *known = codec_find (name);
      if (!known) {
        g_printerr ("--codecs: unknown codec %s\n", name.c_str ());
        return 2;
      }
      (known->video ? video : audio).emplace_back (known->name);
    }
    if (!video.empty ())
      c.opt.video_codecs = video;
    if (!audio.empty ())
      c.opt.audio_codecs = audio;
  }
  if (!codec_find (c.opt.video_codecs.front ())) {
    g_printerr ("--codec: unknown codec %s\n", c.opt.codec.c_str ());
    return 2;
  }
  c.opt.port = guint (port);
  c.opt.control_port = guint (control_port);
  c.opt.kill_after_s = guint (kill_after);
  c.opt.address_with_port = address_with_port;
  c.opt.hls = hls;
  c.opt.network = network;
  if (hls) {
    char *dir = g_dir_make_tmp ("red5pro-test-cluster-hls-XXXXXX", &err);
    if (!dir) {
      g_printerr ("cannot make the HLS directory: %s\n", err->message);
      return 1;
    }
    c.hls_dir = dir;
    g_free (dir);
  }
  c.opt.username = username ? username : "";
  c.opt.password = password ? password : "";
  c.opt.token = token ? token : "";
  c.opt.bearer = bearer ? bearer : "";
  if (cert && key) {
    c.certificate = g_tls_certificate_new_from_files (cert, key, &err);
    if (!c.certificate) {
      g_printerr ("cannot load the TLS certificate: %s\n", err->message);
      return 2;
    }
    c.tls = true;
  }

  c.loop = g_main_loop_new (nullptr, FALSE);
  for (const auto &s : c.opt.publish)
    if (!stream_publish (s))
      return 1;

  /* The SM picks a free port on 127.0.0.1, the edges take the same one on their own
   * addresses (a lookup answer carries only an address). Try again if one is taken. */
  bool up = false;
  for (int attempt = 0; attempt < 10 && !up; attempt++) {
    c.port = c.opt.port;
    if (!stream_manager_start ())
      return 1;
    if (ca) {
      GTlsDatabase *db = g_tls_file_database_new (ca, &err);
      if (!db) {
        g_printerr ("cannot load the CA: %s\n", err->message);
        return 2;
      }
      g_object_set (c.http, "tls-database", db, NULL);
      g_object_unref (db);
    }
    up = true;
    for (guint i = 0; i < c.opt.edges && up; i++) {
      auto e = std::make_unique<Edge> ();
      e->name = "edge" + std::to_string (i + 1);
      e->address = "127.0.0." + std::to_string (i + 2);
      e->flavour = i < c.opt.flavours.size () ? c.opt.flavours[i] : "red5";
      e->ice_mode = i < c.opt.ice_modes.size () ? c.opt.ice_modes[i] : "any";
      e->turn_url = c.opt.turn_url;
      up = edge_start (e.get ());
      c.edges.push_back (std::move (e));
    }
    if (!up) {
      for (auto &e : c.edges)
        g_clear_object (&e->server);
      c.edges.clear ();
      stream_manager_down ();
      g_clear_object (&c.http);
      if (c.opt.port)
        return 1;
    }
  }
  if (!up || !control_start ())
    return 1;
  print_ports ();

  if (c.opt.kill_after_s && !c.opt.publish.empty ()) {
    run_later (c.opt.kill_after_s * 1000, [] {
      Cluster &cl = the_cluster ();
      if (Edge *e = stream_manager_pick (cl.opt.publish[0]))
        edge_kill (e, false);
    });
  }
  g_unix_signal_add (SIGINT, on_signal, nullptr);
  g_unix_signal_add (SIGTERM, on_signal, nullptr);
  g_main_loop_run (c.loop);

  /* orderly shutdown: subscribers, streams, servers */
  std::vector<std::shared_ptr<Peer>> peers;
  for (auto &kv : c.peers)
    peers.push_back (kv.second);
  for (auto &p : peers)
    peer_close (p);
  std::vector<std::string> names;
  for (auto &kv : c.streams)
    names.push_back (kv.first);
  for (auto &n : names)
    stream_unpublish (n);
  /* let the peers close their data channels and the streams stop */
  GMainContext *ctx_main = g_main_context_default ();
  gint64 until = g_get_monotonic_time () + (CHANNEL_CLOSE_WAIT_MS + 300) * 1000;
  while (g_get_monotonic_time () < until && c.closing_peers > 0)
    g_main_context_iteration (ctx_main, FALSE) || (g_usleep (5000), true);
  while (g_get_monotonic_time () < until && g_main_context_iteration (ctx_main, FALSE))
    ;
  for (auto &e : c.edges) {
    for (auto *m : e->held)
      g_object_unref (m);
    if (e->server)
      soup_server_disconnect (e->server);
    g_clear_object (&e->server);
    g_clear_object (&e->blackhole);
  }
  stats_shutdown ();
  stream_manager_down ();
  g_clear_object (&c.control);
  g_clear_object (&c.http);
  g_clear_object (&c.certificate);
  if (!c.hls_dir.empty ()) {
    /* what is left of each publish's directory, then the directory */
    GDir *dir = g_dir_open (c.hls_dir.c_str (), 0, nullptr);
    while (const char *name = dir ? g_dir_read_name (dir) : nullptr)
      remove_dir (c.hls_dir + "/" + name);
    if (dir)
      g_dir_close (dir);
    g_rmdir (c.hls_dir.c_str ());
  }
  g_main_loop_unref (c.loop);
  for (char *opt : { flavours, publish, app, codec, ice_modes, turn, codecs, username, password,
           token, bearer, cert, key, ca })
    g_free (opt);
  return 0;
}
