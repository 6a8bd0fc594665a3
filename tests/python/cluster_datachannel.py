#!/usr/bin/env python3
"""The test cluster's red5pro data channel, as the protocol notes (section 4) describe real
servers: the subscriber opens it, the server opens none of its own and says everything on
the subscriber's channel; over WebSocket NetConnection.DataChannel.Available comes once.
A plain webrtcbin subscriber (webrtcclient.py) plays the client."""
import json
import unittest

from testcluster import Cluster
from webrtcclient import Subscriber, media_kinds

AVAILABLE = "NetConnection.DataChannel.Available"


class DataChannel(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster("--edges", "2", "--edge-flavours", "red5,standard")
        self.subs = []

    def tearDown(self):
        for s in self.subs:
            s.stop()
        self.cluster.stop()

    def subscriber(self, **kw):
        s = Subscriber(**kw)
        self.subs.append(s)
        return s

    def whep_url(self, edge, query="requestId=subscriber-test&signal=true"):
        return f"http://{edge}:{self.cluster.port}/live/whep/endpoint/stream1?{query}"

    def ws_url(self, edge="127.0.0.2"):
        return f"ws://{edge}:{self.cluster.port}/live/?id=subscriber-test"

    def state(self):
        return json.loads(self.cluster.control("/state", method="GET"))

    def test_red5_whep_offer_has_an_application_section_and_the_server_announces_no_channel(self):
        s = self.subscriber()
        status, _, offer = s.whep(self.whep_url("127.0.0.2"))
        self.assertEqual(status, 201)
        self.assertIn("application", [kind for kind, _ in media_kinds(offer)])
        self.assertTrue(s.plays(), "no media")
        self.assertTrue(s.wait(lambda: s.channel_open, 10), "our red5pro channel never opened")
        self.assertEqual(s.announced_channels, [], "the server announced a channel of its own")
        self.assertTrue(self.state()["subscribers"][0]["data-channel-open"])

    def test_without_signal_the_red5_whep_offer_has_no_application_section(self):
        s = self.subscriber(data_channel=False)
        status, _, offer = s.whep(self.whep_url("127.0.0.2", "signal=false"))
        self.assertEqual(status, 201)
        self.assertNotIn("application", [kind for kind, _ in media_kinds(offer)])
        self.assertTrue(s.plays(), "no media")

    def check_messages_on_our_channel(self, s):
        self.assertTrue(s.wait(lambda: s.channel_open, 10), "our red5pro channel never opened")
        self.cluster.control("/send/metadata?stream=stream1")
        self.cluster.control("/send/invoke?stream=stream1&method=onCustom")
        self.cluster.control("/send/status?stream=stream1&code=NetStream.Play.UnpublishNotify")
        self.assertTrue(s.wait(lambda: len(s.channel_messages) >= 3, 10), s.channel_messages)
        texts = [json.loads(t) for t in s.channel_messages]
        self.assertEqual(texts[0]["type"], "metadata")
        self.assertEqual(texts[1]["send"]["method"], "onCustom")
        self.assertEqual(texts[2]["data"]["code"], "NetStream.Play.UnpublishNotify")
        self.assertEqual(s.announced_channels, [])

    def test_server_messages_reach_the_channel_the_red5_whep_subscriber_opened(self):
        s = self.subscriber()
        s.whep(self.whep_url("127.0.0.2"))
        self.check_messages_on_our_channel(s)

    def test_server_messages_reach_the_channel_the_standard_whep_subscriber_opened(self):
        s = self.subscriber()
        status, _, answer = s.whep(self.whep_url("127.0.0.3"), flavour="standard")
        self.assertEqual(status, 201, answer)
        self.check_messages_on_our_channel(s)

    def test_a_loud_kill_closes_the_subscribers_channel_even_right_after_a_message(self):
        s = self.subscriber()
        s.whep(self.whep_url("127.0.0.2"))
        self.assertTrue(s.plays())
        self.assertTrue(s.wait(lambda: s.channel_open, 10))
        self.cluster.control("/send/metadata?stream=stream1")
        self.assertTrue(s.wait(lambda: s.channel_messages, 10))
        self.cluster.control("/edge/kill?edge=edge1&mode=loud")
        self.assertTrue(s.wait(lambda: s.channel_closed, 5), "the channel's close never arrived")

    def test_the_websocket_offer_has_an_application_section_only_when_asked(self):
        for want in (True, False):
            s = self.subscriber(data_channel=want)
            s.websocket(self.ws_url(), "stream1", datachannel=want)
            self.assertTrue(s.plays(), "no media")
            kinds = [kind for kind, _ in media_kinds(s.remote_sdp)]
            self.assertEqual("application" in kinds, want, kinds)
            self.assertEqual(s.announced_channels, [])

    def test_data_channel_available_comes_once_then_messages_follow_the_switch(self):
        s = self.subscriber()
        s.websocket(self.ws_url(), "stream1")
        self.assertTrue(s.plays(), "no media")
        self.assertTrue(s.wait(lambda: AVAILABLE in s.socket_codes(), 10), s.socket_codes())
        # a second one would come with the next status (the subscribe's answer came first)
        self.cluster.control("/send/status?stream=stream1&code=Test.Marker")
        self.assertTrue(s.wait(lambda: "Test.Marker" in s.socket_codes(), 10))
        self.assertEqual(s.socket_codes().count(AVAILABLE), 1, s.socket_codes())
        self.assertLess(s.socket_codes().index("NetStream.Play.Start"),
                        s.socket_codes().index(AVAILABLE))
        s.switch_channel()
        self.assertTrue(s.wait(lambda: self.state()["subscribers"][0]["switched"], 10))
        self.cluster.control("/send/status?stream=stream1&code=After.Switch")
        self.assertTrue(s.wait(lambda: s.channel_messages, 10), "nothing on our channel")
        self.assertEqual(json.loads(s.channel_messages[0])["data"]["code"], "After.Switch")
        self.assertEqual(s.announced_channels, [])

    def test_a_websocket_subscriber_without_a_channel_hears_everything_on_the_socket(self):
        s = self.subscriber(data_channel=False)
        s.websocket(self.ws_url(), "stream1", datachannel=False)
        self.assertTrue(s.plays(), "no media")
        self.cluster.control("/send/status?stream=stream1&code=On.The.Socket")
        self.assertTrue(s.wait(lambda: "On.The.Socket" in s.socket_codes(), 10))
        self.assertNotIn(AVAILABLE, s.socket_codes())


if __name__ == "__main__":
    unittest.main(verbosity=2)
