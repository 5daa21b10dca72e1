// Prometheus text exposition format 0.0.4: name grammar, escaping and number formatting.
#include "todo/metrics/text_format.hpp"

#include <charconv>
#include <cmath>
#include <cstddef>

namespace todo::metrics {
namespace {

bool is_name_start(char c, bool colon_ok) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
}

bool is_name_char(char c, bool colon_ok) {
  return is_name_start(c, colon_ok) || (c >= '0' && c <= '9');
}

bool is_valid_name(std::string_view name, bool colon_ok) {
  if (name.empty() || !is_name_start(name.front(), colon_ok)) return false;
  for (char c : name) {
    if (!is_name_char(c, colon_ok)) return false;
  }
  return true;
}

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF), or 0 if there is none; Prometheus rejects a scrape with invalid UTF-8.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c == 0xE0) {
    n = 3, lo = 0xA0;
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    n = 3;
  } else if (c == 0xED) {
    n = 3, hi = 0x9F;
  } else if (c == 0xF0) {
    n = 4, lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    n = 4;
  } else if (c == 0xF4) {
    n = 4, hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

void append_escaped(std::string& out, std::string_view s, bool escape_quote) {
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else if (static_cast<unsigned char>(c) < 0x80) {
      out += c;
    } else if (std::size_t n = utf8_length(s, i); n > 0) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER, one per invalid byte
    }
    ++i;
  }
}

}  // namespace

bool is_valid_metric_name(std::string_view name) {
  return is_valid_name(name, /*colon_ok=*/true);
}

bool is_valid_label_name(std::string_view name) {
  return is_valid_name(name, /*colon_ok=*/false) && !name.starts_with("__");
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const double magnitude = std::fabs(v);
  // Fixed notation keeps integers and ordinary magnitudes free of exponents; both forms are the shortest
  // text that parses back to exactly v.
  const bool fixed = magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e15);
  const auto result = fixed ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                            : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, result.ptr);
}

std::string escape_label_value(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_escaped(out, s, /*escape_quote=*/true);
  return out;
}

std::string escape_help(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_escaped(out, s, /*escape_quote=*/false);
  return out;
}

void append_sample(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, std::string_view extra_name,
                   std::string_view extra_value, std::string_view value) {
  out.append(name);
  const bool braces = !label_names.empty() || !extra_name.empty();
  if (braces) out += '{';
  bool first = true;
  auto label = [&](std::string_view label_name, std::string_view label_value) {
    if (!first) out += ',';
    first = false;
    out.append(label_name);
    out += "=\"";
    append_escaped(out, label_value, /*escape_quote=*/true);
    out += '"';
  };
  for (std::size_t i = 0; i < label_names.size() && i < label_values.size(); ++i) {
    label(label_names[i], label_values[i]);
  }
  if (!extra_name.empty()) label(extra_name, extra_value);
  if (braces) out += '}';
  out += ' ';
  out.append(value);
  out += '\n';
}

}  // namespace todo::metrics
