package analyzers

import (
	"go/parser"
	"go/token"
	"testing"
)

func TestOtherPlatformFile(t *testing.T) {
	tests := []struct {
		name, src string
		want      bool
	}{
		{"open_darwin.go", "package p\n", true},
		{"open_windows_amd64.go", "package p\n", true},
		{"open_linux.go", "package p\n", false},
		{"open.go", "package p\n", false},
		{"darwin.go", "package p\n", false}, // a name, not a suffix
		{"open_test.go", "package p\n", false},
		{"open_windows_test.go", "package p\n", true},
		{"open.go", "//go:build darwin\n\npackage p\n", true},
		{"open.go", "//go:build windows || darwin\n\npackage p\n", true},
		{"open.go", "//go:build !linux\n\npackage p\n", true},
		{"open.go", "//go:build unix\n\npackage p\n", false},
		{"open.go", "//go:build linux || darwin\n\npackage p\n", false},
		{"open.go", "//go:build integration\n\npackage p\n", false},
	}
	for _, tt := range tests {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, tt.name, tt.src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if got := otherPlatformFile(tt.name, f); got != tt.want {
			t.Errorf("otherPlatformFile(%s, %q) = %v, want %v", tt.name, tt.src, got, tt.want)
		}
	}
}

func TestIsInfo(t *testing.T) {
	if !IsInfo("http.ListenAndServe cannot be shut down gracefully" + infoNote + devNote + ")") {
		t.Error("a development listener's message is not marked as info")
	}
	if IsInfo("http.ListenAndServe cannot be shut down gracefully") {
		t.Error("a plain message is marked as info")
	}
}
