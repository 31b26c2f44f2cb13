package bad

import "os"

func Port() string {
	return os.Getenv("PORT") // want `os.Getenv reads the environment outside the config package`
}

func Lookup() bool {
	_, ok := os.LookupEnv("DEBUG") // want `os.LookupEnv reads the environment`
	return ok
}
