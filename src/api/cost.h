// Per-operator FLOP and byte counts for `inspect`, computed at the shapes
// the runtime prepares the model with (dynamic dimensions at 1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace k2l {

Result<std::string> DescribeCosts(const std::vector<uint8_t>& bytes,
                                  const std::string& name);

}  // namespace k2l
