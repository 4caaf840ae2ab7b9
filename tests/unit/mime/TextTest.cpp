// UTF-8 helpers and RFC 2047 decoding (mime/Text.h).
#include "mime/Text.h"

#include <gtest/gtest.h>

using namespace plexus::mime;

TEST(Text, DecodeHeaderValue)
{
    EXPECT_EQ(decodeHeaderValue("=?UTF-8?Q?R=C3=A9sultats?="), "R\xC3\xA9sultats");
    EXPECT_EQ(decodeHeaderValue("=?iso-8859-1?q?caf=E9_cr=E8me?="), "caf\xC3\xA9 cr\xC3\xA8me");
    EXPECT_EQ(decodeHeaderValue("=?ISO-8859-1?B?SPRwaXRhbCDJZG91YXJkIEhlcnJpb3Q=?="),
              "H\xC3\xB4pital \xC3\x89" "douard Herriot");
    // RFC 2047 §6.2: white space between adjacent encoded-words is dropped.
    EXPECT_EQ(decodeHeaderValue("=?UTF-8?Q?Comp?= =?UTF-8?Q?te_rendu?="), "Compte rendu");
    EXPECT_EQ(decodeHeaderValue("Re: =?UTF-8?B?xZJkw6htZQ==?= du patient"), "Re: \xC5\x92" "d\xC3\xA8me du patient");
    EXPECT_EQ(decodeHeaderValue("plain text"), "plain text");
    EXPECT_EQ(decodeHeaderValue(""), "");
    // Malformed words are kept as written.
    EXPECT_EQ(decodeHeaderValue("a =?broken b"), "a =?broken b");
    EXPECT_EQ(decodeHeaderValue("=?x"), "=?x");
    // Raw 8-bit text: UTF-8 kept, anything else read as Latin-1.
    EXPECT_EQ(decodeHeaderValue("R\xC3\xA9sultats"), "R\xC3\xA9sultats");
    EXPECT_EQ(decodeHeaderValue("\xE9t\xE9"), "\xC3\xA9t\xC3\xA9");
}

TEST(Text, Utf8Validation)
{
    EXPECT_TRUE(isValidUtf8("R\xC3\xA9sultats \xF0\x9F\x98\x80"));
    EXPECT_FALSE(isValidUtf8("\xC0\xAF"));          // overlong "/"
    EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(isValidUtf8("\xE9t\xE9"));
    EXPECT_EQ(keepValidUtf8("a\xFF" "b\xC3\xA9"), "ab\xC3\xA9");
    std::string out;
    appendUtf8(out, 0x1F600);
    appendUtf8(out, U'\u00E9');
    EXPECT_EQ(out, "\xF0\x9F\x98\x80\xC3\xA9");
}
