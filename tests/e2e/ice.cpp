/* End-to-end: red5prosrc against edges that are reached in other ways than over UDP host
 * candidates: ICE-TCP only, and TURN only through a real TURN server (coturn, started by
 * tests/common/turn-server.h, which is checked here first with coturn's own client). */
#include <gst/check/gstcheck.h>

#include "e2e-checks.h"
#include "test-cluster.h"
#include "test-subscriber.h"
#include "turn-server.h"

static std::string
base (TestCluster &c)
{
  return "host=127.0.0.1 port=" + std::to_string (c.port ()) +
      " stream-manager=sm2 stream-name=stream1 retry-timeout=0 ";
}

GST_START_TEST (test_the_turn_server_allocates_and_relays_for_its_own_client)
{
  TurnServer turn;
  /* turnutils_uclient (coturn) allocates relays and sends through them between two of its
   * own clients (-y): every message must come back */
  std::string port = std::to_string (turn.port ());
  const char *argv[] = { "turnutils_uclient", "-u", turn.user ().c_str (), "-w",
    turn.password ().c_str (), "-p", port.c_str (), "-y", "-n", "5", "-m", "1", "-l", "200",
    "-e", "127.0.0.1", "127.0.0.1", nullptr };
  GError *err = nullptr;
  GSubprocess *p = g_subprocess_newv (argv, GSubprocessFlags (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
          G_SUBPROCESS_FLAGS_STDERR_MERGE), &err);
  g_assert_no_error (err);
  char *out = nullptr;
  g_subprocess_communicate_utf8 (p, nullptr, nullptr, &out, nullptr, &err);
  g_assert_no_error (err);
  fail_unless (g_subprocess_get_if_exited (p) && g_subprocess_get_exit_status (p) == 0, "%s", out);
  fail_unless (strstr (out, "Total lost packets 0 ") != nullptr, "%s", out);
  fail_unless (turn.log ().find ("ALLOCATE processed, success") != std::string::npos);
  g_free (out);
  g_object_unref (p);
}
GST_END_TEST;

GST_START_TEST (test_a_tcp_only_edge_delivers_frames)
{
  TestCluster c ({ "--edges", "1", "--edge-ice", "tcp" });
  TestSubscriber sub (base (c));
  check_plays (sub);
}
GST_END_TEST;

GST_START_TEST (test_a_relay_only_edge_delivers_frames_through_the_turn_server)
{
  TurnServer turn;
  TestCluster c ({ "--edges", "1", "--edge-ice", "relay", "--turn-server", turn.url () });
  TestSubscriber sub (base (c));
  check_plays (sub);
  /* the edge allocated a relay and let the subscriber's address in */
  const std::string log = turn.log ();
  fail_unless (log.find ("ALLOCATE processed, success") != std::string::npos, "%s", log.c_str ());
  fail_unless (log.find ("CREATE_PERMISSION processed, success") != std::string::npos);
}
GST_END_TEST;

/* The TURN server the edge names in its WHEP Link headers (OPTIONS and the POST's answer,
 * SDK 15 / RFC 9725) is added to the attempt: relay-only without any turn-server of the
 * user's plays through it (it could not without: no relay candidate at all). */
GST_START_TEST (test_the_edges_link_header_turn_server_is_used)
{
  TurnServer turn;
  TestCluster c ({ "--edges", "1", "--edge-ice", "relay", "--turn-server", turn.url () });
  TestSubscriber sub (base (c) + " ice-transport-policy=relay");
  check_plays (sub);
}
GST_END_TEST;

static Suite *
ice_suite (void)
{
  Suite *s = suite_create ("red5prosrc-ice");
  TCase *tc = tcase_create ("e2e");
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_the_turn_server_allocates_and_relays_for_its_own_client);
  tcase_add_test (tc, test_a_tcp_only_edge_delivers_frames);
  tcase_add_test (tc, test_a_relay_only_edge_delivers_frames_through_the_turn_server);
  tcase_add_test (tc, test_the_edges_link_header_turn_server_is_used);
  return s;
}

GST_CHECK_MAIN (ice);
