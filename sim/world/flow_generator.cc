#include "sim/world/flow_generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "sim/scenario/packet_notation.h"

namespace ctsim {

using ctcore::Packet;

namespace {

constexpr uint16_t kEphemeralLo = 32768, kEphemeralHi = 60999;  // Linux ip_local_port_range
constexpr uint32_t kDataBytes = 1000;
constexpr uint16_t kWindow = 64240;
constexpr SimTime kTcpRtoMin = 200'000'000;      // TCP_RTO_MIN
constexpr SimTime kTcpTimeoutInit = 1'000'000'000;  // TCP_TIMEOUT_INIT: a SYN's (or SYN-ACK's) first RTO
constexpr SimTime kTcpRtoMax = 120'000'000'000;  // TCP_RTO_MAX

// Every field at its default. Assigning it is one plain 184-byte copy;
// `*p = Packet{}` built a value-initialised temporary (a memset and the
// non-zero defaults) and copied that, on every flow packet.
constexpr Packet kBlankPacket{};

// An address drawn uniformly from the prefix.
ctcore::nf_inet_addr draw_address(Rng& rng, const EndpointRange& r) {
  ctcore::nf_inet_addr a = r.addr;
  const unsigned bits = r.l3num == ctcore::NFPROTO_IPV4 ? 32 : 128;
  // One draw per host bit, in address order (bit `prefix_len` first). The
  // bit is merged without a branch: a branch on a random bit is
  // mispredicted half the time.
  for (unsigned bit = r.prefix_len; bit < bits; ++bit) {
    const unsigned byte = bit / 8, in_byte = 7 - bit % 8;
    const uint32_t mask = 1u << (8 * (byte % 4) + in_byte);
    const uint32_t drawn = 0u - static_cast<uint32_t>(rng.next() & 1);  // all ones iff the bit is 1
    a.all[byte / 4] = (a.all[byte / 4] & ~mask) | (drawn & mask);
  }
  return a;
}

uint16_t draw_port(Rng& rng, const EndpointRange& r, uint16_t lo, uint16_t hi) {
  if (r.has_port) return static_cast<uint16_t>(rng.range(r.port_lo, r.port_hi));
  return static_cast<uint16_t>(rng.range(lo, hi));
}

uint16_t script_steps(const FlowSpec& s, FlowSpec::Kind kind) {
  const uint32_t d = s.data_packets;
  switch (kind) {
    case FlowSpec::Kind::kTcp:
      return static_cast<uint16_t>(3 + 2 * d +
                                   (s.close == FlowSpec::Close::kFin   ? 3
                                    : s.close == FlowSpec::Close::kRst ? 1
                                                                       : 0));
    case FlowSpec::Kind::kUdp:
    case FlowSpec::Kind::kIcmp: return static_cast<uint16_t>(std::max<uint32_t>(d, 1) * (s.reply ? 2 : 1));
    case FlowSpec::Kind::kMix: break;
  }
  return 0;
}

}  // namespace

FlowGenerator::FlowGenerator(const FlowSpec& spec, uint32_t entry, uint64_t seed)
    : spec_(spec), entry_(entry), seed_(seed), rng_(seed, 10000 + entry) {
  if (spec_.rate_nano != 0)
    mean_gap_ = static_cast<uint64_t>((static_cast<unsigned __int128>(kNsPerSec) * kNsPerSec) / spec_.rate_nano);
}

SimTime FlowGenerator::next_gap() {
  if (spec_.rate_nano != 0) return rng_.exponential_ns(mean_gap_);
  return spec_.interval;
}

void FlowGenerator::start(FlowConn* c, uint64_t index, uint16_t net, uint16_t cpus) {
  const uint32_t gen = c->gen + 1;
  *c = FlowConn{};
  c->gen = gen;
  c->entry = entry_;
  c->net = net;
  c->kind = spec_.kind;
  if (c->kind == FlowSpec::Kind::kMix) {
    const uint64_t total = uint64_t{spec_.weights[0]} + spec_.weights[1] + spec_.weights[2];
    uint64_t x = rng_.below(total);
    c->kind = x < spec_.weights[0]                                ? FlowSpec::Kind::kTcp
              : x < uint64_t{spec_.weights[0]} + spec_.weights[1] ? FlowSpec::Kind::kUdp
                                                                  : FlowSpec::Kind::kIcmp;
  }
  c->l3num = spec_.src.l3num;
  c->client = draw_address(rng_, spec_.src);
  c->server = draw_address(rng_, spec_.dst);
  if (c->kind == FlowSpec::Kind::kIcmp) {
    c->cport = static_cast<uint16_t>(rng_.range(1, 65535));  // echo id
  } else {
    c->cport = draw_port(rng_, spec_.src, kEphemeralLo, kEphemeralHi);
    c->sport = draw_port(rng_, spec_.dst, 1, 65535);
  }
  c->nxt[0] = rng_.next_u32();
  c->nxt[1] = rng_.next_u32();
  c->cpu = spec_.cpu_spread ? static_cast<uint16_t>(rng_.below(cpus)) : spec_.cpu;
  c->steps = script_steps(spec_, c->kind);
  c->loss = Rng(seed_ ^ (0x51ed270b27f5c1e3ull * (entry_ + 1)), index);
}

FlowGenerator::TcpSegment FlowGenerator::tcp_segment(const FlowConn& c) const {
  const uint32_t d = spec_.data_packets;
  const uint16_t s = c.step;
  if (s == 0) return {true, ctcore::TCPHDR_SYN, 0};
  if (s == 1) return {false, ctcore::TCPHDR_SYN | ctcore::TCPHDR_ACK, 0};
  if (s == 2) return {true, ctcore::TCPHDR_ACK, 0};
  if (s < 3 + 2 * d) {
    const bool data = (s - 3) % 2 == 0;  // data from the client, then its ACK from the server
    return {data, data ? static_cast<uint8_t>(ctcore::TCPHDR_PSH | ctcore::TCPHDR_ACK) : ctcore::TCPHDR_ACK,
            data ? kDataBytes : 0};
  }
  const uint32_t k = s - (3 + 2 * d);
  if (spec_.close == FlowSpec::Close::kRst) return {true, ctcore::TCPHDR_RST | ctcore::TCPHDR_ACK, 0};
  // FIN from the client, FIN from the server, the client's last ACK.
  return {k != 1, k == 2 ? ctcore::TCPHDR_ACK : static_cast<uint8_t>(ctcore::TCPHDR_FIN | ctcore::TCPHDR_ACK), 0};
}

bool FlowGenerator::packet(const FlowConn& c, Packet* p) const {
  *p = kBlankPacket;
  p->l3num = c.l3num;
  const uint16_t s = c.step;
  bool from_client = true;
  if (c.kind == FlowSpec::Kind::kTcp) {
    const TcpSegment seg = tcp_segment(c);
    const uint8_t flags = seg.flags;
    from_client = seg.from_client;
    const int dir = from_client ? 0 : 1;
    p->protonum = ctcore::IPPROTO_TCP_;
    p->tcp_flags = flags;
    p->len = seg.len;
    p->window = kWindow;
    // A retransmission repeats the segment: its sequence number was not
    // advanced yet (advance() moves nxt only once the segment got through).
    p->seq = c.nxt[dir];
    p->ack_seq = (flags & ctcore::TCPHDR_ACK) ? c.nxt[1 - dir] : 0;
    if (flags & ctcore::TCPHDR_SYN) {
      p->wscale = 7;
      p->sackok = true;
      p->mss = 1460;
    }
    p->sport = from_client ? c.cport : c.sport;
    p->dport = from_client ? c.sport : c.cport;
  } else if (c.kind == FlowSpec::Kind::kUdp) {
    from_client = !spec_.reply || s % 2 == 0;
    p->protonum = ctcore::IPPROTO_UDP_;
    p->len = from_client ? 40 : 120;
    p->sport = from_client ? c.cport : c.sport;
    p->dport = from_client ? c.sport : c.cport;
  } else {
    from_client = !spec_.reply || s % 2 == 0;
    const bool v6 = c.l3num == ctcore::NFPROTO_IPV6;
    p->protonum = v6 ? ctcore::IPPROTO_ICMPV6_ : ctcore::IPPROTO_ICMP_;
    p->icmp_type = static_cast<uint8_t>(from_client ? (v6 ? 128 : 8) : (v6 ? 129 : 0));
    p->icmp_id = c.cport;
    p->icmp_seq = static_cast<uint16_t>(spec_.reply ? s / 2 + 1 : s + 1);
    p->len = 56;
  }
  p->saddr = from_client ? c.client : c.server;
  p->daddr = from_client ? c.server : c.client;
  if (!from_client && c.seen) {
    // Behind source or destination NAT the server saw other addresses than
    // the client's: it answers those, and conntrack's REPLY tuple matches.
    p->saddr = c.seen_dst;
    p->daddr = c.seen_src;
    if (c.kind == FlowSpec::Kind::kIcmp) {
      p->icmp_id = c.seen_sport;
    } else {
      p->sport = c.seen_dport;
      p->dport = c.seen_sport;
    }
  }
  return from_client;
}

void FlowGenerator::client_left(FlowConn& c, const Packet& p) {
  c.seen = true;
  c.seen_src = p.saddr;
  c.seen_dst = p.daddr;
  if (c.kind == FlowSpec::Kind::kIcmp) {
    c.seen_sport = p.icmp_id;
  } else {
    c.seen_sport = p.sport;
    c.seen_dport = p.dport;
  }
}

SimTime FlowGenerator::advance(FlowConn& c, bool lost) const {
  if (c.kind == FlowSpec::Kind::kTcp) {
    if (lost) {
      // Linux's RTO, doubling per retransmission of the same segment,
      // capped at 120 s: a handshake segment (SYN, SYN-ACK) starts at
      // TCP_TIMEOUT_INIT, 1 s (no RTT is known yet, RFC 6298); later ones
      // at max(2 rtt, TCP_RTO_MIN). After kTcpMaxRetransmits the sender
      // gives up on the connection (it sends nothing more).
      if (c.retries >= kTcpMaxRetransmits) return -1;
      c.retransmitting = true;
      const SimTime base =
          (tcp_segment(c).flags & ctcore::TCPHDR_SYN) ? kTcpTimeoutInit : std::max<SimTime>(2 * spec_.rtt, kTcpRtoMin);
      const SimTime rto = base << c.retries;
      ++c.retries;
      return std::min<SimTime>(rto, kTcpRtoMax);
    }
    c.retransmitting = false;
    c.retries = 0;
    // The segment got through: its sender's next sequence moves on.
    // The sender is told apart by its address and port, so a connection
    // to itself (the same address and port at both ends) counts every
    // segment as the client's.
    const TcpSegment seg = tcp_segment(c);
    const bool as_client = seg.from_client || (c.server == c.client && c.sport == c.cport);
    c.nxt[as_client ? 0 : 1] +=
        seg.len + ((seg.flags & ctcore::TCPHDR_SYN) ? 1 : 0) + ((seg.flags & ctcore::TCPHDR_FIN) ? 1 : 0);
  } else if (lost && spec_.reply && c.step % 2 == 0) {
    // A lost request gets no reply: skip it.
    ++c.step;
  }
  ++c.step;
  if (c.step >= c.steps) return -1;
  return spec_.rtt;
}

}  // namespace ctsim
