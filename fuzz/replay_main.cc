// Runs a libFuzzer harness over files, without libFuzzer: each argument is
// an input file or a directory whose regular files are inputs (read in name
// order, not recursively). LLVMFuzzerInitialize runs first if the harness
// defines it. A broken invariant or a sanitizer report aborts, as under the
// fuzzer; otherwise the program prints how many inputs it replayed and exits
// 0, or 1 if it found none (an empty or mistyped corpus must not pass).
//
// This is how the test build replays the committed corpora (fuzz/corpus/)
// with GCC's ASan and UBSan (tests/CMakeLists.txt): every harness's known
// inputs on every run, while the coverage-guided fuzzing itself needs clang
// and a build of its own (scripts/fuzz.sh).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

// Inputs bigger than the fuzzer's -max_len (scripts/fuzz.sh) are not corpus
// files; refusing them keeps a stray large file from slowing the tests.
constexpr uintmax_t kMaxInputBytes = 1 << 20;

bool ReadFile(const std::filesystem::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg, ec)) {
        if (entry.is_regular_file()) inputs.push_back(entry.path());
      }
      if (ec) {
        std::fprintf(stderr, "cannot list %s: %s\n", argv[i], ec.message().c_str());
        return 1;
      }
    } else if (std::filesystem::is_regular_file(arg, ec)) {
      inputs.push_back(arg);
    } else {
      std::fprintf(stderr, "no such input file or directory: %s\n", argv[i]);
      return 1;
    }
  }
  std::sort(inputs.begin(), inputs.end());
  size_t replayed = 0;
  std::string data;
  for (const auto& path : inputs) {
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(path, ec);
    if (ec || size > kMaxInputBytes || !ReadFile(path, &data)) {
      std::fprintf(stderr, "cannot read %s (or larger than %ju bytes)\n", path.c_str(),
                   kMaxInputBytes);
      return 1;
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    ++replayed;
  }
  std::printf("replayed %zu inputs\n", replayed);
  return replayed == 0 ? 1 : 0;
}
