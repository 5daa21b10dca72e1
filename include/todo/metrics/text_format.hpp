// Prometheus text exposition format 0.0.4: name grammar, escaping and number formatting.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace todo::metrics {

// Media type of Registry::serialize() output, for the HTTP Content-Type header.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool is_valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by Prometheus).
bool is_valid_label_name(std::string_view name);

// A sample value: "+Inf", "-Inf", "NaN", integers without exponent, otherwise the shortest exact form.
std::string format_value(double v);
// Label value with \ " and newline escaped; invalid UTF-8 is replaced by U+FFFD so a scrape never fails.
std::string escape_label_value(std::string_view s);
// HELP text with \ and newline escaped; invalid UTF-8 is replaced by U+FFFD.
std::string escape_help(std::string_view s);

// Appends `name{n1="v1",...,extra_name="extra_value"} value\n`; braces only when there is a label.
void append_sample(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, std::string_view extra_name,
                   std::string_view extra_value, std::string_view value);

}  // namespace todo::metrics
