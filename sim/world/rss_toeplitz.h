// Receive-side scaling as NICs do it: the Toeplitz hash (Microsoft's RSS
// specification) of a packet's addresses and ports, and the CPU its low
// 7 bits pick from a 128-entry indirection table filled round robin (the
// Linux default, ethtool_rxfh_indir_default).
//
// The key is the symmetric one (0x6d5a repeated): with it the hash of
// (src, dst, sport, dport) equals that of (dst, src, dport, sport), so
// both directions of a flow land on one CPU, as they do on NICs configured
// for symmetric RSS.
//
// Threading: pure functions.
#ifndef CTSIM_SIM_WORLD_RSS_TOEPLITZ_H_
#define CTSIM_SIM_WORLD_RSS_TOEPLITZ_H_

#include <cstddef>
#include <cstdint>

#include "core/packet.h"

namespace ctsim {

// The Toeplitz hash of `len` input bytes under the symmetric key.
uint32_t toeplitz_hash(const uint8_t* input, size_t len);
// The RSS hash of a packet: addresses and, for TCP, UDP, UDP-Lite, SCTP and
// DCCP, ports (the 4-tuple NICs hash); the addresses alone otherwise.
uint32_t rss_hash(const ctcore::Packet& p);
// The CPU of `hash` among `cpus` through the default indirection table.
inline uint16_t rss_cpu(uint32_t hash, uint16_t cpus) { return static_cast<uint16_t>((hash & 127u) % cpus); }

}  // namespace ctsim

#endif  // CTSIM_SIM_WORLD_RSS_TOEPLITZ_H_
