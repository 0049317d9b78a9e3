#include "api/bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <string>

#include "api/run.h"
#include "runtime/litert_model.h"

namespace k2l {

namespace {

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

// The process's resident high-water mark. VmHWM belongs to this program's
// address space; getrusage's ru_maxrss would carry over the peak of a large
// parent (a Python benchmark driver) across fork and exec.
size_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<size_t>(usage.ru_maxrss) * 1024;
}

}  // namespace

Result<BenchResult> BenchModel(const std::string& tflite_path,
                               const BenchOptions& options) {
  if (options.runs < 1) {
    return Status::Invalid("--runs is " + std::to_string(options.runs) +
                           "; give 1 or more");
  }
  BenchResult r;
  auto t0 = std::chrono::steady_clock::now();
  K2L_ASSIGN_OR_RETURN(auto model,
                       runtime::LiteRTModel::Load(
                           tflite_path, {std::max(1, options.num_threads)}));
  r.load_ms = MsSince(t0);
  r.model_bytes = model.bytes().size();

  // One run through the same path as `run` (seeded random inputs) sets the
  // inputs; the timed loop then invokes the subgraph alone.
  K2L_ASSIGN_OR_RETURN(runtime::SignatureInfo entry,
                       model.ResolveEntry(options.signature_key));
  const int subgraph = entry.subgraph;
  runtime::Subgraph& inputs_of = model.interpreter().subgraph(subgraph);
  std::mt19937_64 rng(0);
  std::vector<runtime::NDArray> ordered;
  for (const auto& [name, index] : entry.inputs) {
    const runtime::Tensor& t = inputs_of.tensor(index);
    ordered.push_back(RandomInput(t.type, t.shape, rng));
  }
  t0 = std::chrono::steady_clock::now();
  if (!entry.key.empty()) {
    std::map<std::string, runtime::NDArray> feeds;
    for (size_t i = 0; i < ordered.size(); ++i)
      feeds[entry.inputs[i].first] = std::move(ordered[i]);
    K2L_RETURN_IF_ERROR(model.Predict(feeds, entry.key).status());
  } else {
    K2L_RETURN_IF_ERROR(model.Predict(ordered).status());
  }
  r.first_run_ms = MsSince(t0);

  runtime::Subgraph& sg = model.interpreter().subgraph(subgraph);
  for (int i = 0; i < options.warmup; ++i) K2L_RETURN_IF_ERROR(sg.Invoke());
  for (int i = 0; i < options.runs; ++i) {
    t0 = std::chrono::steady_clock::now();
    K2L_RETURN_IF_ERROR(sg.Invoke());
    r.run_ms.push_back(MsSince(t0));
  }
  std::sort(r.run_ms.begin(), r.run_ms.end());
  size_t n = r.run_ms.size();
  r.min_ms = r.run_ms.front();
  r.median_ms =
      n % 2 ? r.run_ms[n / 2] : (r.run_ms[n / 2 - 1] + r.run_ms[n / 2]) / 2;
  r.p90_ms =
      r.run_ms[std::min(n - 1, static_cast<size_t>(std::ceil(0.9 * n)) - 1)];
  r.mean_ms = std::accumulate(r.run_ms.begin(), r.run_ms.end(), 0.0) / n;
  r.peak_rss_bytes = PeakRssBytes();
  return r;
}

}  // namespace k2l
