#include "api/export.h"

#include <chrono>
#include <filesystem>
#include <new>
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
Result<ExportReport> Export(const std::string& source,
                            const std::string& output,
                            const ExportOptions& options) {
  ExportReport report;
  K2L_RETURN_IF_ERROR(CheckOutputPath(output));
  StageTimer timer(report);

  ir::Graph graph;
  {
    // The source (file bytes, HDF5 image) is released once lowered.
    K2L_ASSIGN_OR_RETURN(keras::ModelSource src,
                         keras::LoadModelSource(source));
    report.source_format = std::string(keras::SourceFormatName(src.format));
    timer.Stage("read");
    auto lowered = keras::LowerKerasModel(src, keras::DefaultRegistry());
    if (!lowered.ok()) return lowered.status().WithContext(source);
    graph = std::move(lowered).value();
  }
  timer.Stage("lower");

  passes::PipelineOptions popts;
  if (options.dump_ir) {
    popts.after_pass = [&](const std::string& pass, const ir::Graph& g) {
      options.dump_ir(pass, ir::Dump(g));
    };
  }
  K2L_RETURN_IF_ERROR(passes::RunPipeline(graph, popts));
  timer.Stage("optimize");

  litert::WriteStats stats;
  K2L_RETURN_IF_ERROR(litert::SerializeToFile(graph, output, &stats));
  timer.Stage("write");

  for (const ir::Port& p : graph.inputs()) {
    report.inputs.push_back({p.name, PortType(graph.value(p.value))});
  }
  for (const ir::Port& p : graph.outputs()) {
    report.outputs.push_back({p.name, PortType(graph.value(p.value))});
  }
  report.notes = graph.notes();
  report.op_counts = stats.op_counts;
  report.file_bytes = stats.file_bytes;
  report.constant_bytes = stats.constant_bytes;
  return report;
}
}  // namespace

Result<ExportReport> ExportLiteRT(const std::string& source,
                                  const std::string& output,
                                  const ExportOptions& options) {
  // Configs are untrusted input: a JSON value of an unexpected type that a
  // checked accessor missed surfaces here as an error, never as a crash.
  try {
    return Export(source, output, options);
  } catch (const nlohmann::json::exception& e) {
    return Status::Invalid(source + ": the model config is malformed (" +
                           e.what() + "). Re-save the model with model.save()");
  } catch (const std::bad_alloc&) {
    return Status::Internal(source + ": out of memory while converting");
  }
}

}  // namespace k2l
