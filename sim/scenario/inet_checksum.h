// The checksums of the headers conntrack verifies: the Internet checksum
// (RFC 1071; IPv4 header, TCP, UDP, UDP-Lite, ICMP, ICMPv6, DCCP, each with
// its pseudo-header) and SCTP's CRC32c (RFC 3309).
//
// Threading: pure functions.
#ifndef CTSIM_SIM_SCENARIO_INET_CHECKSUM_H_
#define CTSIM_SIM_SCENARIO_INET_CHECKSUM_H_

#include <cstddef>
#include <cstdint>

namespace ctsim {

// The one's-complement sum of `len` bytes added to `sum` (not folded).
uint32_t csum_partial(const uint8_t* data, size_t len, uint32_t sum);
// Folds a sum to 16 bits and complements it: the checksum field's value.
uint16_t csum_fold(uint32_t sum);
// The checksum of an IPv4 header of `ihl` 32-bit words (5 to 15), as the
// kernel's ip_fast_csum: 0 when the header's own checksum field is right.
uint16_t ip_fast_csum(const uint8_t* iph, unsigned ihl);
// The pseudo-header sum of IPv4 (n = 4) or IPv6 (n = 16) addresses, the
// protocol and the layer-4 length.
uint32_t csum_pseudo(const uint8_t* saddr, const uint8_t* daddr, size_t n, uint8_t proto, uint32_t l4len);
// CRC32c of `len` bytes (SCTP's checksum; on the wire least significant
// byte first). `crc`: the CRC of the bytes before these, to continue it.
uint32_t crc32c(const uint8_t* data, size_t len, uint32_t crc = 0);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_INET_CHECKSUM_H_
