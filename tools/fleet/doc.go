// Package fleet runs the template as a fleet on one machine and checks
// what a fleet must keep: HAProxy, health-checking /readyz, in front of
// three web replicas, two workers, and a Postgres and a Redis of the
// test's own, under a steady load through rolling restarts, a release
// with an expand migration, and restarts of the database and of Redis.
//
// Its tests need haproxy, redis-server and the PostgreSQL server binaries
// (initdb, pg_ctl); without them they skip, unless
// REQUIRE_INTEGRATION_TESTS=1, when they fail. With FLEET_REPORT_DIR
// set, the main run writes its table (fleet.txt) and plot (fleet.png)
// there; docs/evidence/fleet.md shows the latest.
package fleet
