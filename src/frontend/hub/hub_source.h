// A Keras-Hub preset as something the Keras frontend lowers: the task's
// network (rebuilt by its architecture builder), its weights (backbone and
// task files behind one store), the resolved input shapes, and notes on
// which value of each export parameter won.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "frontend/hub/preset.h"
#include "frontend/keras/model_source.h"

namespace k2l::hub {

struct HubOptions {
  // The user's export parameters; unset ones resolve from the preset.
  // A Seq2SeqLM takes the encoder and decoder lengths; for it, as in
  // keras-hub's Seq2SeqLMPreprocessor, sequence_length is an alias of
  // decoder_sequence_length.
  std::optional<int64_t> sequence_length;
  std::optional<int64_t> encoder_sequence_length;
  std::optional<int64_t> decoder_sequence_length;
  // Vision tasks: the image size (height, width), and whether the image
  // converter's rescaling goes into the graph (unset: it does).
  std::optional<std::pair<int64_t, int64_t>> image_size;
  std::optional<bool> include_preprocessing;
  // The live task's class hierarchy, nearest first (from the Python
  // facade); empty for a preset on disk.
  std::vector<std::string> task_ancestors;
};

struct HubSource {
  keras::ModelSource source;
  std::vector<std::string> notes;
};

Result<HubSource> LoadHubSource(const std::string& dir,
                                const HubOptions& options);

// A vision task's image size, highest priority first: the user's value,
// the preprocessor's image converter's `image_size` (preprocessor.json),
// the backbone's `image_shape` (EfficientNet's `input_shape`), else the
// task kind's default.
struct ResolvedImageSize {
  int64_t height = 0, width = 0;
  std::string source;
};
Result<ResolvedImageSize> ResolveImageSize(
    std::optional<std::pair<int64_t, int64_t>> user,
    const std::optional<nlohmann::json>& preprocessor,
    const nlohmann::json& backbone, int64_t fallback);

// The export parameter `key` ("sequence_length", "encoder_sequence_length"
// or "decoder_sequence_length") of a text task, highest priority first:
// the user's value, the preprocessor's value of `key`, a dynamic length
// where the architecture allows it, else 128. `max_length` (0: none)
// bounds it.
struct ResolvedLength {
  int64_t value = -1;  // -1: dynamic
  std::string source;  // e.g. "the sequence_length argument"
};
struct UserLength {
  std::optional<int64_t> value;
  std::string source;  // where the value came from, e.g. "the ... argument"
};
Result<ResolvedLength> ResolveSequenceLength(
    const std::string& key, const UserLength& user,
    const std::optional<nlohmann::json>& preprocessor, bool dynamic_ok,
    int64_t max_length);

}  // namespace k2l::hub
