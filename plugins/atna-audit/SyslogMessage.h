// RFC 5424 syslog messages carrying IHE ATNA audit messages (ITI-20 "Record
// Audit Event"): <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] BOM XML,
// and the RFC 5425 octet-counting frame they travel in over TLS.
#pragma once

#include "AuditTransport.h"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace plexus::atna {

// The header fields that are the same for every record of one sender.
struct SyslogOrigin {
    int facility = 10;  // authpriv (RFC 5424 6.2.1); 0..23
    std::string appName = "plexus";
    std::string procId;  // "" → NILVALUE
};

// The private SD-ID of the element carrying the record's unique id, for the
// repository's de-duplication. 32473 is the enterprise number reserved for
// documentation (RFC 5612).
inline constexpr std::string_view kSyslogSdId = "plexus@32473";
inline constexpr std::string_view kSyslogMsgId = "IHE+RFC-3881";  // IHE ITI TF-2a 3.20.4.1.2

// The whole message: severity notice (5) for a success, warning (4) otherwise;
// HOSTNAME is the record's sourceId. Header fields are cut to their RFC 5424
// section 6 limits and made PRINTUSASCII ('_' for anything else).
std::string formatSyslogMessage(const AuditRecord& record, const SyslogOrigin& origin);

// PARAM-VALUE escaping (RFC 5424 6.3.3): '"', '\' and ']' get a backslash.
std::string escapeSdParamValue(std::string_view value);

// RFC 3339 in UTC with microseconds, as RFC 5424 6.2.3 allows: 2026-12-01T23:05:13.123456Z.
std::string syslogTimestamp(std::chrono::system_clock::time_point time);

// RFC 5425 4.3: MSG-LEN SP SYSLOG-MSG.
std::string octetCountingFrame(std::string_view message);

// At most `limit` octets of `message`, cut before a UTF-8 continuation byte
// so that what is left stays valid UTF-8 (RFC 5424 6.1 allows truncation).
std::string_view truncateSyslogMessage(std::string_view message, std::size_t limit);

}  // namespace plexus::atna
