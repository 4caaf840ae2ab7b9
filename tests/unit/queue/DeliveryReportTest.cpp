#include "queue/DeliveryReport.h"

#include "mime/StructureParser.h"
#include "mime/Text.h"

#include <Poco/Net/QuotedPrintableDecoder.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

using namespace plexus;
using namespace std::chrono_literals;
using queue::RecipientAction;
using queue::ReportKind;

namespace {

std::string crlf(std::string_view text)
{
    std::string out;
    for (const char c : text) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

const std::string kOriginal = crlf(
    "Received: from client.a.test by mx.a.test; Mon, 6 Jan 2025 09:00:00 +0000\n"
    "From: Dr Martin <martin@a.test>\n"
    "To: dr.x@b.test\n"
    "Subject: Compte rendu\n"
    "Message-ID: <cr-42@a.test>\n"
    "X-MSS-NIL: Plexus\n"
    "\n"
    "Bonjour,\n"
    "le compte rendu suit.\n");

// 2025-01-06 09:00:00 UTC.
const queue::Clock::time_point kArrival = queue::Clock::time_point(std::chrono::seconds(1736154000));

// An original message in memory; records how far it was read.
struct Original {
    explicit Original(std::string bytes) : bytes(std::move(bytes)) {}

    queue::OriginalMessage message()
    {
        return {bytes.size(), [this](std::uint64_t offset, std::uint64_t length) {
                    furthestRead = std::max(furthestRead, offset + length);
                    return bytes.substr(offset, length);
                }};
    }

    std::string bytes;
    std::uint64_t furthestRead = 0;
};

queue::RecipientReport unknownUser()
{
    queue::RecipientReport recipient;
    recipient.finalRecipient = "dr.x@b.test";
    recipient.action = RecipientAction::Failed;
    recipient.status = "5.1.1";
    recipient.remoteMta = "mx.b.test";
    recipient.diagnostic = {"smtp", "550 5.1.1 <dr.x@b.test>: Recipient address rejected: unknown user"};
    recipient.lastAttempt = kArrival + 1min;
    return recipient;
}

queue::ReportInput failureOf(Original& original)
{
    queue::ReportInput input;
    input.kind = ReportKind::Failure;
    input.reportingMta = "mx.a.test";
    input.mailDomain = "a.test";
    input.sender = "martin@a.test";
    input.queueId = "0123456789ab";
    input.arrivalDate = kArrival;
    input.recipients = {unknownUser()};
    input.original = original.message();
    return input;
}

// The report as a client sees it: its structure and each part's body.
struct Report {
    explicit Report(std::string text) : text(std::move(text)), structure(mime::parseMessage(this->text)) {}

    const mime::BodyPart& part(std::size_t index) const { return structure.root.children.at(index); }
    std::string body(std::size_t index) const
    {
        const auto& p = part(index);
        return text.substr(p.bodyOffset, p.bodySize);
    }
    // Part 1, decoded from quoted-printable.
    std::string explanation() const
    {
        std::istringstream encoded(body(0));
        Poco::Net::QuotedPrintableDecoder decoder(encoded);
        return std::string(std::istreambuf_iterator<char>(decoder), {});
    }
    std::string header() const { return text.substr(0, structure.headerSize); }
    std::string subject() const { return mime::decodeHeaderValue(structure.envelope.subject); }

    std::string text;
    mime::MessageStructure structure;
};

// RFC 5322 §2.2.3.
std::string unfold(std::string text)
{
    for (std::size_t at; (at = text.find("\r\n ")) != std::string::npos;) text.erase(at, 2);
    return text;
}

bool hasLine(const std::string& text, const std::string& line)
{
    return text.starts_with(line + "\r\n") || text.find("\r\n" + line + "\r\n") != std::string::npos;
}

}  // namespace

// RFC 3464 §2 and RFC 6522: what a mail client looks at.
TEST(DeliveryReport, FailureIsAMultipartReportOfThreeParts)
{
    Original original(kOriginal);
    const Report report(queue::composeDeliveryReport(failureOf(original)));

    const auto& root = report.structure.root;
    EXPECT_EQ(root.type, "multipart");
    EXPECT_EQ(root.subtype, "report");
    EXPECT_EQ(root.param("report-type"), "delivery-status");
    ASSERT_EQ(root.children.size(), 3u);
    EXPECT_EQ(report.part(0).type + "/" + report.part(0).subtype, "text/plain");
    EXPECT_EQ(report.part(0).param("charset"), "utf-8");
    EXPECT_EQ(report.part(1).type + "/" + report.part(1).subtype, "message/delivery-status");
    EXPECT_EQ(report.part(2).type + "/" + report.part(2).subtype, "text/rfc822-headers");

    const auto& envelope = report.structure.envelope;
    ASSERT_EQ(envelope.from.size(), 1u);
    EXPECT_EQ(envelope.from[0].mailbox + "@" + envelope.from[0].host, "MAILER-DAEMON@a.test");
    EXPECT_EQ(mime::decodeHeaderValue(envelope.from[0].name), "Système de messagerie / Mail Delivery System");
    ASSERT_EQ(envelope.to.size(), 1u);
    EXPECT_EQ(envelope.to[0].mailbox + "@" + envelope.to[0].host, "martin@a.test");
    EXPECT_EQ(report.subject(), "Non remis / Undelivered Mail Returned to Sender: Compte rendu");
    EXPECT_TRUE(envelope.messageId.ends_with("@mx.a.test>")) << envelope.messageId;
    EXPECT_EQ(envelope.inReplyTo, "<cr-42@a.test>");
    EXPECT_FALSE(envelope.date.empty());
    EXPECT_TRUE(hasLine(report.header(), "Auto-Submitted: auto-replied"));
    EXPECT_TRUE(hasLine(report.header(), "MIME-Version: 1.0"));
}

TEST(DeliveryReport, DeliveryStatusFieldsOfAPermanentFailure)
{
    Original original(kOriginal);
    const Report report(queue::composeDeliveryReport(failureOf(original)));
    const std::string status = report.body(1);

    EXPECT_TRUE(status.starts_with("Reporting-MTA: dns; mx.a.test\r\n")) << status;
    EXPECT_TRUE(hasLine(status, "Arrival-Date: Mon, 6 Jan 2025 09:00:00 +0000"));
    EXPECT_TRUE(hasLine(status, "X-Plexus-Queue-Id: 0123456789ab"));
    EXPECT_EQ(status.find("Original-Envelope-Id"), std::string::npos);
    // A blank line, then the recipient's group (RFC 3464 §2.1).
    EXPECT_NE(status.find("\r\n\r\nFinal-Recipient: rfc822; dr.x@b.test\r\n"), std::string::npos) << status;
    EXPECT_TRUE(hasLine(status, "Action: failed"));
    EXPECT_TRUE(hasLine(status, "Status: 5.1.1"));
    EXPECT_TRUE(hasLine(status, "Remote-MTA: dns; mx.b.test"));
    EXPECT_TRUE(hasLine(status, "Last-Attempt-Date: Mon, 6 Jan 2025 09:01:00 +0000"));
    EXPECT_EQ(status.find("Will-Retry-Until"), std::string::npos);
    // The peer's reply kept word for word, folded (RFC 5322 §2.2.3).
    EXPECT_TRUE(hasLine(unfold(status), "Diagnostic-Code: smtp; 550 5.1.1 <dr.x@b.test>: Recipient address "
                                        "rejected: unknown user"))
        << status;
}

TEST(DeliveryReport, FailureExplainedInFrenchThenEnglish)
{
    Original original(kOriginal);
    const std::string text = Report(queue::composeDeliveryReport(failureOf(original))).explanation();

    const auto french = text.find("Votre message n'a pas pu être remis");
    const auto english = text.find("Your message could not be delivered");
    ASSERT_NE(french, std::string::npos) << text;
    ASSERT_NE(english, std::string::npos) << text;
    EXPECT_LT(french, english);
    EXPECT_NE(text.find("Motif : adresse du destinataire inconnue (5.1.1)"), std::string::npos) << text;
    EXPECT_NE(text.find("Reason: the recipient's address does not exist (5.1.1)"), std::string::npos);
    EXPECT_NE(text.find("Réponse de mx.b.test : 550 5.1.1 <dr.x@b.test>: Recipient address rejected: unknown user"),
              std::string::npos);
    EXPECT_NE(text.find("Les en-têtes du message d'origine sont joints."), std::string::npos);
    EXPECT_NE(text.find("postmaster@a.test"), std::string::npos);
}

// RFC 3461 §4.3: RET=HDRS, or no RET, returns the header lines only, read alone.
TEST(DeliveryReport, HeaderOnlyByDefault)
{
    Original original(kOriginal + std::string(100000, 'x') + "\r\n");
    const Report report(queue::composeDeliveryReport(failureOf(original)));

    const std::string headers = report.body(2);
    EXPECT_TRUE(headers.starts_with("Received: from client.a.test")) << headers;
    EXPECT_TRUE(headers.ends_with("X-MSS-NIL: Plexus\r\n")) << headers;  // without the blank line (RFC 6522 §4)
    EXPECT_EQ(report.part(2).encoding, "7bit");
    EXPECT_EQ(report.structure.root.encoding, "7bit");
    EXPECT_LT(original.furthestRead, original.bytes.size() / 4);  // the body was not read
}

TEST(DeliveryReport, RetFullReturnsTheWholeMessage)
{
    Original original(kOriginal);
    auto input = failureOf(original);
    input.returnFull = true;
    const Report report(queue::composeDeliveryReport(input));

    EXPECT_EQ(report.part(2).type + "/" + report.part(2).subtype, "message/rfc822");
    ASSERT_TRUE(report.part(2).isEncapsulatedMessage());
    EXPECT_EQ(report.part(2).envelope->subject, "Compte rendu");
    EXPECT_EQ(report.body(2), kOriginal);
    EXPECT_NE(report.explanation().find("The original message is attached."), std::string::npos);
}

// RFC 3461 §4.3 allows the header only for a message too large to return.
TEST(DeliveryReport, RetFullAboveTheLimitReturnsTheHeaderOnly)
{
    Original original(kOriginal + std::string(100000, 'x') + "\r\n");
    auto input = failureOf(original);
    input.returnFull = true;
    input.returnLimit = 4096;
    const Report report(queue::composeDeliveryReport(input));

    EXPECT_EQ(report.part(2).type + "/" + report.part(2).subtype, "text/rfc822-headers");
    EXPECT_EQ(report.body(2).find("xxx"), std::string::npos);
    EXPECT_LT(original.furthestRead, original.bytes.size() / 4);
    const std::string text = report.explanation();
    EXPECT_NE(text.find("Le message d'origine dépasse 4096 octets : seuls ses en-têtes sont joints."),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("The original message exceeds 4096 bytes: only its headers are attached."), std::string::npos);
}

// The header is read in pieces: its end is found wherever it falls.
TEST(DeliveryReport, HeaderOfAnyLengthFoundWhole)
{
    for (std::size_t length = 16370; length < 16400; ++length) {
        const std::string last = "X-Filler: " + std::string(length - 10, 'f') + "\r\n";
        Original original(crlf("Subject: long\n") + last + "\r\n" + "body\r\n");
        const Report report(queue::composeDeliveryReport(failureOf(original)));
        EXPECT_TRUE(report.body(2).ends_with(last)) << length;
        EXPECT_EQ(report.body(2).find("body"), std::string::npos) << length;
    }
}

// A message of 8-bit text returned as it came, said so (RFC 2045 §6.2).
TEST(DeliveryReport, EightBitOriginalReturnedAs8bit)
{
    Original original(crlf("Subject: =?UTF-8?Q?R=C3=A9sultats?=\nContent-Type: text/plain; charset=utf-8\n"
                           "Content-Transfer-Encoding: 8bit\n\nR\xC3\xA9sultats normaux.\n"));
    auto input = failureOf(original);
    input.returnFull = true;
    const Report report(queue::composeDeliveryReport(input));
    EXPECT_EQ(report.part(2).encoding, "8bit");
    EXPECT_EQ(report.part(1).encoding, "7bit");
    EXPECT_EQ(report.structure.root.encoding, "8bit");  // RFC 2045 §6.4
}

// RFC 2047: a subject with accents, encoded in words of whole characters that
// mail clients decode back; long ones folded within the line limits.
TEST(DeliveryReport, Utf8SubjectEncodedAsWords)
{
    const std::string subject = "Résultats d'analyse très élevés — à voir en urgence, patient né le 01/02/1950 "
                                "à Saint-Étienne-du-Rouvray";
    Original original(crlf("From: martin@a.test\nSubject: " + subject + "\n\nbody\n"));
    const Report report(queue::composeDeliveryReport(failureOf(original)));

    EXPECT_EQ(report.subject(), "Non remis / Undelivered Mail Returned to Sender: " + subject);
    const std::string header = report.header();
    // Only the words that need it are encoded (RFC 2047 §5).
    EXPECT_NE(unfold(header).find("Subject: Non remis / Undelivered Mail Returned to Sender: =?UTF-8?B?"),
              std::string::npos)
        << header;
    std::istringstream lines(header);
    for (std::string line; std::getline(lines, line);) {
        EXPECT_LE(line.size(), 79u) << line;  // 78 and the CR
        EXPECT_TRUE(std::all_of(line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }));
        for (std::size_t at = 0; (at = line.find("=?", at)) != std::string::npos;) {
            const auto end = line.find("?=", at + 10);
            ASSERT_NE(end, std::string::npos) << line;
            EXPECT_LE(end + 2 - at, 75u) << line;  // RFC 2047 §2
            // Each word decodes alone to valid UTF-8: no character is split (RFC 2047 §5).
            EXPECT_TRUE(mime::isValidUtf8(mime::decodeHeaderValue(line.substr(at, end + 2 - at)))) << line;
            at = end + 2;
        }
    }
}

TEST(DeliveryReport, DelayReportSaysUntilWhen)
{
    Original original(kOriginal);
    auto input = failureOf(original);
    input.kind = ReportKind::Delay;
    input.returnFull = true;  // RFC 3461 §4.3: for failures only
    auto& recipient = input.recipients[0];
    recipient.action = RecipientAction::Delayed;
    recipient.status = "4.4.1";
    recipient.remoteMta.clear();
    recipient.diagnostic = {"X-Plexus", "connection refused by 192.0.2.7:25"};
    recipient.willRetryUntil = kArrival + 5 * 24h;
    const Report report(queue::composeDeliveryReport(input));

    EXPECT_EQ(report.subject(), "Remise retardée / Delayed Mail (still being retried): Compte rendu");
    const std::string status = report.body(1);
    EXPECT_TRUE(hasLine(status, "Action: delayed"));
    EXPECT_TRUE(hasLine(status, "Status: 4.4.1"));
    EXPECT_TRUE(hasLine(status, "Diagnostic-Code: X-Plexus; connection refused by 192.0.2.7:25"));
    EXPECT_TRUE(hasLine(status, "Will-Retry-Until: Sat, 11 Jan 2025 09:00:00 +0000"));
    EXPECT_EQ(status.find("Remote-MTA"), std::string::npos);
    const std::string text = report.explanation();
    EXPECT_NE(text.find("Le serveur continue d'essayer jusqu'au 2025-01-11 09:00 UTC"), std::string::npos) << text;
    EXPECT_NE(text.find("The server keeps trying until 2025-01-11 09:00 UTC"), std::string::npos);
    EXPECT_NE(text.find("Motif : le serveur du destinataire ne répond pas (4.4.1)"), std::string::npos);
    EXPECT_NE(text.find("Détail : connection refused by 192.0.2.7:25"), std::string::npos);
    EXPECT_EQ(report.part(2).type + "/" + report.part(2).subtype, "text/rfc822-headers");
}

TEST(DeliveryReport, SuccessReportOnRequest)
{
    Original original(kOriginal);
    auto input = failureOf(original);
    input.kind = ReportKind::Success;
    input.recipients[0] = {"dr.x@b.test", "", RecipientAction::Delivered, "2.0.0", "mx.b.test",
                           {"smtp", "250 2.0.0 Ok: queued as 4XyZ"}, kArrival + 1min, std::nullopt};
    auto relayed = input.recipients[0];
    relayed.finalRecipient = "dr.y@b.test";
    relayed.action = RecipientAction::Relayed;
    input.recipients.push_back(relayed);
    const Report report(queue::composeDeliveryReport(input));

    EXPECT_EQ(report.subject(), "Remis / Delivered: Compte rendu");
    const std::string status = report.body(1);
    EXPECT_TRUE(hasLine(status, "Action: delivered"));
    EXPECT_TRUE(hasLine(status, "Action: relayed"));
    EXPECT_TRUE(hasLine(status, "Status: 2.0.0"));
    const std::string text = report.explanation();
    EXPECT_NE(text.find("État : remis dans la boîte du destinataire (2.0.0)"), std::string::npos) << text;
    EXPECT_NE(text.find("Status: passed to a server that does not confirm delivery (2.0.0)"), std::string::npos);
    EXPECT_EQ(text.find("postmaster@"), std::string::npos);
}

// RFC 3464 §2.2.1, §2.3.1: ENVID and ORCPT given back, decoded from xtext
// (RFC 3461 §4), for the sender's software to match its own records.
TEST(DeliveryReport, EnvidAndOrcptEchoed)
{
    Original original(kOriginal);
    auto input = failureOf(original);
    input.envid = "LIS+2B2025-0042";
    input.recipients[0].originalRecipient = "rfc822;secretariat+2Bcardio@b.test";
    const Report report(queue::composeDeliveryReport(input));

    const std::string status = report.body(1);
    EXPECT_TRUE(status.starts_with("Original-Envelope-Id: LIS+2025-0042\r\nReporting-MTA: dns; mx.a.test\r\n"))
        << status;
    EXPECT_NE(status.find("\r\n\r\nOriginal-Recipient: rfc822;secretariat+cardio@b.test\r\n"
                          "Final-Recipient: rfc822; dr.x@b.test\r\n"),
              std::string::npos)
        << status;
    // People see the address they wrote, and where it led.
    const std::string text = report.explanation();
    EXPECT_NE(text.find("  <secretariat+cardio@b.test>\r\n    Adresse finale : <dr.x@b.test>\r\n"), std::string::npos)
        << text;
}

// Whatever a peer or a sender put in replies and parameters never becomes a header field of its own.
TEST(DeliveryReport, ReceivedTextCannotAddFields)
{
    Original original(kOriginal);
    auto input = failureOf(original);
    input.envid = "x+0D+0AAction:+20delivered";
    input.recipients[0].diagnostic.text = "550-5.1.1 first line\r\n550 5.1.1 second line\r\nAction: delivered";
    const Report report(queue::composeDeliveryReport(input));

    const std::string status = report.body(1);
    EXPECT_TRUE(hasLine(status, "Original-Envelope-Id: x+0D+0AAction:+20delivered"));
    EXPECT_TRUE(hasLine(unfold(status),
                        "Diagnostic-Code: smtp; 550-5.1.1 first line 550 5.1.1 second line Action: delivered"));
    EXPECT_FALSE(hasLine(status, "Action: delivered"));
}

// RFC 5322 §2.1.1: even a reply without spaces keeps lines within 998 octets.
TEST(DeliveryReport, LinesStayWithin998Octets)
{
    Original original(kOriginal);
    auto input = failureOf(original);
    input.recipients[0].diagnostic.text = "550 " + std::string(3000, 'z');
    const Report report(queue::composeDeliveryReport(input));

    std::istringstream lines(report.text);
    for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 999u);  // with the CR
    const std::string unfolded = unfold(report.body(1));
    EXPECT_EQ(std::count(unfolded.begin(), unfolded.end(), 'z'), 3000);
}

TEST(DeliveryReport, BoundaryAppearsOnlyAsDelimiters)
{
    Original original(kOriginal);
    auto input = failureOf(original);
    input.returnFull = true;
    const Report report(queue::composeDeliveryReport(input));
    const auto boundary = std::string(*report.structure.root.param("boundary"));
    std::size_t count = 0;
    for (std::size_t at = 0; (at = report.text.find(boundary, at)) != std::string::npos; at += boundary.size()) ++count;
    EXPECT_EQ(count, 5u);  // the Content-Type parameter, three delimiters and the close
    EXPECT_TRUE(report.text.ends_with("--" + boundary + "--\r\n"));
}

// RFC 5321 §6.1: a message from <> (a report itself) is never reported on.
TEST(DeliveryReport, NoReportForTheNullSender)
{
    Original original(kOriginal);
    auto input = failureOf(original);
    input.sender.clear();
    EXPECT_THROW(queue::composeDeliveryReport(input), std::invalid_argument);
}

TEST(DeliveryReport, NoReportWithoutRecipients)
{
    Original original(kOriginal);
    auto input = failureOf(original);
    input.recipients.clear();
    EXPECT_THROW(queue::composeDeliveryReport(input), std::invalid_argument);
}
