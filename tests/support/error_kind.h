// The kind of pt2onnx::Error that fn throws; a test failure (and Internal)
// when it throws none.
#pragma once

#include <functional>

#include <gtest/gtest.h>

#include "pt2onnx/error.h"

namespace pt2onnx::testing {

inline ErrorKind kind_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no error";
  return ErrorKind::Internal;
}

}  // namespace pt2onnx::testing
