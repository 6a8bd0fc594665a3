/* turn-server: a real TURN server (coturn's turnserver) for tests: a free loopback port, one
 * static user (long-term credentials), its files in a temporary directory and nothing read
 * from /etc; ready when constructed (it answers a STUN binding request over UDP), stopped
 * by its PID. Header-only. The Python twin is tests/python/turnserver.py. */
#pragma once

#include <gio/gio.h>
#include <glib/gstdio.h>

#include <signal.h>

#include <cstring>

#include <string>
#include <vector>

#include "ports.h"

class TurnServer {
public:
  explicit TurnServer (std::string user = "red5", std::string password = "turnpass",
      std::string realm = "red5pro.test")
    : user_ (std::move (user)), password_ (std::move (password)), realm_ (std::move (realm))
  {
    GError *err = nullptr;
    char *dir = g_dir_make_tmp ("turnserver-XXXXXX", &err);
    g_assert_no_error (err);
    dir_ = dir;
    g_free (dir);
    /* another process may take the port between the pick and turnserver's bind */
    for (int attempt = 0; attempt < 5 && !proc_; attempt++) {
      port_ = free_port ();
      guint relay = 50000 + 200 * g_random_int_range (0, 50);
      std::vector<std::string> args { "turnserver", "-n", "--no-cli", "--no-tls", "--no-dtls",
        "--listening-ip=127.0.0.1", "--listening-port=" + std::to_string (port_),
        "--relay-ip=127.0.0.1", "--min-port=" + std::to_string (relay),
        "--max-port=" + std::to_string (relay + 199),
        "--allow-loopback-peers",   /* the peers (edges, subscribers) are on loopback */
        "--lt-cred-mech", "--user=" + user_ + ":" + password_, "--realm=" + realm_,
        "--verbose",   /* allocations and permissions in the log, for tests to read */
        "--log-file=" + log_path (), "--simple-log", "--no-stdout-log",
        "--pidfile=" + dir_ + "/turnserver.pid", "--db=" + dir_ + "/turndb" };
      std::vector<const char *> argv;
      for (const auto &a : args)
        argv.push_back (a.c_str ());
      argv.push_back (nullptr);
      proc_ = g_subprocess_newv (argv.data (),
          GSubprocessFlags (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE),
          &err);
      g_assert_no_error (err);
      gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
      while (g_get_monotonic_time () < deadline && g_subprocess_get_identifier (proc_) &&
          !stun_binding_answered (port_))
        ;
      if (!stun_binding_answered (port_))
        stop_process ();
    }
    g_assert (proc_ && "turnserver did not start (is coturn installed?)");
  }

  ~TurnServer ()
  {
    stop_process ();
    for (const char *f : { "turnserver.log", "turnserver.pid", "turndb" })
      g_remove ((dir_ + "/" + f).c_str ());
    g_rmdir (dir_.c_str ());
  }

  TurnServer (const TurnServer &) = delete;
  TurnServer &operator= (const TurnServer &) = delete;

  guint port () const { return port_; }
  const std::string &user () const { return user_; }
  const std::string &password () const { return password_; }
  /* for webrtcbin's turn-server property and the cluster's --turn-server */
  std::string url () const
  {
    return "turn://" + user_ + ":" + password_ + "@127.0.0.1:" + std::to_string (port_);
  }
  std::string log_path () const { return dir_ + "/turnserver.log"; }
  std::string log () const
  {
    char *text = nullptr;
    std::string out;
    if (g_file_get_contents (log_path ().c_str (), &text, nullptr, nullptr))
      out = text;
    g_free (text);
    return out;
  }

private:
  /* a port free for both UDP and TCP on 127.0.0.1, as far as one can tell */
  static guint free_port ()
  {
    for (;;) {
      guint port, same;
      GSocket *udp = ports::bind_loopback (G_SOCKET_TYPE_DATAGRAM, 0, &port);
      GSocket *tcp = port ? ports::bind_loopback (G_SOCKET_TYPE_STREAM, port, &same) : nullptr;
      g_clear_object (&udp);
      g_clear_object (&tcp);
      if (port && same == port)
        return port;
    }
  }

  /* a STUN binding request (RFC 5389) answered with a success response within 200 ms */
  static bool stun_binding_answered (guint port)
  {
    guint8 request[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };
    for (int i = 8; i < 20; i++)
      request[i] = guint8 (g_random_int_range (0, 256));
    GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
        G_SOCKET_PROTOCOL_UDP, nullptr);
    g_socket_set_timeout (s, 0);
    GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    GSocketAddress *to = g_inet_socket_address_new (lo, guint16 (port));
    bool ok = false;
    if (g_socket_send_to (s, to, reinterpret_cast<const char *> (request), sizeof request,
            nullptr, nullptr) == sizeof request &&
        g_socket_condition_timed_wait (s, G_IO_IN, 200000, nullptr, nullptr)) {
      guint8 reply[2048];
      gssize n = g_socket_receive (s, reinterpret_cast<char *> (reply), sizeof reply, nullptr,
          nullptr);
      ok = n >= 20 && reply[0] == 0x01 && reply[1] == 0x01 &&
          memcmp (reply + 8, request + 8, 12) == 0;
    }
    g_object_unref (to);
    g_object_unref (lo);
    g_object_unref (s);
    return ok;
  }

  void stop_process ()
  {
    if (!proc_)
      return;
    if (g_subprocess_get_identifier (proc_)) {
      g_subprocess_send_signal (proc_, SIGTERM);
      for (int i = 0; i < 200 && g_subprocess_get_identifier (proc_); i++)
        g_usleep (25000);
      if (g_subprocess_get_identifier (proc_))
        g_subprocess_force_exit (proc_);
    }
    g_subprocess_wait (proc_, nullptr, nullptr);
    g_clear_object (&proc_);
  }

  std::string user_, password_, realm_;
  std::string dir_;
  guint port_ = 0;
  GSubprocess *proc_ = nullptr;
};
