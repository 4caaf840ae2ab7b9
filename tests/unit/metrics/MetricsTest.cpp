#include "metrics/Metrics.h"

#include <gtest/gtest.h>

using plexus::metrics::Registry;

TEST(Metrics, RendersCountersGaugesAndCumulativeHistograms)
{
    auto& registry = Registry::instance();
    registry.counter("test_events_total", "Events", "kind=\"a\"").add(3);
    registry.counter("test_events_total", "Events", "kind=\"a\"").add();
    registry.gauge("test_open", "Open things").set(-2);
    auto& h = registry.histogram("test_latency_seconds", "Latency");
    h.observe(0.0002);
    h.observe(0.003);
    h.observe(60);
    const std::string text = registry.render();
    EXPECT_NE(text.find("# TYPE test_events_total counter\n"), std::string::npos);
    EXPECT_NE(text.find("test_events_total{kind=\"a\"} 4\n"), std::string::npos);
    EXPECT_NE(text.find("test_open -2\n"), std::string::npos);
    EXPECT_NE(text.find("test_latency_seconds_bucket{le=\"0.00025\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("test_latency_seconds_bucket{le=\"0.005\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("test_latency_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
    EXPECT_NE(text.find("test_latency_seconds_count 3\n"), std::string::npos);
}

TEST(Metrics, RefusesOneNameWithTwoTypes)
{
    Registry::instance().counter("test_mixed", "x");
    EXPECT_THROW(Registry::instance().gauge("test_mixed", "x"), std::logic_error);
}
