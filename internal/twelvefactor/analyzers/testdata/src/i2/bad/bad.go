package bad

type Config struct{ Environment string }

func Verbose(env string) bool {
	return env == "production" // want `the code branches on env == "production"`
}

func Level(cfg Config) int {
	switch cfg.Environment {
	case "staging": // want `the code branches on Environment == "staging"`
		return 1
	}
	return 0
}
