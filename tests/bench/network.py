#!/usr/bin/env python3
"""The network benchmark (issue 19): what a viewer sees through a lossy, late or thin network,
red5prosrc (decode=true) against the floor (a plain webrtcbin subscriber, tests/python/
webrtcclient.py, decodebin), in the same run. The test cluster runs with --network: the
impairments happen after SRTP, both ways, where a network loses packets (tests/cluster/
network.cpp). Every figure comes from the frame counters read back off the decoded frames:

  shown      distinct counters received / counters published in the window
  freezes    gaps between two shown frames longer than 3 frame intervals or 150 ms: how many,
             the longest, and their total
  g2g        glass to glass: a frame's arrival against the publisher's stamp of it (GET
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
from webrtcclient import Subscriber, read_frame_counter  # noqa: E402  (sets the gi versions)

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
    "cap80": ("bandwidth cap at 80 % of the stream (400 kbit/s VP8 -> 320)", "kbps=320&queue=200"),
}


class Arrivals:
    """(arrival real time us, counter) of every decoded frame with a readable counter."""

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
        "src.video ! videoconvert ! video/x-raw,format=I420 ! fakesink name=v sync=false "
        "async=false src.audio ! fakesink sync=false async=false")
    pipeline.get_by_name("v").get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER,
                                                               arrivals.probe)
    pipeline.set_state(Gst.State.PLAYING)
    return lambda: pipeline.set_state(Gst.State.NULL)


def start_floor(cluster, arrivals):
    sub = Subscriber(ice_tcp=False)
    sub._on_video = arrivals.probe   # the same reading, the floor's own decodebin
    edge = json.loads(cluster.control("/state", method="GET"))["edges"][0]["address"]
    status, _, _ = sub.whep(f"http://{edge}:{cluster.port}/live/whep/endpoint/stream1")
    if status != 201:
        raise RuntimeError(f"floor: WHEP POST answered {status}")
    return sub.stop


def measure(client, query, seconds):
    arrivals = Arrivals()
    with Cluster("--edges", "1", "--network") as cluster:
        stop = (start_element if client == "element" else start_floor)(cluster, arrivals)
        try:
            pump(4)   # joined, steady
            if query:
                cluster.control(f"/edge/network?edge=edge1&reset=true&{query}")
            begin = GLib.get_real_time()
            pump(seconds)
            end = GLib.get_real_time()
            stamps = json.loads(cluster.control("/stamps?stream=stream1", method="GET"))
            net = json.loads(cluster.control("/state", method="GET"))["edges"][0]["network"]
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
          "packets lost down % |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        what, query = SCENARIOS[name]
        for r in range(args.rounds):
            for client in (clients if r % 2 == 0 else list(reversed(clients))):
                m = measure(client, query, args.seconds)
                if m is None:
                    print(f"| {what} | {client} | no frames | | | | | |", flush=True)
                    continue
                print(f"| {what} | {client} | {m['shown']:.1f} | {m['freezes']} | "
                      f"{m['longest']:.2f} | {m['frozen']:.2f} | {m['g2g']:.0f} | "
                      f"{m['lost']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
