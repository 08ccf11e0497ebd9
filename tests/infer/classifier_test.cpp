// The public image classifier (pt2onnx/classify.h) gives what `pt2onnx infer`
// writes for the same files: the same preprocessing from the model's metadata,
// the same engine, the same activations. (infer itself is checked against
// PIL, torchvision and PyTorch in tests/oracle/test_infer_end_to_end.py.)
#include "pt2onnx/classify.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "checkpoint/checkpoint.h"
#include "exporter/demo_state.h"
#include "infer/infer_run.h"
#include "infer/runtime_engine.h"
#include "models/registry.h"
#include "pt2onnx/export.h"
#include "runtime/test_model.h"
#include "support/error_kind.h"
#include "vision/image_encoder.h"
#include "vision/test_images.h"

namespace pt2onnx::testing {
namespace {

namespace fs = std::filesystem;

Bytes file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Fixture {
  TempDir dir{"classifier"};
  fs::path model = dir.path() / "mobile.onnx";
  std::vector<fs::path> images;

  Fixture() {
    const auto graph = models::build("mobilenet_v3_small", {3, 0.4});
    const auto checkpoint = dir.path() / "mobile.pth";
    checkpoint::write_torch_zip(checkpoint, exporter::demo_state_dict(graph, 5), "model_state_dict");
    ExportRequest request;
    request.checkpoint = checkpoint;
    request.output = model;
    request.verify = false;
    request.labels = std::vector<std::string>{"benign", "malignant", "normal"};
    request.preprocessing.resize = "256";  // shorter side, then the centre crop: torchvision's usual
    request.preprocessing.crop = "224";
    (void)export_checkpoint(request);
    // Odd sizes and modes: RGB and gray PNG, RGB and gray JPEG.
    const auto add = [&](const std::string& name, const Bytes& bytes) {
      images.push_back(dir.path() / name);
      write_file(images.back(), bytes);
    };
    add("rgb.png", vision::encode_png(301, 230, 2, 8, gradient(301, 230, 3)));
    add("gray.png", vision::encode_png(257, 263, 0, 8, random_bytes(257 * 263, 7)));
    add("rgb.jpg", vision::encode_jpeg(250, 333, 3, gradient(250, 333, 3)));
    add("gray.jpg", vision::encode_jpeg(229, 229, 1, gradient(229, 229, 1)));
  }

  // What `pt2onnx infer --activation none` writes: path -> logits.
  std::map<std::string, std::vector<double>> infer_logits() const {
    infer::InferOptions o;
    o.model = model;
    for (const auto& p : images) o.inputs.push_back(p.string());
    o.output = dir.path() / "rows.csv";
    o.activation = ScoreActivation::None;
    o.threads = 2;
    o.progress = false;
    std::FILE* err = std::tmpfile();
    (void)infer::run_infer(o, infer::load_runtime_engine, stdout, err);
    std::fclose(err);
    std::map<std::string, std::vector<double>> rows;
    std::istringstream csv(read_text(*o.output));
    std::string line;
    std::getline(csv, line);  // header
    while (std::getline(csv, line)) {
      std::istringstream fields(line);
      std::string path, value;
      std::getline(fields, path, ',');
      for (int i = 0; i < 3 && std::getline(fields, value, ','); ++i) rows[path].push_back(std::stod(value));
    }
    return rows;
  }
};

void expect_logits_match(const std::vector<float>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    // infer writes 6 significant digits.
    EXPECT_NEAR(got[i], want[i], 2e-5 * std::max(1.0, std::abs(want[i]))) << "output " << i;
  }
}

TEST(ApiClassifier, GivesWhatInferWritesForTheSameFiles) {
  Fixture f;
  const auto want = f.infer_logits();
  ASSERT_EQ(want.size(), f.images.size());
  ClassifierOptions options;
  options.threads = 2;
  const auto classifier = Classifier::load(f.model, options);
  EXPECT_EQ(classifier.labels(), (std::vector<std::string>{"benign", "malignant", "normal"}));

  std::vector<Bytes> encoded;
  for (const auto& path : f.images) {
    SCOPED_TRACE(path.string());
    const auto one = classifier.classify_file(path);
    expect_logits_match(one.logits, want.at(path.string()));
    // The default activation is infer's: a sigmoid per output.
    for (std::size_t i = 0; i < one.logits.size(); ++i) {
      EXPECT_NEAR(one.scores[i], 1.0 / (1.0 + std::exp(-static_cast<double>(one.logits[i]))), 1e-6);
    }
    encoded.push_back(file_bytes(path));
  }
  // A batch gives each image's own row.
  std::vector<std::span<const std::uint8_t>> spans(encoded.begin(), encoded.end());
  const auto batch = classifier.classify_batch(spans);
  ASSERT_EQ(batch.size(), f.images.size());
  for (std::size_t i = 0; i < batch.size(); ++i) expect_logits_match(batch[i].logits, want.at(f.images[i].string()));
}

TEST(ApiClassifier, ConcurrentCallersShareOneModel) {
  Fixture f;
  ClassifierOptions options;
  options.threads = 2;
  options.activation = ScoreActivation::Softmax;
  const auto classifier = Classifier::load(f.model, options);
  const auto bytes = file_bytes(f.images[0]);
  const auto serial = classifier.classify(bytes);
  double sum = 0.0;
  for (float s : serial.scores) sum += s;
  EXPECT_NEAR(sum, 1.0, 1e-6);
  std::vector<std::thread> threads;
  std::vector<Classification> got(4);
  for (std::size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 5; ++r) got[t] = classifier.classify(bytes);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g.logits, serial.logits);
}

TEST(ApiClassifier, BadImagesAndBadOptionsAreErrorsThatSayWhat) {
  Fixture f;
  const auto classifier = Classifier::load(f.model);
  const Bytes junk{'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'};
  try {
    (void)classifier.classify(junk, "upload 7");
    ADD_FAILURE() << "junk classified";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("upload 7"), std::string::npos) << e.what();
  }
  const auto good = file_bytes(f.images[0]);
  try {
    (void)classifier.classify_batch({good, junk});
    ADD_FAILURE() << "a batch with junk classified";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("image 1"), std::string::npos) << e.what();
  }
  ClassifierOptions wrong_labels;
  wrong_labels.labels = std::vector<std::string>{"a", "b"};
  EXPECT_EQ(kind_of([&] { (void)Classifier::load(f.model, wrong_labels); }), ErrorKind::Usage);
  ClassifierOptions wrong_size;
  wrong_size.overrides.resize = "200x200";  // the model takes 224 x 224
  wrong_size.overrides.crop = "none";
  EXPECT_EQ(kind_of([&] { (void)Classifier::load(f.model, wrong_size); }), ErrorKind::Usage);
}

TEST(ApiClassifier, AModelWithAFixedBatchTakesALongerListInTurns) {
  Fixture f;
  // Batches of exactly 2 images of 8 x 8: the channel means.
  ModelBuilder mb;
  mb.input("image", {2, 3, 8, 8}).output("logits");
  mb.node("GlobalAveragePool", {"image"}, {"pooled"});
  mb.node("Flatten", {"pooled"}, {"logits"});
  ClassifierOptions options;
  options.overrides.resize = "8x8";
  options.activation = ScoreActivation::None;
  const auto classifier = Classifier::load(mb.save("classifier_fixed_batch.onnx"), options);
  std::vector<Bytes> encoded;
  for (const auto& path : f.images) encoded.push_back(file_bytes(path));
  encoded.pop_back();  // 3 images: a full batch, then one padded
  const std::vector<std::span<const std::uint8_t>> spans(encoded.begin(), encoded.end());
  const auto batch = classifier.classify_batch(spans);
  ASSERT_EQ(batch.size(), 3U);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(batch[i].logits, classifier.classify(encoded[i]).logits) << "image " << i;
  }
  EXPECT_NE(batch[0].logits, batch[1].logits);
}

}  // namespace
}  // namespace pt2onnx::testing
