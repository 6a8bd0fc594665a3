/* join: start () to the first video frame at the sink, decoded, four ways: WHEP straight
 * to a Red5 Pro flavour edge (it offers), WHEP to a standard edge (it answers), Red5 Pro's
 * WebSocket protocol, and WHEP after a Stream Manager 2.0 lookup. One warm-up join first
 * (it pays for loading plugins and codecs), then runs x each case, cases rotated per run. */
#include "parts.h"
#include "results.h"
#include "test-cluster.h"

namespace bench {

namespace {

struct Case {
  const char *name;
  Target target;
};

/* One join; its time in ms, < 0 when no frame came. */
double
join_once (const Config &cfg, const Target &target, std::string *why)
{
  auto sub = make_subscriber (cfg.client, target);
  double ms = -1;
  if (sub->start () &&
      wait_for ([&] { return sub->video.first_us () || sub->failed (); }, 20) &&
      !sub->failed ())
    ms = sub->join_ms ();
  if (ms < 0)
    *why = sub->failed () ? sub->error () : "no frame within 20 s";
  sub->stop ();
  return ms;
}

}  // namespace

void
run_join (const Config &cfg)
{
  TestCluster cluster ({ "--edges", "2", "--edge-flavours", "red5,standard" });
  const std::string red5 = cluster.edges ()[0].address;
  const std::string standard = cluster.edges ()[1].address;
  Target base;
  base.port = cluster.port ();
  std::vector<Case> cases;
  Target t = base;
  t.edge = red5;
  cases.push_back ({ "whep-red5", t });
  t.edge = standard;
  t.standard = true;
  cases.push_back ({ "whep-standard", t });
  t.edge = red5;
  t.standard = false;
  t.websocket = true;
  cases.push_back ({ "websocket", t });
  t = base;
  t.sm2 = true;   /* the Stream Manager names the first edge, the Red5 Pro flavour one */
  cases.push_back ({ "sm2-whep-red5", t });

  std::string why;
  double warm = join_once (cfg, cases[0].target, &why);
  note ("%s: warm-up join %.1f ms %s", cfg.client.label.c_str (), warm, why.c_str ());
  for (int run = 0; run < cfg.runs; run++) {
    for (size_t i = 0; i < cases.size (); i++) {
      const Case &c = cases[(i + run) % cases.size ()];
      g_usleep (300 * 1000);   /* the last subscriber's teardown on the edge */
      why.clear ();
      double ms = join_once (cfg, c.target, &why);
      if (ms >= 0)
        result ("join", c.name, cfg.client.label, "ms", ms);
      else
        note ("%s %s: no join: %s", cfg.client.label.c_str (), c.name, why.c_str ());
    }
  }
}

}  // namespace bench
