// Running blocking work on a thread pool from a coroutine, resuming on the coroutine's own executor.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <type_traits>

namespace todo {

/// Runs blocking work on `pool` and resumes on the caller's executor. Not a coroutine: fn moves to the heap,
/// never through a coroutine frame's parameters (GCC 12 mishandles those for closures).
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> on_pool(boost::asio::thread_pool& pool, F fn) {
  using R = std::invoke_result_t<F&>;
  return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(std::exception_ptr, R)>(
      [&cpu = pool, fn = std::move(fn)](auto handler) mutable {
        boost::asio::post(cpu, [fn = std::move(fn), handler = std::move(handler)]() mutable {
          std::exception_ptr ep;
          R result{};
          try {
            result = fn();
          } catch (...) {
            ep = std::current_exception();
          }
          auto ex = boost::asio::get_associated_executor(handler);
          boost::asio::post(ex, [h = std::move(handler), ep, result = std::move(result)]() mutable {
            std::move(h)(ep, std::move(result));
          });
        });
      },
      boost::asio::use_awaitable);
}

}  // namespace todo
