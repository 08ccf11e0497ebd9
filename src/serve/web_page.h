// The web page `pt2onnx serve` shows at "/", for the people who own a model:
// its card (labels, preprocessing, input size, checkpoint, opset, producer)
// and a drop zone that classifies JPEG, PNG and DICOM files through
// POST /v2/models/{name}/classify, drawing each file's scores as bars with
// the request's latency. One self-contained HTML document: no script, style
// or font comes from anywhere but the binary.
#pragma once

#include <string_view>

namespace pt2onnx::serve {

std::string_view web_page();

}  // namespace pt2onnx::serve
