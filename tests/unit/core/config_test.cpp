// Tests of configuration: environment variables, flags that win over them, and one clear line per bad
// setting.
#include "todo/core/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace todo {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSecret(32, 's');

// Every variable load_config reads.
const char* const kVariables[] = {"DATABASE_URL",
                                  "TODO_HTTP_ADDR",
                                  "TODO_JWT_SECRET",
                                  "TODO_LOG_LEVEL",
                                  "TODO_DB_POOL_SIZE",
                                  "TODO_DB_CREATE_WRITERS",
                                  "TODO_LIST_CACHE_MB",
                                  "TODO_HTTP_THREADS",
                                  "TODO_HTTP_BODY_LIMIT",
                                  "TODO_HTTP_HEADER_TIMEOUT_MS",
                                  "TODO_HTTP_IDLE_TIMEOUT_MS",
                                  "TODO_HTTP_REQUEST_TIMEOUT_MS",
                                  "TODO_SHUTDOWN_TIMEOUT_S",
                                  "KAFKA_BROKERS",
                                  "TODO_HTTP_BODY_MEMORY_MB",
                                  "TODO_SMTP_URL",
                                  "TODO_LLM_URL",
                                  "TODO_LLM_MODEL"};

// Each test starts from an environment without any of the variables and gets the original one back.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kVariables) {
      if (const char* v = std::getenv(name)) saved_[name] = v;
      ::unsetenv(name);
    }
  }
  void TearDown() override {
    for (const char* name : kVariables) {
      if (auto it = saved_.find(name); it != saved_.end())
        ::setenv(name, it->second.c_str(), 1);
      else
        ::unsetenv(name);
    }
  }

  static void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }

  // The two required settings, from the environment.
  static void required() {
    set("DATABASE_URL", "postgresql://localhost/todo");
    set("TODO_JWT_SECRET", kSecret);
  }

  static Config load(std::vector<std::string> args) {
    args.insert(args.begin(), "todo-server");
    std::vector<const char*> argv;
    for (const auto& a : args)
      argv.push_back(a.c_str());
    argv.push_back(nullptr);
    return load_config(static_cast<int>(args.size()), argv.data());
  }

  // The message of the ConfigError that load throws, or nullopt.
  static std::optional<std::string> error(std::vector<std::string> args) {
    try {
      load(std::move(args));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::nullopt;
  }

 private:
  std::map<std::string, std::string> saved_;
};

TEST_F(ConfigTest, DefaultsWithTheRequiredSettings) {
  required();
  const Config c = load({});
  EXPECT_EQ(c.command, "serve");
  EXPECT_EQ(c.database_url, "postgresql://localhost/todo");
  EXPECT_EQ(c.jwt_secret, kSecret);
  EXPECT_EQ(c.http_host, "127.0.0.1");
  EXPECT_EQ(c.http_port, 8080);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.db_pool_size, 8u);
  EXPECT_EQ(c.db_create_writers, 2u);
  EXPECT_EQ(c.list_cache_bytes, 64u << 20);
  EXPECT_GE(c.http_threads, 1u);
  EXPECT_EQ(c.body_limit, 1u << 20);
  EXPECT_EQ(c.header_timeout, 10'000ms);
  EXPECT_EQ(c.idle_timeout, 60'000ms);
  EXPECT_EQ(c.request_timeout, 30'000ms);
  EXPECT_EQ(c.shutdown_timeout, 10s);
  EXPECT_EQ(c.kafka_brokers, "");
}

TEST_F(ConfigTest, ReadsEveryVariable) {
  required();
  set("TODO_HTTP_ADDR", "0.0.0.0:9090");
  set("TODO_LOG_LEVEL", "debug");
  set("TODO_DB_POOL_SIZE", "16");
  set("TODO_DB_CREATE_WRITERS", "5");
  set("TODO_LIST_CACHE_MB", "0");
  set("TODO_HTTP_THREADS", "3");
  set("TODO_HTTP_BODY_LIMIT", "2048");
  set("TODO_HTTP_HEADER_TIMEOUT_MS", "1500");
  set("TODO_HTTP_IDLE_TIMEOUT_MS", "2500");
  set("TODO_HTTP_REQUEST_TIMEOUT_MS", "3500");
  set("TODO_SHUTDOWN_TIMEOUT_S", "4");
  set("KAFKA_BROKERS", "k1:9092,k2:9092");
  const Config c = load({});
  EXPECT_EQ(c.http_host, "0.0.0.0");
  EXPECT_EQ(c.http_port, 9090);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.db_pool_size, 16u);
  EXPECT_EQ(c.db_create_writers, 5u);
  EXPECT_EQ(c.list_cache_bytes, 0u);
  EXPECT_EQ(c.http_threads, 3u);
  EXPECT_EQ(c.body_limit, 2048u);
  EXPECT_EQ(c.header_timeout, 1500ms);
  EXPECT_EQ(c.idle_timeout, 2500ms);
  EXPECT_EQ(c.request_timeout, 3500ms);
  EXPECT_EQ(c.shutdown_timeout, 4s);
  EXPECT_EQ(c.kafka_brokers, "k1:9092,k2:9092");
}

TEST_F(ConfigTest, ReadsEveryFlagInBothForms) {
  const std::vector<std::pair<std::string, std::string>> flags = {
      {"--database-url", "postgresql://db/todo"},
      {"--jwt-secret", std::string(40, 'j')},
      {"--http-addr", "[::1]:0"},
      {"--log-level", "warn"},
      {"--db-pool-size", "2"},
      {"--http-threads", "5"},
      {"--http-body-limit", "4096"},
      {"--http-header-timeout-ms", "100"},
      {"--http-idle-timeout-ms", "200"},
      {"--http-request-timeout-ms", "300"},
      {"--shutdown-timeout-s", "0"},
      {"--kafka-brokers", "localhost:9092"},
  };
  for (bool with_equals : {false, true}) {
    SCOPED_TRACE(with_equals ? "--flag=value" : "--flag value");
    std::vector<std::string> args;
    for (const auto& [flag, value] : flags) {
      if (with_equals) {
        args.push_back(flag + "=" + value);
      } else {
        args.push_back(flag);
        args.push_back(value);
      }
    }
    const Config c = load(args);
    EXPECT_EQ(c.database_url, "postgresql://db/todo");
    EXPECT_EQ(c.jwt_secret, std::string(40, 'j'));
    EXPECT_EQ(c.http_host, "::1");
    EXPECT_EQ(c.http_port, 0) << "port 0 picks a free port";
    EXPECT_EQ(c.log_level, "warn");
    EXPECT_EQ(c.db_pool_size, 2u);
    EXPECT_EQ(c.http_threads, 5u);
    EXPECT_EQ(c.body_limit, 4096u);
    EXPECT_EQ(c.header_timeout, 100ms);
    EXPECT_EQ(c.idle_timeout, 200ms);
    EXPECT_EQ(c.request_timeout, 300ms);
    EXPECT_EQ(c.shutdown_timeout, 0s);
    EXPECT_EQ(c.kafka_brokers, "localhost:9092");
  }
}

// A duration is a whole number and a unit; "0s" was refused with "expected a number from 1 to 100000000",
// which did not say a duration was expected.
TEST_F(ConfigTest, DurationsNeedANumberAndAUnit) {
  required();
  EXPECT_EQ(load({"--outbox-retention", "90m"}).outbox_retention, 90min);
  EXPECT_EQ(load({"--outbox-retention=7d"}).outbox_retention, 168h);
  for (const char* bad : {"0s", "7", "d", "7w", "-1h", "1.5h", "100000001s"}) {
    const auto e = error({std::string("--outbox-retention=") + bad});
    ASSERT_TRUE(e) << bad;
    EXPECT_THAT(*e, HasSubstr("--outbox-retention")) << *e;
    EXPECT_THAT(*e, HasSubstr("expected a duration")) << *e;
    EXPECT_THAT(*e, HasSubstr("such as 7d")) << *e;
  }
}

TEST_F(ConfigTest, FlagWinsOverVariable) {
  required();
  set("TODO_DB_POOL_SIZE", "4");
  set("TODO_HTTP_ADDR", "10.0.0.1:1000");
  set("TODO_LOG_LEVEL", "error");
  const Config c = load({"--db-pool-size", "12", "--http-addr=127.0.0.2:2000", "--log-level", "trace"});
  EXPECT_EQ(c.db_pool_size, 12u);
  EXPECT_EQ(c.http_host, "127.0.0.2");
  EXPECT_EQ(c.http_port, 2000);
  EXPECT_EQ(c.log_level, "trace");
  EXPECT_EQ(c.database_url, "postgresql://localhost/todo") << "variables without a flag still apply";
}

// Listen hosts: a name that resolves, and an IPv6 address with its zone (link-local addresses need one).
TEST_F(ConfigTest, ListenHostsThatResolveAndZonedIpv6AreAccepted) {
  required();
  const Config named = load({"--http-addr=localhost:8081"});
  EXPECT_EQ(named.http_host, "localhost");
  const Config zoned = load({"--http-addr=[fe80::1%lo]:8082"});
  EXPECT_EQ(zoned.http_host, "fe80::1%lo");
  EXPECT_EQ(zoned.http_port, 8082);
}

// Forms of DATABASE_URL libpq reads: URLs, key=value strings, several hosts with a port each.
TEST_F(ConfigTest, DatabaseUrlsLibpqReadsAreAccepted) {
  required();
  for (const char* url :
       {"postgresql://localhost/todo", "postgres://u:p%40ss@db:5433/todo?sslmode=require",
        "postgresql:///todo?host=/tmp/x&port=5499&user=postgres", "host=/tmp/x port=5499 dbname=t",
        "postgresql://a:5432,b:5433/todo?target_session_attrs=read-write", "host=a,b port=,5433",
        "host=/tmp/x port=' 5499 ' connect_timeout=+5"})  // libpq reads numbers with strtol
    EXPECT_EQ(load({"--database-url", url}).database_url, url) << url;
}

// A password in DATABASE_URL never reaches the message about it.
TEST_F(ConfigTest, DatabaseUrlIsHiddenInMessages) {
  required();
  const auto message = error({"--database-url", "postgresql://u:s3cret-pw@h:notaport/db"});
  ASSERT_TRUE(message);
  EXPECT_THAT(*message, HasSubstr("--database-url"));
  EXPECT_THAT(*message, Not(HasSubstr("s3cret-pw")));
}

// KAFKA_BROKERS is host:port, comma-separated: names (resolved only by librdkafka, later), IPv4, [IPv6].
TEST_F(ConfigTest, KafkaBrokersAreHostPortLists) {
  required();
  for (const char* ok : {"k1:9092,k2:9092", " a:1 , b:65535 ", "[::1]:9092", "kafka-0.kafka.ns.svc:9092",
                         "my_broker:9092", "127.0.0.1:39217,127.0.0.1:39218"}) {
    SCOPED_TRACE(ok);
    const auto message = error({std::string("--kafka-brokers=") + ok});
    EXPECT_FALSE(message) << *message;
  }
  const auto message = error({"--kafka-brokers=a:9092,127.0.0.1:70000"});
  ASSERT_TRUE(message);
  EXPECT_THAT(*message, HasSubstr("--kafka-brokers"));
  EXPECT_THAT(*message, HasSubstr("1 to 65535"));
  EXPECT_THAT(*message, HasSubstr("127.0.0.1:70000"));
}

// SMTP and LLM URLs: a port, when given, is one; the host is there; user and password are never shown.
TEST_F(ConfigTest, SmtpAndLlmUrlsHaveAHostAndAPortThatIsOne) {
  required();
  for (const char* ok : {"smtp://mail", "smtp://mail:25", "smtps://u:p@mail.example.com:465",
                         "smtp://[::1]:25", "smtp://127.0.0.1:2525"}) {
    SCOPED_TRACE(ok);
    const auto message = error({std::string("--smtp-url=") + ok, "--smtp-from=a@b.c"});
    EXPECT_FALSE(message) << *message;
  }
  for (const char* ok : {"http://127.0.0.1:11434/v1/chat/completions", "https://api.example.com/v1/chat",
                         "http://[::1]:8080/v1?x=1", "http://llm"}) {
    SCOPED_TRACE(ok);
    const auto message = error({std::string("--llm-url=") + ok, "--llm-model=m"});
    EXPECT_FALSE(message) << *message;
  }
  for (const auto& [flag, url] : std::vector<std::pair<std::string, std::string>>{
           {"--smtp-url", "smtps://user:TOPSECRET@mail:99999"},
           {"--llm-url", "https://key:TOPSECRET@llm.example.com:70000/v1"}}) {
    const auto message = error({flag + "=" + url, "--smtp-from=a@b.c", "--llm-model=m"});
    ASSERT_TRUE(message) << url;
    EXPECT_THAT(*message, HasSubstr(flag));
    EXPECT_THAT(*message, HasSubstr("1 to 65535"));
    EXPECT_THAT(*message, Not(HasSubstr("TOPSECRET")));
    EXPECT_THAT(*message, Not(HasSubstr("user")));
  }
}

// libpq's reasons quote what it could not read, which may be the password or the whole URL: no message says
// any of it. In a URL with an unencoded '/' or '@' in its password, libpq reads pieces of the password as a
// port, a host or the database name: refused too, without quoting them (the host and the name were used to
// connect, and the connection's error quoted them).
TEST_F(ConfigTest, NoPartOfADatabaseUrlIsQuotedInMessages) {
  required();
  for (const std::string url :
       {"postgresql://app:50%off-TOPSECRET@db.internal/todo", "postgresql://app:TOPSECRET@[fe80::1/todo",
        "postgresql://app:TOPSECRET@[]/todo", "postgresql://app:TOP/SECRET@db/todo",
        "postgresql://app:TOP@SECRET@db/todo", "postgresql://app:12/TOPSECRET@db/todo",
        "postgresql://app:TOPSECRET@db/todo?x", "host=db password=TOP SECRET", "host=db password='TOPSECRET",
        "host=db sslmode=TOPSECRET", "host=db port=TOPSECRET", "host=db connect_timeout=TOPSECRET"}) {
    SCOPED_TRACE(url);
    set("DATABASE_URL", url);
    auto message = error({});
    ASSERT_TRUE(message) << "accepted";
    EXPECT_THAT(*message, HasSubstr("DATABASE_URL"));
    EXPECT_THAT(*message, Not(HasSubstr("TOP"))) << "a part of the password is shown";
    EXPECT_THAT(*message, Not(HasSubstr("SECRET"))) << "a part of the password is shown";
    EXPECT_EQ(message->find('\n'), std::string::npos) << *message;
    required();
    message = error({"--database-url", url});
    ASSERT_TRUE(message) << "accepted";
    EXPECT_THAT(*message, HasSubstr("--database-url"));
    EXPECT_THAT(*message, Not(HasSubstr("TOP")));
    EXPECT_THAT(*message, Not(HasSubstr("SECRET")));
  }
  // The reason says what to look at.
  set("DATABASE_URL", "postgresql://app:50%off@db/todo");
  EXPECT_THAT(error({}).value_or(""), HasSubstr("%25"));
  set("DATABASE_URL", "postgresql://app:a/b@db/todo");
  EXPECT_THAT(error({}).value_or(""), HasSubstr("%2F"));
}

// The flag wins (README): a bad variable that a flag replaces stops nothing, and a message about a value
// names where it came from, also when two settings disagree.
TEST_F(ConfigTest, AFlagReplacesABadVariableBeforeItIsChecked) {
  required();
  set("TODO_LOG_LEVEL", "LOUD");
  set("TODO_DB_POOL_SIZE", "0");
  set("KAFKA_BROKERS", ",");
  set("DATABASE_URL", "postgresql://u:50%off@db/todo");
  Config c;
  ASSERT_NO_THROW(c = load({"--log-level=warn", "--db-pool-size", "3", "--kafka-brokers=k:9092",
                            "--database-url=postgresql://db/todo"}));
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.db_pool_size, 3u);
  EXPECT_EQ(c.kafka_brokers, "k:9092");
  EXPECT_EQ(c.database_url, "postgresql://db/todo");
  // Without the flag, the variable is refused by its name.
  EXPECT_THAT(error({"--db-pool-size=3", "--kafka-brokers=k:9092", "--database-url=postgresql://db/todo"})
                  .value_or(""),
              HasSubstr("TODO_LOG_LEVEL"));
  // A later flag replaces an earlier one before either is checked.
  EXPECT_EQ(load({"--log-level=LOUD", "--log-level=error", "--db-pool-size=3", "--kafka-brokers=k:9092",
                  "--database-url=postgresql://db/todo"})
                .log_level,
            "error");
}

TEST_F(ConfigTest, HelpWinsOverBadVariablesAndFlags) {
  set("TODO_LOG_LEVEL", "LOUD");
  set("TODO_DB_POOL_SIZE", "0");
  for (const auto& args :
       {std::vector<std::string>{"--help"}, std::vector<std::string>{"serve", "-h"},
        std::vector<std::string>{"--no-such-flag", "--help"}, std::vector<std::string>{"start", "help"},
        std::vector<std::string>{"--db-pool-size=0", "--help"}}) {
    Config c;
    ASSERT_NO_THROW(c = load(args)) << args.front();
    EXPECT_EQ(c.command, "help");
  }
  // "help" as a flag's value is that value.
  EXPECT_THAT(error({"--log-level", "help"}).value_or(""), HasSubstr("--log-level"));
}

TEST_F(ConfigTest, SettingsThatDisagreeAreNamedAsTheyWereGiven) {
  required();
  auto message = error({"--http-body-memory-mb=1", "--http-body-limit=2097152"});
  ASSERT_TRUE(message);
  EXPECT_THAT(*message, HasSubstr("invalid --http-body-memory-mb=1"));
  EXPECT_THAT(*message, HasSubstr("--http-body-limit"));
  EXPECT_THAT(*message, Not(HasSubstr("TODO_HTTP_BODY_MEMORY_MB")));
  set("TODO_HTTP_BODY_MEMORY_MB", "1");
  set("TODO_HTTP_BODY_LIMIT", "2097152");
  message = error({});
  ASSERT_TRUE(message);
  EXPECT_THAT(*message, HasSubstr("invalid TODO_HTTP_BODY_MEMORY_MB=1"));
  EXPECT_THAT(*message, HasSubstr("TODO_HTTP_BODY_LIMIT"));
  ::unsetenv("TODO_HTTP_BODY_MEMORY_MB");
  ::unsetenv("TODO_HTTP_BODY_LIMIT");
  // Only the body limit given: it is the one named (the memory budget is its default, 64 MiB).
  message = error({"--http-body-limit=134217728"});
  ASSERT_TRUE(message);
  EXPECT_THAT(*message, HasSubstr("invalid --http-body-limit=134217728"));
}

TEST_F(ConfigTest, LaterFlagWins) {
  required();
  EXPECT_EQ(load({"--db-pool-size=3", "--db-pool-size", "5"}).db_pool_size, 5u);
}

TEST_F(ConfigTest, ValueAfterTheFirstEqualsSignIsKeptWhole) {
  required();
  const Config c = load({"--database-url=postgresql://u:p%3D@h/db?sslmode=disable&application_name=a%3Db"});
  EXPECT_EQ(c.database_url, "postgresql://u:p%3D@h/db?sslmode=disable&application_name=a%3Db");
}

TEST_F(ConfigTest, EmptyVariableCountsAsUnset) {
  required();
  set("TODO_DB_POOL_SIZE", "");
  set("TODO_LOG_LEVEL", "");
  const Config c = load({});
  EXPECT_EQ(c.db_pool_size, 8u);
  EXPECT_EQ(c.log_level, "info");
}

TEST_F(ConfigTest, AllowedOriginsTakeAnyOriginAStarOrBoth) {
  required();
  for (const char* ok : {"*", "*,http://a.b", "http://a.b,*", "HTTPS://Example.com:8443", "http://[::1]:8080",
                         "https://app.example.com", " http://a.b , https://c.d "}) {
    SCOPED_TRACE(ok);
    set("TODO_ALLOWED_ORIGINS", ok);
    const auto message = error({});
    EXPECT_FALSE(message) << *message;
  }
  set("TODO_ALLOWED_ORIGINS", "*,http://a.b");
  EXPECT_EQ(load({}).allowed_origins, (std::vector<std::string>{"*", "http://a.b"}));
  ::unsetenv("TODO_ALLOWED_ORIGINS");
}

struct Invalid {
  const char* variable;
  const char* flag;
  std::string value;
};

const std::vector<Invalid>& invalid_values() {
  static const std::vector<Invalid> all = {
      {"TODO_HTTP_ADDR", "--http-addr", "8080"},
      {"TODO_HTTP_ADDR", "--http-addr", ":8080"},
      {"TODO_HTTP_ADDR", "--http-addr", "localhost:"},
      {"TODO_HTTP_ADDR", "--http-addr", "localhost:65536"},
      {"TODO_HTTP_ADDR", "--http-addr", "localhost:http"},
      {"TODO_HTTP_ADDR", "--http-addr", "localhost:-1"},
      {"TODO_HTTP_ADDR", "--http-addr", "localhost:80 "},
      {"TODO_HTTP_ADDR", "--http-addr", "[::1]"},
      // Hosts that cannot be one failed only at bind, after the migrations.
      {"TODO_HTTP_ADDR", "--http-addr", "999.1.1.1:80"},
      {"TODO_HTTP_ADDR", "--http-addr", "1.2.3:80"},
      {"TODO_HTTP_ADDR", "--http-addr", "[::g]:80"},
      {"TODO_HTTP_ADDR", "--http-addr", "[1.2.3.4]:80"},
      {"TODO_HTTP_ADDR", "--http-addr", "local host:80"},
      {"TODO_HTTP_ADDR", "--http-addr", "a/b:80"},
      {"TODO_HTTP_ADDR", "--http-addr", "no-such-host.invalid:80"},  // RFC 6761: never resolves
      {"TODO_HTTP_ADDR", "--http-addr", "[fe80::1%no-such-interface]:80"},
      // Connection strings libpq cannot read, or values it refuses: they were retried for a minute as "not
      // reachable yet".
      {"DATABASE_URL", "--database-url", "garbage"},
      {"DATABASE_URL", "--database-url", "host=/tmp/x port=abc"},
      {"DATABASE_URL", "--database-url", "postgresql://u@h:notaport/db"},
      {"DATABASE_URL", "--database-url", "postgresql://u@h/db?sslmode=bogus"},
      {"DATABASE_URL", "--database-url", "postgresql://u@h/db?nosuchoption=1"},
      {"DATABASE_URL", "--database-url", "host=a,b port=5432,70000"},
      {"DATABASE_URL", "--database-url", "postgresql://u@h/db?connect_timeout=abc"},
      {"TODO_JWT_SECRET", "--jwt-secret", std::string(31, 'x')},
      {"TODO_LOG_LEVEL", "--log-level", "verbose"},
      {"TODO_LOG_LEVEL", "--log-level", "INFO"},
      {"TODO_LOG_LEVEL", "--log-level", "info "},
      {"TODO_DB_CREATE_WRITERS", "--db-create-writers", "0"},
      {"TODO_DB_CREATE_WRITERS", "--db-create-writers", "two"},
      {"TODO_LIST_CACHE_MB", "--list-cache-mb", "65537"},
      {"TODO_LIST_CACHE_MB", "--list-cache-mb", "64MB"},
      {"TODO_DB_POOL_SIZE", "--db-pool-size", "0"},
      {"TODO_DB_POOL_SIZE", "--db-pool-size", "1001"},
      {"TODO_DB_POOL_SIZE", "--db-pool-size", "-1"},
      {"TODO_DB_POOL_SIZE", "--db-pool-size", "+8"},
      {"TODO_DB_POOL_SIZE", "--db-pool-size", "1.5"},
      {"TODO_DB_POOL_SIZE", "--db-pool-size", "8 "},
      {"TODO_DB_POOL_SIZE", "--db-pool-size", " 8"},
      {"TODO_DB_POOL_SIZE", "--db-pool-size", "0x10"},
      {"TODO_DB_POOL_SIZE", "--db-pool-size", "eight"},
      {"TODO_DB_POOL_SIZE", "--db-pool-size", "18446744073709551617"},
      {"TODO_HTTP_THREADS", "--http-threads", "0"},
      {"TODO_HTTP_THREADS", "--http-threads", "1025"},
      {"TODO_HTTP_BODY_LIMIT", "--http-body-limit", "1023"},
      {"TODO_HTTP_BODY_LIMIT", "--http-body-limit", "1MiB"},
      {"TODO_HTTP_HEADER_TIMEOUT_MS", "--http-header-timeout-ms", "9"},
      {"TODO_HTTP_HEADER_TIMEOUT_MS", "--http-header-timeout-ms", "3600001"},
      {"TODO_HTTP_IDLE_TIMEOUT_MS", "--http-idle-timeout-ms", "5s"},
      {"TODO_HTTP_REQUEST_TIMEOUT_MS", "--http-request-timeout-ms", "-5"},
      {"TODO_SHUTDOWN_TIMEOUT_S", "--shutdown-timeout-s", "3601"},
      {"TODO_SHUTDOWN_TIMEOUT_S", "--shutdown-timeout-s", "ten"},
      {"TODO_DB_STATEMENT_TIMEOUT_MS", "--db-statement-timeout-ms", "10s"},
      {"TODO_DB_LOCK_TIMEOUT_MS", "--db-lock-timeout-ms", "3600001"},
      {"TODO_DB_ANSWER_TIMEOUT_MS", "--db-answer-timeout-ms", "3600001"},
      {"TODO_DB_ANSWER_TIMEOUT_MS", "--db-answer-timeout-ms", "2s"},
      {"TODO_WS_STALL_TIMEOUT_MS", "--ws-stall-timeout-ms", "9"},
      // An origin a browser never sends: it could never match, silently.
      {"TODO_ALLOWED_ORIGINS", "--allowed-origins", "ftp://y.org"},
      {"TODO_ALLOWED_ORIGINS", "--allowed-origins", "http://y.org:8080/"},
      {"TODO_ALLOWED_ORIGINS", "--allowed-origins", "https://a.org,http://y.org/app"},
      {"TODO_ALLOWED_ORIGINS", "--allowed-origins", "http://"},
      {"TODO_ALLOWED_ORIGINS", "--allowed-origins", "http://user@y.org"},
      {"TODO_ALLOWED_ORIGINS", "--allowed-origins", "http://y.org:abc"},
      {"TODO_ALLOWED_ORIGINS", "--allowed-origins", "http://y.org:"},
      {"TODO_ALLOWED_ORIGINS", "--allowed-origins", "http://y.org:99999"},
      {"TODO_ALLOWED_ORIGINS", "--allowed-origins", "http://y.org:0"},
      {"TODO_ALLOWED_ORIGINS", "--allowed-origins", "http://y.org:+80"},
      {"TODO_ALLOWED_ORIGINS", "--allowed-origins", "http://:80"},
      {"TODO_ALLOWED_ORIGINS", "--allowed-origins", "*,http://y.org/"},
      // Brokers librdkafka misread: port 70000 was 4464, "abc" port 0, "," no broker at all (logged forever).
      {"KAFKA_BROKERS", "--kafka-brokers", "127.0.0.1:70000"},
      {"KAFKA_BROKERS", "--kafka-brokers", "127.0.0.1:0"},
      {"KAFKA_BROKERS", "--kafka-brokers", "127.0.0.1:-1"},
      {"KAFKA_BROKERS", "--kafka-brokers", "host:abc"},
      {"KAFKA_BROKERS", "--kafka-brokers", ","},
      {"KAFKA_BROKERS", "--kafka-brokers", "a:9092,"},
      {"KAFKA_BROKERS", "--kafka-brokers", "a:9092,,b:9092"},
      {"KAFKA_BROKERS", "--kafka-brokers", "kafka"},
      {"KAFKA_BROKERS", "--kafka-brokers", ":9092"},
      {"KAFKA_BROKERS", "--kafka-brokers", "host:0"},
      {"KAFKA_BROKERS", "--kafka-brokers", "host:"},
      {"KAFKA_BROKERS", "--kafka-brokers", "::1:9092"},
      {"KAFKA_BROKERS", "--kafka-brokers", "[::1:9092"},
      {"KAFKA_BROKERS", "--kafka-brokers", "[::g]:9092"},
      {"KAFKA_BROKERS", "--kafka-brokers", "999.1.1.1:9092"},
      {"KAFKA_BROKERS", "--kafka-brokers", "a b:9092"},
      {"KAFKA_BROKERS", "--kafka-brokers", "PLAINTEXT://a:9092"},
      // Ports libcurl took until it sent.
      {"TODO_SMTP_URL", "--smtp-url", "smtp://mail:99999"},
      {"TODO_SMTP_URL", "--smtp-url", "smtps://mail:0"},
      {"TODO_SMTP_URL", "--smtp-url", "smtp://mail:abc"},
      {"TODO_SMTP_URL", "--smtp-url", "smtp://:25"},
      {"TODO_SMTP_URL", "--smtp-url", "smtp://u:p@[::1:25"},
      {"TODO_LLM_URL", "--llm-url", "http://127.0.0.1:99999/v1/chat/completions"},
      {"TODO_LLM_URL", "--llm-url", "https://api.example.com:/v1"},
      {"TODO_LLM_URL", "--llm-url", "http:///v1/chat/completions"},
      {"TODO_LLM_URL", "--llm-url", "http://a b/v1"},
  };
  return all;
}

TEST_F(ConfigTest, InvalidVariableNamesItself) {
  for (const auto& [variable, flag, value] : invalid_values()) {
    SCOPED_TRACE(std::string(variable) + "=" + value);
    required();
    set(variable, value);
    const auto message = error({});
    ASSERT_TRUE(message) << "accepted";
    EXPECT_THAT(*message, HasSubstr(variable));
    EXPECT_EQ(message->find('\n'), std::string::npos) << "one line: " << *message;
    ::unsetenv(variable);
  }
}

TEST_F(ConfigTest, InvalidFlagNamesItselfInBothForms) {
  required();
  for (const auto& [variable, flag, value] : invalid_values()) {
    SCOPED_TRACE(std::string(flag) + " " + value);
    for (const auto& args :
         {std::vector<std::string>{flag, value}, std::vector<std::string>{flag + ("=" + value)}}) {
      const auto message = error(args);
      ASSERT_TRUE(message) << "accepted";
      EXPECT_THAT(*message, HasSubstr(flag));
      EXPECT_EQ(message->find('\n'), std::string::npos) << "one line: " << *message;
    }
  }
}

TEST_F(ConfigTest, InvalidFlagFailsEvenWhenTheVariableIsValid) {
  required();
  set("TODO_DB_POOL_SIZE", "4");
  const auto message = error({"--db-pool-size=0"});
  ASSERT_TRUE(message);
  EXPECT_THAT(*message, HasSubstr("--db-pool-size"));
}

TEST_F(ConfigTest, EmptyFlagValueIsInvalid) {
  required();
  for (const char* flag : {"--db-pool-size", "--http-addr", "--log-level", "--jwt-secret"}) {
    const auto message = error({std::string(flag) + "="});
    ASSERT_TRUE(message) << flag;
    EXPECT_THAT(*message, HasSubstr(flag));
  }
}

TEST_F(ConfigTest, SecretNeverAppearsInMessages) {
  required();
  const std::string short_secret = "hunter2-is-not-long-enough";
  set("TODO_JWT_SECRET", short_secret);
  auto message = error({});
  ASSERT_TRUE(message);
  EXPECT_THAT(*message, HasSubstr("TODO_JWT_SECRET"));
  EXPECT_THAT(*message, Not(HasSubstr(short_secret)));
  required();
  message = error({"--jwt-secret", short_secret});
  ASSERT_TRUE(message);
  EXPECT_THAT(*message, HasSubstr("--jwt-secret"));
  EXPECT_THAT(*message, Not(HasSubstr(short_secret)));
}

TEST_F(ConfigTest, MissingDatabaseUrl) {
  set("TODO_JWT_SECRET", kSecret);
  for (const auto& args :
       {std::vector<std::string>{}, std::vector<std::string>{"serve"}, std::vector<std::string>{"migrate"}}) {
    const auto message = error(args);
    ASSERT_TRUE(message);
    EXPECT_THAT(*message, HasSubstr("DATABASE_URL"));
  }
  set("DATABASE_URL", "");
  const auto message = error({});
  ASSERT_TRUE(message) << "empty is missing";
  EXPECT_THAT(*message, HasSubstr("DATABASE_URL"));
  EXPECT_NO_THROW(load({"--database-url", "postgresql://x/y"}));
}

TEST_F(ConfigTest, MissingJwtSecret) {
  set("DATABASE_URL", "postgresql://localhost/todo");
  for (const auto& args : {std::vector<std::string>{}, std::vector<std::string>{"serve"}}) {
    const auto message = error(args);
    ASSERT_TRUE(message);
    EXPECT_THAT(*message, HasSubstr("TODO_JWT_SECRET"));
  }
  EXPECT_NO_THROW(load({"--jwt-secret", kSecret}));
}

TEST_F(ConfigTest, MigrateNeedsNoSecret) {
  set("DATABASE_URL", "postgresql://localhost/todo");
  EXPECT_EQ(load({"migrate"}).command, "migrate");
}

TEST_F(ConfigTest, Commands) {
  required();
  EXPECT_EQ(load({"serve"}).command, "serve");
  EXPECT_EQ(load({"migrate"}).command, "migrate");
  EXPECT_EQ(load({"--db-pool-size", "3", "migrate"}).command, "migrate") << "after flags";
  EXPECT_EQ(load({"migrate", "--db-pool-size", "3"}).db_pool_size, 3u) << "before flags";
  for (const auto& args : {std::vector<std::string>{"start"}, std::vector<std::string>{"serve", "migrate"},
                           std::vector<std::string>{"serve", "serve"}, std::vector<std::string>{"Serve"},
                           std::vector<std::string>{"-x"}, std::vector<std::string>{""}}) {
    const auto message = error(args);
    ASSERT_TRUE(message) << args.back();
  }
  EXPECT_THAT(*error({"start"}), HasSubstr("start"));
}

TEST_F(ConfigTest, UnknownFlagIsNamed) {
  required();
  for (const char* flag :
       {"--port", "--database_url", "--DATABASE-URL", "--", "--db-pool-size-x", "--verbose"}) {
    const auto message = error({flag, "1"});
    ASSERT_TRUE(message) << flag;
    EXPECT_THAT(*message, HasSubstr(flag));
  }
  const auto message = error({"--port=80"});
  ASSERT_TRUE(message);
  EXPECT_THAT(*message, HasSubstr("--port"));
}

TEST_F(ConfigTest, FlagWithoutValueIsNamed) {
  required();
  const auto message = error({"--db-pool-size"});
  ASSERT_TRUE(message);
  EXPECT_THAT(*message, HasSubstr("--db-pool-size"));
}

TEST_F(ConfigTest, HelpNeedsNothingElse) {
  for (const auto& args : {std::vector<std::string>{"--help"}, std::vector<std::string>{"-h"},
                           std::vector<std::string>{"help"}, std::vector<std::string>{"serve", "--help"},
                           std::vector<std::string>{"--db-pool-size", "3", "--help"},
                           std::vector<std::string>{"--help", "--no-such-flag"}}) {
    Config c;
    ASSERT_NO_THROW(c = load(args)) << args.back();
    EXPECT_EQ(c.command, "help");
  }
}

TEST_F(ConfigTest, UsageListsEverySetting) {
  const std::string u = usage();
  for (const char* name : kVariables)
    EXPECT_THAT(u, HasSubstr(name));
  for (const auto& [variable, flag, value] : invalid_values())
    EXPECT_THAT(u, HasSubstr(flag));
  for (const char* flag : {"--database-url", "--kafka-brokers"})
    EXPECT_THAT(u, HasSubstr(flag));
  EXPECT_THAT(u, HasSubstr("serve"));
  EXPECT_THAT(u, HasSubstr("migrate"));
}

}  // namespace
}  // namespace todo

namespace todo {
namespace {

// The reminder and SMTP settings: defaults, the URL built from host and port, and one line naming a bad one.
class ReminderConfigTest : public ::testing::Test {
 protected:
  static constexpr const char* kNames[] = {"DATABASE_URL",
                                           "TODO_JWT_SECRET",
                                           "TODO_REMINDERS",
                                           "TODO_REMINDER_LEASE_MS",
                                           "TODO_REMINDER_MAX_ATTEMPTS",
                                           "TODO_REMINDER_BACKOFF_MS",
                                           "TODO_SMTP_URL",
                                           "TODO_SMTP_HOST",
                                           "TODO_SMTP_PORT",
                                           "TODO_SMTP_USER",
                                           "TODO_SMTP_PASSWORD",
                                           "TODO_SMTP_FROM",
                                           "TODO_SMTP_STARTTLS",
                                           "TODO_SMTP_CA_FILE",
                                           "TODO_SMTP_TIMEOUT_MS",
                                           "TODO_SMTP_CONCURRENCY"};
  void SetUp() override {
    for (const char* name : kNames) {
      if (const char* v = std::getenv(name)) saved_[name] = v;
      ::unsetenv(name);
    }
    ::setenv("DATABASE_URL", "postgresql://localhost/todo", 1);
    ::setenv("TODO_JWT_SECRET", std::string(32, 's').c_str(), 1);
  }
  void TearDown() override {
    for (const char* name : kNames) {
      if (auto it = saved_.find(name); it != saved_.end())
        ::setenv(name, it->second.c_str(), 1);
      else
        ::unsetenv(name);
    }
  }
  static Config load(std::vector<std::string> args) {
    args.insert(args.begin(), "todo-server");
    std::vector<const char*> argv;
    for (const auto& a : args)
      argv.push_back(a.c_str());
    argv.push_back(nullptr);
    return load_config(static_cast<int>(args.size()), argv.data());
  }
  static std::string error(std::vector<std::string> args) {
    try {
      load(std::move(args));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  }
  std::map<std::string, std::string> saved_;
};

TEST_F(ReminderConfigTest, Defaults) {
  const Config c = load({});
  EXPECT_TRUE(c.reminders_enabled);
  EXPECT_EQ(c.reminder_lease, 60s);
  EXPECT_EQ(c.reminder_max_attempts, 5);
  EXPECT_EQ(c.reminder_backoff, 2s);
  EXPECT_TRUE(c.smtp_url.empty());  // no e-mail
  EXPECT_EQ(c.smtp_starttls, "opportunistic");
  EXPECT_EQ(c.smtp_concurrency, 4u);
}

TEST_F(ReminderConfigTest, SmtpFromUrlOrHostAndPort) {
  Config c = load({"--smtp-url", "smtps://mail.example.com:465", "--smtp-from", "todo@example.com",
                   "--smtp-starttls", "required", "--smtp-user", "u", "--smtp-password", "p"});
  EXPECT_EQ(c.smtp_url, "smtps://mail.example.com:465");
  EXPECT_EQ(c.smtp_starttls, "required");
  EXPECT_EQ(c.smtp_user, "u");
  EXPECT_EQ(c.smtp_password, "p");
  ::setenv("TODO_SMTP_HOST", "mail.example.com", 1);
  ::setenv("TODO_SMTP_FROM", "todo@example.com", 1);
  EXPECT_EQ(load({}).smtp_url, "smtp://mail.example.com:587");
  ::setenv("TODO_SMTP_PORT", "465", 1);
  EXPECT_EQ(load({}).smtp_url, "smtps://mail.example.com:465");
  ::setenv("TODO_REMINDERS", "off", 1);
  EXPECT_FALSE(load({}).reminders_enabled);
}

TEST_F(ReminderConfigTest, BadSettingsFailNamingThemselves) {
  EXPECT_THAT(error({"--smtp-url", "http://mail"}), HasSubstr("--smtp-url"));
  EXPECT_THAT(error({"--smtp-url", "smtp://"}), HasSubstr("--smtp-url"));
  EXPECT_THAT(error({"--smtp-url", "smtp://mail:25"}), HasSubstr("TODO_SMTP_FROM"));  // who sends?
  EXPECT_THAT(error({"--smtp-from", "nobody"}), HasSubstr("--smtp-from"));
  EXPECT_THAT(error({"--smtp-starttls", "maybe"}), HasSubstr("--smtp-starttls"));
  EXPECT_THAT(error({"--smtp-port", "0"}), HasSubstr("--smtp-port"));
  EXPECT_THAT(error({"--smtp-port", "25"}), HasSubstr("TODO_SMTP_HOST"));
  EXPECT_THAT(error({"--smtp-host", "a b"}), HasSubstr("--smtp-host"));
  EXPECT_THAT(error({"--smtp-host", "mail", "--smtp-url", "smtp://mail", "--smtp-from", "a@b.c"}),
              HasSubstr("not both"));
  EXPECT_THAT(error({"--smtp-ca-file", "/nonexistent/ca.pem"}), HasSubstr("--smtp-ca-file"));
  EXPECT_THAT(error({"--reminders", "yes"}), HasSubstr("--reminders"));
  EXPECT_THAT(error({"--reminder-lease-ms", "10"}), HasSubstr("--reminder-lease-ms"));
  EXPECT_THAT(error({"--reminder-max-attempts", "0"}), HasSubstr("--reminder-max-attempts"));
  EXPECT_THAT(error({"--smtp-concurrency", "0"}), HasSubstr("--smtp-concurrency"));
  EXPECT_THAT(error({"--smtp-url", "smtp://mail", "--smtp-from", "a@b.c", "--reminder-lease-ms", "5000"}),
              HasSubstr("invalid --reminder-lease-ms=5000"));  // shorter than the 30 s SMTP timeout
  ::setenv("TODO_REMINDER_LEASE_MS", "5000", 1);
  EXPECT_THAT(error({"--smtp-url", "smtp://mail", "--smtp-from", "a@b.c"}),
              HasSubstr("invalid TODO_REMINDER_LEASE_MS=5000"));
  ::unsetenv("TODO_REMINDER_LEASE_MS");
  EXPECT_THAT(error({"--smtp-url", "smtp://mail", "--smtp-from", "a@b.c", "--smtp-timeout-ms", "90000"}),
              HasSubstr("invalid --smtp-timeout-ms=90000"));  // longer than the default lease
  EXPECT_NO_THROW(load({"--smtp-url", "smtp://mail", "--smtp-from", "a@b.c", "--reminder-lease-ms", "5000",
                        "--smtp-timeout-ms", "4000"}));
}

}  // namespace
}  // namespace todo
