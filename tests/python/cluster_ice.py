#!/usr/bin/env python3
"""The test cluster's ICE modes, per edge: any (UDP and TCP host candidates), tcp (ICE-TCP
only) and relay (only relay candidates from a real TURN server, coturn), checked with a
plain webrtcbin subscriber over WHEP and WebSocket: what the edge offers, and that media
then flows."""
import json
import unittest
from urllib.parse import quote

from testcluster import Cluster
from turnserver import TurnServer
from webrtcclient import Subscriber, candidates, http_request


def transports(cands):
    """(transport, type) of each candidate line: ('UDP', 'host'), ('TCP', 'host')..."""
    out = []
    for c in cands:
        fields = c.split()
        out.append((fields[2].upper(), fields[fields.index("typ") + 1]))
    return out


class IceModes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.turn = TurnServer()
        cls.cluster = Cluster("--edges", "3", "--edge-ice", "any,tcp,relay",
                              "--turn-server", cls.turn.url)
        cls.port = cls.cluster.port

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()
        cls.turn.stop()

    def setUp(self):
        self.subs = []

    def tearDown(self):
        for s in self.subs:
            s.stop()

    def subscribe_whep(self, edge):
        s = Subscriber()
        self.subs.append(s)
        status, headers, offer = s.whep(
            f"http://{edge}:{self.port}/live/whep/endpoint/stream1?requestId=ice")
        self.assertEqual(status, 201)
        return s, headers, offer

    def subscribe_websocket(self, edge):
        s = Subscriber()
        self.subs.append(s)
        s.websocket(f"ws://{edge}:{self.port}/live/?id=subscriber-ice", "stream1")
        return s

    def ws_candidates(self, s):
        return [m["data"]["candidate"]["candidate"] for m in s.socket_messages
                if isinstance(m.get("data"), dict) and isinstance(m["data"].get("candidate"), dict)
                and m["data"]["candidate"].get("candidate")]

    def test_an_edge_in_any_mode_offers_udp_and_tcp_host_candidates(self):
        s, headers, offer = self.subscribe_whep("127.0.0.2")
        kinds = set(transports(candidates(offer)))
        self.assertEqual(kinds, {("UDP", "host"), ("TCP", "host")})
        self.assertIsNone(headers["Link"])
        self.assertTrue(s.plays())

    def test_a_tcp_only_edge_offers_only_tcp_candidates_and_delivers_frames(self):
        s, _, offer = self.subscribe_whep("127.0.0.3")
        kinds = set(transports(candidates(offer)))
        self.assertEqual(kinds, {("TCP", "host")})
        self.assertTrue(s.plays(), "no media over ICE-TCP")

    def test_a_tcp_only_edge_trickles_only_tcp_candidates_over_websocket(self):
        s = self.subscribe_websocket("127.0.0.3")
        self.assertTrue(s.plays(), "no media over ICE-TCP")
        cands = self.ws_candidates(s)
        self.assertTrue(cands)
        self.assertEqual({t for t, _ in transports(cands)}, {"TCP"})

    def test_a_relay_only_edge_offers_only_relay_candidates_and_delivers_frames(self):
        s, _, offer = self.subscribe_whep("127.0.0.4")
        kinds = transports(candidates(offer))
        self.assertTrue(kinds)
        self.assertEqual({k for _, k in kinds}, {"relay"})
        self.assertTrue(s.plays(), "no media through the TURN server")
        # the relay is the TURN server's, and it let our address in
        self.assertTrue(all(" 127.0.0.1 " in c for c in candidates(offer)))
        self.assertIn("CREATE_PERMISSION processed, success", self.turn.log())

    def test_a_relay_only_edge_trickles_only_relay_candidates_over_websocket(self):
        s = self.subscribe_websocket("127.0.0.4")
        self.assertTrue(s.plays(), "no media through the TURN server")
        cands = self.ws_candidates(s)
        self.assertTrue(cands)
        self.assertEqual({k for _, k in transports(cands)}, {"relay"})

    def test_a_relay_edge_names_its_turn_server_in_link_headers(self):
        url = f"http://127.0.0.4:{self.port}/live/whep/endpoint/stream1"
        status, headers, _ = http_request("OPTIONS", url)
        self.assertEqual(status, 204)
        link = (f'<turn:127.0.0.1:{self.turn.port}?transport=udp>; rel="ice-server"; '
                f'username="{self.turn.user}"; credential="{self.turn.password}"')
        self.assertEqual(headers["Link"], link)
        _, post_headers, _ = self.subscribe_whep("127.0.0.4")
        self.assertEqual(post_headers["Link"], link)


class IceModeControl(unittest.TestCase):
    def test_the_mode_set_by_the_control_api_applies_to_the_next_subscribers(self):
        with TurnServer() as turn, Cluster("--edges", "1") as cluster:
            url = f"http://127.0.0.2:{cluster.port}/live/whep/endpoint/stream1"
            for mode, expected in (("tcp", {("TCP", "host")}), ("relay", {("UDP", "relay")}),
                                   ("any", {("UDP", "host"), ("TCP", "host")})):
                cluster.control(f"/edge/ice?edge=edge1&mode={mode}&turn={quote(turn.url)}")
                _, _, offer = http_request("POST", url, b"")
                self.assertEqual(set(transports(candidates(offer))), expected, mode)
            state = json.loads(cluster.control("/state", method="GET"))
            self.assertEqual(state["edges"][0]["ice"], "any")

    def test_relay_without_a_turn_server_is_refused(self):
        with Cluster("--edges", "1") as cluster:
            with self.assertRaises(Exception):
                cluster.control("/edge/ice?edge=edge1&mode=relay")


if __name__ == "__main__":
    unittest.main(verbosity=2)
