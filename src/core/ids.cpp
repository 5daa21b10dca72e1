// Version 4 and 7 UUIDs from libsodium's random bytes, and checks of their canonical text form.
#include "todo/core/ids.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>

#include "todo/core/error.hpp"

namespace todo {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool is_hyphen_position(std::size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

void ensure_sodium() {
  // sodium_init is idempotent and thread-safe; once is enough for this file.
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw Error(Errc::internal, "libsodium failed to initialise");
}

/// Random bytes taken from the operating system (libsodium's randombytes_buf, one getrandom call) 4 KiB at a
/// time, each byte used once: a create takes two or three ids, and a system call each was 2–3 % of the
/// server's CPU under a create load. Per thread, so without locks; the process never forks, so no two
/// processes share a buffer.
void random_bytes(unsigned char* out, std::size_t n) {
  struct Buffer {
    std::array<unsigned char, 4096> bytes;
    std::size_t used = sizeof(bytes);
  };
  thread_local Buffer buffer;
  if (buffer.used + n > buffer.bytes.size()) {
    ensure_sodium();
    randombytes_buf(buffer.bytes.data(), buffer.bytes.size());
    buffer.used = 0;
  }
  std::copy_n(buffer.bytes.data() + buffer.used, n, out);
  sodium_memzero(buffer.bytes.data() + buffer.used, n);  // handed out once, kept nowhere
  buffer.used += n;
}

std::string canonical(const std::array<unsigned char, 16>& bytes) {
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0f];
  }
  return out;
}

}  // namespace

std::string new_uuid() {
  std::array<unsigned char, 16> bytes;
  random_bytes(bytes.data(), bytes.size());
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // variant 10xx
  return canonical(bytes);
}

std::string new_ordered_uuid() {
  std::array<unsigned char, 16> bytes;
  random_bytes(bytes.data() + 6, bytes.size() - 6);
  const auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::system_clock::now().time_since_epoch())
                                                 .count());
  for (int i = 0; i < 6; ++i)  // unix_ts_ms, big-endian
    bytes[static_cast<std::size_t>(i)] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x70);  // version 7
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // variant 10xx
  return canonical(bytes);
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (is_hyphen_position(i) ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

std::string normalize_uuid(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace todo
