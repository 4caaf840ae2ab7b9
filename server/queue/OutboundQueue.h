// The runner of the outbound queue: picks the entries whose time has come,
// runs at most max_deliveries attempts at once (max_per_destination for one
// domain) through the Transport, records each attempt's results durably
// before anything else, retries with exponential backoff until the lifetime
// is over, and hands the notices due to the Notifier.
//
// Nothing acknowledged is sent twice: a recipient the peer accepted is
// recorded as delivered in the same commit as the rest of the attempt's
// results and events, and only pending recipients are attempted. What is not
// recorded is attempted again: an attempt cut short by a crash (its entry left
// Delivering) is retried at the next start, so a peer that had accepted the
// message before the crash gets it twice — the same at-least-once window as
// Postfix's (between the peer's "250" and the queue file update).
#pragma once

#include "metrics/Metrics.h"
#include "queue/Notifier.h"
#include "queue/QueueStore.h"
#include "queue/RelaySettings.h"
#include "queue/Transport.h"
#include "store/CommitQueue.h"
#include "store/ConnectionPool.h"
#include "store/MailboxStore.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace plexus::queue {

// The store the queue works on; it must outlive the queue (stop() may still commit).
struct QueueServices {
    store::ConnectionPool& reads;
    store::CommitQueue& commits;
    const store::MailboxStore& mailboxes;  // opens the blobs, unlinks those released
};

class OutboundQueue {
public:
    // `transport` and `notifier` must outlive the queue.
    OutboundQueue(RelaySettings settings, QueueServices services, Transport& transport, Notifier& notifier);
    ~OutboundQueue();  // stop()
    OutboundQueue(const OutboundQueue&) = delete;
    OutboundQueue& operator=(const OutboundQueue&) = delete;

    // Queues again the entries a crash left Delivering, then starts the
    // threads. Store errors are thrown.
    void start();
    // New entries were committed (or retried): they are attempted now, not at the next scan.
    void wake();
    // New [relay] settings (SIGHUP): the schedule and limits apply from the next
    // round, the rules from the next attempt. A larger max_deliveries starts more
    // threads; a smaller one leaves some idle.
    void reconfigure(const RelaySettings& settings);
    // Ends waits at once; attempts in progress finish and are recorded (the
    // transport's own timeouts bound them), then the threads are joined.
    void stop();

private:
    struct Metrics {
        Metrics();
        metrics::Gauge& entries;
        metrics::Gauge& recipients;
        metrics::Gauge& oldestAge;
        metrics::Counter& delivered;
        metrics::Counter& deferred;
        metrics::Counter& failed;
        metrics::Histogram& attemptSeconds;
    };

    void schedule(const std::stop_token& stop);
    std::chrono::milliseconds dispatchDue();
    void refreshGauges();
    void work(const std::stop_token& stop);
    void serve(const QueueEntry& entry, const std::stop_token& stop);
    void attempt(const QueueEntry& entry);
    void handNotices(std::int64_t entryId);
    OutboundMessage messageFor(const QueueEntry& entry, std::vector<OutboundRecipient> recipients,
                               const RelaySettings& settings) const;
    void finished(const QueueEntry& entry);
    RelaySettings currentSettings();
    void startWorkers(std::size_t count);

    QueueServices services_;
    Transport& transport_;
    Notifier& notifier_;
    Metrics metrics_;
    std::chrono::steady_clock::time_point gaugesRefreshed_;  // scheduler thread only

    std::mutex mutex_;
    RelaySettings settings_;
    std::condition_variable_any changed_;  // the scheduler waits on it
    std::condition_variable_any ready_;    // the workers wait on it
    std::uint64_t changes_ = 0;            // wake() and finished entries
    std::deque<QueueEntry> readyEntries_;  // dispatched, not yet taken by a worker
    std::set<std::int64_t> inHand_;        // dispatched and not finished
    std::map<std::string, std::size_t> perDomain_;  // of inHand_, by lower-case domain
    std::vector<std::jthread> workers_;
    std::jthread scheduler_;
};

}  // namespace plexus::queue
