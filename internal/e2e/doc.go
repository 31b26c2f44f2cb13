// Package e2e is the end-to-end harness and suite: it builds the real
// binaries (Main) and runs them as processes (Start), over real sockets,
// against the machine's Postgres and Redis when TEST_DATABASE_URL and
// TEST_REDIS_URL are set and in embedded mode otherwise (Backing). Its
// tests check what only whole processes can keep: draining under load,
// closing slow clients, refusing oversized headers, exporting spans at a
// stop; a feature's end-to-end tests use the harness from a package of
// their own.
package e2e
