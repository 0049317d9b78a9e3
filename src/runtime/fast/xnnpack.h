// Float32 fast paths through XNNPACK's operator API. Each Create* packs the
// (constant) weights once, in a kernel's Prepare, and returns an empty
// operator when XNNPACK is unavailable or rejects the configuration; each
// Run* sets the operator up for this call's pointers and runs it on the
// interpreter's thread pool, returning false on failure. Kernels fall back to
// their own float path whenever either happens.
#pragma once

#include <cstdint>

#include "runtime/reference/conv.h"
#include "runtime/reference/pooling.h"

struct xnn_operator;
struct pthreadpool;

namespace k2l::runtime::fast {

// Owns one XNNPACK operator.
class XnnOperator {
 public:
  XnnOperator() = default;
  explicit XnnOperator(xnn_operator* op) : op_(op) {}
  ~XnnOperator() { Reset(); }
  XnnOperator(XnnOperator&& o) noexcept : op_(o.op_) { o.op_ = nullptr; }
  XnnOperator& operator=(XnnOperator&& o) noexcept {
    if (this != &o) {
      Reset();
      op_ = o.op_;
      o.op_ = nullptr;
    }
    return *this;
  }
  XnnOperator(const XnnOperator&) = delete;
  XnnOperator& operator=(const XnnOperator&) = delete;

  explicit operator bool() const { return op_ != nullptr; }
  xnn_operator* get() const { return op_; }
  void Reset();

 private:
  xnn_operator* op_ = nullptr;
};

// CONV_2D (filter [out_c, k_h, k_w, in_c / groups]) or, with `depthwise`,
// DEPTHWISE_CONV_2D (filter [1, k_h, k_w, out_c]); bias may be null.
XnnOperator CreateConv2D(const reference::Window& w, bool depthwise,
                         const float* filter, const float* bias, float act_min,
                         float act_max);
bool RunConv2D(const XnnOperator& op, const reference::Window& w,
               const float* input, float* output, pthreadpool* pool);

// TRANSPOSE_CONV: filter [out_c, k_h, k_w, in_c]; "in" of `w` is the data
// input.
XnnOperator CreateDeconv2D(const reference::Window& w, const float* filter,
                           const float* bias, float act_min, float act_max);
bool RunDeconv2D(const XnnOperator& op, const reference::Window& w,
                 const float* input, float* output, pthreadpool* pool);

// FULLY_CONNECTED: weights [units, depth].
XnnOperator CreateFullyConnected(int64_t depth, int64_t units,
                                 const float* weights, const float* bias,
                                 float act_min, float act_max);
bool RunFullyConnected(const XnnOperator& op, int64_t batch, const float* input,
                       float* output, pthreadpool* pool);

// AVERAGE_POOL_2D and MAX_POOL_2D (not L2).
XnnOperator CreatePool2D(reference::PoolKind kind, const reference::Window& w,
                         float act_min, float act_max);
bool RunPool2D(const XnnOperator& op, reference::PoolKind kind,
               const reference::Window& w, const float* input, float* output,
               pthreadpool* pool);

}  // namespace k2l::runtime::fast
