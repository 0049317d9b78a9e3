// The library entry point: a Keras model file in, a LiteRT file out.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "frontend/hub/hub_source.h"
#include "frontend/keras/model_lowering.h"

namespace k2l {

// One entry of a user's input signature (Keras `input_signature`): a name
// (or none, for by position), a dtype and a shape, kDynamic for None.
using InputSpec = keras::InputOverride;

struct ExportOptions {
  // Called with (pass name, IR listing) after lowering and after each pass.
  std::function<void(const std::string&, const std::string&)> dump_ir;
  // Overrides of the model's input shapes; see keras::InputOverride.
  std::vector<InputSpec> input_signature;
  // Export parameters of Keras-Hub presets (sequence_length, ...).
  hub::HubOptions hub;
  // Called as the export goes: (stage, done, total). Stages are "read",
  // "lower" (per layer), "optimize" (per pass) and "write".
  std::function<void(const std::string& stage, int done, int total)> progress;
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
// folder, a legacy `.h5`, or a Keras-Hub preset folder) to `output` (a
// `.tflite` path). On any error no
// file is left at `output`.
Result<ExportReport> ExportLiteRT(const std::string& source,
                                  const std::string& output,
                                  const ExportOptions& options = {});

// The same, from a `.keras` zip or legacy `.h5` held in memory (what
// `keras.saving.save_model` writes to a BytesIO). `name` is used in
// messages. The same model gives the same file as from its path.
Result<ExportReport> ExportLiteRTFromBytes(std::span<const uint8_t> bytes,
                                           const std::string& name,
                                           const std::string& output,
                                           const ExportOptions& options = {});

// "1.5 KiB", "12.34 MiB".
std::string HumanBytes(size_t n);

// The summary `convert` prints: file size, signature, ops, time per stage,
// notes and warnings.
std::string FormatSummary(const std::string& output,
                          const ExportReport& report);

// The progress line `convert` draws on a terminal, e.g.
// "[#########-----------]  45% lower 9/20".
std::string FormatProgress(const std::string& stage, int done, int total);

}  // namespace k2l
