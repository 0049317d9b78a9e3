// The double-precision LSTM the LSTM kernel tests compare against, and
// helpers that add an LSTM cell's tensors to a test model.
#pragma once

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "runtime_test_util.h"

namespace k2l::runtime::testing::lstm {

using BO = fb::BuiltinOperator;
using Act = fb::ActivationFunctionType;
constexpr TensorType kF32 = TensorType::FLOAT32;

struct Config {
  int batch = 1, time = 1, input = 1, cells = 1, proj = 0;  // proj 0: none
  bool cifg = false, peephole = false, proj_bias = false, layer_norm = false;
  bool diagonal = false, time_major = false;
  Act act = Act::TANH;
  float cell_clip = 0, proj_clip = 0;
  int outputs() const { return proj ? proj : cells; }
};

// One cell's weights, as floats (what the model holds) for the reference.
struct Weights {
  std::vector<float> in[4], aux[4], rec[4], peep[4], ln[4], bias[4], proj,
      proj_bias;
};

inline Config RandomConfig(std::mt19937_64& rng) {
  auto pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  Config c;
  c.batch = pick(1, 3);
  c.time = pick(1, 4);
  c.input = pick(1, 4);
  c.cells = pick(1, 4);
  c.proj = pick(0, 1) ? pick(1, 4) : 0;
  c.cifg = pick(0, 1);
  c.peephole = pick(0, 1);
  c.proj_bias = c.proj && pick(0, 1);
  c.layer_norm = pick(0, 1);
  c.diagonal = !c.proj && pick(0, 3) == 0;
  c.time_major = pick(0, 1);
  // SIGN_BIT is left out: it jumps at 0, where float and double may differ.
  const Act acts[] = {Act::TANH, Act::RELU, Act::RELU6, Act::RELU_N1_TO_1,
                      Act::NONE};
  c.act = acts[pick(0, 4)];
  c.cell_clip = pick(0, 1) ? 0.8f : 0.f;
  c.proj_clip = pick(0, 1) ? 0.6f : 0.f;
  return c;
}

// Adds one cell's tensors in LiteRT's input order (weights 1-17, or the
// bidirectional op's per-direction block) and returns their indices.
inline std::vector<int> AddCell(OpModelBuilder& b, const Config& c, Weights& w,
                                std::mt19937_64& rng) {
  auto add = [&](std::vector<float>& v, Shape s) {
    v = RandomFloats(rng, NumElements(s), -0.7f, 0.7f);
    return b.AddConst<float>(kF32, s, v);
  };
  const int n = c.cells, o = c.outputs();
  std::vector<int> ids;
  for (int g = 0; g < 4; ++g)
    ids.push_back(g == 0 && c.cifg ? -1 : add(w.in[g], {n, c.input}));
  for (int g = 0; g < 4; ++g) {
    ids.push_back(g == 0 && c.cifg
                      ? -1
                      : add(w.rec[g], c.diagonal ? Shape{n} : Shape{n, o}));
  }
  for (int g : {0, 1, 3})
    ids.push_back(!c.peephole || (g == 0 && c.cifg) ? -1 : add(w.peep[g], {n}));
  for (int g = 0; g < 4; ++g)
    ids.push_back(g == 0 && c.cifg ? -1 : add(w.bias[g], {n}));
  ids.push_back(c.proj ? add(w.proj, {o, n}) : -1);
  ids.push_back(c.proj_bias ? add(w.proj_bias, {o}) : -1);
  return ids;
}

inline std::vector<int> AddLayerNorm(OpModelBuilder& b, const Config& c,
                                     Weights& w, std::mt19937_64& rng) {
  std::vector<int> ids;
  for (int g = 0; g < 4; ++g) {
    if (!c.layer_norm || (g == 0 && c.cifg)) {
      ids.push_back(-1);
      continue;
    }
    w.ln[g] = RandomFloats(rng, c.cells, 0.5f, 1.5f);
    ids.push_back(b.AddConst<float>(kF32, {c.cells}, w.ln[g]));
  }
  return ids;
}

inline double Activate(Act a, double x) {
  switch (a) {
    case Act::RELU:
      return std::max(0.0, x);
    case Act::RELU6:
      return std::clamp(x, 0.0, 6.0);
    case Act::RELU_N1_TO_1:
      return std::clamp(x, -1.0, 1.0);
    case Act::TANH:
      return std::tanh(x);
    default:
      return x;
  }
}

// One step of `rows` rows in double. LiteRT's float kernel has two quirks
// with an activation of NONE, reproduced here: when a gate's sum ends in its
// second buffer (an even count of input, aux and diagonal products) the gate
// keeps what its first buffer last held (its initial bias, or 0 with layer
// norm, plus the input and aux products when both ran), and the output is
// o * cell_gate instead of o * cell.
inline void RefStep(const Config& c, const Weights& w, const float* x,
                    const float* aux, int n_aux, int rows, double* h,
                    double* cell, double* out, int out_stride) {
  const int n = c.cells, o = c.outputs();
  bool x_zero = true, aux_zero = true;  // a missing aux counts as zero
  for (int i = 0; i < rows * c.input; ++i) x_zero &= x[i] == 0.f;
  for (int i = 0; aux && i < rows * n_aux; ++i) aux_zero &= aux[i] == 0.f;
  const bool in_gate_buffer = ((!x_zero) + (!aux_zero) + c.diagonal) % 2 == 1;
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + r * c.input;
    const float* ar = aux ? aux + r * n_aux : nullptr;
    double* hr = h + r * o;
    double* cr = cell + r * n;
    auto gate = [&](int g) {
      std::vector<double> v(n), first_buffer(n);
      for (int i = 0; i < n; ++i) {
        double s = c.layer_norm ? 0 : w.bias[g][i];
        first_buffer[i] = s;
        for (int k = 0; k < c.input; ++k) s += w.in[g][i * c.input + k] * xr[k];
        for (int k = 0; ar && k < n_aux; ++k)
          s += w.aux[g][i * n_aux + k] * ar[k];
        if (!x_zero && !aux_zero && !c.diagonal) first_buffer[i] = s;
        if (c.diagonal)
          s += w.rec[g][i] * hr[i];
        else
          for (int k = 0; k < o; ++k) s += w.rec[g][i * o + k] * hr[k];
        if (c.peephole && g != 2) s += w.peep[g][i] * cr[i];
        v[i] = s;
      }
      if (c.layer_norm) {
        double mean = 0, var = 0;
        for (double s : v) mean += s / n;
        for (double s : v) var += (s - mean) * (s - mean) / n;
        for (int i = 0; i < n; ++i)
          v[i] =
              (v[i] - mean) / std::sqrt(var + 1e-8) * w.ln[g][i] + w.bias[g][i];
      }
      for (int i = 0; i < n; ++i) {
        if (g != 2)
          v[i] = 1 / (1 + std::exp(-v[i]));
        else if (c.act == Act::NONE && !in_gate_buffer)
          v[i] = first_buffer[i];
        else
          v[i] = Activate(c.act, v[i]);
      }
      return v;
    };
    std::vector<double> in_g = c.cifg ? std::vector<double>() : gate(0);
    std::vector<double> f_g = gate(1), c_g = gate(2);
    for (int i = 0; i < n; ++i) {
      cr[i] = f_g[i] * cr[i] + (c.cifg ? 1 - f_g[i] : in_g[i]) * c_g[i];
      if (c.cell_clip > 0)
        cr[i] = std::clamp<double>(cr[i], -c.cell_clip, c.cell_clip);
    }
    std::vector<double> o_g = gate(3), m(n);
    for (int i = 0; i < n; ++i)
      m[i] = o_g[i] * (c.act == Act::NONE ? c_g[i] : Activate(c.act, cr[i]));
    for (int k = 0; k < o; ++k) {
      double v = m[k < n ? k : 0];
      if (c.proj) {
        v = c.proj_bias ? w.proj_bias[k] : 0;
        for (int i = 0; i < n; ++i) v += w.proj[k * n + i] * m[i];
        if (c.proj_clip > 0)
          v = std::clamp<double>(v, -c.proj_clip, c.proj_clip);
      }
      hr[k] = v;
      out[static_cast<int64_t>(r) * out_stride + k] = v;
    }
  }
}

// A sequence, time- or batch-major as LiteRT steps it; `out` has rows of
// `out_stride` values, this cell's starting at `offset`.
inline void RefSequence(const Config& c, const Weights& w,
                        const std::vector<float>& x,
                        const std::vector<float>* aux, int n_aux, bool forward,
                        std::vector<double>& h, std::vector<double>& cell,
                        std::vector<double>& out, int out_stride, int offset) {
  const int T = c.time, B = c.batch;
  for (int s = 0; s < T; ++s) {
    const int t = forward ? s : T - 1 - s;
    if (c.time_major) {
      RefStep(c, w, &x[t * B * c.input], aux ? &(*aux)[t * B * n_aux] : nullptr,
              n_aux, B, h.data(), cell.data(),
              &out[t * B * out_stride + offset], out_stride);
      continue;
    }
    for (int b = 0; b < B; ++b) {
      const int row = b * T + t;
      RefStep(c, w, &x[row * c.input], aux ? &(*aux)[row * n_aux] : nullptr,
              n_aux, 1, &h[b * c.outputs()], &cell[b * c.cells],
              &out[row * out_stride + offset], out_stride);
    }
  }
}

inline Shape SeqShape(const Config& c, int last) {
  return c.time_major ? Shape{c.time, c.batch, last}
                      : Shape{c.batch, c.time, last};
}

inline std::vector<float> RandomInput(std::mt19937_64& rng, const Config& c,
                                      int last) {
  auto x = RandomFloats(rng, int64_t{c.batch} * c.time * last);
  // Sometimes an all-zero step: LiteRT then skips the input product.
  if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) {
    const int rows = c.time_major ? c.batch : 1;
    std::fill_n(x.begin(), rows * last, 0.f);
  }
  return x;
}

// UNIDIRECTIONAL_SEQUENCE_LSTM (or LSTM, one step of [batch, input]).

inline double Tol(const Config& c) { return c.layer_norm ? 1e-4 : 1e-5; }

inline std::string Describe(const Config& c) {
  std::ostringstream os;
  os << "batch " << c.batch << " time " << c.time << " input " << c.input
     << " cells " << c.cells << " proj " << c.proj << " cifg " << c.cifg
     << " peephole " << c.peephole << " ln " << c.layer_norm << " diag "
     << c.diagonal << " time_major " << c.time_major << " act "
     << static_cast<int>(c.act);
  return os.str();
}

}  // namespace k2l::runtime::testing::lstm
