// The library entry point: a Keras model file in, a LiteRT file out.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace k2l {

struct ExportOptions {
  // Called with (pass name, IR listing) after lowering and after each pass.
  std::function<void(const std::string&, const std::string&)> dump_ir;
};

struct PortInfo {
  std::string name;
  std::string type;  // e.g. "float32[?, 224, 224, 3]"
};

struct ExportReport {
  std::string source_format;
  std::vector<PortInfo> inputs;
  std::vector<PortInfo> outputs;
  std::map<std::string, int> op_counts;  // builtin op name -> count
  size_t file_bytes = 0;
  size_t constant_bytes = 0;
  std::vector<std::pair<std::string, double>> stage_ms;  // in order
  std::vector<std::string> warnings;
  // Lowering choices worth knowing, e.g. whether a recurrent layer was
  // unrolled or looped, and why.
  std::vector<std::string> notes;
};

// Converts the Keras model at `source` (a `.keras` file, its unzipped
// folder, or a legacy `.h5`) to `output` (a `.tflite` path). On any error no
// file is left at `output`.
Result<ExportReport> ExportLiteRT(const std::string& source,
                                  const std::string& output,
                                  const ExportOptions& options = {});

}  // namespace k2l
