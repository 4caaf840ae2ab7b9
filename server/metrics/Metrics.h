// Process-wide counters, gauges and histograms, exposed by the HTTP API in the
// Prometheus text format. Lock-free on the hot path: each series is created once
// and then updated with atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace plexus::metrics {

class Counter {
public:
    void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
public:
    void add(std::int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
    void set(std::int64_t n) { value_.store(n, std::memory_order_relaxed); }
    std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> value_{0};
};

// Fixed exponential buckets (seconds), fine enough for commit and command latencies.
class Histogram {
public:
    static constexpr std::array<double, 14> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                   0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                   1.0,    5.0};
    void observe(double seconds);
    std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    double sum() const;
    std::uint64_t bucket(std::size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }

private:
    std::array<std::atomic<std::uint64_t>, bounds.size()> buckets_{};
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sumMicros_{0};
};

// Names follow Prometheus conventions; labels are given as `key="value"` text,
// built by the caller from fixed vocabularies (never from client input).
class Registry {
public:
    static Registry& instance();

    Counter& counter(const std::string& name, const std::string& help, const std::string& labels = {});
    Gauge& gauge(const std::string& name, const std::string& help, const std::string& labels = {});
    Histogram& histogram(const std::string& name, const std::string& help, const std::string& labels = {});

    // Prometheus text exposition format 0.0.4.
    std::string render() const;

private:
    struct Family {
        std::string type;
        std::string help;
        std::map<std::string, std::unique_ptr<Counter>> counters;
        std::map<std::string, std::unique_ptr<Gauge>> gauges;
        std::map<std::string, std::unique_ptr<Histogram>> histograms;
    };
    Family& family(const std::string& name, const std::string& type, const std::string& help);

    mutable std::mutex mutex_;
    std::map<std::string, Family> families_;
};

}  // namespace plexus::metrics
