// Reading and writing NumPy `.npy` files (format 1.0-3.0, little-endian,
// C order), so the CLI's `run` exchanges arrays with Python.
#pragma once

#include <string>

#include "core/status.h"
#include "runtime/litert_model.h"

namespace k2l::runtime {

Result<NDArray> ReadNpy(const std::string& path);
Status WriteNpy(const std::string& path, const NDArray& a);

}  // namespace k2l::runtime
