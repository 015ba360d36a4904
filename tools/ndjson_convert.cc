#include "tools/ndjson_convert.h"

namespace syncmgr::cli {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

Status JsonArrayToNdjson::Error(const std::string& what) const {
  return Status::InvalidJson("invalid JSON array: " + what + " (after item " +
                             std::to_string(items_) + ")");
}

Status JsonArrayToNdjson::Finish() const {
  return state_ == State::kDone ? Status::Ok() : Error("unexpected end of input");
}

Status JsonArrayToNdjson::Next(std::string* chunk, size_t max_bytes) {
  chunk->clear();
  while (chunk->empty() && !input_ended_) {
    SYNCMGR_RETURN_IF_ERROR(inner_->Next(&buffer_, max_bytes));
    if (buffer_.empty()) {
      input_ended_ = true;
      SYNCMGR_RETURN_IF_ERROR(Finish());
      break;
    }
    input_bytes_ += buffer_.size();
    SYNCMGR_RETURN_IF_ERROR(Convert(buffer_, chunk));
  }
  return Status::Ok();
}

Status JsonArrayToNdjson::Convert(std::string_view in, std::string* out) {
  auto end_item = [&] {
    out->push_back('\n');
    ++items_;
    state_ = State::kAfterItem;
  };
  size_t i = 0;
  while (i < in.size()) {
    char c = in[i];
    switch (state_) {
      case State::kBeforeArray:
        if (c == '[') {
          state_ = State::kFirstItemOrEnd;
        } else if (!IsSpace(c)) {
          return Error("the body does not start with '['");
        }
        ++i;
        break;
      case State::kFirstItemOrEnd:
      case State::kItem:
        if (IsSpace(c)) {
          ++i;
        } else if (c == ']' && state_ == State::kFirstItemOrEnd) {
          state_ = State::kDone;
          ++i;
        } else if (c == ']' || c == ',') {
          return Error(std::string("unexpected '") + c + "'");
        } else {
          state_ = State::kInItem;  // c is the item's first byte: handled there
          depth_ = 0;
        }
        break;
      case State::kInItem:
        if (in_string_) {
          if (static_cast<unsigned char>(c) < 0x20) {
            return Error("raw control character in a string");
          }
          out->push_back(c);
          if (escape_) {
            escape_ = false;
          } else if (c == '\\') {
            escape_ = true;
          } else if (c == '"') {
            in_string_ = false;
            if (depth_ == 0) end_item();
          }
          ++i;
          break;
        }
        if (depth_ == 0 && (IsSpace(c) || c == ',' || c == ']')) {
          end_item();  // a scalar item ended; c is handled after it
          break;
        }
        if (IsSpace(c)) {
          ++i;
          break;
        }
        out->push_back(c);
        ++i;
        if (c == '"') {
          in_string_ = true;
        } else if (c == '{' || c == '[') {
          ++depth_;
        } else if (c == '}' || c == ']') {
          if (depth_ == 0) return Error(std::string("unexpected '") + c + "'");
          if (--depth_ == 0) end_item();
        }
        break;
      case State::kAfterItem:
        if (c == ',') {
          state_ = State::kItem;
        } else if (c == ']') {
          state_ = State::kDone;
        } else if (!IsSpace(c)) {
          return Error("expected ',' or ']'");
        }
        ++i;
        break;
      case State::kDone:
        if (!IsSpace(c)) return Error("unexpected data after the closing ']'");
        ++i;
        break;
    }
  }
  return Status::Ok();
}

}  // namespace syncmgr::cli
