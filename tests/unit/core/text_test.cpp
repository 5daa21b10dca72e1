// Tests of the text helpers used by input validation: trimming, lower-casing and UTF-8 checks.
#include "todo/core/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace todo {
namespace {

std::string bytes(std::initializer_list<unsigned> list) {
  std::string out;
  for (unsigned b : list)
    out += static_cast<char>(b);
  return out;
}

TEST(Trim, RemovesAsciiWhiteSpaceAtBothEnds) {
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("   "), "");
  EXPECT_EQ(trim(" \t\r\n\f\v"), "");
  EXPECT_EQ(trim("a"), "a");
  EXPECT_EQ(trim("  a  "), "a");
  EXPECT_EQ(trim("\t\r\n\f\va b\v\f\n\r\t"), "a b");
  EXPECT_EQ(trim(" a  b "), "a  b") << "inner white space stays";
  EXPECT_EQ(trim("x "), "x");
  EXPECT_EQ(trim(" x"), "x");
}

TEST(Trim, LeavesOtherBytesAlone) {
  EXPECT_EQ(trim("\xc2\xa0x\xc2\xa0"), "\xc2\xa0x\xc2\xa0") << "no-break space is not ASCII white space";
  EXPECT_EQ(trim(std::string_view("\0x\0", 3)), std::string_view("\0x\0", 3));
  EXPECT_EQ(trim("\x1fx"), "\x1fx");
}

TEST(Trim, ReturnsAViewIntoTheInput) {
  const std::string s = "  abc  ";
  const std::string_view t = trim(s);
  EXPECT_EQ(t.data(), s.data() + 2);
  EXPECT_EQ(t.size(), 3u);
}

TEST(Nfc, ComposesWhatHasAComposedForm) {
  EXPECT_EQ(nfc("Cafe\u0301"), "Caf\u00e9");
  EXPECT_EQ(nfc("Caf\u00e9"), "Caf\u00e9");
  EXPECT_EQ(nfc("\u1100\u1161"), "\uAC00") << "Hangul jamo";
  EXPECT_EQ(nfc("A\u030A"), "\u00C5");
  EXPECT_EQ(nfc("\u212B"), "\u00C5") << "the Angstrom sign is a canonical duplicate";
  EXPECT_EQ(nfc("q\u0307\u0323"), "q\u0323\u0307") << "combining marks in canonical order";
  EXPECT_EQ(nfc("plain ascii"), "plain ascii");
  EXPECT_EQ(nfc(""), "");
  EXPECT_EQ(nfc("\U0001F468\u200D\U0001F469"), "\U0001F468\u200D\U0001F469");
  EXPECT_EQ(nfc("\uFB01"), "\uFB01") << "compatibility forms (the fi ligature) stay: that is NFKC";
}

TEST(LowerAscii, OnlyAsciiLetters) {
  EXPECT_EQ(lower_ascii(""), "");
  EXPECT_EQ(lower_ascii("ABC xyz 123 @[`{"), "abc xyz 123 @[`{");
  EXPECT_EQ(lower_ascii("AZaz"), "azaz");
  EXPECT_EQ(lower_ascii("ÄÖÜ Straße"), "ÄÖÜ straße") << "non-ASCII bytes are unchanged";
  EXPECT_EQ(lower_ascii(std::string_view("A\0B", 3)), std::string("a\0b", 3));
  EXPECT_EQ(lower_ascii("\xff\xc0"), "\xff\xc0");
}

TEST(ValidUtf8, AcceptsWellFormedText) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ASCII"));
  EXPECT_TRUE(valid_utf8(std::string_view("\0", 1)));
  EXPECT_TRUE(valid_utf8("é"));
  EXPECT_TRUE(valid_utf8("€"));
  EXPECT_TRUE(valid_utf8("😀"));
  EXPECT_TRUE(valid_utf8("Grüße, 日本語, 😀!"));
}

TEST(ValidUtf8, AcceptsEachLengthBoundary) {
  EXPECT_TRUE(valid_utf8(bytes({0x7F})));                    // U+007F
  EXPECT_TRUE(valid_utf8(bytes({0xC2, 0x80})));              // U+0080
  EXPECT_TRUE(valid_utf8(bytes({0xDF, 0xBF})));              // U+07FF
  EXPECT_TRUE(valid_utf8(bytes({0xE0, 0xA0, 0x80})));        // U+0800
  EXPECT_TRUE(valid_utf8(bytes({0xED, 0x9F, 0xBF})));        // U+D7FF, just below the surrogates
  EXPECT_TRUE(valid_utf8(bytes({0xEE, 0x80, 0x80})));        // U+E000, just above them
  EXPECT_TRUE(valid_utf8(bytes({0xEF, 0xBF, 0xBF})));        // U+FFFF
  EXPECT_TRUE(valid_utf8(bytes({0xF0, 0x90, 0x80, 0x80})));  // U+10000
  EXPECT_TRUE(valid_utf8(bytes({0xF4, 0x8F, 0xBF, 0xBF})));  // U+10FFFF
  EXPECT_TRUE(valid_utf8(bytes({0xEF, 0xBB, 0xBF})));        // BOM is a code point like any other
}

TEST(ValidUtf8, RejectsOverlongForms) {
  EXPECT_FALSE(valid_utf8(bytes({0xC0, 0x80})));              // NUL in two bytes
  EXPECT_FALSE(valid_utf8(bytes({0xC0, 0xAF})));              // '/'
  EXPECT_FALSE(valid_utf8(bytes({0xC1, 0xBF})));              // U+007F
  EXPECT_FALSE(valid_utf8(bytes({0xE0, 0x80, 0x80})));        // NUL in three bytes
  EXPECT_FALSE(valid_utf8(bytes({0xE0, 0x80, 0xAF})));        // '/'
  EXPECT_FALSE(valid_utf8(bytes({0xE0, 0x9F, 0xBF})));        // U+07FF
  EXPECT_FALSE(valid_utf8(bytes({0xF0, 0x80, 0x80, 0x80})));  // NUL in four bytes
  EXPECT_FALSE(valid_utf8(bytes({0xF0, 0x80, 0x80, 0xAF})));  // '/'
  EXPECT_FALSE(valid_utf8(bytes({0xF0, 0x8F, 0xBF, 0xBF})));  // U+FFFF
}

TEST(ValidUtf8, RejectsSurrogates) {
  EXPECT_FALSE(valid_utf8(bytes({0xED, 0xA0, 0x80})));                    // U+D800
  EXPECT_FALSE(valid_utf8(bytes({0xED, 0xAD, 0xBF})));                    // U+DB7F
  EXPECT_FALSE(valid_utf8(bytes({0xED, 0xB0, 0x80})));                    // U+DC00
  EXPECT_FALSE(valid_utf8(bytes({0xED, 0xBF, 0xBF})));                    // U+DFFF
  EXPECT_FALSE(valid_utf8(bytes({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80})));  // a CESU-8 pair for 😀
}

TEST(ValidUtf8, RejectsCodePointsAboveTheMaximum) {
  EXPECT_FALSE(valid_utf8(bytes({0xF4, 0x90, 0x80, 0x80})));  // U+110000
  EXPECT_FALSE(valid_utf8(bytes({0xF5, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(valid_utf8(bytes({0xF7, 0xBF, 0xBF, 0xBF})));
  EXPECT_FALSE(valid_utf8(bytes({0xF8, 0x88, 0x80, 0x80, 0x80})));  // old 5-byte form
  EXPECT_FALSE(valid_utf8(bytes({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(valid_utf8(bytes({0xFE})));
  EXPECT_FALSE(valid_utf8(bytes({0xFF})));
}

TEST(ValidUtf8, RejectsStrayContinuationBytes) {
  EXPECT_FALSE(valid_utf8(bytes({0x80})));
  EXPECT_FALSE(valid_utf8(bytes({0xBF})));
  EXPECT_FALSE(valid_utf8("a\x80z"));
  EXPECT_FALSE(valid_utf8(bytes({0xC3, 0xA9, 0xA9})));  // é plus one continuation byte too many
}

TEST(ValidUtf8, RejectsTruncatedSequences) {
  EXPECT_FALSE(valid_utf8(bytes({0xC3})));
  EXPECT_FALSE(valid_utf8(bytes({0xE2, 0x82})));
  EXPECT_FALSE(valid_utf8(bytes({0xE2})));
  EXPECT_FALSE(valid_utf8(bytes({0xF0, 0x9F, 0x98})));
  EXPECT_FALSE(valid_utf8(bytes({0xF0, 0x9F})));
  EXPECT_FALSE(valid_utf8(bytes({0xF0})));
  EXPECT_FALSE(valid_utf8("milk \xc3")) << "cut at the end";
  EXPECT_FALSE(valid_utf8("\xc3(")) << "followed by ASCII";
  EXPECT_FALSE(valid_utf8("\xe2\x82(")) << "followed by ASCII";
  EXPECT_FALSE(valid_utf8("\xf0\x9f\x98(")) << "followed by ASCII";
  EXPECT_FALSE(valid_utf8("\xe2\x82\xc3\xa9")) << "followed by another sequence";
  // Every proper prefix of a multi-byte character is invalid.
  const std::string emoji = "😀";
  for (std::size_t n = 1; n < emoji.size(); ++n)
    EXPECT_FALSE(valid_utf8(emoji.substr(0, n))) << n;
}

TEST(Utf8Length, CountsCodePoints) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("é"), 1u);
  EXPECT_EQ(utf8_length("€"), 1u);
  EXPECT_EQ(utf8_length("😀"), 1u);
  EXPECT_EQ(utf8_length("Grüße 😀!"), 8u);
  EXPECT_EQ(utf8_length("日本語"), 3u);
  EXPECT_EQ(utf8_length(std::string_view("a\0b", 3)), 3u);
  EXPECT_EQ(utf8_length("e\xcc\x81"), 2u) << "a combining accent is its own code point";
}

TEST(HasControlChars, AllowsTabNewlineAndCarriageReturn) {
  EXPECT_FALSE(has_control_chars(""));
  EXPECT_FALSE(has_control_chars("plain text, punctuation!?"));
  EXPECT_FALSE(has_control_chars("tab\there"));
  EXPECT_FALSE(has_control_chars("line\nbreak\r\n"));
  EXPECT_FALSE(has_control_chars("Grüße 😀"));
  EXPECT_FALSE(has_control_chars(" ~"));
}

TEST(HasControlChars, FindsTheOthers) {
  for (unsigned c = 0; c < 0x20; ++c) {
    if (c == '\t' || c == '\n' || c == '\r') continue;
    EXPECT_TRUE(has_control_chars("a" + std::string(1, static_cast<char>(c)) + "z")) << c;
  }
  EXPECT_TRUE(has_control_chars("\x7f"));
  EXPECT_TRUE(has_control_chars(std::string_view("\0", 1)));
  EXPECT_TRUE(has_control_chars("end\x1b"));
  EXPECT_TRUE(has_control_chars("\x1b[31mred"));
}

TEST(TrimUnicode, RemovesUnicodeWhiteSpaceAtBothEnds) {
  EXPECT_EQ(trim_unicode("\u00a0 x\u00a0 \u3000"), "x");
  EXPECT_EQ(trim_unicode("\u2003\u0085a b\u202f"), "a b");
  EXPECT_EQ(trim_unicode("\u00a0\u3000"), "");
  EXPECT_EQ(trim_unicode("é"), "é");
  EXPECT_EQ(trim_unicode("\u200bx"), "\u200bx");  // a zero-width space is not white space
  EXPECT_EQ(trim_unicode(""), "");
}

TEST(HasAnyControlChar, FindsC0C1AndLineBreaks) {
  for (const char* s : {"a\tb", "a\nb", "a\rb", "\u0085", "\u009f", "\x7f"})
    EXPECT_TRUE(has_any_control_char(s)) << s;
  EXPECT_FALSE(has_any_control_char("Grüße 😀 \u00a0\u00a1"));
}

TEST(HasUnicodeSpace, FindsEveryWhiteSpace) {
  for (const char* s : {"a b", "a\u00a0b", "a\u3000b", "a\u2009b", "\u1680"})
    EXPECT_TRUE(has_unicode_space(s)) << s;
  EXPECT_FALSE(has_unicode_space("a\u200bb-c_d"));
}

TEST(LowerUnicode, LowerCasesEveryScriptByItsSimpleMapping) {
  EXPECT_EQ(lower_unicode("ÉCOLE"), "école");
  EXPECT_EQ(lower_unicode("ПРИВЕТ мир"), "привет мир");
  EXPECT_EQ(lower_unicode("ΣΟΦΙΑ"), "σοφια");
  EXPECT_EQ(lower_unicode("ẞ"), "ß");
  EXPECT_EQ(lower_unicode("İ"), "i");
  EXPECT_EQ(lower_unicode("\U00010400"), "\U00010428");  // Deseret: four bytes each way
  EXPECT_EQ(lower_unicode("ABC-123 日本"), "abc-123 日本");
}

TEST(IsOneLine, RefusesControlsAndLineSeparators) {
  EXPECT_TRUE(is_one_line("Grüße 😀 a\u00a0b \u200d"));
  for (const char* s : {"a\nb", "a\rb", "a\tb", "a\u0085b", "a\u009fb", "a\u2028b", "a\u2029b", "\x7f"})
    EXPECT_FALSE(is_one_line(s)) << s;
}

TEST(HasInvisibleFormatChar, FindsZeroWidthAndDirectionCharacters) {
  for (const char* s : {"a\u200bb", "a\u200db", "\u200e", "\u202e", "\u2066x", "\ufeff", "soft\u00adhyphen",
                        "\u2060", "x\u061c", "\u180e", "\U000E0020", "\U000E0041", "\U0001D173", "\u034f",
                        "\u3164", "\u115f", "\ufe0f", "\u2800", "\U000E0100"})
    EXPECT_TRUE(has_invisible_format_char(s)) << s;
  EXPECT_FALSE(has_invisible_format_char("plain Ünïcode 日本 😀"));
}

TEST(SplitUnicode, CutsAtSpacesControlsAndTheGivenCharacters) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(split_unicode("  a\u00a0b\u3000c\td  ", ""), (V{"a", "b", "c", "d"}));
  EXPECT_EQ(split_unicode("x,y;;z", ",;"), (V{"x", "y", "z"}));
  EXPECT_EQ(split_unicode("3.14 file.txt", ","), (V{"3.14", "file.txt"}));
  EXPECT_EQ(split_unicode("", ","), V{});
  EXPECT_EQ(split_unicode(",,,", ","), V{});
}

}  // namespace
}  // namespace todo
