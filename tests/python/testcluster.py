"""testcluster: the bundled Red5 Pro test cluster for the Python tests: started as a child
process (RED5PRO_TEST_CLUSTER names the executable), its ports read off its first line,
its control API called, and stopped by /quit, then by its PID."""
import json
import os
import signal
import subprocess
import urllib.request


class Cluster:
    def __init__(self, *args):
        # RED5PRO_CLUSTER_LOG: a file the cluster's own messages are appended to (debugging)
        log = os.environ.get("RED5PRO_CLUSTER_LOG")
        stderr = open(log, "a") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen([os.environ["RED5PRO_TEST_CLUSTER"], *args],
                                     stdout=subprocess.PIPE, stderr=stderr, text=True)
        if log:
            stderr.close()
        info = json.loads(self.proc.stdout.readline())
        self.port = info["port"]
        self.control_port = info["control_port"]
        self.edges = info["edges"]

    def control(self, path, method="POST"):
        req = urllib.request.Request(f"http://127.0.0.1:{self.control_port}{path}",
                                     method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.read().decode()

    def serving_edge(self):
        """The name of the edge the (last) subscriber is on, or None."""
        state = json.loads(self.control("/state", method="GET"))
        subscribers = state.get("subscribers", [])
        return subscribers[-1]["edge"] if subscribers else None

    def stall(self, seconds):
        """The whole cluster stops for a moment, as a server or network that stalls."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        try:
            subprocess.run(["sleep", str(seconds)], check=True)
        finally:
            os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self):
        try:
            self.control("/quit")
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
