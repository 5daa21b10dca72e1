// Text format helpers: name grammar, number formatting, escaping.
#include "todo/metrics/text_format.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>

namespace todo::metrics {
namespace {

TEST(TextFormat, MetricNameGrammar) {
  EXPECT_TRUE(is_valid_metric_name("http_requests_total"));
  EXPECT_TRUE(is_valid_metric_name(":a"));
  EXPECT_TRUE(is_valid_metric_name("_"));
  EXPECT_FALSE(is_valid_metric_name(""));
  EXPECT_FALSE(is_valid_metric_name("0a"));
  EXPECT_FALSE(is_valid_metric_name("a.b"));
  EXPECT_FALSE(is_valid_metric_name("caf\xC3\xA9"));
}

TEST(TextFormat, LabelNameGrammar) {
  EXPECT_TRUE(is_valid_label_name("method"));
  EXPECT_TRUE(is_valid_label_name("_x1"));
  EXPECT_FALSE(is_valid_label_name(""));
  EXPECT_FALSE(is_valid_label_name("a:b"));
  EXPECT_FALSE(is_valid_label_name("1a"));
  EXPECT_FALSE(is_valid_label_name("__name__"));
}

TEST(TextFormat, FormatsNumbersForPrometheus) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(1), "1");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(1e6), "1000000");
  EXPECT_EQ(format_value(123456789012345), "123456789012345");
  EXPECT_EQ(format_value(0.005), "0.005");
  EXPECT_EQ(format_value(2.5), "2.5");
  EXPECT_EQ(format_value(0.1 + 0.2), "0.30000000000000004");  // round-trips exactly
  EXPECT_EQ(format_value(1732355000.25), "1732355000.25");
  EXPECT_EQ(format_value(1e20), "1e+20");
  EXPECT_EQ(format_value(1.5e-7), "1.5e-07");
  EXPECT_EQ(format_value(INFINITY), "+Inf");
  EXPECT_EQ(format_value(-INFINITY), "-Inf");
  EXPECT_EQ(format_value(NAN), "NaN");
  const double max = std::numeric_limits<double>::max();
  EXPECT_EQ(std::strtod(format_value(max).c_str(), nullptr), max);
  const double tiny = std::numeric_limits<double>::denorm_min();
  EXPECT_EQ(std::strtod(format_value(tiny).c_str(), nullptr), tiny);
}

TEST(TextFormat, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_label_value("a\\b"), "a\\\\b");
  EXPECT_EQ(escape_label_value("a\"b"), "a\\\"b");
  EXPECT_EQ(escape_label_value("a\nb"), "a\\nb");
  EXPECT_EQ(escape_label_value("\\\"\n"), "\\\\\\\"\\n");
  EXPECT_EQ(escape_label_value("tab\there"), "tab\there");
}

TEST(TextFormat, EscapesHelpButNotQuotes) {
  EXPECT_EQ(escape_help("say \"hi\"\\\nbye"), "say \"hi\"\\\\\\nbye");
}

TEST(TextFormat, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(escape_label_value("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(escape_label_value("a\xFFz"), "a" + replacement + "z");
  EXPECT_EQ(escape_label_value("\xC0\xAF"), replacement + replacement);                    // overlong '/'
  EXPECT_EQ(escape_label_value("\xED\xA0\x80"), replacement + replacement + replacement);  // surrogate
  EXPECT_EQ(escape_label_value("\xE2\x82"), replacement + replacement);                    // truncated
  EXPECT_EQ(escape_help("\xF4\x90\x80\x80"),
            replacement + replacement + replacement + replacement);  // > U+10FFFF
}

TEST(TextFormat, AppendsSamples) {
  std::string out;
  append_sample(out, "m", {}, {}, {}, {}, "1");
  append_sample(out, "m", {"a", "b"}, {"x", "y\""}, {}, {}, "2");
  append_sample(out, "m_bucket", {}, {}, "le", "+Inf", "3");
  append_sample(out, "m_bucket", {"a"}, {"x"}, "le", "0.5", "4");
  EXPECT_EQ(out, "m 1\nm{a=\"x\",b=\"y\\\"\"} 2\nm_bucket{le=\"+Inf\"} 3\nm_bucket{a=\"x\",le=\"0.5\"} 4\n");
}

}  // namespace
}  // namespace todo::metrics
