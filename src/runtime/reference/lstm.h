// Float LSTM, step by step in the order LiteRT's lstm_eval computes it,
// including its two-buffer gate accumulation (which decides what an
// activation of NONE leaves behind) and its skipping of all-zero inputs.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "runtime/reference/rnn.h"

namespace k2l::runtime::reference {

enum LstmGate {
  kInputGate = 0,
  kForgetGate = 1,
  kCellGate = 2,
  kOutputGate = 3
};

// The weights of one LSTM cell. Pointers of absent tensors are null: the
// input gate's for CIFG, the peepholes (cell gate's always), layer norm,
// projection and the auxiliary input.
struct LstmCell {
  const float* input_weights[4] = {};      // [n_cell, n_input]
  const float* aux_weights[4] = {};        // [n_cell, n_aux_input]
  const float* recurrent_weights[4] = {};  // [n_cell, n_output] or [n_cell]
  bool recurrent_diagonal[4] = {};
  const float* peephole[4] = {};           // [n_cell]
  const float* layer_norm[4] = {};         // [n_cell]
  const float* bias[4] = {};               // [n_cell]
  const float* projection = nullptr;       // [n_output, n_cell]
  const float* projection_bias = nullptr;  // [n_output]
  int n_input = 0, n_aux_input = 0, n_cell = 0, n_output = 0;
  RnnActivation activation = RnnActivation::kTanh;
  float cell_clip = 0.f;  // 0: none
  float proj_clip = 0.f;  // 0: none

  bool cifg() const { return input_weights[kInputGate] == nullptr; }
};

// Floats of scratch one LstmStep over `batch` rows needs.
inline int64_t LstmScratchSize(const LstmCell& c, int batch) {
  return int64_t{5} * batch * std::max(c.n_cell, c.n_output);
}

inline bool AllZero(const float* v, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (v[i] != 0.f) return false;
  return true;
}

// One gate into `gate`, with `other` as the second buffer. Each product adds
// the current buffer into the other one and they swap (a diagonal recurrent
// product adds in place and swaps too); the activation then reads whichever
// holds the sum. With kNone nothing is written, so `gate` keeps what it held.
inline void LstmGateStep(const LstmCell& c, LstmGate g, const float* x,
                         const float* aux, const float* h, const float* cell,
                         int batch, bool x_zero, bool aux_zero,
                         RnnActivation act, float* gate, float* other) {
  const int n = c.n_cell;
  const int64_t size = int64_t{batch} * n;
  const float* ln = c.layer_norm[g];
  if (ln != nullptr) {
    std::fill_n(gate, size, 0.f);
  } else {
    for (int b = 0; b < batch; ++b) std::copy_n(c.bias[g], n, gate + b * n);
  }
  float* acc = gate;
  float* out = other;
  if (!x_zero) {
    MatVecAccumulate(c.input_weights[g], n, c.n_input, x, batch, acc, out);
    std::swap(acc, out);
  }
  if (!aux_zero) {
    MatVecAccumulate(c.aux_weights[g], n, c.n_aux_input, aux, batch, acc, out);
    std::swap(acc, out);
  }
  if (c.recurrent_diagonal[g]) {
    const float* w = c.recurrent_weights[g];
    for (int64_t i = 0; i < size; ++i) acc[i] += w[i % n] * h[i];
    std::swap(acc, out);
  } else {
    MatVecAccumulate(c.recurrent_weights[g], n, c.n_output, h, batch, acc, out);
  }
  if (cell != nullptr && c.peephole[g] != nullptr) {
    const float* w = c.peephole[g];
    for (int64_t i = 0; i < size; ++i) out[i] += w[i % n] * cell[i];
  }
  if (ln != nullptr) {
    for (int b = 0; b < batch; ++b) {
      float* row = out + int64_t{b} * n;
      float sum = 0.f;
      for (int i = 0; i < n; ++i) sum += row[i];
      const float mean = sum / n;
      float sq = 0.f;
      for (int i = 0; i < n; ++i) sq += (row[i] - mean) * (row[i] - mean);
      const float inv = 1.f / std::sqrt(sq / n + 1e-8f);
      for (int i = 0; i < n; ++i)
        row[i] = (row[i] - mean) * inv * ln[i] + c.bias[g][i];
    }
  }
  ApplyRnnActivation(out, size, act, gate);
}

// One time step for `batch` rows: updates `h` ([batch, n_output]) and
// `cell` ([batch, n_cell]) and writes h's rows to `out`, `out_stride` apart.
inline void LstmStep(const LstmCell& c, const float* x, const float* aux,
                     int batch, float* h, float* cell, float* scratch,
                     float* out, int out_stride) {
  const int64_t size = int64_t{batch} * std::max(c.n_cell, c.n_output);
  float* input_gate = scratch;
  float* forget_gate = scratch + size;
  float* cell_gate = scratch + 2 * size;
  float* output_gate = scratch + 3 * size;
  float* other = scratch + 4 * size;
  const bool x_zero = AllZero(x, int64_t{batch} * c.n_input);
  const bool aux_zero =
      aux == nullptr || AllZero(aux, int64_t{batch} * c.n_aux_input);
  const RnnActivation sig = RnnActivation::kSigmoid;
  if (!c.cifg()) {
    LstmGateStep(c, kInputGate, x, aux, h, cell, batch, x_zero, aux_zero, sig,
                 input_gate, other);
  }
  LstmGateStep(c, kForgetGate, x, aux, h, cell, batch, x_zero, aux_zero, sig,
               forget_gate, other);
  LstmGateStep(c, kCellGate, x, aux, h, nullptr, batch, x_zero, aux_zero,
               c.activation, cell_gate, other);
  const int64_t cells = int64_t{batch} * c.n_cell;
  for (int64_t i = 0; i < cells; ++i) {
    const float in = c.cifg() ? 1.f - forget_gate[i] : input_gate[i];
    cell[i] = forget_gate[i] * cell[i];
    cell[i] += cell_gate[i] * in;
  }
  if (c.cell_clip > 0.f) {
    for (int64_t i = 0; i < cells; ++i)
      cell[i] = std::max(-c.cell_clip, std::min(c.cell_clip, cell[i]));
  }
  LstmGateStep(c, kOutputGate, x, aux, h, cell, batch, x_zero, aux_zero, sig,
               output_gate, other);
  // h = o * act(cell); with kNone the cell gate's values stay in its buffer
  // and are used instead of act(cell), as in LiteRT.
  ApplyRnnActivation(cell, cells, c.activation, cell_gate);
  for (int64_t i = 0; i < cells; ++i) cell_gate[i] *= output_gate[i];
  const int64_t outs = int64_t{batch} * c.n_output;
  if (c.projection != nullptr) {
    for (int b = 0; b < batch; ++b) {
      if (c.projection_bias != nullptr)
        std::copy_n(c.projection_bias, c.n_output, other + b * c.n_output);
      else
        std::fill_n(other + b * c.n_output, c.n_output, 0.f);
    }
    MatVecAccumulate(c.projection, c.n_output, c.n_cell, cell_gate, batch,
                     other, h);
    if (c.proj_clip > 0.f) {
      for (int64_t i = 0; i < outs; ++i)
        h[i] = std::max(-c.proj_clip, std::min(c.proj_clip, h[i]));
    }
  } else {
    std::copy_n(cell_gate, outs, h);
  }
  for (int b = 0; b < batch; ++b) {
    std::copy_n(h + int64_t{b} * c.n_output, c.n_output,
                out + int64_t{b} * out_stride);
  }
}

// A whole sequence. `x` is [time, batch, n_input] when time-major, else
// [batch, time, n_input] (`aux` likewise, or null). Output rows are
// `out_stride` floats and start `out_offset` floats in. Time-major runs all
// rows together per step; batch-major runs each row through all steps, as
// LiteRT does (the two differ only in which inputs count as all zero).
// Backward runs the steps last to first. `scratch` holds
// LstmScratchSize(c, batch) floats.
inline void LstmSequence(const LstmCell& c, const float* x, const float* aux,
                         int time, int batch, bool time_major, bool forward,
                         float* h, float* cell, float* out, int out_stride,
                         int out_offset, float* scratch) {
  const int64_t ni = c.n_input, na = c.n_aux_input;
  if (time_major) {
    for (int s = 0; s < time; ++s) {
      const int t = forward ? s : time - 1 - s;
      LstmStep(c, x + t * batch * ni,
               aux != nullptr ? aux + t * batch * na : nullptr, batch, h, cell,
               scratch, out + int64_t{t} * batch * out_stride + out_offset,
               out_stride);
    }
    return;
  }
  for (int b = 0; b < batch; ++b) {
    for (int s = 0; s < time; ++s) {
      const int t = forward ? s : time - 1 - s;
      const int64_t row = int64_t{b} * time + t;
      LstmStep(c, x + row * ni, aux != nullptr ? aux + row * na : nullptr, 1,
               h + int64_t{b} * c.n_output, cell + int64_t{b} * c.n_cell,
               scratch, out + row * out_stride + out_offset, out_stride);
    }
  }
}

}  // namespace k2l::runtime::reference
