// JSON text output matching nlohmann::json::dump (compact, UTF-8 kept, invalid sequences replaced).
#include "todo/core/json_writer.hpp"

#include <charconv>
#include <cstring>

namespace todo::json {
namespace {

// The length of the valid UTF-8 sequence at s[i] (lead byte ≥ 0x80), or 0 when it is not one (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// How many bytes nlohmann's decoder consumes for one invalid sequence starting at s[i] before it reports
// it (and writes one U+FFFD): the lead byte plus the continuation bytes that were still acceptable.
std::size_t invalid_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 1;  // not a lead byte at all
  }
  std::size_t k = 1;
  for (; k <= need && i + k < s.size(); ++k) {
    const unsigned char x = b(k);
    const bool ok = k == 1 ? (x >= lo && x <= hi) : (x & 0xC0) == 0x80;
    if (!ok) break;
  }
  return k;
}

constexpr bool is_plain(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

// True when all 8 bytes of x are plain (is_plain), tested at once: no high bit set, no byte below 0x20, none
// equal to '"' or '\\' (the "has a byte less than n" and "has a zero byte" word tricks: exact as a yes/no).
constexpr bool all_plain(std::uint64_t x) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  const auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  const std::uint64_t control = (x - 0x20 * kOnes) & ~x & kHighs;
  return ((x & kHighs) | control | has_zero(x ^ ('"' * kOnes)) | has_zero(x ^ ('\\' * kOnes))) == 0;
}

// The end of the run of plain bytes that starts at s[i].
std::size_t plain_run(std::string_view s, std::size_t i) {
  for (std::uint64_t x; i + 8 <= s.size(); i += 8) {
    std::memcpy(&x, s.data() + i, 8);
    if (!all_plain(x)) break;
  }
  while (i < s.size() && is_plain(static_cast<unsigned char>(s[i])))
    ++i;
  return i;
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    // A run of bytes written as they are (printable ASCII but for the quote and the backslash) in one append.
    const std::size_t plain = plain_run(s, i);
    if (plain > i) {
      out.append(s.data() + i, plain - i);
      i = plain;
      if (i == s.size()) break;
    }
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (const std::size_t n = utf8_sequence(s, i)) {
        out.append(s.data() + i, n);
        i += n;
      } else {
        out += "\xEF\xBF\xBD";  // U+FFFD
        i += invalid_sequence(s, i);
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          out.append(esc, sizeof esc);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void ObjectWriter::key(std::string_view k) {
  if (!first_) out_ += ',';
  first_ = false;
  append_string(out_, k);
  out_ += ':';
}

void ObjectWriter::open(std::string_view k) {
  key(k);
  out_ += before_;
}

std::string& ObjectWriter::raw(std::string_view k) {
  key(k);
  return out_;
}

ObjectWriter& ObjectWriter::string(std::string_view k, std::string_view value) {
  open(k);
  append_string(out_, value);
  out_ += after_;
  return *this;
}

ObjectWriter& ObjectWriter::string(std::string_view k, const std::optional<std::string>& value) {
  if (!value) return null(k);
  return string(k, std::string_view(*value));
}

ObjectWriter& ObjectWriter::integer(std::string_view k, std::int64_t value) {
  open(k);
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  out_.append(buf, end);
  out_ += after_;
  return *this;
}

ObjectWriter& ObjectWriter::integer(std::string_view k, std::optional<std::int64_t> value) {
  if (!value) return null(k);
  return integer(k, *value);
}

ObjectWriter& ObjectWriter::boolean(std::string_view k, bool value) {
  open(k);
  out_ += value ? "true" : "false";
  out_ += after_;
  return *this;
}

ObjectWriter& ObjectWriter::instant(std::string_view k, std::optional<Instant> value) {
  if (!value) return null(k);
  open(k);
  out_ += '"';
  append_rfc3339(out_, *value);  // digits, '-', ':', '.', 'T', 'Z', '+': nothing to escape
  out_ += '"';
  out_ += after_;
  return *this;
}

ObjectWriter& ObjectWriter::strings(std::string_view k, const std::vector<std::string>& values) {
  open(k);
  out_ += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out_ += ',';
    append_string(out_, values[i]);
  }
  out_ += ']';
  out_ += after_;
  return *this;
}

ObjectWriter& ObjectWriter::null(std::string_view k) {
  open(k);
  out_ += "null";
  out_ += after_;
  return *this;
}

}  // namespace todo::json
