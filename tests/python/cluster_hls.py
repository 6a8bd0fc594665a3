#!/usr/bin/env python3
"""The test cluster's HLS (--hls; protocol notes, section 14): every edge serves
/{app}/{stream}.m3u8 and its MPEG-TS segments (H.264 + AAC, the frame counter in the
video), the Stream Manager serves /streammanager/api/4.0/file/{app}/{stream}.m3u8; it
stops when the stream is unpublished or the edge dies. Played with GStreamer's own
hlsdemux."""
import time
import unittest

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import Gst, GstVideo  # noqa: E402

from testcluster import Cluster  # noqa: E402
from webrtcclient import http_request, link_counting_sink, read_frame_counter  # noqa: E402

Gst.init(None)


class HlsPlayer:
    """souphttpsrc ! hlsdemux ! decodebin, video read for the frame counter."""

    def __init__(self, url):
        self.pipeline = Gst.parse_launch(f"souphttpsrc location={url} ! hlsdemux ! "
                                         "decodebin name=d")
        self.pipeline.get_by_name("d").connect("pad-added", self._on_pad)
        self.counters = []
        self.audio_buffers = 0
        self.error = None
        self.eos = False
        self.pipeline.set_state(Gst.State.PLAYING)

    def _on_pad(self, _decodebin, pad):
        link_counting_sink(self.pipeline, pad, self._on_video, self._on_audio)

    def _on_audio(self, _pad, _info):
        self.audio_buffers += 1
        return Gst.PadProbeReturn.OK

    def _on_video(self, pad, info):
        vinfo = GstVideo.VideoInfo.new_from_caps(pad.get_current_caps())
        ok, mapinfo = info.get_buffer().map(Gst.MapFlags.READ)
        if ok:
            counter = read_frame_counter(mapinfo.data, vinfo.stride[0])
            if counter is not None:
                self.counters.append(counter)
            info.get_buffer().unmap(mapinfo)
        return Gst.PadProbeReturn.OK

    def wait(self, cond, timeout):
        bus = self.pipeline.get_bus()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not cond():
            msg = bus.timed_pop_filtered(20 * Gst.MSECOND,
                                         Gst.MessageType.ERROR | Gst.MessageType.EOS)
            if msg and msg.type == Gst.MessageType.ERROR:
                self.error = msg.parse_error()[0].message
            elif msg:
                self.eos = True
        return cond()

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)


def segments(playlist):
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


class Hls(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster("--edges", "2", "--hls")
        self.port = self.cluster.port
        self.players = []

    def tearDown(self):
        for p in self.players:
            p.stop()
        self.cluster.stop()

    def edge_url(self, edge, name="stream1.m3u8"):
        return f"http://{edge}:{self.port}/live/{name}"

    def sm_url(self, name="stream1.m3u8"):
        return f"http://127.0.0.1:{self.port}/streammanager/api/4.0/file/live/{name}"

    def playlist(self, url, least_segments=3, timeout=20):
        """The playlist once it lists that many segments."""
        deadline = time.monotonic() + timeout
        while True:
            status, headers, body = http_request("GET", url)
            if status == 200 and len(segments(body)) >= least_segments:
                return headers, body
            self.assertLess(time.monotonic(), deadline, f"{url}: {status} {body[:300]}")
            time.sleep(0.2)

    def play(self, url):
        p = HlsPlayer(url)
        self.players.append(p)
        return p

    def test_every_edge_serves_a_rolling_playlist_of_mpeg_ts_segments(self):
        for edge in ("127.0.0.2", "127.0.0.3"):
            with self.subTest(edge=edge):
                headers, body = self.playlist(self.edge_url(edge))
                self.assertEqual(headers["Content-Type"], "application/vnd.apple.mpegurl")
                self.assertTrue(body.startswith("#EXTM3U"))
                self.assertIn("#EXT-X-TARGETDURATION:1", body)
                self.assertNotIn("#EXT-X-ENDLIST", body)
                status, h, ts = http_request("GET", self.edge_url(edge, segments(body)[-1]),
                                             binary=True)
                self.assertEqual(status, 200)
                self.assertEqual(h["Content-Type"], "video/mp2t")
                self.assertTrue(len(ts) > 188 and ts[0] == 0x47 and ts[188] == 0x47,
                                "not MPEG-TS")
        # rolling: the playlist moves on and keeps five segments
        _, first = self.playlist(self.edge_url("127.0.0.2"), 5)
        deadline = time.monotonic() + 10
        while True:
            _, later = self.playlist(self.edge_url("127.0.0.2"), 5)
            if segments(later)[0] != segments(first)[0] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertNotEqual(segments(first)[0], segments(later)[0], "the playlist never moved")
        self.assertEqual(len(segments(later)), 5)

    def test_hlsdemux_plays_an_edges_hls_with_the_frame_counter_and_audio(self):
        self.playlist(self.edge_url("127.0.0.2"))
        p = self.play(self.edge_url("127.0.0.2"))
        self.assertTrue(p.wait(lambda: len(p.counters) >= 30 and p.audio_buffers >= 10, 30),
                        f"{len(p.counters)} counted frames, {p.audio_buffers} audio, {p.error}")
        # the counter runs on, frame by frame
        self.assertGreater(p.counters[-1], p.counters[0])

    def test_the_stream_manager_serves_the_hls_through_its_file_api(self):
        headers, body = self.playlist(self.sm_url())
        self.assertEqual(headers["Content-Type"], "application/vnd.apple.mpegurl")
        status, h, _ = http_request("GET", self.sm_url(segments(body)[-1]), binary=True)
        self.assertEqual((status, h["Content-Type"]), (200, "video/mp2t"))
        p = self.play(self.sm_url())
        self.assertTrue(p.wait(lambda: len(p.counters) >= 30, 30), p.error)

    def test_unpublishing_ends_the_hls_on_the_edges_and_the_stream_manager(self):
        self.playlist(self.edge_url("127.0.0.2"))
        p = self.play(self.edge_url("127.0.0.2"))
        self.assertTrue(p.wait(lambda: len(p.counters) >= 10, 30), p.error)
        self.cluster.control("/unpublish?stream=stream1")
        for url in (self.edge_url("127.0.0.2"), self.edge_url("127.0.0.3"), self.sm_url()):
            self.assertEqual(http_request("GET", url)[0], 404, url)
        # the player runs out: an error or the end, and no more frames
        self.assertTrue(p.wait(lambda: p.error or p.eos, 30), "the player never noticed")

    def test_a_republished_stream_serves_hls_again(self):
        self.playlist(self.edge_url("127.0.0.2"))
        self.cluster.control("/unpublish?stream=stream1")
        self.assertEqual(http_request("GET", self.edge_url("127.0.0.2"))[0], 404)
        self.cluster.control("/publish?stream=stream1")
        self.playlist(self.edge_url("127.0.0.2"))

    def test_a_killed_edge_stops_serving_hls_and_the_stream_manager_uses_another(self):
        self.cluster.control("/route?stream=stream1&edge=edge1")
        self.playlist(self.sm_url())
        self.cluster.control("/edge/kill?edge=edge1&mode=loud")
        with self.assertRaises(OSError):
            http_request("GET", self.edge_url("127.0.0.2"), timeout=5)
        self.playlist(self.sm_url())
        self.playlist(self.edge_url("127.0.0.3"))

    def test_a_stream_that_is_not_published_has_no_hls(self):
        for url in (self.edge_url("127.0.0.2", "nosuchstream.m3u8"),
                    self.edge_url("127.0.0.2", "nosuchstream_1.ts"),
                    self.sm_url("nosuchstream.m3u8")):
            self.assertEqual(http_request("GET", url)[0], 404, url)


class NoHls(unittest.TestCase):
    def test_without_the_option_there_is_no_playlist(self):
        with Cluster("--edges", "1") as cluster:
            status, _, _ = http_request(
                "GET", f"http://127.0.0.2:{cluster.port}/live/stream1.m3u8")
            self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main(verbosity=2)
