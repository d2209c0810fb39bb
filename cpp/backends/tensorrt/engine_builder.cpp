#include "backends/tensorrt/engine_builder.h"

#include <climits>
#include <fstream>

#include "backends/tensorrt/trt_common.h"
#include "onnx/onnx_writer.h"
#include "trtcore/io.h"

namespace trtcore::tensorrt {
namespace {

using nvinfer1::BuilderFlag;
using onnx::BatchDim;
using onnx::FloatStorage;

std::string parser_errors(const nvonnxparser::IParser& parser) {
  std::string out;
  for (int i = 0; i < parser.getNbErrors(); ++i) {
    const nvonnxparser::IParserError* e = parser.getError(i);
    out += "\n  ";
    // Exported nodes keep trtcore's node names (expansions add "<name>_<suffix>" nodes).
#if NV_TENSORRT_MAJOR >= 10
    if (e->nodeName() && *e->nodeName())
      out += std::string("node '") + e->nodeName() + "' (" + (e->nodeOperator() ? e->nodeOperator() : "?") + "): ";
#else
    if (e->node() >= 0) out += "node #" + std::to_string(e->node()) + " of the exported model: ";
#endif
    out += e->desc();
  }
  return out;
}

// Adds the batch profile: axis 0 of every input ranges over 1..max_batch, built for max_batch.
nvinfer1::IOptimizationProfile* batch_profile(nvinfer1::IBuilder& builder, nvinfer1::INetworkDefinition& net,
                                              const Graph& g) {
  nvinfer1::IOptimizationProfile* profile = builder.createOptimizationProfile();
  for (int i = 0; i < net.getNbInputs(); ++i) {
    nvinfer1::ITensor* in = net.getInput(i);
    nvinfer1::Dims min = in->getDimensions(), max = in->getDimensions();
    for (int d = 0; d < min.nbDims; ++d) {
      if (min.d[d] >= 0) continue;
      if (d != 0)
        fail(ErrorKind::kUnsupported, "tensorrt backend: input '", in->getName(), "' has a dynamic axis ", d,
             "; only the batch axis may be dynamic (fix the others with --shapes)");
      min.d[0] = 1;
      max.d[0] = g.max_batch;
    }
    const char* name = in->getName();
    if (!profile->setDimensions(name, nvinfer1::OptProfileSelector::kMIN, min) ||
        !profile->setDimensions(name, nvinfer1::OptProfileSelector::kOPT, max) ||
        !profile->setDimensions(name, nvinfer1::OptProfileSelector::kMAX, max))
      fail(ErrorKind::kRuntime, "tensorrt backend: cannot set the batch range of input '", name, "': ",
           logger().errors());
  }
  return profile;
}

// The graph as the ONNX bytes TensorRT's parser reads, with the limits of TensorRT checked first.
std::string export_for_parser(const Graph& g, FloatStorage floats, int64_t min_opset) {
  for (int id : g.inputs)
    for (int out : g.outputs)
      if (id == out)
        fail(ErrorKind::kUnsupported, "tensorrt backend: graph input '", g.value(id).name,
             "' is also a graph output; TensorRT cannot mark a network input as an output");
  const BatchDim batch = g.has_batch_axis ? BatchDim::kDynamic : BatchDim::kFixed;
  std::string bytes = onnx::graph_to_onnx(g, onnx::OnnxExportOptions{floats, batch, min_opset});
  if (bytes.size() > size_t(INT_MAX))
    fail(ErrorKind::kUnsupported, "tensorrt backend: the model is ", bytes.size() >> 20,
         " MiB; TensorRT's ONNX parser reads at most 2 GiB from memory");
  return bytes;
}

std::string read_if_present(const std::string& path) {
  if (!std::ifstream(path, std::ios::binary).good()) return {};
  return read_file(path);
}

}  // namespace

std::string build_engine(const Graph& g, const BuildOptions& opt) {
  // INT8 arrives as the core's Q/DQ graph (explicit quantization); per-axis weight scales need opset 13.
  const int64_t min_opset = opt.precision == Precision::kINT8 ? 13 : 0;
#if NV_TENSORRT_MAJOR >= 11
  // TensorRT 11 takes precisions from the model's types: FP16 means a float16 model. An INT8 model keeps float32
  // between its Q/DQ pairs (its scales stay exact), so its float layers run in FP32 there.
  const FloatStorage floats = opt.precision == Precision::kFP16 ? FloatStorage::kFloat16 : FloatStorage::kAsGraph;
#else
  const FloatStorage floats = FloatStorage::kAsGraph;
#endif
  const std::string onnx = export_for_parser(g, floats, min_opset);

  Logger& log = logger();
  log.clear();
  cuda_check(cudaSetDevice(opt.device), "cudaSetDevice");
  Ptr<nvinfer1::IBuilder> builder(nvinfer1::createInferBuilder(log));
  if (!builder) fail(ErrorKind::kRuntime, "tensorrt backend: cannot create a builder: ", log.errors());
#if NV_TENSORRT_MAJOR >= 10
  const nvinfer1::NetworkDefinitionCreationFlags flags = 0;  // explicit batch is the only mode since 10
#else
  const nvinfer1::NetworkDefinitionCreationFlags flags =
      1U << uint32_t(nvinfer1::NetworkDefinitionCreationFlag::kEXPLICIT_BATCH);
#endif
  Ptr<nvinfer1::INetworkDefinition> net(builder->createNetworkV2(flags));
  Ptr<nvonnxparser::IParser> parser(nvonnxparser::createParser(*net, log));
  if (!net || !parser) fail(ErrorKind::kRuntime, "tensorrt backend: cannot create a network: ", log.errors());
  if (!parser->parse(onnx.data(), onnx.size()))
    fail(ErrorKind::kUnsupported, "tensorrt backend: TensorRT's ONNX parser rejected the graph:",
         parser_errors(*parser));

  Ptr<nvinfer1::IBuilderConfig> config(builder->createBuilderConfig());
  // Layer names, types and tactics for layers(); costs nothing at run time without a profiler.
  config->setProfilingVerbosity(nvinfer1::ProfilingVerbosity::kDETAILED);
  if (opt.fp32_math == Fp32Math::kStrict) config->clearFlag(BuilderFlag::kTF32);

  nvinfer1::IOptimizationProfile* profile = nullptr;  // owned by the builder
  if (g.has_batch_axis) {
    profile = batch_profile(*builder, *net, g);
    if (config->addOptimizationProfile(profile) < 0)
      fail(ErrorKind::kRuntime, "tensorrt backend: the batch profile was rejected: ", log.errors());
  }

#if NV_TENSORRT_MAJOR < 11
  // Q/DQ layers make the build explicitly quantized; the INT8 flag lets it pick int8 kernels for them, and the FP16
  // flag runs what stays float in FP16 unless --int8-fallback fp32 (TensorRT's default INT8 build uses both).
  TRTCORE_TRT_ALLOW_DEPRECATED_BEGIN
  const bool int8 = opt.precision == Precision::kINT8;
  if (int8) config->setFlag(BuilderFlag::kINT8);
  if (opt.precision == Precision::kFP16 || (int8 && opt.int8_fallback != Int8Fallback::kFP32))
    config->setFlag(BuilderFlag::kFP16);
  TRTCORE_TRT_ALLOW_DEPRECATED_END
#endif

  // A timing cache from another GPU or TensorRT version is set aside (a fresh one is filled), not an error.
  Ptr<nvinfer1::ITimingCache> cache;
  if (!opt.timing_cache.empty()) {
    const std::string blob = read_if_present(opt.timing_cache);
    cache.reset(config->createTimingCache(blob.data(), blob.size()));
    if (!cache || !config->setTimingCache(*cache, false)) {
      cache.reset(config->createTimingCache(nullptr, 0));
      if (!cache || !config->setTimingCache(*cache, false))
        fail(ErrorKind::kRuntime, "tensorrt backend: cannot use a timing cache: ", log.errors());
    }
  }

  log.clear();
  Ptr<nvinfer1::IHostMemory> engine(builder->buildSerializedNetwork(*net, *config));
  if (!engine || engine->size() == 0)
    fail(ErrorKind::kRuntime, "tensorrt backend: TensorRT could not build the engine: ",
         log.errors().empty() ? std::string("no reason given") : log.errors());

  if (cache) {
    Ptr<nvinfer1::IHostMemory> bytes(config->getTimingCache()->serialize());
    if (bytes) write_file_atomic(opt.timing_cache, bytes->data(), bytes->size());
  }
  return std::string(static_cast<const char*>(engine->data()), engine->size());
}

}  // namespace trtcore::tensorrt
