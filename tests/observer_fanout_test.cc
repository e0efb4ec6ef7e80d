// ObserverFanout: every callback reaches every target in order, chain
// detail is wanted iff some target wants it, and simplest() avoids the
// fan-out when there is one target.
#include "sim/output/observer_fanout.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/core_harness.h"

using namespace ctest;

namespace {

struct Recorder : ctcore::Observer {
  Recorder(std::string name, std::vector<std::string>* log, bool detail)
      : name_(std::move(name)), log_(log), detail_(detail) {}
  bool wants_chain_detail() const override { return detail_; }
  void on_chain_entry(const nf_conntrack_tuple_hash&, bool, bool eq) override {
    log_->push_back(name_ + ":chain:" + (eq ? "eq" : "ne"));
  }
  void on_lookup(const net&, uint16_t, const nf_conntrack_tuple&, uint32_t, uint32_t, uint32_t,
                 const nf_conntrack_tuple_hash* m) override {
    log_->push_back(name_ + (m ? ":lookup:hit" : ":lookup:miss"));
  }
  void on_new(const nf_conn&) override { log_->push_back(name_ + ":new"); }
  void on_confirm(const nf_conn&, uint32_t, uint32_t) override { log_->push_back(name_ + ":confirm"); }
  void on_update(const nf_conn&) override { log_->push_back(name_ + ":update"); }
  std::string name_;
  std::vector<std::string>* log_;
  bool detail_;
};

}  // namespace

TEST_CASE("ObserverFanout forwards each core callback to every target, in order") {
  std::vector<std::string> log;
  Recorder a("a", &log, false), b("b", &log, true);
  ctsim::ObserverFanout fan;
  CHECK(fan.simplest() == nullptr);
  fan.add(nullptr);  // ignored
  fan.add(&a);
  CHECK(fan.simplest() == &a);
  CHECK(!fan.wants_chain_detail());
  fan.add(&b);
  CHECK(fan.simplest() == &fan);
  CHECK(fan.wants_chain_detail());

  World w;
  w.ct.set_observer(&fan);
  auto c = ipv4(198, 18, 0, 1), s = ipv4(198, 18, 0, 2);
  w.forward(tcp_packet(c, 1000, s, 80, TCPHDR_SYN, 1));
  CHECK(log == std::vector<std::string>{"a:lookup:miss", "b:lookup:miss", "a:new", "b:new", "a:update", "b:update",
                                        "a:confirm", "b:confirm"});
  log.clear();
  w.forward(tcp_packet(s, 80, c, 1000, TCPHDR_SYN | TCPHDR_ACK, 50, 2));
  // the chain walk is reported: b wants it, and the fan-out passes it to a as well
  REQUIRE(log.size() >= 4);
  CHECK(log[0] == "a:chain:eq");
  CHECK(log[1] == "b:chain:eq");
  CHECK(log[2] == "a:lookup:hit");
  CHECK(log[3] == "b:lookup:hit");
  w.ct.set_observer(nullptr);
}
