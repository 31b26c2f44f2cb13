package main

import (
	"log"
	"os"
)

func main() {
	run()
}

func run() {
	if len(os.Args) > 5 {
		log.Fatal("too many arguments") // want `log.Fatal exits the process in run`
	}
}
