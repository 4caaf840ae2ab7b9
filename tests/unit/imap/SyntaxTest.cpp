#include "imap/MailboxName.h"
#include "imap/ResponseSyntax.h"
#include "imap/SequenceSet.h"

#include <gtest/gtest.h>

using namespace plexus::imap;

// --- ResponseSyntax ---

TEST(SyntaxResponse, QuotesPlainTextAndEscapesSpecials)
{
    EXPECT_EQ(imapString("hello world"), "\"hello world\"");
    EXPECT_EQ(imapString(""), "\"\"");
    EXPECT_EQ(imapString(R"(say "hi" \ bye)"), R"("say \"hi\" \\ bye")");
}

TEST(SyntaxResponse, UsesLiteralsWhenQuotingIsImpossible)
{
    EXPECT_EQ(imapString("a\r\nb"), "{4}\r\na\r\nb");
    EXPECT_EQ(imapString("caf\xC3\xA9"), "{5}\r\ncaf\xC3\xA9");
    EXPECT_EQ(imapString(std::string_view("a\0b", 3)), std::string("{3}\r\na\0b", 8));
    EXPECT_EQ(imapString(std::string(1024, 'x')), "\"" + std::string(1024, 'x') + "\"");
    EXPECT_EQ(imapString(std::string(1025, 'x')), "{1025}\r\n" + std::string(1025, 'x'));
}

TEST(SyntaxResponse, NStrings)
{
    EXPECT_EQ(imapNString(std::nullopt), "NIL");
    EXPECT_EQ(imapNString(std::string_view("")), "\"\"");
    EXPECT_EQ(imapNString(std::string_view("x")), "\"x\"");
    EXPECT_EQ(imapNStringOrNil(""), "NIL");
    EXPECT_EQ(imapNStringOrNil("Subject"), "\"Subject\"");
}

TEST(SyntaxResponse, AStringIsBareOnlyForSafeAtoms)
{
    EXPECT_EQ(imapAString("INBOX"), "INBOX");
    EXPECT_EQ(imapAString("Sent.2024-01_x@y&AOk-"), "Sent.2024-01_x@y&AOk-");
    EXPECT_EQ(imapAString("Sent Items"), "\"Sent Items\"");
    EXPECT_EQ(imapAString(""), "\"\"");
    EXPECT_EQ(imapAString("NIL"), "\"NIL\"");
    EXPECT_EQ(imapAString("nil"), "\"nil\"");
    EXPECT_EQ(imapAString("a%b"), "\"a%b\"");
    EXPECT_EQ(imapAString("a*"), "\"a*\"");
    EXPECT_EQ(imapAString("a]"), "\"a]\"");
    EXPECT_EQ(imapAString("(x)"), "\"(x)\"");
    EXPECT_EQ(imapAString("{3}"), "\"{3}\"");
    EXPECT_EQ(imapAString("a\"b"), "\"a\\\"b\"");
}

TEST(SyntaxDateTime, WritesSpacePaddedDayInUtc)
{
    EXPECT_EQ(imapDateTime(0), "\" 1-Jan-1970 00:00:00 +0000\"");
    EXPECT_EQ(imapDateTime(1700000000), "\"14-Nov-2023 22:13:20 +0000\"");
    EXPECT_EQ(imapDateTime(951782400), "\"29-Feb-2000 00:00:00 +0000\"");
}

TEST(SyntaxDateTime, ParsesDayFormsAndZones)
{
    EXPECT_EQ(parseImapDateTime(" 1-Jan-1970 00:00:00 +0000"), 0);
    EXPECT_EQ(parseImapDateTime("01-Jan-1970 00:00:00 +0000"), 0);
    EXPECT_EQ(parseImapDateTime("1-jan-1970 00:00:00 +0000"), 0);
    EXPECT_EQ(parseImapDateTime("14-Nov-2023 23:13:20 +0100"), 1700000000);
    EXPECT_EQ(parseImapDateTime("14-NOV-2023 17:13:20 -0500"), 1700000000);
    EXPECT_EQ(parseImapDateTime("14-Nov-2023 22:43:20 +0030"), 1700000000);
    EXPECT_EQ(parseImapDateTime("31-Dec-1969 23:00:00 -0100"), 0);
}

TEST(SyntaxDateTime, RejectsMalformedOrOutOfRange)
{
    for (const char* text : {"", "14-Nov-2023 22:13:20", "14-Nov-2023 22:13:20 0000", "14-Nov-2023 22:13:20 +000",
                             "14-Nov-2023 22:13:20 +0000 ", "14-Nov-2023 22:13 +0000", "14-Nov-23 22:13:20 +0000",
                             "14-Foo-2023 22:13:20 +0000", "31-Feb-2023 00:00:00 +0000", "32-Jan-2023 00:00:00 +0000",
                             "0-Jan-2023 00:00:00 +0000", "14-Nov-2023 24:00:00 +0000", "14-Nov-2023 23:60:00 +0000",
                             "14-Nov-2023 23:00:60 +0000", "14-Nov-2023 23:00:00 +2400", "14-Nov-2023 23:00:00 +0060",
                             "  1-Jan-1970 00:00:00 +0000", "114-Nov-2023 22:13:20 +0000", "14 Nov 2023 22:13:20 +0000"})
        EXPECT_EQ(parseImapDateTime(text), std::nullopt) << text;
}

TEST(SyntaxDateTime, RoundTripsThroughItsWrittenForm)
{
    for (const std::int64_t t : {0LL, 86399LL, 951868799LL, 1700000000LL, 4102444799LL}) {
        const std::string written = imapDateTime(t);
        EXPECT_EQ(parseImapDateTime(std::string_view(written).substr(1, written.size() - 2)), t) << written;
    }
}

TEST(SyntaxDate, ParsesSearchDatesAsMidnightUtc)
{
    EXPECT_EQ(parseImapDate("1-Feb-2024"), 1706745600);
    EXPECT_EQ(parseImapDate("01-feb-2024"), 1706745600);
    EXPECT_EQ(parseImapDate("29-Feb-2024"), 1709164800);
    EXPECT_EQ(parseImapDate("29-Feb-2023"), std::nullopt);
    EXPECT_EQ(parseImapDate("1-Feb-24"), std::nullopt);
    EXPECT_EQ(parseImapDate("1-Febr-2024"), std::nullopt);
    EXPECT_EQ(parseImapDate(" 1-Feb-2024"), std::nullopt);
    EXPECT_EQ(parseImapDate("1-Feb-2024 "), std::nullopt);
    EXPECT_EQ(parseImapDate(""), std::nullopt);
}

// --- SequenceSet ---

TEST(SequenceSet, ParsesRangesAndStar)
{
    const auto set = SequenceSet::parse("1:4,7,10:*");
    ASSERT_TRUE(set);
    EXPECT_TRUE(set->usesStar());
    EXPECT_TRUE(set->contains(1, 20));
    EXPECT_TRUE(set->contains(4, 20));
    EXPECT_FALSE(set->contains(5, 20));
    EXPECT_TRUE(set->contains(7, 20));
    EXPECT_FALSE(set->contains(9, 20));
    EXPECT_TRUE(set->contains(20, 20));
    EXPECT_FALSE(set->contains(21, 20));
    using Ranges = std::vector<std::pair<std::uint32_t, std::uint32_t>>;
    EXPECT_EQ(set->resolve(20), (Ranges{{1, 4}, {7, 7}, {10, 20}}));
    EXPECT_EQ(set->resolve(5), (Ranges{{1, 4}, {7, 7}, {5, 10}}));
}

TEST(SequenceSet, RangesAreUnordered)
{
    const auto set = SequenceSet::parse("4:2");
    ASSERT_TRUE(set);
    EXPECT_FALSE(set->usesStar());
    EXPECT_TRUE(set->contains(3, 10));
    EXPECT_FALSE(set->contains(5, 10));
    EXPECT_EQ(set->resolve(10), (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{2, 4}}));
}

TEST(SequenceSet, StarMatchesNothingInAnEmptyMailbox)
{
    const auto set = SequenceSet::parse("*,1:*,3");
    ASSERT_TRUE(set);
    EXPECT_FALSE(set->contains(1, 0));
    EXPECT_TRUE(set->contains(3, 0));
    EXPECT_EQ(set->resolve(0), (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{3, 3}}));
    EXPECT_TRUE(SequenceSet::parse("*")->contains(9, 9));
    EXPECT_FALSE(SequenceSet::parse("*")->contains(8, 9));
}

TEST(SequenceSet, RejectsMalformedSets)
{
    for (const char* text : {"", "0", "1:0", "0:3", "1,,2", ",1", "1,", "a", "1:", ":1", "1:2:3", "1 2", "01", "-1",
                             "4294967296", "1:4294967296", "**", "1:**", "+1"})
        EXPECT_FALSE(SequenceSet::parse(text)) << text;
    EXPECT_TRUE(SequenceSet::parse("4294967295"));
}

TEST(SequenceSet, FormatsRunsCompactly)
{
    EXPECT_EQ(formatSequenceSet({}), "");
    EXPECT_EQ(formatSequenceSet({7}), "7");
    EXPECT_EQ(formatSequenceSet({1, 2, 3, 5}), "1:3,5");
    EXPECT_EQ(formatSequenceSet({1, 3, 5}), "1,3,5");
    EXPECT_EQ(formatSequenceSet({1, 2, 4, 5, 6, 9}), "1:2,4:6,9");
    EXPECT_EQ(formatSequenceSet({4294967294U, 4294967295U}), "4294967294:4294967295");
}

// --- MailboxName (modified UTF-7, RFC 3501 §5.1.3) ---

TEST(MailboxName, LeavesPrintableAsciiAlone)
{
    EXPECT_EQ(encodeMailboxName("INBOX/Sent Items ~x"), "INBOX/Sent Items ~x");
    EXPECT_EQ(decodeMailboxName("INBOX/Sent Items ~x"), "INBOX/Sent Items ~x");
}

TEST(MailboxName, EscapesAmpersand)
{
    EXPECT_EQ(encodeMailboxName("R&D"), "R&-D");
    EXPECT_EQ(encodeMailboxName("&"), "&-");
    EXPECT_EQ(decodeMailboxName("R&-D"), "R&D");
    EXPECT_EQ(decodeMailboxName("&-&-"), "&&");
}

TEST(MailboxName, EncodesFrenchAccents)
{
    const std::string utf8 = "Bo\xC3\xAEte \xC3\xA0 lettres/Re\xC3\xA7us";
    EXPECT_EQ(encodeMailboxName(utf8), "Bo&AO4-te &AOA- lettres/Re&AOc-us");
    EXPECT_EQ(decodeMailboxName("Bo&AO4-te &AOA- lettres/Re&AOc-us"), utf8);
    EXPECT_EQ(encodeMailboxName("\xC3\xAE\xC3\xA0\xC3\xA7"), "&AO4A4ADn-");  // one run for adjacent characters
}

TEST(MailboxName, MatchesTheRfcExample)
{
    const std::string utf8 = "~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E";
    EXPECT_EQ(encodeMailboxName(utf8), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    EXPECT_EQ(decodeMailboxName("~peter/mail/&U,BTFw-/&ZeVnLIqe-"), utf8);
}

TEST(MailboxName, UsesSurrogatePairsBeyondTheBmp)
{
    const std::string inboxTray = "\xF0\x9F\x93\xA5";  // U+1F4E5
    EXPECT_EQ(encodeMailboxName(inboxTray), "&2D3c5Q-");
    EXPECT_EQ(decodeMailboxName("&2D3c5Q-"), inboxTray);
    const std::string mixed = "a&\xC3\xA9\xE6\x97\xA5" + inboxTray + "b";
    EXPECT_EQ(encodeMailboxName(mixed), "a&-&AOll5dg93OU-b");
}

TEST(MailboxName, RoundTrips)
{
    for (const std::string name : {"", "INBOX", "Bo\xC3\xAEte \xC3\xA0 lettres/Re\xC3\xA7us", "&&-&", "\xE2\x82\xAC 100",
                                   "\xF0\x9F\x98\x80\xF0\x9F\x98\x81x\xF0\x9F\x98\x82", "tab\there", "\x7F"}) {
        const auto decoded = decodeMailboxName(encodeMailboxName(name));
        ASSERT_TRUE(decoded) << name;
        EXPECT_EQ(*decoded, name);
    }
}

TEST(MailboxName, ReplacesInvalidUtf8WhenEncoding)
{
    EXPECT_EQ(encodeMailboxName("a\xFF"), "a&,,0-");
    EXPECT_EQ(encodeMailboxName("\xC0\xAF"), "&,,3,,Q-");      // overlong '/'
    EXPECT_EQ(encodeMailboxName("\xED\xA0\x80"), "&,,3,,f,9-");  // UTF-8-encoded surrogate
}

TEST(MailboxName, RejectsMalformedInput)
{
    for (const char* text : {
             "&",          // unclosed shift
             "a&AO4",      // unclosed shift
             "&AO5-",      // padding bits not zero
             "&AO4A-",     // leftover bits of a whole base64 character
             "&A-",        // too short for one UTF-16 unit
             "&AEE-",      // 'A' must be written directly
             "&ACY-",      // '&' must be written as "&-"
             "&AAA-",      // NUL
             "&2D0-",      // lone high surrogate
             "&3OU-",      // lone low surrogate
             "&3OXYPQ-",   // surrogates in the wrong order
             "&AO4*-",     // not base64
             "&U/BTFw-",   // '/' instead of ','
             "&AO4=-",     // padding
             "caf\xC3\xA9",  // raw 8-bit
             "a\tb",       // control character
         })
        EXPECT_FALSE(decodeMailboxName(text)) << text;
}
