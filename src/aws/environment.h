// The process environment as a value, so that tests never read the real one (or ~/.aws).
#pragma once

#include <cstdlib>
#include <map>
#include <optional>
#include <string>

namespace ddb2s3 {

class Environment {
 public:
  // The real process environment.
  static Environment process();
  // Only the given variables; nothing is read from the process.
  static Environment from(std::map<std::string, std::string> vars) {
    Environment e;
    e.vars_ = std::move(vars);
    e.fake_ = true;
    return e;
  }

  // Unset and empty variables both read as nullopt, as the AWS CLI treats them.
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const {
    auto v = get(name);
    return v ? *v : fallback;
  }
  void set(const std::string& name, std::string value) { vars_[name] = std::move(value); }
  // $HOME (or the home of the current user when HOME is unset and this is the real environment).
  std::string home() const;

 private:
  std::map<std::string, std::string> vars_;  // overrides, or everything when fake_
  bool fake_ = false;
};

}  // namespace ddb2s3
