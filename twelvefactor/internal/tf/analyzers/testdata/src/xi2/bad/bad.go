package bad

import (
	"fmt"
	"log"
)

func Handle(id string) {
	fmt.Println("handling", id)  // want `fmt.Println writes unstructured output outside the logger`
	log.Printf("handled %s", id) // want `log.Printf writes unstructured output`
	println("done")              // want `builtin println writes to stderr`
}
