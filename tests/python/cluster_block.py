#!/usr/bin/env python3
"""An edge whose WebRTC media is blocked (/edge/block-media), as by a firewall that drops
UDP: its signaling still answers, a new subscriber's ICE never connects (its checks go into
a black hole and fail), its current subscribers receive nothing; /edge/unblock-media lets
new subscribers connect again. Checked with a plain webrtcbin subscriber and with
red5prosrc (this build's)."""
import json
import time
import unittest

from testcluster import Cluster
from webrtcclient import Subscriber, candidates  # sets the gi versions

from gi.repository import Gst, GstWebRTC  # noqa: E402

FAILED = GstWebRTC.WebRTCICEConnectionState.FAILED
CONNECTED = (GstWebRTC.WebRTCICEConnectionState.CONNECTED,
             GstWebRTC.WebRTCICEConnectionState.COMPLETED)


class MediaBlock(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster("--edges", "1")
        self.port = self.cluster.port
        self.subs = []

    def tearDown(self):
        for s in self.subs:
            s.stop()
        self.cluster.stop()

    def subscriber(self):
        s = Subscriber()
        self.subs.append(s)
        return s

    def whep(self, s):
        status, _, offer = s.whep(f"http://127.0.0.2:{self.port}/live/whep/endpoint/stream1")
        self.assertEqual(status, 201, "signaling must still answer")
        return offer

    def test_signaling_answers_but_ice_never_connects_over_whep(self):
        self.cluster.control("/edge/block-media?edge=edge1")
        s = self.subscriber()
        offer = self.whep(s)
        self.assertTrue(candidates(offer), "the edge announced no candidate at all")
        self.assertTrue(s.wait(lambda: s.ice_state() == FAILED, 30),
                        f"ICE {s.ice_state().value_nick}")
        self.assertEqual(s.video_frames + s.audio_buffers, 0)

    def test_signaling_answers_but_ice_never_connects_over_websocket(self):
        self.cluster.control("/edge/block-media?edge=edge1")
        s = self.subscriber()
        s.websocket(f"ws://127.0.0.2:{self.port}/live/?id=subscriber-block", "stream1")
        self.assertTrue(s.wait(lambda: "NetStream.Play.Start" in s.socket_codes(), 20),
                        s.socket_codes())
        self.assertTrue(s.wait(lambda: s.ice_state() == FAILED, 30),
                        f"ICE {s.ice_state().value_nick}")
        self.assertEqual(s.video_frames + s.audio_buffers, 0)

    def test_blocking_stops_the_media_of_current_subscribers(self):
        s = self.subscriber()
        self.whep(s)
        self.assertTrue(s.plays())
        self.cluster.control("/edge/block-media?edge=edge1")

        def stalled():
            before = s.video_frames + s.audio_buffers
            s.wait(lambda: False, 1.5)
            return s.video_frames + s.audio_buffers == before
        self.assertTrue(Subscriber.wait(stalled, 15), "media still flows")

    def test_unblocking_lets_new_subscribers_connect(self):
        self.cluster.control("/edge/block-media?edge=edge1")
        self.assertTrue(self.state()["edges"][0]["media-blocked"])
        self.cluster.control("/edge/unblock-media?edge=edge1")
        self.assertFalse(self.state()["edges"][0]["media-blocked"])
        s = self.subscriber()
        self.whep(s)
        self.assertTrue(s.plays())
        self.assertIn(s.ice_state(), CONNECTED)

    def state(self):
        return json.loads(self.cluster.control("/state", method="GET"))

    def red5prosrc(self):
        pipeline = Gst.parse_launch(
            f"red5prosrc name=src host=127.0.0.2 port={self.port} stream-name=stream1 "
            "ice-addresses=127.0.0.1 retry-timeout=0 "
            "src.video ! fakesink name=vsink async=false src.audio ! fakesink async=false")
        frames = []
        pipeline.get_by_name("vsink").get_static_pad("sink").add_probe(
            Gst.PadProbeType.BUFFER, lambda pad, info: frames.append(1) or Gst.PadProbeReturn.OK)
        pipeline.set_state(Gst.State.PLAYING)
        return pipeline, frames

    def test_red5prosrc_cannot_connect_to_a_blocked_edge(self):
        self.cluster.control("/edge/block-media?edge=edge1")
        pipeline, frames = self.red5prosrc()
        try:
            msg = pipeline.get_bus().timed_pop_filtered(60 * Gst.SECOND, Gst.MessageType.ERROR)
            self.assertIsNotNone(msg, "red5prosrc neither played nor failed")
            self.assertEqual(frames, [])
            # it got as far as the edge: signaling answered, media never came
            self.assertTrue(any(r["method"] == "POST" for r in json.loads(
                self.cluster.control("/requests?edge=edge1", method="GET"))))
        finally:
            pipeline.set_state(Gst.State.NULL)
        # the same subscription plays once the edge is unblocked
        self.cluster.control("/edge/unblock-media?edge=edge1")
        pipeline, frames = self.red5prosrc()
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(frames) < 10:
                msg = pipeline.get_bus().timed_pop_filtered(50 * Gst.MSECOND,
                                                            Gst.MessageType.ERROR)
                self.assertIsNone(msg, msg and msg.parse_error()[0].message)
            self.assertGreaterEqual(len(frames), 10)
        finally:
            pipeline.set_state(Gst.State.NULL)


if __name__ == "__main__":
    unittest.main(verbosity=2)
