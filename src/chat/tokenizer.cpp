// A hand-written tokenizer over string_view: white space (ASCII or Unicode) separates, some punctuation
// stands alone.
#include "tokenizer.hpp"

namespace todo::chat::detail {
namespace {

// The bytes of a separator at `i`: ASCII white space and controls (one byte), or a UTF-8 encoded Unicode
// white space character (White_Space: U+0085, no-break space, U+1680, U+2000–U+200A, the line and paragraph
// separators U+2028/U+2029, U+202F, U+205F, U+3000) or C1 control (U+0080–U+009F); 0 when none starts there.
std::size_t space_at(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0U; };
  const unsigned c = b(i);
  if (c <= ' ' || c == 0x7f) return 1;
  if (c == 0xC2 && ((b(i + 1) >= 0x80 && b(i + 1) <= 0x9F) || b(i + 1) == 0xA0)) return 2;
  if (c == 0xE1 && b(i + 1) == 0x9A && b(i + 2) == 0x80) return 3;  // U+1680
  if (c == 0xE2 && b(i + 1) == 0x80) {
    const unsigned d = b(i + 2);
    if ((d >= 0x80 && d <= 0x8A) || d == 0xA8 || d == 0xA9 || d == 0xAF)
      return 3;  // U+2000–200A, 2028/9, 202F
  }
  if (c == 0xE2 && b(i + 1) == 0x81 && b(i + 2) == 0x9F) return 3;  // U+205F
  if (c == 0xE3 && b(i + 1) == 0x80 && b(i + 2) == 0x80) return 3;  // U+3000
  return 0;
}

// Always a token of its own.
bool is_hard_punct(char c) {
  return c == ',' || c == ';' || c == '?' || c == '(' || c == ')' || c == '[' || c == ']' || c == '"';
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
    if (const std::size_t sp = space_at(text, i)) {
      i += sp;
      continue;
    }
    if (is_hard_punct(c)) {
      push(i, i + 1, true);
      ++i;
      continue;
    }
    std::size_t e = i;
    while (e < n && space_at(text, e) == 0 && !is_hard_punct(text[e]))
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
