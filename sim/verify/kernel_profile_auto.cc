#include "sim/verify/kernel_profile_auto.h"

#include <fmt/format.h>

#include <cstdio>

namespace ctsim::verify {

namespace {

// Each profiled stable line, and the first release of it that its "-late"
// profile stands for (the stable release named in the profile's
// description; 0: the line has no late profile).
struct Line {
  int major, minor;
  int late_from;
};
constexpr Line kLines[] = {{5, 10, 0}, {5, 15, 212}, {6, 1, 192}, {6, 6, 150}, {6, 12, 118}, {6, 18, 35}};

}  // namespace

ProfileChoice kernel_profile_for_release(std::string_view release) {
  int major = 0, minor = 0, patch = 0;
  const std::string r(release);
  const int n = std::sscanf(r.c_str(), "%d.%d.%d", &major, &minor, &patch);
  if (n < 2) return {"", fmt::format("cannot read a version from release \"{}\"", r)};
  const Line* best = nullptr;
  for (const Line& l : kLines) {
    if (l.major < major || (l.major == major && l.minor <= minor)) best = &l;
  }
  if (!best) return {"", fmt::format("release {} is older than 5.10, the oldest profile", r)};
  const std::string base = fmt::format("{}.{}", best->major, best->minor);
  if (best->major != major || best->minor != minor)
    return {base, fmt::format("release {} has no profile of its own; {} is the newest older line", r, base)};
  if (best->late_from != 0 && patch >= best->late_from)
    return {base + "-late", fmt::format("release {}: {}.{} or later is {}-late", r, base, best->late_from, base)};
  return {base, fmt::format("release {}", r)};
}

}  // namespace ctsim::verify
