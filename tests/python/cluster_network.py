#!/usr/bin/env python3
"""The cluster's network (--network): each subscriber's UDP path goes through a relay of its
edge, after SRTP and in both directions, where /edge/loss and /edge/network impair it as a
network does. Checked with a plain webrtcbin subscriber: media flows through the relay
(its counters), the edge's UDP candidate is the relay's, random loss is counted on the way
down and up, a bandwidth cap holds the bytes per second, bad parameters are refused."""
import json
import time
import unittest

from testcluster import Cluster
from webrtcclient import Subscriber  # sets the gi versions


class Network(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster("--edges", "1", "--network")
        self.subs = []

    def tearDown(self):
        for s in self.subs:
            s.stop()
        self.cluster.stop()

    def subscribe(self):
        s = Subscriber(ice_tcp=False)
        self.subs.append(s)
        status, _, offer = s.whep(
            f"http://127.0.0.2:{self.cluster.port}/live/whep/endpoint/stream1")
        self.assertEqual(status, 201)
        return s, offer

    def network(self):
        return json.loads(self.cluster.control("/state", method="GET"))["edges"][0]["network"]

    def test_media_goes_through_the_relay_both_ways(self):
        s, _ = self.subscribe()
        self.assertTrue(s.plays(), "no media through the edge's network")
        net = self.network()
        self.assertGreater(net["down"]["packets"], 30)
        self.assertGreater(net["up"]["packets"], 0, "nothing came back (ICE, DTLS, RTCP)")
        self.assertEqual(net["down"]["lost"], 0)

    def test_random_loss_is_counted_both_ways(self):
        s, _ = self.subscribe()
        self.assertTrue(s.plays())
        self.cluster.control("/edge/loss?edge=edge1&percent=20")
        time.sleep(4)
        net = self.network()
        self.assertEqual(net["loss"], 20)
        down = net["down"]
        share = down["lost"] / (down["lost"] + down["packets"])
        self.assertGreater(share, 0.1, down)
        self.assertLess(share, 0.3, down)
        # the way up carries a few packets a second (RTCP, consent checks): more loss, and
        # time enough for some of them to be lost
        self.cluster.control("/edge/loss?edge=edge1&percent=60")
        deadline = time.monotonic() + 20
        while self.network()["up"]["lost"] == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        self.assertGreater(self.network()["up"]["lost"], 0, self.network()["up"])

    def test_a_bandwidth_cap_holds_the_rate(self):
        s, _ = self.subscribe()
        self.assertTrue(s.plays())
        self.cluster.control("/edge/network?edge=edge1&kbps=150&queue=100")
        time.sleep(1)
        before = self.network()["down"]
        time.sleep(4)
        after = self.network()["down"]
        kbps = (after["bytes"] - before["bytes"]) * 8 / 4 / 1000
        self.assertLess(kbps, 150 * 1.1, after)
        self.assertGreater(after["lost"], before["lost"], "the queue dropped nothing")

    def test_bad_parameters_are_refused(self):
        for query in ("loss=200", "delay=-1", "burst-loss=5", "colour=blue", "jitter=abc"):
            with self.assertRaises(Exception, msg=query):
                self.cluster.control(f"/edge/network?edge=edge1&{query}")
        self.cluster.control("/edge/network?edge=edge1&burst-loss=5&burst=4&delay=20")
        net = self.network()
        self.assertEqual((net["burst-loss"], net["burst"], net["delay"]), (5, 4, 20))
        self.cluster.control("/edge/network?edge=edge1&reset=true")
        self.assertEqual(self.network()["delay"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
