// Text helpers for input validation.
#include "todo/core/text.hpp"

#include <locale.h>
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <wctype.h>

#include <cctype>

namespace todo {

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

namespace {

// The code point starting at s[i] and its length in bytes; false when it is not well-formed UTF-8 (an
// overlong form, a surrogate, above U+10FFFF, a stray or missing continuation byte).
bool decode_utf8(std::string_view s, std::size_t i, char32_t& cp, std::size_t& len) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    cp = c;
    len = 1;
    return true;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return false;
  }
  if (i + len > s.size()) return false;
  for (std::size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
  return cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
}

}  // namespace

bool valid_utf8(std::string_view s) {
  char32_t cp;
  for (std::size_t i = 0, len = 0; i < s.size(); i += len)
    if (!decode_utf8(s, i, cp, len)) return false;
  return true;
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

bool has_control_chars(std::string_view s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return true;
  return false;
}

namespace {

// The code point at s[i] of valid UTF-8, and its length in bytes (one byte, as is, if it is not valid).
char32_t decode_at(std::string_view s, std::size_t i, std::size_t& len) {
  char32_t cp;
  if (!decode_utf8(s, i, cp, len)) {
    len = 1;
    return static_cast<unsigned char>(s[i]);
  }
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Unicode's White_Space property (PropList.txt).
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool is_control(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

// Unicode's format characters (general category Cf), the fillers and blanks that render as nothing (Hangul
// fillers, the braille blank, the combining grapheme joiner) and the variation selectors.
bool is_invisible_format(char32_t c) {
  return c == 0xAD || c == 0x34F || (c >= 0x600 && c <= 0x605) || c == 0x61C || c == 0x6DD || c == 0x70F ||
         c == 0x890 || c == 0x891 || c == 0x8E2 || c == 0x115F || c == 0x1160 || c == 0x17B4 || c == 0x17B5 ||
         (c >= 0x180B && c <= 0x180F) || (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x206F) || c == 0x2800 || c == 0x3164 ||
         (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF || c == 0xFFA0 || (c >= 0xFFF9 && c <= 0xFFFB) ||
         c == 0x110BD || c == 0x110CD || (c >= 0x13430 && c <= 0x1343F) || (c >= 0x1BCA0 && c <= 0x1BCA3) ||
         (c >= 0x1D173 && c <= 0x1D17A) || (c >= 0xE0000 && c <= 0xE0FFF);
}

template <class Pred>
bool any_code_point(std::string_view s, Pred pred) {
  for (std::size_t i = 0, len = 0; i < s.size(); i += len)
    if (pred(decode_at(s, i, len))) return true;
  return false;
}

}  // namespace

std::string_view trim_unicode(std::string_view s) {
  std::size_t len = 0;
  while (!s.empty() && is_white_space(decode_at(s, 0, len)))
    s.remove_prefix(len);
  while (!s.empty()) {
    std::size_t start = s.size() - 1;  // the last code point's first byte
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80)
      --start;
    if (!is_white_space(decode_at(s, start, len))) break;
    s = s.substr(0, start);
  }
  return s;
}

bool has_any_control_char(std::string_view s) {
  return any_code_point(s, is_control);
}

std::string collapse_space(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool gap = false;
  for (std::size_t i = 0, len = 0; i < s.size(); i += len) {
    const char32_t cp = decode_at(s, i, len);
    if (is_white_space(cp) || is_control(cp)) {
      if (!gap) out += ' ';
      gap = true;
    } else {
      out.append(s.substr(i, len));
      gap = false;
    }
  }
  return out;
}

bool has_unicode_space(std::string_view s) {
  return any_code_point(s, is_white_space);
}

bool is_one_line(std::string_view s) {
  return !any_code_point(s, [](char32_t c) { return is_control(c) || c == 0x2028 || c == 0x2029; });
}

bool has_invisible_format_char(std::string_view s) {
  return any_code_point(s, is_invisible_format);
}

bool has_visible_char(std::string_view s) {
  return any_code_point(
      s, [](char32_t c) { return !is_white_space(c) && !is_control(c) && !is_invisible_format(c); });
}

bool has_invisible_separator(std::string_view s) {
  // The invisible formatting characters except those that shape what is around them: the zero-width
  // (non-)joiner (emoji sequences, Persian and Indic words), the variation selectors and the tag characters
  // (emoji presentation, flags of regions).
  return any_code_point(s, [](char32_t c) {
    return is_invisible_format(c) && c != 0x200C && c != 0x200D && !(c >= 0xFE00 && c <= 0xFE0F) &&
           !(c >= 0xE0020 && c <= 0xE007F) && !(c >= 0xE0100 && c <= 0xE01EF);
  });
}

std::vector<std::string_view> split_unicode(std::string_view s, std::string_view ascii_separators) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  auto add = [&](std::size_t end) {
    if (end > start) parts.push_back(s.substr(start, end - start));
  };
  for (std::size_t i = 0, len = 0; i < s.size(); i += len) {
    const char32_t cp = decode_at(s, i, len);
    if (is_white_space(cp) || is_control(cp) ||
        (cp < 0x80 && ascii_separators.find(static_cast<char>(cp)) != std::string_view::npos)) {
      add(i);
      start = i + len;
    }
  }
  add(s.size());
  return parts;
}

namespace {

// glibc's C.UTF-8 (built in since 2.35): Unicode's character classes and simple case mappings. Null when
// missing, and then only ASCII is classified and mapped.
locale_t utf8_locale() {
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return utf8;
}

}  // namespace

std::vector<std::string_view> unicode_words(std::string_view s) {
  const locale_t utf8 = utf8_locale();
  static const wctype_t combining =
      utf8 != static_cast<locale_t>(nullptr) ? wctype_l("combining", utf8) : wctype_t{};
  std::vector<std::string_view> words;
  std::size_t start = std::string_view::npos;
  std::size_t i = 0;
  for (std::size_t len = 0; i < s.size(); i += len) {
    const char32_t cp = decode_at(s, i, len);
    // A combining mark (Devanagari's virama, an accent) continues a word but starts none, as in PostgreSQL's
    // parser, which keeps zero-width characters inside a word.
    const bool in_word = cp < 0x80 ? (std::isalnum(static_cast<int>(cp)) != 0)
                                   : utf8 != static_cast<locale_t>(nullptr) &&
                                         (iswalnum_l(static_cast<wint_t>(cp), utf8) != 0 ||
                                          (start != std::string_view::npos && combining != 0 &&
                                           iswctype_l(static_cast<wint_t>(cp), combining, utf8) != 0));
    if (in_word && start == std::string_view::npos) start = i;
    if (!in_word && start != std::string_view::npos) {
      words.push_back(s.substr(start, i - start));
      start = std::string_view::npos;
    }
  }
  if (start != std::string_view::npos) words.push_back(s.substr(start));
  return words;
}

std::string lower_unicode(std::string_view s) {
  const locale_t utf8 = utf8_locale();
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0, len = 0; i < s.size(); i += len) {
    char32_t cp = decode_at(s, i, len);
    if (cp >= 'A' && cp <= 'Z')
      cp += 'a' - 'A';
    else if (cp >= 0x80 && utf8 != static_cast<locale_t>(nullptr))
      cp = static_cast<char32_t>(towlower_l(static_cast<wint_t>(cp), utf8));
    append_utf8(out, cp);
  }
  return out;
}

namespace {

// `s` in the form of ICU's normaliser `n` (fetched with `err`), without a copy being normalised when it is
// already in that form.
std::string normalized(const icu::Normalizer2* n, UErrorCode err, std::string_view s, const char* form) {
  if (U_FAILURE(err)) throw std::runtime_error(std::string("ICU ") + form + ": " + u_errorName(err));
  const icu::StringPiece in(s.data(), static_cast<std::int32_t>(s.size()));
  if (n->isNormalizedUTF8(in, err) && U_SUCCESS(err)) return std::string(s);
  err = U_ZERO_ERROR;
  std::string out;
  icu::StringByteSink<std::string> sink(&out);
  n->normalizeUTF8(0, in, sink, nullptr, err);
  if (U_FAILURE(err)) throw std::runtime_error(std::string("ICU ") + form + ": " + u_errorName(err));
  return out;
}

}  // namespace

std::string nfc(std::string_view s) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(err);
  return normalized(n, err, s, "NFC");
}

std::string nfd(std::string_view s) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFDInstance(err);
  return normalized(n, err, s, "NFD");
}

}  // namespace todo
