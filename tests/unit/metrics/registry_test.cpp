// Registry: registration rules and the exact text exposition.
#include "todo/metrics/registry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace todo::metrics {
namespace {

TEST(Registry, SameRegistrationReturnsTheSameFamily) {
  Registry r;
  EXPECT_EQ(&r.counter("a_total", "A.", {"x"}), &r.counter("a_total", "A.", {"x"}));
  EXPECT_EQ(&r.gauge("g", "G."), &r.gauge("g", "G."));
  EXPECT_EQ(&r.histogram("h_seconds", "H.", {}),
            &r.histogram("h_seconds", "H.", {}, Registry::default_buckets()));
  EXPECT_EQ(&r.histogram("b", "B.", {}, {1, 2}), &r.histogram("b", "B.", {}, {1, 2, INFINITY}));
}

TEST(Registry, ConflictingRegistrationThrows) {
  Registry r;
  r.counter("a_total", "A.", {"x"});
  EXPECT_THROW(r.counter("a_total", "A.", {"y"}), std::invalid_argument);           // other labels
  EXPECT_THROW(r.counter("a_total", "A.", {"x", "y"}), std::invalid_argument);      // more labels
  EXPECT_THROW(r.counter("a_total", "Other help.", {"x"}), std::invalid_argument);  // other help
  r.gauge("g", "G.");
  EXPECT_THROW(r.histogram("g", "G.", {}), std::invalid_argument);  // other type
  r.histogram("h", "H.", {}, {1, 2});
  EXPECT_THROW(r.histogram("h", "H.", {}, {1, 3}), std::invalid_argument);  // other buckets
  r.gauge_callback("cb", "Callback.", [] { return 1.0; });
  EXPECT_THROW(r.gauge("cb", "Callback."), std::invalid_argument);
  EXPECT_THROW(r.gauge_callback("cb", "Callback.", [] { return 1.0; }), std::invalid_argument);
  EXPECT_THROW(r.gauge_callback("g", "G.", [] { return 1.0; }), std::invalid_argument);
}

TEST(Registry, HistogramSeriesNamesCannotBeReused) {
  Registry r;
  r.histogram("latency_seconds", "L.", {});
  // A histogram named like another histogram's series would expose the same series name twice.
  EXPECT_THROW(r.histogram("latency_seconds_sum", "L.", {}), std::invalid_argument);
  r.histogram("size", "S.", {});
  EXPECT_NO_THROW(r.histogram("size_other", "S.", {}));
}

TEST(Registry, ValidatesNames) {
  Registry r;
  EXPECT_THROW(r.gauge("", "X."), std::invalid_argument);
  EXPECT_THROW(r.gauge("1abc", "X."), std::invalid_argument);
  EXPECT_THROW(r.gauge("a-b", "X."), std::invalid_argument);
  EXPECT_THROW(r.gauge("a b", "X."), std::invalid_argument);
  EXPECT_NO_THROW(r.gauge("_a:b_c9", "X."));
  EXPECT_THROW(r.gauge("ok", "X.", {"bad-label"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("ok", "X.", {"a:b"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("ok", "X.", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("ok", "X.", {"9"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("ok", "X.", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("ok", "X.", {"le"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("ok", "X.", {"le"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("ok", "X.", {"quantile"}), std::invalid_argument);
  EXPECT_NO_THROW(r.gauge("ok", "X.", {"_a", "B9"}));
}

TEST(Registry, EnforcesPrometheusNamingConventions) {
  Registry r;
  EXPECT_THROW(r.counter("requests", "R."), std::invalid_argument);
  EXPECT_NO_THROW(r.counter("requests_total", "R."));
  EXPECT_THROW(r.gauge("things_total", "T."), std::invalid_argument);
  EXPECT_THROW(r.histogram("things_total", "T.", {}), std::invalid_argument);
  EXPECT_THROW(r.gauge_callback("cb_total", "T.", [] { return 0.0; }), std::invalid_argument);
  EXPECT_NO_THROW(r.counter_callback("cb_total", "T.", [] { return 0.0; }));
  EXPECT_THROW(r.gauge("x_count", "X."), std::invalid_argument);
  EXPECT_THROW(r.gauge("x_sum", "X."), std::invalid_argument);
  EXPECT_THROW(r.gauge("x_bucket", "X."), std::invalid_argument);
  EXPECT_THROW(r.gauge("no_help", ""), std::invalid_argument);
  EXPECT_THROW(r.gauge_callback("empty", "E.", {}), std::invalid_argument);
}

TEST(Registry, SerializesCounterAndGauge) {
  Registry r;
  auto& c = r.counter("http_requests_total", "HTTP requests.", {"method", "code"});
  c.with({"GET", "200"}).inc(3);
  c.with({"DELETE", "404"}).inc();
  r.gauge("temperature_celsius", "Temperature.").with().set(-1.5);
  EXPECT_EQ(r.serialize(),
            "# HELP http_requests_total HTTP requests.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{method=\"DELETE\",code=\"404\"} 1\n"
            "http_requests_total{method=\"GET\",code=\"200\"} 3\n"
            "# HELP temperature_celsius Temperature.\n"
            "# TYPE temperature_celsius gauge\n"
            "temperature_celsius -1.5\n");
}

TEST(Registry, SerializesHistogram) {
  Registry r;
  auto& h = r.histogram("rpc_seconds", "RPC latency.", {"op"}, {0.005, 1, 2.5});
  h.with({"get"}).observe(0.005);
  h.with({"get"}).observe(2);
  h.with({"get"}).observe(100);
  EXPECT_EQ(r.serialize(),
            "# HELP rpc_seconds RPC latency.\n"
            "# TYPE rpc_seconds histogram\n"
            "rpc_seconds_bucket{op=\"get\",le=\"0.005\"} 1\n"
            "rpc_seconds_bucket{op=\"get\",le=\"1\"} 1\n"
            "rpc_seconds_bucket{op=\"get\",le=\"2.5\"} 2\n"
            "rpc_seconds_bucket{op=\"get\",le=\"+Inf\"} 3\n"
            "rpc_seconds_sum{op=\"get\"} 102.005\n"
            "rpc_seconds_count{op=\"get\"} 3\n");
}

TEST(Registry, UnlabelledMetricsAreExposedBeforeFirstUpdate) {
  Registry r;
  r.counter("events_total", "Events.");
  r.histogram("wait_seconds", "Wait.", {}, {1});
  EXPECT_EQ(r.serialize(),
            "# HELP events_total Events.\n"
            "# TYPE events_total counter\n"
            "events_total 0\n"
            "# HELP wait_seconds Wait.\n"
            "# TYPE wait_seconds histogram\n"
            "wait_seconds_bucket{le=\"1\"} 0\n"
            "wait_seconds_bucket{le=\"+Inf\"} 0\n"
            "wait_seconds_sum 0\n"
            "wait_seconds_count 0\n");
}

TEST(Registry, LabelledFamilyWithoutChildrenPrintsOnlyHeader) {
  Registry r;
  r.gauge("pending", "Pending.", {"queue"});
  EXPECT_EQ(r.serialize(), "# HELP pending Pending.\n# TYPE pending gauge\n");
}

TEST(Registry, EscapesLabelValuesAndHelp) {
  Registry r;
  r.gauge("g", "Back\\slash, \"quotes\"\nand newline.", {"v"}).with({"a\"b\\c\nd"}).set(1);
  EXPECT_EQ(r.serialize(),
            "# HELP g Back\\\\slash, \"quotes\"\\nand newline.\n"
            "# TYPE g gauge\n"
            "g{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Registry, CallbacksAreReadAtScrapeTime) {
  Registry r;
  double depth = 1;
  r.gauge_callback("queue_depth", "Depth.", [&] { return depth; });
  r.counter_callback("work_total", "Work.", [] { return 7.0; });
  r.gauge_callback("broken", "Throws.", []() -> double { throw std::runtime_error("unavailable"); });
  depth = 42;
  EXPECT_EQ(r.serialize(),
            "# HELP broken Throws.\n# TYPE broken gauge\nbroken NaN\n"
            "# HELP queue_depth Depth.\n# TYPE queue_depth gauge\nqueue_depth 42\n"
            "# HELP work_total Work.\n# TYPE work_total counter\nwork_total 7\n");
}

TEST(Registry, CallbackMayUseTheRegistry) {
  Registry r;
  r.gauge("source", "Source.").with().set(5);
  // The callback takes the registry lock itself, so serialize() must not hold it while reading.
  r.gauge_callback("mirror", "Mirror.", [&] { return r.gauge("source", "Source.").with().value(); });
  EXPECT_NE(r.serialize().find("mirror 5\n"), std::string::npos);
}

TEST(Registry, DefaultBuckets) {
  EXPECT_EQ(Registry::default_buckets(),
            (std::vector<double>{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}));
}

}  // namespace
}  // namespace todo::metrics
