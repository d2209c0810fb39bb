// The plan file: "TRTCPLAN", u32 format version, sections (u32 tag, u64 length, bytes), trailing CRC-64 over all
// bytes before it. Unknown section tags are skipped so a newer writer can add optional sections.
#include "trtcore/plan.h"

#include <cstring>

#include "plan/byte_io.h"
#include "plan/checksum.h"
#include "plan/graph_io.h"
#include "trtcore/io.h"

namespace trtcore {

using planio::Reader;
using planio::Writer;

namespace {

constexpr char kMagic[8] = {'T', 'R', 'T', 'C', 'P', 'L', 'A', 'N'};
constexpr size_t kHeaderBytes = 8 + 4;
constexpr size_t kChecksumBytes = 8;

enum class Section : uint32_t { kMeta = 1, kGraph = 2, kPasses = 3, kTactics = 4 };

void write_map(Writer& w, const std::map<std::string, std::string>& m) {
  w.u32(uint32_t(m.size()));
  for (const auto& [k, v] : m) {
    w.str(k);
    w.str(v);
  }
}

std::map<std::string, std::string> read_map(Reader& r, const char* what) {
  std::map<std::string, std::string> m;
  const uint32_t n = r.count(8, what);
  for (uint32_t i = 0; i < n; ++i) {
    std::string k = r.str(what);
    m[k] = r.str(what);
  }
  return m;
}

// Reads an enum stored as u32, rejecting codes past its last member.
template <class E>
E read_enum(Reader& r, E last, const char* what) {
  const uint32_t v = r.u32();
  if (v > uint32_t(last)) r.corrupt("unknown ", what, " code ", v);
  return E(v);
}

std::string meta_section(const Plan& p) {
  Writer w;
  w.str(p.backend);
  write_map(w, p.environment);
  write_map(w, p.build_info);
  const BuildOptions& b = p.build;
  w.u32(uint32_t(b.backend));
  w.u32(uint32_t(b.precision));
  w.u32(uint32_t(b.fp32_math));
  w.u8(b.io_half ? 1 : 0);
  w.u32(uint32_t(b.disabled_passes.size()));
  for (const std::string& s : b.disabled_passes) w.str(s);
  w.str(b.timing_cache);
  w.str(b.calibration_dir);
  w.str(b.calibration_cache);
  w.i32(b.device);
  return std::move(w.bytes());
}

void read_meta(Reader& r, Plan& p) {
  p.backend = r.str("the backend name");
  p.environment = read_map(r, "the environment");
  p.build_info = read_map(r, "the build info");
  BuildOptions& b = p.build;
  b.backend = read_enum(r, BackendKind::kTensorRT, "backend");
  b.precision = read_enum(r, Precision::kINT8, "precision");
  b.fp32_math = read_enum(r, Fp32Math::kTF32, "FP32 math mode");
  const uint8_t io_half = r.u8();
  if (io_half > 1) r.corrupt("bad io-half flag ", int(io_half));
  b.io_half = io_half == 1;
  const uint32_t n = r.count(4, "disabled passes");
  for (uint32_t i = 0; i < n; ++i) b.disabled_passes.push_back(r.str("a disabled pass"));
  b.timing_cache = r.str("the timing cache path");
  b.calibration_dir = r.str("the calibration directory");
  b.calibration_cache = r.str("the calibration cache path");
  b.device = r.i32();
}

std::string passes_section(const Plan& p) {
  Writer w;
  w.u32(uint32_t(p.passes.size()));
  for (const PassRecord& rec : p.passes) {
    w.str(rec.name);
    w.u64(rec.nodes_before);
    w.u64(rec.nodes_after);
    w.u8(rec.skipped ? 1 : 0);
  }
  return std::move(w.bytes());
}

void read_passes(Reader& r, Plan& p) {
  const uint32_t n = r.count(21, "pass records");
  for (uint32_t i = 0; i < n; ++i) {
    PassRecord rec;
    rec.name = r.str("a pass name");
    rec.nodes_before = size_t(r.u64());
    rec.nodes_after = size_t(r.u64());
    const uint8_t skipped = r.u8();
    if (skipped > 1) r.corrupt("bad skipped flag in pass '", rec.name, "'");
    rec.skipped = skipped == 1;
    p.passes.push_back(std::move(rec));
  }
}

void put_section(Writer& w, Section tag, const std::string& payload) {
  w.u32(uint32_t(tag));
  w.u64(payload.size());
  w.raw(payload.data(), payload.size());
}

void expect_consumed(const Reader& r, const char* section) {
  if (r.left() != 0) r.corrupt(r.left(), " unexpected bytes at the end of the ", section, " section");
}

}  // namespace

std::string serialize_plan(const Plan& plan) {
  Writer w;
  w.raw(kMagic, sizeof kMagic);
  w.u32(kPlanFormatVersion);
  put_section(w, Section::kMeta, meta_section(plan));
  put_section(w, Section::kGraph, serialize_graph(plan.graph));
  put_section(w, Section::kPasses, passes_section(plan));
  put_section(w, Section::kTactics, plan.tactics);
  std::string& bytes = w.bytes();
  w.u64(crc64(bytes.data(), bytes.size()));
  return std::move(w.bytes());
}

Plan deserialize_plan(const std::string& bytes, const std::string& origin) {
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    // an ONNX ModelProto starts with field 1 (ir_version) as a varint: the usual mix-up of model and plan
    const bool onnx = (!bytes.empty() && bytes[0] == '\x08') ||
                      (origin.size() > 5 && origin.compare(origin.size() - 5, 5, ".onnx") == 0);
    fail(ErrorKind::kCorrupt, "'", origin, "' is not a trtcore plan (it does not start with TRTCPLAN)",
         onnx ? "; it looks like an ONNX model: build a plan from it first with build --onnx " + origin : "");
  }
  if (bytes.size() < kHeaderBytes + kChecksumBytes)
    fail(ErrorKind::kCorrupt, "plan '", origin, "' is corrupted or truncated (", bytes.size(), " bytes)");
  uint32_t version;
  std::memcpy(&version, bytes.data() + sizeof kMagic, 4);
  if (version != kPlanFormatVersion)
    fail(ErrorKind::kCorrupt, "'", origin, "': plan format version ", version, ", this trtcore reads version ",
         kPlanFormatVersion, "; rebuild the plan");
  const size_t body = bytes.size() - kChecksumBytes;
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + body, kChecksumBytes);
  if (crc64(bytes.data(), body) != stored)
    fail(ErrorKind::kCorrupt, "plan '", origin, "' is corrupted or truncated (checksum mismatch)");

  Plan plan;
  Reader r(bytes.data() + kHeaderBytes, body - kHeaderBytes, origin);
  bool seen[5] = {false, false, false, false, false};
  while (r.left() > 0) {
    const uint32_t tag = r.u32();
    const uint64_t length = r.u64();
    const char* payload = r.take_bytes(length, "a section");
    if (tag >= 1 && tag <= 4) {
      if (seen[tag]) r.corrupt("section ", tag, " appears twice");
      seen[tag] = true;
    }
    Reader s(payload, size_t(length), origin);
    switch (Section(tag)) {
      case Section::kMeta:
        read_meta(s, plan);
        expect_consumed(s, "META");
        break;
      case Section::kGraph:
        plan.graph = planio::read_graph(payload, size_t(length), origin);
        break;
      case Section::kPasses:
        read_passes(s, plan);
        expect_consumed(s, "PASSES");
        break;
      case Section::kTactics: plan.tactics.assign(payload, size_t(length)); break;
      default: break;  // an optional section from a newer writer
    }
  }
  if (!seen[int(Section::kMeta)] || !seen[int(Section::kGraph)])
    r.corrupt("the ", seen[int(Section::kMeta)] ? "GRAPH" : "META", " section is missing");
  return plan;
}

void save_plan(const Plan& plan, const std::string& path) { write_file_atomic(path, serialize_plan(plan)); }

Plan load_plan(const std::string& path) { return deserialize_plan(read_file(path), path); }

}  // namespace trtcore
