#include "queue/DeliveryReport.h"

#include "mime/StructureParser.h"
#include "mime/Text.h"

#include <Poco/Base64Encoder.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Net/QuotedPrintableEncoder.h>
#include <Poco/Timestamp.h>
#include <Poco/UUIDGenerator.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace plexus::queue {

namespace {

// ---- dates ----------------------------------------------------------------

Poco::Timestamp timestampOf(Clock::time_point time)
{
    return Poco::Timestamp(std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count());
}

// RFC 5322 §3.3, in UTC.
std::string messageDate(Clock::time_point time)
{
    return Poco::DateTimeFormatter::format(timestampOf(time), "%w, %e %b %Y %H:%M:%S +0000");
}

// For people, the same in both languages.
std::string readableDate(Clock::time_point time)
{
    return Poco::DateTimeFormatter::format(timestampOf(time), "%Y-%m-%d %H:%M UTC");
}

// ---- text -----------------------------------------------------------------

// One line out of what a peer or a header said: line breaks (multi-line SMTP
// replies, folding) and other controls become single spaces, so that nothing
// received can start a header field of its own.
std::string oneLine(std::string_view text)
{
    std::string line;
    for (const char c : text) {
        const bool blank = static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ' ';
        if (!blank) line += c;
        else if (!line.empty() && line.back() != ' ') line += ' ';
    }
    if (!line.empty() && line.back() == ' ') line.pop_back();
    return line;
}

// message/delivery-status fields are US-ASCII (RFC 3464 §2.1; UTF-8 needs RFC 6533).
std::string asciiLine(std::string_view text)
{
    std::string line = oneLine(text);
    std::replace_if(line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }, '?');
    return line;
}

std::string readableLine(std::string_view text) { return mime::keepValidUtf8(oneLine(text)); }

bool isPlainAscii(std::string_view text)
{
    return std::all_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte >= 0x20 && byte < 0x7f;
    });
}

// RFC 3461 §4: xtext escapes "+HH". ENVID and ORCPT are reported decoded
// (§4.2, §4.4), unless decoding would bring controls or 8-bit bytes into a
// header: the xtext, printable ASCII, is then kept.
std::string fromXtext(std::string_view xtext)
{
    std::string decoded;
    for (std::size_t i = 0; i < xtext.size(); ++i) {
        unsigned value = 0;
        const char* hex = xtext.data() + i + 1;
        if (xtext[i] == '+' && i + 2 < xtext.size() && std::from_chars(hex, hex + 2, value, 16).ptr == hex + 2) {
            decoded += static_cast<char>(value);
            i += 2;
        } else {
            decoded += xtext[i];
        }
    }
    return isPlainAscii(decoded) ? decoded : std::string(xtext);
}

// RFC 2047 "B" encoded-words of at most 75 characters (§2), each holding whole
// UTF-8 characters (§5). Poco's MailMessage::encodeWord can split a character
// across two words and leave an empty folded line, so it is not used here.
std::string encodedWords(std::string_view utf8)
{
    constexpr std::size_t kBytesPerWord = 42;  // 56 base64 characters + 12 = 68
    std::string words;
    std::size_t start = 0;
    while (start < utf8.size()) {
        std::size_t end = start;
        for (std::size_t next = start; next < utf8.size();) {
            mime::nextCodePoint(utf8, next);  // past one character: the text is valid UTF-8
            if (next - start > kBytesPerWord) break;
            end = next;
        }
        std::ostringstream encoded;
        {
            Poco::Base64Encoder encoder(encoded);
            encoder.rdbuf()->setLineLength(0);
            encoder.write(utf8.data() + start, static_cast<std::streamsize>(end - start));
            encoder.close();
        }
        if (!words.empty()) words += ' ';
        words += "=?UTF-8?B?" + encoded.str() + "?=";
        start = end;
    }
    return words;
}

// Calls `use` with each word of `text` that spaces separate.
template <class Use>
void forEachWord(std::string_view text, Use use)
{
    for (std::size_t start = 0; start < text.size();) {
        const auto end = std::min(text.find(' ', start), text.size());
        if (end > start) use(text.substr(start, end - start));
        start = end + 1;
    }
}

bool needsEncoding(std::string_view word) { return !isPlainAscii(word) || word.find("=?") != std::string_view::npos; }

// Header text from UTF-8 (RFC 2047 §5): words of plain ASCII that no decoder
// could take for an encoded-word as they are, the others as encoded-words;
// neighbours to encode share them, with the space between them inside, since
// decoders drop the space between two encoded-words (§6.2).
std::string headerText(std::string_view utf8)
{
    std::string text, run;
    const auto append = [&text](std::string_view words) {
        if (!text.empty()) text += ' ';
        text += words;
    };
    forEachWord(utf8, [&](std::string_view word) {
        if (needsEncoding(word)) {
            run += run.empty() ? "" : " ";
            run += word;
            return;
        }
        if (!run.empty()) append(encodedWords(std::exchange(run, {})));
        append(word);
    });
    if (!run.empty()) append(encodedWords(run));
    return text;
}

// A header field, folded at spaces (RFC 5322 §2.2.3) to keep lines within 78
// characters where a space allows it and within 998 always (§2.1.1): a longer
// run without spaces is cut.
void appendField(std::string& out, std::string_view name, std::string_view value)
{
    constexpr std::size_t kPreferred = 78, kMaximum = 998;
    out.append(name).append(":");
    std::size_t lineLength = name.size() + 1;
    bool lineHasWord = false;
    forEachWord(value, [&](std::string_view word) {
        if (lineHasWord && lineLength + 1 + word.size() > kPreferred) {
            out += "\r\n";
            lineLength = 0;
        }
        out += ' ';
        ++lineLength;
        while (lineLength + word.size() > kMaximum) {
            const std::size_t room = kMaximum - lineLength;
            out.append(word.substr(0, room)).append("\r\n ");
            word.remove_prefix(room);
            lineLength = 1;
        }
        out += word;
        lineLength += word.size();
        lineHasWord = true;
    });
    out += "\r\n";
}

std::string randomToken() { return Poco::UUIDGenerator::defaultGenerator().createRandom().toString(); }

// "{}" in `pattern` replaced by `value`.
std::string fill(std::string_view pattern, std::string_view value)
{
    const auto at = pattern.find("{}");
    return std::string(pattern.substr(0, at)).append(value).append(pattern.substr(at + 2));
}

// ---- what the codes mean ---------------------------------------------------

enum Language { French, English };

std::string_view actionName(RecipientAction action)
{
    static constexpr std::array<std::string_view, 5> kNames{"failed", "delayed", "delivered", "relayed", "expanded"};
    return kNames[static_cast<std::size_t>(action)];
}

bool isProblem(RecipientAction action)
{
    return action == RecipientAction::Failed || action == RecipientAction::Delayed;
}

// RFC 3463 §3.1: class.subject.detail, each a number.
bool isEnhancedCode(std::string_view code)
{
    int numbers = 0;
    std::size_t start = 0;
    for (; numbers < 3; ++numbers) {
        const auto dot = code.find('.', start);
        const auto number = code.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (number.empty() || number.size() > 3 ||
            !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return false;
        if (dot == std::string_view::npos) return numbers == 2 && (code[0] == '2' || code[0] == '4' || code[0] == '5');
        start = dot + 1;
    }
    return false;
}

// The recipient's status; a malformed one gives way to the undetailed code of its action.
std::string statusOf(const RecipientReport& recipient)
{
    if (isEnhancedCode(recipient.status)) return recipient.status;
    switch (recipient.action) {
    case RecipientAction::Failed: return "5.0.0";
    case RecipientAction::Delayed: return "4.0.0";
    default: return "2.0.0";
    }
}

struct Meaning {
    std::string_view code;  // "subject.detail", or "subject" for any detail
    std::array<std::string_view, 2> text;
};

// RFC 3463 §3: the codes senders meet most, then each subject as a whole.
constexpr std::array<Meaning, 22> kMeanings{{
    {"1.1", {"adresse du destinataire inconnue", "the recipient's address does not exist"}},
    {"1.2", {"domaine du destinataire inconnu", "the recipient's domain does not exist"}},
    {"1.3", {"adresse du destinataire mal formée", "the recipient's address is malformed"}},
    {"1.6", {"le destinataire a changé d'adresse", "the recipient's mailbox has moved"}},
    {"1.10", {"le destinataire n'accepte pas de courrier", "the recipient accepts no mail"}},
    {"2.1", {"boîte aux lettres du destinataire désactivée", "the recipient's mailbox is disabled"}},
    {"2.2", {"boîte aux lettres du destinataire pleine", "the recipient's mailbox is full"}},
    {"2.3", {"message trop volumineux pour cette boîte", "the message is too large for this mailbox"}},
    {"3.4", {"message trop volumineux", "the message is too large"}},
    {"4.1", {"le serveur du destinataire ne répond pas", "no answer from the recipient's server"}},
    {"4.2", {"connexion interrompue", "the connection was broken"}},
    {"4.4", {"aucun serveur de messagerie trouvé pour ce domaine", "no mail server found for this domain"}},
    {"4.7", {"délai de remise dépassé", "the delivery time expired"}},
    {"7.1", {"remise refusée par le serveur du destinataire", "delivery refused by the recipient's server"}},
    {"7.5", {"échec du chiffrement", "encryption failed"}},
    {"1", {"problème d'adresse", "address problem"}},
    {"2", {"problème de boîte aux lettres", "mailbox problem"}},
    {"3", {"problème du serveur du destinataire", "problem with the recipient's mail system"}},
    {"4", {"problème de réseau ou d'acheminement", "network or routing problem"}},
    {"5", {"échange refusé par le serveur du destinataire", "the recipient's server refused the exchange"}},
    {"6", {"contenu refusé", "content refused"}},
    {"7", {"refus de sécurité ou de politique d'accès", "security or policy refusal"}},
}};

std::string_view meaningOf(std::string_view status, Language language)
{
    const std::string_view subjectDetail = status.substr(status.find('.') + 1);
    const std::string_view subject = subjectDetail.substr(0, subjectDetail.find('.'));
    for (const auto& candidate : {subjectDetail, subject})
        for (const auto& meaning : kMeanings)
            if (meaning.code == candidate) return meaning.text[language];
    static constexpr std::array<std::array<std::string_view, 2>, 2> kByClass{{
        {"échec temporaire", "temporary failure"},
        {"échec définitif", "permanent failure"},
    }};
    return kByClass[status[0] == '5'][language];
}

// ---- the report, for people -------------------------------------------------

struct Wording {
    std::string_view heading;
    std::string_view thisIs;
    std::array<std::string_view, 3> intro;  // by ReportKind
    std::string_view retriedUntil;          // a delay with its end
    std::string_view retried;               // a delay without
    std::array<std::string_view, 3> successes;  // Delivered, Relayed, Expanded
    std::string_view reason, state, finalAddress, replyFrom, details;
    std::string_view returnedMessage, returnedHeader, returnedHeaderOfLarge;
    std::string_view help;
    Language language;
};

const Wording kFrench{
    "[Français]",
    "Ceci est un message automatique du serveur de messagerie {}.",
    {"Votre message n'a pas pu être remis aux destinataires ci-dessous. Cet échec est définitif : "
     "le serveur ne fera plus d'essai.",
     "Votre message n'a pas encore pu être remis aux destinataires ci-dessous.",
     "Comme vous l'avez demandé, voici la confirmation de remise de votre message."},
    "Le serveur continue d'essayer jusqu'au {} ; vous n'avez rien à faire. S'il n'y parvient pas d'ici là, "
    "vous recevrez un avis de non-remise.",
    "Le serveur continue d'essayer ; vous n'avez rien à faire.",
    {"remis dans la boîte du destinataire", "transmis à un serveur qui ne confirme pas la remise",
     "remis à une liste, qui l'a redistribué"},
    "Motif : ",
    "État : ",
    "Adresse finale : ",
    "Réponse de {} : ",
    "Détail : ",
    "Le message d'origine est joint.",
    "Les en-têtes du message d'origine sont joints.",
    "Le message d'origine dépasse {} octets : seuls ses en-têtes sont joints.",
    "Pour obtenir de l'aide, transmettez ce message à postmaster@{}.",
    French,
};

const Wording kEnglish{
    "[English]",
    "This is an automatic message from the mail server {}.",
    {"Your message could not be delivered to the recipients below. This is a permanent error: "
     "the server will not try again.",
     "Your message could not be delivered to the recipients below yet.",
     "As you requested, here is the delivery confirmation of your message."},
    "The server keeps trying until {}; you need not do anything. If it does not succeed by then, "
    "you will receive a non-delivery notice.",
    "The server keeps trying; you need not do anything.",
    {"delivered to the recipient's mailbox", "passed to a server that does not confirm delivery",
     "delivered to a list, which redistributed it"},
    "Reason: ",
    "Status: ",
    "Final address: ",
    "Reply from {}: ",
    "Details: ",
    "The original message is attached.",
    "The headers of the original message are attached.",
    "The original message exceeds {} bytes: only its headers are attached.",
    "For help, forward this message to postmaster@{}.",
    English,
};

// What part 3 holds (RFC 3461 §4.3).
enum class Returned { Message, Header, HeaderOfLarge };

// The address the sender wrote: ORCPT's when given (RFC 3461 §4.2), the final one otherwise.
std::string addressWritten(const RecipientReport& recipient)
{
    const std::string original = fromXtext(recipient.originalRecipient);
    const auto semicolon = original.find(';');
    return asciiLine(semicolon == std::string::npos ? recipient.finalRecipient : original.substr(semicolon + 1));
}

std::optional<Clock::time_point> latestRetry(const std::vector<RecipientReport>& recipients)
{
    std::optional<Clock::time_point> latest;
    for (const auto& recipient : recipients)
        if (recipient.willRetryUntil && (!latest || *recipient.willRetryUntil > *latest))
            latest = recipient.willRetryUntil;
    return latest;
}

void appendExplanation(std::string& text, const Wording& words, const ReportInput& input, Returned returned)
{
    text.append(words.heading).append("\n\n");
    text.append(fill(words.thisIs, input.reportingMta)).append("\n\n");
    text.append(words.intro[static_cast<std::size_t>(input.kind)]).append("\n");
    if (input.kind == ReportKind::Delay) {
        const auto until = latestRetry(input.recipients);
        text.append(until ? fill(words.retriedUntil, readableDate(*until)) : std::string(words.retried)).append("\n");
    }
    for (const auto& recipient : input.recipients) {
        const std::string written = addressWritten(recipient);
        const std::string final = asciiLine(recipient.finalRecipient);
        const std::string status = statusOf(recipient);
        text.append("\n  <").append(written).append(">\n");
        if (written != final) text.append("    ").append(words.finalAddress).append("<").append(final).append(">\n");
        const bool problem = isProblem(recipient.action);
        text.append("    ")
            .append(problem ? words.reason : words.state)
            .append(problem ? meaningOf(status, words.language)
                            : words.successes[static_cast<std::size_t>(recipient.action) -
                                              static_cast<std::size_t>(RecipientAction::Delivered)])
            .append(" (")
            .append(status)
            .append(")\n");
        const std::string diagnostic = readableLine(recipient.diagnostic.text);
        if (!diagnostic.empty()) {
            const bool peerReply = recipient.diagnostic.type == "smtp" && !recipient.remoteMta.empty();
            text.append("    ")
                .append(peerReply ? fill(words.replyFrom, asciiLine(recipient.remoteMta)) : std::string(words.details))
                .append(diagnostic)
                .append("\n");
        }
    }
    text.append("\n");
    switch (returned) {
    case Returned::Message: text.append(words.returnedMessage); break;
    case Returned::Header: text.append(words.returnedHeader); break;
    case Returned::HeaderOfLarge:
        text.append(fill(words.returnedHeaderOfLarge, std::to_string(input.returnLimit)));
        break;
    }
    text.append("\n");
    if (input.kind != ReportKind::Success) text.append(fill(words.help, input.mailDomain)).append("\n");
}

// ---- the parts ----------------------------------------------------------------

struct Part {
    std::string header;  // its fields, without the blank line
    std::string body;
    bool eightBit = false;
};

// Part 1: French then English, quoted-printable so that the report stays 7-bit.
Part explanationPart(const ReportInput& input, Returned returned)
{
    std::string text;
    appendExplanation(text, kFrench, input, returned);
    text.append("\n");
    appendExplanation(text, kEnglish, input, returned);
    std::string crlfText;
    for (const char c : text) {
        if (c == '\n') crlfText += '\r';
        crlfText += c;
    }
    std::ostringstream encoded;
    {
        Poco::Net::QuotedPrintableEncoder encoder(encoded);
        encoder << crlfText;
        encoder.close();
    }
    return {"Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n"
            "Content-Language: fr, en\r\n",
            encoded.str()};
}

// Part 2: RFC 3464 §2.2 per-message fields, then §2.3 fields per recipient,
// each group after a blank line, in the order of the grammar.
Part statusPart(const ReportInput& input)
{
    std::string body;
    if (!input.envid.empty()) appendField(body, "Original-Envelope-Id", asciiLine(fromXtext(input.envid)));
    appendField(body, "Reporting-MTA", "dns; " + asciiLine(input.reportingMta));
    appendField(body, "Arrival-Date", messageDate(input.arrivalDate));
    if (!input.queueId.empty()) appendField(body, "X-Plexus-Queue-Id", asciiLine(input.queueId));
    for (const auto& recipient : input.recipients) {
        body += "\r\n";
        if (!recipient.originalRecipient.empty())
            appendField(body, "Original-Recipient", asciiLine(fromXtext(recipient.originalRecipient)));
        appendField(body, "Final-Recipient", "rfc822; " + asciiLine(recipient.finalRecipient));
        appendField(body, "Action", actionName(recipient.action));
        appendField(body, "Status", statusOf(recipient));
        if (!recipient.remoteMta.empty()) appendField(body, "Remote-MTA", "dns; " + asciiLine(recipient.remoteMta));
        if (!recipient.diagnostic.text.empty())
            appendField(body, "Diagnostic-Code",
                        asciiLine(recipient.diagnostic.type) + "; " + asciiLine(recipient.diagnostic.text));
        if (recipient.lastAttempt) appendField(body, "Last-Attempt-Date", messageDate(*recipient.lastAttempt));
        if (recipient.willRetryUntil) appendField(body, "Will-Retry-Until", messageDate(*recipient.willRetryUntil));
    }
    return {"Content-Type: message/delivery-status\r\n", std::move(body)};
}

bool has8bit(std::string_view bytes)
{
    return std::any_of(bytes.begin(), bytes.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// Part 3: the whole message (RFC 2046 §5.2.1) or its header lines, the blank
// line that ends them excluded (RFC 6522 §4). Both stay as they came, hence
// 8bit when they have 8-bit bytes (RFC 2045 §6.2).
Part returnedPart(const OriginalMessage& original, Returned returned, std::string header)
{
    std::string body;
    std::string type;
    if (returned == Returned::Message) {
        body = original.readRange(0, original.size);
        type = "message/rfc822";
    } else {
        if (header.ends_with("\r\n\r\n")) header.resize(header.size() - 2);
        else if (!header.ends_with("\r\n")) header += "\r\n";
        body = std::move(header);
        type = "text/rfc822-headers";
    }
    const bool eightBit = has8bit(body);
    return {"Content-Type: " + type + "\r\nContent-Transfer-Encoding: " + (eightBit ? "8bit" : "7bit") + "\r\n",
            std::move(body), eightBit};
}

// The top-level header, its blank line included (RFC 5322 §2.1), read a chunk
// at a time; one without end is cut at a line end past the parser's limit.
std::string readHeader(const OriginalMessage& original)
{
    constexpr std::uint64_t kChunk = 16 << 10;
    const std::size_t maxHeader = mime::Limits{}.maxHeaderBytes;
    std::string header;
    while (header.size() < original.size) {
        const std::size_t searchFrom = header.size() < 3 ? 0 : header.size() - 3;  // the end may straddle chunks
        const std::string chunk = original.readRange(header.size(), std::min(kChunk, original.size - header.size()));
        if (chunk.empty()) break;
        header += chunk;
        if (header.starts_with("\r\n")) return "\r\n";  // no header fields at all
        if (const auto end = header.find("\r\n\r\n", searchFrom); end != std::string::npos) {
            header.resize(end + 4);
            break;
        }
        if (header.size() > maxHeader) {
            const auto lastLineEnd = header.rfind("\r\n");
            header.resize(lastLineEnd == std::string::npos ? maxHeader : lastLineEnd + 2);
            break;
        }
    }
    return header;
}

// RFC 2046 §5.1.1: a boundary that no part contains.
std::string boundaryFor(const std::vector<Part>& parts)
{
    for (;;) {
        const std::string boundary = "=_plexus_" + randomToken();
        const bool found = std::any_of(parts.begin(), parts.end(), [&](const Part& part) {
            return part.header.find(boundary) != std::string::npos || part.body.find(boundary) != std::string::npos;
        });
        if (!found) return boundary;
    }
}

// ---- the message header -------------------------------------------------------

constexpr std::array<std::string_view, 3> kSubjects{
    "Non remis / Undelivered Mail Returned to Sender",
    "Remise retardée / Delayed Mail (still being retried)",
    "Remis / Delivered",
};

std::string subjectOf(ReportKind kind, const mime::Envelope& original)
{
    std::string subject(kSubjects[static_cast<std::size_t>(kind)]);
    const std::string originalSubject = readableLine(mime::decodeHeaderValue(original.subject));
    if (!originalSubject.empty()) subject += ": " + originalSubject;
    return headerText(subject);
}

void appendHeader(std::string& out, const ReportInput& input, const mime::Envelope& original,
                  const std::vector<Part>& parts, const std::string& boundary)
{
    const auto now = Clock::now();
    appendField(out, "From", headerText("Système de messagerie / Mail Delivery System") + " <MAILER-DAEMON@" +
                                 asciiLine(input.mailDomain) + ">");
    appendField(out, "To", "<" + asciiLine(input.sender) + ">");
    appendField(out, "Subject", subjectOf(input.kind, original));
    appendField(out, "Date", messageDate(now));
    appendField(out, "Message-ID", "<" + Poco::DateTimeFormatter::format(timestampOf(now), "%Y%m%d%H%M%S") + "." +
                                       randomToken() + "@" + asciiLine(input.reportingMta) + ">");
    // So that mail clients show the report with the message it is about.
    const std::string originalId = asciiLine(original.messageId);
    if (originalId.starts_with('<') && originalId.ends_with('>')) {
        appendField(out, "In-Reply-To", originalId);
        appendField(out, "References", originalId);
    }
    appendField(out, "Auto-Submitted", "auto-replied");  // RFC 3834 §5: no automatic answer to this
    appendField(out, "MIME-Version", "1.0");
    appendField(out, "Content-Type", "multipart/report; report-type=delivery-status; boundary=\"" + boundary + "\"");
    // RFC 2045 §6.4: a multipart is as 8-bit as its parts.
    if (std::any_of(parts.begin(), parts.end(), [](const Part& part) { return part.eightBit; }))
        appendField(out, "Content-Transfer-Encoding", "8bit");
}

}  // namespace

std::string composeDeliveryReport(const ReportInput& input)
{
    if (input.sender.empty()) throw std::invalid_argument("no delivery report about a message from the null sender");
    if (input.recipients.empty()) throw std::invalid_argument("a delivery report needs at least one recipient");

    std::string header = readHeader(input.original);
    const auto original = mime::parseMessage(header).envelope;
    // RFC 3461 §4.3: RET=FULL is for failures; other reports return the header.
    const bool full = input.returnFull && input.kind == ReportKind::Failure;
    const Returned returned = !full                                     ? Returned::Header
                              : input.original.size > input.returnLimit ? Returned::HeaderOfLarge
                                                                        : Returned::Message;
    std::vector<Part> parts;
    parts.push_back(explanationPart(input, returned));
    parts.push_back(statusPart(input));
    parts.push_back(returnedPart(input.original, returned, std::move(header)));
    const std::string boundary = boundaryFor(parts);

    std::string out;
    appendHeader(out, input, original, parts, boundary);
    out += "\r\nCeci est un message MIME en plusieurs parties. / This is a multi-part message in MIME format.\r\n";
    for (const auto& part : parts) {
        // RFC 2046 §5.1.1: the line break before a delimiter belongs to the delimiter.
        out.append("\r\n--").append(boundary).append("\r\n").append(part.header).append("\r\n").append(part.body);
    }
    out.append("\r\n--").append(boundary).append("--\r\n");
    return out;
}

}  // namespace plexus::queue
