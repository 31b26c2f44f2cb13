//go:build linux

package app
