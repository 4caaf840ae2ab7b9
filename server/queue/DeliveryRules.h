// The queue's rules, apart from its threads and store so that they are tested
// alone: when the next attempt comes, when a recipient is given up on, and
// which delivery status notices are due (RFC 3461).
#pragma once

#include "queue/QueueStore.h"
#include "queue/RelaySettings.h"
#include "queue/Transport.h"

#include <chrono>
#include <cstdint>
#include <string>

namespace plexus::queue {

// NOTIFY (RFC 3461 §4.1): absent means FAILURE,DELAY; NEVER means none.
bool notifyAsks(const std::string& notify, NoticeKind kind);

// The wait after the n-th failed attempt (n >= 1): first_retry, doubling, at most max_retry.
std::chrono::milliseconds retryDelay(const RelaySettings& settings, std::int64_t failedAttempts);

// Milliseconds since the epoch after which an entry is not attempted again.
std::int64_t expiryMs(const QueueEntry& entry, const RelaySettings& settings);

// What the results of an attempt at `entry`'s pending recipients change:
// - Delivered recipients are done; a "delivered" notice is due if NOTIFY asks
//   for SUCCESS and the peer did not take the request on (RFC 3461 §5.2.2).
// - Permanent ones failed; a "failed" notice is due unless NOTIFY says otherwise.
// - Temporary ones stay pending; once the lifetime is over they expire, with a
//   "failed" notice (§5.2.6). The next attempt is retryDelay later, brought
//   forward to the expiry and to the delay notice's time so that both are on time.
// - Still pending delay_notice after arrival: a "delayed" notice, once per entry (§5.2.5).
// - No notice for the null sender (RFC 5321 §4.5.5).
AttemptRecord afterAttempt(const QueueEntry& entry, const AttemptResult& result, const RelaySettings& settings,
                           std::int64_t nowMs);

}  // namespace plexus::queue
