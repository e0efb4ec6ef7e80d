// Packets as bytes on the wire: a core Packet (what the notation builds)
// encoded into an IPv4/IPv6 datagram, and a captured frame decoded back
// into the same Packet (docs/SCENARIO.md "Captures").
//
// Encoding writes every header conntrack reads, with valid checksums (the
// layer-4 one inverted when the packet is marked `badsum`; a `truncated`
// packet's layer-4 header is cut after its ports, or after 2 bytes),
// and a zero-filled payload of `len` bytes. decode_ip(encode_ip(p)) gives
// back p's headers: the round trip scenario -> pcap -> replay relies on it.
//
// Decoding takes a frame of one of the link types a capture may hold, skips
// the link header (802.1Q/QinQ tags, Linux cooked v1/v2, loopback/null),
// and reads the IP and layer-4 headers:
//   - a layer-4 header cut short inside the datagram marks the Packet
//     `truncated` (conntrack sees it and counts it invalid, as the kernel);
//   - a layer-4 checksum that does not verify marks it `bad_checksum`
//     (conntrack acts on it only when nf_conntrack_checksum is on, at
//     PRE_ROUTING, as v5.10 does); a frame cut by the capture's snaplen has
//     no checksum to verify and is taken as good. A UDP-Lite checksum that
//     verifies with protocol 17 in the pseudo-header instead of RFC 3828's
//     136 marks it `udplite_csum17` (the one conntrack accepts);
//   - what the kernel drops before conntrack (a bad IP header, a datagram
//     longer than its frame) or ctsim does not model (IPv4/IPv6 fragments:
//     the kernel reassembles them in nf_defrag before conntrack) is a
//     skip, with a reason (FrameSkip).
//
// Threading: pure functions.
#ifndef CTSIM_SIM_SCENARIO_PACKET_WIRE_H_
#define CTSIM_SIM_SCENARIO_PACKET_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/packet.h"

namespace ctsim {

// Link-layer header types (the tcpdump.org LINKTYPE_ numbers a capture
// file records).
constexpr int kLinkNull = 0;         // BSD loopback: 4-byte host-order family
constexpr int kLinkEthernet = 1;     // Ethernet II, with 802.1Q / 802.1ad tags
constexpr int kLinkRaw = 101;        // raw IPv4 or IPv6
constexpr int kLinkLinuxSll = 113;   // Linux cooked capture v1 (tcpdump -i any, old)
constexpr int kLinkLoop = 108;       // OpenBSD loopback: 4-byte network-order family
constexpr int kLinkIpv4 = 228;       // raw IPv4
constexpr int kLinkIpv6 = 229;       // raw IPv6
constexpr int kLinkLinuxSll2 = 276;  // Linux cooked capture v2 (tcpdump -i any)

// Why a frame was not replayed, one reason each: the summary and the
// trace's `skipped` records count them by name (kFrameSkipNames).
enum class FrameSkip : uint8_t {
  kNone,
  kLinkHeader,  // frame shorter than its link-layer header
  kNotIp,       // not IPv4/IPv6 (ARP, LLDP, ...)
  kIpHeader,    // IP header cut short or malformed (version, IHL, length)
  kIpLength,    // the IP length says more bytes than the frame holds
  kFragment,    // an IPv4 or IPv6 fragment (nf_defrag is not modelled)
  kSnaplen,     // the capture's snaplen cut the layer-4 header
  kOutgoing,    // cooked capture: the packet was leaving, not arriving
  kUnsupportedLink,
  kNoInterface,  // a capture entry with `interfaces`: the frame names none of them
};
inline constexpr const char* kFrameSkipNames[] = {
    "none",     "link-header", "not-ip",   "ip-header",        "ip-length",
    "fragment", "snaplen",     "outgoing", "unsupported-link", "no-interface"};
inline constexpr size_t kFrameSkipCount = sizeof(kFrameSkipNames) / sizeof(kFrameSkipNames[0]);
static_assert(kFrameSkipCount == static_cast<size_t>(FrameSkip::kNoInterface) + 1);

// Which packets of a cooked (`-i any`) capture to take: the ones arriving
// (forward and input paths) or the ones leaving (output path). A forwarded
// packet appears twice in such a capture, in on one interface and out on
// another; conntrack must see it once.
enum class CookedDirection : uint8_t { kIncoming, kOutgoing };

// Appends the IP datagram of `p` (IPv4 without options, or IPv6 without
// extension headers) to *out.
void encode_ip(const ctcore::Packet& p, std::string* out);
// Appends an Ethernet II frame holding encode_ip(p): source
// 02:00:00:00:HH:LL where HHLL is `cpu` (how `ctsim export` records the CPU
// a scenario put the packet on; replay's cpu "mac" reads it back), and
// destination 02:00:00:00:HH:LL where HHLL is `interface` + 1 (how export
// records the (namespace, path) the packet arrived by, numbered from 0 in
// the order they first appear; a capture entry's `interfaces` reads it
// back). The first interface's destination, 02:00:00:00:00:01, is the one
// every frame had before interfaces were numbered.
void encode_ethernet(const ctcore::Packet& p, uint16_t cpu, std::string* out, uint16_t interface = 0);
// The CPU encode_ethernet wrote into a frame, or -1 if it is not such a frame.
int ethernet_cpu_mark(int linktype, const uint8_t* frame, size_t caplen);
// The interface encode_ethernet wrote into a frame, or -1 if it is not such
// a frame.
int ethernet_interface_mark(int linktype, const uint8_t* frame, size_t caplen);

// Decodes a frame of `linktype` with `caplen` bytes captured of `wirelen`.
// On kNone, *out holds the packet (every field the notation can set; the
// conn fields untouched).
FrameSkip decode_frame(int linktype, const uint8_t* frame, size_t caplen, size_t wirelen, CookedDirection dir,
                       ctcore::Packet* out);
// Decodes an IP datagram (version from its first nibble). `complete`:
// the capture holds the whole datagram (else checksums are not checked).
FrameSkip decode_ip(const uint8_t* data, size_t len, bool complete, ctcore::Packet* out);

// Whether decode_frame reads this link type.
bool link_type_supported(int linktype);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_PACKET_WIRE_H_
