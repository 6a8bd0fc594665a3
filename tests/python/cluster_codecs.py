#!/usr/bin/env python3
"""The test cluster publishing a stream in several codecs at once (--codecs) and sending each
subscriber the one it asks for, as the SDK asks: videoEncoding / audioEncoding (VP8, H264,
NONE; Opus, PCMU, PCMA, NONE) in the WHEP query or the WebSocket requestOffer; a standard
WHEP subscriber gets a codec its offer lists. Every encoding carries the same frame counter.
doNotSwitch is recorded with the subscriber's parameters."""
import json
import unittest

from testcluster import Cluster
from webrtcclient import Subscriber, media_kinds

ALL_AUDIO = ("OPUS", "PCMU", "PCMA")


class Codecs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster("--edges", "2", "--edge-flavours", "red5,standard",
                              "--codecs", "vp8,h264,opus,pcmu,pcma")
        cls.port = cls.cluster.port

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def setUp(self):
        self.subs = []

    def tearDown(self):
        for s in self.subs:
            s.stop()

    def subscriber(self, **kw):
        s = Subscriber(**kw)
        self.subs.append(s)
        return s

    def whep(self, query, **kw):
        """A Red5 Pro WHEP subscription to edge1; (subscriber, offered m-lines as a dict)."""
        s = self.subscriber(audio=ALL_AUDIO, **kw)
        status, _, offer = s.whep(
            f"http://127.0.0.2:{self.port}/live/whep/endpoint/stream1?requestId=c&{query}")
        self.assertEqual(status, 201)
        return s, {kind: names[0] for kind, names in media_kinds(offer) if names}

    def last_subscriber(self):
        return json.loads(self.cluster.control("/state", method="GET"))["subscribers"][-1]

    def test_red5_whep_offers_the_requested_video_and_audio_codecs_and_they_play(self):
        for video, audio in (("H264", "PCMU"), ("VP8", "Opus"), ("H264", "PCMA")):
            with self.subTest(video=video, audio=audio):
                s, offered = self.whep(f"videoEncoding={video}&audioEncoding={audio}")
                self.assertEqual(offered, {"video": video, "audio": audio.upper()})
                self.assertTrue(s.plays(), f"{s.counted_frames} frames, {s.audio_buffers} audio")
                state = self.last_subscriber()
                self.assertEqual((state["video-codec"], state["audio-codec"]),
                                 (video.lower(), audio.lower()))

    def test_none_leaves_that_medium_out_of_the_offer(self):
        s, offered = self.whep("videoEncoding=NONE")
        self.assertEqual(offered, {"audio": "OPUS"})
        self.assertTrue(s.wait(lambda: s.audio_buffers >= 10, 20))
        s, offered = self.whep("audioEncoding=NONE")
        self.assertEqual(offered, {"video": "VP8"})
        self.assertTrue(s.wait(lambda: s.counted_frames >= 10, 20))

    def test_without_a_request_the_first_published_codecs_are_offered(self):
        _, offered = self.whep("")
        self.assertEqual(offered, {"video": "VP8", "audio": "OPUS"})

    def test_a_codec_the_stream_is_not_published_in_gets_the_default(self):
        _, offered = self.whep("videoEncoding=H265&audioEncoding=G722")
        self.assertEqual(offered, {"video": "VP8", "audio": "OPUS"})

    def test_standard_whep_answers_with_a_published_codec_the_offer_lists(self):
        for video, audio, expected in ((("H264",), ("PCMA",), ("H264", "PCMA")),
                                       (("VP8", "H264"), ("OPUS",), ("VP8", "OPUS"))):
            with self.subTest(video=video, audio=audio):
                s = self.subscriber(video=video, audio=audio)
                status, _, answer = s.whep(
                    f"http://127.0.0.3:{self.port}/live/whep/endpoint/stream1",
                    flavour="standard")
                self.assertEqual(status, 201)
                answered = {kind: names[0] for kind, names in media_kinds(answer) if names}
                self.assertEqual(answered, {"video": expected[0], "audio": expected[1]})
                self.assertTrue(s.plays())

    def test_standard_whep_with_none_answers_that_medium_inactive(self):
        s = self.subscriber(video=("VP8",), audio=("OPUS",))
        status, _, answer = s.whep(
            f"http://127.0.0.3:{self.port}/live/whep/endpoint/stream1?videoEncoding=NONE",
            flavour="standard")
        self.assertEqual(status, 201)
        self.assertIn("a=inactive", answer.split("m=audio")[0])
        self.assertTrue(s.wait(lambda: s.audio_buffers >= 10, 20))
        self.assertEqual(s.video_frames, 0)

    def test_the_websocket_request_offer_encodings_are_honoured_and_recorded(self):
        s = self.subscriber(audio=ALL_AUDIO)
        s.websocket(f"ws://127.0.0.2:{self.port}/live/?id=subscriber-codecs", "stream1",
                    videoEncoding="H264", audioEncoding="PCMU", doNotSwitch=True)
        self.assertTrue(s.plays())
        offered = {kind: names[0] for kind, names in media_kinds(s.remote_sdp) if names}
        self.assertEqual(offered, {"video": "H264", "audio": "PCMU"})
        params = self.last_subscriber()["params"]
        self.assertEqual((params["videoEncoding"], params["audioEncoding"], params["doNotSwitch"]),
                         ("H264", "PCMU", "true"))

    def test_do_not_switch_in_the_whep_query_is_recorded(self):
        self.whep("doNotSwitch=true")
        self.assertEqual(self.last_subscriber()["params"]["doNotSwitch"], "true")

    def test_both_video_encodings_carry_the_same_frame_counter(self):
        vp8, _ = self.whep("videoEncoding=VP8")
        h264, _ = self.whep("videoEncoding=H264")
        self.assertTrue(Subscriber.wait(lambda: vp8.counted_frames >= 60 and
                                        h264.counted_frames >= 60, 30))
        common = vp8.counters & h264.counters
        self.assertGreaterEqual(len(common), 30,
                                f"VP8 {min(vp8.counters)}..{max(vp8.counters)}, "
                                f"H.264 {min(h264.counters)}..{max(h264.counters)}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
