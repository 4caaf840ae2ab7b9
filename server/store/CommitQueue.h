// Group commit: one writer thread runs the write jobs of many sessions in one
// SQLite transaction, so that they share one fsync of the WAL. A job's future
// is fulfilled only after COMMIT has returned, i.e. once its writes are durable.
#pragma once

#include "store/Sqlite.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace plexus::store {

class CommitQueue {
public:
    using Job = std::function<void(Database&)>;

    explicit CommitQueue(const std::string& databasePath, std::size_t maxBatch = 256);
    ~CommitQueue();  // runs what is queued, then stops
    CommitQueue(const CommitQueue&) = delete;
    CommitQueue& operator=(const CommitQueue&) = delete;

    // Runs `job` inside the next batch, in its own savepoint: if it throws, only its
    // own writes are undone and the future carries the exception. `syncDirs` are
    // folders whose new entries (blob files) must be durable before the commit.
    std::future<void> submit(Job job, std::set<std::string> syncDirs = {});
    // Fire-and-forget variant for writes nobody waits for (e.g. audit events of a login).
    void post(Job job);

private:
    struct Pending {
        Job job;
        std::set<std::string> syncDirs;
        std::promise<void> done;
        bool waited;
    };
    void run();
    void commitBatch(std::deque<Pending>& batch);

    Database db_;
    std::size_t maxBatch_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Pending> pending_;
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace plexus::store
