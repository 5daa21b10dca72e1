// The checks of RFC 6455 on a client's frames that Beast 1.81 lacks.
#include "todo/realtime/client_stream.hpp"

#include <algorithm>

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
    if (!bad && (h[0] & 0x0fu) == 0x8 && len >= 2) {
      // A close frame with a body: its first two bytes are the code.
      if (avail < header + 2) return i;
      const std::uint8_t* key = h + header - 4;
      const auto hi = static_cast<std::uint8_t>(h[header] ^ (masked ? key[0] : 0));
      const auto lo = static_cast<std::uint8_t>(h[header + 1] ^ (masked ? key[1] : 0));
      bad = !valid_close_code(static_cast<std::uint16_t>((hi << 8) | lo));
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
