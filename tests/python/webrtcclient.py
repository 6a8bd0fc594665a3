"""webrtcclient: a plain webrtcbin subscriber for the test cluster's own tests. It speaks to an
edge as the Red5 Pro SDK does (protocol notes, sections 3, 4 and 5), without red5prosrc: WHEP
in both flavours and the WebSocket protocol, the red5pro data channel opened by the client
after it has applied the server's offer, media decoded and the frame counter read back off
the video. Everything runs on the calling thread's default main context: wait() turns it."""
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstVideo", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("Nice", "0.1")
gi.require_version("Soup", "3.0")
from gi.repository import GLib, Gst, GstSdp, GstVideo, GstWebRTC, Nice, Soup  # noqa: E402

Gst.init(None)

VIDEO_CAPS = {
    "VP8": "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000",
    "H264": "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
            "packetization-mode=(string)1,profile-level-id=(string)42e01f",
}
AUDIO_CAPS = {
    "OPUS": "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,"
            "encoding-params=(string)2",
    "PCMU": "application/x-rtp,media=audio,encoding-name=PCMU,payload=0,clock-rate=8000",
    "PCMA": "application/x-rtp,media=audio,encoding-name=PCMA,payload=8,clock-rate=8000",
}


class Rendered:
    """What a pad probe's info gives, for a buffer a sink renders (handoff)."""

    def __init__(self, buffer):
        self._buffer = buffer

    def get_buffer(self):
        return self._buffer


def link_counting_sink(pipeline, pad, on_video, on_audio, sync=False):
    """A decoded pad into a fakesink (video as I420) that calls on_video or on_audio (pad,
    info) for every buffer: as it arrives (a pad probe), or with sync when the sink renders
    it, at its time, as a player shows it (handoff)."""
    caps = pad.get_current_caps() or pad.query_caps(None)
    video = caps.get_structure(0).get_name().startswith("video/")
    fakesink = (f"fakesink name=counting sync={'true' if sync else 'false'} async=false "
                f"signal-handoffs={'true' if sync else 'false'}")
    desc = (f"videoconvert ! video/x-raw,format=I420 ! {fakesink}" if video else fakesink)
    sink = Gst.parse_bin_from_description(desc, True)
    pipeline.add(sink)
    sink.sync_state_with_parent()
    pad.link(sink.get_static_pad("sink"))
    callback = on_video if video else on_audio
    if sync:
        sink.get_by_name("counting").connect(
            "handoff", lambda _sink, buf, spad: callback(spad, Rendered(buf)))
    else:
        sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, callback)


def read_frame_counter(data, stride):
    """The cluster's frame counter off an I420 luma plane (tests/common/frame-counter.h):
    32 blocks of 10x16 pixels, bit 1 = bright; 24 bits of counter, 8 of check. None when the
    check byte does not match."""
    word = 0
    for bit in range(32):
        total = n = 0
        for line in range(4, 12):
            row = line * stride + bit * 10
            for x in range(3, 7):
                total += data[row + x]
                n += 1
        word = (word << 1) | (1 if total // n > 125 else 0)
    counter = word >> 8
    check = ((counter ^ (counter >> 8) ^ (counter >> 16)) & 0xFF) ^ 0x5A
    return counter if (word & 0xFF) == check else None


def parse_sdp(text):
    res, msg = GstSdp.SDPMessage.new_from_text(text)
    assert res == GstSdp.SDPResult.OK, f"not SDP: {text[:200]}"
    return msg


def candidates(sdp_text):
    """Every a=candidate value of an SDP, read with GstSdp."""
    msg = parse_sdp(sdp_text)
    out = []
    for i in range(msg.medias_len()):
        media = msg.get_media(i)
        for j in range(media.attributes_len()):
            attr = media.get_attribute(j)
            if attr.key == "candidate":
                out.append(attr.value)
    return out


def media_kinds(sdp_text):
    """The m-lines of an SDP, in order: [(kind, [encoding names])]."""
    msg = parse_sdp(sdp_text)
    out = []
    for i in range(msg.medias_len()):
        media = msg.get_media(i)
        names = []
        for j in range(media.attributes_len()):
            attr = media.get_attribute(j)
            if attr.key == "rtpmap":
                names.append(attr.value.split()[1].split("/")[0].upper())
        out.append((media.get_media(), names))
    return out


def http_request(method, url, body=None, headers=None, timeout=20, binary=False):
    """(status, headers, body: text, or bytes when binary); never raises for an HTTP
    status."""
    req = urllib.request.Request(url, method=method, data=body, headers=headers or {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=timeout) as resp:
            status, headers, data = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, headers, data = e.code, e.headers, e.read()
    return status, headers, data if binary else data.decode(errors="replace")


_KEEP_ICE_AGENTS = []


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Subscriber:
    """One subscriber: a pipeline with a webrtcbin receiving video and audio."""

    def __init__(self, video=("VP8", "H264"), audio=("OPUS",), data_channel=True,
                 ice_address="127.0.0.1", ice_tcp=True, ice_udp=True):
        self.pipeline = Gst.Pipeline.new()
        # true: frames are counted when a synchronised sink renders them (as a player shows
        # them), not when they arrive
        self.render_sync = False
        self.webrtc = Gst.ElementFactory.make("webrtcbin")
        self.webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
        self.pipeline.add(self.webrtc)
        ice = self.webrtc.get_property("ice-agent")
        # webrtcbin 1.22 keeps its agent floating: PyGObject sinks that reference and would
        # free the agent with its wrapper, under webrtcbin's feet. The wrapper stays.
        _KEEP_ICE_AGENTS.append(ice)
        ice.set_property("ice-tcp", ice_tcp)
        ice.set_property("ice-udp", ice_udp)
        addr = Nice.Address()
        addr.set_from_string(ice_address)
        ice.get_property("agent").add_local_address(addr)
        for kind, codecs, table in (("video", video, VIDEO_CAPS), ("audio", audio, AUDIO_CAPS)):
            if not codecs:
                continue
            caps = Gst.Caps.from_string(";".join(table[c] for c in codecs))
            self.webrtc.emit("add-transceiver",
                             GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY, caps)
        self.want_channel = data_channel
        self.channel = None
        self.channel_open = False
        self.channel_closed = False
        self.channel_messages = []      # texts on the client's red5pro channel
        self.announced_channels = []    # labels of channels the server announced
        self.socket_messages = []       # JSON objects the server sent on the WebSocket
        self.video_frames = 0
        self.counted_frames = 0
        self.last_counter = None
        self.counters = set()           # every frame counter read
        self.audio_buffers = 0
        self.video_caps = None
        self.audio_caps = None
        self.remote_sdp = None
        self.local_candidates = []
        self.resource = None
        self.ws = None
        self._gathered = False
        self.webrtc.connect("pad-added", self._on_pad)
        self.webrtc.connect("on-data-channel", self._on_data_channel)
        self.webrtc.connect("on-ice-candidate", self._on_candidate)
        self.webrtc.connect("notify::ice-gathering-state", self._on_gathering)
        self.pipeline.set_state(Gst.State.PLAYING)

    # ---- waiting ----

    @staticmethod
    def wait(cond, timeout):
        """Turns the default main context until cond() or the timeout; cond()'s last value."""
        ctx = GLib.MainContext.default()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return True
            if not ctx.iteration(False):
                time.sleep(0.01)
        return cond()

    def connection_state(self):
        return self.webrtc.get_property("connection-state")

    def ice_state(self):
        return self.webrtc.get_property("ice-connection-state")

    # ---- WebRTC ----

    def _promise(self, signal, *args):
        promise = Gst.Promise.new()
        self.webrtc.emit(signal, *args, promise)
        promise.wait()
        return promise.get_reply()

    def _set(self, which, sdp_type, text):
        desc = GstWebRTC.WebRTCSessionDescription.new(sdp_type, parse_sdp(text))
        self._promise(f"set-{which}-description", desc)

    def _create(self, what):
        reply = self._promise(f"create-{what}", None)
        desc = reply.get_value(what)
        assert desc is not None, f"webrtcbin made no {what}: {reply}"
        self._promise("set-local-description", desc)
        return desc.sdp.as_text()

    def _open_channel(self):
        if self.want_channel and not self.channel:
            self.channel = self.webrtc.emit("create-data-channel", "red5pro", None)
            self._watch(self.channel)

    def _watch(self, channel):
        channel.connect("on-open", lambda ch: setattr(self, "channel_open", True))
        channel.connect("on-close", lambda ch: setattr(self, "channel_closed", True))
        channel.connect("on-message-string", lambda ch, text: self.channel_messages.append(text))

    def _on_data_channel(self, _webrtc, channel):
        self.announced_channels.append(channel.get_property("label"))

    # webrtcbin calls these two on its own threads; the socket is the main context's
    def _on_candidate(self, _webrtc, mline, candidate):
        self.local_candidates.append((mline, candidate))
        if self.ws:
            self._ws_send_later({"handleCandidate": self.stream, "requestId": self.request_id,
                           "data": {"candidate": {"candidate": candidate, "sdpMLineIndex": mline,
                                                  "sdpMid": str(mline)}}})

    def _on_gathering(self, webrtc, _pspec):
        if webrtc.get_property("ice-gathering-state") != GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            return
        self._gathered = True
        if self.ws:
            self._ws_send_later({"handleCandidate": self.stream, "requestId": self.request_id,
                           "data": {"candidate": {"type": "candidate", "candidate": ""}}})

    def local_sdp(self):
        return self.webrtc.get_property("local-description").sdp.as_text()

    def _on_pad(self, _webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        decode = Gst.ElementFactory.make("decodebin")
        self.pipeline.add(decode)
        decode.connect("pad-added", self._on_decoded)
        decode.sync_state_with_parent()
        pad.link(decode.get_static_pad("sink"))

    def _on_decoded(self, _decodebin, pad):
        link_counting_sink(self.pipeline, pad, self._on_video, self._on_audio,
                           sync=self.render_sync)

    def _on_audio(self, _pad, _info):
        self.audio_buffers += 1
        return Gst.PadProbeReturn.OK

    def _on_video(self, pad, info):
        self.video_frames += 1
        vinfo = GstVideo.VideoInfo.new_from_caps(pad.get_current_caps())
        buf = info.get_buffer()
        ok, mapinfo = buf.map(Gst.MapFlags.READ)
        if ok:
            if vinfo.width >= 320:
                counter = read_frame_counter(mapinfo.data, vinfo.stride[0])
                if counter is not None:
                    self.counted_frames += 1
                    self.last_counter = counter
                    self.counters.add(counter)
            buf.unmap(mapinfo)
        return Gst.PadProbeReturn.OK

    def plays(self, frames=30, audio=10, timeout=30):
        """True once that many counted video frames and audio buffers arrived."""
        return self.wait(lambda: self.counted_frames >= frames and self.audio_buffers >= audio,
                         timeout)

    # ---- WHEP (section 5) ----

    def whep(self, url, flavour="red5", headers=None):
        """POSTs to a WHEP endpoint; Red5 Pro's flavour: an empty POST, the server's offer
        answered with a PATCH once gathered; standard: our offer, the server's answer. The
        answer's local description carries every candidate (no trickle). Returns (status,
        headers, body) of the POST."""
        headers = dict(headers or {})
        if flavour == "red5":
            status, rh, body = http_request("POST", url, b"", headers)
            if status != 201:
                return status, rh, body
            self.remote_sdp = body
            self._set("remote", GstWebRTC.WebRTCSDPType.OFFER, body)
            self._open_channel()   # after applying the offer, as the SDK does
            self._create("answer")
            assert self.wait(lambda: self._gathered, 20), "our ICE gathering never completed"
            self.resource = urllib.parse.urljoin(url, rh["Location"])
            pst, _, pbody = http_request("PATCH", self.resource, self.local_sdp().encode(),
                                 {**headers, "Content-Type": "application/sdp"})
            assert pst in (200, 204), f"PATCH of the answer: {pst} {pbody}"
            return status, rh, body
        self._open_channel()
        self._create("offer")
        assert self.wait(lambda: self._gathered, 20), "our ICE gathering never completed"
        status, rh, body = http_request("POST", url, self.local_sdp().encode(),
                                {**headers, "Content-Type": "application/sdp"})
        if status == 201:
            self.remote_sdp = body
            self.resource = urllib.parse.urljoin(url, rh["Location"])
            self._set("remote", GstWebRTC.WebRTCSDPType.ANSWER, body)
        return status, rh, body

    # ---- WebSocket (section 3) ----

    def websocket(self, url, stream, **request):
        """Connects and asks for an offer: {"requestOffer": stream, ...request}. The rest
        (answer, candidates, subscribe on TrickleCompleted) follows as messages arrive."""
        self.stream = stream
        self.request_id = "subscriber-test"
        self.request = {"requestOffer": stream, "requestId": self.request_id, "transport": "udp",
                        "datachannel": self.want_channel, "doNotSwitch": False, **request}
        session = Soup.Session()
        msg = self._ws_request = Soup.Message.new("GET", url)
        result = {}
        session.websocket_connect_async(msg, None, None, GLib.PRIORITY_DEFAULT, None,
                                        lambda s, res: result.setdefault("res", res))
        assert self.wait(lambda: "res" in result, 20), "no WebSocket"
        self.ws = session.websocket_connect_finish(result["res"])
        self.ws.set_max_incoming_payload_size(32 * 1024 * 1024)
        self.ws.connect("message", self._on_ws_message)
        self._session = session

    def _ws_send_later(self, obj):
        GLib.idle_add(lambda: self._ws_send(obj) and False)

    def _ws_send(self, obj):
        if self.ws and self.ws.get_state() == Soup.WebsocketState.OPEN:
            self.ws.send_text(json.dumps(obj))

    def _on_ws_message(self, _ws, kind, data):
        if kind != Soup.WebsocketDataType.TEXT:
            return
        try:
            m = json.loads(data.get_data().decode())
        except ValueError:
            return
        self.socket_messages.append(m)
        d = m.get("data") if isinstance(m, dict) else None
        d = d if isinstance(d, dict) else {}
        if d.get("code") == "NetConnection.Connect.Success":
            self._ws_send(self.request)
        elif isinstance(d.get("sdp"), dict) and d["sdp"].get("type") == "offer":
            self.remote_sdp = d["sdp"]["sdp"]
            self._set("remote", GstWebRTC.WebRTCSDPType.OFFER, self.remote_sdp)
            self._open_channel()
            answer = self._create("answer")
            self._ws_send({"handleAnswer": self.stream, "requestId": self.request_id,
                           "data": {"sdp": {"type": "answer", "sdp": answer}}})
        elif isinstance(d.get("candidate"), dict) and d["candidate"].get("candidate"):
            c = d["candidate"]
            self.webrtc.emit("add-ice-candidate", c.get("sdpMLineIndex", 0), c["candidate"])
        elif d.get("code") in ("NetConnection.ICE.TrickleCompleted",
                               "NetConnection.ICE.TricleCompleted"):
            self._ws_send({"subscribe": self.stream, "requestId": self.request_id})

    def socket_codes(self):
        return [m["data"].get("code") for m in self.socket_messages
                if isinstance(m, dict) and isinstance(m.get("data"), dict)]

    def switch_channel(self):
        """Moves signaling to the data channel and closes the socket, as the SDK does."""
        self._ws_send({"switchChannel": "red5pro"})
        self.ws.close(Soup.WebsocketCloseCode.NORMAL, None)

    def stop(self):
        if self.resource:
            try:
                http_request("DELETE", self.resource, timeout=5)
            except OSError:
                pass   # the edge is gone
            self.resource = None
        if self.ws and self.ws.get_state() == Soup.WebsocketState.OPEN:
            self.ws.close(Soup.WebsocketCloseCode.NORMAL, None)
        self.pipeline.set_state(Gst.State.NULL)
