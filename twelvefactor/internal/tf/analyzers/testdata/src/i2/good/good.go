package good

func Fast(mode string) bool { return mode == "fast" }

// A product category called "production" is not a deploy name.
func Category(name string) bool { return name == "production" }
