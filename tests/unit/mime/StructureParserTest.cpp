#include "mime/StructureParser.h"

#include "TestMessages.h"

#include <gtest/gtest.h>

using namespace plexus::mime;
using namespace plexus::mime::test;

namespace {

// The offset just past the first occurrence of `marker` (a whole line, line break included).
std::uint64_t after(std::string_view message, std::string_view marker)
{
    return message.find(marker) + marker.size();
}

std::size_t treeDepth(const BodyPart& part)
{
    std::size_t deepest = 0;
    for (const auto& child : part.children) deepest = std::max(deepest, treeDepth(child));
    return deepest + 1;
}

std::size_t partCount(const BodyPart& part)
{
    std::size_t count = 1;
    for (const auto& child : part.children) count += partCount(child);
    return count;
}

const std::string kMixedWithAttachment =
    "From: Laboratoire <lab@labo.mssante.fr>\n"
    "To: dr.martin@medecin.mssante.fr\n"
    "Subject: Resultats\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"XYZ\"\n"
    "\n"
    "--XYZ\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Voir pi\xC3\xA8" "ce jointe.\n"
    "Cordialement\n"
    "--XYZ\n"
    "Content-Type: application/pdf; name=\"cr.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "Content-Disposition: attachment; filename=\"cr.pdf\"\n"
    "\n"
    "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29kZT4+\n"
    "c3RyZWFtCnicK+QyVDAAQVNTUw==\n"
    "--XYZ--\n";

}  // namespace

TEST(StructureParser, SimpleTextMessage)
{
    const std::string message = crlf(
        "From: Dr Martin <martin@hopital.fr>\n"
        "Subject: Compte rendu\n"
        "\n"
        "Bonjour,\n"
        "ci-joint.\n");
    const auto s = parseMessage(message);
    EXPECT_EQ(s.size, message.size());
    EXPECT_EQ(s.root.type, "text");
    EXPECT_EQ(s.root.subtype, "plain");
    ASSERT_EQ(s.root.params.size(), 1u);
    EXPECT_EQ(s.root.param("CHARSET"), "us-ascii");  // RFC 2045 §5.2 default
    EXPECT_EQ(s.root.encoding, "7bit");
    EXPECT_EQ(s.headerSize, after(message, "\r\n\r\n"));
    EXPECT_EQ(s.root.headerOffset, 0u);
    EXPECT_EQ(s.root.headerSize, s.headerSize);
    EXPECT_EQ(s.root.bodyOffset, s.headerSize);
    EXPECT_EQ(bodyOf(message, s.root), "Bonjour,\r\nci-joint.\r\n");
    EXPECT_EQ(s.root.bodyLines, 2u);
    EXPECT_TRUE(s.root.children.empty());
    EXPECT_FALSE(s.root.envelope);
}

TEST(StructureParser, MultipartMixedWithBase64Attachment)
{
    const std::string message = crlf(kMixedWithAttachment);
    const auto s = parseMessage(message);
    EXPECT_EQ(s.root.type, "multipart");
    EXPECT_EQ(s.root.subtype, "mixed");
    EXPECT_EQ(s.root.param("boundary"), "XYZ");
    EXPECT_EQ(bodyOf(message, s.root), message.substr(s.headerSize));
    EXPECT_EQ(s.root.bodyLines, 14u);
    ASSERT_EQ(s.root.children.size(), 2u);

    const auto& text = s.root.children[0];
    EXPECT_EQ(text.headerOffset, after(message, "--XYZ\r\n"));
    EXPECT_EQ(headerOf(message, text),
              "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
    EXPECT_EQ(text.bodyOffset, text.headerOffset + text.headerSize);
    EXPECT_EQ(bodyOf(message, text), "Voir pi\xC3\xA8" "ce jointe.\r\nCordialement");
    EXPECT_EQ(text.bodyLines, 2u);
    EXPECT_EQ(text.encoding, "8bit");
    EXPECT_EQ(text.param("charset"), "utf-8");

    const auto& pdf = s.root.children[1];
    EXPECT_EQ(pdf.type, "application");
    EXPECT_EQ(pdf.subtype, "pdf");
    EXPECT_EQ(pdf.encoding, "base64");
    EXPECT_EQ(pdf.disposition, "attachment");
    EXPECT_EQ(bodyOf(message, pdf),
              "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29kZT4+\r\n"
              "c3RyZWFtCnicK+QyVDAAQVNTUw==");
    EXPECT_EQ(pdf.bodyLines, 2u);
    EXPECT_EQ(headerOf(message, pdf).substr(0, 13), "Content-Type:");
    EXPECT_EQ(headerOf(message, pdf).substr(pdf.headerSize - 4), "\r\n\r\n");
}

TEST(StructureParser, NestedAlternativeInsideMixed)
{
    const std::string message = crlf(
        "Content-Type: multipart/mixed; boundary=outer\n"
        "\n"
        "--outer\n"
        "Content-Type: multipart/alternative; boundary=inner\n"
        "\n"
        "--inner\n"
        "Content-Type: text/plain\n"
        "\n"
        "plain\n"
        "--inner\n"
        "Content-Type: text/html\n"
        "\n"
        "<p>html</p>\n"
        "--inner--\n"
        "--outer\n"
        "Content-Type: image/png\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "iVBORw0KGgo=\n"
        "--outer--\n");
    const auto s = parseMessage(message);
    ASSERT_EQ(s.root.children.size(), 2u);
    const auto& alternative = s.root.children[0];
    EXPECT_EQ(alternative.subtype, "alternative");
    ASSERT_EQ(alternative.children.size(), 2u);
    EXPECT_EQ(bodyOf(message, alternative.children[0]), "plain");
    EXPECT_EQ(alternative.children[1].subtype, "html");
    EXPECT_EQ(bodyOf(message, alternative.children[1]), "<p>html</p>");
    // The alternative's body runs to the line break before "--outer", its close delimiter included.
    EXPECT_EQ(bodyOf(message, alternative).substr(0, 9), "--inner\r\n");
    EXPECT_EQ(bodyOf(message, alternative).substr(alternative.bodySize - 9), "--inner--");
    EXPECT_EQ(alternative.bodyLines, 9u);
    EXPECT_EQ(bodyOf(message, s.root.children[1]), "iVBORw0KGgo=");
}

TEST(StructureParser, MessageRfc822AttachmentWithItsOwnMultipart)
{
    const std::string message = crlf(
        "Subject: outer\n"
        "Content-Type: multipart/mixed; boundary=m\n"
        "\n"
        "--m\n"
        "Content-Type: text/plain\n"
        "\n"
        "see attached\n"
        "--m\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "From: \"Lab\" <lab@labo.fr>\n"
        "Subject: inner\n"
        "Content-Type: multipart/alternative; boundary=alt\n"
        "\n"
        "--alt\n"
        "Content-Type: text/plain\n"
        "\n"
        "inner text\n"
        "--alt\n"
        "Content-Type: text/html\n"
        "\n"
        "<b>inner</b>\n"
        "--alt--\n"
        "--m--\n");
    const auto s = parseMessage(message);
    EXPECT_EQ(s.envelope.subject, "outer");
    ASSERT_EQ(s.root.children.size(), 2u);
    const auto& attached = s.root.children[1];
    EXPECT_EQ(attached.type, "message");
    EXPECT_EQ(attached.subtype, "rfc822");
    ASSERT_TRUE(attached.isEncapsulatedMessage());
    EXPECT_EQ(attached.envelope->subject, "inner");
    ASSERT_EQ(attached.envelope->from.size(), 1u);
    EXPECT_EQ(attached.envelope->from[0].name, "Lab");
    EXPECT_EQ(attached.envelope->from[0].host, "labo.fr");
    EXPECT_EQ(bodyOf(message, attached).substr(0, 25), "From: \"Lab\" <lab@labo.fr>");
    EXPECT_EQ(attached.bodyLines, 13u);

    ASSERT_EQ(attached.children.size(), 1u);
    const auto& inner = attached.children[0];
    EXPECT_EQ(inner.headerOffset, attached.bodyOffset);
    EXPECT_EQ(inner.bodyOffset + inner.bodySize, attached.bodyOffset + attached.bodySize);
    EXPECT_EQ(headerOf(message, inner).substr(inner.headerSize - 4), "\r\n\r\n");
    EXPECT_EQ(inner.subtype, "alternative");
    ASSERT_EQ(inner.children.size(), 2u);
    EXPECT_EQ(bodyOf(message, inner.children[0]), "inner text");
    EXPECT_EQ(bodyOf(message, inner.children[1]), "<b>inner</b>");
}

TEST(StructureParser, BoundariesThatArePrefixesOfOneAnother)
{
    // The inner multipart lacks its close delimiter, so both boundaries are live
    // when the outer one comes back: only a whole-line match may count.
    for (const auto& [outer, inner] : {std::pair{"b", "b-2"}, std::pair{"frontier-long", "frontier"}}) {
        const std::string o = outer, i = inner;
        const std::string message = crlf("Content-Type: multipart/mixed; boundary=\"" + o + "\"\n\n--" + o +
                                         "\nContent-Type: multipart/alternative; boundary=\"" + i + "\"\n\n--" + i +
                                         "\n\none\n--" + i + "\n\ntwo\n--" + o + "\n\nthree\n--" + o + "--\n");
        const auto s = parseMessage(message);
        ASSERT_EQ(s.root.children.size(), 2u) << outer;
        ASSERT_EQ(s.root.children[0].children.size(), 2u) << outer;
        EXPECT_EQ(bodyOf(message, s.root.children[0].children[0]), "one");
        EXPECT_EQ(bodyOf(message, s.root.children[0].children[1]), "two");
        EXPECT_EQ(bodyOf(message, s.root.children[1]), "three");
    }
}

TEST(StructureParser, PreambleAndEpilogueAreNotParts)
{
    const std::string message = crlf(
        "Content-Type: multipart/mixed; boundary=e\n"
        "\n"
        "This is the preamble.\n"
        "--e is not a boundary\n"
        "--e\n"
        "\n"
        "body\n"
        "--e--\n"
        "This is the epilogue.\n"
        "--e\n"
        "not a part\n");
    const auto s = parseMessage(message);
    ASSERT_EQ(s.root.children.size(), 1u);
    EXPECT_EQ(bodyOf(message, s.root.children[0]), "body");
    EXPECT_EQ(bodyOf(message, s.root), message.substr(s.headerSize));
    EXPECT_EQ(s.root.bodyLines, 9u);
}

TEST(StructureParser, BareLfGivesTheSameStructureAsCrlf)
{
    const std::string lf = kMixedWithAttachment;
    const auto withLf = parseMessage(lf);
    const auto withCrlf = parseMessage(crlf(lf));
    ASSERT_EQ(withLf.root.children.size(), 2u);
    EXPECT_EQ(withLf.headerSize, after(lf, "\n\n"));
    EXPECT_EQ(bodyOf(lf, withLf.root.children[0]), "Voir pi\xC3\xA8" "ce jointe.\nCordialement");
    for (std::size_t i = 0; i < 2; ++i) {
        const auto& a = withLf.root.children[i];
        const auto& b = withCrlf.root.children[i];
        EXPECT_EQ(a.type, b.type);
        EXPECT_EQ(a.dispositionParams, b.dispositionParams);
        EXPECT_EQ(a.bodyLines, b.bodyLines);
        EXPECT_EQ(crlf(bodyOf(lf, a)), bodyOf(crlf(lf), b));
    }
    EXPECT_EQ(withLf.root.bodyLines, withCrlf.root.bodyLines);
}

TEST(StructureParser, MissingFinalBoundaryEndsEveryPartAtTheEnd)
{
    const std::string message = crlf(
        "Content-Type: multipart/mixed; boundary=x\n"
        "\n"
        "--x\n"
        "Content-Type: multipart/alternative; boundary=y\n"
        "\n"
        "--y\n"
        "Content-Type: text/plain\n"
        "\n"
        "last words\n");
    const auto s = parseMessage(message);
    ASSERT_EQ(s.root.children.size(), 1u);
    ASSERT_EQ(s.root.children[0].children.size(), 1u);
    const auto& text = s.root.children[0].children[0];
    EXPECT_EQ(bodyOf(message, text), "last words\r\n");
    EXPECT_EQ(text.bodyLines, 1u);
    for (const BodyPart* part : {&s.root, &s.root.children[0], &text}) {
        EXPECT_EQ(part->bodyOffset + part->bodySize, message.size());
    }
}

TEST(StructureParser, PaddingAfterBoundaryAndCloseDelimiterWithoutLineBreak)
{
    const std::string message = crlf("Content-Type: multipart/mixed; boundary=x\n\n--x \t\n\na\nb\n--x--  ");
    const auto s = parseMessage(message);
    ASSERT_EQ(s.root.children.size(), 1u);
    EXPECT_EQ(bodyOf(message, s.root.children[0]), "a\r\nb");
    EXPECT_EQ(s.root.children[0].bodyLines, 2u);  // the last line has no line break of its own
    EXPECT_EQ(s.root.bodyOffset + s.root.bodySize, message.size());
}

TEST(StructureParser, BoundaryInsideAPartHeaderEndsThatHeader)
{
    const std::string message = crlf(
        "Content-Type: multipart/mixed; boundary=x\n"
        "\n"
        "--x\n"
        "Content-Type: text/html\n"
        "--x\n"
        "\n"
        "second\n"
        "--x--\n");
    const auto s = parseMessage(message);
    ASSERT_EQ(s.root.children.size(), 2u);
    const auto& cut = s.root.children[0];
    EXPECT_EQ(headerOf(message, cut), "Content-Type: text/html");
    EXPECT_EQ(cut.subtype, "html");
    EXPECT_EQ(cut.bodySize, 0u);
    EXPECT_EQ(cut.bodyLines, 0u);
    EXPECT_EQ(bodyOf(message, s.root.children[1]), "second");
}

TEST(StructureParser, EmptyLastPartStaysInsideItsParent)
{
    const std::string message = crlf(
        "Content-Type: multipart/mixed; boundary=o\n"
        "\n"
        "--o\n"
        "Content-Type: multipart/alternative; boundary=i\n"
        "\n"
        "--i\n"
        "--o--\n");
    const auto s = parseMessage(message);
    ASSERT_EQ(s.root.children.size(), 1u);
    const auto& alternative = s.root.children[0];
    ASSERT_EQ(alternative.children.size(), 1u);
    const auto& empty = alternative.children[0];
    EXPECT_EQ(empty.headerOffset, message.find("--o--"));
    EXPECT_EQ(empty.headerSize + empty.bodySize, 0u);
    EXPECT_EQ(alternative.bodyOffset + alternative.bodySize, empty.bodyOffset);
}

TEST(StructureParser, DigestPartsDefaultToMessageRfc822)
{
    const std::string message = crlf(
        "Content-Type: multipart/digest; boundary=d\n"
        "\n"
        "--d\n"
        "\n"
        "From: a@b.fr\n"
        "Subject: one\n"
        "\n"
        "first\n"
        "--d\n"
        "Content-Type: text/plain\n"
        "\n"
        "not a message\n"
        "--d--\n");
    const auto s = parseMessage(message);
    ASSERT_EQ(s.root.children.size(), 2u);
    const auto& digested = s.root.children[0];
    EXPECT_EQ(digested.type, "message");
    EXPECT_EQ(digested.subtype, "rfc822");
    EXPECT_TRUE(digested.params.empty());
    ASSERT_TRUE(digested.isEncapsulatedMessage());
    EXPECT_EQ(digested.envelope->subject, "one");
    ASSERT_EQ(digested.children.size(), 1u);
    EXPECT_EQ(bodyOf(message, digested.children[0]), "first");
    EXPECT_EQ(s.root.children[1].type, "text");
}

TEST(StructureParser, EncodedMessageRfc822IsALeaf)
{
    const std::string message = crlf(
        "Content-Type: message/rfc822\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "U3ViamVjdDogaGkNCg0KaGk=\n");
    const auto s = parseMessage(message);
    EXPECT_FALSE(s.root.isEncapsulatedMessage());
    EXPECT_TRUE(s.root.children.empty());
    EXPECT_EQ(bodyOf(message, s.root), "U3ViamVjdDogaGkNCg0KaGk=\r\n");
}

TEST(StructureParser, MultipartWithoutBoundaryHasNoParts)
{
    const std::string message = crlf("Content-Type: multipart/mixed\n\n--x\n\nbody\n--x--\n");
    const auto s = parseMessage(message);
    EXPECT_TRUE(s.root.isMultipart());
    EXPECT_TRUE(s.root.children.empty());
    EXPECT_EQ(bodyOf(message, s.root), message.substr(s.headerSize));
}

TEST(StructureParser, NoBlankLineMeansAllHeader)
{
    const std::string message = crlf("Subject: hi\nFrom: a@b.fr");
    const auto s = parseMessage(message);
    EXPECT_EQ(s.headerSize, message.size());
    EXPECT_EQ(s.root.bodySize, 0u);
    EXPECT_EQ(s.envelope.subject, "hi");
    ASSERT_EQ(s.envelope.from.size(), 1u);
    EXPECT_EQ(s.envelope.from[0].mailbox, "a");

    const auto empty = parseMessage("");
    EXPECT_EQ(empty.size, 0u);
    EXPECT_EQ(empty.root.type, "text");
}

namespace {

// `levels` multiparts nested in one another, a text part at the bottom.
std::string nestedMultiparts(int levels)
{
    std::string open, close;
    for (int i = 0; i < levels; ++i) {
        const std::string boundary = "b" + std::to_string(i);
        open += "Content-Type: multipart/mixed; boundary=" + boundary + "\n\n--" + boundary + "\n";
        close = "\n--" + boundary + "--" + close;
    }
    return crlf(open + "\nbottom" + close + "\n");
}

}  // namespace

TEST(StructureParser, DepthLimitMakesDeeperContainersLeaves)
{
    const std::string message = nestedMultiparts(5);
    EXPECT_EQ(treeDepth(parseMessage(message).root), 6u);
    const auto s = parseMessage(message, Limits{.maxDepth = 3});
    EXPECT_EQ(treeDepth(s.root), 3u);
    const auto& leaf = s.root.children[0].children[0];
    EXPECT_TRUE(leaf.isMultipart());
    EXPECT_TRUE(leaf.children.empty());
    EXPECT_NE(bodyOf(message, leaf).find("--b4"), std::string_view::npos);
    EXPECT_EQ(bodyOf(message, leaf).substr(leaf.bodySize - 6), "--b2--");
    EXPECT_EQ(treeDepth(parseMessage(nestedMultiparts(80)).root), Limits{}.maxDepth);
}

TEST(StructureParser, PartLimitLeavesTheRestToTheOpenPart)
{
    std::string text = "Content-Type: multipart/mixed; boundary=p\n\n";
    for (int i = 0; i < 20; ++i) text += "--p\n\npart " + std::to_string(i) + "\n";
    text += "--p--\n";
    const std::string message = crlf(text);
    EXPECT_EQ(parseMessage(message).root.children.size(), 20u);
    const auto s = parseMessage(message, Limits{.maxParts = 5});
    EXPECT_EQ(partCount(s.root), 5u);
    const auto& last = s.root.children.back();
    EXPECT_EQ(bodyOf(message, last).substr(0, 6), "part 3");
    EXPECT_EQ(last.bodyOffset + last.bodySize, message.size());
}
