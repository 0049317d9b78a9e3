// Whole-file reads shared by the frontends and the LiteRT reader.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace k2l {

// Reads the file at `path` in one call into a buffer of its size.
Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path);

}  // namespace k2l
