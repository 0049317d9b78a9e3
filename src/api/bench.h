// The CLI's `bench`: load a .tflite in the native runtime, feed seeded
// random inputs, and time repeated invocations.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace k2l {

struct BenchOptions {
  int num_threads = 1;
  int runs = 20;
  int warmup = 2;
  std::string signature_key;  // empty: the first signature, if any
};

struct BenchResult {
  double load_ms = 0;
  double first_run_ms = 0;     // includes any lazy preparation
  std::vector<double> run_ms;  // sorted ascending
  double min_ms = 0, median_ms = 0, p90_ms = 0, mean_ms = 0;
  // Peak resident memory of the process, and the model file's size.
  size_t peak_rss_bytes = 0;
  size_t model_bytes = 0;
};

Result<BenchResult> BenchModel(const std::string& tflite_path,
                               const BenchOptions& options);

}  // namespace k2l
