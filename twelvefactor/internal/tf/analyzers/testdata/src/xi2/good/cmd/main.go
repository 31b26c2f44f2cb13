package main

import "fmt"

func main() { fmt.Println("a main package may print") }
