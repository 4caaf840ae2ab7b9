// Delivery status notifications due to a message's sender (RFC 3461 §5.2,
// reports of RFC 3464). The queue decides when a notice is due; the
// implementation composes the multipart/report and submits it.
//
// When: NOTIFY absent = FAILURE,DELAY (RFC 3461 §4.1); NEVER = none; a success
// notice only with SUCCESS and only when the peer did not take the DSN request
// itself (RFC 3461 §5.2.2: the Action is then "relayed", RFC 3464 §2.3.3).
// Never for the null sender <> (RFC 5321 §4.5.5: no notice about a notice).
//
// Durability: a due notice is recorded with the attempt's results, and cleared
// only once the call has returned; a call that throws is made again later, and
// a crash in between makes it again at the next start: at least once.
#pragma once

#include "queue/Transport.h"

#include <cstdint>
#include <string>
#include <vector>

namespace plexus::queue {

enum class RecipientState {
    Pending,    // not delivered yet: retried
    Delivered,  // accepted by the peer (2xx)
    Failed,     // refused by the peer (5xx): RFC 3463 status from its reply
    Expired     // still failing temporarily when the lifetime ran out: status 4.4.7 (RFC 3463)
};

// A recipient a notice is about, with what the last attempt for it got.
struct NoticeRecipient {
    OutboundRecipient recipient;
    RecipientState state = RecipientState::Pending;
    std::string reply;          // the last reply or reason (RFC 3464 Diagnostic-Code); empty if never attempted
    std::string remoteHost;     // who gave it (Remote-MTA); empty when no host answered
    std::int64_t lastAttempt = 0;  // seconds since the epoch (Last-Attempt-Date); 0 if never attempted
};

class Notifier {
public:
    virtual ~Notifier() = default;
    // Each is called on a queue thread, outside any store transaction (submitting
    // the report commits on its own), with `message.recipients` holding the same
    // recipients as `recipients`, in the same order. An exception leaves the
    // notice due: it comes again.

    // Still pending after delay_notice_hours (Action: delayed); sent once per entry.
    virtual void delayed(const OutboundMessage& message, const std::vector<NoticeRecipient>& recipients) = 0;
    // Refused by the peer (5xx) or still failing at expiry (Action: failed).
    virtual void failed(const OutboundMessage& message, const std::vector<NoticeRecipient>& recipients) = 0;
    // Accepted by a peer that did not take the DSN request (Action: relayed).
    virtual void delivered(const OutboundMessage& message, const std::vector<NoticeRecipient>& recipients) = 0;
};

}  // namespace plexus::queue
