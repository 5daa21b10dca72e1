// The chat tokenizer: words, numbers and punctuation as views into the message and its lower-cased copy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace todo::chat::detail {

struct Token {
  std::string_view raw;  // as typed
  std::string_view low;  // ASCII lower case
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  bool punct = false;  // one of , ; ? ( ) [ ] " . ! : standing alone
  bool used = false;   // consumed by a grammar rule
};

/// Splits `text` (already capped in length) into tokens. `lower` receives the lower-cased copy the tokens'
/// `low` views point into; both vectors are reused between calls.
void tokenize(std::string_view text, std::string& lower, std::vector<Token>& out);

}  // namespace todo::chat::detail
