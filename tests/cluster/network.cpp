/* network: the network between an edge and each of its subscribers, where a real one
 * impairs packets: after SRTP, on the ICE/UDP path, in both directions. Each peer of an edge
 * in "any" ICE mode gets a relay of two loopback UDP sockets: its UDP host candidate is
 * announced on the relay's subscriber side, and the relay passes every datagram (STUN,
 * DTLS, SRTP, SRTCP) on to the other side, through the edge's impairments: random loss,
 * burst loss (Gilbert-Elliott), delay and jitter (reordering when the jitter exceeds the
 * packet spacing), a bandwidth cap with a drop-tail queue. A packet lost here was sent:
 * the edge's RTP session has it, and a NACK can bring it back (RTX). Like a NAT, the relay
 * gives every address the subscriber sends from (its host candidate, each TURN allocation)
 * a socket of its own towards the edge: the edge sees each as a candidate of its own, and
 * its answers go back to the address they belong to. */
#include "cluster.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

namespace cluster {

struct NetPath {
  Edge *edge = nullptr;
  GSocket *subscriber_side = nullptr;   /* the address announced to the subscriber */
  GSource *subscriber_read = nullptr;
  GSocketAddress *edge_address = nullptr;         /* the edge's own UDP host candidate */
  /* one per address the subscriber sends from, learnt from its packets */
  struct Flow {
    NetPath *path = nullptr;
    GSocketAddress *subscriber = nullptr;
    GSocket *edge_side = nullptr;       /* what the edge's webrtcbin sees as the subscriber */
    GSource *read = nullptr;
  };
  std::vector<std::unique_ptr<Flow>> flows;
  GSource *timer = nullptr;
  struct Direction {
    bool bad = false;              /* Gilbert-Elliott: in a loss burst */
    gint64 link_free_us = 0;       /* the bandwidth cap: when the link can take more */
  } dir[2];                        /* [0] edge -> subscriber (media), [1] back */
  struct Pending {
    bool down;
    Flow *flow;
    GBytes *data;
  };
  std::multimap<gint64, Pending> queue;   /* by departure time (monotonic us) */
};

namespace {

constexpr gsize MAX_DATAGRAM = 65536;
/* addresses one subscriber may send from (candidates, allocations); more are dropped */
constexpr gsize MAX_FLOWS = 16;

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
send_now (NetPath &p, bool down, NetPath::Flow *flow, GBytes *data)
{
  GSocket *from = down ? p.subscriber_side : flow->edge_side;
  GSocketAddress *to = down ? flow->subscriber : p.edge_address;
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
    send_now (p, pending.down, pending.flow, pending.data);
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

bool
same_address (GSocketAddress *a, GSocketAddress *b)
{
  auto *ia = G_INET_SOCKET_ADDRESS (a), *ib = G_INET_SOCKET_ADDRESS (b);
  return g_inet_socket_address_get_port (ia) == g_inet_socket_address_get_port (ib) &&
      g_inet_address_equal (g_inet_socket_address_get_address (ia),
          g_inet_socket_address_get_address (ib));
}

GSocket *bind_udp (const std::string &address);
gboolean on_flow_readable (GSocket *socket, GIOCondition, gpointer data);

/* The flow of a subscriber address, made on its first packet; nullptr past MAX_FLOWS. */
NetPath::Flow *
flow_of (NetPath &p, GSocketAddress *from)
{
  for (auto &f : p.flows)
    if (same_address (f->subscriber, from))
      return f.get ();
  if (p.flows.size () >= MAX_FLOWS)
    return nullptr;
  auto f = std::make_unique<NetPath::Flow> ();
  f->path = &p;
  f->edge_side = bind_udp (p.edge->address);
  if (!f->edge_side)
    return nullptr;
  f->subscriber = G_SOCKET_ADDRESS (g_object_ref (from));
  f->read = g_socket_create_source (f->edge_side, G_IO_IN, nullptr);
  g_source_set_callback (f->read, G_SOURCE_FUNC (on_flow_readable), f.get (), nullptr);
  g_source_attach (f->read, nullptr);
  p.flows.push_back (std::move (f));
  return p.flows.back ().get ();
}

/* A datagram in from one side, on its way through the network to the other. */
void
pass (NetPath &p, bool down, NetPath::Flow *flow, const gchar *buf, gsize n)
{
  const gint64 now = g_get_monotonic_time ();
  const gint64 at = departure (p, down, n, now);
  if (at < 0) {
    count (p.edge, down, true, n);
    return;
  }
  GBytes *bytes = g_bytes_new (buf, n);
  if (at <= now && p.queue.empty ()) {
    send_now (p, down, flow, bytes);
    g_bytes_unref (bytes);
    return;
  }
  p.queue.emplace (at, NetPath::Pending { down, flow, bytes });
  schedule (p);
}

/* from the subscriber, towards the edge */
gboolean
on_readable (GSocket *socket, GIOCondition, gpointer data)
{
  NetPath &p = *static_cast<NetPath *> (data);
  gchar buf[MAX_DATAGRAM];
  GSocketAddress *from = nullptr;
  gssize n = g_socket_receive_from (socket, &from, buf, sizeof buf, nullptr, nullptr);
  NetPath::Flow *flow = n > 0 && from ? flow_of (p, from) : nullptr;
  g_clear_object (&from);
  if (flow)
    pass (p, false, flow, buf, gsize (n));
  return G_SOURCE_CONTINUE;
}

/* from the edge, towards the subscriber address of this flow */
gboolean
on_flow_readable (GSocket *socket, GIOCondition, gpointer data)
{
  auto *flow = static_cast<NetPath::Flow *> (data);
  gchar buf[MAX_DATAGRAM];
  gssize n = g_socket_receive (socket, buf, sizeof buf, nullptr, nullptr);
  if (n > 0)
    pass (*flow->path, true, flow, buf, gsize (n));
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
  if (!p->subscriber_side) {
    g_printerr ("edge %s: cannot bind a network relay\n", edge->name.c_str ());
    return nullptr;
  }
  p->subscriber_read = g_socket_create_source (p->subscriber_side, G_IO_IN, nullptr);
  g_source_set_callback (p->subscriber_read, G_SOURCE_FUNC (on_readable), p.get (), nullptr);
  g_source_attach (p->subscriber_read, nullptr);
  p->timer = g_source_new (&timer_funcs, sizeof (GSource));
  g_source_set_callback (p->timer, on_timer, p.get (), nullptr);
  g_source_set_priority (p->timer, G_PRIORITY_HIGH);
  g_source_attach (p->timer, nullptr);
  return p;
}

void
net_path_free (NetPath *p)
{
  auto drop = [] (GSource *&s) {
    if (s) {
      g_source_destroy (s);
      g_source_unref (s);
      s = nullptr;
    }
  };
  drop (p->subscriber_read);
  for (auto &f : p->flows) {
    drop (f->read);
    g_clear_object (&f->edge_side);
    g_clear_object (&f->subscriber);
  }
  if (p->timer) {
    g_source_destroy (p->timer);
    g_source_unref (p->timer);
  }
  for (auto &q : p->queue)
    g_bytes_unref (q.second.data);
  g_clear_object (&p->subscriber_side);
  g_clear_object (&p->edge_address);
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
