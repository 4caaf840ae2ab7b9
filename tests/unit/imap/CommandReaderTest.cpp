#include "imap/Command.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <gtest/gtest.h>

#include <memory>

using namespace plexus;
using namespace plexus::imap;

namespace {

// A real TCP connection on 127.0.0.1: the test writes as the client, the
// reader parses on the accepted side.
class CommandReaderTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        client_.connect(listener_.address());
        accepted_ = listener_.acceptConnection();
        connection_ = std::make_unique<net::Connection>(accepted_, Poco::Timespan(5, 0), [] { return false; });
    }

    CommandReader& reader(ReaderLimits limits = {})
    {
        reader_ = std::make_unique<CommandReader>(*connection_, limits);
        return *reader_;
    }

    void send(std::string_view bytes) { client_.sendBytes(bytes.data(), static_cast<int>(bytes.size())); }

    // What the server wrote to the client so far.
    std::string received()
    {
        std::string bytes;
        char buffer[4096];
        while (client_.poll(Poco::Timespan(0, 100'000), Poco::Net::Socket::SELECT_READ)) {
            const int n = client_.receiveBytes(buffer, sizeof buffer);
            if (n <= 0) break;
            bytes.append(buffer, static_cast<std::size_t>(n));
        }
        return bytes;
    }

    // The CommandError the next read() throws.
    CommandError readError(CommandReader& commands)
    {
        try {
            commands.read();
        } catch (const CommandError& error) {
            return error;
        }
        ADD_FAILURE() << "no CommandError";
        return CommandError("", "");
    }

    void expectNextIsNoop(CommandReader& commands, const std::string& tag)
    {
        send(tag + " NOOP\r\n");
        const auto command = commands.read();
        ASSERT_TRUE(command);
        EXPECT_EQ(command->tag, tag);
        EXPECT_EQ(command->name, "NOOP");
        EXPECT_TRUE(command->args.empty());
    }

    Poco::Net::ServerSocket listener_{Poco::Net::SocketAddress("127.0.0.1", 0)};
    Poco::Net::StreamSocket client_;
    Poco::Net::StreamSocket accepted_;
    std::unique_ptr<net::Connection> connection_;
    std::unique_ptr<CommandReader> reader_;
};

}  // namespace

TEST_F(CommandReaderTest, ReadsTagNameAndAtoms)
{
    auto& commands = reader();
    send("a1 login alice secret\r\n");
    const auto command = commands.read();
    ASSERT_TRUE(command);
    EXPECT_EQ(command->tag, "a1");
    EXPECT_EQ(command->name, "LOGIN");
    ASSERT_EQ(command->args.size(), 2u);
    EXPECT_TRUE(command->args[0].isAtom());
    EXPECT_EQ(command->args[0].text, "alice");
    EXPECT_TRUE(command->args[1].is("SECRET"));
    EXPECT_FALSE(command->pendingLiteral);
}

TEST_F(CommandReaderTest, AcceptsBareLf)
{
    auto& commands = reader();
    send("a1 NOOP\na2 CAPABILITY\n");
    EXPECT_EQ(commands.read()->name, "NOOP");
    EXPECT_EQ(commands.read()->tag, "a2");
}

TEST_F(CommandReaderTest, ReadsQuotedStringsWithEscapes)
{
    auto& commands = reader();
    send(R"(a1 LOGIN "al ice" "p\"a\\ss" "" "NIL" NIL nil)" "\r\n");
    const auto command = commands.read();
    ASSERT_TRUE(command);
    ASSERT_EQ(command->args.size(), 6u);
    EXPECT_TRUE(command->args[0].isString());
    EXPECT_EQ(command->args[0].text, "al ice");
    EXPECT_EQ(command->args[1].text, R"(p"a\ss)");
    EXPECT_FALSE(command->args[1].literal);
    EXPECT_TRUE(command->args[2].isString());
    EXPECT_EQ(command->args[2].text, "");
    EXPECT_TRUE(command->args[3].isString());
    EXPECT_EQ(command->args[3].text, "NIL");
    EXPECT_TRUE(command->args[4].isNil());
    EXPECT_TRUE(command->args[5].isNil());
    EXPECT_FALSE(command->args[5].is("nil"));
}

TEST_F(CommandReaderTest, AcceptsUtf8InQuotedStrings)
{
    auto& commands = reader();
    send("a1 LOGIN \"caf\xC3\xA9\" \"m\xC3\xA9" "decin\"\r\n");
    const auto command = commands.read();
    ASSERT_TRUE(command);
    ASSERT_EQ(command->args.size(), 2u);
    EXPECT_EQ(command->args[0].text, "caf\xC3\xA9");
    EXPECT_EQ(command->args[1].text, "m\xC3\xA9" "decin");
}

TEST_F(CommandReaderTest, RejectsBadQuotedStringsAndGoesOn)
{
    auto& commands = reader();
    send("a1 LOGIN \"bad\\n\" x\r\n");
    const auto escape = readError(commands);
    EXPECT_EQ(escape.tag(), "a1");
    EXPECT_STREQ(escape.what(), "invalid escape in quoted string");
    send("a2 LOGIN \"caf\xE9\"\r\n");
    EXPECT_STREQ(readError(commands).what(), "quoted string is not UTF-8");
    send("a3 LOGIN \"a\rb\"\r\n");
    EXPECT_STREQ(readError(commands).what(), "invalid character in quoted string");
    send("a4 LOGIN \"open\r\n");
    EXPECT_STREQ(readError(commands).what(), "unterminated quoted string");
    expectNextIsNoop(commands, "a5");
}

TEST_F(CommandReaderTest, ReadsSynchronizingLiteralAfterContinuation)
{
    auto& commands = reader();
    send("a1 LOGIN {5}\r\nalice {6}\r\nse\r\nt!\r\n");
    const auto command = commands.read();
    ASSERT_TRUE(command);
    ASSERT_EQ(command->args.size(), 2u);
    EXPECT_TRUE(command->args[0].isString());
    EXPECT_TRUE(command->args[0].literal);
    EXPECT_EQ(command->args[0].text, "alice");
    EXPECT_EQ(command->args[1].text, "se\r\nt!");
    EXPECT_EQ(received(), "+ OK\r\n+ OK\r\n");
    expectNextIsNoop(commands, "a2");
}

TEST_F(CommandReaderTest, ReadsNonSynchronizingLiteralWithoutContinuation)
{
    auto& commands = reader();
    send("a1 LOGIN {5+}\r\nalice {0+}\r\n\r\n");
    const auto command = commands.read();
    ASSERT_TRUE(command);
    ASSERT_EQ(command->args.size(), 2u);
    EXPECT_EQ(command->args[0].text, "alice");
    EXPECT_TRUE(command->args[1].literal);
    EXPECT_EQ(command->args[1].text, "");
    EXPECT_EQ(received(), "");
}

TEST_F(CommandReaderTest, ReadsNestedListsWithLiteralsInside)
{
    auto& commands = reader();
    send("a1 SEARCH (OR (FROM {3+}\r\nbob) (SUBJECT \"x y\")) () UNSEEN\r\n");
    const auto command = commands.read();
    ASSERT_TRUE(command);
    ASSERT_EQ(command->args.size(), 3u);
    const Arg& outer = command->args[0];
    ASSERT_TRUE(outer.isList());
    ASSERT_EQ(outer.items.size(), 3u);
    EXPECT_TRUE(outer.items[0].is("OR"));
    ASSERT_TRUE(outer.items[1].isList());
    ASSERT_EQ(outer.items[1].items.size(), 2u);
    EXPECT_TRUE(outer.items[1].items[0].is("FROM"));
    EXPECT_TRUE(outer.items[1].items[1].literal);
    EXPECT_EQ(outer.items[1].items[1].text, "bob");
    EXPECT_EQ(outer.items[2].items[1].text, "x y");
    EXPECT_TRUE(command->args[1].isList());
    EXPECT_TRUE(command->args[1].items.empty());
    EXPECT_TRUE(command->args[2].is("UNSEEN"));
}

TEST_F(CommandReaderTest, LimitsListDepth)
{
    auto& commands = reader(ReaderLimits{.depth = 3});
    send("a1 SEARCH (((ALL)))\r\n");
    EXPECT_TRUE(commands.read());
    send("a2 SEARCH ((((ALL))))\r\n");
    const auto error = readError(commands);
    EXPECT_EQ(error.tag(), "a2");
    EXPECT_STREQ(error.what(), "lists nested too deeply");
    expectNextIsNoop(commands, "a3");
}

TEST_F(CommandReaderTest, RejectsUnbalancedListsAndSpacing)
{
    auto& commands = reader();
    send("a1 STORE 1 +FLAGS (\\Seen\r\n");
    EXPECT_STREQ(readError(commands).what(), "unterminated list");
    send("a2 STORE 1 +FLAGS (\r\n");
    EXPECT_STREQ(readError(commands).what(), "unterminated list");
    send("a3 STORE 1 +FLAGS \\Seen)\r\n");
    EXPECT_STREQ(readError(commands).what(), "unexpected ')'");
    send("a4 STORE 1 +FLAGS (\\Seen )\r\n");
    EXPECT_STREQ(readError(commands).what(), "unexpected ')'");
    send("a5 NOOP \r\n");
    EXPECT_STREQ(readError(commands).what(), "missing argument after a space");
    send("a6 FETCH 1 (FLAGS)(UID)\r\n");
    EXPECT_STREQ(readError(commands).what(), "expected a space between arguments");
    send("a7 LOGIN {5} x\r\n");
    EXPECT_STREQ(readError(commands).what(), "a literal's size must end the line");
    EXPECT_EQ(received(), "");
    expectNextIsNoop(commands, "a8");
}

TEST_F(CommandReaderTest, RejectsEmptyLinesAndBadTags)
{
    auto& commands = reader();
    send("\r\n");
    const auto empty = readError(commands);
    EXPECT_EQ(empty.tag(), "");
    EXPECT_STREQ(empty.what(), "empty command line");
    send("+a NOOP\r\n");
    EXPECT_EQ(readError(commands).tag(), "");
    send("a*1 NOOP\r\n");
    EXPECT_STREQ(readError(commands).what(), "expected a space after the tag");
    send("a1\r\n");
    const auto noName = readError(commands);
    EXPECT_EQ(noName.tag(), "a1");
    EXPECT_STREQ(noName.what(), "expected a space after the tag");
    send("a1 \r\n");
    EXPECT_STREQ(readError(commands).what(), "missing command name");
    expectNextIsNoop(commands, "a]2");
}

TEST_F(CommandReaderTest, RejectsTooLongLine)
{
    auto& commands = reader(ReaderLimits{.lineLength = 100});
    send("a1 LOGIN " + std::string(200, 'x') + "\r\n");
    const auto error = readError(commands);
    EXPECT_EQ(error.tag(), "a1");
    EXPECT_STREQ(error.what(), "command line too long");
    send("a2 LOGIN {3}\r\nabc " + std::string(200, 'y') + "\r\n");
    EXPECT_STREQ(readError(commands).what(), "command line too long");
    expectNextIsNoop(commands, "a3");
}

TEST_F(CommandReaderTest, LimitsTotalCommandSize)
{
    auto& commands = reader(ReaderLimits{.lineLength = 100, .inlineLiteral = 100, .commandSize = 150});
    send("a1 X {80+}\r\n" + std::string(80, 'a') + " {80+}\r\n" + std::string(80, 'b') + " tail\r\n");
    EXPECT_STREQ(readError(commands).what(), "literal too large");
    expectNextIsNoop(commands, "a2");
}

TEST_F(CommandReaderTest, RefusesOversizeSynchronizingLiteralWithoutReadingIt)
{
    auto& commands = reader(ReaderLimits{.inlineLiteral = 10});
    send("a1 LOGIN {11}\r\n");
    const auto error = readError(commands);
    EXPECT_EQ(error.tag(), "a1");
    EXPECT_STREQ(error.what(), "literal too large");
    EXPECT_EQ(received(), "");
    expectNextIsNoop(commands, "a2");
}

TEST_F(CommandReaderTest, DropsOversizeNonSynchronizingLiteral)
{
    auto& commands = reader(ReaderLimits{.inlineLiteral = 100, .nonSyncLiteral = 10});
    send("a1 LOGIN {11+}\r\nNOT A CMD\r\n {2+}\r\nzz more\r\n");
    const auto error = readError(commands);
    EXPECT_EQ(error.tag(), "a1");
    EXPECT_STREQ(error.what(), "literal too large");
    expectNextIsNoop(commands, "a2");
    send("a3 LOGIN {10+}\r\n0123456789\r\n");
    EXPECT_EQ(commands.read()->args.at(0).text, "0123456789");
}

TEST_F(CommandReaderTest, ErrorBeforeNonSynchronizingLiteralStillConsumesIt)
{
    auto& commands = reader();
    send("a1 LOGIN ) {4+}\r\nabcd\r\n");
    EXPECT_STREQ(readError(commands).what(), "unexpected ')'");
    expectNextIsNoop(commands, "a2");
}

TEST_F(CommandReaderTest, ReturnsNulloptWhenPeerClosesMidLiteral)
{
    auto& commands = reader();
    send("a1 LOGIN {10}\r\nabc");
    client_.shutdownSend();
    EXPECT_FALSE(commands.read());
    EXPECT_EQ(received(), "+ OK\r\n");
}

TEST_F(CommandReaderTest, ReturnsNulloptWhenPeerClosesAfterLiteral)
{
    auto& commands = reader();
    send("a1 LOGIN {3+}\r\nabc \"unfinished");
    client_.shutdownSend();
    EXPECT_FALSE(commands.read());
}

TEST_F(CommandReaderTest, ReturnsNulloptAtEndOfStream)
{
    auto& commands = reader();
    client_.shutdownSend();
    EXPECT_FALSE(commands.read());
    EXPECT_FALSE(connection_->stopRequested());
}

TEST_F(CommandReaderTest, ReadsFetchAttributesWithSectionsAsOneAtom)
{
    auto& commands = reader();
    send("a1 FETCH 1:*,3 (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100> BODY[] BODY[1.2.MIME])\r\n");
    const auto command = commands.read();
    ASSERT_TRUE(command);
    ASSERT_EQ(command->args.size(), 2u);
    EXPECT_EQ(command->args[0].text, "1:*,3");
    const auto& items = command->args[1].items;
    ASSERT_EQ(items.size(), 4u);
    EXPECT_TRUE(items[0].is("FLAGS"));
    EXPECT_TRUE(items[1].isAtom());
    EXPECT_EQ(items[1].text, "BODY.PEEK[HEADER.FIELDS (From To)]<0.100>");
    EXPECT_EQ(items[2].text, "BODY[]");
    EXPECT_EQ(items[3].text, "BODY[1.2.MIME]");
}

TEST_F(CommandReaderTest, RejectsUnterminatedSection)
{
    auto& commands = reader();
    send("a1 FETCH 1 BODY[HEADER\r\n");
    EXPECT_STREQ(readError(commands).what(), "unterminated '[' in an atom");
    send("a2 FETCH 1 ]x\r\n");
    EXPECT_STREQ(readError(commands).what(), "unexpected character in arguments");
    expectNextIsNoop(commands, "a3");
}

TEST_F(CommandReaderTest, ReadsUidSubcommandAsFirstArgument)
{
    auto& commands = reader();
    send("a1 uid fetch 1:* (UID FLAGS)\r\n");
    const auto command = commands.read();
    ASSERT_TRUE(command);
    EXPECT_EQ(command->name, "UID");
    ASSERT_EQ(command->args.size(), 3u);
    EXPECT_TRUE(command->args[0].is("FETCH"));
    EXPECT_EQ(command->args[0].text, "fetch");
    EXPECT_EQ(command->args[1].text, "1:*");
}

TEST_F(CommandReaderTest, ReadsListPatternsAndFlags)
{
    auto& commands = reader();
    send("a1 LIST \"\" %/*\r\na2 STORE 1 +FLAGS.SILENT (\\Seen $Label1)\r\n");
    EXPECT_EQ(commands.read()->args.at(1).text, "%/*");
    const auto store = commands.read();
    ASSERT_TRUE(store);
    EXPECT_EQ(store->args.at(1).text, "+FLAGS.SILENT");
    EXPECT_EQ(store->args.at(2).items.at(0).text, "\\Seen");
}

TEST_F(CommandReaderTest, PendsLargeAppendMessagesAndResumes)
{
    auto& commands = reader(ReaderLimits{.inlineLiteral = 8});
    const std::string first = "Subject: one\r\n\r\nHello\r\n";
    const std::string second = "Subject: two\r\n\r\nBye\r\n";
    send("a1 APPEND INBOX (\\Seen) \"14-Nov-2023 22:13:20 +0000\" {" + std::to_string(first.size()) + "}\r\n");
    auto command = commands.read();
    ASSERT_TRUE(command);
    EXPECT_EQ(command->name, "APPEND");
    ASSERT_EQ(command->args.size(), 3u);
    EXPECT_EQ(command->pendingLiteral, first.size());
    EXPECT_FALSE(command->pendingLiteralNonSync);
    EXPECT_EQ(received(), "");  // the session decides on the continuation

    connection_->write("+ OK\r\n");
    connection_->flush();
    EXPECT_EQ(received(), "+ OK\r\n");
    send(first + " {" + std::to_string(second.size()) + "+}\r\n" + second + "\r\na2 NOOP\r\n");
    std::string message;
    ASSERT_TRUE(connection_->readExact(first.size(), [&](std::string_view piece) { message.append(piece); }));
    EXPECT_EQ(message, first);

    commands.resume(*command);
    EXPECT_EQ(command->args.size(), 3u);  // the second message has no flags nor date
    EXPECT_EQ(command->pendingLiteral, second.size());
    EXPECT_TRUE(command->pendingLiteralNonSync);
    message.clear();
    ASSERT_TRUE(connection_->readExact(second.size(), [&](std::string_view piece) { message.append(piece); }));
    EXPECT_EQ(message, second);

    commands.resume(*command);
    EXPECT_FALSE(command->pendingLiteral);
    EXPECT_EQ(command->args.size(), 3u);
    EXPECT_EQ(received(), "");
    EXPECT_EQ(commands.read()->name, "NOOP");
}

TEST_F(CommandReaderTest, ResumeAppendsFlagsOfTheNextMessage)
{
    auto& commands = reader(ReaderLimits{.inlineLiteral = 2});
    send("a1 APPEND Drafts {3+}\r\nabc (\\Draft) {4+}\r\nwxyz\r\n");
    auto command = commands.read();
    ASSERT_TRUE(command);
    ASSERT_EQ(command->args.size(), 1u);
    ASSERT_TRUE(connection_->readExact(3, [](std::string_view) {}));
    commands.resume(*command);
    ASSERT_EQ(command->args.size(), 2u);
    EXPECT_EQ(command->args[1].items.at(0).text, "\\Draft");
    EXPECT_EQ(command->pendingLiteral, 4u);
    ASSERT_TRUE(connection_->readExact(4, [](std::string_view) {}));
    commands.resume(*command);
    EXPECT_FALSE(command->pendingLiteral);
}

TEST_F(CommandReaderTest, HoldsSmallAppendMessagesInline)
{
    auto& commands = reader(ReaderLimits{.inlineLiteral = 8});
    send("a1 APPEND INBOX {4+}\r\nabcd\r\n");
    const auto command = commands.read();
    ASSERT_TRUE(command);
    EXPECT_FALSE(command->pendingLiteral);
    ASSERT_EQ(command->args.size(), 2u);
    EXPECT_EQ(command->args[1].text, "abcd");
}

TEST_F(CommandReaderTest, RejectsLargeAppendLiteralInsideList)
{
    auto& commands = reader(ReaderLimits{.inlineLiteral = 2});
    send("a1 APPEND INBOX ({5+}\r\nhello)\r\n");
    EXPECT_STREQ(readError(commands).what(), "an APPEND message cannot be inside a list");
    expectNextIsNoop(commands, "a2");
}

TEST_F(CommandReaderTest, ResumeReportsErrorsAfterConsumingTheCommand)
{
    auto& commands = reader(ReaderLimits{.inlineLiteral = 2});
    send("a1 APPEND INBOX {3+}\r\nabc junk) {2+}\r\nxy\r\n");
    auto command = commands.read();
    ASSERT_TRUE(command);
    ASSERT_TRUE(connection_->readExact(3, [](std::string_view) {}));
    try {
        commands.resume(*command);
        ADD_FAILURE() << "no CommandError";
    } catch (const CommandError& error) {
        EXPECT_EQ(error.tag(), "a1");
        EXPECT_STREQ(error.what(), "unexpected ')'");
    }
    expectNextIsNoop(commands, "a2");
}

TEST_F(CommandReaderTest, ResumeThrowsWhenPeerCloses)
{
    auto& commands = reader(ReaderLimits{.inlineLiteral = 2});
    send("a1 APPEND INBOX {3+}\r\nabc");
    client_.shutdownSend();
    auto command = commands.read();
    ASSERT_TRUE(command);
    ASSERT_TRUE(connection_->readExact(3, [](std::string_view) {}));
    EXPECT_THROW(commands.resume(*command), Poco::Net::ConnectionResetException);
}

TEST_F(CommandReaderTest, AbandonedSynchronizingLiteralReadsNothing)
{
    auto& commands = reader(ReaderLimits{.inlineLiteral = 8});
    send("a1 APPEND INBOX {100000}\r\n");
    auto command = commands.read();
    ASSERT_TRUE(command);
    EXPECT_EQ(command->pendingLiteral, 100000u);
    commands.abandonPending(*command);
    EXPECT_FALSE(command->pendingLiteral);
    EXPECT_EQ(received(), "");
    expectNextIsNoop(commands, "a2");
}

TEST_F(CommandReaderTest, AbandonedNonSynchronizingLiteralIsDropped)
{
    auto& commands = reader(ReaderLimits{.inlineLiteral = 8});
    send("a1 APPEND INBOX {20+}\r\n" + std::string(20, 'm') + " (\\Seen) {12+}\r\n" + std::string(12, 'n') + "\r\n");
    auto command = commands.read();
    ASSERT_TRUE(command);
    EXPECT_TRUE(command->pendingLiteralNonSync);
    commands.abandonPending(*command);
    EXPECT_FALSE(command->pendingLiteral);
    EXPECT_FALSE(command->pendingLiteralNonSync);
    expectNextIsNoop(commands, "a2");
}

TEST_F(CommandReaderTest, ReadLineReturnsIdleDone)
{
    auto& commands = reader();
    send("DONE\r\n");
    EXPECT_EQ(commands.readLine(), "DONE");
    client_.shutdownSend();
    EXPECT_EQ(commands.readLine(), std::nullopt);
}

TEST_F(CommandReaderTest, TimeoutPropagates)
{
    connection_ = std::make_unique<net::Connection>(accepted_, Poco::Timespan(0, 300'000), [] { return false; });
    auto& commands = reader();
    send("a1 LOGIN {3}\r\n");
    EXPECT_THROW(commands.read(), Poco::TimeoutException);
}
