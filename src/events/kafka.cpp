// librdkafka producer and mock cluster.
#include "todo/events/kafka.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <stdexcept>
#include <vector>

#include "todo/core/log.hpp"

namespace todo::events {
namespace {

void set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error("Kafka setting " + key + "=" + value + ": " + err);
  }
}

// librdkafka's own log lines, as JSON lines like every other (syslog levels: 0 emerg … 7 debug).
void on_log(const rd_kafka_t*, int level, const char* facility, const char* message) {
  const auto lvl = level <= 3   ? spdlog::level::err
                   : level == 4 ? spdlog::level::warn
                   : level <= 6 ? spdlog::level::info
                                : spdlog::level::debug;
  log::event(lvl, message, {{"component", "kafka"}, {"facility", facility}});
}

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* report = static_cast<KafkaProducer::DeliveryReport*>(opaque);
  const auto token = reinterpret_cast<std::uintptr_t>(m->_private);
  (*report)(token, m->err ? rd_kafka_err2str(m->err) : std::string());
}

}  // namespace

KafkaProducer::KafkaProducer(const std::string& brokers, DeliveryReport report,
                             const std::map<std::string, std::string>& extra)
    : on_delivery_(std::make_unique<DeliveryReport>(std::move(report))) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", brokers);
  set(conf, "client.id", "todo-server");
  set(conf, "enable.idempotence", "true");
  set(conf, "acks", "all");
  // Retry without end: a broker outage grows the backlog instead of dropping events.
  set(conf, "message.timeout.ms", "0");
  set(conf, "linger.ms", "2");
  set(conf, "compression.type", "lz4");
  for (const auto& [k, v] : extra)
    set(conf, k, v);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_log_cb(conf, on_log);
  rd_kafka_conf_set_opaque(conf, on_delivery_.get());
  char err[512];
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk_) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("cannot create the Kafka producer: ") + err);
  }
}

KafkaProducer::~KafkaProducer() {
  if (!rk_) return;
  rd_kafka_flush(rk_, static_cast<int>(flush_timeout_.count()));
  rd_kafka_destroy(rk_);
}

bool KafkaProducer::produce(const std::string& topic, const std::string& key, const std::string& value,
                            const std::map<std::string, std::string>& headers, std::uint64_t token,
                            std::string& error) {
  rd_kafka_headers_t* hdrs = rd_kafka_headers_new(headers.size());
  for (const auto& [k, v] : headers)
    rd_kafka_header_add(hdrs, k.data(), static_cast<ssize_t>(k.size()), v.data(),
                        static_cast<ssize_t>(v.size()));
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      rk_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(token))), RD_KAFKA_V_END);
  if (err) {
    rd_kafka_headers_destroy(hdrs);  // ownership passes to librdkafka only on success
    error = rd_kafka_err2str(err);
    return false;
  }
  return true;
}

void KafkaProducer::poll(int timeout_ms) {
  rd_kafka_poll(rk_, timeout_ms);
}

int KafkaProducer::outstanding() const {
  return rd_kafka_outq_len(rk_);
}

std::string KafkaProducer::fatal_error() const {
  char err[512];
  if (rd_kafka_fatal_error(rk_, err, sizeof err) == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  return err;
}

KafkaConsumer::KafkaConsumer(const std::string& brokers, const std::string& group,
                             const std::vector<std::string>& topics, Handler handler, bool from_latest)
    : handler_(std::move(handler)) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", brokers);
  set(conf, "group.id", group);
  set(conf, "client.id", "todo-server");
  set(conf, "auto.offset.reset", from_latest ? "latest" : "earliest");
  set(conf, "enable.auto.commit", "true");
  rd_kafka_conf_set_log_cb(conf, on_log);
  char err[512];
  rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk_) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("cannot create the Kafka consumer: ") + err);
  }
  rd_kafka_poll_set_consumer(rk_);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  std::string names;
  for (const auto& topic : topics) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), RD_KAFKA_PARTITION_UA);
    names += (names.empty() ? "" : ", ") + topic;
  }
  const auto e = rd_kafka_subscribe(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e) {
    rd_kafka_destroy(rk_);
    throw std::runtime_error("cannot subscribe to " + names + ": " + rd_kafka_err2str(e));
  }
  thread_ = std::thread([this] {
    while (!stopping_.load()) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 200);
      if (!m) continue;
      if (!m->err) {
        try {
          handler_(std::string(static_cast<const char*>(m->key), m->key_len),
                   std::string(static_cast<const char*>(m->payload), m->len));
        } catch (const std::exception& ex) {
          log::event(spdlog::level::warn, "kafka message not handled", {{"error", ex.what()}});
        }
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        log::event(spdlog::level::warn, "kafka consumer error", {{"error", rd_kafka_message_errstr(m)}});
      }
      rd_kafka_message_destroy(m);
    }
  });
}

KafkaConsumer::~KafkaConsumer() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
  rd_kafka_consumer_close(rk_);
  rd_kafka_destroy(rk_);
}

MockKafkaCluster::MockKafkaCluster(int brokers) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  // A handle only to own the cluster; it never connects anywhere (so no warning about that either).
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_conf_set_log_cb(conf, on_log);
  handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!handle_) throw std::runtime_error(std::string("cannot create the mock cluster handle: ") + err);
  cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
  if (!cluster_) {
    rd_kafka_destroy(handle_);
    throw std::runtime_error("cannot create the Kafka mock cluster");
  }
}

MockKafkaCluster::~MockKafkaCluster() {
  rd_kafka_mock_cluster_destroy(cluster_);
  rd_kafka_destroy(handle_);
}

std::string MockKafkaCluster::bootstrap_servers() const {
  return rd_kafka_mock_cluster_bootstraps(cluster_);
}

void MockKafkaCluster::create_topic(const std::string& name, int partitions) {
  rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1);
}

void MockKafkaCluster::set_broker_down(int broker_id) {
  rd_kafka_mock_broker_set_down(cluster_, broker_id);
}
void MockKafkaCluster::set_broker_up(int broker_id) {
  rd_kafka_mock_broker_set_up(cluster_, broker_id);
}

}  // namespace todo::events
