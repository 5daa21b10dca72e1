// Test helper: run a callable that must throw todo::Error and inspect what it threw.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "todo/core/error.hpp"

namespace todo::test {

/// The todo::Error that `f` throws, or nullopt when it returns normally.
template <class F>
std::optional<Error> error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

/// The field names of an error, in order.
inline std::vector<std::string> fields_of(const Error& e) {
  std::vector<std::string> out;
  for (const auto& fe : e.errors())
    out.push_back(fe.field);
  return out;
}

/// Passes when `f` throws an Error with `code` that names `field` among its field errors.
template <class F>
::testing::AssertionResult ThrowsNaming(F&& f, Errc code, const std::string& field) {
  auto e = error_of(std::forward<F>(f));
  if (!e) return ::testing::AssertionFailure() << "no todo::Error thrown";
  if (e->code() != code)
    return ::testing::AssertionFailure() << "code " << static_cast<int>(e->code()) << ", expected "
                                         << static_cast<int>(code) << " (" << e->what() << ")";
  for (const auto& fe : e->errors())
    if (fe.field == field) {
      if (fe.message.empty()) return ::testing::AssertionFailure() << "empty message for " << field;
      return ::testing::AssertionSuccess();
    }
  auto failure = ::testing::AssertionFailure();
  failure << "field '" << field << "' not named; got:";
  for (const auto& fe : e->errors())
    failure << " [" << fe.field << ": " << fe.message << "]";
  return failure;
}

}  // namespace todo::test
