// Sessions waiting for their client without a thread (IMAP IDLE: hours, for
// thousands of clients). A parked session is a socket watched by one epoll
// thread, a key (the folder it watches) and a deadline; it is resumed, once,
// on a pool thread when its client sends something, when its key is woken,
// when its deadline passes or when the server stops.
#pragma once

#include "metrics/Metrics.h"

#include <Poco/Runnable.h>
#include <Poco/ThreadPool.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace plexus::net {

class IdleParker {
public:
    using Clock = std::chrono::steady_clock;

    // What can be parked. resumed() hands over the parker's reference, which
    // run(), called next on a pool thread, is to hold while it runs (the pool
    // needs the object alive until run() returns). A resumed session finds out
    // why itself: input, a change, its deadline or the server stopping.
    class Parked : public Poco::Runnable {
    public:
        virtual void resumed(std::shared_ptr<Parked> self) = 0;
    };

    // `maxParked` bounds the sessions parked at once; `maxRunning` the pool
    // threads resuming them.
    IdleParker(std::size_t maxParked, int maxRunning);
    ~IdleParker();  // stop()
    IdleParker(const IdleParker&) = delete;
    IdleParker& operator=(const IdleParker&) = delete;

    // Watches `fd` until input, wake(key), the deadline or stop(). False when
    // full or stopped: the caller then waits on its own thread. After true,
    // the caller must not touch the session any more: it may run already.
    bool park(std::shared_ptr<Parked> session, int fd, std::int64_t key, Clock::time_point deadline);
    // Resumes the sessions parked under `key` (any thread).
    void wake(std::int64_t key);
    // Resumes every parked session with Stopping, refuses new ones, and waits
    // for the resumed sessions to return.
    void stop();

    std::size_t parkedCount() const;

private:
    struct Entry {
        std::shared_ptr<Parked> session;
        std::int64_t key = 0;
        Clock::time_point deadline;
    };
    void run();
    // Takes a parked session out (under the lock); null if it was taken already.
    std::shared_ptr<Parked> takeLocked(int fd);
    void resume(std::shared_ptr<Parked> session);
    void signal();

    const std::size_t maxParked_;
    mutable std::mutex mutex_;
    std::unordered_map<int, Entry> parked_;            // by socket
    std::unordered_multimap<std::int64_t, int> byKey_;  // sockets by key
    std::vector<std::int64_t> wokenKeys_;              // for the epoll thread
    // Sessions the pool had no thread for, tried again shortly.
    std::vector<std::shared_ptr<Parked>> retry_;
    bool stopping_ = false;
    int epoll_ = -1;
    int wakeFd_ = -1;                            // eventfd: wake() and stop()
    Poco::ThreadPool pool_;
    metrics::Gauge& parkedGauge_;
    std::thread watcher_;
};

}  // namespace plexus::net
