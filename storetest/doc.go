// Package storetest tests the delivery stores on real servers, and a fleet
// of webhook receivers sharing one: sqlstore on SQLite (always) and on
// PostgreSQL, redisstore on Redis, the latter two when
// MERGELINK_TEST_POSTGRES and MERGELINK_TEST_REDIS name a server
// (.ci/services starts both). It is a module of its own so that the
// drivers (pgx, modernc.org/sqlite, go-redis) stay out of the main
// module's go.mod.
package storetest
