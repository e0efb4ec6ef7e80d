// First: before any <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include "sim/sweep/sweep_slurm.h"

#include <fmt/format.h>

#include <cmath>

#include "sim/sweep/sweep_plan.h"

namespace ctsim::sweep {

SlurmLimits limits_from_pilot(const ChildOutcome& cost) {
  SlurmLimits l;
  l.seconds = static_cast<long>(std::ceil(cost.wall_seconds * 4)) + 60;
  l.mem_mib = static_cast<long>(std::ceil(static_cast<double>(cost.max_rss_kib) * 2 / 1024)) + 64;
  return l;
}

std::string slurm_script(const SweepSpec& spec, const SweepLayout& layout, const std::string& ctsim, size_t throttle,
                         size_t pilot, const ChildOutcome& cost) {
  const SlurmLimits l = limits_from_pilot(cost);
  const size_t n = spec.point_count();
  return fmt::format(
      "#!/bin/bash\n"
      "# ctsim sweep {name}: {n} runs as a Slurm job array (written by `ctsim sweep plan --slurm`).\n"
      "# Submit:  sbatch {script}\n"
      "# Then:    ctsim sweep collect {dir}\n"
      "# Limits from a pilot run of point {pilot} on the planning machine ({wall:.2f} s, {rss} KiB peak):\n"
      "# time 4 x wall + 1 min, memory 2 x peak + 64 MiB.\n"
      "#SBATCH --job-name=ctsim-sweep-{name}\n"
      "#SBATCH --array=0-{last}%{throttle}\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --cpus-per-task=1\n"
      "#SBATCH --time={h}:{m:02}:{s:02}\n"
      "#SBATCH --mem={mem}M\n"
      "#SBATCH --output={dir}/slurm/%A_%a.out\n"
      "exec {cmd} --index \"$SLURM_ARRAY_TASK_ID\"\n",
      fmt::arg("name", spec.name), fmt::arg("n", n), fmt::arg("script", layout.sbatch()), fmt::arg("dir", layout.dir()),
      fmt::arg("pilot", pilot), fmt::arg("wall", cost.wall_seconds), fmt::arg("rss", cost.max_rss_kib),
      fmt::arg("last", n - 1), fmt::arg("throttle", throttle), fmt::arg("h", l.seconds / 3600),
      fmt::arg("m", l.seconds / 60 % 60), fmt::arg("s", l.seconds % 60), fmt::arg("mem", l.mem_mib),
      fmt::arg("cmd", shell_words({ctsim, "sweep", "run-one", layout.sweep_json(), "--out", layout.dir()})));
}

}  // namespace ctsim::sweep
