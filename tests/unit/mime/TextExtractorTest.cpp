#include "mime/TextExtractor.h"

#include "mime/StructureParser.h"

#include "TestMessages.h"

#include <gtest/gtest.h>

using namespace plexus::mime;
using namespace plexus::mime::test;

namespace {

// Extracts from a whole message held in memory, recording the largest read.
struct Extraction {
    std::string message;
    std::uint64_t largestRead = 0;

    ExtractedText run(std::size_t maxBytes = 4 << 20)
    {
        const auto structure = parseMessage(message);
        return extractText(structure, [&](std::uint64_t offset, std::uint64_t length) {
            largestRead = std::max(largestRead, length);
            return std::string(slice(message, offset, length));
        }, maxBytes);
    }
};

ExtractedText extract(std::string_view text, std::size_t maxBytes = 4 << 20)
{
    return Extraction{crlf(text)}.run(maxBytes);
}

// A one-part message of that Content-Type and Content-Transfer-Encoding.
std::string singlePart(std::string_view contentType, std::string_view encoding, std::string_view body)
{
    return "From: lab@labo.mssante.fr\n"
           "Content-Type: " + std::string(contentType) + "\n"
           "Content-Transfer-Encoding: " + std::string(encoding) + "\n"
           "\n" + std::string(body);
}

bool contains(std::string_view text, std::string_view part)
{
    return text.find(part) != std::string_view::npos;
}

bool isValidUtf8(std::string_view text)
{
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const std::size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
        if (length == 0 || i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
        }
        i += length;
    }
    return true;
}

const std::string kReport =
    "From: =?UTF-8?Q?Laboratoire_d=27analyses_m=C3=A9dicales?= <lab@labo.mssante.fr>\n"
    "To: dr.martin@medecin.mssante.fr\n"
    "Subject: =?ISO-8859-1?Q?R=E9sultats_de_l'examen?=\n"
    "Date: Mon, 3 Jun 2024 10:00:00 +0200\n"
    "X-MSS-Patient-INS: 1234567890123\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n"
    "\n"
    "--outer\n"
    "Content-Type: multipart/alternative; boundary=alt\n"
    "\n"
    "--alt\n"
    "Content-Type: text/plain; charset=ISO-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Compte rendu de l'examen =E9chographique.\n"
    "R=E9sultat : normal. Pi=E8ce =\n"
    "jointe.\n"
    "--alt\n"
    "Content-Type: text/html; charset=\"utf-8\"\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "<p>Compte rendu de l&rsquo;examen <b>\xC3\xA9" "chographique</b>.</p>\n"
    "--alt--\n"
    "--outer\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "QmlsYW4gc2FuZ3VpbiA6IGjDqW1vZ2xvYmluZSAxNCBnL2RMLCBjcsOpYXRpbmluZSBub3JtYWxl\n"
    "Lg0K\n"
    "--outer\n"
    "Content-Type: application/pdf; name=\"cr.pdf\"\n"
    "Content-Disposition: attachment; filename=\"cr.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "JVBERi0xLjQgc2VjcmV0LXBkZi13b3Jkcw==\n"
    "--outer\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: confrere@hopital.mssante.fr\n"
    "Subject: Avis\n"
    "Content-Type: multipart/mixed; boundary=fwd\n"
    "\n"
    "--fwd\n"
    "Content-Type: text/plain; charset=windows-1252\n"
    "\n"
    "Texte transf\xE9r\xE9 \x80\n"
    "--fwd--\n"
    "--outer--\n";

}  // namespace

TEST(TextExtractor, HeaderFieldsAreDecoded)
{
    const auto text = extract(kReport);
    EXPECT_TRUE(contains(text.header, "From: Laboratoire d'analyses m\xC3\xA9" "dicales <lab@labo.mssante.fr>\n"));
    EXPECT_TRUE(contains(text.header, "To: dr.martin@medecin.mssante.fr\n"));
    EXPECT_TRUE(contains(text.header, "Subject: R\xC3\xA9sultats de l'examen\n"));
    EXPECT_TRUE(contains(text.header, "X-MSS-Patient-INS: 1234567890123\n"));
    EXPECT_FALSE(contains(text.header, "Avis"));  // the attached message's header is not the message's
    EXPECT_TRUE(text.header.starts_with("From: "));
    EXPECT_TRUE(text.header.ends_with("boundary=\"outer\"\n"));
}

TEST(TextExtractor, QuotedPrintableLatin1)
{
    const auto text = extract(kReport);
    EXPECT_TRUE(contains(text.body, "Compte rendu de l'examen \xC3\xA9" "chographique.\r\nR\xC3\xA9sultat : normal. Pi\xC3\xA8" "ce jointe."));
}

TEST(TextExtractor, Base64Utf8)
{
    const auto text = extract(kReport);
    EXPECT_TRUE(contains(text.body, "Bilan sanguin : h\xC3\xA9moglobine 14 g/dL, cr\xC3\xA9" "atinine normale."));
}

TEST(TextExtractor, HtmlAlternativeIsReducedToText)
{
    const auto text = extract(kReport);
    EXPECT_TRUE(contains(text.body, "Compte rendu de l\xE2\x80\x99" "examen \xC3\xA9" "chographique."));
    EXPECT_FALSE(contains(text.body, "<p>"));
}

TEST(TextExtractor, NestedMessageText)
{
    const auto text = extract(kReport);
    EXPECT_TRUE(contains(text.body, "Texte transf\xC3\xA9r\xC3\xA9 \xE2\x82\xAC"));  // windows-1252, euro sign
}

TEST(TextExtractor, BinaryAttachmentIsSkipped)
{
    const auto text = extract(kReport);
    EXPECT_FALSE(contains(text.body, "JVBERi0"));
    EXPECT_FALSE(contains(text.body, "secret-pdf-words"));
}

TEST(TextExtractor, PartsInOrderSeparatedByLineBreaks)
{
    const auto body = extract(kReport).body;
    const auto plain = body.find("Pi\xC3\xA8" "ce jointe.");
    const auto html = body.find("l\xE2\x80\x99" "examen");
    const auto base64 = body.find("Bilan sanguin");
    const auto nested = body.find("Texte transf");
    EXPECT_LT(plain, html);
    EXPECT_LT(html, base64);
    EXPECT_LT(base64, nested);
    EXPECT_EQ(body[nested - 1], '\n');
    EXPECT_TRUE(isValidUtf8(body));
}

TEST(TextExtractor, HtmlEntitiesTagsScriptsAndStyles)
{
    const auto html =
        "<html><head><title>CR</title><style>p { color: red }</style>"
        "<script type=\"text/javascript\">var x = '<p>hidden</p>';</script></head>\n"
        "<body><p class = \"a>b\">Caf&eacute; &amp; th&Eacute;&nbsp;: 5 &lt; 6 &gt; 4 &quot;ok&quot; "
        "&#233;&#xE9; &euro; &oelig;uvre</p>"
        "<!-- comment <b>hidden</b> -->"
        "<DIV title=l'avis>Ligne<BR/>suivante</DIV><p>a &unknown; b & c, x < y</p></body></html>";
    const auto text = extract(singlePart("text/html; charset=utf-8", "7bit", html));
    EXPECT_EQ(text.body,
              "CR\n"
              "Caf\xC3\xA9 & th\xC3\x89 : 5 < 6 > 4 \"ok\" \xC3\xA9\xC3\xA9 \xE2\x82\xAC \xC5\x93uvre\n"
              "Ligne\n"
              "suivante\n"
              "a &unknown; b & c, x < y");
}

TEST(TextExtractor, UnknownCharsetKeepsValidUtf8)
{
    const auto text = extract(singlePart("text/plain; charset=x-unknown", "8bit", "ok \xC3\xA9 \xFF\xC3 end"));
    EXPECT_EQ(text.body, "ok \xC3\xA9  end");
}

TEST(TextExtractor, UsAsciiAndMissingCharsetKeepValidUtf8)
{
    EXPECT_EQ(extract(singlePart("text/plain; charset=us-ascii", "8bit", "d\xC3\xA9j\xC3\xA0 \xE9")).body, "d\xC3\xA9j\xC3\xA0 ");
    EXPECT_EQ(extract("Subject: x\n\nd\xC3\xA9j\xC3\xA0").body, "d\xC3\xA9j\xC3\xA0");  // RFC 2045 default text/plain
}

TEST(TextExtractor, MalformedContentIsBestEffort)
{
    EXPECT_NO_THROW(extract(singlePart("text/plain; charset=utf-8", "base64", "!!!not*base64===\n\x01\x02")));
    EXPECT_NO_THROW(extract(singlePart("text/plain; charset=utf-16", "quoted-printable", "=ZZ=4\n=")));
    EXPECT_NO_THROW(extract(singlePart("text/html", "7bit", "<p <!-- <script>&#99999999; &#; &#x; &")));
    EXPECT_EQ(extract(singlePart("text/plain; charset=utf-8", "base64", "Qm9u*am91cg==")).body, "Bonjour");
    const auto html = extract(singlePart("text/html", "7bit", "a <script>never closed")).body;
    EXPECT_EQ(html, "a");
}

TEST(TextExtractor, OtherTextSubtypesAndEncodedMessagesAreSkipped)
{
    const auto calendar = extract(singlePart("text/calendar", "7bit", "BEGIN:VCALENDAR"));
    EXPECT_EQ(calendar.body, "");
    const auto encoded = extract(singlePart("message/rfc822", "base64", "U3ViamVjdDogeAoKeQ=="));
    EXPECT_EQ(encoded.body, "");
}

TEST(TextExtractor, LimitBoundsEachFieldAtCharacterBoundaries)
{
    std::string longText;
    for (int i = 0; i < 10000; ++i) longText += "\xC3\xA9t\xC3\xA9 ";
    Extraction extraction{crlf(singlePart("text/plain; charset=utf-8", "8bit", longText))};
    const auto text = extraction.run(101);
    EXPECT_LE(text.body.size(), 101u);
    EXPECT_GE(text.body.size(), 98u);
    EXPECT_TRUE(isValidUtf8(text.body));
    EXPECT_TRUE(longText.starts_with(text.body));
    EXPECT_LE(text.header.size(), 101u);
    EXPECT_TRUE(text.header.starts_with("From: lab@labo.mssante.fr\n"));
    EXPECT_LE(extraction.largestRead, 4 * 101u);  // a large part is not read whole

    const auto report = extract(kReport, 30);
    EXPECT_EQ(report.body, "Compte rendu de l'examen \xC3\xA9" "cho");
    EXPECT_EQ(report.header.size(), 30u);
    EXPECT_EQ(extract(kReport, 0).body, "");
    EXPECT_EQ(extract(kReport, 0).header, "");
}

TEST(TextExtractor, RichMessage)
{
    const auto message = richMessage();
    Extraction extraction{message};
    const auto text = extraction.run();
    EXPECT_TRUE(contains(text.header, "Subject: R\xC3\xA9sultats \xC3\xA9t\xC3\xA9\n"));  // raw Latin-1 read as such
    EXPECT_TRUE(contains(text.body, "Bonjour"));
    EXPECT_TRUE(contains(text.body, "forwarded text"));  // multipart part without header: text/plain
    EXPECT_FALSE(contains(text.body, "UEsDB"));  // the XDM zip
    EXPECT_FALSE(contains(text.body, "PK"));
    EXPECT_TRUE(isValidUtf8(text.body));
}
