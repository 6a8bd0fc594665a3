"""turnserver: a real TURN server (coturn's turnserver) for tests, on a free loopback port with
one static user (long-term credentials), its files in a temporary directory and nothing
read from /etc. Started ready (it answers a STUN binding request over UDP) and stopped by
its PID. The C++ twin is tests/common/turn-server.h.

    with TurnServer() as turn:
        turn.url   # turn://red5:turnpass@127.0.0.1:<port>
"""
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

BINARY = "turnserver"   # Debian package coturn


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 (as far as one can tell)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port


def stun_binding_answered(port, timeout=0.2):
    """True when a STUN binding request to 127.0.0.1:port gets a success response."""
    txid = os.urandom(12)
    request = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + txid
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(request, ("127.0.0.1", port))
            data, _ = s.recvfrom(2048)
        except OSError:
            return False
    return len(data) >= 20 and struct.unpack("!H", data[:2])[0] == 0x0101 and data[8:20] == txid


class TurnServer:
    def __init__(self, user="red5", password="turnpass", realm="red5pro.test", start_timeout=10):
        self.user, self.password, self.realm = user, password, realm
        self.dir = tempfile.mkdtemp(prefix="turnserver-")
        self.proc = None
        for _ in range(5):   # another process may take the port between the pick and the bind
            self.port = free_port()
            relay = random.randrange(50000, 60000, 200)
            self.proc = subprocess.Popen([
                BINARY, "-n", "--no-cli", "--no-tls", "--no-dtls",
                "--listening-ip=127.0.0.1", f"--listening-port={self.port}",
                "--relay-ip=127.0.0.1", f"--min-port={relay}", f"--max-port={relay + 199}",
                "--allow-loopback-peers",   # the peers (edges, subscribers) are on loopback
                "--lt-cred-mech", f"--user={user}:{password}", f"--realm={realm}",
                "--verbose",   # allocations and permissions in the log, for tests to read
                f"--log-file={self.log_path}", "--simple-log", "--no-stdout-log",
                f"--pidfile={os.path.join(self.dir, 'turnserver.pid')}",
                f"--db={os.path.join(self.dir, 'turndb')}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + start_timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                if stun_binding_answered(self.port):
                    return
            self.stop(remove=False)
        log = self.log()
        shutil.rmtree(self.dir, ignore_errors=True)
        raise RuntimeError(f"turnserver did not start; its log: {log[-2000:]}")

    @property
    def log_path(self):
        return os.path.join(self.dir, "turnserver.log")

    @property
    def url(self):
        """For webrtcbin's turn-server property and the cluster's --turn-server."""
        return f"turn://{self.user}:{self.password}@127.0.0.1:{self.port}"

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, remove=True):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
