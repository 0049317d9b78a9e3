// Checked reads of a backbone's or task's hyperparameters (the "config" of
// config.json / task.json). A missing or mistyped value is an error naming
// the key and the class.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace k2l::hub {

class Hyperparams {
 public:
  Hyperparams(const nlohmann::json& config, std::string owner)
      : c_(config), owner_(std::move(owner)) {}
  Result<int64_t> Int(const std::string& key) const;
  Result<int64_t> IntOr(const std::string& key, int64_t fallback) const;
  Result<double> FloatOr(const std::string& key, double fallback) const;
  Result<bool> BoolOr(const std::string& key, bool fallback) const;
  // A list of non-negative ints (at least one).
  Result<std::vector<int64_t>> IntList(const std::string& key) const;
  Result<std::string> String(const std::string& key) const;
  // Requires `value` (of hyperparameter `key`) to be a positive multiple
  // of `divisor_key`'s value, e.g. hidden_dim of num_heads.
  Status RequireMultiple(const std::string& key, int64_t value,
                         const std::string& divisor_key,
                         int64_t divisor) const;
  const nlohmann::json& raw() const { return c_; }

 private:
  Status Bad(const std::string& key, const std::string& want) const;
  const nlohmann::json& c_;
  std::string owner_;
};

// The sizes keras-hub's multi-head transformer backbones (GPT-2, BERT,
// BART, ...) name alike: vocabulary_size, num_layers, num_heads, hidden_dim
// and intermediate_dim, with hidden_dim split over the heads.
struct TransformerSizes {
  int64_t vocab = 0, layers = 0, heads = 0, hidden = 0, intermediate = 0;
};
Result<TransformerSizes> ReadTransformerSizes(const Hyperparams& hp);

}  // namespace k2l::hub
