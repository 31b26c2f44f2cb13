package filerules

import "testing"

func TestUpperSnake(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Port", "PORT"},
		{"DatabaseURL", "DATABASE_URL"},
		{"HTTPReadTimeout", "HTTP_READ_TIMEOUT"},
		{"MaxInFlight", "MAX_IN_FLIGHT"},
	}
	for _, tt := range tests {
		if got := upperSnake(tt.in); got != tt.want {
			t.Errorf("upperSnake(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
