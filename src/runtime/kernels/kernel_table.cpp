#include "runtime/kernels/kernels.h"

namespace pt2onnx::runtime {

KernelBuilder kernel_for(OpType op) {
  switch (op) {
    case OpType::Conv:
      return build_conv;
    case OpType::BatchNormalization:
      return build_batch_norm;
    case OpType::Relu:
    case OpType::Clip:
    case OpType::Sigmoid:
    case OpType::HardSigmoid:
    case OpType::HardSwish:
    case OpType::Swish:
    case OpType::Gelu:
      return build_activation;
    case OpType::Erf:
      return build_erf;
    case OpType::Add:
    case OpType::Sub:
    case OpType::Mul:
    case OpType::Div:
      return build_binary;
    case OpType::GlobalAveragePool:
      return build_global_average_pool;
    case OpType::AveragePool:
    case OpType::MaxPool:
      return build_pool;
    case OpType::Gemm:
      return build_gemm;
    case OpType::MatMul:
      return build_matmul;
    case OpType::Concat:
      return build_concat;
    case OpType::Softmax:
      return build_softmax;
    case OpType::Pad:
      return build_pad;
    case OpType::ReduceMean:
      return build_reduce_mean;
    case OpType::LayerNormalization:
      return build_layer_norm;
    case OpType::Transpose:
      return build_transpose;
    case OpType::Slice:
      return build_slice;
    case OpType::Gather:
      return build_gather;
    case OpType::Flatten:
    case OpType::Reshape:
    case OpType::Squeeze:
    case OpType::Unsqueeze:
    case OpType::Identity:
    case OpType::Dropout:
      return build_reshape;
    case OpType::Shape:
    case OpType::Cast:
      return nullptr;
  }
  return nullptr;
}

}  // namespace pt2onnx::runtime
