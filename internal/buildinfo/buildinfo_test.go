package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.0",
		Main:      debug.Module{Path: "example.com/svc", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"},
			{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: "true"},
			{Key: "GOOS", Value: "linux"},
		},
	}
	want := Info{Module: "example.com/svc", Version: "v1.2.3", Revision: "abc123", Time: "2026-01-02T03:04:05Z", Modified: true, GoVersion: "go1.26.0"}
	if got := fromBuildInfo(bi); got != want {
		t.Errorf("fromBuildInfo() = %+v, want %+v", got, want)
	}
}

func TestRead(t *testing.T) {
	if got := Read().GoVersion; got != runtime.Version() {
		t.Errorf("Read().GoVersion = %q, want %q", got, runtime.Version())
	}
}
