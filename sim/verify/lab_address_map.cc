#include "sim/verify/lab_address_map.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "sim/scenario/packet_notation.h"

namespace ctsim::verify {

namespace {

using ctcore::NFPROTO_IPV6;

int width(uint16_t l3num) { return l3num == NFPROTO_IPV6 ? 128 : 32; }

// 2^bits - 1 without shifting by the type's width.
AddressValue low_mask(int bits) { return bits >= 128 ? ~AddressValue{0} : (AddressValue{1} << bits) - 1; }

AddressValue block_last(const AddressBlock& b) { return b.base | low_mask(width(b.l3num) - b.len); }

// The lab's room for scenario blocks: [first, end) (end exclusive), below
// the part kept for the lab's plumbing.
struct LabRange {
  AddressValue first, end;
};
LabRange lab_range(uint16_t l3num) {
  if (l3num == NFPROTO_IPV6) {
    const AddressValue base = AddressValue{0x20010db8} << 96;            // 2001:db8::/32
    return {base, base + (AddressValue{0xffff} << 80)};                  // up to 2001:db8:ffff::
  }
  return {0xC6120000u, 0xC613FF00u};  // 198.18.0.0 .. 198.19.254.255
}

bool is_address_char(char c, bool v6) {
  if (c >= '0' && c <= '9') return true;
  if (c == '.') return true;
  return v6 && (c == ':' || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
}

}  // namespace

AddressValue address_value(uint16_t l3num, const ctcore::nf_inet_addr& a) {
  unsigned char bytes[16];
  std::memcpy(bytes, a.all, sizeof bytes);  // the words hold network-order bytes
  AddressValue v = 0;
  for (int i = 0; i < width(l3num) / 8; ++i) v = (v << 8) | bytes[i];
  return v;
}

ctcore::nf_inet_addr address_from_value(uint16_t l3num, AddressValue v) {
  unsigned char bytes[16] = {};
  const int n = width(l3num) / 8;
  for (int i = n - 1; i >= 0; --i) {
    bytes[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
  ctcore::nf_inet_addr a;
  std::memcpy(a.all, bytes, sizeof bytes);
  return a;
}

AddressBlock block_covering(uint16_t l3num, AddressValue lo, AddressValue hi) {
  int k = 0;  // the bits in which lo and hi differ, and all below them
  for (AddressValue x = lo ^ hi; x != 0; x >>= 1) ++k;
  return AddressBlock{l3num, lo & ~low_mask(k), static_cast<uint8_t>(width(l3num) - k)};
}

std::string format_block(const AddressBlock& b) {
  std::string s = format_address(b.l3num, address_from_value(b.l3num, b.base));
  if (b.len != width(b.l3num)) {
    s.push_back('/');
    s += std::to_string(b.len);
  }
  return s;
}

ctcore::nf_inet_addr LabAddressMap::gateway(uint16_t l3num) {
  if (l3num == NFPROTO_IPV6) return address_from_value(l3num, (AddressValue{0x20010db8ffff} << 80) | 1);
  return address_from_value(l3num, 0xC613FF01u);  // 198.19.255.1
}

void LabAddressMap::add_range(uint16_t l3num, const ctcore::nf_inet_addr& lo, const ctcore::nf_inet_addr& hi) {
  AddressValue a = address_value(l3num, lo), b = address_value(l3num, hi);
  if (a > b) std::swap(a, b);
  noted_.push_back(block_covering(l3num, a, b));
}

void LabAddressMap::add_prefix(uint16_t l3num, const ctcore::nf_inet_addr& a, uint8_t len) {
  const AddressValue v = address_value(l3num, a);
  const int host_bits = width(l3num) - std::min<int>(len, width(l3num));
  noted_.push_back(AddressBlock{l3num, v & ~low_mask(host_bits), static_cast<uint8_t>(width(l3num) - host_bits)});
}

Status LabAddressMap::build() {
  // Aligned blocks nest or are disjoint: sorted by base (the larger first
  // at one base), a block inside an earlier kept one is inside the last.
  std::vector<AddressBlock> blocks = noted_;
  std::sort(blocks.begin(), blocks.end(), [](const AddressBlock& x, const AddressBlock& y) {
    if (x.l3num != y.l3num) return x.l3num < y.l3num;
    if (x.base != y.base) return x.base < y.base;
    return x.len < y.len;
  });
  std::vector<AddressBlock> kept;
  for (const AddressBlock& b : blocks) {
    if (!kept.empty() && kept.back().l3num == b.l3num && b.base <= block_last(kept.back())) continue;
    kept.push_back(b);
  }
  // Largest first keeps every placement aligned without gaps to fill.
  std::vector<AddressBlock> order = kept;
  std::stable_sort(order.begin(), order.end(), [](const AddressBlock& x, const AddressBlock& y) {
    if (x.l3num != y.l3num) return x.l3num < y.l3num;
    return x.len < y.len;
  });
  windows_.clear();
  for (uint16_t l3 : {ctcore::NFPROTO_IPV4, NFPROTO_IPV6}) {
    const LabRange room = lab_range(l3);
    AddressValue cursor = room.first;
    AddressValue needed = 0;
    for (const AddressBlock& b : order) {
      if (b.l3num == l3) needed += low_mask(width(l3) - b.len) + 1;
    }
    for (const AddressBlock& b : order) {
      if (b.l3num != l3) continue;
      const AddressValue mask = low_mask(width(l3) - b.len);
      cursor = (cursor + mask) & ~mask;
      if (cursor > room.end || room.end - cursor < mask + 1) {
        const bool v6 = l3 == NFPROTO_IPV6;
        return Status::InvalidArgument(
            std::string("the scenario's ") + (v6 ? "IPv6" : "IPv4") + " addresses need " +
            (v6 ? "more room" : std::to_string(static_cast<uint64_t>(needed)) + " addresses") +
            " once widened to aligned blocks (largest " + format_block(order.front().l3num == l3 ? order.front() : b) +
            "); the lab range " + (v6 ? "2001:db8::/32" : "198.18.0.0/15") + " has " +
            (v6 ? "2^80 - 1 blocks of /48" : std::to_string(static_cast<uint64_t>(room.end - room.first))) +
            " for them");
      }
      windows_.push_back(Window{b, cursor});
      cursor += mask + 1;
    }
  }
  std::sort(windows_.begin(), windows_.end(), [](const Window& x, const Window& y) {
    if (x.scenario.l3num != y.scenario.l3num) return x.scenario.l3num < y.scenario.l3num;
    return x.scenario.base < y.scenario.base;
  });
  return Status::OK();
}

const LabAddressMap::Window* LabAddressMap::find(uint16_t l3num, AddressValue v, bool lab_side) const {
  for (const Window& w : windows_) {
    if (w.scenario.l3num != l3num) continue;
    const AddressValue base = lab_side ? w.lab_base : w.scenario.base;
    if (v >= base && v - base <= low_mask(width(l3num) - w.scenario.len)) return &w;
  }
  return nullptr;
}

ctcore::nf_inet_addr LabAddressMap::to_lab(uint16_t l3num, const ctcore::nf_inet_addr& a) const {
  const AddressValue v = address_value(l3num, a);
  const Window* w = find(l3num, v, false);
  return w ? address_from_value(l3num, w->lab_base + (v - w->scenario.base)) : a;
}

ctcore::nf_inet_addr LabAddressMap::from_lab(uint16_t l3num, const ctcore::nf_inet_addr& a) const {
  const AddressValue v = address_value(l3num, a);
  const Window* w = find(l3num, v, true);
  return w ? address_from_value(l3num, w->scenario.base + (v - w->lab_base)) : a;
}

std::vector<AddressBlock> LabAddressMap::prefix_to_lab(uint16_t l3num, const ctcore::nf_inet_addr& a,
                                                      uint8_t len) const {
  const int host_bits = width(l3num) - std::min<int>(len, width(l3num));
  const AddressBlock p{l3num, address_value(l3num, a) & ~low_mask(host_bits),
                       static_cast<uint8_t>(width(l3num) - host_bits)};
  std::vector<AddressBlock> out;
  if (const Window* w = find(l3num, p.base, false); w && w->scenario.len <= p.len) {
    out.push_back(AddressBlock{l3num, w->lab_base + (p.base - w->scenario.base), p.len});
    return out;
  }
  for (const Window& w : windows_) {
    if (w.scenario.l3num == l3num && w.scenario.base >= p.base && block_last(w.scenario) <= block_last(p))
      out.push_back(AddressBlock{l3num, w.lab_base, w.scenario.len});
  }
  return out;
}

std::string LabAddressMap::text_from_lab(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    // A word of address characters, not glued to a longer word.
    const bool starts_word = i == 0 || !(std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == ':' ||
                                         text[i - 1] == '.');
    if (starts_word && is_address_char(text[i], true)) {
      size_t j = i;
      while (j < text.size() && is_address_char(text[j], true)) ++j;
      std::string word(text.substr(i, j - i));
      const bool v6 = std::count(word.begin(), word.end(), ':') >= 2;
      if (!v6) {  // an IPv4 address is the word's digits and dots ("198.18.0.5:80")
        j = i;
        while (j < text.size() && is_address_char(text[j], false)) ++j;
        word = std::string(text.substr(i, j - i));
      }
      const bool word_ends = j == text.size() || !std::isalnum(static_cast<unsigned char>(text[j]));
      unsigned char buf[16];
      if (word_ends && inet_pton(v6 ? AF_INET6 : AF_INET, word.c_str(), buf) == 1) {
        ctcore::nf_inet_addr a;
        std::memcpy(a.all, buf, v6 ? 16 : 4);
        const uint16_t l3 = v6 ? NFPROTO_IPV6 : ctcore::NFPROTO_IPV4;
        const ctcore::nf_inet_addr back = from_lab(l3, a);
        out += back == a ? word : format_address(l3, back);
        i = j;
        continue;
      }
      // Not an address: copy the word's first character and look again
      // after it (a dotted quad may follow a colon: "::ffff:1.2.3.4").
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

}  // namespace ctsim::verify
