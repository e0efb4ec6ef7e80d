#include "sim/verify/kernel_run.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "sim/output/conntrack_tool_format.h"
#include "sim/scenario/packet_notation.h"
#include "sim/scenario/packet_wire.h"
#include "sim/verify/kernel_lab.h"
#include "sim/verify/lab_address_map.h"
#include "sim/verify/lab_nflog.h"
#include "sim/verify/lab_process.h"
#include "sim/verify/lab_ruleset.h"

namespace ctsim::verify {

namespace {

using ctcore::NFPROTO_IPV6;

std::atomic<bool> g_interrupted{false};
extern "C" void on_stop_signal(int) { g_interrupted = true; }

// SIGINT, SIGTERM and SIGHUP set g_interrupted while a run is on; the
// previous handlers come back when it ends.
class StopSignals {
 public:
  StopSignals() {
    g_interrupted = false;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &old_[i]);
  }
  ~StopSignals() {
    for (size_t i = 0; i < 3; ++i) sigaction(kSignals[i], &old_[i], nullptr);
  }

 private:
  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction old_[3];
};

int64_t mono_now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
int64_t real_now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Sleeps until monotonic time `t` (ns); false when interrupted first.
bool sleep_until(int64_t t) {
  while (!g_interrupted) {
    const int64_t now = mono_now();
    if (now >= t) return true;
    const int64_t step = std::min<int64_t>(t - now, 50'000'000);  // wake to see a signal
    timespec ts{static_cast<time_t>((now + step) / 1'000'000'000), static_cast<long>((now + step) % 1'000'000'000)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
  }
  return false;
}

ctcore::Packet to_lab(const ctcore::Packet& in, const LabAddressMap& map) {
  ctcore::Packet p = in;
  p.ct = nullptr;
  p.saddr = map.to_lab(p.l3num, p.saddr);
  p.daddr = map.to_lab(p.l3num, p.daddr);
  if (p.has_inner) {
    p.inner.saddr = map.to_lab(p.inner.l3num, p.inner.saddr);
    p.inner.daddr = map.to_lab(p.inner.l3num, p.inner.daddr);
  }
  return p;
}

// Writes the packet's number into the IP header at `off`: the IPv4
// identification (header checksum redone) or the IPv6 flow label.
uint32_t stamp_of(uint64_t id, bool v6) { return static_cast<uint32_t>(id & (v6 ? 0xfffff : 0xffff)); }
void stamp(std::string* bytes, size_t off, uint64_t id) {
  auto* b = reinterpret_cast<unsigned char*>(bytes->data() + off);
  if ((b[0] >> 4) == 6) {
    const uint32_t fl = stamp_of(id, true);
    b[1] = static_cast<unsigned char>((b[1] & 0xf0) | (fl >> 16));
    b[2] = static_cast<unsigned char>(fl >> 8);
    b[3] = static_cast<unsigned char>(fl);
    return;
  }
  const uint32_t ident = stamp_of(id, false);
  b[4] = static_cast<unsigned char>(ident >> 8);
  b[5] = static_cast<unsigned char>(ident);
  b[10] = b[11] = 0;
  const size_t ihl = (b[0] & 0x0f) * 4u;
  uint32_t sum = 0;
  for (size_t i = 0; i < ihl; i += 2) sum += static_cast<uint32_t>(b[i]) << 8 | b[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  const uint16_t c = static_cast<uint16_t>(~sum);
  b[10] = static_cast<unsigned char>(c >> 8);
  b[11] = static_cast<unsigned char>(c);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) v.push_back(line);
  }
  return v;
}

// conntrack -S rows of CPUs beyond the scenario's, all zero, are left out:
// the machine has more CPUs than the scenario; a non-zero one stays (a
// packet was handled on a CPU the scenario did not name).
std::vector<std::string> stat_rows(const std::string& text, uint16_t cpus) {
  std::vector<std::string> rows;
  for (const std::string& line : lines_of(text)) {
    unsigned cpu = 0;
    if (std::sscanf(line.c_str(), "cpu=%u", &cpu) == 1 && cpu >= cpus) {
      bool zero = true;
      for (size_t i = line.find('='); i != std::string::npos; i = line.find('=', i + 1)) {
        if (line.compare(0, 4, "cpu=") == 0 && i == 3) continue;
        if (line[i + 1] != '0' || (i + 2 < line.size() && std::isdigit(static_cast<unsigned char>(line[i + 2]))))
          zero = false;
      }
      if (zero) continue;
    }
    rows.push_back(line);
  }
  return rows;
}

const char* port_proto_name(uint8_t protonum) {
  switch (protonum) {
    case 6: return "tcp";
    case 17: return "udp";
    case 132: return "sctp";
    case 136: return "udplite";
    case 33: return "dccp";
    default: return nullptr;
  }
}

// The conntrack -D arguments for a delete action's tuple; "" when the
// tool cannot name it.
std::vector<std::string> delete_args(const ActionSpec& a, const LabAddressMap& map) {
  const ctcore::nf_conntrack_tuple& t = a.tuple;
  const uint16_t l3 = t.src.l3num;
  std::vector<std::string> args = {"conntrack", "-D"};
  if (l3 == NFPROTO_IPV6) args.insert(args.end(), {"-f", "ipv6"});
  args.insert(args.end(), {"-s", format_address(l3, map.to_lab(l3, t.src.u3)), "-d",
                           format_address(l3, map.to_lab(l3, t.dst.u3))});
  if (const char* proto = port_proto_name(t.dst.protonum)) {
    args.insert(args.end(), {"-p", proto, "--sport", std::to_string(t.sport()), "--dport", std::to_string(t.dport())});
  } else if (t.dst.protonum == 1 || t.dst.protonum == 58) {
    args.insert(args.end(), {"-p", t.dst.protonum == 1 ? "icmp" : "icmpv6", "--icmp-type",
                             std::to_string(t.icmp_type()), "--icmp-code", std::to_string(t.icmp_code()),
                             "--icmp-id", std::to_string(t.icmp_id())});
  } else {
    return {};
  }
  return args;
}

uint16_t online_cpus() {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<uint16_t>(n) : 1;
}

// The scenario's namespaces as kernel-run numbers them: declared ones
// first, then each name a netns_add brings, in order.
std::map<std::string, size_t> namespace_indices(const Scenario& s) {
  std::map<std::string, size_t> idx;
  for (const NamespaceSpec& n : s.namespaces) idx.emplace(n.name, idx.size());
  for (const ActionSpec& a : s.actions) {
    if (a.kind == ActionSpec::Kind::kNetnsAdd) idx.emplace(a.name, idx.size());
  }
  return idx;
}

Status build_map(const Scenario& s, const std::vector<InjectedPacket>& packets, LabAddressMap* map) {
  for (const InjectedPacket& ip : packets) {
    map->add(ip.pkt.l3num, ip.pkt.saddr);
    map->add(ip.pkt.l3num, ip.pkt.daddr);
    if (ip.pkt.has_inner) {
      map->add(ip.pkt.inner.l3num, ip.pkt.inner.saddr);
      map->add(ip.pkt.inner.l3num, ip.pkt.inner.daddr);
    }
  }
  for (const NamespaceSpec& n : s.namespaces) {
    for (const InterfaceAddress& a : n.addresses) map->add(a.l3num, a.addr);
  }
  for (const RuleSpec& r : s.rules) {
    for (const ctcore::nf_nat_range2& t : r.to) {
      if (t.flags & ctcore::NF_NAT_RANGE_MAP_IPS) map->add_range(t.l3num, t.min_addr, t.max_addr);
    }
  }
  for (const ActionSpec& a : s.actions) {
    if (a.kind == ActionSpec::Kind::kAddrAdd || a.kind == ActionSpec::Kind::kAddrDel) map->add(a.address.l3num, a.address.addr);
    if (a.kind == ActionSpec::Kind::kDelete) {
      map->add(a.tuple.src.l3num, a.tuple.src.u3);
      map->add(a.tuple.src.l3num, a.tuple.dst.u3);
    }
  }
  return map->build();
}

// One lab namespace's sending side, made when the namespace is.
struct Senders {
  int wire = -1;  // AF_PACKET on c<k> in the wire namespace
  int raw4 = -1, raw6 = -1;
  void close_all() {
    for (int* fd : {&wire, &raw4, &raw6}) {
      if (*fd >= 0) close(*fd);
      *fd = -1;
    }
  }
};

Status open_senders(const KernelLab& lab, size_t k, Senders* out) {
  {
    NetnsEnter in(lab.wire_name());
    if (!in.status().ok()) return in.status();
    out->wire = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    const unsigned ifindex = if_nametoindex(KernelLab::ingress_leg(k).c_str());
    if (out->wire < 0 || ifindex == 0) return Status::IOError(std::string("packet socket: ") + std::strerror(errno));
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = static_cast<int>(ifindex);
    if (bind(out->wire, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
      return Status::IOError(std::string("bind packet socket: ") + std::strerror(errno));
  }
  NetnsEnter in(lab.netns_name(k));
  if (!in.status().ok()) return in.status();
  out->raw4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  out->raw6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (out->raw4 < 0 || out->raw6 < 0) return Status::IOError(std::string("raw socket: ") + std::strerror(errno));
  const uint32_t mark = kInjectMark;
  for (int fd : {out->raw4, out->raw6}) {
    if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0)
      return Status::IOError(std::string("SO_MARK: ") + std::strerror(errno));
  }
  return Status::OK();
}

// What one packet needs at send time.
struct Outgoing {
  const InjectedPacket* in = nullptr;
  size_t ns = 0;
  std::string bytes;  // an Ethernet frame (forward, input) or an IP datagram (output)
  ctcore::Packet lab;
  int64_t sent_late_ns = -1;  // -1: not sent
};

struct NamespaceState {
  std::atomic<int> state{0};  // 0 not made yet, 1 ready, 2 deleted
  Senders senders;
};

bool send_one(Outgoing& o, NamespaceState& ns) {
  if (o.in->path != PathKind::kOutput) {
    return send(ns.senders.wire, o.bytes.data(), o.bytes.size(), 0) == static_cast<ssize_t>(o.bytes.size());
  }
  if (o.lab.l3num == NFPROTO_IPV6) {
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    std::memcpy(&to.sin6_addr, o.lab.daddr.all, 16);
    return sendto(ns.senders.raw6, o.bytes.data(), o.bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
           static_cast<ssize_t>(o.bytes.size());
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  std::memcpy(&to.sin_addr, o.lab.daddr.all, 4);
  return sendto(ns.senders.raw4, o.bytes.data(), o.bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
         static_cast<ssize_t>(o.bytes.size());
}

struct ListenerRun {
  const ListenerSpec* spec = nullptr;
  size_t ns = 0;
  BackgroundProcess proc;
  std::string out_path, err_path;
};

std::string listener_event_mask(uint8_t groups) {
  std::string m;
  for (const EventGroupName& g : kEventGroupNames) {
    if (groups & g.group) m += (m.empty() ? "" : ",") + std::string(g.name);
  }
  return m;
}

// ctnetlink's event messages are charged to the socket by their skb's
// truesize, about this much each for the conns of these scenarios (x86_64,
// 6.x); conntrack -b's value is doubled by the kernel (SO_RCVBUF).
constexpr uint64_t kEventTruesize = 1280;

}  // namespace

std::string kernel_release() {
  utsname u{};
  return uname(&u) == 0 ? u.release : "unknown";
}

std::string kernel_run_unavailable() {
  if (geteuid() != 0) return "kernel-run needs root: it creates network namespaces and nftables rule sets";
  for (const char* tool : {"ip", "nft", "conntrack"}) {
    if (!program_exists(tool))
      return fmt::format("kernel-run needs `{}` ({}; .ci/install-deps installs it)", tool,
                         std::string(tool) == "ip" ? "Debian's iproute2" : std::string(tool) == "nft" ? "Debian's nftables" : "Debian's conntrack");
  }
  if (access("/proc/sys/net/netfilter/nf_conntrack_max", F_OK) != 0) {
    ProgramResult r;
    (void)run_program({"modprobe", "nf_conntrack"}, &r);
    if (access("/proc/sys/net/netfilter/nf_conntrack_max", F_OK) != 0)
      return "kernel-run needs the kernel's nf_conntrack, and `modprobe nf_conntrack` did not load it";
  }
  return "";
}

std::vector<std::string> kernel_run_notes(const Scenario& s) {
  std::vector<std::string> out;
  if (s.table_given.hash_rnd)
    out.push_back(
        "kernel-run: table.hash_rnd is ctsim's; the kernel hashes with the seed it drew at boot (bucket numbers and "
        "the order of a GC sweep's DESTROYs differ, which verify does not compare)");
  if (s.table_given.buckets) {
    // nf_ct_alloc_hashtable() rounds the size up to a page of bucket heads
    // (one pointer each).
    const uint64_t per_page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) / sizeof(void*);
    const uint64_t played = (uint64_t{s.buckets} + per_page - 1) / per_page * per_page;
    if (played != s.buckets)
      out.push_back(fmt::format(
          "kernel-run: table.buckets {} is played as {}: the kernel rounds nf_conntrack_buckets up to a page of "
          "bucket heads ({} here), so its chains are shorter than ctsim's",
          s.buckets, played, per_page));
  }
  return out;
}

std::vector<std::string> kernel_run_refusals(const Scenario& s, const std::vector<InjectedPacket>& packets) {
  std::vector<std::string> why;
  if (s.hook_time != 0)
    why.push_back("hook_time: a modelled per-hook processing time; the kernel takes its own");
  if (s.table_given.memory) why.push_back("table.memory: the table was sized when this machine booted");
  if (s.cpus > online_cpus())
    why.push_back(fmt::format("cpus {}: this machine has {} online", s.cpus, online_cpus()));
  for (size_t i = 0; i < s.rules.size(); ++i) {
    if (std::string r = lab_rule_refusal(s.rules[i]); !r.empty()) why.push_back(fmt::format("rules[{}]: {}", i, r));
  }
  for (const ListenerSpec& l : s.listeners) {
    if (l.read_every != 0)
      why.push_back("listeners " + l.name + ": read_every (a reader draining at fixed times); conntrack -E reads as "
                    "fast as it can");
    if (l.reliable)
      why.push_back("listeners " + l.name + ": reliable (NETLINK_BROADCAST_ERROR); conntrack -E has no option for it");
  }
  for (size_t i = 0; i < s.actions.size(); ++i) {
    const ActionSpec& a = s.actions[i];
    if (a.kind == ActionSpec::Kind::kDelete) {
      const uint8_t proto = a.tuple.dst.protonum;
      if (!port_proto_name(proto) && proto != 1 && proto != 58)
        why.push_back(fmt::format("actions[{}]: delete of a {} conn (conntrack -D names ports or ICMP ids only)", i,
                                  protocol_word(proto)));
    }
  }
  // The packet number rides in 16 bits of IPv4 identification.
  std::map<std::string, uint64_t> per_ns;
  std::set<std::pair<std::string, std::string>> forward_dst, input_dst;
  for (const InjectedPacket& ip : packets) {
    ++per_ns[ip.netns];
    const std::string d = ip.netns + " " + format_address(ip.pkt.l3num, ip.pkt.daddr);
    (ip.path == PathKind::kInput ? input_dst : forward_dst).emplace(ip.netns, d);
  }
  for (const auto& [ns, n] : per_ns) {
    if (n > 65535)
      why.push_back(fmt::format("namespace {}: {} packets; kernel-run tells up to 65535 apart per namespace", ns, n));
  }
  for (const auto& d : input_dst) {
    if (forward_dst.count(d))
      why.push_back("namespace " + d.first + ": " + d.second.substr(d.first.size() + 1) +
                    " is the destination of both input and forward packets; on the kernel it is either a local "
                    "address or not");
  }
  return why;
}

SimTime kernel_run_end(const Scenario& s, const std::vector<InjectedPacket>& packets) {
  if (s.until) return *s.until;
  SimTime last = 0;
  for (const InjectedPacket& p : packets) last = std::max(last, p.at);
  for (const ActionSpec& a : s.actions) last = std::max(last, a.at);
  for (const RuleSpec& r : s.rules) last = std::max(last, r.at);
  for (const ListenerSpec& l : s.listeners) last = std::max(last, l.at);
  return last + 1'000'000'000;
}

Status kernel_run(const Scenario& s, const std::vector<InjectedPacket>& packets, SimTime end,
                  const KernelRunOptions& options, RunRecord* out, bool* interrupted) {
  *interrupted = false;
  auto note = [&](const std::string& m) {
    if (options.note) options.note(m);
  };
  if (std::string why = kernel_run_unavailable(); !why.empty()) return Status::InvalidArgument(why);
  for (const std::string& line : KernelLab::cleanup_stale()) note(line);
  if (std::vector<std::string> why = kernel_run_refusals(s, packets); !why.empty()) {
    std::string m = s.file + ": kernel-run cannot play:";
    for (const std::string& w : why) m += "\n  " + w;
    return Status::InvalidArgument(m);
  }
  for (const std::string& line : kernel_run_notes(s)) note(line);
  if (end > options.max_duration)
    return Status::InvalidArgument(fmt::format(
        "{}: the run lasts {} of real time, more than --max-duration {} (give a longer --max-duration, or an "
        "`until`)",
        s.file, format_duration(end), format_duration(options.max_duration)));

  LabAddressMap map;
  if (Status st = build_map(s, packets, &map); !st.ok()) return Status::InvalidArgument(s.file + ": " + st.message());
  const std::map<std::string, size_t> ns_index = namespace_indices(s);
  std::vector<std::string> ns_names(ns_index.size());
  for (const auto& [name, k] : ns_index) ns_names[k] = name;

  // Everything made from here is undone by these destructors, in reverse.
  StopSignals signals;
  KernelLab lab;
  std::vector<NamespaceState> ns_state(ns_names.size());
  std::vector<std::unique_ptr<NflogReader>> readers(ns_names.size());
  std::vector<std::unique_ptr<ListenerRun>> listeners;
  const std::filesystem::path work = [] {
    // Named with the pid: a run killed outright leaves it, and the next
    // run's KernelLab::cleanup_stale() removes it.
    std::string t =
        (std::filesystem::temp_directory_path() / (KernelLab::temp_dir_prefix(getpid()) + "XXXXXX")).string();
    return mkdtemp(t.data()) ? std::filesystem::path(t) : std::filesystem::path();
  }();
  if (work.empty()) return Status::IOError(std::string("cannot make a temporary directory: ") + std::strerror(errno));
  struct RemoveDir {
    std::filesystem::path p;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
  } remove_work{work};
  auto stop_all = [&] {
    for (auto& l : listeners) l->proc.stop();
    for (auto& r : readers) {
      if (r) r->stop();
    }
    for (NamespaceState& n : ns_state) n.senders.close_all();
    lab.teardown();
  };

  // The setup of one scenario namespace (declared, or added by netns_add).
  auto make_namespace = [&](size_t k, const std::vector<SysctlSetting>& sysctls,
                            const std::vector<InterfaceAddress>& addresses) -> Status {
    LabNamespaceSetup setup;
    for (const InterfaceAddress& a : addresses) setup.interface_addresses.emplace_back(a.l3num, map.to_lab(a.l3num, a.addr));
    std::set<std::string> seen;
    for (const InjectedPacket& ip : packets) {
      if (ip.netns != ns_names[k] || ip.path != PathKind::kInput) continue;
      const ctcore::nf_inet_addr d = map.to_lab(ip.pkt.l3num, ip.pkt.daddr);
      if (seen.insert(format_address(ip.pkt.l3num, d)).second) setup.local_addresses.emplace_back(ip.pkt.l3num, d);
    }
    for (const SysctlSetting& st : sysctls) setup.sysctls.emplace_back(st.info->name, st.value);
    if (Status st = lab_ruleset_scenario(s, ns_names[k], map, &setup.ruleset); !st.ok()) return st;
    if (Status st = lab.add_namespace(k, setup); !st.ok()) return st;
    readers[k] = std::make_unique<NflogReader>();
    if (Status st = readers[k]->start(lab.netns_name(k), kNflogGroup); !st.ok()) return st;
    if (Status st = open_senders(lab, k, &ns_state[k].senders); !st.ok()) return st;
    ns_state[k].state.store(1, std::memory_order_release);
    return Status::OK();
  };
  auto start_listener = [&](const ListenerSpec& l) -> Status {
    auto run = std::make_unique<ListenerRun>();
    run->spec = &l;
    run->ns = ns_index.at(l.netns);
    run->out_path = (work / (l.name + ".events")).string();
    run->err_path = (work / (l.name + ".err")).string();
    std::vector<std::string> argv = {"conntrack", "-E", "-o", "timestamp", "-e", listener_event_mask(l.groups)};
    if (l.rcvbuf) argv.insert(argv.end(), {"-b", std::to_string(l.rcvbuf * kEventTruesize / 2)});
    if (Status st = run->proc.start(lab.in_namespace(run->ns, argv), run->out_path, run->err_path); !st.ok()) return st;
    listeners.push_back(std::move(run));
    return Status::OK();
  };

  Status failure;
  auto fail = [&](Status st) {
    failure = std::move(st);
    stop_all();
    return failure;
  };

  note(fmt::format("kernel-run: building the lab for {} ({} namespace(s), {} packets, {} of real time)", s.name,
                   s.namespaces.size(), packets.size(), format_duration(end)));
  if (Status st = lab.create_wire(); !st.ok()) return fail(st);
  if (s.table_given.buckets) {
    if (Status st = lab.set_global("nf_conntrack_buckets", s.buckets); !st.ok())
      return fail(Status::InvalidArgument(s.file + ": table.buckets: " + st.message()));
  }
  if (s.table_given.max) {
    if (Status st = lab.set_global("nf_conntrack_max", s.max); !st.ok())
      return fail(Status::InvalidArgument(s.file + ": table.max: " + st.message()));
  }
  for (size_t k = 0; k < s.namespaces.size(); ++k) {
    if (Status st = make_namespace(k, s.namespaces[k].sysctls, s.namespaces[k].addresses); !st.ok()) return fail(st);
  }
  for (const ListenerSpec& l : s.listeners) {
    if (l.at == 0) {
      if (Status st = start_listener(l); !st.ok()) return fail(st);
    }
  }

  // Packets: one sending thread per CPU, each packet built beforehand.
  std::vector<Outgoing> outgoing(packets.size());
  for (size_t i = 0; i < packets.size(); ++i) {
    Outgoing& o = outgoing[i];
    o.in = &packets[i];
    o.ns = ns_index.at(packets[i].netns);
    o.lab = to_lab(packets[i].pkt, map);
    if (packets[i].path == PathKind::kOutput) {
      encode_ip(o.lab, &o.bytes);
      stamp(&o.bytes, 0, packets[i].id);
    } else {
      encode_ethernet(o.lab, packets[i].cpu, &o.bytes);
      stamp(&o.bytes, 14, packets[i].id);
    }
  }

  // Main-thread steps: actions, listeners started late, rules added late.
  struct Step {
    SimTime at;
    int order;  // actions first at one instant, as the simulator runs them
    size_t index;
  };
  std::vector<Step> steps;
  for (size_t i = 0; i < s.actions.size(); ++i) steps.push_back({s.actions[i].at, 0, i});
  for (size_t i = 0; i < s.rules.size(); ++i) {
    if (s.rules[i].at != 0) steps.push_back({s.rules[i].at, 1, i});
  }
  for (size_t i = 0; i < s.listeners.size(); ++i) {
    if (s.listeners[i].at != 0) steps.push_back({s.listeners[i].at, 2, i});
  }
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
    return a.at != b.at ? a.at < b.at : a.order < b.order;
  });

  // conntrack -E needs a moment to subscribe before the first packet.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int64_t t0_mono = mono_now() + 100'000'000;
  const int64_t t0_real = real_now() + (t0_mono - mono_now());
  note("kernel-run: playing");

  // The virtual time of the next main-thread step not yet done: a packet
  // waits for the steps at its own instant, which the simulator runs first
  // (an action at t sees the table before the packets at t).
  std::atomic<SimTime> next_step_at{steps.empty() ? std::numeric_limits<SimTime>::max() : steps.front().at};
  std::vector<std::thread> senders;
  for (uint16_t cpu = 0; cpu < s.cpus; ++cpu) {
    senders.emplace_back([&, cpu] {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      pthread_setaffinity_np(pthread_self(), sizeof set, &set);
      // Real-time priority (it only sleeps, never spins): a loaded machine
      // must not wake it late, or two CPUs' packets a few hundred
      // microseconds apart would reach the kernel out of order.
      sched_param prio{};
      prio.sched_priority = 10;
      (void)pthread_setschedparam(pthread_self(), SCHED_FIFO, &prio);
      for (Outgoing& o : outgoing) {
        if (o.in->cpu != cpu) continue;
        if (!sleep_until(t0_mono + o.in->at)) return;
        while (next_step_at.load(std::memory_order_acquire) <= o.in->at) {
          if (g_interrupted) return;
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        NamespaceState& ns = ns_state[o.ns];
        if (ns.state.load(std::memory_order_acquire) != 1) continue;
        const int64_t late = mono_now() - (t0_mono + o.in->at);
        if (send_one(o, ns)) o.sent_late_ns = late;
      }
    });
  }
  auto join_senders = [&] {
    for (std::thread& t : senders) t.join();
    senders.clear();
  };

  std::vector<Dump> snapshots, stats;
  auto live = [&](const std::string& netns) {
    std::vector<size_t> ks;
    for (size_t k = 0; k < ns_names.size(); ++k) {
      if ((netns.empty() || ns_names[k] == netns) && lab.has_namespace(k)) ks.push_back(k);
    }
    return ks;
  };
  auto dump = [&](size_t k, std::vector<std::string> argv, SimTime at, std::vector<Dump>* into, bool is_stats) {
    ProgramResult r;
    (void)run_program(lab.in_namespace(k, argv), &r);
    Dump d;
    d.at = at;
    d.netns = ns_names[k];
    for (const std::string& line : is_stats ? stat_rows(r.out, s.cpus) : lines_of(r.out))
      d.lines.push_back(map.text_from_lab(line));
    into->push_back(std::move(d));
  };

  // A listener's conntrack -E that ended on its own (killed, or it
  // failed): the run cannot record what it would have printed.
  auto listeners_alive = [&]() -> Status {
    for (auto& l : listeners) {
      int code = 0;
      if (l->proc.running() && l->proc.exited(&code))
        return Status::IOError(
            fmt::format("listener {}: conntrack -E ended during the run (exit {})", l->spec->name, code));
    }
    return Status::OK();
  };
  Status step_error;
  for (size_t si = 0; si < steps.size(); ++si) {
    const Step& st = steps[si];
    if (!sleep_until(t0_mono + st.at)) break;
    if (st.order == 1) {
      std::string chain, expr;
      step_error = lab_rule_add(s, st.index, map, &chain, &expr);
      if (step_error.ok() && !expr.empty()) {
        const size_t k = ns_index.at(s.rules[st.index].netns);
        step_error = run_checked(lab.in_namespace(k, {"nft", "add", "rule", "inet", "ctsim", chain, expr}));
      }
    } else if (st.order == 2) {
      step_error = start_listener(s.listeners[st.index]);
    } else {
      const ActionSpec& a = s.actions[st.index];
      using K = ActionSpec::Kind;
      switch (a.kind) {
        case K::kSysctl:
          if (a.key == "nf_conntrack_max" || a.key == "nf_conntrack_buckets") {
            step_error = lab.set_global(a.key, a.value);
          } else {
            for (size_t k : live(a.netns)) {
              if (step_error.ok()) step_error = lab.sysctl(k, a.sysctl.info ? a.sysctl.info->name : a.key, a.value);
            }
          }
          break;
        case K::kFlush:
          for (size_t k : live(a.netns)) {
            ProgramResult r;
            (void)run_program(lab.in_namespace(k, {"conntrack", "-F"}), &r);
          }
          break;
        case K::kDelete:
          for (size_t k : live(a.netns)) {
            ProgramResult r;
            (void)run_program(lab.in_namespace(k, delete_args(a, map)), &r);
          }
          break;
        case K::kNetnsAdd: {
          const size_t k = ns_index.at(a.name);
          step_error = make_namespace(k, a.sysctls, {});
          break;
        }
        case K::kNetnsDel: {
          const size_t k = ns_index.at(a.name);
          ns_state[k].state.store(2, std::memory_order_release);
          for (auto& l : listeners) {
            if (l->ns == k) l->proc.stop();
          }
          if (readers[k]) readers[k]->stop();
          step_error = lab.remove_namespace(k);
          break;
        }
        case K::kListenerStall:
        case K::kListenerResume:
          for (auto& l : listeners) {
            if (l->spec->name == a.name) l->proc.signal(a.kind == K::kListenerStall ? SIGSTOP : SIGCONT);
          }
          break;
        case K::kSnapshot: {
          std::vector<std::string> argv = {"conntrack", "-L"};
          if (a.list != ActionSpec::SnapshotList::kTable)
            argv.push_back(a.list == ActionSpec::SnapshotList::kUnconfirmed ? "unconfirmed" : "dying");
          for (size_t k : live(a.netns)) dump(k, argv, a.at, &snapshots, false);
          break;
        }
        case K::kStats:
          for (size_t k : live(a.netns)) dump(k, {"conntrack", "-S"}, a.at, &stats, true);
          break;
        case K::kAddrAdd:
        case K::kAddrDel: {
          const bool v6 = a.address.l3num == NFPROTO_IPV6;
          for (size_t k : live(a.netns)) {
            std::vector<std::string> argv = {"ip", "-n", lab.netns_name(k), "addr",
                                             a.kind == K::kAddrAdd ? "add" : "del",
                                             format_address(a.address.l3num, map.to_lab(a.address.l3num, a.address.addr)) +
                                                 (v6 ? "/128" : "/32"),
                                             "dev", "f1"};
            if (v6 && a.kind == K::kAddrAdd) argv.push_back("nodad");
            if (step_error.ok()) step_error = run_checked(argv);
          }
          break;
        }
      }
    }
    if (!step_error.ok()) break;
    if (si + 1 == steps.size() || steps[si + 1].at != st.at)
      next_step_at.store(si + 1 < steps.size() ? steps[si + 1].at : std::numeric_limits<SimTime>::max(),
                         std::memory_order_release);
    step_error = listeners_alive();
    if (!step_error.ok()) break;
  }
  if (step_error.ok()) {
    // Wait for the end, checking the listeners are still there.
    while (step_error.ok() && !g_interrupted && mono_now() < t0_mono + end) {
      sleep_until(std::min<int64_t>(t0_mono + end, mono_now() + 100'000'000));
      step_error = listeners_alive();
    }
  }
  g_interrupted.store(g_interrupted.load() || !step_error.ok());
  const bool stopped_by_signal = g_interrupted && step_error.ok();
  join_senders();
  if (stopped_by_signal) {
    *interrupted = true;
    stop_all();
    return Status::IOError("kernel-run interrupted; the lab is torn down");
  }
  if (!step_error.ok()) return fail(step_error);

  // The end: counters of every namespace, then the recorders stop.
  for (size_t k : live("")) dump(k, {"conntrack", "-S"}, end, &stats, true);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the last NFLOG messages
  for (auto& l : listeners) l->proc.stop();
  std::vector<std::vector<NflogMessage>> logs(ns_names.size());
  for (size_t k = 0; k < readers.size(); ++k) {
    if (readers[k]) {
      readers[k]->stop();
      logs[k] = readers[k]->messages();
      // A record without a prefix or an IP header names no packet: its
      // packet's outcome would be read as a drop, so say so.
      if (readers[k]->dropped() > 0)
        note(fmt::format("kernel-run: {} NFLOG record(s) of namespace {} could not be read", readers[k]->dropped(),
                         ns_names[k]));
    }
  }
  stop_all();

  // Per packet: what the log rules saw of it.
  out->source = "kernel " + kernel_release();
  out->end = end;
  out->packets.clear();
  std::vector<std::map<uint32_t, std::vector<size_t>>> by_stamp(ns_names.size());
  for (size_t i = 0; i < outgoing.size(); ++i)
    by_stamp[outgoing[i].ns][stamp_of(packets[i].id, outgoing[i].lab.l3num == NFPROTO_IPV6)].push_back(i);
  struct Seen {
    std::string state, drop_rule;
    bool accepted = false;
  };
  std::vector<Seen> seen(outgoing.size());
  for (size_t k = 0; k < logs.size(); ++k) {
    for (const NflogMessage& m : logs[k]) {
      auto it = by_stamp[k].find(m.stamp);
      if (it == by_stamp[k].end()) continue;
      // Several packets share a stamp only beyond 65535 (refused above):
      // the first one the message can still belong to.
      for (size_t i : it->second) {
        Seen& sn = seen[i];
        if (m.prefix.rfind("A ", 0) == 0 && sn.state.empty()) {
          sn.state = m.prefix.substr(2);
          break;
        }
        if (m.prefix[0] == 'D' && sn.drop_rule.empty()) {
          sn.drop_rule = m.prefix.substr(1);
          break;
        }
        if (m.prefix == "Z" && !sn.accepted) {
          sn.accepted = true;
          break;
        }
      }
    }
  }
  for (size_t i = 0; i < outgoing.size(); ++i) {
    const InjectedPacket& ip = packets[i];
    PacketOutcome po;
    po.id = ip.id;
    po.at = ip.at;
    po.netns = ip.netns;
    po.cpu = ip.cpu;
    po.path = path_name(ip.path);
    po.pkt = format_packet(ip.pkt);
    po.ct_state = seen[i].state;
    if (outgoing[i].sent_late_ns < 0) {
      po.verdict = "drop";
      po.by = "not sent (its namespace did not exist)";
    } else if (!seen[i].drop_rule.empty()) {
      po.verdict = "drop";
      const size_t r = std::stoul(seen[i].drop_rule);
      po.by = "rule \"" + (r < s.rules.size() ? s.rules[r].match_text : seen[i].drop_rule) + "\"";
    } else if (seen[i].accepted) {
      po.verdict = "accept";
    } else {
      po.verdict = "drop";
      po.by = seen[i].state.empty() ? "nf_conntrack_in" : "nf_conntrack_confirm";
    }
    out->packets.push_back(std::move(po));
  }
  // Event lines: "[seconds.micros]\t<line>", times made virtual.
  out->events.clear();
  for (auto& l : listeners) {
    std::ifstream in(l->out_path);
    for (std::string line; std::getline(in, line);) {
      long long sec = 0, usec = 0;
      int used = 0;
      EventLine e;
      e.listener = l->spec->name;
      if (std::sscanf(line.c_str(), "[%lld.%lld]%n", &sec, &usec, &used) == 2) {
        const int64_t wall = sec * 1'000'000'000 + usec * 1000;
        e.at = std::max<int64_t>(0, wall - t0_real);
        size_t from = static_cast<size_t>(used);
        while (from < line.size() && line[from] == '\t') ++from;
        e.line = map.text_from_lab(line.substr(from));
        // conntrack -E ends an event caused by a netlink request (-D, -F)
        // with " [USERSPACE] portid=N": ctsim's actions are no process.
        if (const size_t u = e.line.find(" [USERSPACE]"); u != std::string::npos) e.line.erase(u);
      } else {
        e.at = end;
        e.line = map.text_from_lab(line);
      }
      out->events.push_back(std::move(e));
    }
    std::ifstream err(l->err_path);
    std::stringstream text;
    text << err.rdbuf();
    const std::string errs = text.str();
    for (size_t at = errs.find("hit ENOBUFS"); at != std::string::npos; at = errs.find("hit ENOBUFS", at + 1))
      out->events.push_back(EventLine{end, l->spec->name, kEnobufsMessage});
  }
  std::stable_sort(out->events.begin(), out->events.end(),
                   [](const EventLine& a, const EventLine& b) { return a.listener < b.listener; });
  out->snapshots = std::move(snapshots);
  out->stats = std::move(stats);
  int64_t worst = 0;
  for (const Outgoing& o : outgoing) worst = std::max(worst, o.sent_late_ns);
  note(fmt::format("kernel-run: done; packets sent at most {} late", format_duration(worst)));
  return Status::OK();
}

}  // namespace ctsim::verify
