// The CLI's `run`: feed .npy files (or seeded random inputs) to a .tflite
// through the native runtime and write each output as .npy.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "runtime/litert_model.h"

namespace k2l {

struct RunOptions {
  // (name, .npy path); an empty name is allowed when the model has one input.
  std::vector<std::pair<std::string, std::string>> inputs;
  std::string signature_key;  // empty: the first signature, if any
  std::string output_dir;     // empty: write nothing
  int num_threads = 1;
  uint64_t seed = 0;
};

struct RunResult {
  std::string signature_key;  // empty when the model has no signature
  std::vector<std::pair<std::string, runtime::NDArray>> inputs;
  std::vector<std::pair<std::string, runtime::NDArray>> outputs;
  std::vector<std::string> written;  // .npy paths
};

Result<RunResult> RunModel(const std::string& tflite_path,
                           const RunOptions& options);

// Seeded random values for an input: standard normal floats, integers in
// [0, 10), the full range of int8/uint8, random bools.
runtime::NDArray RandomInput(runtime::TensorType type,
                             const runtime::Shape& shape, std::mt19937_64& rng);

// "float32[2, 3] min -1.2 max 3.4 mean 0.5" for a summary line.
std::string DescribeArray(const runtime::NDArray& a);

}  // namespace k2l
