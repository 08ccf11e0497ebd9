#include "infer/infer_run.h"

#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "infer/fake_engine.h"
#include "pt2onnx/error.h"
#include "vision/test_images.h"

namespace pt2onnx::infer {
namespace {

using testing::TempDir;

// An ONNX file holding only metadata: infer reads that itself and gets the
// engine from the loader, which the tests replace.
void write_model(const std::filesystem::path& path, const std::map<std::string, std::string>& metadata) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  for (const auto& [k, v] : metadata) {
    auto* p = model.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  }
  std::ofstream out(path, std::ios::binary);
  model.SerializeToOstream(&out);
}

EngineLoader fake_loader(ModelSignature signature) {
  return [signature](const std::filesystem::path&, int) {
    LoadedEngine loaded;
    loaded.engine = std::make_unique<testing::ChannelMeanEngine>();
    loaded.signature = signature;
    return loaded;
  };
}

struct Fixture {
  TempDir dir{"pt2onnx-infer"};
  std::filesystem::path model = dir / "model.onnx";
  std::filesystem::path images = dir / "images";

  Fixture() {
    write_model(model, {{"pt2onnx.labels", "red,green,blue"},
                        {"pt2onnx.preprocess.resize", "4x4"},
                        {"pt2onnx.preprocess.mean", "0,0,0"},
                        {"pt2onnx.preprocess.std", "1,1,1"}});
    for (int i = 0; i < 10; ++i) {
      testing::Bytes px(5 * 3 * 3, static_cast<std::uint8_t>(i * 25));
      testing::write_file(images / (std::to_string(i) + ".png"), testing::encode_png(5, 3, 2, 8, px));
    }
    testing::write_text(images / "bad.png", "not a png");
  }

  InferOptions options() const {
    InferOptions o;
    o.model = model;
    o.inputs = {images.string()};
    o.batch_size = 3;
    o.threads = 2;
    o.activation = OutputActivation::None;
    o.progress = false;
    return o;
  }
};

ModelSignature signature() { return ModelSignature{-1, 4, 4, 3, "image", "logits"}; }

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(InferRun, WritesCsvWithErrorRowsAndCounts) {
  Fixture fx;
  InferOptions o = fx.options();
  o.output = fx.dir / "out.csv";
  std::FILE* err = std::tmpfile();
  const InferSummary s = run_infer(o, fake_loader(signature()), stdout, err);
  std::fclose(err);
  EXPECT_EQ(s.ok, 10);
  EXPECT_EQ(s.failed, 1);
  const auto rows = lines(testing::read_text(*o.output));
  ASSERT_EQ(rows.size(), 12u);
  EXPECT_EQ(rows[0], "path,red,green,blue,predicted,error");
  EXPECT_EQ(rows[1], (fx.images / "0.png").string() + ",0,0,0,,");
  EXPECT_EQ(rows[3], (fx.images / "2.png").string() + ",0.196078,0.196078,0.196078,,");
  EXPECT_EQ(rows[11].rfind((fx.images / "bad.png").string() + ",,,,,", 0), 0u) << rows[11];
}

// An engine that runs images alone gets image workers on every thread, unless
// --decode-threads asks for batches; the rows are the same either way.
TEST(InferRun, ImageWorkersUnlessDecodeThreadsAreGiven) {
  Fixture fx;
  std::string first_rows;
  for (int decode_threads : {0, 1}) {
    SCOPED_TRACE("decode threads " + std::to_string(decode_threads));
    // run_infer owns and destroys the engine it loads; this one forwards to
    // an engine the test keeps, to look at afterwards.
    struct Forward : BatchEngine {
      explicit Forward(testing::ChannelMeanEngine& target) : to(target) {}
      std::vector<std::vector<float>> run(const Tensor& batch) override { return to.run(batch); }
      [[nodiscard]] bool runs_images_alone() const override { return to.runs_images_alone(); }
      std::vector<float> run_image(const Tensor& image) override { return to.run_image(image); }
      testing::ChannelMeanEngine& to;
    };
    testing::ChannelMeanEngine kept(/*runs_alone=*/true);
    const testing::ChannelMeanEngine* engine = &kept;
    const EngineLoader loader = [&](const std::filesystem::path&, int) {
      LoadedEngine loaded;
      loaded.engine = std::make_unique<Forward>(kept);
      loaded.signature = signature();
      return loaded;
    };
    InferOptions o = fx.options();
    o.decode_threads = decode_threads;
    o.output = fx.dir / ("out" + std::to_string(decode_threads) + ".csv");
    std::FILE* err = std::tmpfile();
    const InferSummary s = run_infer(o, loader, stdout, err);
    std::fclose(err);
    EXPECT_EQ(s.ok, 10);
    if (decode_threads == 0) {
      EXPECT_FALSE(engine->image_threads.empty());
      EXPECT_EQ(engine->batch_sizes, std::vector<std::int64_t>(10, 1));
      first_rows = testing::read_text(*o.output);
    } else {
      EXPECT_TRUE(engine->image_threads.empty());
      EXPECT_EQ(engine->batch_sizes, (std::vector<std::int64_t>{3, 3, 3, 1}));
      EXPECT_EQ(testing::read_text(*o.output), first_rows);
    }
  }
}

TEST(InferRun, ResumeAppendsOnlyWhatIsMissing) {
  Fixture fx;
  InferOptions o = fx.options();
  o.output = fx.dir / "out.csv";
  std::FILE* err = std::tmpfile();
  run_infer(o, fake_loader(signature()), stdout, err);
  const std::string full = testing::read_text(*o.output);
  // Keep the header and four rows, plus half of the fifth, as a kill would.
  const auto all = lines(full);
  std::string cut;
  for (int i = 0; i < 5; ++i) cut += all[static_cast<std::size_t>(i)] + "\n";
  cut += all[5].substr(0, 7);
  testing::write_text(*o.output, cut);
  o.resume = true;
  const InferSummary s = run_infer(o, fake_loader(signature()), stdout, err);
  std::fclose(err);
  EXPECT_EQ(s.ok + s.failed, 7);
  EXPECT_EQ(testing::read_text(*o.output), full);
}

TEST(InferRun, ShardsCoverEveryInputOnce) {
  Fixture fx;
  std::FILE* err = std::tmpfile();
  for (std::int64_t n = 1; n <= 4; ++n) {
    std::multiset<std::string> seen;
    for (std::int64_t k = 1; k <= n; ++k) {
      InferOptions o = fx.options();
      o.shard = Shard{k, n};
      o.format = OutputFormat::Jsonl;
      o.output = fx.dir / ("shard" + std::to_string(k) + ".jsonl");
      run_infer(o, fake_loader(signature()), stdout, err);
      for (const auto& line : lines(testing::read_text(*o.output))) seen.insert(line);
    }
    EXPECT_EQ(seen.size(), 11u) << "N = " << n;
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 11u) << "N = " << n;
  }
  std::fclose(err);
}

TEST(InferRun, ModelAndPreprocessingMustAgree) {
  Fixture fx;
  std::FILE* err = std::tmpfile();
  InferOptions o = fx.options();
  o.overrides.resize = "5x5";
  try {
    run_infer(o, fake_loader(signature()), stdout, err);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("the model's input size is 4x4"), std::string::npos) << e.what();
  }
  o = fx.options();
  o.labels = std::vector<std::string>{"only", "two"};
  EXPECT_THROW(run_infer(o, fake_loader(signature()), stdout, err), Error);
  o = fx.options();
  o.resume = true;  // without --output
  EXPECT_THROW(run_infer(o, fake_loader(signature()), stdout, err), Error);
  std::fclose(err);
}

TEST(InferRun, ThreadSplit) {
  EXPECT_EQ(split_threads(1, 0).runtime, 1);
  EXPECT_EQ(split_threads(1, 0).decode, 1);
  EXPECT_EQ(split_threads(2, 0).runtime, 2);
  EXPECT_EQ(split_threads(2, 0).decode, 1);
  EXPECT_EQ(split_threads(8, 0).runtime, 6);
  EXPECT_EQ(split_threads(8, 0).decode, 2);
  EXPECT_EQ(split_threads(8, 3).runtime, 5);
  EXPECT_EQ(split_threads(16, 0).decode, 4);
}

}  // namespace
}  // namespace pt2onnx::infer
