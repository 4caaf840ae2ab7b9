// AuditTransport: where ATNA audit messages go (a local file, syslog over TLS or
// UDP, ...). One event consumer per transport, each with its own cursor, so a
// repository that is down delays only its own records.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace plexus::atna {

// One audit message, ready to send.
struct AuditRecord {
    std::string xml;  // one DICOM PS3.15 A.5 AuditMessage, UTF-8, no XML declaration, no line break
    std::int64_t eventId = 0;  // the Plexus event it comes from (increasing)
    std::chrono::system_clock::time_point time;  // when the event happened
    std::string uniqueId;  // "<audit_source_id>:<event id>": receivers de-duplicate with it
    std::string sourceId;  // audit_source_id (RFC 5424 HOSTNAME)
    int outcome = 0;  // EventOutcomeIndicator: 0, 4, 8 or 12 (a syslog severity may follow it)
};

// The transport could not hand the record over now (peer down, disk full...):
// the consumer answers TEMPORARY and the host gives the same event again later.
class TransportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class AuditTransport {
public:
    virtual ~AuditTransport() = default;
    AuditTransport() = default;
    AuditTransport(const AuditTransport&) = delete;
    AuditTransport& operator=(const AuditTransport&) = delete;

    // The transport's name in config, metrics and consumer names ("file", "tls", "udp").
    virtual std::string name() const = 0;

    // Returns once the record is handed over as durably as the transport can
    // (written and fsynced, written to the TLS socket...); throws TransportError
    // otherwise. Called from one consumer thread at a time, in event order; the
    // same record may come again after a failure or a restart (at least once).
    virtual void send(const AuditRecord& record) = 0;

    // Returns once the peer has everything sent so far (a TLS repository's TCP
    // acknowledgement); throws TransportError otherwise. The consumer calls it
    // after each send() before the event counts as sent. Nothing to wait for by default.
    virtual void flush() {}
};

}  // namespace plexus::atna
