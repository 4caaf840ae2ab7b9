// Plugins' consumers of the durable event log: each on a thread of its own,
// given every matching event at least once, in id order, with retries and
// backoff; an event that keeps failing is set aside as poison so that the
// consumer moves on. Positions are kept in plugin_cursors.
#pragma once

#include "events/EventLog.h"
#include "metrics/Metrics.h"
#include "store/CommitQueue.h"
#include "store/ConnectionPool.h"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace plexus::plugins {

enum class ConsumeOutcome {
    Done,       // processed: the next event comes
    Temporary,  // retried with backoff for as long as it takes, never set aside
    Failed,     // retried with backoff; set aside after maxAttempts failures
    Permanent   // set aside at once
};

struct ConsumeResult {
    ConsumeOutcome outcome = ConsumeOutcome::Done;
    std::string error;  // why, for the log and the poison row
};

struct ConsumerSpec {
    std::string plugin, name;               // the position is kept per (plugin, name)
    std::vector<std::string> typePrefixes;  // empty: every event; else the type starts with one of them
    bool fromOldest = false;                // without a saved position: from the first event, not after the last
    int maxAttempts = 10;                   // Failed results (or exceptions) before the event is set aside
    // Called on the consumer's thread, one event at a time; an exception counts as Failed.
    std::function<ConsumeResult(const events::StoredEvent&)> consume;
};

struct ConsumerTiming {
    std::chrono::milliseconds poll{500};         // how often the log is read when no nudge() comes
    std::chrono::milliseconds firstRetry{1000};  // the backoff doubles from this...
    std::chrono::milliseconds maxRetry{60000};   // ...up to this
    std::size_t batch = 64;                      // events read at once; the position is saved after each batch
};

class EventConsumers {
public:
    // After the poison row is durable, on the consumer's thread; must not throw.
    using PoisonHandler = std::function<void(const std::string& plugin, const std::string& consumer,
                                             std::int64_t eventId, const std::string& error)>;

    // `reads` and `commits` must outlive this object (stop() saves positions through `commits`).
    EventConsumers(store::ConnectionPool& reads, store::CommitQueue& commits, ConsumerTiming timing = {});
    ~EventConsumers();  // stop()
    EventConsumers(const EventConsumers&) = delete;
    EventConsumers& operator=(const EventConsumers&) = delete;

    // Before start(). std::invalid_argument for a second consumer of the same
    // (plugin, name), no consume function or maxAttempts below 1.
    void add(ConsumerSpec spec);
    // Before start().
    void onPoison(PoisonHandler handler);
    // Reads the saved positions, writes down the starting position of new
    // consumers (so that a restart before their first event skips nothing),
    // then starts one thread per consumer. Store errors are thrown.
    void start();
    // Wakes every thread (one in a backoff or waiting for events at once), lets
    // a consume() call in progress finish, saves the positions and joins. An
    // event whose consume() did not return Done comes again at the next start.
    void stop();
    // New events were committed: consumers waiting for events read the log now.
    void nudge();
    std::size_t size() const { return consumers_.size(); }

private:
    struct Consumer;
    void loadPositions();
    void run(Consumer& consumer, const std::stop_token& stop);
    std::vector<events::StoredEvent> readBatch(Consumer& consumer);
    void refreshBacklog(Consumer& consumer);
    void process(Consumer& consumer, const std::vector<events::StoredEvent>& batch, const std::stop_token& stop);
    bool deliver(Consumer& consumer, const events::StoredEvent& stored, const std::stop_token& stop);
    void setAside(Consumer& consumer, const events::StoredEvent& stored, int attempts, const std::string& error);
    void savePosition(Consumer& consumer);
    std::uint64_t nudgesSoFar();
    void waitForEvents(const std::stop_token& stop, std::uint64_t nudgesSeen);
    bool sleep(const std::stop_token& stop, std::chrono::milliseconds delay);  // false when stopped

    store::ConnectionPool& reads_;
    store::CommitQueue& commits_;
    const ConsumerTiming timing_;
    PoisonHandler onPoison_;
    std::vector<std::unique_ptr<Consumer>> consumers_;

    // Waits end on a nudge (new events) or through the threads' stop tokens.
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::uint64_t nudges_ = 0;
    std::vector<std::jthread> threads_;
};

}  // namespace plexus::plugins
