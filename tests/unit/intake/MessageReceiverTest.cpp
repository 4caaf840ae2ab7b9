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
