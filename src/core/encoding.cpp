// base64url, percent-decoding and query-string splitting.
#include "todo/core/encoding.hpp"

#include <array>
#include <cstdint>

#include "todo/core/error.hpp"

namespace todo {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Each byte's value in the alphabet, or -1.
constexpr std::array<std::int8_t, 256> make_decode_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table)
    v = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}
constexpr auto kDecode = make_decode_table();

constexpr const char* kBadEscape = "invalid percent-encoding: '%' must be followed by two hex digits";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string fnv1a_hex(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4)
    out[static_cast<std::size_t>(i)] = kHex[h & 0xF];
  return out;
}

std::string seal_cursor(std::string_view payload) {
  std::string sealed = fnv1a_hex(payload);
  sealed += payload;
  return base64url_encode(sealed);
}

std::optional<std::string> open_cursor(std::string_view cursor) {
  constexpr std::size_t kCheck = 16;
  auto bytes = base64url_decode(cursor);
  if (!bytes || bytes->size() < kCheck) return std::nullopt;
  std::string payload = bytes->substr(kCheck);
  if (payload.find('\0') != std::string::npos || fnv1a_hex(payload) != bytes->substr(0, kCheck))
    return std::nullopt;
  return payload;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = static_cast<unsigned char>(bytes[i]);
    out += kAlphabet[v >> 2];
    out += kAlphabet[(v & 3) << 4];
  } else if (rest == 2) {
    const std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 8 |
                            static_cast<unsigned char>(bytes[i + 1]);
    out += kAlphabet[v >> 10];
    out += kAlphabet[v >> 4 & 63];
    out += kAlphabet[(v & 15) << 2];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view s) {
  if (s.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(s.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : s) {
    const int v = kDecode[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6 | static_cast<std::uint32_t>(v)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(acc >> bits & 0xff);
    }
  }
  // The last character's unused low bits must be zero, or two strings would decode to the same bytes.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      const int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) throw Error(Errc::bad_request, kBadEscape);
      out += static_cast<char>(hi << 4 | lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query_string(std::string_view qs) {
  std::vector<std::pair<std::string, std::string>> out;
  // The error names the parameter: its decoded name, or the name as written when that is what is bad.
  auto decode = [](std::string_view text, std::string_view name) {
    try {
      return url_decode(text);
    } catch (const Error&) {
      const std::string field(name);
      throw Error(Errc::bad_request, field + ": " + kBadEscape, {{field, kBadEscape}});
    }
  };
  while (!qs.empty()) {
    const std::size_t amp = qs.find('&');
    const std::string_view piece = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
    if (piece.empty()) continue;
    const std::size_t eq = piece.find('=');
    const std::string_view raw_name = piece.substr(0, eq);
    std::string name = decode(raw_name, raw_name);
    std::string value = eq == std::string_view::npos ? std::string{} : decode(piece.substr(eq + 1), name);
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

}  // namespace todo
