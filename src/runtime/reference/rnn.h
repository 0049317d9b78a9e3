// Float math shared by the recurrent kernels (RNN and LSTM families), in the
// order LiteRT's kernels compute it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace k2l::runtime::reference {

// The fused activations of the recurrent ops (schema ActivationFunctionType
// order), plus the sigmoid of the LSTM gates.
enum class RnnActivation {
  kNone,
  kRelu,
  kReluN1To1,
  kRelu6,
  kTanh,
  kSignBit,
  kSigmoid
};

// out = act(in), element-wise. kNone leaves `out` untouched, as LiteRT's
// ApplyActivationToVector does: its LSTM gives different numbers for an
// activation of NONE because of this, and we keep them equal.
inline void ApplyRnnActivation(const float* in, int64_t n, RnnActivation act,
                               float* out) {
  switch (act) {
    case RnnActivation::kNone:
      return;
    case RnnActivation::kRelu:
      for (int64_t i = 0; i < n; ++i) out[i] = std::max(0.f, in[i]);
      return;
    case RnnActivation::kReluN1To1:
      for (int64_t i = 0; i < n; ++i)
        out[i] = std::max(-1.f, std::min(in[i], 1.f));
      return;
    case RnnActivation::kRelu6:
      for (int64_t i = 0; i < n; ++i)
        out[i] = std::max(0.f, std::min(in[i], 6.f));
      return;
    case RnnActivation::kTanh:
      for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(in[i]);
      return;
    case RnnActivation::kSignBit:
      for (int64_t i = 0; i < n; ++i) out[i] = std::signbit(in[i]) ? 1.f : 0.f;
      return;
    case RnnActivation::kSigmoid:
      for (int64_t i = 0; i < n; ++i) out[i] = 1.f / (1.f + std::exp(-in[i]));
      return;
  }
}

// out[b][r] = acc[b][r] + sum_c m[r][c] * v[b][c] for `batch` rows; `out`
// may be `acc`.
inline void MatVecAccumulate(const float* m, int rows, int cols, const float* v,
                             int batch, const float* acc, float* out) {
  for (int b = 0; b < batch; ++b) {
    const float* vb = v + static_cast<int64_t>(b) * cols;
    for (int r = 0; r < rows; ++r) {
      const float* mr = m + static_cast<int64_t>(r) * cols;
      float sum = 0.f;
      for (int c = 0; c < cols; ++c) sum += mr[c] * vb[c];
      int64_t o = static_cast<int64_t>(b) * rows + r;
      out[o] = acc[o] + sum;
    }
  }
}

// One step of a basic RNN cell over `batch` rows:
//   out = act(bias + W x + W_aux aux + R h), h = out.
// Rows of `out` are `out_stride` apart (the merged outputs of the
// bidirectional op interleave two cells); `aux` may be null.
inline void RnnStep(const float* x, const float* w, const float* aux,
                    const float* w_aux, const float* r, const float* bias,
                    int input_size, int aux_size, int units, int batch,
                    int out_stride, RnnActivation act, float* h, float* out) {
  for (int b = 0; b < batch; ++b) {
    float* o = out + static_cast<int64_t>(b) * out_stride;
    float* hb = h + static_cast<int64_t>(b) * units;
    std::copy_n(bias, units, o);
    MatVecAccumulate(w, units, input_size, x + int64_t{b} * input_size, 1, o,
                     o);
    if (aux != nullptr && aux_size > 0) {
      MatVecAccumulate(w_aux, units, aux_size, aux + int64_t{b} * aux_size, 1,
                       o, o);
    }
    MatVecAccumulate(r, units, units, hb, 1, o, o);
    ApplyRnnActivation(o, units, act, o);
    std::copy_n(o, units, hb);
  }
}

}  // namespace k2l::runtime::reference
