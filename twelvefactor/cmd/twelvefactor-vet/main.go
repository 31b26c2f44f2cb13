// Command twelvefactor-vet runs twelvefactor's Go code rules under go vet:
//
//	go install github.com/dozen-go/dozen/twelvefactor/cmd/twelvefactor-vet@latest
//	go vet -vettool=$(which twelvefactor-vet) ./...
//
// Each analyzer is a flag of its own (-signals=false turns IX1 off). The
// file rules (Dockerfiles, manifests, go.mod, migrations, secrets) need
// the twelvefactor command; see package analyzers for what a per-package
// driver cannot know.
package main

import (
	"golang.org/x/tools/go/analysis/unitchecker"

	"github.com/dozen-go/dozen/twelvefactor/analyzers"
)

func main() {
	unitchecker.Main(analyzers.All()...)
}
