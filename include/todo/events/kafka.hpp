// Kafka through librdkafka: an idempotent producer with delivery reports, and librdkafka's in-process mock
// cluster.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace todo::events {

/// An idempotent producer (enable.idempotence, acks=all, retries without end): per key, messages arrive once
/// and in order. Delivery reports are handed to the callback from poll(), on the caller's thread.
class KafkaProducer {
 public:
  /// Called once per produced message: the opaque token given to produce(), and an error text (empty on
  /// success).
  using DeliveryReport = std::function<void(std::uint64_t token, const std::string& error)>;

  /// Throws std::runtime_error naming the bad setting.
  KafkaProducer(const std::string& brokers, DeliveryReport on_delivery,
                const std::map<std::string, std::string>& extra_config = {});
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  /// Queues a message; false (with `error` set) when the local queue is full or the producer failed fatally.
  bool produce(const std::string& topic, const std::string& key, const std::string& value,
               const std::map<std::string, std::string>& headers, std::uint64_t token, std::string& error);
  /// Serves delivery reports; waits up to timeout_ms for the first.
  void poll(int timeout_ms);
  /// Messages produced and not yet reported.
  int outstanding() const;
  /// A fatal error (idempotence broken): the producer must be recreated. Empty when none.
  std::string fatal_error() const;
  /// How long the destructor waits for messages in flight (default 2 s).
  void set_flush_timeout(std::chrono::milliseconds t) { flush_timeout_ = t; }

 private:
  rd_kafka_s* rk_ = nullptr;
  std::chrono::milliseconds flush_timeout_{2000};
  std::unique_ptr<DeliveryReport> on_delivery_;
};

/// A consumer of a topic in its own consumer group, on its own thread: the handler gets each message's value.
class KafkaConsumer {
 public:
  using Handler = std::function<void(const std::string& key, const std::string& value)>;
  /// Subscribes to `topics` in consumer group `group`. `from_latest`: a new group starts at the end of the
  /// topics (live fan-out) instead of the beginning.
  KafkaConsumer(const std::string& brokers, const std::string& group, const std::vector<std::string>& topics,
                Handler handler, bool from_latest = true);
  ~KafkaConsumer();
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

 private:
  rd_kafka_s* rk_ = nullptr;
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

/// librdkafka's mock cluster, speaking the Kafka protocol on loopback: for --kafka=embedded and for tests.
class MockKafkaCluster {
 public:
  explicit MockKafkaCluster(int brokers = 1);
  ~MockKafkaCluster();
  MockKafkaCluster(const MockKafkaCluster&) = delete;
  MockKafkaCluster& operator=(const MockKafkaCluster&) = delete;

  std::string bootstrap_servers() const;
  void create_topic(const std::string& name, int partitions);
  void set_broker_down(int broker_id);
  void set_broker_up(int broker_id);

 private:
  rd_kafka_s* handle_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
};

}  // namespace todo::events
