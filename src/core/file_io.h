// Whole-file reads shared by the frontends and the LiteRT reader.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace k2l {

// Reads the file at `path` in one call into a buffer of its size.
Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path);

// Writes `bytes` to `path` atomically: a temporary file in the same folder,
// then a rename. On failure nothing is left at `path` (nor the temporary).
Status WriteFileAtomically(const std::string& path,
                           const std::vector<uint8_t>& bytes);
Status WriteFileAtomically(const std::string& path, const uint8_t* data,
                           size_t size);

}  // namespace k2l
