// Helpers of the control-flow kernel tests: stand-in ADD, LESS and
// CONCATENATION kernels (used only where the runtime has none yet: int32 and
// float32, scalar broadcasting, axis 0 concatenation), loading and running
// with them, and a counter loop's cond and body subgraphs.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "runtime/interpreter.h"
#include "runtime/kernels/register.h"
#include "runtime_test_util.h"

namespace k2l::runtime::testing::control_flow {

using BO = fb::BuiltinOperator;
constexpr TensorType kF32 = TensorType::FLOAT32;
constexpr TensorType kI32 = TensorType::INT32;

// --- Stand-in kernels -------------------------------------------------------

inline const Tensor& Bigger(OpContext& ctx) {
  return ctx.input(0).num_elements() >= ctx.input(1).num_elements()
             ? ctx.input(0)
             : ctx.input(1);
}
template <typename T, typename R, typename F>
inline void Zip(OpContext& ctx, F f) {
  const Tensor &a = ctx.input(0), &b = ctx.input(1);
  int64_t n = ctx.output(0).num_elements();
  for (int64_t i = 0; i < n; ++i) {
    T x = a.data<T>()[a.num_elements() == 1 ? 0 : i];
    T y = b.data<T>()[b.num_elements() == 1 ? 0 : i];
    ctx.output(0).mutable_data<R>()[i] = f(x, y);
  }
}
inline Status BinaryPrepare(OpContext& ctx) {
  return ctx.ResizeOutput(0, Bigger(ctx).shape);
}
inline Status AddEval(OpContext& ctx) {
  if (ctx.input(0).type == kI32)
    Zip<int32_t, int32_t>(ctx, [](int32_t x, int32_t y) { return x + y; });
  else
    Zip<float, float>(ctx, [](float x, float y) { return x + y; });
  return Status::Ok();
}
inline Status LessEval(OpContext& ctx) {
  Zip<int32_t, bool>(ctx, [](int32_t x, int32_t y) { return x < y; });
  return Status::Ok();
}
inline Status ConcatPrepare(OpContext& ctx) {
  Shape s = ctx.input(0).shape;
  s[0] += ctx.input(1).dim(0);
  return ctx.ResizeOutput(0, s);
}
inline Status ConcatEval(OpContext& ctx) {
  size_t a = ctx.input(0).bytes(), b = ctx.input(1).bytes();
  std::memcpy(ctx.output(0).mutable_raw(), ctx.input(0).raw(), a);
  std::memcpy(ctx.output(0).mutable_raw() + a, ctx.input(1).raw(), b);
  return Status::Ok();
}

inline const OpResolver& Resolver() {
  static const OpResolver* r = [] {
    auto* r = new OpResolver();
    (void)kernels::RegisterAll(*r);
    for (KernelRegistration k :
         {KernelRegistration{BO::ADD, 1, 1, BinaryPrepare, AddEval},
          {BO::LESS, 1, 1, BinaryPrepare, LessEval},
          {BO::CONCATENATION, 1, 1, ConcatPrepare, ConcatEval}}) {
      if (r->Find(k.code, 1) == nullptr) (void)r->Add(k);
    }
    return r;
  }();
  return *r;
}

// Loads with the stand-ins and prepares the main subgraph.
inline Result<std::unique_ptr<Interpreter>> Load(
    const std::vector<uint8_t>& bytes) {
  K2L_ASSIGN_OR_RETURN(auto file, ModelFile::Read(bytes, "<test>"));
  K2L_ASSIGN_OR_RETURN(auto interp,
                       Interpreter::Create(file, {1, &Resolver()}));
  K2L_RETURN_IF_ERROR(interp->subgraph(0).AllocateTensors());
  return interp;
}

inline std::vector<NDArray> RunModel(Interpreter& interp,
                                     const std::vector<NDArray>& in) {
  Subgraph& sg = interp.subgraph(0);
  for (size_t i = 0; i < in.size(); ++i) {
    Status s = sg.ResizeInput(sg.inputs()[i], in[i].shape);
    EXPECT_TRUE(s.ok()) << s.message();
  }
  if (!sg.allocated()) {
    Status s = sg.AllocateTensors();
    EXPECT_TRUE(s.ok()) << s.message();
  }
  for (size_t i = 0; i < in.size(); ++i) {
    std::memcpy(sg.tensor(sg.inputs()[i]).mutable_raw(), in[i].data.data(),
                in[i].data.size());
  }
  Status s = sg.Invoke();
  EXPECT_TRUE(s.ok()) << s.message();
  std::vector<NDArray> out;
  for (int o : sg.outputs()) {
    const Tensor& t = sg.tensor(o);
    NDArray a{t.type, t.shape, std::vector<uint8_t>(t.bytes())};
    if (t.bytes()) std::memcpy(a.data.data(), t.raw(), t.bytes());
    out.push_back(std::move(a));
  }
  return out;
}

inline std::string LoadError(const std::vector<uint8_t>& bytes) {
  auto r = Load(bytes);
  return r.ok() ? "loaded" : r.status().message();
}

inline NDArray Int(int32_t v) {
  return NDArray::Of(kI32, {}, std::vector<int32_t>{v});
}

inline OptionsFn While(int cond, int body) {
  return [=](FBB& f) { return fb::CreateWhileOptions(f, cond, body).Union(); };
}
inline OptionsFn If(int then_sg, int else_sg) {
  return
      [=](FBB& f) { return fb::CreateIfOptions(f, then_sg, else_sg).Union(); };
}
inline OptionsFn Concat0() {
  return [](FBB& f) { return fb::CreateConcatenationOptions(f, 0).Union(); };
}

// cond(i, n, ...) = i < n over loop variables of `types` (i and n first).
inline void CounterCond(OpModelBuilder& c,
                        const std::vector<TensorType>& types) {
  std::vector<int> in;
  for (TensorType t : types) in.push_back(c.AddInput(t, {}, {}));
  int lt = c.AddOutput(TensorType::BOOL);
  c.AddOp(BO::LESS, {in[0], in[1]}, {lt});
}

// body(i, n, rest...) = (i + 1, n, ...): outputs 0 and 1 (n is passed
// through: PassThrough makes output 1 the input tensor itself).
inline void CounterBody(OpModelBuilder& b, std::vector<int>& in,
                        const std::vector<TensorType>& types) {
  for (TensorType t : types) in.push_back(b.AddInput(t, {}, {}));
  int one = b.AddConst<int32_t>(kI32, {}, {1});
  int next = b.AddOutput(kI32);
  b.AddOp(BO::ADD, {in[0], one}, {next});
  b.AddOutput(kI32);  // placeholder for n
}

// Makes output `k` of subgraph `sg` the tensor `t` (the builder only makes
// new output tensors; loop bodies pass inputs straight through).
inline void PassThrough(std::vector<uint8_t>& bytes, int sg, int k, int t) {
  const fb::SubGraph* g = fb::GetModel(bytes.data())->subgraphs()->Get(sg);
  const_cast<flatbuffers::Vector<int32_t>*>(g->outputs())->Mutate(k, t);
}

}  // namespace k2l::runtime::testing::control_flow
