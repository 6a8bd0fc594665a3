#!/usr/bin/env python3
"""Runs every recipe of docs/recipes.md exactly as written, against the test cluster
(publishing H.264 and Opus), across a loud edge kill, on a loaded machine whose publisher
stalls now and then (the way a busy recording host behaves), then checks what each one wrote:
it plays to its end, it holds the streams it should, it is about as long as the recording, and
its timestamps only go forward.

    recipes.py [NAME...]      (default: every recipe)
"""
import glob
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstPbutils", "1.0")
from gi.repository import Gst, GstPbutils  # noqa: E402

from testcluster import Cluster  # noqa: E402

DOC = os.path.join(os.environ["RED5PRO_SOURCE_ROOT"], "docs", "recipes.md")
RECORD_S = 24      # how long each recipe records before Ctrl-C
KILL_AT_S = 8      # when the serving edge dies
HOGS = 2 * (os.cpu_count() or 2)   # busy processes: the load goes well past the cores
STALLS_S = [0.4, 0.9, 0.3, 1.2]    # the publisher stops this long, now and then


def recipes():
    text = open(DOC, encoding="utf-8").read()
    pattern = re.compile(r"<!-- recipe: (\S+) check=(\S+) output=(\S+) -->\s*```sh\n(.*?)```", re.S)
    return [dict(name=m[1], check=m[2], output=m[3], command=m[4]) for m in pattern.finditer(text)]


def load_machine():
    return [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(HOGS)]


def disturb(cluster, done):
    """Stalls of the publisher, and a loud kill of the serving edge at KILL_AT_S."""
    start = time.monotonic()
    killed = False
    stalls = list(STALLS_S)
    while not done.is_set():
        t = time.monotonic() - start
        if not killed and t >= KILL_AT_S:
            edge = cluster.serving_edge()
            if edge:
                cluster.control(f"/edge/kill?edge={edge}&mode=loud")
                print(f"  {t:.1f} s: killed {edge}", flush=True)
                killed = True
        elif stalls and t >= 3 + 4 * (len(STALLS_S) - len(stalls)) and abs(t - KILL_AT_S) > 1:
            cluster.stall(stalls.pop(0))
        done.wait(0.2)


def run_recipe(recipe, cluster, workdir):
    env = dict(os.environ, RED5PRO=(
        f"host=127.0.0.1 port={cluster.port} stream-manager=sm2 stream-name=stream1 "
        "ice-addresses=127.0.0.1 retry-timeout=500"))
    log = open(os.path.join(workdir, "launch.log"), "w")
    # as a user types it, in bash; Ctrl-C (SIGINT to the process group) ends it
    proc = subprocess.Popen(["bash", "-c", recipe["command"]], cwd=workdir, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    done = threading.Event()
    hogs = load_machine()
    disturber = threading.Thread(target=disturb, args=(cluster, done))
    disturber.start()
    try:
        time.sleep(RECORD_S)
        os.killpg(proc.pid, signal.SIGINT)
        status = proc.wait(timeout=60)
    finally:
        done.set()
        disturber.join()
        for h in hogs:
            h.kill()
            h.wait()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    text = open(os.path.join(workdir, "launch.log")).read()
    assert status == 0, f"gst-launch-1.0 ended with {status}:\n{text[-3000:]}"
    assert "ERROR" not in text, text[-3000:]
    return text


def timestamps(path):
    """Per demuxed stream: the buffers' PTS (and DTS), in order, read by parsebin."""
    pipeline = Gst.parse_launch(f"filesrc location={path} ! parsebin name=p")
    streams = {}

    def on_pad(parsebin, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        kind = caps.get_structure(0).get_name().split("/")[0]
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        sink.set_property("async", False)
        pipeline.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))
        times = streams.setdefault(kind, [])

        def probe(_pad, info):
            buf = info.get_buffer()
            times.append((buf.pts, buf.dts))
            return Gst.PadProbeReturn.OK
        sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, probe)

    pipeline.get_by_name("p").connect("pad-added", on_pad)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(60 * Gst.SECOND,
                                                Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    assert msg is not None, f"{path}: not read to its end in 60 s"
    assert msg.type == Gst.MessageType.EOS, f"{path}: {msg.parse_error()[0].message}"
    return streams


def check_forward(path, streams, kinds, least=10):
    assert sorted(streams) == sorted(kinds), f"{path}: streams {sorted(streams)}, want {kinds}"
    for kind, times in streams.items():
        assert len(times) >= least, f"{path}: {len(times)} {kind} buffers"
        last = None
        for pts, dts in times:
            assert pts != Gst.CLOCK_TIME_NONE, f"{path}: a {kind} buffer without PTS"
            t = dts if dts != Gst.CLOCK_TIME_NONE else pts
            if last is not None:
                # video strictly forward (no frame shares a time), audio never back
                assert t > last if kind == "video" else t >= last, \
                    f"{path}: {kind} time {t} after {last}"
            last = t


def duration(path):
    info = GstPbutils.Discoverer.new(20 * Gst.SECOND).discover_uri(Gst.filename_to_uri(path))
    return info.get_duration() / Gst.SECOND


def check(recipe, workdir):
    kinds = ["video"] if recipe["check"] == "file-video" else ["audio", "video"]
    if recipe["check"] in ("file", "file-video"):
        path = os.path.join(workdir, recipe["output"])
        check_forward(path, timestamps(path), kinds)
        length = duration(path)
    elif recipe["check"] == "split":
        files = sorted(glob.glob(os.path.join(workdir, recipe["output"])))
        assert len(files) >= 2, f"{len(files)} files"
        length = 0
        for path in files:
            check_forward(path, timestamps(path), kinds)
            length += duration(path)
    elif recipe["check"] == "hls":
        playlist = open(os.path.join(workdir, recipe["output"])).read()
        segments = [line for line in playlist.splitlines() if line and not line.startswith("#")]
        assert len(segments) >= 4, f"{len(segments)} segments:\n{playlist}"
        assert "#EXT-X-ENDLIST" in playlist, "the playlist was not finished"
        length = 0
        for seg in segments:
            path = os.path.join(workdir, seg)
            # the segment cut short by the failover may hold a frame or two
            check_forward(path, timestamps(path), kinds, least=1)
            length += duration(path)
    else:
        raise AssertionError(f"unknown check {recipe['check']}")
    print(f"  {length:.1f} s of media in {RECORD_S} s", flush=True)
    # the whole recording, less the start (about a second) and the failover's gap
    assert length >= RECORD_S - 8, f"only {length:.1f} s recorded in {RECORD_S} s"


def main():
    Gst.init(None)
    wanted = sys.argv[1:]
    failed = []
    for recipe in recipes():
        if wanted and recipe["name"] not in wanted:
            continue
        print(f"recipe {recipe['name']}", flush=True)
        with tempfile.TemporaryDirectory(prefix="red5pro-recipe-") as workdir, \
                Cluster("--edges", "2", "--codec", "h264") as cluster:
            try:
                run_recipe(recipe, cluster, workdir)
                check(recipe, workdir)
                print("  ok", flush=True)
            except AssertionError as e:
                print(f"  FAILED: {e}", flush=True)
                failed.append(recipe["name"])
                if os.environ.get("RED5PRO_KEEP_FAILED"):   # for a look at what it wrote
                    kept = tempfile.mkdtemp(prefix=f"red5pro-recipe-{recipe['name']}-")
                    subprocess.run(["cp", "-a", workdir + "/.", kept], check=False)
                    print(f"  kept in {kept}", flush=True)
    assert not failed, f"failed: {failed}"
    print("ok")


if __name__ == "__main__":
    main()
