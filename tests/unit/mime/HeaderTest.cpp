#include "mime/StructureParser.h"

#include "TestMessages.h"

#include <gtest/gtest.h>

using namespace plexus::mime;
using namespace plexus::mime::test;

namespace {

Address mailbox(std::string name, std::string local, std::string host)
{
    Address address;
    address.name = std::move(name);
    address.mailbox = std::move(local);
    address.host = std::move(host);
    return address;
}

Address groupStart(std::string name)
{
    return mailbox("", std::move(name), "");
}

std::vector<Parameter> params(std::initializer_list<std::pair<const char*, const char*>> entries)
{
    std::vector<Parameter> out;
    for (const auto& [name, value] : entries) out.push_back({name, value});
    return out;
}

}  // namespace

TEST(Envelope, RawValuesUnfoldedButNotDecoded)
{
    const auto s = parseMessage(crlf(
        "Date: Mon, 3 Jun 2024 10:00:00 +0200 (CEST)\n"
        "Subject: =?UTF-8?Q?R=C3=A9sultats?=\n"
        " =?UTF-8?Q?_biologie?=  \n"
        "Message-ID:  <abc.123@hopital.fr>\n"
        "In-Reply-To: <prev@labo.fr>\n"
        "\n"
        "x\n"));
    EXPECT_EQ(s.envelope.date, "Mon, 3 Jun 2024 10:00:00 +0200 (CEST)");
    EXPECT_EQ(s.envelope.subject, "=?UTF-8?Q?R=C3=A9sultats?= =?UTF-8?Q?_biologie?=");
    EXPECT_EQ(s.envelope.messageId, "<abc.123@hopital.fr>");
    EXPECT_EQ(s.envelope.inReplyTo, "<prev@labo.fr>");
}

TEST(Envelope, AddressesSplitForImap)
{
    const auto s = parseMessage(crlf(
        "From: \"Dupont, Jean\" <jean.dupont@medecin.mssante.fr>\n"
        "To: =?utf-8?q?J=C3=A9r=C3=B4me?= <j@x.fr>, plain@ex.org\n"
        "Cc: nobody\n"
        "Bcc: Jérôme Martin <jm@hôpital.fr>\n"
        "\n"));
    EXPECT_EQ(s.envelope.from, std::vector{mailbox("Dupont, Jean", "jean.dupont", "medecin.mssante.fr")});
    EXPECT_EQ(s.envelope.to, (std::vector{mailbox("=?utf-8?q?J=C3=A9r=C3=B4me?=", "j", "x.fr"),
                                          mailbox("", "plain", "ex.org")}));
    EXPECT_EQ(s.envelope.cc, std::vector{mailbox("", "nobody", std::string(Address::kMissingHost))});
    EXPECT_EQ(s.envelope.bcc, std::vector{mailbox("Jérôme Martin", "jm", "hôpital.fr")});  // RFC 6532
}

TEST(Envelope, GroupsAreFlattenedImapStyle)
{
    const auto s = parseMessage(crlf(
        "To: Equipe soins: a@b.fr, \"Dupont, Jean\" <jean@c.fr>;, solo@d.fr\n"
        "Cc: undisclosed-recipients:;\n"
        "\n"));
    const std::vector<Address> to{groupStart("Equipe soins"), mailbox("", "a", "b.fr"),
                                  mailbox("Dupont, Jean", "jean", "c.fr"), Address{}, mailbox("", "solo", "d.fr")};
    EXPECT_EQ(s.envelope.to, to);
    EXPECT_TRUE(s.envelope.to[0].isGroupStart());
    EXPECT_TRUE(s.envelope.to[3].isGroupEnd());
    EXPECT_FALSE(s.envelope.to[1].isGroupStart());
    EXPECT_EQ(s.envelope.cc, (std::vector{groupStart("undisclosed-recipients"), Address{}}));
}

TEST(Envelope, SenderAndReplyToFallBackToFromOnlyOnRequest)
{
    const auto s = parseMessage(crlf("From: a@b.fr\nReply-To: r@b.fr\n\n"));
    EXPECT_TRUE(s.envelope.sender.empty());
    EXPECT_EQ(s.envelope.imapSender(), s.envelope.from);
    EXPECT_EQ(s.envelope.imapReplyTo(), std::vector{mailbox("", "r", "b.fr")});
}

TEST(Envelope, MalformedHeaderLinesAreSkipped)
{
    const std::string message = crlf(
        "From foo@bar Mon Jun  3 10:00:00 2024\n"
        "this line is garbage\n"
        "Subj\xE9t: 8-bit name\n"
        "Subject: still read\n"
        "To: <<>>\n"
        "From: a@b.fr\n"
        "\n") +
                                std::string("body\0with nul\r\n", 15);
    const auto s = parseMessage(message);
    EXPECT_EQ(s.envelope.subject, "still read");
    EXPECT_EQ(s.envelope.from, std::vector{mailbox("", "a", "b.fr")});
    EXPECT_EQ(s.size, message.size());
}

TEST(Envelope, NulInAHeaderValueCutsOnlyThatValue)
{
    const char raw[] = "Subject: a\0b\r\nFrom: x@y.fr\r\n\r\nbody";
    const std::string message(raw, sizeof raw - 1);
    const auto s = parseMessage(message);
    EXPECT_EQ(s.envelope.subject, "a");
    EXPECT_EQ(s.envelope.from, std::vector{mailbox("", "x", "y.fr")});
    EXPECT_EQ(bodyOf(message, s.root), "body");
}

TEST(ContentFields, XdmAttachmentKeepsItsFilename)
{
    const std::string message = crlf(
        "From: lab@labo.mssante.fr\n"
        "To: dr@medecin.mssante.fr\n"
        "Subject: CR biologie\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"----=_Part_42_1.1717400000\"\n"
        "\n"
        "------=_Part_42_1.1717400000\n"
        "Content-Type: text/plain; charset=UTF-8\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "Veuillez trouver ci-joint le compte rendu.\n"
        "------=_Part_42_1.1717400000\n"
        "Content-Type: application/zip; name=IHE_XDM.ZIP\n"
        "Content-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; filename=\"IHE_XDM.ZIP\"; size=16\n"
        "\n"
        "UEsDBBQAAAAIAA==\n"
        "------=_Part_42_1.1717400000--\n");
    const auto s = parseMessage(message);
    ASSERT_EQ(s.root.children.size(), 2u);
    EXPECT_EQ(s.root.children[0].encoding, "quoted-printable");
    const auto& zip = s.root.children[1];
    EXPECT_EQ(zip.type, "application");
    EXPECT_EQ(zip.subtype, "zip");
    EXPECT_EQ(zip.params, params({{"name", "IHE_XDM.ZIP"}}));
    EXPECT_EQ(zip.disposition, "attachment");
    EXPECT_EQ(zip.dispositionParams, params({{"filename", "IHE_XDM.ZIP"}, {"size", "16"}}));
    EXPECT_EQ(bodyOf(message, zip), "UEsDBBQAAAAIAA==");
}

TEST(ContentFields, AllBodyStructureFields)
{
    const auto s = parseMessage(crlf(
        "Content-Type: Text/HTML; Charset=\"ISO-8859-1\"; format=flowed (comment)\n"
        "Content-Transfer-Encoding: Quoted-Printable\n"
        "Content-ID: <part1@hopital.fr>\n"
        "Content-Description: =?utf-8?q?Compte_rendu?=\n"
        "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
        "Content-Disposition: inline; creation-date=\"Mon, 3 Jun 2024 10:00:00 +0200\"; x-note=ok\n"
        "Content-Language: fr, en-US\n"
        "Content-Location: http://example.org/cr.html\n"
        "\n"));
    const auto& p = s.root;
    EXPECT_EQ(p.type, "text");
    EXPECT_EQ(p.subtype, "HTML");
    EXPECT_EQ(p.params, params({{"Charset", "ISO-8859-1"}, {"format", "flowed"}}));
    EXPECT_EQ(p.encoding, "quoted-printable");
    EXPECT_EQ(p.id, "<part1@hopital.fr>");
    EXPECT_EQ(p.description, "=?utf-8?q?Compte_rendu?=");
    EXPECT_EQ(p.md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
    EXPECT_EQ(p.disposition, "inline");
    EXPECT_EQ(p.dispositionParams,
              params({{"creation-date", "Mon, 3 Jun 2024 10:00:00 +0200"}, {"x-note", "ok"}}));
    EXPECT_EQ(p.language, (std::vector<std::string>{"fr", "en-US"}));
    EXPECT_EQ(p.location, "http://example.org/cr.html");
}

TEST(ContentFields, InvalidContentTypeMeansTheDefault)
{
    const auto s = parseMessage(crlf("Content-Type: /;\nContent-Transfer-Encoding: \n\n"));
    EXPECT_EQ(s.root.type, "text");
    EXPECT_EQ(s.root.subtype, "plain");
    EXPECT_EQ(s.root.param("charset"), "us-ascii");
    EXPECT_EQ(s.root.encoding, "7bit");
}

TEST(TopLevelHeaders, XMssAndReferencesAreIndexed)
{
    const std::string message = crlf(
        "X-MSS-Patient-INS: 1234567890123\n"
        "References: <a@b.fr>\n"
        " <c@d.fr>\n"
        "x-mss-custom: v\n"
        "X-Other: no\n"
        "Content-Type: multipart/mixed; boundary=x\n"
        "\n"
        "--x\n"
        "X-MSS-Inner: not top-level\n"
        "\n"
        "--x--\n");
    const auto s = parseMessage(message);
    EXPECT_EQ(s.header("x-mss-patient-ins"), "1234567890123");
    EXPECT_EQ(s.header("X-MSS-CUSTOM"), "v");
    EXPECT_EQ(s.header("References"), "<a@b.fr> <c@d.fr>");
    EXPECT_EQ(s.header("X-Other"), std::nullopt);
    EXPECT_EQ(s.header("X-MSS-Inner"), std::nullopt);
    EXPECT_EQ(headerOf(message, s.root).substr(0, 18), "X-MSS-Patient-INS:");

    const auto bounded = parseMessage(message, Limits{.maxIndexedHeaderBytes = 45});
    EXPECT_EQ(bounded.headers.size(), 2u);  // 30 + 13 bytes fit, the 27 of References do not
    EXPECT_EQ(bounded.header("References"), std::nullopt);
    EXPECT_EQ(bounded.header("x-mss-custom"), "v");
}

TEST(TopLevelHeaders, BeyondTheHeaderLimitTheBlockIsCountedNotParsed)
{
    const std::string message =
        crlf("Subject: kept\nX-Long: " + std::string(200, 'x') + "\nFrom: lost@b.fr\n\nbody\n");
    const auto s = parseMessage(message, Limits{.maxHeaderBytes = 64});
    EXPECT_EQ(s.envelope.subject, "kept");
    EXPECT_TRUE(s.envelope.from.empty());
    EXPECT_EQ(s.headerSize, message.find("body"));
    EXPECT_EQ(bodyOf(message, s.root), "body\r\n");
}
