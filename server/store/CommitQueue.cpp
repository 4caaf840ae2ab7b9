#include "store/CommitQueue.h"

#include "metrics/Metrics.h"
#include "store/BlobFile.h"

#include <Poco/Logger.h>

#include <chrono>

namespace plexus::store {

namespace {
metrics::Histogram& commitLatency()
{
    static auto& h = metrics::Registry::instance().histogram(
        "plexus_store_commit_seconds", "Time to make one batch of writes durable (fsyncs and COMMIT)");
    return h;
}
// Their ratio is the mean number of jobs sharing one fsync.
metrics::Counter& commits()
{
    static auto& c = metrics::Registry::instance().counter("plexus_store_commits_total", "Store commits (fsyncs)");
    return c;
}
metrics::Counter& committedJobs()
{
    static auto& c =
        metrics::Registry::instance().counter("plexus_store_commit_jobs_total", "Write jobs run by store commits");
    return c;
}
}  // namespace

CommitQueue::CommitQueue(const std::string& databasePath, std::size_t maxBatch)
    : db_(databasePath), maxBatch_(maxBatch), writer_([this] { run(); })
{
}

CommitQueue::~CommitQueue()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    writer_.join();
}

std::future<void> CommitQueue::submit(Job job, std::set<std::string> syncDirs)
{
    Pending pending{std::move(job), std::move(syncDirs), {}, true};
    auto future = pending.done.get_future();
    {
        std::lock_guard lock(mutex_);
        pending_.push_back(std::move(pending));
    }
    wake_.notify_one();
    return future;
}

void CommitQueue::post(Job job)
{
    {
        std::lock_guard lock(mutex_);
        pending_.push_back(Pending{std::move(job), {}, {}, false});
    }
    wake_.notify_one();
}

void CommitQueue::run()
{
    for (;;) {
        std::deque<Pending> batch;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
            if (pending_.empty()) return;  // stopping, and everything ran
            while (!pending_.empty() && batch.size() < maxBatch_) {
                batch.push_back(std::move(pending_.front()));
                pending_.pop_front();
            }
        }
        commitBatch(batch);
    }
}

void CommitQueue::commitBatch(std::deque<Pending>& batch)
{
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::exception_ptr> errors(batch.size());
    try {
        std::set<std::string> dirs;
        for (const auto& p : batch) dirs.insert(p.syncDirs.begin(), p.syncDirs.end());
        for (const auto& dir : dirs) BlobWriter::syncDirectory(dir);

        Transaction tx(db_);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            try {
                Savepoint sp(db_);
                batch[i].job(db_);
                sp.release();
            } catch (...) {
                errors[i] = std::current_exception();
            }
        }
        tx.commit();
    } catch (...) {
        // The batch as a whole failed (disk full, I/O error): nobody's write is durable.
        const auto failure = std::current_exception();
        for (auto& e : errors) e = failure;
    }
    commitLatency().observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    commits().add();
    committedJobs().add(batch.size());

    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (!errors[i]) {
            batch[i].done.set_value();
        } else if (batch[i].waited) {
            batch[i].done.set_exception(errors[i]);
        } else {
            try {
                std::rethrow_exception(errors[i]);
            } catch (const std::exception& e) {
                Poco::Logger::get("store").error("write lost: %s", std::string(e.what()));
            }
        }
    }
}

}  // namespace plexus::store
