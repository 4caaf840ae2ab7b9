// The outbound queue's settings, from the [relay] section:
//   lifetime_hours = 120         ; a message is bounced when still undelivered after this
//   delay_notice_hours = 4       ; a delay notice goes after this (once), if still pending
//   first_retry_seconds = 300    ; the wait after the first failed attempt, doubling...
//   max_retry_seconds = 3600     ; ...up to this
//   scan_seconds = 5             ; the queue is read at least this often (plexusctl queue retry)
//   max_deliveries = 20          ; attempts running at once, overall
//   max_per_destination = 4      ; attempts running at once for one domain
// Durations are decimal numbers and may be fractional ("lifetime_hours = 0.001"
// is 3.6 s), so that tests can run the whole schedule in seconds; they resolve
// to milliseconds and must come to at least 1 ms.
#pragma once

#include <Poco/Util/AbstractConfiguration.h>

#include <chrono>
#include <cstddef>
#include <stdexcept>

namespace plexus::queue {

// A [relay] setting plexusd cannot start with; the message names the key and the value.
class RelayConfigError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct RelaySettings {
    std::chrono::milliseconds lifetime{std::chrono::hours(120)};
    std::chrono::milliseconds delayNotice{std::chrono::hours(4)};
    std::chrono::milliseconds firstRetry{std::chrono::seconds(300)};
    std::chrono::milliseconds maxRetry{std::chrono::seconds(3600)};
    std::chrono::milliseconds scanInterval{std::chrono::seconds(5)};
    std::size_t maxDeliveries = 20;
    std::size_t maxPerDestination = 4;
};

// Absent keys keep the defaults above. Throws RelayConfigError for a value that
// is not a number, out of range, or inconsistent with another (first retry
// above max retry, delay notice not before the lifetime's end, more per
// destination than overall).
RelaySettings loadRelaySettings(const Poco::Util::AbstractConfiguration& config);

}  // namespace plexus::queue
