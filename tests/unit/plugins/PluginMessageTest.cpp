// MessageView: parts numbered as IMAP numbers them, header fields, and part
// bytes streamed raw or decoded from real encrypted blobs.
#include "plugins/PluginMessage.h"

#include "TempMailboxStore.h"

#include <Poco/Base64Encoder.h>
#include <Poco/Net/QuotedPrintableEncoder.h>

#include <gtest/gtest.h>

#include <sstream>

using namespace plexus;
using plugins::MessageView;
using plugins::PartInfo;
using plugins::ReadMode;
using plugins::test::crlf;

namespace {

// Bytes a text protocol would mangle: NUL, 0xFF, CR, LF, every other value.
std::string binaryBytes(std::size_t size)
{
    std::string bytes = std::string("%PDF-1.4\n\x00\xff\r\n\x01\xfe", 14);
    for (std::size_t i = bytes.size(); i < size; ++i) bytes += static_cast<char>((i * 131 + i / 7) & 0xff);
    bytes.resize(size);
    return bytes;
}

// Poco's encoder writes CRLF-separated lines of 72 characters.
std::string base64(const std::string& bytes)
{
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder << bytes;
    encoder.close();
    return out.str();
}

const std::string kPdf = binaryBytes(600);
const std::string kPdfBase64 = base64(kPdf);
const std::string kQuotedText = "Bonjour,\r\nR=C3=A9sultats d'=C3=A9chographie ci-=\r\njoints.";

// 1 text/plain (QP), 2 base64 PDF, 3 message/rfc822 holding a multipart
// (3.1 text/plain, 3.2 text/xml), 4 message/rfc822 holding one text part.
std::string richMessage()
{
    return crlf("Received: from labo.mssante.fr\n"
                "\tby plexus.test; Tue, 4 Jun 2024 09:30:00 +0200\n"
                "Received: from secretariat.chu.mssante.fr\n"
                " by labo.mssante.fr; Tue, 4 Jun 2024 09:29:00 +0200\n"
                "From: =?UTF-8?Q?Dr_Ren=C3=A9e_Martin?= <renee.martin@chu.mssante.fr>\n"
                "To: jean.dupont@ch.mssante.fr\n"
                "Subject: =?UTF-8?Q?R=C3=A9sultats?=\n"
                " du patient\n"
                "Message-ID: <a1b2c3@chu.mssante.fr>\n"
                "X-MSS-Patient-INS: 1234567890123\n"
                "MIME-Version: 1.0\n"
                "Content-Type: multipart/mixed; boundary=\"outer\"\n"
                "\n"
                "Preamble.\n"
                "--outer\n"
                "Content-Type: text/plain; charset=UTF-8\n"
                "Content-Transfer-Encoding: Quoted-Printable\n"
                "\n") +
           kQuotedText + "\r\n" +
           crlf("--outer\n"
                "Content-Type: application/pdf; name=\"ancien-nom.pdf\"\n"
                "Content-Transfer-Encoding: base64\n"
                "Content-Disposition: ATTACHMENT; filename=\"compte-rendu.pdf\"\n"
                "\n") +
           kPdfBase64 + "\r\n" +
           crlf("--outer\n"
                "Content-Type: message/rfc822\n"
                "\n"
                "From: Labo <labo@labo.mssante.fr>\n"
                "Subject: Transfert\n"
                "Content-Type: multipart/mixed; boundary=inner\n"
                "\n"
                "--inner\n"
                "Content-Type: text/plain; charset=us-ascii\n"
                "\n"
                "Texte brut\n"
                "--inner\n"
                "Content-Type: text/xml; name=cda.xml\n"
                "\n"
                "<ClinicalDocument/>\n"
                "--inner--\n"
                "--outer\n"
                "Content-Type: message/rfc822\n"
                "\n"
                "Subject: Simple\n"
                "\n"
                "Corps simple\n"
                "--outer--\n"
                "Epilogue.\n");
}

std::string readAll(plugins::PartStream stream, std::size_t bufferSize = 4096)
{
    std::string out;
    std::string buffer(bufferSize, '\0');
    while (const std::size_t got = stream.read(buffer.data(), buffer.size())) out.append(buffer.data(), got);
    return out;
}

class MessageViewTest : public ::testing::Test {
protected:
    MessageView view(const std::string& content) const
    {
        auto received = store_.receive(content);
        return MessageView(store_.store(), received.blobPath, std::move(received.structure));
    }

    plugins::test::TempMailboxStore store_;
};

TEST_F(MessageViewTest, SummarizesTheMessage)
{
    const std::string content = richMessage();
    const auto message = view(content);
    EXPECT_EQ(message.size(), content.size());
    EXPECT_EQ(message.messageId(), "<a1b2c3@chu.mssante.fr>");
    EXPECT_EQ(message.subject(), "=?UTF-8?Q?R=C3=A9sultats?= du patient");
    EXPECT_EQ(message.from(), "renee.martin@chu.mssante.fr");
}

TEST_F(MessageViewTest, FromIsEmptyWithoutACompleteAddress)
{
    EXPECT_EQ(view(crlf("Subject: x\n\nbody\n")).from(), "");
    EXPECT_EQ(view(crlf("From: Team: ;\nSubject: x\n\nbody\n")).from(), "");
    EXPECT_EQ(view(crlf("From: Team: a@x.test;\n\nbody\n")).from(), "a@x.test");
}

TEST_F(MessageViewTest, NumbersPartsAsImapDoes)
{
    const auto message = view(richMessage());
    const auto& parts = message.parts();
    ASSERT_EQ(parts.size(), 9u);
    const auto summary = [](const PartInfo& part) {
        return part.section + " " + part.contentType + " depth " + std::to_string(part.depth) +
               (part.multipart ? " multipart" : "");
    };
    EXPECT_EQ(summary(parts[0]), " multipart/mixed depth 0 multipart");
    EXPECT_EQ(summary(parts[1]), "1 text/plain depth 1");
    EXPECT_EQ(summary(parts[2]), "2 application/pdf depth 1");
    EXPECT_EQ(summary(parts[3]), "3 message/rfc822 depth 1");
    EXPECT_EQ(summary(parts[4]), "3.TEXT multipart/mixed depth 2 multipart");
    EXPECT_EQ(summary(parts[5]), "3.1 text/plain depth 3");
    EXPECT_EQ(summary(parts[6]), "3.2 text/xml depth 3");
    EXPECT_EQ(summary(parts[7]), "4 message/rfc822 depth 1");
    EXPECT_EQ(summary(parts[8]), "4.1 text/plain depth 2");
}

TEST_F(MessageViewTest, DescribesEachPart)
{
    const auto message = view(richMessage());
    const auto& parts = message.parts();
    ASSERT_EQ(parts.size(), 9u);

    EXPECT_EQ(parts[1].charset, "UTF-8");
    EXPECT_EQ(parts[1].encoding, "quoted-printable");
    EXPECT_EQ(parts[1].disposition, "");
    EXPECT_EQ(parts[1].filename, "");
    EXPECT_EQ(parts[1].size, kQuotedText.size());

    // The Content-Disposition filename wins over the Content-Type name.
    EXPECT_EQ(parts[2].filename, "compte-rendu.pdf");
    EXPECT_EQ(parts[2].disposition, "attachment");
    EXPECT_EQ(parts[2].encoding, "base64");
    EXPECT_EQ(parts[2].charset, "");
    EXPECT_EQ(parts[2].size, kPdfBase64.size());

    EXPECT_EQ(parts[6].filename, "cda.xml");
    EXPECT_EQ(parts[6].size, std::string("<ClinicalDocument/>").size());
    EXPECT_EQ(parts[8].encoding, "7bit");
    EXPECT_EQ(parts[8].charset, "us-ascii");  // RFC 2045 §5.2 default
}

TEST_F(MessageViewTest, ASinglePartMessageIsItsRootOnly)
{
    const auto message = view(crlf("Subject: x\nContent-Type: Text/HTML; charset=utf-8\n\n<p>Bonjour</p>\n"));
    ASSERT_EQ(message.parts().size(), 1u);
    EXPECT_EQ(message.parts()[0].section, "");
    EXPECT_EQ(message.parts()[0].contentType, "text/html");
    EXPECT_EQ(readAll(message.read(0, ReadMode::Raw)), "<p>Bonjour</p>\r\n");
}

TEST_F(MessageViewTest, PartsOfAnEncapsulatedMessageAtTheRootContinueFromOne)
{
    const auto message = view(crlf("Subject: fwd\nContent-Type: message/rfc822\n\n"
                                   "Subject: inner\nContent-Type: multipart/mixed; boundary=b\n\n"
                                   "--b\n\nun\n--b\n\ndeux\n--b--\n"));
    std::vector<std::string> sections;
    for (const auto& part : message.parts()) sections.push_back(part.section);
    EXPECT_EQ(sections, (std::vector<std::string>{"", "1.TEXT", "1.1", "1.2"}));
    EXPECT_EQ(readAll(message.read(3, ReadMode::Raw)), "deux");
}

TEST_F(MessageViewTest, ReadsTheWholeMessage)
{
    const std::string content = richMessage();
    const auto message = view(content);
    EXPECT_EQ(readAll(message.read(MessageView::kWholeMessage, ReadMode::Raw)), content);
    EXPECT_EQ(readAll(message.read(MessageView::kWholeMessage, ReadMode::Decoded)), content);
}

TEST_F(MessageViewTest, ReadsPartsRawAsStored)
{
    const auto message = view(richMessage());
    EXPECT_EQ(readAll(message.read(1, ReadMode::Raw)), kQuotedText);
    EXPECT_EQ(readAll(message.read(2, ReadMode::Raw)), kPdfBase64);
    EXPECT_EQ(readAll(message.read(5, ReadMode::Raw)), "Texte brut");
    EXPECT_EQ(readAll(message.read(8, ReadMode::Raw)), "Corps simple");
    // A message/rfc822 part's body is the whole encapsulated message.
    EXPECT_EQ(readAll(message.read(7, ReadMode::Raw)), "Subject: Simple\r\n\r\nCorps simple");
}

TEST_F(MessageViewTest, ReadsPartsDecoded)
{
    const auto message = view(richMessage());
    EXPECT_EQ(readAll(message.read(1, ReadMode::Decoded)), "Bonjour,\r\nRésultats d'échographie ci-joints.");
    EXPECT_EQ(readAll(message.read(2, ReadMode::Decoded)), kPdf);
    EXPECT_EQ(readAll(message.read(6, ReadMode::Decoded)), "<ClinicalDocument/>");  // 7bit: as stored
}

TEST_F(MessageViewTest, StreamsALargeAttachmentThroughASmallBuffer)
{
    const std::string attachment = binaryBytes(3 << 20);
    const std::string encoded = base64(attachment);
    const auto message = view(crlf("Subject: gros\nContent-Type: application/zip; name=IHE_XDM.ZIP\n"
                                   "Content-Transfer-Encoding: base64\n\n") +
                              encoded + "\r\n");
    ASSERT_EQ(message.parts().size(), 1u);
    EXPECT_EQ(message.parts()[0].filename, "IHE_XDM.ZIP");
    const std::string decoded = readAll(message.read(0, ReadMode::Decoded), 1024);
    EXPECT_EQ(decoded.size(), attachment.size());
    EXPECT_TRUE(decoded == attachment);  // not EXPECT_EQ: a mismatch would print 3 MB
    EXPECT_TRUE(readAll(message.read(0, ReadMode::Raw), 1000) == encoded + "\r\n");
}

TEST_F(MessageViewTest, DecodesQuotedPrintableAcrossChunks)
{
    std::string text;
    while (text.size() < 100000) text += "Échographie abdominale: foie normal, rate normale. ";
    text += "Fin.";  // Poco's encoder drops a trailing space
    std::ostringstream out;
    Poco::Net::QuotedPrintableEncoder encoder(out);
    encoder << text;
    encoder.close();
    const auto message = view(crlf("Subject: long\nContent-Type: text/plain; charset=utf-8\n"
                                   "Content-Transfer-Encoding: quoted-printable\n\n") +
                              out.str());
    EXPECT_TRUE(readAll(message.read(0, ReadMode::Decoded), 1024) == text);
}

TEST_F(MessageViewTest, MalformedBase64IsAnError)
{
    const auto message = view(crlf("Subject: x\nContent-Transfer-Encoding: base64\n\nnot*base64\n"));
    auto stream = message.read(0, ReadMode::Decoded);
    char buffer[64];
    try {
        stream.read(buffer, sizeof buffer);
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("malformed base64 content: ", 0), 0u) << e.what();
    }
    EXPECT_THROW(stream.read(buffer, sizeof buffer), std::runtime_error);  // not taken for the end
}

TEST_F(MessageViewTest, StreamsOutliveTheirView)
{
    std::optional<plugins::PartStream> stream;
    {
        const auto message = view(richMessage());
        stream.emplace(message.read(5, ReadMode::Raw));
    }
    EXPECT_EQ(readAll(std::move(*stream)), "Texte brut");
}

TEST_F(MessageViewTest, ABadPartIndexThrows)
{
    const auto message = view(richMessage());
    EXPECT_THROW(message.read(9, ReadMode::Raw), std::out_of_range);
    EXPECT_THROW(message.read(1000, ReadMode::Decoded), std::out_of_range);
}

TEST_F(MessageViewTest, ReadsTopLevelHeaderFields)
{
    const auto message = view(richMessage());
    EXPECT_EQ(message.header("Subject", 0), "=?UTF-8?Q?R=C3=A9sultats?= du patient");  // unfolded, not decoded
    EXPECT_EQ(message.header("received", 0), "from labo.mssante.fr\tby plexus.test; Tue, 4 Jun 2024 09:30:00 +0200");
    EXPECT_EQ(message.header("RECEIVED", 1),
              "from secretariat.chu.mssante.fr by labo.mssante.fr; Tue, 4 Jun 2024 09:29:00 +0200");
    EXPECT_EQ(message.header("Received", 2), std::nullopt);
    EXPECT_EQ(message.header("X-Absent", 0), std::nullopt);
    // Fields of the parts and of encapsulated messages are not top-level ones.
    EXPECT_EQ(message.header("Content-Transfer-Encoding", 0), std::nullopt);
    EXPECT_EQ(message.header("subject", 1), std::nullopt);
}

TEST_F(MessageViewTest, HeaderFieldsKeepEightBitValues)
{
    const auto message = view(crlf("X-Note: d\xC3\xA9j\xC3\xA0 vu\n\nbody\n"));
    EXPECT_EQ(message.header("x-note", 0), "d\xC3\xA9j\xC3\xA0 vu");
}

}  // namespace
