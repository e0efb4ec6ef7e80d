// The bijection between a scenario's addresses and the lab's: a kernel run
// may send only from 198.18.0.0/15 (IPv4) and 2001:db8::/32 (IPv6), inside
// namespaces it made (docs/VERIFY.md "Addresses"), yet any scenario must
// run — the walk-through's 192.168.1.2 and 10.0.0.2 included.
//
// The map works on aligned blocks ("windows"): every address, prefix or
// range the scenario uses is widened to the smallest aligned power-of-two
// block holding it; blocks that nest keep the larger one. Each block is
// placed at an equally aligned block of the lab range (largest first, so
// placement stays aligned), keeping its low bits. So a prefix or range of
// the scenario maps onto a prefix or range of the same size, a flow's
// random draw inside a /24 stays inside the mapped /24, and a rule's
// prefix maps to one lab prefix or to the set of lab blocks it covers.
//
// The top /24 of 198.19.0.0/16 and 2001:db8:ffff::/48 are kept for the
// lab's own plumbing (its gateways) and never given to the scenario.
//
// Threading: value type; const methods are safe to call concurrently.
#ifndef CTSIM_SIM_VERIFY_LAB_ADDRESS_MAP_H_
#define CTSIM_SIM_VERIFY_LAB_ADDRESS_MAP_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/nf_conntrack_tuple.h"
#include "sim/engine/status.h"

namespace ctsim::verify {

// An address as an unsigned integer in host order (IPv4 in the low 32 bits).
using AddressValue = unsigned __int128;

// An aligned block: base .. base + 2^(width - len) - 1, width 32 or 128.
struct AddressBlock {
  uint16_t l3num = ctcore::NFPROTO_IPV4;
  AddressValue base = 0;
  uint8_t len = 32;  // prefix length
  bool operator==(const AddressBlock&) const = default;
};

AddressValue address_value(uint16_t l3num, const ctcore::nf_inet_addr& a);
ctcore::nf_inet_addr address_from_value(uint16_t l3num, AddressValue v);
// The smallest aligned block holding lo..hi (same family).
AddressBlock block_covering(uint16_t l3num, AddressValue lo, AddressValue hi);
// "198.18.0.0/24", "2001:db8::/64"; a single address without "/len".
std::string format_block(const AddressBlock& b);

class LabAddressMap {
 public:
  // The lab's own addresses (outside every mapped block).
  static ctcore::nf_inet_addr gateway(uint16_t l3num);

  // Notes an address, or a range lo..hi, the scenario uses.
  void add(uint16_t l3num, const ctcore::nf_inet_addr& a) { add_range(l3num, a, a); }
  void add_range(uint16_t l3num, const ctcore::nf_inet_addr& lo, const ctcore::nf_inet_addr& hi);
  void add_prefix(uint16_t l3num, const ctcore::nf_inet_addr& a, uint8_t len);
  // Places every block noted; an error when they do not fit the lab range
  // (naming the family, the room needed and the room there is).
  Status build();

  // REQUIRES: build() succeeded. An address never noted is returned as is
  // (the caller noted every address it sends).
  ctcore::nf_inet_addr to_lab(uint16_t l3num, const ctcore::nf_inet_addr& a) const;
  // A lab address back to the scenario's; any other address as is.
  ctcore::nf_inet_addr from_lab(uint16_t l3num, const ctcore::nf_inet_addr& a) const;
  // The lab blocks that hold exactly the scenario addresses inside prefix
  // a/len: one block when the prefix lies inside a window, the windows it
  // covers otherwise, none when it holds no address the scenario uses.
  std::vector<AddressBlock> prefix_to_lab(uint16_t l3num, const ctcore::nf_inet_addr& a, uint8_t len) const;

  // Every lab address written in `text` (dotted quads; IPv6 words with a
  // colon) replaced by the scenario's, in the notation's format.
  std::string text_from_lab(std::string_view text) const;

  struct Window {
    AddressBlock scenario;
    AddressValue lab_base = 0;
  };
  const std::vector<Window>& windows() const { return windows_; }

 private:
  const Window* find(uint16_t l3num, AddressValue v, bool lab_side) const;
  std::vector<AddressBlock> noted_;
  std::vector<Window> windows_;  // sorted by family, then scenario base
};

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_LAB_ADDRESS_MAP_H_
