package kv

import "testing"

func TestBreaker(t *testing.T) {
	var b Breaker
	if b.Open() {
		t.Fatal("zero Breaker is open, want closed")
	}
	if !b.Trip() {
		t.Error("first Trip() = false, want true: it begins an outage")
	}
	if !b.Open() {
		t.Error("Open() after Trip = false, want true for the pause")
	}
	if b.Trip() {
		t.Error("second Trip() = true, want false: the outage goes on")
	}
	if !b.Reset() {
		t.Error("Reset() after Trip = false, want true: it ends the outage")
	}
	if b.Open() || b.Reset() {
		t.Error("after Reset the breaker is open or resets again, want closed and quiet")
	}
}
