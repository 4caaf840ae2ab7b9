#include "relay/SmtpProtocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace plexus::relay {
namespace {

TEST(ReplyLine, ParsesLastAndContinuationLines)
{
    const auto more = parseReplyLine("250-mx.clinique.test greets mx.hopital.test");
    ASSERT_TRUE(more);
    EXPECT_EQ(more->code, 250);
    EXPECT_FALSE(more->last);
    EXPECT_EQ(more->text, "mx.clinique.test greets mx.hopital.test");
    const auto last = parseReplyLine("550 5.1.1 <x@y>: no such mailbox here");
    ASSERT_TRUE(last);
    EXPECT_TRUE(last->last);
    EXPECT_EQ(last->text, "5.1.1 <x@y>: no such mailbox here");
    const auto bare = parseReplyLine("354");
    ASSERT_TRUE(bare);
    EXPECT_TRUE(bare->last);
    EXPECT_EQ(bare->code, 354);
    EXPECT_EQ(bare->text, "");
}

TEST(ReplyLine, RefusesWhatIsNotAReply)
{
    for (const char* bad : {"", "25", "2x0 ok", "250ok", "650 no such class", "099 low", "* OK imap"})
        EXPECT_FALSE(parseReplyLine(bad)) << bad;
}

TEST(SmtpReply, JoinsLinesForReasons)
{
    EXPECT_EQ((SmtpReply{550, {"5.7.1 first line", "5.7.1 second line"}}).toString(),
              "550 5.7.1 first line 5.7.1 second line");
    EXPECT_EQ((SmtpReply{221, {""}}).toString(), "221");
    EXPECT_TRUE((SmtpReply{354, {}}).positive());
    EXPECT_FALSE((SmtpReply{554, {}}).positive());
}

TEST(EhloCapabilities, KeywordsAfterTheGreetingLineInAnyCase)
{
    const EhloCapabilities capabilities(
        SmtpReply{250, {"mx.clinique.test greets me STARTTLS", "pipelining", "SIZE 52428800", "DSN", "8BITMIME"}});
    EXPECT_TRUE(capabilities.has("PIPELINING"));
    EXPECT_TRUE(capabilities.has("SIZE"));
    EXPECT_TRUE(capabilities.has("DSN"));
    // The greeting line is not a keyword, even when it contains one.
    EXPECT_FALSE(capabilities.has("STARTTLS"));
    EXPECT_FALSE(capabilities.has("SMTPUTF8"));
    EXPECT_FALSE(EhloCapabilities().has("DSN"));
}

std::string stuffed(const std::vector<std::string>& chunks)
{
    DotStuffer stuffer;
    std::string out;
    for (const auto& chunk : chunks) stuffer.feed(chunk, out);
    stuffer.finish(out);
    return out;
}

TEST(DotStuffer, DoublesLeadingDotsAndTerminates)
{
    EXPECT_EQ(stuffed({"Subject: x\r\n\r\n.hidden\r\nmid.dle\r\n..\r\n.\r\n"}),
              "Subject: x\r\n\r\n..hidden\r\nmid.dle\r\n...\r\n..\r\n.\r\n");
}

TEST(DotStuffer, LeadingDotOfTheMessage)
{
    EXPECT_EQ(stuffed({".first\r\n"}), "..first\r\n.\r\n");
}

TEST(DotStuffer, LineStartsSplitAcrossChunks)
{
    // Every split of the message gives the same bytes.
    const std::string message = "a\r\n.b\r\n.\r\n..c\r\nend.\r\n";
    const std::string expected = "a\r\n..b\r\n..\r\n...c\r\nend.\r\n.\r\n";
    for (std::size_t cut = 0; cut <= message.size(); ++cut)
        EXPECT_EQ(stuffed({message.substr(0, cut), message.substr(cut)}), expected) << cut;
    std::vector<std::string> bytes;
    for (char c : message) bytes.emplace_back(1, c);
    EXPECT_EQ(stuffed(bytes), expected);
}

TEST(DotStuffer, AddsTheMissingLineEnd)
{
    EXPECT_EQ(stuffed({"no line end"}), "no line end\r\n.\r\n");
    EXPECT_EQ(stuffed({"half\r"}), "half\r\n.\r\n");
    EXPECT_EQ(stuffed({}), ".\r\n");
}

TEST(Ascii, TellsUtf8Addresses)
{
    EXPECT_TRUE(isAscii("dr.martin@hopital.test"));
    EXPECT_FALSE(isAscii("dr.méline@hopital.test"));
}

}  // namespace
}  // namespace plexus::relay
