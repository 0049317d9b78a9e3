// Blocks of decoder-only language models (Llama, Mistral, and the families
// built like them): RMS normalisation, rotary position embeddings computed
// at run time (so one file runs at any sequence length), the causal mask
// merged with a padding mask and an optional sliding window, and
// grouped-query attention.
#pragma once

#include <string>
#include <vector>

#include "frontend/keras/attention_lowering.h"
#include "frontend/keras/layer_context.h"

namespace k2l::keras {

// x * rsqrt(mean(x^2, -1) + epsilon) * scale, computed in float32, as
// keras-hub's LlamaLayerNorm and MistralLayerNormalization do. `scale` is
// the [features] weight (a caller whose norm multiplies by 1 + scale passes
// that sum).
Result<ir::ValueId> RmsNormLastAxis(LayerContext& ctx, ir::ValueId x,
                                    const ir::TensorData& scale, double epsilon,
                                    const std::string& what);

// The inverse frequencies of keras_hub.layers.RotaryEmbedding over a
// feature dim `dim`: max_wavelength^(-2i/dim) / scaling_factor (its
// "linear" rope_type).
std::vector<float> RopeInverseFrequencies(int64_t dim, double max_wavelength,
                                          double scaling_factor);

// Llama 3.1's frequency-dependent scaling (LlamaRotaryEmbedding with
// low_freq_factor, high_freq_factor, frequency_adjustment_factor and
// pretraining_sequence_length): long wavelengths are divided by the
// adjustment factor, short ones kept, the band between interpolated.
std::vector<float> Llama3RopeInverseFrequencies(int64_t dim,
                                                double max_wavelength,
                                                double adjustment_factor,
                                                double low_freq_factor,
                                                double high_freq_factor,
                                                double pretraining_length);

// cos and sin of position * inv_freq for the positions 0..S-1 of `seq`'s
// axis 1 (S read at run time), each as [1, S, 1, 2 * inv_freq.size()]
// (the frequencies repeated, as RotaryEmbedding concatenates them). LiteRT
// has no builtin SIN/COS in our op set, so they are evaluated by range
// reduction and a polynomial, accurate to a few float32 ulps of [-1, 1].
struct RotaryTables {
  ir::ValueId cos = ir::kNoValue;
  ir::ValueId sin = ir::kNoValue;
};
Result<RotaryTables> RotaryCosSin(LayerContext& ctx, ir::ValueId seq,
                                  const std::vector<float>& inv_freq);

// RotaryEmbedding applied to x of shape [B, S, heads, D]:
// x * cos + concat(-x2, x1) * sin, where x1, x2 are x's halves.
Result<ir::ValueId> ApplyRotary(LayerContext& ctx, ir::ValueId x,
                                const RotaryTables& t);

// The bool [B, 1, S, S] self-attention mask of a decoder: key j is visible
// from query i when j <= i, padding_mask[b, j] is non-zero (when given) and,
// with `sliding_window` > 0, i < j + sliding_window. S is read at run time
// from `seq`'s axis 1.
Result<ir::ValueId> DecoderSelfAttentionMask(LayerContext& ctx,
                                             ir::ValueId seq,
                                             ir::ValueId padding_mask,
                                             int64_t sliding_window);

// Attention of q [B, S, H, D] over k, v [B, S, KV, D] with H a multiple of
// KV (query head u reads key/value head u / (H / KV), as keras-hub's
// ops.repeat of the keys and values), under the bool mask [B, 1, S, S]
// (or kNoValue). The query must already carry the 1/sqrt(D) scale.
// Returns [B, S, H, D].
Result<ir::ValueId> GroupedQueryAttention(LayerContext& ctx, ir::ValueId q,
                                          ir::ValueId k, ir::ValueId v,
                                          ir::ValueId mask, int64_t heads,
                                          int64_t kv_heads, SoftmaxPath path);

}  // namespace k2l::keras
