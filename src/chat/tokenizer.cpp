// A hand-written tokenizer over string_view: whitespace separates, some punctuation stands alone.
#include "tokenizer.hpp"

namespace todo::chat::detail {
namespace {

bool is_space(unsigned char c) {
  return c <= ' ' || c == 0x7f;
}

// Always a token of its own.
bool is_hard_punct(char c) {
  return c == ',' || c == ';' || c == '?' || c == '(' || c == ')' || c == '"';
}

// Split off the end of a word ("milk." "done!" "note:").
bool is_soft_punct(char c) {
  return c == '.' || c == '!' || c == ':' || c == '\'';
}

}  // namespace

void tokenize(std::string_view text, std::string& lower, std::vector<Token>& out) {
  out.clear();
  lower.assign(text);
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  const std::string_view low(lower);
  auto push = [&](std::size_t b, std::size_t e, bool punct) {
    out.push_back(Token{text.substr(b, e - b), low.substr(b, e - b), static_cast<std::uint32_t>(b),
                        static_cast<std::uint32_t>(e), punct, false});
  };
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const char c = text[i];
    if (is_space(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (is_hard_punct(c)) {
      push(i, i + 1, true);
      ++i;
      continue;
    }
    std::size_t e = i;
    while (e < n && !is_space(static_cast<unsigned char>(text[e])) && !is_hard_punct(text[e]))
      ++e;
    // A run of '!' ("!!") is a word of its own; so is "every!".
    std::size_t w = e;
    const std::string_view run = low.substr(i, e - i);
    if (run.find_first_not_of('!') != std::string_view::npos && run != "every!") {
      while (w > i + 1 && is_soft_punct(text[w - 1]))
        --w;
    }
    // Leading quote or colon: its own token.
    std::size_t s = i;
    while (s + 1 < w && (text[s] == '\'' || text[s] == ':')) {
      push(s, s + 1, true);
      ++s;
    }
    push(s, w, false);
    for (std::size_t p = w; p < e; ++p)
      push(p, p + 1, true);
    i = e;
  }
}

}  // namespace todo::chat::detail
