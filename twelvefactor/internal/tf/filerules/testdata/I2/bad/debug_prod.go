//go:build prod

package app
