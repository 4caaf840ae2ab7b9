#include "trust/PeriodicTask.h"

namespace plexus::trust {

PeriodicTask::PeriodicTask(Task task) : task_(std::move(task)) {}

PeriodicTask::~PeriodicTask() { stop(); }

void PeriodicTask::start()
{
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void PeriodicTask::stop()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void PeriodicTask::wake()
{
    {
        std::lock_guard lock(mutex_);
        woken_ = true;
    }
    wake_.notify_all();
}

void PeriodicTask::run()
{
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        woken_ = false;
        lock.unlock();
        const auto next = task_();
        lock.lock();
        wake_.wait_until(lock, next, [this] { return stopping_ || woken_; });
    }
}

}  // namespace plexus::trust
