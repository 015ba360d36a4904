#include "tools/import_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

namespace syncmgr::cli {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Scans the first top-level object of `text` (which starts with '{') without
// parsing it: tracks strings, depth and the top-level member names.
struct FirstObjectScan {
  bool ended = false;       // the object's closing '}' was seen
  size_t end = 0;           // offset just past it
  bool multi_line = false;  // a newline inside the object (outside strings)
  bool data_is_array = false;
  bool only_wrapper_keys = true;

  explicit FirstObjectScan(std::string_view text) {
    static const std::set<std::string_view> kWrapperKeys = {"data", "mode", "allow_mass_removal"};
    int depth = 0;
    bool in_string = false, escape = false, expect_key = false, capturing = false;
    bool awaiting_data_value = false;
    size_t key_start = 0;
    std::string_view key;
    for (size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (in_string) {
        if (escape) {
          escape = false;
        } else if (c == '\\') {
          escape = true;
        } else if (c == '"') {
          in_string = false;
          if (capturing) {
            key = text.substr(key_start, i - key_start);
            capturing = false;
            if (!kWrapperKeys.contains(key)) only_wrapper_keys = false;
          }
        }
        continue;
      }
      if (IsSpace(c)) {
        if (c == '\n') {
          multi_line = true;
          return;
        }
        continue;
      }
      if (awaiting_data_value) {
        data_is_array = c == '[';
        awaiting_data_value = false;
      }
      switch (c) {
        case '"':
          in_string = true;
          if (depth == 1 && expect_key) {
            capturing = true;
            key_start = i + 1;
          }
          break;
        case ':':
          if (depth == 1) {
            expect_key = false;
            awaiting_data_value = key == "data";
          }
          break;
        case ',':
          if (depth == 1) expect_key = true;
          break;
        case '{':
        case '[':
          ++depth;
          if (depth == 1) expect_key = true;
          break;
        case '}':
        case ']':
          if (--depth == 0) {
            ended = true;
            end = i + 1;
            return;
          }
          break;
        default:
          break;
      }
    }
  }
};

}  // namespace

Sniff SniffImportFormat(std::string_view prefix, bool complete) {
  size_t start = 0;
  while (start < prefix.size() && IsSpace(prefix[start])) ++start;
  if (start == prefix.size()) return complete ? Sniff::kJson : Sniff::kNeedMore;
  if (prefix[start] != '{') return Sniff::kJson;  // '[' or not JSON at all
  std::string_view text = prefix.substr(start);
  FirstObjectScan scan(text);
  if (scan.multi_line) return Sniff::kJson;
  bool wrapper = scan.only_wrapper_keys && scan.data_is_array;
  if (!scan.ended) {
    if (!complete) return Sniff::kNeedMore;
    return wrapper ? Sniff::kJson : Sniff::kNdjson;
  }
  size_t rest = scan.end;
  while (rest < text.size() && IsSpace(text[rest])) ++rest;
  if (rest < text.size()) return Sniff::kNdjson;  // another value follows
  if (!complete) return Sniff::kNeedMore;
  return wrapper ? Sniff::kJson : Sniff::kNdjson;
}

std::optional<BodyFormat> FormatFromFileName(std::string_view path) {
  if (path.ends_with(".ndjson") || path.ends_with(".jsonl")) return BodyFormat::kNdjson;
  return std::nullopt;
}

FileImportInput::FileImportInput(int fd, bool owned, std::string path, uint64_t size)
    : fd_(fd), owned_(owned), path_(std::move(path)), size_(size) {}

FileImportInput::~FileImportInput() {
  if (owned_) ::close(fd_);
}

StatusOr<std::unique_ptr<FileImportInput>> FileImportInput::Open(const std::string& path) {
  if (path == "-") {
    struct stat st {};
    uint64_t size = (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) ? st.st_size : 0;
    return std::unique_ptr<FileImportInput>(new FileImportInput(STDIN_FILENO, false, "-", size));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string msg = "cannot open " + path + ": " + std::strerror(err);
    return err == ENOENT ? Status::NotFound(msg) : Status::InvalidArgument(msg);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("cannot read " + path + ": not a regular file");
  }
  uint64_t size = S_ISREG(st.st_mode) ? st.st_size : 0;
  return std::unique_ptr<FileImportInput>(new FileImportInput(fd, true, path, size));
}

Status FileImportInput::ReadMore(std::string* out, size_t max_bytes) {
  size_t old = out->size();
  out->resize(old + max_bytes);
  while (true) {
    ssize_t n = ::read(fd_, out->data() + old, max_bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out->resize(old);
      return Status::Internal("cannot read " + path_ + ": " + std::strerror(errno));
    }
    out->resize(old + static_cast<size_t>(n));
    if (n == 0) eof_ = true;
    return Status::Ok();
  }
}

StatusOr<BodyFormat> FileImportInput::DetectFormat() {
  if (auto by_name = FormatFromFileName(path_)) return *by_name;
  while (true) {
    bool complete = eof_ || pending_.size() >= kSniffWindowBytes;
    switch (SniffImportFormat(pending_, complete)) {
      case Sniff::kJson:
        return BodyFormat::kJson;
      case Sniff::kNdjson:
        return BodyFormat::kNdjson;
      case Sniff::kNeedMore:
        break;
    }
    size_t want = std::min<size_t>(64 << 10, kSniffWindowBytes - pending_.size());
    SYNCMGR_RETURN_IF_ERROR(ReadMore(&pending_, want));
  }
}

StatusOr<std::string> FileImportInput::LeadingBytes(size_t n) {
  while (true) {
    std::string found;
    for (char c : pending_) {
      if (found.size() == n) break;
      if (!IsSpace(c)) found.push_back(c);
    }
    if (found.size() == n || eof_ || pending_.size() >= kSniffWindowBytes) return found;
    SYNCMGR_RETURN_IF_ERROR(ReadMore(&pending_, 64 << 10));
  }
}

Status FileImportInput::Next(std::string* chunk, size_t max_bytes) {
  chunk->clear();
  if (!pending_.empty()) {
    chunk->swap(pending_);
  } else {
    // A pipe may return short reads: an empty read only at the real end.
    while (chunk->empty() && !eof_) {
      SYNCMGR_RETURN_IF_ERROR(ReadMore(chunk, max_bytes));
    }
  }
  handed_out_ += chunk->size();
  return Status::Ok();
}

}  // namespace syncmgr::cli
