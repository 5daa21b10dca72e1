// The checks of RFC 6455 on a client's frames that Beast 1.81 lacks.
#include "todo/realtime/client_stream.hpp"

#include <algorithm>
#include <string_view>

#include "todo/core/text.hpp"

namespace todo::realtime {

bool valid_close_code(std::uint16_t code) {
  // 1004 is reserved, 1005 and 1006 are never sent, 1015 neither; 1016–2999 are kept for the protocol's own
  // use and 3000–4999 are the registered and private codes.
  if (code < 1000 || code >= 5000) return false;
  if (code == 1004 || code == 1005 || code == 1006 || code == 1015) return false;
  return code < 1016 || code >= 3000;
}

std::size_t FrameChecker::check(std::uint8_t* p, std::size_t n) {
  std::size_t i = 0;
  for (;;) {
    if (payload_left_ > 0) {
      const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, n - i));
      i += k;
      payload_left_ -= k;
      if (payload_left_ > 0) return i;
    }
    // A frame header at i (RFC 6455 5.2): FIN, RSV1-3, opcode; MASK, a 7-bit length, then 16 or 64 bits of
    // length for 126 and 127, then the masking key when MASK is set.
    const std::size_t avail = n - i;
    if (avail < 2) return i;
    std::uint8_t* h = p + i;
    const unsigned len7 = h[1] & 0x7fu;
    const std::size_t len_bytes = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    const bool masked = (h[1] & 0x80u) != 0;
    const std::size_t header = 2 + len_bytes + (masked ? 4 : 0);
    if (avail < header) return i;
    std::uint64_t len = len7;
    if (len_bytes > 0) {
      len = 0;
      for (std::size_t b = 0; b < len_bytes; ++b)
        len = (len << 8) | h[2 + b];
    }
    // 5.2: "the most significant bit MUST be 0".
    bool bad = len_bytes == 8 && (h[2] & 0x80u) != 0;
    const unsigned opcode = h[0] & 0x0fu;
    const bool fin = (h[0] & 0x80u) != 0;
    if (!bad && opcode == 0x8 && len >= 2) {
      // A close frame with a body: its first two bytes are the code, the rest the reason (a control frame's
      // body is at most 125 bytes; a longer one Beast fails itself).
      const std::size_t body = len <= kMaxControlPayload ? static_cast<std::size_t>(len) : 2;
      if (avail < header + body) return i;
      const std::uint8_t* key = h + header - 4;
      const auto unmasked = [&](std::size_t k) {
        return static_cast<std::uint8_t>(h[header + k] ^ (masked ? key[k % 4] : 0));
      };
      bad = !valid_close_code(static_cast<std::uint16_t>((unmasked(0) << 8) | unmasked(1)));
      std::array<char, kMaxControlPayload> reason{};
      for (std::size_t k = 2; k < body; ++k)
        reason[k - 2] = static_cast<char>(unmasked(k));
      if (!bad && !valid_utf8(std::string_view(reason.data(), body - 2))) {
        // 8.1: a reason that is not UTF-8 fails the connection with 1007, which Beast 1.81 answers with 1002.
        // The frame is handed on as the end of a text message whose first byte (0xFF) is never UTF-8: Beast
        // fails that with 1007.
        h[0] = static_cast<std::uint8_t>((h[0] & 0x70u) | 0x80u | (in_message_ ? 0x0u : 0x1u));
        h[header] = static_cast<std::uint8_t>(0xFFu ^ (masked ? key[0] : 0));
        in_message_ = false;
      }
    } else if (opcode == 0x1 || opcode == 0x2) {
      in_message_ = !fin;  // a fragmented message continues
    } else if (opcode == 0x0 && fin) {
      in_message_ = false;
    }
    // RSV2 without an extension that defines it: Beast fails the connection with 1002, as 5.2 says.
    if (bad) h[0] |= 0x20u;
    i += header;
    payload_left_ = len;
  }
}

void ClientStream::close_socket(boost::beast::error_code& ec) {
  auto& socket = next_.socket();
  ec = {};
  if (!socket.is_open()) return;
  boost::beast::error_code ignored;
  socket.non_blocking(true, ignored);
  // At most 64 KB: a client that keeps sending is reset rather than read for ever.
  std::array<char, 4096> sink{};
  for (int i = 0; i < 16 && !ignored; ++i)
    if (socket.read_some(boost::asio::buffer(sink), ignored) == 0) break;
  socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  socket.close(ec);
}

}  // namespace todo::realtime
