module github.com/dozen-go/dozen/twelvefactor

go 1.26.0

require (
	github.com/google/go-cmp v0.7.0
	go.yaml.in/yaml/v3 v3.0.6
)

require (
	github.com/moby/buildkit v0.31.1
	golang.org/x/mod v0.43.0
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/tools v0.52.0
	google.golang.org/protobuf v1.36.12 // indirect
)

require (
	github.com/containerd/typeurl/v2 v2.3.0 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/planetscale/vtprotobuf v0.6.1-0.20240319094008-0393e58bdf10 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
)
