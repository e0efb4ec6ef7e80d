// Flow generators (docs/SCENARIO.md "Flows"): each `flows[]` entry expands, as
// the run goes, into connections whose packets follow a script:
//
//   tcp  SYN, SYN-ACK, ACK, then per data packet: data (client), ACK (server),
//        then close "fin": FIN (client), FIN (server), ACK (client);
//        "rst": RST (client); "none": nothing (left open).
//   udp  per exchange (data_packets, default 1): request, reply (if `reply`)
//   icmp per exchange: echo-request, echo-reply (if `reply`)
//   mix  each connection is tcp, udp or icmp by `weights`
//
// Each packet follows the previous one after `rtt`. A lost packet (`loss`)
// is lost after the conntrack box (conntrack saw it): TCP sends it again
// after an RTO of 1 s for a SYN or SYN-ACK, else max(2 rtt, 200 ms), doubled
// per retry and capped at 120 s
// (conntrack sees a retransmission), and gives up on the connection after
// kTcpMaxRetransmits retries of one segment (loss 1 cannot loop forever); a
// lost UDP or ICMP request gets no reply.
//
// Nothing is expanded up front: one pending event per entry (its next
// connection) and one per live connection (its next packet), so a
// million-flow scenario runs in memory bounded by the connections alive at
// once. Randomness: entry i draws from its own stream (seed, i), and each
// connection's losses from its own stream, so adding an entry never changes
// another entry's packets.
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_WORLD_FLOW_GENERATOR_H_
#define CTSIM_SIM_WORLD_FLOW_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/nf_conntrack_tuple.h"
#include "core/packet.h"
#include "sim/engine/rng.h"
#include "sim/engine/sim_time.h"
#include "sim/scenario/flow_spec.h"

namespace ctsim {

// Retransmissions of one segment before a flow's TCP sender gives up (Linux's
// tcp_syn_retries default).
constexpr uint8_t kTcpMaxRetransmits = 6;

// One live connection of a flow entry.
struct FlowConn {
  uint32_t entry = 0;
  FlowSpec::Kind kind = FlowSpec::Kind::kTcp;
  uint16_t net = 0;
  uint16_t cpu = 0;
  uint16_t l3num = 0;
  ctcore::nf_inet_addr client, server;
  uint16_t cport = 0, sport = 0;  // sport: the server's port; icmp: cport is the id
  uint32_t nxt[2] = {0, 0};       // next sequence number, client and server
  uint16_t step = 0, steps = 0;
  bool retransmitting = false;
  uint8_t retries = 0;  // retransmissions of the current segment
  // The segment in flight: sent at `sent_at`; its fate is decided one rtt
  // later (the simulator's next event for this connection).
  bool awaiting = false;  // a segment was sent and its fate is pending
  bool lost = false;      // lost after the box (drawn from `loss`)
  bool dropped = false;   // dropped by the box (conntrack or a rule)
  SimTime sent_at = 0;
  uint32_t gen = 0;  // distinguishes reuses of a pool slot
  Rng loss{0, 0};
  // The server answers what it received: the client's last packet as it
  // left the box, after NAT (set by the simulator through client_left()).
  // Until one has left, the server answers the client's own addresses.
  bool seen = false;
  ctcore::nf_inet_addr seen_src, seen_dst;
  uint16_t seen_sport = 0, seen_dport = 0;  // icmp: seen_sport is the echo id
};

// Draws a connection's endpoints and builds its packets.
class FlowGenerator {
 public:
  FlowGenerator(const FlowSpec& spec, uint32_t entry, uint64_t seed);

  const FlowSpec& spec() const { return spec_; }
  // Gap to the next connection's start.
  SimTime next_gap();
  // A new connection (the `index`-th of this entry).
  void start(FlowConn* c, uint64_t index, uint16_t net, uint16_t cpus);
  // The packet of the connection's current step; true if the client sends it.
  bool packet(const FlowConn& c, ctcore::Packet* p) const;
  // Advances after the current step was sent; returns the delay to the next
  // step, or -1 when the connection is finished. `lost` says the packet
  // just sent was lost.
  SimTime advance(FlowConn& c, bool lost) const;
  // The client's packet `p` (built by packet()) left the box, NAT applied:
  // the server's packets from now on answer it.
  static void client_left(FlowConn& c, const ctcore::Packet& p);
  // Whether the packet about to be sent is lost (draws from c.loss).
  bool draw_loss(FlowConn& c) const { return spec_.loss_ppm != 0 && c.loss.below(1'000'000) < spec_.loss_ppm; }

 private:
  // What the TCP script sends at the connection's current step.
  struct TcpSegment {
    bool from_client;
    uint8_t flags;  // TCPHDR_*
    uint32_t len;   // payload bytes
  };
  TcpSegment tcp_segment(const FlowConn& c) const;

  FlowSpec spec_;
  uint32_t entry_;
  uint64_t seed_;
  Rng rng_;
  // The mean Poisson gap, 1e9 / rate ns (rate_nano = rate * 1e9), divided
  // once here: a 128-bit division costs more than the draw.
  uint64_t mean_gap_ = 0;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_WORLD_FLOW_GENERATOR_H_
