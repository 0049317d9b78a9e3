// A human-readable description of any `.tflite` file: ops, tensors,
// signatures, buffers and metadata. The flatbuffer verifier runs first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace k2l::litert {

Result<std::string> DescribeModel(const std::vector<uint8_t>& bytes,
                                  const std::string& name);

}  // namespace k2l::litert
