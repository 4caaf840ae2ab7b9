// Read connections for concurrent sessions: SQLite handles are not shared
// between threads, so each session borrows one for the time of a query.
#pragma once

#include "store/Sqlite.h"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace plexus::store {

class ConnectionPool {
public:
    class Lease {
    public:
        Lease(ConnectionPool& pool, std::unique_ptr<Database> db) : pool_(&pool), db_(std::move(db)) {}
        ~Lease();
        Lease(Lease&&) = default;
        Lease& operator=(Lease&&) = delete;
        Database& operator*() const { return *db_; }
        Database* operator->() const { return db_.get(); }

    private:
        ConnectionPool* pool_;
        std::unique_ptr<Database> db_;
    };

    // setUp runs once on each new connection (e.g. pragmas of that database).
    using SetUp = std::function<void(Database&)>;
    static constexpr std::size_t kDefaultMaxIdle = 8;
    explicit ConnectionPool(std::string databasePath, std::size_t maxIdle = kDefaultMaxIdle, SetUp setUp = {})
        : path_(std::move(databasePath)), maxIdle_(maxIdle), setUp_(std::move(setUp))
    {
    }
    Lease acquire();

private:
    void giveBack(std::unique_ptr<Database> db);

    std::string path_;
    std::size_t maxIdle_;
    SetUp setUp_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Database>> idle_;
};

}  // namespace plexus::store
