#!/usr/bin/env python3
"""The network benchmark (issue 19): what a viewer sees through a lossy, late or thin network,
red5prosrc (decode=true) against the floor (a plain webrtcbin subscriber, tests/python/
webrtcclient.py, decodebin), in the same run. The test cluster runs with --network: the
impairments happen after SRTP, both ways, where a network loses packets (tests/cluster/
network.cpp). Both clients' video goes into a synchronised fakesink, and every frame is
read when the sink renders it (its handoff), at its time, as a player would show it: a frame
held back by a retransmission within the latency is shown on time. Every figure comes from
the frame counters read back off the rendered frames:

  shown      distinct counters rendered / counters published in the window
  freezes    gaps between two rendered frames longer than 3 frame intervals or 150 ms: how
             many, the longest, and their total
  g2g        glass to glass: a frame's rendering against the publisher's stamp of it (GET
             /stamps), median

    network.py [--seconds S] [--rounds N] [--clients element,floor] [SCENARIO...]

SCENARIO names one of SCENARIOS below (default: all). Prints one markdown table."""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.environ["RED5PRO_SOURCE_ROOT"], "tests", "python"))

from testcluster import Cluster  # noqa: E402
from webrtcclient import Rendered, Subscriber, read_frame_counter  # noqa: E402  (gi versions)

from gi.repository import GLib, Gst, GstVideo  # noqa: E402

FRAME_S = 1 / 30
FREEZE_S = max(3 * FRAME_S, 0.150)

# name -> (what it is, /edge/network query)
SCENARIOS = {
    "clean": ("no impairment", ""),
    "loss2-rtt40-jitter10": ("2 % random loss, 40 ms RTT, 10 ms jitter",
                             "loss=2&delay=20&jitter=10"),
    "loss10-rtt40": ("10 % random loss, 40 ms RTT", "loss=10&delay=20"),
    "burst5": ("burst loss 5 %, mean burst 4 packets", "burst-loss=5&burst=4"),
    # the cap: 80 % of what the stream carried to this client in the 4 s before (measured)
    "cap80": ("bandwidth cap at 80 % of the stream's measured bitrate", "cap=0.8&queue=200"),
}


class Arrivals:
    """(real time us when rendered, counter) of every frame with a readable counter."""

    def __init__(self):
        self.frames = []

    def probe(self, pad, info):
        vinfo = GstVideo.VideoInfo.new_from_caps(pad.get_current_caps())
        buf = info.get_buffer()
        ok, mapinfo = buf.map(Gst.MapFlags.READ)
        if ok:
            counter = read_frame_counter(mapinfo.data, vinfo.stride[0]) if vinfo.width >= 320 \
                else None
            buf.unmap(mapinfo)
            if counter is not None:
                self.frames.append((GLib.get_real_time(), counter))
        return Gst.PadProbeReturn.OK


def pump(seconds):
    ctx = GLib.MainContext.default()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not ctx.iteration(False):
            time.sleep(0.005)


def start_element(cluster, arrivals):
    pipeline = Gst.parse_launch(
        f"red5prosrc name=src host=127.0.0.1 port={cluster.port} stream-manager=sm2 "
        "stream-name=stream1 decode=true ice-addresses=127.0.0.1 "
        "src.video ! videoconvert ! video/x-raw,format=I420 ! fakesink name=v sync=true "
        "signal-handoffs=true async=false src.audio ! fakesink sync=true async=false")
    pipeline.get_by_name("v").connect("handoff", lambda _sink, buf, pad: arrivals.probe(
        pad, Rendered(buf)))
    pipeline.set_state(Gst.State.PLAYING)

    def stats():
        st = pipeline.get_by_name("src").get_property("stats")
        get = (lambda f: st.get_value(f) if st.has_field(f) else 0)
        return (f"{get('retransmissions-requested')}/{get('retransmissions-received')}, "
                f"{get('keyframes-requested')}")
    return (lambda: pipeline.set_state(Gst.State.NULL)), stats


def start_floor(cluster, arrivals):
    sub = Subscriber(ice_tcp=False)
    sub.render_sync = True
    sub._on_video = arrivals.probe   # the same reading, the floor's own decodebin
    edge = json.loads(cluster.control("/state", method="GET"))["edges"][0]["address"]
    status, _, _ = sub.whep(f"http://{edge}:{cluster.port}/live/whep/endpoint/stream1")
    if status != 201:
        raise RuntimeError(f"floor: WHEP POST answered {status}")
    return sub.stop, (lambda: "")


def down_bytes(cluster):
    """Bytes edge1 sent its subscribers so far (media, RTCP, retransmissions)."""
    return json.loads(cluster.control("/state", method="GET"))["edges"][0]["network"]["down"][
        "bytes"]


def measure(client, query, seconds):
    arrivals = Arrivals()
    with Cluster("--edges", "1", "--network") as cluster:
        stop, client_stats = (start_element if client == "element" else start_floor)(
            cluster, arrivals)
        try:
            pump(1)   # joined
            before = down_bytes(cluster)
            pump(3)   # steady
            rate_kbps = (down_bytes(cluster) - before) * 8 / 3 / 1000
            if "cap=" in query:
                share = float(query.split("cap=")[1].split("&")[0])
                query = query.replace(f"cap={query.split('cap=')[1].split('&')[0]}",
                                      f"kbps={int(rate_kbps * share)}")
            if query:
                cluster.control(f"/edge/network?edge=edge1&reset=true&{query}")
            begin = GLib.get_real_time()
            pump(seconds)
            end = GLib.get_real_time()
            stamps = json.loads(cluster.control("/stamps?stream=stream1", method="GET"))
            net = json.loads(cluster.control("/state", method="GET"))["edges"][0]["network"]
            repairs = client_stats()
        finally:
            stop()
    window = [(t, c) for t, c in arrivals.frames if begin <= t <= end]
    stamped = {c: t for c, t in stamps}
    # the frames published in the window, less its last second (still on their way at its
    # end), against every frame that arrived, whenever
    published = [c for c, t in stamps if begin <= t <= end - 1_000_000]
    if not window or not published:
        return None
    seen = {c for _, c in arrivals.frames}
    wanted = set(range(min(published), max(published) + 1))
    gaps = [(b[0] - a[0]) / 1e6 for a, b in zip(window, window[1:])]
    freezes = [g for g in gaps if g > FREEZE_S]
    g2g = [(t - stamped[c]) / 1000 for t, c in window if c in stamped]
    lost = net["down"]["lost"] / max(1, net["down"]["lost"] + net["down"]["packets"])
    return {
        "shown": 100 * len(seen & wanted) / len(wanted),
        "freezes": len(freezes),
        "longest": max(freezes) if freezes else 0,
        "frozen": sum(freezes),
        "g2g": statistics.median(g2g) if g2g else float("nan"),
        "lost": 100 * lost,
        "kbps": rate_kbps,
        "query": query,
        "repairs": repairs,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--clients", default="element,floor")
    ap.add_argument("scenarios", nargs="*")
    args = ap.parse_args()
    Gst.init(None)
    names = args.scenarios or list(SCENARIOS)
    clients = args.clients.split(",")
    print(f"{args.seconds:.0f} s windows, {args.rounds} round(s), clients interleaved\n")
    print("| scenario | client | shown % | freezes | longest s | frozen s | g2g ms | "
          "packets lost down % | stream kbit/s | NACKed/back, PLIs (element's stats) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        what, query = SCENARIOS[name]
        for r in range(args.rounds):
            for client in (clients if r % 2 == 0 else list(reversed(clients))):
                m = measure(client, query, args.seconds)
                if m is None:
                    print(f"| {what} | {client} | no frames | | | | | | | |", flush=True)
                    continue
                cap = f" ({m['query']})" if "kbps=" in m["query"] else ""
                print(f"| {what}{cap} | {client} | {m['shown']:.1f} | {m['freezes']} | "
                      f"{m['longest']:.2f} | {m['frozen']:.2f} | {m['g2g']:.0f} | "
                      f"{m['lost']:.1f} | {m['kbps']:.0f} | {m['repairs']} |", flush=True)


if __name__ == "__main__":
    main()
