#include "frontend/hub/hyperparams.h"

namespace k2l::hub {

using nlohmann::json;

Status Hyperparams::Bad(const std::string& key, const std::string& want) const {
  return Status::Invalid(owner_ + ": the hyperparameter '" + key + "' " +
                         want + ". The preset's config does not match this "
                         "keras-hub class; save it again with "
                         "save_to_preset()");
}

Status Hyperparams::RequireMultiple(const std::string& key, int64_t value,
                                    const std::string& divisor_key,
                                    int64_t divisor) const {
  if (divisor > 0 && value % divisor == 0) return Status::Ok();
  return Status::Invalid(owner_ + ": " + key + " " + std::to_string(value) +
                         " is not a multiple of " + divisor_key + " " +
                         std::to_string(divisor) +
                         ", so the attention heads cannot split it. The "
                         "preset's config is inconsistent; save it again "
                         "with save_to_preset()");
}

Result<int64_t> Hyperparams::Int(const std::string& key) const {
  if (!c_.is_object() || !c_.contains(key)) return Bad(key, "is missing");
  const auto& v = c_[key];
  if (!v.is_number_integer() || v.get<int64_t>() < 0) {
    return Bad(key, "is " + v.dump() + ", not a non-negative integer");
  }
  return v.get<int64_t>();
}

Result<int64_t> Hyperparams::IntOr(const std::string& key,
                                   int64_t fallback) const {
  if (!c_.is_object() || !c_.contains(key) || c_[key].is_null()) {
    return fallback;
  }
  return Int(key);
}

Result<double> Hyperparams::FloatOr(const std::string& key,
                                    double fallback) const {
  if (!c_.is_object() || !c_.contains(key) || c_[key].is_null()) {
    return fallback;
  }
  if (!c_[key].is_number()) return Bad(key, "is not a number");
  return c_[key].get<double>();
}

Result<bool> Hyperparams::BoolOr(const std::string& key, bool fallback) const {
  if (!c_.is_object() || !c_.contains(key) || c_[key].is_null()) {
    return fallback;
  }
  if (!c_[key].is_boolean()) {
    return Bad(key, "is " + c_[key].dump() + ", not a boolean");
  }
  return c_[key].get<bool>();
}

Result<std::vector<int64_t>> Hyperparams::IntList(
    const std::string& key) const {
  if (!c_.is_object() || !c_.contains(key)) return Bad(key, "is missing");
  const json& v = c_[key];
  std::vector<int64_t> out;
  if (v.is_array()) {
    for (const json& e : v) {
      if (!e.is_number_integer() || e.get<int64_t>() < 0) break;
      out.push_back(e.get<int64_t>());
    }
  }
  if (!v.is_array() || v.empty() || out.size() != v.size()) {
    return Bad(key, "is " + v.dump() + ", not a list of non-negative ints");
  }
  return out;
}

Result<std::string> Hyperparams::String(const std::string& key) const {
  if (!c_.is_object() || !c_.contains(key)) return Bad(key, "is missing");
  if (!c_[key].is_string()) {
    return Bad(key, "is " + c_[key].dump() + ", not a string");
  }
  return c_[key].get<std::string>();
}

Result<TransformerSizes> ReadTransformerSizes(const Hyperparams& hp) {
  TransformerSizes t;
  K2L_ASSIGN_OR_RETURN(t.vocab, hp.Int("vocabulary_size"));
  K2L_ASSIGN_OR_RETURN(t.layers, hp.Int("num_layers"));
  K2L_ASSIGN_OR_RETURN(t.heads, hp.Int("num_heads"));
  K2L_ASSIGN_OR_RETURN(t.hidden, hp.Int("hidden_dim"));
  K2L_ASSIGN_OR_RETURN(t.intermediate, hp.Int("intermediate_dim"));
  K2L_RETURN_IF_ERROR(
      hp.RequireMultiple("hidden_dim", t.hidden, "num_heads", t.heads));
  return t;
}

}  // namespace k2l::hub
