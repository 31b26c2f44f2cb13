package good

import "iii1/good/config"

func Port() string { return config.Port() }
