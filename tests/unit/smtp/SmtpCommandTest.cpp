#include "smtp/SmtpCommand.h"

#include <gtest/gtest.h>

using namespace plexus::smtp;

TEST(SmtpCommand, SplitsVerbCaseInsensitively)
{
    const auto c = splitCommand("mail FROM:<a@b>");
    EXPECT_EQ(c.verb, "MAIL");
    EXPECT_EQ(c.argument, "FROM:<a@b>");
    EXPECT_EQ(splitCommand("QUIT").argument, "");
}

TEST(SmtpCommand, ParsesPathAndParameters)
{
    ParseError error;
    const auto p = parsePath("FROM:<dr.x@h.fr> SIZE=100 body=8BITMIME SMTPUTF8", "FROM", error);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->address, "dr.x@h.fr");
    EXPECT_EQ(p->params.at("SIZE"), "100");
    EXPECT_EQ(p->params.at("BODY"), "8BITMIME");
    EXPECT_EQ(p->params.at("SMTPUTF8"), "");
}

TEST(SmtpCommand, AcceptsNullPathSpaceAfterColonAndSourceRoute)
{
    ParseError error;
    EXPECT_EQ(parsePath("FROM:<>", "FROM", error)->address, "");
    EXPECT_EQ(parsePath("from: <a@b.c>", "FROM", error)->address, "a@b.c");
    EXPECT_EQ(parsePath("TO:<@relay.fr,@r2.fr:user@d.fr>", "TO", error)->address, "user@d.fr");
    EXPECT_EQ(parsePath(R"(TO:<"jean dupont"@d.fr>)", "TO", error)->address, R"("jean dupont"@d.fr)");
}

TEST(SmtpCommand, RefusesMalformedPaths)
{
    ParseError error;
    for (const char* bad : {"FROM:a@b", "FROM<a@b>", "FROM:<a@b", "FROM:<a b@c>", "FROM:<a@b>x", "TO:<a@b>",
                            "FROM:<a@b> SIZE=1 SIZE=2", "FROM:<a@b> =x", "FROM:<<a@b>>"}) {
        EXPECT_FALSE(parsePath(bad, "FROM", error)) << bad;
        EXPECT_EQ(error.reply.substr(0, 1), "5") << bad;
    }
    EXPECT_FALSE(parsePath("FROM:<nodomain>", "FROM", error));
    EXPECT_EQ(error.reply.substr(0, 9), "553 5.1.3");
}

TEST(SmtpCommand, Xtext)
{
    EXPECT_TRUE(isXtext("abc+2Bdef"));
    EXPECT_TRUE(isXtext("rfc822;a@b"));
    EXPECT_FALSE(isXtext("a=b"));
    EXPECT_FALSE(isXtext("a+2"));
    EXPECT_FALSE(isXtext("a+zz"));
    EXPECT_FALSE(isXtext("a b"));
}
