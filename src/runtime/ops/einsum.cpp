// Einsum: parsing its equation, its shape rule and batch rows.
#include "runtime/ops/einsum.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "runtime/shape_inference.h"

namespace pt2onnx::runtime {
namespace {

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Checks one term's letters: letters only, none twice.
void check_term(const std::string& term, const std::string& equation) {
  if (term.find('.') != std::string::npos) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("Einsum '{}' has an ellipsis, which the engine does not run", equation));
  }
  for (std::size_t i = 0; i < term.size(); ++i) {
    if (!is_letter(term[i])) {
      throw_error(ErrorKind::BadInput, fmt::format("Einsum '{}' has the character '{}'", equation, term[i]));
    }
    if (term.find(term[i], i + 1) != std::string::npos) {
      throw_error(ErrorKind::Unsupported,
                  fmt::format("Einsum '{}' repeats '{}' within one term (a diagonal), which the engine does not run",
                              equation, term[i]));
    }
  }
}

}  // namespace

EinsumEquation parse_einsum(const std::string& equation) {
  std::string eq;
  for (char c : equation) {
    if (c != ' ') eq.push_back(c);
  }
  EinsumEquation e;
  const auto arrow = eq.find("->");
  const auto lhs = eq.substr(0, arrow);
  std::size_t begin = 0;
  while (true) {
    const auto comma = lhs.find(',', begin);
    e.inputs.push_back(lhs.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  if (e.inputs.size() != 2) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("Einsum '{}' has {} operands; the engine runs two", equation, e.inputs.size()));
  }
  for (const auto& t : e.inputs) check_term(t, equation);
  if (arrow != std::string::npos) {
    e.output = eq.substr(arrow + 2);
    check_term(e.output, equation);
    for (char c : e.output) {
      if (e.inputs[0].find(c) == std::string::npos && e.inputs[1].find(c) == std::string::npos) {
        throw_error(ErrorKind::BadInput, fmt::format("Einsum '{}': output letter '{}' is in no operand", equation, c));
      }
    }
  } else {
    // Implicit output: the letters that appear once, in alphabetical order.
    std::map<char, int> seen;
    for (const auto& t : e.inputs) {
      for (char c : t) ++seen[c];
    }
    std::string letters;
    for (auto [c, count] : seen) {
      if (count == 1) letters.push_back(c);
    }
    // std::map orders upper case before lower case, as ASCII does, which is
    // numpy's order too.
    e.output = letters;
  }
  return e;
}

std::vector<OutputInfo> infer_einsum(const Graph& g, const Node& n) {
  expect_arity(n, 1, 16);
  if (!n.attrs.has("equation")) throw_error(ErrorKind::BadInput, "Einsum needs its 'equation' attribute");
  const auto e = parse_einsum(n.attrs.get_string("equation", ""));
  expect_arity(n, 2, 2);
  for (std::size_t i = 0; i < 2; ++i) {
    if (input_dtype(g, n, i) != DType::Float32) {
      throw_error(ErrorKind::Unsupported,
                  fmt::format("Einsum's input {} is {}; the engine runs float32", i, dtype_name(input_dtype(g, n, i))));
    }
  }
  const auto& a = input_dims(g, n, 0);
  const auto& b = input_dims(g, n, 1);
  if (!a || !b) return {{DType::Float32, std::nullopt}};
  std::map<char, Dim> size;
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& d = i == 0 ? *a : *b;
    const auto& term = e.inputs[i];
    if (d.size() != term.size()) {
      throw_error(ErrorKind::BadInput, fmt::format("Einsum's input {} has dims {}; its term '{}' has {} letters", i,
                                                   dims_to_string(d), term, term.size()));
    }
    for (std::size_t k = 0; k < term.size(); ++k) {
      const auto it = size.find(term[k]);
      if (it == size.end()) {
        size[term[k]] = d[k];
      } else if (it->second.is_known() && d[k].is_known() && it->second.value() != d[k].value()) {
        throw_error(ErrorKind::BadInput,
                    fmt::format("Einsum's letter '{}' has sizes {} and {}", term[k], it->second.value(), d[k].value()));
      } else if (!it->second.is_known()) {
        it->second = d[k];
      }
    }
  }
  Dims out;
  for (char c : e.output) out.push_back(size[c]);
  return {{DType::Float32, out}};
}

BatchRows einsum_batch_rows(const Graph& g, const Node& n) {
  // Row i of the output from row i of each operand when all three lead with
  // the same letter.
  const auto e = parse_einsum(n.attrs.get_string("equation", ""));
  if (e.output.empty()) return BatchRows::Mixed;
  for (std::size_t i = 0; i < 2; ++i) {
    if (e.inputs[i].empty() || e.inputs[i][0] != e.output[0]) return BatchRows::Mixed;
    if (g.is_constant(n.inputs[i])) return BatchRows::Mixed;
  }
  return BatchRows::KeptApartIfInputsBatched;
}

}  // namespace pt2onnx::runtime
