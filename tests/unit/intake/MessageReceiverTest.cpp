#include "intake/MessageReceiver.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace plexus;
namespace fs = std::filesystem;

class MessageReceiverTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/plexus-receiver-XXXXXX";
        dir_ = mkdtemp(pattern);
        store::AtRestKey::generateFile(dir_ + "/key");
        mailboxes_.emplace(dir_ + "/blobs", store::AtRestKey::loadFile(dir_ + "/key"));
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string dir_;
    std::optional<store::MailboxStore> mailboxes_;
};

// The header limit holds whether the header comes in pieces or in one chunk
// with its end (IMAP literals, plugins' replacements).
TEST_F(MessageReceiverTest, HeaderLimitHoldsWhenTheWholeHeaderComesInOneChunk)
{
    const std::string header = "Subject: " + std::string(200, 'x') + "\r\n\r\n";
    intake::MessageReceiver whole(*mailboxes_, 1 << 20, 64);
    whole.append(header + "body\r\n");
    EXPECT_EQ(whole.problem(), intake::MessageProblem::HeaderTooBig);

    intake::MessageReceiver pieces(*mailboxes_, 1 << 20, 64);
    for (char c : header) pieces.append(std::string_view(&c, 1));
    EXPECT_EQ(pieces.problem(), intake::MessageProblem::HeaderTooBig);

    intake::MessageReceiver small(*mailboxes_, 1 << 20, 64);
    small.append("Subject: ok\r\n\r\n" + std::string(500, 'b') + "\r\n");  // a long body is not a long header
    EXPECT_EQ(small.problem(), intake::MessageProblem::None);
}

// RFC 5321 6.3: Received: fields are counted at the start of header lines only,
// in any case, whatever the chunking; the body does not count.
TEST_F(MessageReceiverTest, CountsReceivedFieldsOfTheHeaderOnly)
{
    const std::string message =
        "Received: from a by b; Mon, 1 Dec 2026 10:00:00 +0000\r\n"
        "RECEIVED: from c\r\n\tby d (Received: in a continuation line)\r\n"
        "X-Received: not a trace field\r\n"
        "Subject: Received: neither\r\n"
        "received:from e by f\r\n"
        "\r\n"
        "Received: in the body\r\n";
    intake::MessageReceiver whole(*mailboxes_, 1 << 20, 1 << 16);
    whole.append(message);
    EXPECT_EQ(whole.hops(), 3u);
    EXPECT_EQ(whole.problem(), intake::MessageProblem::None);

    intake::MessageReceiver pieces(*mailboxes_, 1 << 20, 1 << 16);
    for (char c : message) pieces.append(std::string_view(&c, 1));
    EXPECT_EQ(pieces.hops(), 3u);
}

TEST_F(MessageReceiverTest, MoreHopsThanTheLimitIsALoop)
{
    std::string header;
    for (int i = 0; i < 5; ++i) header += "Received: from hop" + std::to_string(i) + "\r\n";
    intake::MessageReceiver atLimit(*mailboxes_, 1 << 20, 1 << 16);
    atLimit.limitHops(5);
    atLimit.append(header + "\r\nbody\r\n");
    EXPECT_EQ(atLimit.problem(), intake::MessageProblem::None);

    intake::MessageReceiver over(*mailboxes_, 1 << 20, 1 << 16);
    over.limitHops(4);
    over.append(header + "\r\nbody\r\n");
    EXPECT_EQ(over.problem(), intake::MessageProblem::TooManyHops);
    EXPECT_EQ(over.hops(), 5u);  // the whole header is still counted, for the reply

    intake::MessageReceiver unlimited(*mailboxes_, 1 << 20, 1 << 16);
    unlimited.append(header + "\r\nbody\r\n");
    EXPECT_EQ(unlimited.problem(), intake::MessageProblem::None);
}
