// The cell tensors shared by the LSTM kernels (sequence_lstm.cc): where
// each sits among an op's inputs, and checking them against each other.
#pragma once

#include <string>
#include <vector>

#include "runtime/kernel.h"
#include "runtime/reference/lstm.h"

namespace k2l::runtime::kernels::lstm_cell {

// Where one cell's tensors sit among the op's inputs (-1: the op has none).
struct CellLayout {
  int input_weights[4];
  int recurrent_weights[4];
  int peephole[4];
  int bias[4];
  int projection, projection_bias;
  int h, c;
  int layer_norm[4];
  int aux_weights[4];
};

constexpr CellLayout kLayout = {
    {1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, -1, 11},  {12, 13, 14, 15}, 16, 17,
    18,           19,           {20, 21, 22, 23}, {-1, -1, -1, -1}};
constexpr CellLayout kFwLayout = {
    {1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, -1, 11},  {12, 13, 14, 15}, 16, 17,
    35,           36,           {-1, -1, -1, -1}, {40, 41, 42, 43}};
constexpr CellLayout kBwLayout = {{18, 19, 20, 21},
                                  {22, 23, 24, 25},
                                  {26, 27, -1, 28},
                                  {29, 30, 31, 32},
                                  33,
                                  34,
                                  37,
                                  38,
                                  {-1, -1, -1, -1},
                                  {44, 45, 46, 47}};
constexpr int kBidiAuxInput = 39;

struct CellDims {
  int n_cell = 0, n_output = 0;
  bool diagonal[4] = {};
  bool cifg = false, layer_norm = false;
};

struct LstmData : OpData {
  CellDims fw, bw;
  std::vector<float> scratch;
};

// Whether optional input `i` (-1: none in this op) is present.
bool Has(const OpContext& ctx, int i);
// "what (input i, 'name')".
std::string Name(const OpContext& ctx, int i, const std::string& what);
Status ExpectFloat(const OpContext& ctx, int i, const std::string& what);

// Checks one cell's tensors against each other and the input (n_aux = 0
// when there are no auxiliary weights) and returns its sizes.
Result<CellDims> CheckCell(OpContext& ctx, const CellLayout& l,
                           const std::string& p, int n_input, int n_aux,
                           int n_batch, bool allow_diagonal);
// The cell's weights as the reference math takes them.
reference::LstmCell MakeCell(OpContext& ctx, const CellLayout& l,
                             const CellDims& d, int n_input, int n_aux);
// Checks the fused activation, cell_clip and proj_clip and sets them on `c`
// (when given).
Status SetParams(const OpContext& ctx, fb::ActivationFunctionType act,
                 float cell_clip, float proj_clip, reference::LstmCell* c);
// Input 0 is float32 of `rank`; the outputs are float32.
Status CheckInput(OpContext& ctx, int rank);

}  // namespace k2l::runtime::kernels::lstm_cell
