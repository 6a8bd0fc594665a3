#!/usr/bin/env python3
"""The Python (gi) example, docs/examples/pad-added.py, run as a user runs it against the
test cluster: decodebin plugged from pad-added receives nearly every published frame, and
keeps receiving across an edge kill."""
import os
import re
import subprocess
import sys
import threading
import time

from testcluster import Cluster

EXAMPLE = os.path.join(os.environ["RED5PRO_SOURCE_ROOT"], "docs", "examples", "pad-added.py")
SECONDS = 12
FPS = 30   # the cluster publishes 30 frames per second


def run_example(cluster, kill_after=None, stream="stream1", extra=()):
    uri = (f"red5pro://127.0.0.1:{cluster.port}/live/{stream}"
           "?stream-manager=sm2&ice-addresses=127.0.0.1&retry-timeout=500")
    if kill_after:
        def kill():
            time.sleep(kill_after)
            edge = cluster.serving_edge()
            if edge:
                cluster.control(f"/edge/kill?edge={edge}&mode=loud")
        threading.Thread(target=kill, daemon=True).start()
    out = subprocess.run([sys.executable, EXAMPLE, uri, "--headless", "--seconds", str(SECONDS),
                          *extra],
                         capture_output=True, text=True, timeout=SECONDS + 30)
    print(out.stdout)
    print(out.stderr, file=sys.stderr)
    assert out.returncode == 0, f"the example failed ({out.returncode})"
    m = re.search(r"video frames (\d+) audio buffers (\d+) first frame after ([\d.]+) s",
                  out.stdout)
    assert m, "no summary line"
    return int(m.group(1)), int(m.group(2)), float(m.group(3)), out.stdout


def main():
    with Cluster("--edges", "2") as cluster:
        frames, audio, first, _ = run_example(cluster)
        published = FPS * (SECONDS - first)
        print(f"{frames} frames of about {published:.0f} published after the first, "
              f"{audio} audio buffers")
        assert frames >= 0.9 * published, f"only {frames} of about {published:.0f} frames"
        assert audio > 0

    with Cluster("--edges", "2") as cluster:
        frames, audio, first, text = run_example(cluster, kill_after=5)
        assert text.count("event Subscribe.Start") >= 2, "no second subscription"
        assert "event Subscribe.Connection.Closed" in text or "event Subscribe.Fail" in text
        # frames keep coming after the failover: at least the gap is all that is missing
        assert frames >= 0.5 * FPS * (SECONDS - first), f"only {frames} frames"

    # the README's action signals: send, and switch-stream from stream1_1 (640 wide) to
    # stream1_3 (320) on the same connection
    with Cluster("--edges", "1") as cluster:
        cluster.control("/publish-abr?stream=stream1")
        frames, audio, first, text = run_example(
            cluster, stream="stream1_1",
            extra=("--send", "hello", '{"from":"python"}', "--switch-to", "stream1_3"))
        assert "send hello: sent" in text, "send refused"
        assert "event WebRTC.Subscribe.StreamSwitch path=live/stream1_3" in text, "no switch"
        assert "video width 640" in text and "video width 320" in text, "the size did not change"
        assert text.count("event Subscribe.Start") == 1, "a new subscription"
    print("ok")


if __name__ == "__main__":
    main()
