#include "mime/StructureParser.h"

#include "TestMessages.h"

#include <gtest/gtest.h>

#include <random>

using namespace plexus::mime;
using namespace plexus::mime::test;

TEST(StructureJson, RoundTripIsLossless)
{
    const auto s = parseMessage(richMessage());
    ASSERT_EQ(s.root.children.size(), 3u);  // the fixture exercises what it claims
    ASSERT_TRUE(s.root.children[1].isEncapsulatedMessage());
    const std::string json = s.toJson();
    const auto back = MessageStructure::fromJson(json);
    EXPECT_EQ(back, s);
    EXPECT_EQ(back.toJson(), json);
    EXPECT_EQ(back.size, s.size);
    EXPECT_EQ(back.headerSize, s.headerSize);
    EXPECT_EQ(back.header("X-MSS-Patient-INS"), "1234567890123");
}

TEST(StructureJson, BytesThatAreNotUtf8Survive)
{
    std::mt19937 random(3);
    std::uniform_int_distribution<int> length(0, 12);
    const auto randomText = [&] {
        std::string text(length(random), '\0');
        for (char& c : text) c = static_cast<char>(random());
        return text;
    };
    for (int round = 0; round < 200; ++round) {
        MessageStructure s;
        s.envelope.subject = randomText();
        s.envelope.from.push_back({randomText(), randomText(), randomText(), randomText()});
        s.headers.push_back({"X-MSS-" + randomText(), randomText()});
        s.root.params.push_back({randomText(), randomText()});
        s.root.language.push_back(randomText());
        s.root.children.emplace_back().description = randomText();
        EXPECT_EQ(MessageStructure::fromJson(s.toJson()), s) << round;
    }
    MessageStructure latin1;
    latin1.envelope.subject = "\xE9t\xE9";
    EXPECT_NE(latin1.toJson().find("\"base64\""), std::string::npos);
}

TEST(StructureJson, EmptyFieldsAreLeftOut)
{
    const std::string json = parseMessage(crlf("Subject: hi\n\nbody\n")).toJson();
    EXPECT_EQ(json.find("\"id\""), std::string::npos);
    EXPECT_EQ(json.find("\"from\""), std::string::npos);
    EXPECT_EQ(json.find("\"parts\""), std::string::npos);
    EXPECT_NE(json.find("\"subject\":\"hi\""), std::string::npos);
    EXPECT_LT(json.size(), 200u);
}

TEST(StructureJson, RefusesWhatItDidNotWrite)
{
    EXPECT_ANY_THROW(MessageStructure::fromJson("not json"));
    EXPECT_ANY_THROW(MessageStructure::fromJson("{}"));
    std::string json = parseMessage("Subject: x\r\n\r\n").toJson();
    json.replace(json.find("\"v\":1"), 5, "\"v\":9");
    EXPECT_ANY_THROW(MessageStructure::fromJson(json));
}

TEST(StructureJson, DeepestStructureRoundTrips)
{
    std::string text;
    for (std::size_t i = 0; i < Limits{}.maxDepth; ++i) text += "Content-Type: message/rfc822\n\n";
    const auto s = parseMessage(crlf(text + "Subject: bottom\n\nhi\n"));
    EXPECT_EQ(MessageStructure::fromJson(s.toJson()), s);
}
