/* network: the network between an edge and each of its subscribers, where a real one
 * impairs packets: after SRTP, on the ICE/UDP path, in both directions. Each peer of an edge
 * in "any" ICE mode gets a relay of two loopback UDP sockets: its UDP host candidate is
 * announced on the relay's subscriber side, and the relay passes every datagram (STUN,
 * DTLS, SRTP, SRTCP) on to the other side, through the edge's impairments: random loss,
 * burst loss (Gilbert-Elliott), delay and jitter (reordering when the jitter exceeds the
 * packet spacing), a bandwidth cap with a drop-tail queue. A packet lost here was sent:
 * the edge's RTP session has it, and a NACK can bring it back (RTX). */
#include "cluster.h"

#include <algorithm>
#include <cmath>

namespace cluster {

struct NetPath {
  Edge *edge = nullptr;
  GSocket *subscriber_side = nullptr;   /* the address announced to the subscriber */
  GSocket *edge_side = nullptr;         /* what the edge's webrtcbin sees as the subscriber */
  GSocketAddress *edge_address = nullptr;         /* the edge's own UDP host candidate */
  GSocketAddress *subscriber_address = nullptr;   /* learnt from its packets */
  GSource *reads[2] = { nullptr, nullptr };
  GSource *timer = nullptr;
  struct Direction {
    bool bad = false;              /* Gilbert-Elliott: in a loss burst */
    gint64 link_free_us = 0;       /* the bandwidth cap: when the link can take more */
  } dir[2];                        /* [0] edge -> subscriber (media), [1] back */
  struct Pending {
    bool down;
    GBytes *data;
  };
  std::multimap<gint64, Pending> queue;   /* by departure time (monotonic us) */
};

namespace {

constexpr gsize MAX_DATAGRAM = 65536;

void
count (Edge *e, bool down, bool lost, gsize bytes)
{
  std::lock_guard<std::mutex> guard (e->net_lock);
  NetworkCounters &c = down ? e->net_down : e->net_up;
  if (lost) {
    c.lost++;
  } else {
    c.packets++;
    c.bytes += bytes;
  }
}

/* When a datagram that arrived now leaves the other side, or -1 when it is lost. */
gint64
departure (NetPath &p, bool down, gsize bytes, gint64 now)
{
  NetworkSettings s;
  {
    std::lock_guard<std::mutex> guard (p.edge->net_lock);
    s = p.edge->net;
  }
  NetPath::Direction &d = p.dir[down ? 0 : 1];
  /* burst loss: a two-state chain, every packet of the bad state lost; its mean stay is
   * burst_length packets, and the share of time in it burst_loss */
  if (s.burst_loss > 0 && s.burst_length >= 1) {
    const double to_good = 1.0 / s.burst_length;
    const double to_bad = std::min (1.0, s.burst_loss * to_good / (1.0 - std::min (0.99, s.burst_loss)));
    d.bad = d.bad ? g_random_double () >= to_good : g_random_double () < to_bad;
    if (d.bad)
      return -1;
  } else {
    d.bad = false;
  }
  if (s.loss > 0 && g_random_double () < s.loss)
    return -1;
  gint64 at = now;
  if (s.rate_kbps > 0) {
    /* the link sends one packet after the other at the rate; a packet that would wait in
     * the queue longer than queue_ms is dropped at its tail */
    const gint64 start = MAX (now, d.link_free_us);
    if (start - now > gint64 (s.queue_ms) * 1000)
      return -1;
    d.link_free_us = start + gint64 (bytes) * 8 * 1000 / s.rate_kbps;
    at = d.link_free_us;
  }
  at += gint64 (s.delay_ms) * 1000;
  if (s.jitter_ms > 0)
    at += g_random_int_range (-gint32 (s.jitter_ms) * 1000, gint32 (s.jitter_ms) * 1000 + 1);
  return MAX (at, now);
}

void schedule (NetPath &p);

void
send_now (NetPath &p, bool down, GBytes *data)
{
  GSocket *from = down ? p.subscriber_side : p.edge_side;
  GSocketAddress *to = down ? p.subscriber_address : p.edge_address;
  if (!to)
    return;
  gsize size = 0;
  const gchar *bytes = static_cast<const gchar *> (g_bytes_get_data (data, &size));
  g_socket_send_to (from, to, bytes, size, nullptr, nullptr);
  count (p.edge, down, false, size);
}

gboolean
on_timer (gpointer data)
{
  NetPath &p = *static_cast<NetPath *> (data);
  const gint64 now = g_get_monotonic_time ();
  while (!p.queue.empty () && p.queue.begin ()->first <= now) {
    NetPath::Pending pending = p.queue.begin ()->second;
    p.queue.erase (p.queue.begin ());
    send_now (p, pending.down, pending.data);
    g_bytes_unref (pending.data);
  }
  schedule (p);
  return G_SOURCE_CONTINUE;
}

void
schedule (NetPath &p)
{
  g_source_set_ready_time (p.timer, p.queue.empty () ? -1 : p.queue.begin ()->first);
}

gboolean
on_readable (GSocket *socket, GIOCondition, gpointer data)
{
  NetPath &p = *static_cast<NetPath *> (data);
  const bool down = socket == p.edge_side;   /* from the edge: towards the subscriber */
  gchar buf[MAX_DATAGRAM];
  GSocketAddress *from = nullptr;
  gssize n = g_socket_receive_from (socket, &from, buf, sizeof buf, nullptr, nullptr);
  if (n <= 0) {
    g_clear_object (&from);
    return G_SOURCE_CONTINUE;
  }
  if (!down) {
    /* the subscriber is wherever its packets come from (its ICE checks first) */
    g_clear_object (&p.subscriber_address);
    p.subscriber_address = from;
  } else {
    g_object_unref (from);
  }
  const gint64 now = g_get_monotonic_time ();
  const gint64 at = departure (p, down, gsize (n), now);
  if (at < 0) {
    count (p.edge, down, true, gsize (n));
    return G_SOURCE_CONTINUE;
  }
  GBytes *bytes = g_bytes_new (buf, gsize (n));
  if (at <= now && p.queue.empty ()) {
    send_now (p, down, bytes);
    g_bytes_unref (bytes);
    return G_SOURCE_CONTINUE;
  }
  p.queue.emplace (at, NetPath::Pending { down, bytes });
  schedule (p);
  return G_SOURCE_CONTINUE;
}

GSocket *
bind_udp (const std::string &address)
{
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, nullptr);
  if (!s)
    return nullptr;
  GInetAddress *ia = g_inet_address_new_from_string (address.c_str ());
  GSocketAddress *sa = g_inet_socket_address_new (ia, 0);
  bool ok = g_socket_bind (s, sa, FALSE, nullptr);
  g_object_unref (sa);
  g_object_unref (ia);
  if (!ok)
    g_clear_object (&s);
  else
    g_socket_set_blocking (s, FALSE);
  return s;
}

GSourceFuncs timer_funcs = { nullptr, nullptr,
  [] (GSource *, GSourceFunc cb, gpointer data) -> gboolean { return cb (data); },
  nullptr, nullptr, nullptr };

}   // namespace

std::shared_ptr<NetPath>
net_path_new (Edge *edge)
{
  auto p = std::shared_ptr<NetPath> (new NetPath, net_path_free);
  p->edge = edge;
  p->subscriber_side = bind_udp (edge->address);
  p->edge_side = bind_udp (edge->address);
  if (!p->subscriber_side || !p->edge_side) {
    g_printerr ("edge %s: cannot bind a network relay\n", edge->name.c_str ());
    return nullptr;
  }
  GSocket *sockets[2] = { p->subscriber_side, p->edge_side };
  for (int i = 0; i < 2; i++) {
    p->reads[i] = g_socket_create_source (sockets[i], G_IO_IN, nullptr);
    g_source_set_callback (p->reads[i], G_SOURCE_FUNC (on_readable), p.get (), nullptr);
    g_source_attach (p->reads[i], nullptr);
  }
  p->timer = g_source_new (&timer_funcs, sizeof (GSource));
  g_source_set_callback (p->timer, on_timer, p.get (), nullptr);
  g_source_set_priority (p->timer, G_PRIORITY_HIGH);
  g_source_attach (p->timer, nullptr);
  return p;
}

void
net_path_free (NetPath *p)
{
  for (GSource *&s : p->reads)
    if (s) {
      g_source_destroy (s);
      g_source_unref (s);
    }
  if (p->timer) {
    g_source_destroy (p->timer);
    g_source_unref (p->timer);
  }
  for (auto &q : p->queue)
    g_bytes_unref (q.second.data);
  g_clear_object (&p->subscriber_side);
  g_clear_object (&p->edge_side);
  g_clear_object (&p->edge_address);
  g_clear_object (&p->subscriber_address);
  delete p;
}

guint
net_path_port (const NetPath &p)
{
  GSocketAddress *sa = g_socket_get_local_address (p.subscriber_side, nullptr);
  guint port = sa ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa)) : 0;
  g_clear_object (&sa);
  return port;
}

void
net_path_set_edge (NetPath &p, const std::string &address, guint port)
{
  g_clear_object (&p.edge_address);
  p.edge_address = g_inet_socket_address_new_from_string (address.c_str (), port);
}

bool
network_set (Edge *e, const std::map<std::string, std::string> &args, std::string *why)
{
  NetworkSettings s;
  {
    std::lock_guard<std::mutex> guard (e->net_lock);
    s = args.count ("reset") && args.at ("reset") == "true" ? NetworkSettings () : e->net;
  }
  for (const auto &kv : args) {
    const std::string &k = kv.first;
    if (k == "edge" || k == "reset")
      continue;
    char *end = nullptr;
    const double v = g_ascii_strtod (kv.second.c_str (), &end);
    if (kv.second.empty () || (end && *end) || !std::isfinite (v) || v < 0) {
      *why = k + "= is not a number >= 0";
      return false;
    }
    if (k == "loss" || k == "burst-loss") {
      if (v > 100) {
        *why = k + "= is a percentage";
        return false;
      }
      (k == "loss" ? s.loss : s.burst_loss) = v / 100;
    } else if (k == "burst") {
      s.burst_length = v;
    } else if (k == "delay") {
      s.delay_ms = guint (MIN (v, 10000.0));
    } else if (k == "jitter") {
      s.jitter_ms = guint (MIN (v, 10000.0));
    } else if (k == "kbps") {
      s.rate_kbps = guint (MIN (v, 10000000.0));
    } else if (k == "queue") {
      s.queue_ms = guint (MIN (v, 10000.0));
    } else {
      *why = "unknown parameter " + k + "= (loss, burst-loss, burst, delay, jitter, kbps, queue, reset)";
      return false;
    }
  }
  if (s.burst_loss > 0 && s.burst_length < 1) {
    *why = "burst-loss= needs burst= (mean burst length in packets, >= 1)";
    return false;
  }
  std::lock_guard<std::mutex> guard (e->net_lock);
  e->net = s;
  return true;
}

void
add_network_json (JsonBuilder *b, Edge &e)
{
  NetworkSettings s;
  NetworkCounters down, up;
  {
    std::lock_guard<std::mutex> guard (e.net_lock);
    s = e.net;
    down = e.net_down;
    up = e.net_up;
  }
  json_builder_set_member_name (b, "network");
  json_builder_begin_object (b);
  auto num = [b] (const char *name, double v) {
    json_builder_set_member_name (b, name);
    json_builder_add_double_value (b, v);
  };
  num ("loss", s.loss * 100);
  num ("burst-loss", s.burst_loss * 100);
  num ("burst", s.burst_length);
  num ("delay", s.delay_ms);
  num ("jitter", s.jitter_ms);
  num ("kbps", s.rate_kbps);
  num ("queue", s.queue_ms);
  for (auto d : { std::make_pair ("down", down), std::make_pair ("up", up) }) {
    json_builder_set_member_name (b, d.first);
    json_builder_begin_object (b);
    num ("packets", double (d.second.packets));
    num ("bytes", double (d.second.bytes));
    num ("lost", double (d.second.lost));
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
}

}   // namespace cluster
