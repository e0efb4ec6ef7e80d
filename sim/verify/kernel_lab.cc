#include "sim/verify/kernel_lab.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "sim/scenario/packet_notation.h"
#include "sim/verify/lab_address_map.h"
#include "sim/verify/lab_process.h"
#include "sim/verify/lab_ruleset.h"

namespace ctsim::verify {

namespace {

constexpr const char* kStateDir = "/run/ctsim";
constexpr const char* kGlobalDir = "/proc/sys/net/netfilter/";
constexpr const char* kCountPath = "/proc/sys/net/netfilter/nf_conntrack_count";

std::optional<uint64_t> read_number(const std::string& path) {
  std::ifstream f(path);
  uint64_t v = 0;
  if (!(f >> v)) return std::nullopt;
  return v;
}

bool write_number(const std::string& path, uint64_t v) {
  std::ofstream f(path);
  f << v << "\n";
  return static_cast<bool>(f.flush());
}

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

// The pid in "ctsim-<pid>-..." or "kernel-run.<pid>.sysctl"; -1 if none.
long pid_in(const std::string& name, const std::string& head) {
  if (name.rfind(head, 0) != 0) return -1;
  size_t i = head.size(), j = i;
  while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) ++j;
  return j == i ? -1 : std::stol(name.substr(i, j - i));
}

std::vector<std::string> directory(const std::string& path) {
  std::vector<std::string> names;
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d)) names.emplace_back(e->d_name);
    closedir(d);
  }
  return names;
}

std::string lab_text(uint16_t l3num, const ctcore::nf_inet_addr& a) { return format_address(l3num, a); }

}  // namespace

KernelLab::KernelLab() : prefix_(namespace_prefix(static_cast<long>(getpid()))) {}

std::string KernelLab::namespace_prefix(long pid) { return "ctsim-" + std::to_string(pid) + "-"; }

std::string KernelLab::temp_dir_prefix(long pid) { return "ctsim-kernel-run-" + std::to_string(pid) + "-"; }

std::vector<std::string> KernelLab::cleanup_stale() {
  std::vector<std::string> did;
  for (const std::string& name : directory("/run/netns")) {
    const long pid = pid_in(name, "ctsim-");
    if (pid <= 0 || process_alive(pid)) continue;
    // Its listeners outlived it (they are in their own process groups):
    // they would keep the namespace alive after its name is gone.
    std::string pids;
    if (run_checked({"ip", "netns", "pids", name}, &pids).ok()) {
      std::istringstream in(pids);
      for (long p; in >> p;) {
        if (p > 1) ::kill(static_cast<pid_t>(p), SIGKILL);
      }
    }
    if (run_checked({"ip", "netns", "del", name}).ok())
      did.push_back("deleted namespace " + name + " left by kernel-run " + std::to_string(pid));
  }
  const std::filesystem::path tmp = std::filesystem::temp_directory_path();
  for (const std::string& name : directory(tmp.string())) {
    const long pid = pid_in(name, "ctsim-kernel-run-");
    if (pid <= 0 || process_alive(pid)) continue;
    std::error_code ec;
    if (std::filesystem::remove_all(tmp / name, ec) > 0 && !ec)
      did.push_back("removed " + (tmp / name).string() + " left by kernel-run " + std::to_string(pid));
  }
  for (const std::string& name : directory(kStateDir)) {
    const long pid = pid_in(name, "kernel-run.");
    if (pid <= 0 || process_alive(pid)) continue;
    const std::string path = std::string(kStateDir) + "/" + name;
    std::ifstream in(path);
    std::string key;
    uint64_t v = 0;
    while (in >> key >> v) {
      if ((key == "nf_conntrack_max" || key == "nf_conntrack_buckets") && write_number(kGlobalDir + key, v))
        did.push_back(key + " restored to " + std::to_string(v) + " (left by kernel-run " + std::to_string(pid) + ")");
    }
    unlink(path.c_str());
  }
  return did;
}

std::string KernelLab::netns_name(size_t k) const { return prefix_ + "n" + std::to_string(k); }

Status KernelLab::ip(std::vector<std::string> args) {
  args.insert(args.begin(), "ip");
  return run_checked(args);
}

Status KernelLab::create_wire() {
  const std::string h = wire_name();
  if (Status st = ip({"netns", "add", h}); !st.ok()) return st;
  wire_ = true;
  // IPv6 off on the wire before its legs exist: it must send nothing.
  return run_checked({"ip", "netns", "exec", h, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                      "net.ipv6.conf.default.disable_ipv6=1"});
}

std::vector<std::string> KernelLab::in_namespace(size_t k, std::vector<std::string> argv) const {
  argv.insert(argv.begin(), {"ip", "netns", "exec", netns_name(k)});
  return argv;
}

Status KernelLab::add_namespace(size_t k, const LabNamespaceSetup& setup) {
  const std::string n = netns_name(k), h = wire_name();
  const std::string c = fmt::format("c{}", k), s = fmt::format("s{}", k);
  // s<k>'s MAC is fixed so that f1's neighbour entry needs no lookup.
  const std::string s_mac = "02:00:00:00:01:" + std::string(k < 16 ? "0" : "") + [&] {
    std::ostringstream o;
    o << std::hex << (k & 0xff);
    return o.str();
  }();
  if (Status st = ip({"netns", "add", n}); !st.ok()) return st;
  namespaces_[k] = n;
  std::vector<std::vector<std::string>> steps = {
      {"-n", h, "link", "add", c, "type", "veth", "peer", "name", "f0", "netns", n},
      {"-n", h, "link", "add", s, "address", s_mac, "type", "veth", "peer", "name", "f1", "netns", n},
      {"-n", n, "link", "set", "f0", "address", "02:00:00:00:00:01"},
  };
  for (auto& st : steps) {
    if (Status r = ip(st); !r.ok()) return r;
  }
  const std::vector<std::string> sysctls = {
      "net.ipv4.ip_forward=1",
      "net.ipv4.conf.all.rp_filter=0",
      "net.ipv4.conf.default.rp_filter=0",
      "net.ipv4.conf.all.send_redirects=0",
      "net.ipv4.conf.default.send_redirects=0",
      "net.ipv4.conf.all.accept_local=1",
      "net.ipv6.conf.all.forwarding=1",
      "net.ipv6.conf.all.accept_dad=0",
      "net.ipv6.conf.default.accept_dad=0",
      "net.ipv6.conf.default.accept_ra=0",
  };
  std::vector<std::string> cmd = {"sysctl", "-qw"};
  cmd.insert(cmd.end(), sysctls.begin(), sysctls.end());
  if (Status st = run_checked(in_namespace(k, cmd)); !st.ok()) return st;
  // nftables before the links come up: the guard must be in place before
  // the namespace sends anything (router solicitations, MLD reports).
  if (Status st = run_checked(in_namespace(k, {"nft", "-f", "-"}), nullptr, lab_ruleset_before_conntrack()); !st.ok())
    return st;
  if (Status st = run_checked(in_namespace(k, {"nft", "-f", "-"}), nullptr, setup.ruleset); !st.ok()) return st;
  for (const auto& [name, value] : setup.sysctls) {
    if (Status st = sysctl(k, name, value); !st.ok()) return st;
  }
  for (const std::string& ifname : {std::string("lo"), std::string("f0"), std::string("f1")}) {
    if (Status st = ip({"-n", n, "link", "set", ifname, "up"}); !st.ok()) return st;
  }
  for (const std::string& leg : {c, s}) {
    if (Status st = ip({"-n", h, "link", "set", leg, "up"}); !st.ok()) return st;
  }
  for (const auto& [l3, a] : setup.interface_addresses) {
    const bool v6 = l3 == ctcore::NFPROTO_IPV6;
    std::vector<std::string> args = {"-n", n, "addr", "add", lab_text(l3, a) + (v6 ? "/128" : "/32"), "dev", "f1"};
    if (v6) args.push_back("nodad");
    if (Status st = ip(args); !st.ok()) return st;
  }
  for (const auto& [l3, a] : setup.local_addresses) {
    const bool v6 = l3 == ctcore::NFPROTO_IPV6;
    std::vector<std::string> args = {"-n", n, "addr", "add", lab_text(l3, a) + (v6 ? "/128" : "/32"), "dev", "lo"};
    if (v6) args.push_back("nodad");
    if (Status st = ip(args); !st.ok()) return st;
  }
  for (uint16_t l3 : {ctcore::NFPROTO_IPV4, ctcore::NFPROTO_IPV6}) {
    const std::string gw = lab_text(l3, LabAddressMap::gateway(l3));
    const std::string fam = l3 == ctcore::NFPROTO_IPV6 ? "-6" : "-4";
    if (Status st = ip({"-n", n, fam, "route", "add", "default", "via", gw, "dev", "f1", "onlink"}); !st.ok())
      return st;
    if (Status st = ip({"-n", n, fam, "neigh", "replace", gw, "lladdr", s_mac, "dev", "f1", "nud", "permanent"});
        !st.ok())
      return st;
  }
  return Status::OK();
}

Status KernelLab::remove_namespace(size_t k) {
  auto it = namespaces_.find(k);
  if (it == namespaces_.end()) return Status::OK();
  Status st = ip({"netns", "del", it->second});
  namespaces_.erase(it);
  return st;
}

Status KernelLab::sysctl(size_t k, const std::string& key, uint64_t value) {
  return run_checked(in_namespace(k, {"sysctl", "-qw", "net.netfilter." + key + "=" + std::to_string(value)}));
}

Status KernelLab::save_state() const {
  mkdir(kStateDir, 0700);
  std::ofstream f(state_file_);
  for (const auto& [name, value] : saved_) f << name << " " << value << "\n";
  return f.flush() ? Status::OK() : Status::IOError("cannot write " + state_file_);
}

Status KernelLab::set_global(const std::string& name, uint64_t value) {
  const std::string path = kGlobalDir + name;
  const std::optional<uint64_t> now = read_number(path);
  if (!now) return Status::IOError("cannot read " + path);
  if (name == "nf_conntrack_max") {
    const uint64_t own = read_number(kCountPath).value_or(0);
    if (value <= own)
      return Status::InvalidArgument("nf_conntrack_max " + std::to_string(value) + " is global, and the machine's own " +
                                     "namespace holds " + std::to_string(own) +
                                     " conns: its traffic would be dropped while the scenario runs");
  }
  if (!saved_.count(name)) {
    state_file_ = std::string(kStateDir) + "/kernel-run." + std::to_string(getpid()) + ".sysctl";
    saved_[name] = *now;
    if (Status st = save_state(); !st.ok()) return st;
  }
  if (!write_number(path, value)) return Status::IOError("cannot write " + path);
  return Status::OK();
}

void KernelLab::teardown() {
  for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it)
    (void)run_checked({"ip", "netns", "del", it->second});
  namespaces_.clear();
  if (wire_) (void)run_checked({"ip", "netns", "del", wire_name()});
  wire_ = false;
  bool restored = true;
  for (const auto& [name, value] : saved_) restored = write_number(kGlobalDir + name, value) && restored;
  if (!saved_.empty() && restored) unlink(state_file_.c_str());
  saved_.clear();
}

}  // namespace ctsim::verify
