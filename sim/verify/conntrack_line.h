// A line of `conntrack -E` or `conntrack -L` output taken apart for
// comparison: which kind of line it is, and its timeout field, which a live
// run's clock may leave one second off (a jiffy ticking between the packet
// and the dump), cut out of the rest of the text so that the rest can be
// compared exactly.
//
// The layout (conntrack-tools' default output, sim/output/
// conntrack_tool_format.h): an event line starts with its tag ("[NEW]",
// "[UPDATE]", "[DESTROY]", right-aligned in 9 columns), a -L line with no
// tag; then the protocol's name and number, then the timeout in seconds
// when the message carries one (v5.10's DESTROY does not, 5.11+'s DESTROY
// only when it is not 0), then the protocol state when there is one (tcp,
// sctp, dccp), then the tuples:
//   "    [NEW] tcp      6 120 SYN_SENT src=..."   timeout: 4th field
//   "udp      17 29 src=..."                       timeout: 3rd field
//   "[DESTROY] udp      17 src=..."                no timeout
//
// Threading: pure functions.
#ifndef CTSIM_SIM_VERIFY_CONNTRACK_LINE_H_
#define CTSIM_SIM_VERIFY_CONNTRACK_LINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctsim::verify {

struct ConntrackLine {
  enum class Kind : uint8_t {
    kNew,          // [NEW]
    kUpdate,       // [UPDATE]
    kDestroy,      // [DESTROY]
    kEnobufs,      // the first line of conntrack -E's ENOBUFS warning (one per loss)
    kEnobufsMore,  // the warning's other lines
    kTable,        // a conntrack -L line
    kOther,        // anything else (compared as text)
  };
  Kind kind = Kind::kOther;
  // The line with its timeout field replaced by "*" (the line itself when
  // it has none).
  std::string key;
  std::optional<uint32_t> timeout;
};

ConntrackLine parse_conntrack_line(std::string_view line);

// "NEW", "UPDATE", "DESTROY", "ENOBUFS", "-L", "other".
const char* conntrack_line_kind_name(ConntrackLine::Kind k);

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_CONNTRACK_LINE_H_
