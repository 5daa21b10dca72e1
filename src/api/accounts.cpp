// Account routes: register, login, me.
#include "todo/api/context.hpp"
#include "todo/auth/password.hpp"
#include "todo/auth/users.hpp"
#include "todo/core/error.hpp"

namespace todo::api {

using boost::asio::awaitable;
using http::Request;
using http::Response;

void add_account_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/api/v1/auth/register", [&ctx](Request& req) -> awaitable<Response> {
    auto reg = auth::parse_registration(json_body(req));
    // Named, not a temporary: GCC 12 bit-copies non-trivial temporaries inside co_await expressions.
    auto hash_it = [&reg] { return auth::hash_password(reg.password); };
    auto hash = co_await on_cpu(ctx, hash_it);
    auto user = co_await ctx.db.transact([&](pqxx::work& w) { return auth::users::insert(w, reg, hash); });
    co_return Response::json(201, {{"user", auth::to_json(user)}});
  });

  router.add("POST", "/api/v1/auth/login", [&ctx](Request& req) -> awaitable<Response> {
    auto cred = auth::parse_credentials(json_body(req));
    auto user = co_await ctx.db.read([&](pqxx::transaction_base& w) {
      return auth::users::find_by_email(w, cred.email, cred.older_spellings);
    });
    // An unknown e-mail costs the same hash check as a wrong password, so timing does not reveal accounts.
    const std::string hash = user ? user->password_hash : auth::dummy_password_hash();
    const bool ok = co_await on_cpu(ctx, [&] { return auth::verify_password(hash, cred.password); });
    if (!user || !ok) throw Error(Errc::unauthorized, "invalid e-mail or password");
    // RFC 6749 5.1: a response holding a token must not be stored by any cache.
    co_return Response::json(200, {{"access_token", ctx.jwt.issue(user->id)},
                                   {"token_type", "Bearer"},
                                   {"expires_in", ctx.jwt.ttl().count()}})
        .with_header("Cache-Control", "no-store");
  });

  router.add("GET", "/api/v1/me", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    auto user = co_await ctx.db.read(
        [&](pqxx::transaction_base& w) { return auth::users::find_by_id(w, req.user_id); });
    if (!user) throw account_gone();
    co_return Response::json(200, auth::to_json(*user));
  });

  router.add("PATCH", "/api/v1/me", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    auto patch = auth::parse_profile_patch(json_body(req));
    auto user = co_await ctx.db.transact(
        [&](pqxx::work& w) { return auth::users::update_profile(w, req.user_id, patch); });
    if (!user) throw account_gone();
    co_return Response::json(200, auth::to_json(*user));
  });
}

}  // namespace todo::api
