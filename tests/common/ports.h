/* ports: loopback ports for tests: one nothing listens on, or one a server may take. */
#pragma once

#include <gio/gio.h>

namespace ports {

/* A socket of that type bound to 127.0.0.1:port (0: one the system picks); *bound_port is
 * the port it got, 0 when the bind failed. The caller unrefs the socket (which closes it). */
inline GSocket *
bind_loopback (GSocketType type, guint port, guint *bound_port)
{
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, type,
      type == G_SOCKET_TYPE_DATAGRAM ? G_SOCKET_PROTOCOL_UDP : G_SOCKET_PROTOCOL_TCP, nullptr);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, guint16 (port));
  *bound_port = 0;
  if (s && g_socket_bind (s, addr, FALSE, nullptr)) {
    GSocketAddress *bound = g_socket_get_local_address (s, nullptr);
    if (bound)
      *bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    g_clear_object (&bound);
  }
  g_object_unref (addr);
  g_object_unref (lo);
  return s;
}

/* A port of that type on 127.0.0.1 nothing listens on (bound, then closed at once). */
inline guint
dead_port (GSocketType type = G_SOCKET_TYPE_STREAM)
{
  guint port;
  GSocket *s = bind_loopback (type, 0, &port);
  g_clear_object (&s);
  return port;
}

}  // namespace ports
