// keras2litert: convert Keras models to LiteRT and look inside .tflite files.
// Exit codes: 0 ok, 2 bad input or unsupported model, 1 internal error.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <unistd.h>

#include "api/bench.h"
#include "api/cost.h"
#include "api/export.h"
#include "api/run.h"
#include "core/file_io.h"
#include "frontend/keras/layer_catalog.h"
#include "frontend/keras/registry.h"
#include "litert/inspect.h"

namespace {

int Fail(const k2l::Status& s) {
  std::cerr << "error: " << s.message() << "\n";
  return s.code() == k2l::StatusCode::kInvalidInput ? 2 : 1;
}


// Parses --image-size: `N` (square) or `HxW`, positive.
k2l::Result<std::pair<int64_t, int64_t>> ParseImageSize(
    const std::string& spec) {
  auto number = [](const std::string& s) -> std::optional<int64_t> {
    if (s.empty() || s.size() > 9 ||
        s.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return std::stoll(s);
  };
  const size_t x = spec.find_first_of("xX");
  auto h = number(spec.substr(0, x));
  auto w = x == std::string::npos ? h : number(spec.substr(x + 1));
  if (!h || !w) {
    return k2l::Status::Invalid("--image-size '" + spec +
                                "' is not N or HxW (e.g. 224 or 160x200)");
  }
  return std::pair{*h, *w};
}

// Parses `NAME=D0,D1,...` (or `D0,D1,...` for the only input), with `?` or
// `-1` (or `None`) for a dynamic dimension.
k2l::Result<k2l::InputSpec> ParseInputShape(const std::string& spec) {
  k2l::InputSpec in;
  std::string dims = spec;
  size_t eq = spec.find('=');
  if (eq != std::string::npos) {
    in.name = spec.substr(0, eq);
    dims = spec.substr(eq + 1);
  }
  k2l::ir::Shape shape;
  size_t pos = 0;
  while (pos <= dims.size()) {
    size_t comma = dims.find(',', pos);
    std::string d = dims.substr(pos, comma == std::string::npos
                                         ? std::string::npos
                                         : comma - pos);
    if (d == "?" || d == "-1" || d == "None") {
      shape.push_back(k2l::ir::kDynamic);
    } else {
      size_t used = 0;
      long long v = -1;
      try {
        v = std::stoll(d, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (d.empty() || used != d.size() || v < 1) {
        return k2l::Status::Invalid(
            "--input-shape '" + spec + "': '" + d +
            "' is not a dimension. Write NAME=D0,D1,... with positive "
            "integers, or ? for a dynamic dimension (e.g. x=1,224,224,3)");
      }
      shape.push_back(v);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  in.shape = shape;
  return in;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "keras2litert: export Keras models to LiteRT (.tflite) with "
      "builtin ops only"};
  app.require_subcommand(1);

  std::string src, out;
  std::vector<std::string> input_shapes;
  int64_t sequence_length = 0, encoder_sequence_length = 0,
          decoder_sequence_length = 0;
  bool dump_ir = false, quiet = false;
  auto* convert =
      app.add_subcommand("convert", "Convert a Keras model to .tflite");
  convert
      ->add_option("SRC", src,
                   ".keras file, its unzipped folder, a legacy .h5, or a "
                   "Keras-Hub preset folder")
      ->required();
  convert->add_option("-o,--output", out, "Output .tflite path")->required();
  convert->add_flag("--dump-ir", dump_ir,
                    "Print the IR after each pass (stderr)");
  convert->add_flag("-q,--quiet", quiet, "Print nothing on success");
  convert->add_option("--sequence-length", sequence_length,
                      "Keras-Hub text tasks: the token length (default: the "
                      "preprocessor's, else dynamic where the architecture "
                      "allows, else 128); for a Seq2SeqLM, an alias of "
                      "--decoder-sequence-length");
  std::string image_size;
  bool no_preprocessing = false;
  convert->add_option("--image-size", image_size,
                      "Keras-Hub vision tasks: N or HxW (default: the image "
                      "converter's, else the backbone's image_shape, else "
                      "224/512/256 for classifiers/detectors/segmenters)");
  convert->add_flag("--no-preprocessing", no_preprocessing,
                    "Keras-Hub vision tasks: leave the image converter's "
                    "rescaling out of the graph (default: in, so the model "
                    "takes raw pixels)");
  convert->add_option("--encoder-sequence-length", encoder_sequence_length,
                      "Keras-Hub Seq2SeqLM tasks: the encoder's token length "
                      "(default as for --sequence-length)");
  convert->add_option("--decoder-sequence-length", decoder_sequence_length,
                      "Keras-Hub Seq2SeqLM tasks: the decoder's token length "
                      "(default as for --sequence-length)");
  convert->add_option(
      "--input-shape", input_shapes,
      "NAME=D0,D1,... fixes an input's shape (? for dynamic); NAME may be "
      "left out for a model with one input. Dimensions the model fixes "
      "cannot change");

  std::string file;
  auto* inspect = app.add_subcommand("inspect", "Describe any .tflite file");
  inspect->add_option("FILE", file, ".tflite file")->required();

  std::string run_file, signature, output_dir;
  std::vector<std::string> run_inputs;
  int threads = 1;
  uint64_t seed = 0;
  auto* run = app.add_subcommand(
      "run", "Run any .tflite with the native runtime; write outputs as .npy");
  run->add_option("FILE", run_file, ".tflite file")->required();
  run->add_option("-i,--input", run_inputs,
                  "NAME=FILE.npy (repeat per input; NAME may be left out "
                  "when there is one input). Missing inputs are seeded "
                  "random arrays");
  run->add_option("-s,--signature", signature,
                  "Signature key (default: the first one)");
  run->add_option("-d,--output-dir", output_dir,
                  "Folder for the outputs, one NAME.npy each");
  run->add_option("-t,--threads", threads, "Threads (default 1)")
      ->check(CLI::PositiveNumber);
  run->add_option("--seed", seed, "Seed of the random inputs (default 0)");

  std::string bench_file, bench_signature;
  int bench_threads = 1, bench_runs = 20, bench_warmup = 2;
  auto* bench = app.add_subcommand(
      "bench", "Time the native runtime on any .tflite (seeded random inputs)");
  bench->add_option("FILE", bench_file, ".tflite file")->required();
  bench->add_option("-t,--threads", bench_threads, "Threads (default 1)")
      ->check(CLI::PositiveNumber);
  bench->add_option("-n,--runs", bench_runs, "Timed runs (default 20)")
      ->check(CLI::PositiveNumber);
  bench->add_option("--warmup", bench_warmup, "Untimed runs first (default 2)")
      ->check(CLI::NonNegativeNumber);
  bench->add_option("-s,--signature", bench_signature,
                    "Signature key (default: the first one)");

  auto* layers = app.add_subcommand(
      "layers", "Print the supported Keras layers as a markdown table");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  if (*convert) {
    k2l::ExportOptions options;
    if (dump_ir) {
      options.dump_ir = [](const std::string& pass, const std::string& text) {
        std::cerr << "=== IR after " << pass << " ===\n" << text;
      };
    }
    if (convert->count("--sequence-length") > 0) {
      options.hub.sequence_length = sequence_length;
    }
    if (convert->count("--image-size") > 0) {
      auto size = ParseImageSize(image_size);
      if (!size.ok()) return Fail(size.status());
      options.hub.image_size = *size;
    }
    if (no_preprocessing) options.hub.include_preprocessing = false;
    if (convert->count("--encoder-sequence-length") > 0) {
      options.hub.encoder_sequence_length = encoder_sequence_length;
    }
    if (convert->count("--decoder-sequence-length") > 0) {
      options.hub.decoder_sequence_length = decoder_sequence_length;
    }
    for (const auto& spec : input_shapes) {
      auto in = ParseInputShape(spec);
      if (!in.ok()) return Fail(in.status());
      options.input_signature.push_back(*in);
    }
    if (input_shapes.size() > 1) {
      for (const auto& in : options.input_signature) {
        if (in.name.empty()) {
          return Fail(k2l::Status::Invalid(
              "--input-shape without a NAME= is only allowed for a model "
              "with one input; name each input (e.g. --input-shape "
              "x=1,10 --input-shape y=1,5)"));
        }
      }
    }
    // A progress bar on a terminal, redrawn in place on stderr.
    bool bar = !quiet && isatty(fileno(stderr));
    if (bar) {
      options.progress = [](const std::string& stage, int done, int total) {
        std::fprintf(stderr, "\r%-60s",
                     k2l::FormatProgress(stage, done, total).c_str());
        std::fflush(stderr);
      };
    }
    auto report = k2l::ExportLiteRT(src, out, options);
    if (bar) std::fprintf(stderr, "\r%-60s\r", "");
    if (!report.ok()) return Fail(report.status());
    if (!quiet) std::cout << k2l::FormatSummary(out, *report) << std::flush;
    return 0;
  }
  if (*layers) {
    // docs/supported_layers.md is this output; a test keeps them in sync.
    const auto& reg = k2l::keras::DefaultRegistry();
    std::cout
        << "# Keras layers and their LiteRT lowering\n\n"
           "Generated by `keras2litert layers` from the converter "
           "registry and its catalog of the other Keras layers; do not "
           "edit by hand.\n\n"
           "Every conversion uses LiteRT builtin ops only. **supported**: "
           "every configuration converts. **partial**: the notes say what "
           "is refused, with a clear error. **unsupported**: the notes say "
           "why. A model holding a layer that does not convert is reported, "
           "with every such layer by class and name, before anything is "
           "written. Keras-Hub layers are listed by their registered "
           "names (`keras_hub>Class`). keras.ops calls in Functional models "
           "are listed after the layers.\n\n"
           "| Keras class | Status | Builtin ops | Notes "
           "|\n|---|---|---|---|\n";
    for (const auto& e : k2l::keras::LayerCatalog(reg)) {
      std::cout << "| `" << e.class_name << "` | " << e.status << " | " << e.ops
                << " | " << e.notes << " |\n";
    }
    std::cout << "\n## keras.ops calls\n\n| Operation | Builtin ops |\n"
                 "|---|---|\n";
    for (const auto& name : reg.ClassNames()) {
      if (name.rfind("ops.", 0) != 0) continue;
      std::cout << "| `" << name.substr(4) << "` | " << reg.Find(name)->ops
                << " |\n";
    }
    return 0;
  }
  if (*run) {
    k2l::RunOptions options;
    for (const auto& spec : run_inputs) {
      size_t eq = spec.find('=');
      if (eq == std::string::npos) {
        options.inputs.emplace_back("", spec);
      } else {
        options.inputs.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
      }
    }
    options.signature_key = signature;
    options.output_dir = output_dir;
    options.num_threads = threads;
    options.seed = seed;
    auto result = k2l::RunModel(run_file, options);
    if (!result.ok()) return Fail(result.status());
    if (!result->signature_key.empty())
      std::cout << "signature '" << result->signature_key << "'\n";
    for (const auto& [name, a] : result->inputs)
      std::cout << "  input  " << name << ": " << k2l::DescribeArray(a) << "\n";
    for (const auto& [name, a] : result->outputs)
      std::cout << "  output " << name << ": " << k2l::DescribeArray(a) << "\n";
    for (const auto& path : result->written)
      std::cout << "wrote " << path << "\n";
    return 0;
  }
  if (*bench) {
    k2l::BenchOptions options;
    options.num_threads = bench_threads;
    options.runs = bench_runs;
    options.warmup = bench_warmup;
    options.signature_key = bench_signature;
    auto r = k2l::BenchModel(bench_file, options);
    if (!r.ok()) return Fail(r.status());
    std::printf(
        "%s: %s, %d thread%s, %d runs after %d warm-up\n"
        "  load        %9.3f ms\n"
        "  first run   %9.3f ms\n"
        "  min         %9.3f ms\n"
        "  median      %9.3f ms\n"
        "  p90         %9.3f ms\n"
        "  mean        %9.3f ms\n"
        "  peak memory %s (process RSS)\n",
        bench_file.c_str(), k2l::HumanBytes(r->model_bytes).c_str(), bench_threads,
        bench_threads == 1 ? "" : "s", bench_runs, bench_warmup, r->load_ms,
        r->first_run_ms, r->min_ms, r->median_ms, r->p90_ms, r->mean_ms,
        k2l::HumanBytes(r->peak_rss_bytes).c_str());
    return 0;
  }
  if (*inspect) {
    auto bytes = k2l::ReadFileBytes(file);
    if (!bytes.ok()) return Fail(bytes.status());
    auto text = k2l::litert::DescribeModel(*bytes, file);
    if (!text.ok()) return Fail(text.status());
    std::cout << *text;
    // Costs need the runtime to prepare the model; a model it cannot run
    // is still described above.
    auto costs = k2l::DescribeCosts(*bytes, file);
    if (costs.ok()) {
      std::cout << *costs;
    } else {
      std::cout << "\ncost: not available, the native runtime cannot "
                   "prepare this model: "
                << costs.status().message() << "\n";
    }
    return 0;
  }
  return 2;
}
