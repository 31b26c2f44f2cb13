package suppressed

import "fmt"

func Banner() {
	//twelvefactor:ignore XI2 the banner is part of the interactive console, not a log line
	fmt.Println("welcome") // want `fmt.Println writes unstructured output`
}
