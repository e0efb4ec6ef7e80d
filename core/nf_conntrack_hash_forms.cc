#include "core/nf_conntrack_hash_forms.h"

namespace ctcore {

namespace {

// Little-endian stores: the bytes an x86 kernel has in memory for a field
// whose value ctsim's tuple holds (see nf_conntrack_tuple.h).
void put_le16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void put_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_addr(uint8_t* p, const nf_inet_addr& a) {
  for (int i = 0; i < 4; ++i) put_le32(p + 4 * i, a.all[i]);
}

// The tuple's source part (struct nf_conntrack_man, 20 bytes): address,
// port/id, l3num; hash_by_src's struct starts with it.
void put_src(uint8_t* p, const nf_conntrack_tuple& t) {
  put_addr(p, t.src.u3);
  put_le16(p + 16, t.src.u_all);
  put_le16(p + 18, t.src.l3num);
}

// Bytes 0..35 of the kernel's tuple, which H1's struct and H3 share:
//   0..15 src.u3, 16..17 src.u.all, 18..19 src.l3num, 20..35 dst.u3.
// (H3 adds 36..37 dst.u.all and 38 dst.protonum: 39 bytes, all but dst.dir.)
void put_src_and_dst_addr(uint8_t* p, const nf_conntrack_tuple& t) {
  put_src(p, t);
  put_addr(p + 20, t.dst.u3);
}

}  // namespace

uint32_t hash_conntrack_raw_siphash_struct(const nf_conntrack_tuple& t, uint32_t zone_id, uint32_t net_hash_mix,
                                           const siphash_key_t& hash_rnd) {
  uint8_t combined[48];
  put_src_and_dst_addr(combined, t);
  put_le32(combined + 36, zone_id);
  put_le32(combined + 40, net_hash_mix);
  put_le16(combined + 44, t.dst.u_all);
  put_le16(combined + 46, t.dst.protonum);
  return static_cast<uint32_t>(siphash(combined, sizeof(combined), hash_rnd));
}

// The words, from the tuple's 32- and 16-bit fields as x86 reads them
// (IPv4 leaves all[1..3] zero, so then only a, b, c's ports and d count):
//   a = src.all[0] << 32 | src.all[3]
//   b = dst.all[0] << 32 | dst.all[3]
//   c = (src.u.all << 32 | dst.u.all << 16 | protonum) ^ (src.all[1] << 32 | src.all[2])
//   d = (zone << 32 | net_hash_mix) + (dst.all[1] << 32 | dst.all[2])   (mod 2^64)
// The 16-bit fields are widened to 64 bits before shifting (the __force
// casts), so a dst.u.all with its top bit set does not sign-extend.
uint32_t hash_conntrack_raw_siphash_4u64(const nf_conntrack_tuple& t, uint32_t zone_id, uint32_t net_hash_mix,
                                         const siphash_key_t& hash_rnd) {
  const auto pair = [](uint32_t hi, uint32_t lo) { return static_cast<uint64_t>(hi) << 32 | lo; };
  const uint64_t a = pair(t.src.u3.all[0], t.src.u3.all[3]);
  const uint64_t b = pair(t.dst.u3.all[0], t.dst.u3.all[3]);
  uint64_t c = static_cast<uint64_t>(t.src.u_all) << 32 | static_cast<uint64_t>(t.dst.u_all) << 16 | t.dst.protonum;
  uint64_t d = pair(zone_id, net_hash_mix);
  c ^= pair(t.src.u3.all[1], t.src.u3.all[2]);
  d += pair(t.dst.u3.all[1], t.dst.u3.all[2]);
  return static_cast<uint32_t>(siphash_4u64(a, b, c, d, hash_rnd));
}

uint32_t hash_conntrack_raw_siphash_tuple(const nf_conntrack_tuple& t, uint32_t zone_id, uint32_t net_hash_mix,
                                          const siphash_key_t& hash_rnd) {
  uint8_t bytes[39];
  put_src_and_dst_addr(bytes, t);
  put_le16(bytes + 36, t.dst.u_all);
  bytes[38] = t.dst.protonum;
  siphash_key_t key = hash_rnd;
  key.key[0] ^= zone_id;
  key.key[1] ^= net_hash_mix;
  return static_cast<uint32_t>(siphash(bytes, sizeof(bytes), key));
}

uint32_t hash_by_src_siphash(const nf_conntrack_tuple& t, uint32_t zone_id, uint32_t net_hash_mix,
                             const siphash_key_t& nf_nat_hash_rnd) {
  uint8_t combined[32];
  put_src(combined, t);
  put_le32(combined + 20, net_hash_mix);
  put_le32(combined + 24, t.dst.protonum);
  put_le32(combined + 28, zone_id);
  return static_cast<uint32_t>(siphash(combined, sizeof(combined), nf_nat_hash_rnd));
}

}  // namespace ctcore
