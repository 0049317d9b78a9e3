#include "api/export.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <new>
#include <sstream>
#include <nlohmann/json.hpp>

#include "frontend/keras/model_lowering.h"
#include "frontend/keras/model_source.h"
#include "ir/graph.h"
#include "litert/writer.h"
#include "passes/pipeline.h"

namespace k2l {

namespace {

class StageTimer {
 public:
  explicit StageTimer(ExportReport& r) : report_(r) {}
  void Stage(const std::string& name) {
    auto now = std::chrono::steady_clock::now();
    report_.stage_ms.push_back(
        {name, std::chrono::duration<double, std::milli>(now - last_).count()});
    last_ = now;
  }

 private:
  ExportReport& report_;
  std::chrono::steady_clock::time_point last_ =
      std::chrono::steady_clock::now();
};

std::string PortType(const ir::Value& v) {
  return std::string(ir::DTypeName(v.dtype)) + ir::ShapeToString(v.shape);
}

Status CheckOutputPath(const std::string& output) {
  namespace fs = std::filesystem;
  fs::path p(output);
  if (p.extension() != ".tflite") {
    return Status::Invalid("output path '" + output +
                           "' does not end in .tflite. LiteRT models use the "
                           ".tflite extension; name the output file *.tflite");
  }
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::Invalid("cannot write '" + output + "': the folder '" +
                           dir.string() +
                           "' does not exist. Create it first, or choose "
                           "another output path");
  }
  return Status::Ok();
}

}  // namespace

namespace {
// A model to lower, and notes on how it was read (for the report).
struct Loaded {
  keras::ModelSource source;
  std::vector<std::string> notes;
};
using SourceLoader = std::function<Result<Loaded>()>;

Result<ExportReport> Export(const std::string& source, const SourceLoader& load,
                            const std::string& output,
                            const ExportOptions& options) {
  ExportReport report;
  K2L_RETURN_IF_ERROR(CheckOutputPath(output));
  StageTimer timer(report);
  auto progress = [&](const std::string& stage, int done, int total) {
    if (options.progress) options.progress(stage, done, total);
  };

  ir::Graph graph;
  {
    // The source (file bytes, HDF5 image) is released once lowered.
    progress("read", 0, 1);
    K2L_ASSIGN_OR_RETURN(Loaded loaded, load());
    const keras::ModelSource& src = loaded.source;
    report.notes = std::move(loaded.notes);
    report.source_format = std::string(keras::SourceFormatName(src.format));
    timer.Stage("read");
    progress("read", 1, 1);
    keras::LoweringOptions lopts;
    lopts.inputs = options.input_signature;
    if (options.progress) {
      lopts.on_layer = [&](int done, int total) {
        progress("lower", done, total);
      };
    }
    auto lowered = keras::LowerKerasModel(src, keras::DefaultRegistry(), lopts);
    if (!lowered.ok()) return lowered.status().WithContext(source);
    graph = std::move(lowered).value();
  }
  timer.Stage("lower");

  passes::PipelineOptions popts;
  int passes_done = 0;
  if (options.dump_ir || options.progress) {
    popts.after_pass = [&](const std::string& pass, const ir::Graph& g) {
      if (options.dump_ir) options.dump_ir(pass, ir::Dump(g));
      if (pass != "lower") {
        progress("optimize", ++passes_done, passes::NumPasses());
      }
    };
  }
  K2L_RETURN_IF_ERROR(passes::RunPipeline(graph, popts));
  timer.Stage("optimize");

  progress("write", 0, 1);
  litert::WriteStats stats;
  K2L_RETURN_IF_ERROR(litert::SerializeToFile(graph, output, &stats));
  timer.Stage("write");
  progress("write", 1, 1);

  for (const ir::Port& p : graph.inputs()) {
    report.inputs.push_back({p.name, PortType(graph.value(p.value))});
  }
  for (const ir::Port& p : graph.outputs()) {
    report.outputs.push_back({p.name, PortType(graph.value(p.value))});
  }
  for (const std::string& n : graph.notes()) report.notes.push_back(n);
  report.op_counts = stats.op_counts;
  report.file_bytes = stats.file_bytes;
  report.constant_bytes = stats.constant_bytes;
  return report;
}

// Configs are untrusted input: a JSON value of an unexpected type that a
// checked accessor missed surfaces here as an error, never as a crash.
Result<ExportReport> GuardedExport(const std::string& source,
                                   const SourceLoader& load,
                                   const std::string& output,
                                   const ExportOptions& options) {
  try {
    return Export(source, load, output, options);
  } catch (const nlohmann::json::exception& e) {
    return Status::Invalid(source + ": the model config is malformed (" +
                           e.what() + "). Re-save the model with model.save()");
  } catch (const std::bad_alloc&) {
    return Status::Internal(source + ": out of memory while converting");
  }
}

// The Keras-Hub export parameters have no meaning for a plain Keras model:
// giving one is refused rather than ignored.
Status RefuseHubOptions(const std::string& source, const hub::HubOptions& h) {
  const std::pair<const char*, bool> given[] = {
      {"sequence_length", h.sequence_length.has_value()},
      {"encoder_sequence_length", h.encoder_sequence_length.has_value()},
      {"decoder_sequence_length", h.decoder_sequence_length.has_value()},
      {"image_size", h.image_size.has_value()},
      {"include_preprocessing", h.include_preprocessing.has_value()}};
  for (const auto& [key, set] : given) {
    if (!set) continue;
    return Status::Invalid(
        std::string(key) + " applies to Keras-Hub tasks (a preset folder), "
        "but '" + source + "' is a Keras model, whose input shapes come from "
        "the model. Fix a shape with --input-shape (input_signature in "
        "Python) instead");
  }
  return Status::Ok();
}

}  // namespace

Result<ExportReport> ExportLiteRT(const std::string& source,
                                  const std::string& output,
                                  const ExportOptions& options) {
  return GuardedExport(
      source,
      [&]() -> Result<Loaded> {
        if (hub::IsPresetDir(source)) {
          K2L_ASSIGN_OR_RETURN(hub::HubSource h,
                               hub::LoadHubSource(source, options.hub));
          return Loaded{std::move(h.source), std::move(h.notes)};
        }
        K2L_RETURN_IF_ERROR(RefuseHubOptions(source, options.hub));
        K2L_ASSIGN_OR_RETURN(keras::ModelSource s,
                             keras::LoadModelSource(source));
        return Loaded{std::move(s), {}};
      },
      output, options);
}

Result<ExportReport> ExportLiteRTFromBytes(std::span<const uint8_t> bytes,
                                           const std::string& name,
                                           const std::string& output,
                                           const ExportOptions& options) {
  return GuardedExport(
      name,
      [&]() -> Result<Loaded> {
        K2L_RETURN_IF_ERROR(RefuseHubOptions(name, options.hub));
        K2L_ASSIGN_OR_RETURN(keras::ModelSource s,
                             keras::LoadModelSourceFromBytes(bytes, name));
        return Loaded{std::move(s), {}};
      },
      output, options);
}

std::string HumanBytes(size_t n) {
  char buf[32];
  if (n >= (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.2f MiB", n / 1048576.0);
  } else if (n >= 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", n / 1024.0);
  } else {
    std::snprintf(buf, sizeof buf, "%zu B", n);
  }
  return buf;
}

std::string FormatSummary(const std::string& out, const ExportReport& r) {
  std::ostringstream os;
  os << "wrote " << out << " (" << HumanBytes(r.file_bytes) << ", "
     << HumanBytes(r.constant_bytes) << " of weights) from a "
     << r.source_format << "\n";
  os << "signature 'serving_default':\n";
  for (const auto& p : r.inputs)
    os << "  input  " << p.name << ": " << p.type << "\n";
  for (const auto& p : r.outputs)
    os << "  output " << p.name << ": " << p.type << "\n";
  int total = 0;
  for (const auto& [n, c] : r.op_counts) total += c;
  os << "ops (" << total << ", builtin only):";
  for (const auto& [n, c] : r.op_counts) os << " " << n << "x" << c;
  os << "\ntime:";
  double sum = 0;
  char buf[96];
  for (const auto& [stage, ms] : r.stage_ms) {
    std::snprintf(buf, sizeof buf, " %s %.1f ms,", stage.c_str(), ms);
    os << buf;
    sum += ms;
  }
  std::snprintf(buf, sizeof buf, " total %.1f ms\n", sum);
  os << buf;
  for (const auto& n : r.notes) os << "note: " << n << "\n";
  for (const auto& w : r.warnings) os << "warning: " << w << "\n";
  return os.str();
}

std::string FormatProgress(const std::string& stage, int done, int total) {
  constexpr int kWidth = 20;
  double f = total > 0 ? std::clamp(double(done) / total, 0.0, 1.0) : 0.0;
  int filled = int(f * kWidth + 0.5);
  std::string bar = "[" + std::string(filled, '#') +
                    std::string(kWidth - filled, '-') + "]";
  char buf[64];
  std::snprintf(buf, sizeof buf, " %3d%% ", int(f * 100 + 0.5));
  return bar + buf + stage + " " + std::to_string(done) + "/" +
         std::to_string(total);
}

}  // namespace k2l
