// Internal to the packet notation (packet_notation_*.cc): the vocabulary
// tables the parser and the formatter share, and the per-protocol handler
// interface of the parser.
//
// Threading: immutable tables and pure functions.
#ifndef CTSIM_SIM_SCENARIO_PACKET_NOTATION_INTERNAL_H_
#define CTSIM_SIM_SCENARIO_PACKET_NOTATION_INTERNAL_H_

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario/packet_notation.h"

namespace ctsim::notation {

// The protocol words of the notation ("icmpv6" is an alias of "icmp6").
struct ProtoWord {
  const char* name;
  uint8_t protonum;
  uint16_t l3num;  // 0: either
};
extern const ProtoWord kProtoWords[9];

bool has_ports(uint8_t protonum);

struct IcmpName {
  const char* name;
  uint8_t type;
  int code;
};
extern const IcmpName kIcmp4Names[18];
extern const IcmpName kIcmp6Names[20];

struct SctpChunkName {
  const char* name;
  uint32_t bit;
  uint8_t type;
};
extern const SctpChunkName kSctpChunks[13];

// DCCP packet types by number (0..9).
extern const char* const kDccpTypes[10];

// nf_inet_addr <-> network-order bytes (n = 4 or 16).
ctcore::nf_inet_addr from_bytes(const uint8_t* b, size_t n);
void to_bytes(const ctcore::nf_inet_addr& a, uint8_t* b, size_t n);

// A decimal number no larger than `max`, the whole of `s`.
template <typename T>
bool parse_uint(std::string_view s, uint64_t max, T* out) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v > max) return false;
  *out = static_cast<T>(v);
  return true;
}

// Where the parser is in one packet's tokens, and what it has read so far.
// Every failing step records a ParseError and returns false.
struct Cursor {
  Cursor(const std::vector<NotationToken>& t, ParseError* e) : toks(t), err(e) {}

  const std::vector<NotationToken>& toks;
  size_t i = 0;  // the next token
  ParseError* err;

  bool fail(size_t pos, std::string msg) {
    *err = ParseError{std::move(msg), pos};
    return false;
  }
  bool at_end() const { return i >= toks.size(); }
  const NotationToken& tok() const { return toks[i]; }
  // Reads the number after the option word at toks[i] into *dst and
  // moves past both.
  template <typename T>
  bool option_number(uint64_t max, T* dst) {
    const NotationToken& word = toks[i];
    if (i + 1 >= toks.size()) return fail(word.pos, fmt::format("\"{}\" must be followed by a number", word.text));
    const NotationToken& num = toks[i + 1];
    uint64_t v = 0;
    if (!parse_uint(num.text, UINT64_MAX, &v))
      return fail(num.pos, fmt::format("\"{}\" after \"{}\" is not a number", num.text, word.text));
    if (v > max) return fail(num.pos, fmt::format("{} {} is out of range 0..{}", word.text, v, max));
    *dst = static_cast<T>(v);
    taken.push_back(word);
    i += 2;
    return true;
  }
  // Moves past a bare option word (sackok, badsum).
  void take_word() { taken.push_back(toks[i++]); }
  // Moves past an option word and its argument, read by the caller.
  void take_pair() {
    taken.push_back(toks[i]);
    i += 2;
  }
  // The option word `word` as taken earlier, or null.
  const NotationToken* seen(std::string_view word) const {
    for (const NotationToken& t : taken)
      if (t.text == word) return &t;
    return nullptr;
  }

  std::vector<NotationToken> taken;  // the option words read so far
};

// What a protocol handler did with the option word at the cursor.
enum class Option { kNotMine, kTaken, kError };

// One protocol's part of the notation. Each step may be null.
struct ProtocolHandler {
  uint8_t protonum;
  // After "PROTO SRC > DST", in packets, tuples and quoted packets: the
  // words that are part of the tuple (the ICMP type, the GRE key).
  bool (*head)(Cursor& c, ctcore::Packet* p);
  // What a tuple (or an ICMP error's quoted packet) may add after the
  // head: the ICMP id.
  bool (*tuple_tail)(Cursor& c, ctcore::Packet* p);
  // One option word of a full packet (flags, seq, chunks, ...).
  Option (*option)(Cursor& c, PacketSpec* out);
  // After the last option: what the protocol insists on. `end` is the
  // text's length (where a missing word would go).
  bool (*finish)(Cursor& c, const PacketSpec& out, size_t end);
};
// The handler of a protocol, or null when it has no words of its own.
const ProtocolHandler* protocol_handler(uint8_t protonum);

// Parses the packet an ICMP error quotes (the tuple notation).
bool parse_quoted(std::string_view text, ctcore::Packet* p, ParseError* err);

}  // namespace ctsim::notation

#endif  // CTSIM_SIM_SCENARIO_PACKET_NOTATION_INTERNAL_H_
