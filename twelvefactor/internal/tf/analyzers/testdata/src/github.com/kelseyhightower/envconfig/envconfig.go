package envconfig

func Process(prefix string, spec any) error { return nil }
