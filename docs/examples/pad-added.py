#!/usr/bin/env python3
"""pad-added.py: red5prosrc in a Python (gi) application, with GStreamer's most common
pattern for a source with dynamic pads: each pad red5prosrc exposes gets a
queue ! decodebin, and each stream decodebin exposes gets a sink.

    pad-added.py 'red5pros://sm.example.com/live/stream1?stream-manager=sm2' [--seconds N]
        [--send METHOD JSON] [--switch-to STREAM]

It shows the subscriber's events ("red5pro-event" bus messages) as they come, and counts
what reaches the sinks. --headless plays into fakesinks instead of the screen and the
speakers (what the tests run). Once the first frame is shown, --send sends a message to the
server (the "send" action signal) and --switch-to asks it for another stream on the same
connection, an ABR variant such as stream1_3 ("switch-stream"). Ctrl-C stops it.
"""
import argparse
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


class Player:
    def __init__(self, uri, headless, send=None, switch_to=None):
        self.headless = headless
        self.send = send
        self.switch_to = switch_to
        self.pipeline = Gst.Pipeline.new("player")
        # the URI's query pairs are red5prosrc properties
        self.src = Gst.Element.make_from_uri(Gst.URIType.SRC, uri, "src")
        self.pipeline.add(self.src)
        self.src.connect("pad-added", self.on_source_pad)
        self.counts = {"video": 0, "audio": 0}
        self.first_frame = None
        self.width = None
        self.started = None
        self.status = 0
        self.loop = GLib.MainLoop()
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    # streaming thread: red5prosrc has a new pad ("video" or "audio"); it stays there
    # across failovers, so this runs once per pad
    def on_source_pad(self, src, pad):
        decoder = Gst.Bin.new(None)
        queue = Gst.ElementFactory.make("queue")
        decodebin = Gst.ElementFactory.make("decodebin")
        decoder.add(queue)
        decoder.add(decodebin)
        queue.link(decodebin)
        decoder.add_pad(Gst.GhostPad.new("sink", queue.get_static_pad("sink")))
        decodebin.connect("pad-added", self.on_decoded_pad, decoder)
        self.pipeline.add(decoder)
        decoder.sync_state_with_parent()
        pad.link(decoder.get_static_pad("sink"))

    # decodebin has a decoded stream: convert it and play it
    def on_decoded_pad(self, decodebin, pad, decoder):
        caps = pad.get_current_caps() or pad.query_caps(None)
        kind = "video" if caps.get_structure(0).get_name().startswith("video/") else "audio"
        if self.headless:
            sink = "fakesink sync=true"
        else:
            sink = "autovideosink" if kind == "video" else "autoaudiosink"
        convert = "videoconvert" if kind == "video" else "audioconvert ! audioresample"
        out = Gst.parse_bin_from_description(f"{convert} ! {sink}", True)
        decoder.add(out)
        out.sync_state_with_parent()
        pad.link(out.get_static_pad("sink"))
        out.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self.on_buffer, kind)

    def on_buffer(self, pad, info, kind):
        if kind == "video" and self.first_frame is None:
            self.first_frame = time.monotonic() - self.started
            GLib.idle_add(self.talk_to_server)
        self.counts[kind] += 1
        if kind == "video":
            width = pad.get_current_caps().get_structure(0).get_value("width")
            if width != self.width:
                self.width = width
                print(f"video width {width}", flush=True)
        return Gst.PadProbeReturn.OK

    # the action signals: a message to the server, another stream on the same connection
    def talk_to_server(self):
        if self.send:
            method, data = self.send
            sent = self.src.emit("send", method, data)
            print(f"send {method}: {'sent' if sent else 'refused'}", flush=True)
        if self.switch_to:
            self.src.emit("switch-stream", self.switch_to, True)
        return GLib.SOURCE_REMOVE

    def on_message(self, bus, msg):
        if msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s is not None and s.get_name() == "red5pro-event":
                extra = ", ".join(
                    f"{s.nth_field_name(i)}={s.get_value(s.nth_field_name(i))}"
                    for i in range(s.n_fields())
                    if s.nth_field_name(i) in ("edge", "reason", "kind", "delay-ms", "path"))
                print(f"event {s.get_string('type')} {extra}".rstrip(), flush=True)
        elif msg.type == Gst.MessageType.WARNING:
            print(f"warning: {msg.parse_warning()[0].message}", flush=True)
        elif msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            print(f"error: {err.message} ({debug})", file=sys.stderr, flush=True)
            self.status = 1
            self.loop.quit()
        elif msg.type == Gst.MessageType.EOS:
            self.loop.quit()

    def run(self, seconds):
        self.started = time.monotonic()
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            return 1
        if seconds:
            GLib.timeout_add(int(seconds * 1000), self.loop.quit)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, self.loop.quit)
        self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        first = "-" if self.first_frame is None else f"{self.first_frame:.2f}"
        print(f"video frames {self.counts['video']} audio buffers {self.counts['audio']} "
              f"first frame after {first} s", flush=True)
        return self.status


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("uri", help="red5pro:// or red5pros:// URI")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long")
    parser.add_argument("--headless", action="store_true", help="play into fakesinks")
    parser.add_argument("--send", nargs=2, metavar=("METHOD", "JSON"),
                        help="send this to the server once playing")
    parser.add_argument("--switch-to", metavar="STREAM",
                        help="ask the server for this stream (an ABR variant) once playing")
    args = parser.parse_args()
    Gst.init(None)
    return Player(args.uri, args.headless, args.send, args.switch_to).run(args.seconds)


if __name__ == "__main__":
    sys.exit(main())
