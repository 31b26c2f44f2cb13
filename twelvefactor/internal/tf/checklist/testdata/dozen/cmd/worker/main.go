// Command worker runs background jobs.
package main

func main() {}
