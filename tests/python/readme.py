#!/usr/bin/env python3
"""Runs the README's commands that use the element (its "Using the element" and "WebRTC,
else HLS" examples) against the test cluster, and checks what each did: it played, or the
file it wrote plays to its end with both streams; and the test cluster block as written
(the edge it kills is killed). (The two commands on top are run by CI and scripts/demo, the
install commands by scripts/package-check.)

The README's commands name a Stream Manager over TLS and open windows; here they are run
with these substitutions only, printed with each command:
  host=sm.example.com tls=true      -> host=127.0.0.1 port=<the cluster's SM port>
  red5pros://sm.example.com/        -> red5pro://127.0.0.1:<port>/
  autovideosink, autoaudiosink      -> fakesink (no display, no sound card)
  gst-play-1.0                      -> gst-play-1.0 --videosink=fakesink --audiosink=fakesink
  docs/examples/pad-added.py URI    -> docs/examples/pad-added.py URI --headless
Each runs RUN_S seconds, then gets Ctrl-C (gst-launch-1.0 -e finishes its file then).
"""
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstPbutils", "1.0")
from gi.repository import Gst, GstPbutils  # noqa: E402

from testcluster import Cluster  # noqa: E402

ROOT = os.environ["RED5PRO_SOURCE_ROOT"]
RUN_S = 8           # how long each command runs before Ctrl-C (or a kill for players)
ELEMENT_COMMANDS = ("gst-launch-1.0", "gst-play-1.0", "build/docs/examples/", "docs/examples/")


def commands():
    """Every command of a ```sh block that starts with one of ELEMENT_COMMANDS and names
    sm.example.com, continuation lines joined."""
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    out = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith(ELEMENT_COMMANDS) and "sm.example.com" in line:
                out.append(line)
    return out


def substitute(command, port):
    command = command.replace("host=sm.example.com tls=true", f"host=127.0.0.1 port={port}")
    command = command.replace("red5pros://sm.example.com/", f"red5pro://127.0.0.1:{port}/")
    command = re.sub(r"\bauto(video|audio)sink\b", "fakesink", command)
    command = command.replace("gst-play-1.0 ", "gst-play-1.0 --videosink=fakesink "
                              "--audiosink=fakesink ", 1)
    if command.startswith("docs/examples/pad-added.py"):
        command += " --headless"
    return command


def check_file(path):
    """The file plays to its end, about as long as recorded, with video and audio."""
    Gst.init(None)
    assert os.path.exists(path), f"{path} was not written"
    info = GstPbutils.Discoverer.new(20 * Gst.SECOND).discover_uri(Gst.filename_to_uri(path))
    kinds = sorted(s.get_stream_type_nick() for s in info.get_stream_list()
                   if s.get_stream_type_nick() in ("video", "audio"))
    duration = info.get_duration() / Gst.SECOND
    assert kinds == ["audio", "video"], f"{path}: streams {kinds}"
    assert duration > RUN_S / 3, f"{path}: {duration:.1f} s"
    return duration


def run(command, workdir, cluster):
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = env.get("GST_PLUGIN_PATH_1_0", "")
    argv = shlex.split(command)
    if argv[0].startswith(("build/", "docs/")):
        argv[0] = os.path.join(env.get("RED5PRO_BUILD_ROOT", ""), argv[0]) \
            if argv[0].startswith("build/") else os.path.join(ROOT, argv[0])
        if argv[0].startswith("build/"):
            argv[0] = os.path.join(ROOT, argv[0])
    if argv[0].endswith(".py"):
        argv.insert(0, sys.executable)   # the python3 with gi, whatever PATH finds first
    if os.path.basename(argv[0]) == "red5pro-record" and "RED5PRO_EXAMPLE_RECORD" in env:
        argv[0] = env["RED5PRO_EXAMPLE_RECORD"]
    proc = subprocess.Popen(argv, cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    time.sleep(RUN_S - 2)
    subscribed = '"subscribers":[]' not in cluster.control("/state", method="GET").replace(" ", "")
    time.sleep(2)
    proc.send_signal(signal.SIGINT)      # gst-launch-1.0 -e: EOS, the file is finished
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"did not stop on Ctrl-C:\n{out[-3000:]}")
    return proc.returncode, out, subscribed


def cluster_block():
    """The README's test cluster block: the command as written, then the control call with
    $CONTROL set to the control port its first line names."""
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        lines = [l.strip() for l in block.splitlines() if l.strip()]
        if lines and lines[0].startswith("build/tests/cluster/red5pro-test-cluster"):
            return lines
    raise AssertionError("no test cluster block in the README")


def run_cluster_block():
    lines = cluster_block()
    argv = shlex.split(lines[0])
    argv[0] = os.environ["RED5PRO_TEST_CLUSTER"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        import json
        info = json.loads(proc.stdout.readline())
        assert len(info["edges"]) == 2, info
        assert [e["flavour"] for e in info["edges"]] == ["red5", "standard"], info
        env = dict(os.environ, CONTROL=str(info["control_port"]))
        for line in lines[1:]:
            out = subprocess.run(["bash", "-c", line + " --fail --silent --show-error"],
                                 env=env, capture_output=True, text=True, timeout=20)
            assert out.returncode == 0, f"{line}: {out.stderr}"
            print(f"ok   {line}")
        state = subprocess.run(["curl", "--silent", f"http://127.0.0.1:{info['control_port']}/state"],
                               capture_output=True, text=True, timeout=20).stdout
        assert '"name":"edge1","address":"127.0.0.2","flavour":"red5","state":"silent"' in \
            state.replace(" ", ""), state
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main():
    run_cluster_block()
    cmds = commands()
    assert len(cmds) >= 5, f"only {len(cmds)} commands found in the README"
    failed = []
    with Cluster("--edges", "2", "--hls") as cluster:
        time.sleep(3)   # a few HLS segments, for the playback-order example
        for command in cmds:
            actual = substitute(command, cluster.port)
            with tempfile.TemporaryDirectory() as workdir:
                try:
                    code, out, subscribed = run(actual, workdir, cluster)
                    assert subscribed, f"no subscriber on the cluster while it ran:\n{out[-2000:]}"
                    errors = [l for l in out.splitlines() if l.startswith("ERROR")]
                    assert not errors, "\n".join(errors)
                    outputs = re.findall(r"location=(\S+)", actual) + \
                        [a for a in shlex.split(actual) if a.endswith(".mkv") and "=" not in a]
                    for name in dict.fromkeys(outputs):
                        duration = check_file(os.path.join(workdir, name))
                        print(f"    {name}: {duration:.1f} s, video and audio")
                    if "gst-play-1.0" in actual:
                        # it prints the position as it plays
                        assert re.search(r"0:00:0[2-9]\.\d", out), f"no position past 2 s:\n{out[-2000:]}"
                    m = re.search(r"video frames (\d+)", out)
                    if "pad-added.py" in actual:
                        assert m and int(m.group(1)) >= 30, out[-2000:]
                    print(f"ok   {actual}")
                except AssertionError as e:
                    failed.append(command)
                    print(f"FAIL {actual}\n     {e}")
    if failed:
        print(f"{len(failed)} of {len(cmds)} README commands failed")
        sys.exit(1)
    print(f"{len(cmds)} README commands ran")


if __name__ == "__main__":
    main()
