// Pieces the attention layers share: call flags, bool masks, and the masked
// softmax of each Keras code path.
#pragma once

#include <string>

#include "frontend/keras/layer_context.h"

namespace k2l::keras {

// True if `j` is a serialised Keras tensor in a node's args or kwargs.
bool IsKerasTensor(const nlohmann::json& j);

// A boolean call argument such as return_attention_scores; false if absent.
Result<bool> CallFlag(LayerContext& ctx, const std::string& key);

// The tensor of call argument `key`, passed at position `pos` or by
// keyword; kNoValue when absent or None.
Result<ir::ValueId> CallTensor(LayerContext& ctx, size_t pos,
                               const std::string& key);

// Whether call argument `key` (at position `pos`) is given, and not None.
bool CallGiven(LayerContext& ctx, size_t pos, const std::string& key);

// keras-hub's decoder blocks take four key/value-cache call arguments from
// position `first` on: self_attention_cache, its update index,
// cross_attention_cache and its update index. A call given any of them is
// refused, naming it: cached generation steps are not exported.
Status RefuseCaches(LayerContext& ctx, size_t first);

// A layer under a quantized dtype policy stores integer weights and scales
// its converter does not read: refused, naming the policy.
Status RefuseQuantized(LayerContext& ctx);

// `m` as a bool mask: Keras casts masks to bool, so any non-zero entry keeps
// its position.
Result<ir::ValueId> AsBoolMask(LayerContext& ctx, ir::ValueId m);

// The constant bool [t, s] mask, shaped `shape`, of the positions where
// query i may attend to key j: j <= i when `causal`, |i - j| < window when
// `window` > 0.
ir::ValueId ConstantMask(LayerContext& ctx, int64_t t, int64_t s, bool causal,
                         int64_t window, ir::Shape shape);

// a AND b for bool masks (either may be kNoValue), as one SELECT_V2.
Result<ir::ValueId> AndMasks(LayerContext& ctx, ir::ValueId a, ir::ValueId b);

// The Keras code paths that normalise attention scores under a mask. The
// stand-in for a masked score, and whether masked weights are zeroed after
// the softmax, decide what a fully masked row yields.
enum class SoftmaxPath {
  // keras.layers.Softmax with a mask: masked scores become -1e9 and masked
  // weights are zeroed (a fully masked row gives zeros).
  kSoftmaxLayer,
  // ops.dot_product_attention (jax.nn's): masked scores become
  // -0.7 * FLT_MAX and nothing is zeroed (a fully masked row gives the mean
  // of the values).
  kDotProductAttention,
};

// Softmax over the last axis of `scores` where bool `mask` (kNoValue for
// none) broadcasts against them.
Result<ir::ValueId> MaskedSoftmax(LayerContext& ctx, ir::ValueId scores,
                                  ir::ValueId mask, SoftmaxPath path);

// The MultiHeadAttention converter (layers/multi_head_attention.cc),
// registered with the rest of the attention family.
Result<std::vector<ir::ValueId>> ConvertMultiHeadAttention(LayerContext& ctx);

}  // namespace k2l::keras
