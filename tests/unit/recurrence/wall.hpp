// Test helper: "YYYY-MM-DDTHH:MM:SS" as a floating wall time.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "todo/recurrence/expand.hpp"

namespace todo::recurrence::test {

inline LocalTime parse_wall(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  EXPECT_EQ(std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec), 6) << s;
  return LocalTime{date::local_days{date::year{y} / mo / d}} + std::chrono::hours{h} +
         std::chrono::minutes{mi} + std::chrono::seconds{sec};
}

}  // namespace todo::recurrence::test
