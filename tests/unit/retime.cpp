/* Unit tests for the HLS retimer: a live HLS join simulated frame by frame (segments of 1 s
 * at 25 fps, handed over as a whole when fetched), no element, no network. */
#include <gst/check/gstcheck.h>

#include "red5pro-retime.h"

#include <vector>

using namespace red5pro;

namespace {

constexpr GstClockTime FRAME = GST_SECOND / 25;

struct Out {
  GstClockTime in, arrival, out;
  bool key;
};

/* Segment n holds capture times [n s, n+1 s); it is fetched at fetched_at[n] (running
 * time), its frames arriving 1 ms apart. The demuxer's times are capture time + shift. */
std::vector<Out>
play (LiveRetimer &r, const std::vector<GstClockTime> &fetched_at, GstClockTime shift,
    guint *dropped)
{
  std::vector<Out> out;
  for (size_t n = 0; n < fetched_at.size (); n++) {
    for (guint f = 0; f < 25; f++) {
      GstClockTime capture = n * GST_SECOND + f * FRAME;
      GstClockTime arrival = fetched_at[n] + f * GST_MSECOND;
      bool key = f == 0;
      LiveRetimer::Verdict v = r.push (capture + shift, arrival, true, key);
      if (!v.pass) {
        (*dropped)++;
        continue;
      }
      out.push_back ({ capture, arrival, GstClockTime (GstClockTimeDiff (capture + shift) +
          v.offset), key });
    }
  }
  return out;
}

}  // namespace

GST_START_TEST (test_the_segments_of_the_join_are_dropped_and_output_starts_at_the_live_edge)
{
  LiveRetimer r;
  /* joined at 10.05 s: segments 7, 8, 9 (complete) fetched at once; 10 at 11.1 s, ...;
   * segment k here holds capture [7+k, 8+k); the demuxer's times are 5 s ahead */
  guint dropped = 0;
  std::vector<GstClockTime> play_at;
  for (auto ms : { 10050, 10060, 10070, 11100, 12080, 13150, 14090 })
    play_at.push_back (ms * GST_MSECOND);
  std::vector<Out> out;
  for (size_t k = 0; k < play_at.size (); k++) {
    for (guint f = 0; f < 25; f++) {
      GstClockTime capture = (7 + k) * GST_SECOND + f * FRAME;
      GstClockTime arrival = play_at[k] + f * GST_MSECOND;
      LiveRetimer::Verdict v = r.push (capture + 5 * GST_SECOND, arrival, true, f == 0);
      if (!v.pass) {
        dropped++;
        continue;
      }
      out.push_back ({ capture, arrival, GstClockTime (GstClockTimeDiff (capture) +
          5 * GST_SECOND + v.offset), f == 0 });
    }
  }
  /* the three segments of the join are dropped, output starts at segment 10's key frame */
  fail_unless_equals_int (dropped, 75);
  fail_unless (!out.empty ());
  fail_unless (out.front ().key);
  fail_unless_equals_uint64 (out.front ().in, 10 * GST_SECOND);
  /* it goes out at its capture time as well as the receiver can tell: segment 9's last
   * frame (9.96 s) came at 10.094 s, so 134 ms after capture */
  fail_unless_equals_uint64 (out.front ().out, 10 * GST_SECOND + 134 * GST_MSECOND);
  for (size_t i = 1; i < out.size (); i++) {
    fail_unless (out[i].out > out[i - 1].out, "time goes forward");
    fail_unless (out[i].out <= out[i].arrival, "never before it arrived");
  }
  /* late by at most about a segment (+ the fetch jitter) */
  fail_unless (r.lateness () <= 1200 * GST_MSECOND, "%" GST_TIME_FORMAT,
      GST_TIME_ARGS (r.lateness ()));
  fail_unless (r.lateness () >= 900 * GST_MSECOND);
}
GST_END_TEST;

GST_START_TEST (test_audio_waits_for_the_video_key_frame_unless_there_is_no_video)
{
  LiveRetimer r;
  /* burst at 1 s, then a segment waited for at 2 s: audio of it comes before its video */
  fail_unless (!r.push (0, GST_SECOND, true, true).pass);
  fail_unless (!r.push (500 * GST_MSECOND, GST_SECOND, true, false).pass);
  fail_unless (!r.push (GST_SECOND, 2200 * GST_MSECOND, false, true).pass);
  fail_unless (r.push (GST_SECOND, 2200 * GST_MSECOND, true, true).pass);
  fail_unless (r.push (GST_SECOND + FRAME, 2200 * GST_MSECOND, false, true).pass);

  LiveRetimer audio_only;
  audio_only.set_has_video (false);
  fail_unless (!audio_only.push (0, GST_SECOND, false, true).pass);
  fail_unless (audio_only.push (GST_SECOND, 2200 * GST_MSECOND, false, true).pass);
}
GST_END_TEST;

GST_START_TEST (test_a_fresher_segment_catches_up_without_going_back)
{
  LiveRetimer r;
  guint dropped = 0;
  /* fetched late at first (400 ms after completion), then promptly (50 ms) */
  std::vector<GstClockTime> fetched;
  for (int n = 0; n < 8; n++)
    fetched.push_back ((n + 1) * GST_SECOND + (n < 4 ? 400 : 50) * GST_MSECOND);
  std::vector<Out> out = play (r, fetched, 0, &dropped);
  fail_unless (out.size () > 100);
  for (size_t i = 1; i < out.size (); i++)
    fail_unless (out[i].out >= out[i - 1].out);
  /* the last segments go out 114 ms after capture (fetched 50 ms after the last frame's
   * 40 ms ended, which came 24 ms into the fetch), not 464 ms as the first ones did */
  const Out &last = out.back ();
  GstClockTime behind = last.out - last.in;
  fail_unless (behind == 114 * GST_MSECOND, "%" GST_TIME_FORMAT, GST_TIME_ARGS (behind));
}
GST_END_TEST;

GST_START_TEST (test_a_new_segment_takes_the_offset_again)
{
  LiveRetimer r;
  fail_unless (!r.push (0, GST_SECOND, true, true).pass);
  fail_unless (r.push (GST_SECOND, 2500 * GST_MSECOND, true, true).pass);
  /* the demuxer's times jump back (a discontinuity): the next buffer goes out on arrival */
  r.new_segment ();
  LiveRetimer::Verdict v = r.push (100 * GST_MSECOND, 2600 * GST_MSECOND, true, false);
  fail_unless (v.pass);
  fail_unless_equals_int64 (GstClockTimeDiff (100 * GST_MSECOND) + v.offset,
      GstClockTimeDiff (2600 * GST_MSECOND));
}
GST_END_TEST;

static Suite *
retime_suite (void)
{
  Suite *s = suite_create ("red5pro-retime");
  TCase *tc = tcase_create ("retime");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_the_segments_of_the_join_are_dropped_and_output_starts_at_the_live_edge);
  tcase_add_test (tc, test_audio_waits_for_the_video_key_frame_unless_there_is_no_video);
  tcase_add_test (tc, test_a_fresher_segment_catches_up_without_going_back);
  tcase_add_test (tc, test_a_new_segment_takes_the_offset_again);
  return s;
}

GST_CHECK_MAIN (retime);
