// Delivery status notifications (RFC 3464): a multipart/report message,
// report-type=delivery-status, telling the sender of a message what became of
// it at some of its recipients, readable by people (French, then English) and
// by programs (message/delivery-status), with the original message or its header.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace plexus::queue {

using Clock = std::chrono::system_clock;

// What the report is about; it sets the subject and the explanation.
enum class ReportKind { Failure, Delay, Success };

// RFC 3464 §2.3.3.
enum class RecipientAction { Failed, Delayed, Delivered, Relayed, Expanded };

// RFC 3464 §2.3.6: what was said about the recipient. A peer's reply is of
// type "smtp"; our own reason when no peer replied (DNS, TLS, expiry) is of type "X-Plexus".
struct Diagnostic {
    std::string type = "smtp";
    std::string text;  // empty: no Diagnostic-Code; several lines are joined
};

// One recipient's fate (RFC 3464 §2.3).
struct RecipientReport {
    std::string finalRecipient;     // the address we tried
    std::string originalRecipient;  // RFC 3461 ORCPT as received ("rfc822;a@b", xtext); empty when not given
    RecipientAction action = RecipientAction::Failed;
    std::string status;             // RFC 3463 enhanced code: "5.1.1", "4.4.1", "2.0.0"
    std::string remoteMta;          // host name of the peer that answered; empty when none did
    Diagnostic diagnostic;
    std::optional<Clock::time_point> lastAttempt;
    std::optional<Clock::time_point> willRetryUntil;  // delays: when we give up
};

// The message reported on, read on demand: a report that returns only the
// header reads little more than the header.
struct OriginalMessage {
    std::uint64_t size = 0;
    // `length` bytes from `offset` (BlobReader::readRange).
    std::function<std::string(std::uint64_t offset, std::uint64_t length)> readRange;
};

// RFC 3461 §4.3 lets a report return only the header of a large message even with RET=FULL.
inline constexpr std::uint64_t kDefaultReturnLimit = 512 << 10;

struct ReportInput {
    ReportKind kind = ReportKind::Failure;
    std::string reportingMta;  // our host name: Reporting-MTA, Message-ID
    std::string mailDomain;    // From: MAILER-DAEMON@mailDomain
    std::string sender;        // the original reverse-path: the report's recipient; never empty
    std::string envid;         // RFC 3461 ENVID as received (xtext); empty when not given
    bool returnFull = false;   // RET=FULL, for failures; otherwise (RET=HDRS, no RET, other kinds) the header only
    std::uint64_t returnLimit = kDefaultReturnLimit;  // above this size, the header only even with RET=FULL
    std::string queueId;       // ours, for support (X-Plexus-Queue-Id); empty when none
    Clock::time_point arrivalDate;
    std::vector<RecipientReport> recipients;  // at least one
    OriginalMessage original;
};

// The complete report (RFC 5322, CRLF line ends, lines of at most 998 octets),
// to be sent with the null reverse-path MAIL FROM:<> (RFC 3461 §6.1, RFC 5321
// §4.5.5). Throws std::invalid_argument for a null sender, since nothing is
// ever reported about a message sent from <>, a report itself (RFC 5321
// §4.5.5, §6.1), or for no recipients.
std::string composeDeliveryReport(const ReportInput& input);

}  // namespace plexus::queue
