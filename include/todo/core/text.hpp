// Small text helpers for validating user input (UTF-8 aware where lengths are user-visible).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace todo {

/// Without leading and trailing ASCII white space.
std::string_view trim(std::string_view s);
/// ASCII letters lower-cased; other bytes unchanged.
std::string lower_ascii(std::string_view s);
/// Well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view s);
/// Code points in valid UTF-8.
std::size_t utf8_length(std::string_view s);
/// Contains a control character other than tab, newline and carriage return.
bool has_control_chars(std::string_view s);

// The helpers below take valid UTF-8 (check with valid_utf8() first).

/// Without leading and trailing Unicode white space (the White_Space property: ASCII's, U+0085, no-break
/// space, the U+2000 block's spaces, ideographic space, …).
std::string_view trim_unicode(std::string_view s);
/// Contains a Unicode control character (general category Cc: U+0000–U+001F, U+007F–U+009F), tab, newline
/// and carriage return included.
bool has_any_control_char(std::string_view s);
/// Each run of Unicode white space and control characters (tabs, line and paragraph breaks) as one space.
std::string collapse_space(std::string_view s);
/// Contains a Unicode white space character (see trim_unicode()).
bool has_unicode_space(std::string_view s);
/// No control character (tab, newline, carriage return, C1's U+0085 included) and no line or paragraph
/// separator (U+2028, U+2029): what is shown on one line.
bool is_one_line(std::string_view s);
/// Contains an invisible formatting character: soft hyphen, zero-width spaces and joiners, direction marks,
/// embeddings, overrides and isolates, word joiner, byte order mark, interlinear annotation.
bool has_invisible_format_char(std::string_view s);
/// Contains something that shows: a code point that is no white space, control or invisible formatting
/// character.
bool has_visible_char(std::string_view s);
/// Contains an invisible formatting character that separates or reorders rather than shapes: those of
/// has_invisible_format_char() except the zero-width (non-)joiner, variation selectors and tag characters,
/// which emoji sequences and some scripts need.
bool has_invisible_separator(std::string_view s);
/// The non-empty parts of `s` between Unicode white space, control characters and the ASCII characters in
/// `ascii_separators`.
std::vector<std::string_view> split_unicode(std::string_view s, std::string_view ascii_separators);
/// Unicode Normalization Form C (ICU): "e" + U+0301 and "é" are one spelling, as most keyboards type it.
/// Text that is already NFC (all ASCII, say) comes back unchanged without a copy being normalised. `s` must
/// be valid UTF-8.
std::string nfc(std::string_view s);
/// Canonical decomposition (NFD: "é" → "e" + U+0301), the other spelling of text some systems store; as
/// nfc().
std::string nfd(std::string_view s);
/// Each code point lower-cased by its simple Unicode mapping ("ÉCOLE" → "école", "ПРИВЕТ" → "привет";
/// no locale-specific rules, so "İ" → "i"), as glibc's C.UTF-8 locale maps them.
std::string lower_unicode(std::string_view s);
/// The runs of letters and digits (by glibc's C.UTF-8 classes, as PostgreSQL's text search parser reads them
/// in a C.UTF-8 database; a combining mark, such as Devanagari's virama, continues a word): "Buy milk!"
/// →
/// {"Buy", "milk"}; an emoji or a zero-width space separates words and is none.
std::vector<std::string_view> unicode_words(std::string_view s);

}  // namespace todo
