#include "mime/StructureParser.h"

#include "TestMessages.h"

#include <gtest/gtest.h>

#include <random>

using namespace plexus::mime;
using namespace plexus::mime::test;

namespace {

std::string feedInChunks(std::string_view message, const std::function<std::size_t()>& nextChunkSize)
{
    StructureParser parser;
    while (!message.empty()) {
        const std::size_t size = std::min(message.size(), nextChunkSize());
        parser.feed(message.data(), size);
        message.remove_prefix(size);
    }
    return parser.finish().toJson();
}

std::string randomBytes(std::mt19937& random, std::size_t size)
{
    // Mostly line-ish text with NULs, CR, LF and boundary-like lines mixed in.
    static constexpr std::string_view kPieces[] = {"\0", "\r", "\n", "\r\n", "--", "--b\r\n", "--b--\n",
                                                   ":", " ", "Content-Type: multipart/mixed; boundary=b\r\n", "\xFF"};
    std::string bytes;
    std::uniform_int_distribution<int> pick(0, 40);
    while (bytes.size() < size) {
        const int choice = pick(random);
        if (choice < static_cast<int>(std::size(kPieces))) {
            bytes += choice == 0 ? std::string(1, '\0') : std::string(kPieces[choice]);
        } else {
            bytes += static_cast<char>(random());
        }
    }
    return bytes;
}

// Every range lies inside the message and inside its parent's body.
void expectConsistent(const BodyPart& part, std::uint64_t begin, std::uint64_t end)
{
    EXPECT_LE(begin, part.headerOffset);
    EXPECT_EQ(part.headerOffset + part.headerSize, part.bodyOffset);
    EXPECT_LE(part.bodyOffset + part.bodySize, end);
    EXPECT_LE(part.bodyLines, part.bodySize);
    for (const auto& child : part.children) expectConsistent(child, part.bodyOffset, part.bodyOffset + part.bodySize);
}

}  // namespace

TEST(Robustness, ChunkingDoesNotChangeTheResult)
{
    std::mt19937 random(7);
    for (const std::string& message : {richMessage(), randomBytes(random, 20000)}) {
        const std::string oneShot = parseMessage(message).toJson();
        EXPECT_EQ(feedInChunks(message, [] { return std::size_t{1}; }), oneShot);
        for (unsigned seed = 0; seed < 20; ++seed) {
            std::mt19937 chunks(seed);
            std::uniform_int_distribution<std::size_t> size(0, 300);
            EXPECT_EQ(feedInChunks(message, [&] { return size(chunks); }), oneShot) << seed;
        }
    }
}

TEST(Robustness, GarbageWithNulsGivesAConsistentStructure)
{
    for (unsigned seed = 0; seed < 30; ++seed) {
        std::mt19937 random(seed);
        const std::string message = randomBytes(random, 50000);
        const auto s = parseMessage(message);
        EXPECT_EQ(s.size, message.size());
        EXPECT_EQ(s.root.bodyOffset + s.root.bodySize, message.size());
        expectConsistent(s.root, 0, message.size());
        EXPECT_EQ(MessageStructure::fromJson(s.toJson()), s);
    }
}

TEST(Robustness, MutatedMessagesGiveAConsistentStructure)
{
    const std::string original = richMessage();
    std::mt19937 random(11);
    for (int round = 0; round < 300; ++round) {
        std::string message = original;
        std::uniform_int_distribution<std::size_t> at(0, message.size() - 1);
        for (int flips = 0; flips < 5; ++flips) message[at(random)] = static_cast<char>(random());
        message.resize(at(random));
        const auto s = parseMessage(message);
        EXPECT_EQ(s.size, message.size());
        expectConsistent(s.root, 0, message.size());
    }
}

TEST(Robustness, HugeLineWithoutLineBreaks)
{
    const std::string blob(3 << 20, 'A');
    const std::string message = crlf("Content-Type: multipart/mixed; boundary=x\n\n--x\n\n") + blob +
                                crlf("\n--x  " + std::string(1000, ' ') + "\n\nafter\n--x--\n");
    const auto s = parseMessage(message);
    ASSERT_EQ(s.root.children.size(), 2u);
    EXPECT_EQ(s.root.children[0].bodySize, blob.size());
    EXPECT_EQ(s.root.children[0].bodyLines, 1u);
    EXPECT_EQ(bodyOf(message, s.root.children[1]), "after");
}

TEST(Robustness, ParserIsReadyForTheNextMessageAfterFinish)
{
    StructureParser parser;
    const std::string first = richMessage();
    parser.feed(first.data(), first.size());
    const auto a = parser.finish();
    const std::string second = crlf("Subject: second\n\nhi\n");
    parser.feed(second.data(), second.size());
    const auto b = parser.finish();
    EXPECT_EQ(a, parseMessage(first));
    EXPECT_EQ(b, parseMessage(second));
    EXPECT_EQ(b.envelope.subject, "second");
}
