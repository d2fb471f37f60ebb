// go-server: a TCP server as Go writes them, for the bpf suite. Go's
// runtime turns keepalive on for every accepted connection, with 15 s for
// both the idle time and the interval (net.ListenConfig's default), and
// sets nothing else; a Go binary is statically linked (CGO_ENABLED=0), so
// no LD_PRELOAD shim reaches it.
//
// Usage: go-server PORT. Prints "listening PID", then "accepted PORT" for
// each client (its port) and "lost PORT ERROR" when reading from it fails.
package main

import (
	"fmt"
	"net"
	"os"
)

func serve(c net.Conn) {
	port := c.RemoteAddr().(*net.TCPAddr).Port
	fmt.Printf("accepted %d\n", port)
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			fmt.Printf("lost %d %v\n", port, err)
			c.Close()
			return
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-server PORT")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-server:", err)
		os.Exit(1)
	}
	fmt.Printf("listening %d\n", os.Getpid())
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "go-server:", err)
			os.Exit(1)
		}
		go serve(c)
	}
}
