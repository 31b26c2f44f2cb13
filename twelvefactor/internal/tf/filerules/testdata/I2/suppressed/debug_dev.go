//twelvefactor:ignore I2 the dev tag only adds a local pprof import, never deployed
//go:build dev

package app
