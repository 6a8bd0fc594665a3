#!/usr/bin/env python3
"""The test cluster's HTTP side as browsers and the SDK meet real Red5 Pro servers (protocol
notes, sections 2 and 5): CORS on every Stream Manager and edge endpoint and their
pre-flights; WHEP redirects between edges; lookups answering serverAddress with a port."""
import base64
from http.client import HTTPConnection
import json
import os
import unittest

from testcluster import Cluster
from urllib.parse import urljoin

from webrtcclient import Subscriber, http_request

ORIGIN = "https://player.example.test"
METHODS = {"GET", "POST", "PATCH", "DELETE", "OPTIONS"}


def header_list(value):
    return {v.strip().lower() for v in (value or "").split(",") if v.strip()}


class Cors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster("--edges", "1")
        port = cls.cluster.port
        cls.sm = f"http://127.0.0.1:{port}"
        cls.edge = f"http://127.0.0.2:{port}"
        # a WHEP resource to ask about
        status, headers, _ = http_request(
            "POST", f"{cls.edge}/live/whep/endpoint/stream1?requestId=cors", b"")
        assert status == 201, status
        cls.resource = headers["Location"]

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def endpoints(self):
        """(name, url, the method a browser would then use) for every endpoint a browser
        reaches cross-origin."""
        sm = self.sm
        return [
            ("SM 1.x lookup",
             f"{sm}/streammanager/api/4.0/event/live/stream1?action=subscribe", "GET"),
            ("SM 2.0 lookup", f"{sm}/as/v1/streams/stream/group1/subscribe/live/stream1", "GET"),
            ("SM 2.0 WHEP proxy", f"{sm}/as/v1/proxy/whep/live/stream1?nodeGroup=group1", "POST"),
            ("SM 2.0 WHEP proxy resource", f"{sm}/as/v1/proxy/whep/resource/edge1/0000", "PATCH"),
            ("SM 1.x WebSocket proxy", f"{sm}/streammanager/?id=s&host=127.0.0.2&app=live", "GET"),
            ("SM 2.0 WebSocket proxy", f"{sm}/as/v1/proxy/ws/subscribe/live/stream1?id=s", "GET"),
            ("edge WHEP endpoint", f"{self.edge}/live/whep/endpoint/stream1", "POST"),
            ("edge WHEP resource", f"{self.edge}{self.resource}", "DELETE"),
            ("edge WebSocket", f"{self.edge}/live/?id=s", "GET"),
        ]

    def test_every_endpoint_answers_a_preflight_with_the_methods_and_headers_allowed(self):
        for name, url, method in self.endpoints():
            with self.subTest(endpoint=name):
                status, h, _ = http_request("OPTIONS", url, headers={
                    "Origin": ORIGIN, "Access-Control-Request-Method": method,
                    "Access-Control-Request-Headers": "content-type,authorization"})
                self.assertIn(status, (200, 204))
                self.assertIn(h["Access-Control-Allow-Origin"], (ORIGIN, "*"))
                self.assertLessEqual({m.lower() for m in METHODS},
                                     header_list(h["Access-Control-Allow-Methods"]))
                self.assertLessEqual({"content-type", "authorization"},
                                     header_list(h["Access-Control-Allow-Headers"]))
                self.assertLessEqual({"location", "link"},
                                     header_list(h["Access-Control-Expose-Headers"]))

    def test_lookup_answers_allow_the_origin_and_expose_location_and_link(self):
        for name, url, _ in self.endpoints()[:2]:
            with self.subTest(endpoint=name):
                status, h, _ = http_request("GET", url, headers={"Origin": ORIGIN})
                self.assertEqual(status, 200)
                self.assertIn(h["Access-Control-Allow-Origin"], (ORIGIN, "*"))
                self.assertLessEqual({"location", "link"},
                                     header_list(h["Access-Control-Expose-Headers"]))

    def test_errors_allow_the_origin_too(self):
        for url in (f"{self.sm}/streammanager/api/4.0/event/live/nostream?action=subscribe",
                    f"{self.edge}/live/whep/resource/nosuchresource"):
            with self.subTest(url=url):
                status, h, _ = http_request("PATCH" if "resource" in url else "GET", url,
                                    headers={"Origin": ORIGIN})
                self.assertEqual(status, 404)
                self.assertIn(h["Access-Control-Allow-Origin"], (ORIGIN, "*"))

    def test_whep_posts_direct_and_through_the_proxy_allow_the_origin_and_expose_location(self):
        for url in (f"{self.edge}/live/whep/endpoint/stream1?requestId=a",
                    f"{self.sm}/as/v1/proxy/whep/live/stream1?nodeGroup=group1&requestId=b"):
            with self.subTest(url=url):
                status, h, _ = http_request("POST", url, b"", {"Origin": ORIGIN})
                self.assertEqual(status, 201)
                self.assertTrue(h["Location"])
                self.assertIn(h["Access-Control-Allow-Origin"], (ORIGIN, "*"))
                self.assertIn("location", header_list(h["Access-Control-Expose-Headers"]))
                http_request("DELETE", urljoin(url, h["Location"]))

    def test_websocket_handshakes_allow_the_origin(self):
        for name, url, _ in self.endpoints():
            if "WebSocket" not in name:
                continue
            with self.subTest(endpoint=name):
                host, _, path = url.removeprefix("http://").partition("/")
                conn = HTTPConnection(host, timeout=10)
                conn.request("GET", "/" + path, headers={
                    "Origin": ORIGIN, "Upgrade": "websocket", "Connection": "Upgrade",
                    "Sec-WebSocket-Version": "13",
                    "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()})
                resp = conn.getresponse()
                self.assertEqual(resp.status, 101)
                self.assertIn(resp.getheader("Access-Control-Allow-Origin"), (ORIGIN, "*"))
                conn.close()


class WhepRedirect(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster("--edges", "2")
        self.port = self.cluster.port

    def tearDown(self):
        self.cluster.stop()

    def endpoint(self, edge, stream="stream1", query="requestId=r1&signal=true"):
        return f"http://{edge}:{self.port}/live/whep/endpoint/{stream}?{query}"

    def subscribers(self):
        return json.loads(self.cluster.control("/state", method="GET"))["subscribers"]

    def test_a_redirect_answers_307_once_with_the_same_endpoint_on_the_other_edge(self):
        self.cluster.control("/edge/redirect?edge=edge1&to=edge2&status=307")
        status, h, _ = http_request("POST", self.endpoint("127.0.0.2"), b"")
        self.assertEqual(status, 307)
        self.assertEqual(h["Location"], self.endpoint("127.0.0.3"))
        self.assertEqual(self.subscribers(), [])
        # once: the next POST is served where it is sent
        status, h, _ = http_request("POST", self.endpoint("127.0.0.2"), b"")
        self.assertEqual(status, 201)
        self.assertEqual([s["edge"] for s in self.subscribers()], ["edge1"])

    def test_a_redirect_with_once_false_answers_308_until_cleared(self):
        self.cluster.control("/edge/redirect?edge=edge1&to=edge2&status=308&once=false")
        for _ in range(2):
            status, h, _ = http_request("POST", self.endpoint("127.0.0.2"), b"")
            self.assertEqual(status, 308)
            self.assertEqual(h["Location"], self.endpoint("127.0.0.3"))
        self.cluster.control("/edge/redirect?edge=edge1")
        status, _, _ = http_request("POST", self.endpoint("127.0.0.2"), b"")
        self.assertEqual(status, 201)

    def test_following_the_redirect_gets_a_session_on_the_other_edge(self):
        self.cluster.control("/edge/redirect?edge=edge1&to=edge2")
        status, h, _ = http_request("POST", self.endpoint("127.0.0.2"), b"")
        self.assertEqual(status, 307)
        status, h, offer = http_request("POST", h["Location"], b"")
        self.assertEqual(status, 201)
        self.assertIn("a=setup:actpass", offer)
        self.assertEqual([s["edge"] for s in self.subscribers()], ["edge2"])
        self.assertEqual(self.subscribers()[0]["params"]["requestId"], "r1")

    def test_the_location_keeps_the_stream_name_escaped(self):
        self.cluster.control("/edge/redirect?edge=edge1&to=edge2")
        status, h, _ = http_request("POST", self.endpoint("127.0.0.2", "a%20b%2Fc"), b"")
        self.assertEqual(status, 307)
        self.assertEqual(h["Location"], self.endpoint("127.0.0.3", "a%20b%2Fc"))

    def test_a_redirect_to_no_such_edge_is_refused(self):
        with self.assertRaises(Exception):
            self.cluster.control("/edge/redirect?edge=edge1&to=edge9")

    def test_the_sm2_proxy_follows_an_edges_redirect_and_keeps_the_client_behind_it(self):
        self.cluster.control("/route?stream=stream1&edge=edge1")
        self.cluster.control("/edge/redirect?edge=edge1&to=edge2")
        url = f"http://127.0.0.1:{self.port}/as/v1/proxy/whep/live/stream1?nodeGroup=g"
        status, h, _ = http_request("POST", url, b"")
        self.assertEqual(status, 201)
        self.assertTrue(h["Location"].startswith("/as/v1/proxy/whep/resource/edge2/"),
                        h["Location"])
        self.assertEqual([s["edge"] for s in self.subscribers()], ["edge2"])
        status, _, _ = http_request("DELETE", urljoin(url, h["Location"]))
        self.assertEqual(status, 200)
        self.assertEqual(self.subscribers(), [])


class ServerAddressWithPort(unittest.TestCase):
    def lookups(self, cluster):
        sm = f"http://127.0.0.1:{cluster.port}"
        _, _, sm1 = http_request(
            "GET", f"{sm}/streammanager/api/4.0/event/live/stream1?action=subscribe")
        _, _, sm2 = http_request("GET", f"{sm}/as/v1/streams/stream/g/subscribe/live/stream1")
        return json.loads(sm1)["serverAddress"], json.loads(sm2)[0]["serverAddress"]

    def test_lookups_answer_the_port_when_the_control_api_asks(self):
        with Cluster("--edges", "1") as cluster:
            self.assertEqual(self.lookups(cluster), ("127.0.0.2", "127.0.0.2"))
            cluster.control("/sm/server-address?with-port=true")
            with_port = f"127.0.0.2:{cluster.port}"
            self.assertEqual(self.lookups(cluster), (with_port, with_port))
            cluster.control("/sm/server-address?with-port=false")
            self.assertEqual(self.lookups(cluster), ("127.0.0.2", "127.0.0.2"))

    def test_lookups_answer_the_port_from_the_start_with_the_option(self):
        with Cluster("--edges", "1", "--server-address-with-port") as cluster:
            with_port = f"127.0.0.2:{cluster.port}"
            self.assertEqual(self.lookups(cluster), (with_port, with_port))

    def test_the_sm1_proxy_takes_the_address_with_the_port_as_host(self):
        with Cluster("--edges", "1", "--server-address-with-port") as cluster:
            s = Subscriber()
            try:
                s.websocket(f"ws://127.0.0.1:{cluster.port}/streammanager/?id=subscriber-test"
                            f"&host=127.0.0.2:{cluster.port}&app=live", "stream1")
                self.assertTrue(s.plays(), s.socket_codes())
            finally:
                s.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
