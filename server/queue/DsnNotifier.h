// The queue's notices (Notifier.h) as delivery reports (DeliveryReport.h) to
// the message's sender, stored like any message through intake::deliverMessage
// with the null reverse-path MAIL FROM:<> (RFC 3461 §6.1, RFC 5321 §4.5.5):
// into the sender's INBOX when the sender has a mailbox here, otherwise queued
// for relay with NOTIFY=NEVER, and sent from <> by the queue, so that no
// notice is ever about a notice.
#pragma once

#include "intake/MessageDelivery.h"
#include "queue/DeliveryReport.h"
#include "queue/Notifier.h"

#include <functional>
#include <string>
#include <vector>

namespace plexus::queue {

struct DsnSettings {
    std::string hostname;    // ours: Reporting-MTA, Message-ID
    std::string mailDomain;  // MAILER-DAEMON@ and postmaster@ of the reports
    std::uint64_t returnLimit = kDefaultReturnLimit;
};

// Where a report to an address goes, as the daemon knows from its local
// domains and accounts.
struct ReportDestination {
    enum class Kind {
        Mailbox,  // a mailbox here: its INBOX
        Remote,   // another domain: relayed
        Nowhere   // a local domain without such a mailbox: dropped, logged
    };
    Kind kind = Kind::Remote;
    intake::LocalRecipient mailbox;  // for Kind::Mailbox
};

using FindReportDestination = std::function<ReportDestination(const std::string& address)>;

// Thread-safe, as the queue calls it from several threads; each call returns
// once the report is durable (its INBOX row or outbound entry), and throws
// when storing it failed, so that the queue hands the notice over again.
class DsnNotifier : public Notifier {
public:
    DsnNotifier(DsnSettings settings, intake::DeliveryServices services, FindReportDestination destinationOf);

    void delayed(const OutboundMessage& message, const std::vector<NoticeRecipient>& recipients) override;
    void failed(const OutboundMessage& message, const std::vector<NoticeRecipient>& recipients) override;
    void delivered(const OutboundMessage& message, const std::vector<NoticeRecipient>& recipients) override;
    // Final delivery here, into the mailboxes of recipients that asked for a
    // success notice (NOTIFY=SUCCESS, RFC 3461 §4.1): Action "delivered" (RFC 3464 §2.3.3).
    void deliveredHere(const OutboundMessage& message, const std::vector<NoticeRecipient>& recipients);

private:
    void report(ReportKind kind, RecipientAction action, const OutboundMessage& message,
                const std::vector<NoticeRecipient>& recipients);

    DsnSettings settings_;
    intake::DeliveryServices services_;
    FindReportDestination destinationOf_;
};

}  // namespace plexus::queue
