// What the outbound queue hands to the SMTP relay client, and what it gets
// back: one attempt = one SMTP transaction to one destination domain with all
// the entry's recipients still pending (RFC 5321 §3.3).
#pragma once

#include "store/BlobReader.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace plexus::queue {

// A recipient as received, its RFC 3461 parameters to pass on to the next hop.
struct OutboundRecipient {
    std::string address;
    std::string notify;  // NOTIFY, upper case ("SUCCESS,FAILURE", "NEVER"); empty when not given
    std::string orcpt;   // ORCPT as received ("rfc822;dr.x@clinique.mssante.test", xtext); empty when not given
};

// One queue entry, as the transport and the notifier see it.
struct OutboundMessage {
    std::int64_t id = 0;     // the queue entry, as plexusctl queue shows it
    std::string queueId;     // the message's queue id ("queued as ..." and its message.* events)
    std::string messageId;   // its Message-ID header; empty when it has none
    std::string sender;      // the reverse-path; empty for the null sender <> (a DSN)
    std::string envid;       // RFC 3461 ENVID as received (xtext); empty when not given
    std::string ret;         // RFC 3461 RET: "FULL", "HDRS" or empty
    std::string domain;      // the destination: every recipient is in this domain
    std::vector<OutboundRecipient> recipients;  // those the attempt is for (still pending)
    std::int64_t createdAt = 0;  // arrival, seconds since the epoch (RFC 3464 Arrival-Date)
    std::int64_t expiresAt = 0;  // seconds since the epoch: no attempt after this (Will-Retry-Until)
    std::uint64_t size = 0;      // bytes, for the SIZE parameter (RFC 1870)
    // The message bytes, decrypted as they are read; each call opens the blob
    // anew, so an attempt may read it as many times as it needs. Throws
    // store::BlobError when the file is unreadable.
    std::function<store::BlobReader()> openContent;
};

enum class Outcome {
    Delivered,  // 2xx to RCPT and to the end of data
    Temporary,  // 4xx, or no transaction: connection, DNS, TLS, certificate DN, timeout: retried later
    Permanent   // 5xx: not retried, a failure notice is due
};

struct RecipientOutcome {
    std::string address;  // as in OutboundMessage::recipients
    Outcome outcome = Outcome::Temporary;
    // The peer's reply as received ("550 5.1.1 <dr.x@clinique.mssante.test>: unknown user"),
    // or our reason when there was none ("TLS: peer certificate CN=mx.evil.test is not
    // listed for clinique.mssante.test", "connection refused by 127.0.0.1:26025").
    std::string reply;
};

struct AttemptResult {
    // The host that answered, as "name [address]:port"; empty when none did.
    std::string remoteHost;
    // True when the peer announced DSN (RFC 3461) and was given NOTIFY/ORCPT/RET/ENVID:
    // success notices are then its business, not ours (RFC 3461 §5.2.1, §5.2.2).
    bool peerTookDsn = false;
    // One per recipient of the message; a recipient left out counts as Temporary.
    std::vector<RecipientOutcome> recipients;

    // The same outcome and reply for every recipient of `message` (a connection
    // or TLS failure, a reply to MAIL FROM or to the end of data).
    static AttemptResult forAll(const OutboundMessage& message, Outcome outcome, const std::string& reply,
                                std::string remoteHost = {})
    {
        AttemptResult result;
        result.remoteHost = std::move(remoteHost);
        for (const auto& recipient : message.recipients) result.recipients.push_back({recipient.address, outcome, reply});
        return result;
    }
};

// The relay client: routing (MX or static route), STARTTLS with our client
// certificate, the peer's DN checked against the whitelist, then one SMTP
// transaction. Called from several queue threads at once (at most
// max_per_destination for one domain): implementations must be thread-safe.
class Transport {
public:
    virtual ~Transport() = default;
    // Must not throw for delivery problems: they are outcomes. An exception is
    // taken as a Temporary failure of every recipient, with its text as the reply.
    virtual AttemptResult deliver(const OutboundMessage& message) = 0;
};

}  // namespace plexus::queue
