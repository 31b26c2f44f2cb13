// Package e2e holds the end-to-end suite: it builds the real binaries and
// runs them as processes, over real sockets, against the machine's
// Postgres and Redis when TEST_DATABASE_URL and TEST_REDIS_URL are set and
// in embedded mode otherwise. It checks the rows of the reliability table
// (docs/evidence/reliability.md) that only whole processes can keep:
// draining under load, cutting off what outlives the shutdown timeout,
// shedding overload, closing slow clients, and a worker stopped mid-job.
package e2e
