package suppressed

func Banner(env string) string {
	//twelvefactor:ignore I2 only the banner colour of the local CLI differs
	if env == "dev" { // want `the code branches on env == "dev"`
		return "dev"
	}
	return ""
}
