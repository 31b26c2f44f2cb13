// Package linkse2e holds the link shortener's end-to-end tests: they
// build the real binaries (package e2e) and drive the feature's routes
// and jobs through them, as processes over real sockets.
package linkse2e
