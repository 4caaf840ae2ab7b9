// Message edits by plugins: header validation, prepended headers and
// replacement contents, written to real blobs.
#include "plugins/MessageEdit.h"

#include "TempMailboxStore.h"

#include <gtest/gtest.h>

using namespace plexus;
using plugins::ContentReplacement;
using plugins::HeaderAddition;
using plugins::MessageTooLarge;
using plugins::validateHeader;
using plugins::test::crlf;
using plugins::test::TempMailboxStore;

namespace {

// The message of validateHeader's exception, or "" when it accepts the header.
std::string refusal(const std::string& name, const std::string& value)
{
    try {
        validateHeader({name, value});
        return "";
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
}

TEST(MessageEditValidateHeader, AcceptsOrdinaryFields)
{
    EXPECT_EQ(refusal("X-Plexus-Example", "yes"), "");
    EXPECT_EQ(refusal("X-MSS-Statut", "trait\xC3\xA9 \tpar le plugin"), "");  // UTF-8 and TAB
    EXPECT_EQ(refusal("Received", ""), "");
    EXPECT_EQ(refusal(std::string(76, 'X'), std::string(900, 'v')), "");
}

TEST(MessageEditValidateHeader, RefusesLineBreaksInValues)
{
    EXPECT_EQ(refusal("X", "a\r\nBcc: evil@attacker.test"),
              "value of header \"X\" has the control character \"\\x0d\" at byte 1; "
              "only TAB is allowed, and a value is one line");
    EXPECT_NE(refusal("X", "a\nBcc: evil"), "");
    EXPECT_NE(refusal("X", std::string("a\0b", 3)), "");
    EXPECT_NE(refusal("X", "a\x7f"), "");
}

TEST(MessageEditValidateHeader, RefusesBadNames)
{
    EXPECT_EQ(refusal("", "v"), "header name is empty");
    EXPECT_EQ(refusal("X:Y", "v"),
              "header name \"X:Y\" has \":\" at position 1; a field name is printable ASCII without spaces or ':'");
    EXPECT_EQ(refusal("X Y", "v"),
              "header name \"X Y\" has a space at position 1; a field name is printable ASCII without spaces or ':'");
    EXPECT_NE(refusal(std::string("X\0", 2), "v"), "");
    EXPECT_NE(refusal("X\xC3\xA9", "v"), "");
    EXPECT_EQ(refusal(std::string(77, 'X'), "v"),
              "header name \"XXXXXXXXXXXXXXXXXXXX...\" is 77 characters long; at most 76");
}

TEST(MessageEditValidateHeader, RefusesValuesTooLongOrNotUtf8)
{
    EXPECT_EQ(refusal("X", std::string(901, 'v')), "value of header \"X\" is 901 bytes long; at most 900");
    EXPECT_EQ(refusal("X", "\xC3("), "value of header \"X\" is not valid UTF-8");
}

TEST(MessageEditValidateHeader, RefusesFieldsThatChangeTheMessage)
{
    EXPECT_EQ(refusal("subject", "autre"),
              "header \"subject\" cannot be added: a message has at most one (RFC 5322 §3.6); "
              "replace the content to change it");
    EXPECT_NE(refusal("From", "x@y.test"), "");
    EXPECT_NE(refusal("Message-ID", "<x@y>"), "");
    EXPECT_EQ(refusal("Content-Type", "text/plain"),
              "header \"Content-Type\" cannot be added: it would change how the message's MIME structure is read; "
              "replace the content to change it");
    EXPECT_NE(refusal("MIME-Version", "1.0"), "");
}

class MessageEditTest : public ::testing::Test {
protected:
    const std::string original_ = crlf("Received: from mx.labo.mssante.fr\n"
                                       "From: labo@labo.mssante.fr\n"
                                       "Subject: Bilan\n"
                                       "Message-ID: <bilan@labo.mssante.fr>\n"
                                       "Content-Type: multipart/mixed; boundary=b\n"
                                       "\n"
                                       "--b\n"
                                       "Content-Type: text/plain\n"
                                       "\n"
                                       "Normal.\n"
                                       "--b--\n");
    TempMailboxStore store_;
};

TEST_F(MessageEditTest, PrependsHeadersToTheOriginalBytes)
{
    const auto original = store_.receive(original_);
    const auto edited = plugins::prependHeaders(store_.store(), original.blobPath,
                                                {{"X-Plexus-Example", "yes"}, {"X-MSS-Statut", "vérifié"}},
                                                TempMailboxStore::kMaxSize, TempMailboxStore::kMaxHeaderSize);
    const std::string added = "X-Plexus-Example: yes\r\nX-MSS-Statut: vérifié\r\n";
    EXPECT_NE(edited.blobPath, original.blobPath);
    EXPECT_EQ(store_.blobContent(edited.blobPath), added + original_);
    EXPECT_EQ(store_.blobContent(original.blobPath), original_);  // left for the caller to unlink
    EXPECT_EQ(edited.size, added.size() + original_.size());

    // Parsed again: the same message, its offsets shifted by the added bytes.
    const auto& before = original.structure;
    const auto& after = edited.structure;
    EXPECT_EQ(after.envelope, before.envelope);
    EXPECT_EQ(after.header("X-MSS-Statut"), "vérifié");
    EXPECT_EQ(after.headerSize, before.headerSize + added.size());
    ASSERT_EQ(after.root.children.size(), 1u);
    EXPECT_EQ(after.root.children[0].bodyOffset, before.root.children[0].bodyOffset + added.size());
    EXPECT_EQ(after.root.children[0].bodySize, before.root.children[0].bodySize);
}

TEST_F(MessageEditTest, PrependingNothingCopiesTheMessage)
{
    const auto original = store_.receive(original_);
    const auto copy = plugins::prependHeaders(store_.store(), original.blobPath, {}, TempMailboxStore::kMaxSize,
                                              TempMailboxStore::kMaxHeaderSize);
    EXPECT_EQ(store_.blobContent(copy.blobPath), original_);
    EXPECT_EQ(copy.structure, original.structure);
}

TEST_F(MessageEditTest, PrependingHoldsToTheSizeLimits)
{
    const auto original = store_.receive(original_);
    const std::size_t files = store_.blobFileCount();
    try {
        plugins::prependHeaders(store_.store(), original.blobPath, {{"X-Plexus-Example", "yes"}}, original_.size() + 10,
                                TempMailboxStore::kMaxHeaderSize);
        FAIL() << "no exception";
    } catch (const MessageTooLarge& e) {
        EXPECT_STREQ(e.what(), ("the message with the added headers exceeds the message size limit (" +
                                std::to_string(original_.size() + 10) + " bytes)")
                                   .c_str());
    }
    EXPECT_THROW(plugins::prependHeaders(store_.store(), original.blobPath, {{"X-Long", std::string(600, 'v')}},
                                         TempMailboxStore::kMaxSize, 512),
                 MessageTooLarge);
    EXPECT_THROW(plugins::prependHeaders(store_.store(), original.blobPath, {{"X-Bad", "a\r\nBcc: evil"}},
                                         TempMailboxStore::kMaxSize, TempMailboxStore::kMaxHeaderSize),
                 std::invalid_argument);
    EXPECT_EQ(store_.blobFileCount(), files);
}

TEST_F(MessageEditTest, ReplacesTheContentWrittenInPieces)
{
    ContentReplacement replacement(store_.store(), TempMailboxStore::kMaxSize, TempMailboxStore::kMaxHeaderSize);
    const std::string content =
        crlf("From: pseudo@plexus.test\nSubject: Bilan pseudonymis\xC3\xA9\n\nPatient P-0042.\n");
    // Pieces cut inside a CRLF and inside the empty line.
    const std::size_t firstCr = content.find('\r');
    const std::size_t emptyLineLf = content.find("\r\n\r\n") + 3;
    replacement.write(content.substr(0, firstCr + 1));
    replacement.write(content.substr(firstCr + 1, emptyLineLf - firstCr - 1));
    replacement.write("");
    replacement.write(content.substr(emptyLineLf));
    EXPECT_EQ(replacement.size(), content.size());
    const auto received = replacement.finish();
    EXPECT_EQ(store_.blobContent(received.blobPath), content);
    EXPECT_EQ(received.size, content.size());
    EXPECT_EQ(received.structure.envelope.subject, "Bilan pseudonymis\xC3\xA9");
    EXPECT_THROW(replacement.write("more"), std::logic_error);
}

// The message of the exception thrown by write() or finish() for `content`, or "".
std::string replacementError(const TempMailboxStore& store, const std::string& content, std::uint64_t maxSize = 1 << 20)
{
    ContentReplacement replacement(store.store(), maxSize, 64 << 10);
    try {
        replacement.write(content);
        replacement.finish();
        return "";
    } catch (const std::exception& e) {
        return e.what();
    }
}

TEST_F(MessageEditTest, ReplacementMustBeAMessage)
{
    EXPECT_EQ(replacementError(store_, "Subject: x\n\nbody\n"),
              "replacement content has a bare LF at byte 10; lines end with CRLF");
    EXPECT_EQ(replacementError(store_, "Subject: x\r\n\r\nbody\rmore\r\n"),
              "replacement content has a CR without LF before byte 19; lines end with CRLF");
    EXPECT_EQ(replacementError(store_, "Subject: x\r\n\r\nbody\r"),
              "replacement content ends with a CR without LF; lines end with CRLF");
    EXPECT_EQ(replacementError(store_, ""), "replacement content is empty");
    EXPECT_EQ(replacementError(store_, "\r\nbody\r\n"),
              "replacement content starts with an empty line: it has no header fields");
    EXPECT_EQ(replacementError(store_, "Subject: x\r\nbody\r\n"),
              "replacement content has no empty line after its header fields; "
              "a message is header fields, an empty line, then the body");
    EXPECT_EQ(replacementError(store_, "Subject: x\r\n\r\n"), "");  // no body is a body
}

TEST_F(MessageEditTest, ReplacementHoldsToTheSizeLimits)
{
    EXPECT_EQ(replacementError(store_, crlf("Subject: x\n\n") + std::string(200, 'a'), 100),
              "replacement content exceeds the message size limit (100 bytes)");

    ContentReplacement replacement(store_.store(), 1 << 20, 64);
    replacement.write("Subject: 0123456789012345678901234567890123456789\r\n");
    try {
        replacement.write("X-Second: 0123456789\r\n");
        FAIL() << "no exception";
    } catch (const MessageTooLarge& e) {
        EXPECT_STREQ(e.what(), "replacement content has a header larger than the limit (64 bytes)");
    }
    // Failed for good: later calls say why.
    EXPECT_THROW(replacement.write("\r\n"), MessageTooLarge);
    EXPECT_THROW(replacement.finish(), MessageTooLarge);
}

TEST_F(MessageEditTest, AnUnfinishedReplacementLeavesNoFile)
{
    const std::size_t files = store_.blobFileCount();
    {
        ContentReplacement replacement(store_.store(), TempMailboxStore::kMaxSize, TempMailboxStore::kMaxHeaderSize);
        replacement.write(crlf("Subject: x\n\n") + std::string(200000, 'a'));
        EXPECT_EQ(store_.blobFileCount(), files + 1);
    }
    EXPECT_EQ(store_.blobFileCount(), files);
    {
        ContentReplacement refused(store_.store(), TempMailboxStore::kMaxSize, TempMailboxStore::kMaxHeaderSize);
        EXPECT_THROW(refused.write("Subject: x\n"), std::invalid_argument);
        EXPECT_THROW(refused.finish(), std::invalid_argument);
    }
    EXPECT_EQ(store_.blobFileCount(), files);
}

}  // namespace
