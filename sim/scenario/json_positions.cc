#include "sim/scenario/json_positions.h"

#include <vector>

namespace ctsim {

LineCol line_col_at(std::string_view text, size_t offset) { return line_cols_at(text, {offset})[0]; }

std::vector<LineCol> line_cols_at(std::string_view text, const std::vector<size_t>& offsets) {
  std::vector<LineCol> out;
  out.reserve(offsets.size());
  LineCol lc;
  size_t i = 0;
  for (size_t offset : offsets) {
    for (; i < offset && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++lc.line;
        lc.col = 1;
      } else {
        ++lc.col;
      }
    }
    out.push_back(lc);
  }
  return out;
}

namespace {

class Indexer {
 public:
  Indexer(std::string_view t, std::map<std::string, size_t>* out, std::vector<std::string>* dups)
      : t_(t), out_(out), dups_(dups) {}
  void run() { value(""); }

 private:
  void ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\r' || t_[i_] == '\t')) ++i_;
  }
  bool string(std::string* s) {
    if (i_ >= t_.size() || t_[i_] != '"') return false;
    ++i_;
    while (i_ < t_.size() && t_[i_] != '"') {
      if (t_[i_] == '\\' && i_ + 1 < t_.size()) {
        if (s) s->push_back(t_[i_ + 1]);
        i_ += 2;
        continue;
      }
      if (s) s->push_back(t_[i_]);
      ++i_;
    }
    if (i_ >= t_.size()) return false;
    ++i_;
    return true;
  }
  static std::string escape(const std::string& key) {
    std::string r;
    for (char c : key) {
      if (c == '~')
        r += "~0";
      else if (c == '/')
        r += "~1";
      else
        r += c;
    }
    return r;
  }
  bool value(const std::string& ptr) {
    ws();
    if (i_ >= t_.size()) return false;
    (*out_)[ptr] = i_;
    char c = t_[i_];
    if (c == '{') {
      ++i_;
      ws();
      if (i_ < t_.size() && t_[i_] == '}') {
        ++i_;
        return true;
      }
      for (;;) {
        ws();
        std::string key;
        size_t key_at = i_;
        if (!string(&key)) return false;
        ws();
        if (i_ >= t_.size() || t_[i_] != ':') return false;
        ++i_;
        std::string child = ptr + "/" + escape(key);
        auto [it, fresh] = out_->insert_or_assign(child + "#key", key_at);
        (void)it;
        if (!fresh && dups_ != nullptr) dups_->push_back(child);
        if (!value(child)) return false;
        ws();
        if (i_ < t_.size() && t_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < t_.size() && t_[i_] == '}') {
          ++i_;
          return true;
        }
        return false;
      }
    }
    if (c == '[') {
      ++i_;
      ws();
      if (i_ < t_.size() && t_[i_] == ']') {
        ++i_;
        return true;
      }
      for (size_t k = 0;; ++k) {
        if (!value(ptr + "/" + std::to_string(k))) return false;
        ws();
        if (i_ < t_.size() && t_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < t_.size() && t_[i_] == ']') {
          ++i_;
          return true;
        }
        return false;
      }
    }
    if (c == '"') return string(nullptr);
    while (i_ < t_.size() && t_[i_] != ',' && t_[i_] != '}' && t_[i_] != ']' && t_[i_] != ' ' && t_[i_] != '\n' &&
           t_[i_] != '\r' && t_[i_] != '\t')
      ++i_;
    return true;
  }

  std::string_view t_;
  std::map<std::string, size_t>* out_;
  std::vector<std::string>* dups_;
  size_t i_ = 0;
};

}  // namespace

std::map<std::string, size_t> index_json_positions(std::string_view text, std::vector<std::string>* duplicate_keys) {
  std::map<std::string, size_t> out;
  Indexer(text, &out, duplicate_keys).run();
  return out;
}

NestingDepth json_nesting_depth(std::string_view text) {
  NestingDepth d;
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > d.max) {
        d.max = depth;
        d.offset = i;
      }
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return d;
}

}  // namespace ctsim
