#include "queue/DsnNotifier.h"

#include "intake/MessageReceiver.h"

#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>

#include <array>
#include <string_view>

namespace plexus::queue {

namespace {

Poco::Logger& log() { return Poco::Logger::get("dsn"); }

Clock::time_point fromEpochSeconds(std::int64_t seconds) { return Clock::time_point(std::chrono::seconds(seconds)); }

// RFC 5321 §4.2: a reply starts with its three-digit code.
bool isSmtpReply(std::string_view reply)
{
    const auto digit = [&](std::size_t i) { return reply.size() > i && reply[i] >= '0' && reply[i] <= '9'; };
    return digit(0) && digit(1) && digit(2) && (reply.size() == 3 || reply[3] == ' ' || reply[3] == '-');
}

// The enhanced status code after a reply's basic code ("550 5.1.1 ..."), of
// the same class (RFC 2034 §4); empty when there is none, and the report then
// gives the undetailed code of the action.
std::string statusIn(std::string_view reply)
{
    if (!isSmtpReply(reply) || reply.size() < 5) return {};
    const std::string_view rest = reply.substr(4);
    const std::string_view code = rest.substr(0, rest.find(' '));
    return code.starts_with(reply[0]) ? std::string(code) : std::string();
}

// The host of "name [address]:port", as the transport gives it (RFC 3464 §2.3.5).
std::string hostIn(const std::string& remoteHost) { return remoteHost.substr(0, remoteHost.find(' ')); }

RecipientReport reportOf(RecipientAction action, const NoticeRecipient& notice, const OutboundMessage& message)
{
    RecipientReport report;
    report.finalRecipient = notice.recipient.address;
    report.originalRecipient = notice.recipient.orcpt;
    report.action = action;
    // RFC 3463 X.4.7: given up when its lifetime was over; the last reply says why it was still failing.
    report.status = notice.state == RecipientState::Expired ? "4.4.7" : statusIn(notice.reply);
    report.remoteMta = hostIn(notice.remoteHost);
    // RFC 3464 §2.3.6: a peer's reply, or our own reason when no peer gave one.
    report.diagnostic = {isSmtpReply(notice.reply) ? "smtp" : "X-Plexus", notice.reply};
    if (notice.lastAttempt > 0) report.lastAttempt = fromEpochSeconds(notice.lastAttempt);
    if (action == RecipientAction::Delayed) report.willRetryUntil = fromEpochSeconds(message.expiresAt);
    return report;
}

std::string_view nameOf(ReportKind kind)
{
    static constexpr std::array<std::string_view, 3> kNames{"failed", "delayed", "delivered"};
    return kNames[static_cast<std::size_t>(kind)];
}

}  // namespace

DsnNotifier::DsnNotifier(DsnSettings settings, intake::DeliveryServices services, FindReportDestination destinationOf)
    : settings_(std::move(settings)), services_(services), destinationOf_(std::move(destinationOf))
{
}

void DsnNotifier::delayed(const OutboundMessage& message, const std::vector<NoticeRecipient>& recipients)
{
    report(ReportKind::Delay, RecipientAction::Delayed, message, recipients);
}

void DsnNotifier::failed(const OutboundMessage& message, const std::vector<NoticeRecipient>& recipients)
{
    report(ReportKind::Failure, RecipientAction::Failed, message, recipients);
}

void DsnNotifier::delivered(const OutboundMessage& message, const std::vector<NoticeRecipient>& recipients)
{
    // A success notice comes only when the peer took no DSN request: "relayed" (RFC 3461 §5.2.2).
    report(ReportKind::Success, RecipientAction::Relayed, message, recipients);
}

void DsnNotifier::deliveredHere(const OutboundMessage& message, const std::vector<NoticeRecipient>& recipients)
{
    report(ReportKind::Success, RecipientAction::Delivered, message, recipients);
}

void DsnNotifier::report(ReportKind kind, RecipientAction action, const OutboundMessage& message,
                         const std::vector<NoticeRecipient>& recipients)
{
    const std::string kindName(nameOf(kind));
    // The queue never asks about a message from <> (RFC 5321 §4.5.5); were it
    // to, throwing would only have the notice handed over again and again.
    if (message.sender.empty()) {
        log().warning("%s report about %s not made: its sender is <>", kindName, message.queueId);
        return;
    }
    const ReportDestination destination = destinationOf_(message.sender);
    if (destination.kind == ReportDestination::Kind::Nowhere) {
        log().error("%s report about %s dropped: no mailbox %s here", kindName, message.queueId,
                    message.sender);
        return;
    }

    ReportInput input;
    input.kind = kind;
    input.reportingMta = settings_.hostname;
    input.mailDomain = settings_.mailDomain;
    input.sender = message.sender;
    input.envid = message.envid;
    input.returnFull = message.ret == "FULL";
    input.returnLimit = settings_.returnLimit;
    input.queueId = message.queueId;
    input.arrivalDate = fromEpochSeconds(message.createdAt);
    for (const auto& notice : recipients) input.recipients.push_back(reportOf(action, notice, message));
    auto content = message.openContent();
    input.original = {content.size(), [&content](std::uint64_t offset, std::uint64_t length) {
                          return content.readRange(offset, length);
                      }};
    const std::string text = composeDeliveryReport(input);

    // Through the receiver like any message, for its stored structure.
    intake::MessageReceiver receiver(services_.mailboxes, text.size(), text.size());
    receiver.append(text);
    const auto received = receiver.finish();
    const bool local = destination.kind == ReportDestination::Kind::Mailbox;
    intake::DeliveryEnvelope envelope;  // sender "": the null reverse-path
    if (local) envelope.local.push_back(destination.mailbox);
    else envelope.remote.push_back({message.sender, "NEVER", ""});
    Poco::JSON::Object detail;
    detail.set("service", "dsn");
    detail.set("report", kindName);
    detail.set("about_queue_id", message.queueId);
    if (!message.messageId.empty()) detail.set("about_message_id", message.messageId);
    intake::deliverMessage(services_, received, envelope, {"MAILER-DAEMON@" + settings_.mailDomain, "local", detail});
    log().information("%s report about %s to <%s>: %s", kindName, message.queueId, message.sender,
                      local ? std::string("in its INBOX") : "queued as " + intake::queueIdOf(received));
}

}  // namespace plexus::queue
