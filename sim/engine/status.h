// Errors as values (leveldb's Status): ok, or a code and a message that
// names the file, the place and what was expected.
//
// Threading: value type.
#ifndef CTSIM_SIM_ENGINE_STATUS_H_
#define CTSIM_SIM_ENGINE_STATUS_H_

#include <string>
#include <utility>

namespace ctsim {

class Status {
 public:
  enum class Code { kOk, kInvalidArgument, kNotFound, kIOError };

  Status() = default;
  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }
  std::string ToString() const { return ok() ? "OK" : msg_; }

 private:
  Status(Code c, std::string m) : code_(c), msg_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string msg_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_ENGINE_STATUS_H_
