package migrate

type Migrate struct{}

func New(sourceURL, databaseURL string) (*Migrate, error) { return nil, nil }

func NewWithSourceInstance(name string, src any, databaseURL string) (*Migrate, error) {
	return nil, nil
}
