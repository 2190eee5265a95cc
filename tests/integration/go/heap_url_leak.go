// heap_url_leak.go — a Go service for heap_url.sh: net/http/pprof on a
// loopback port (written to the file named by -port-file), one leaking
// structure and one bounded one, allocating every 100 ms:
//   - leakRecords appends 64 KiB to a global slice that is never trimmed;
//   - churnCache rewrites a ring of 256 buffers of 16 KiB, 4 per tick (4
//     MiB live, 640 KiB/s of garbage): busy, but bounded. Go's inuse
//     figures are those of the last GC, and objects allocated while it
//     marks count as live, so a churning site's figure moves with GC
//     timing, and rises a little as the leak spaces GCs out; 4 MiB live
//     and a moderate churn keep that within sampling noise.
// MemProfileRate is 4 KiB (Go's default is 512 KiB) so that a profile of a
// few seconds already shows both sites with little sampling noise.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"time"
)

var leaked [][]byte
var ring [256][]byte

//go:noinline
func leakRecords(n int) {
	leaked = append(leaked, make([]byte, n))
}

//go:noinline
func churnCache(i, n int) {
	ring[i%len(ring)] = make([]byte, n)
}

func main() {
	runtime.MemProfileRate = 4096
	portFile := flag.String("port-file", "", "write the pprof port here")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The cache is warm before anyone can look, as in a service that has
	// been up for a while: its filling is not growth to report. It is
	// filled by the very call that churns it (another call line would be
	// another stack, one that shrinks while this one grows), four times
	// over: each P's first ~512 KiB after the rate is set are still
	// sampled at the old rate, so the first slots would be undercounted
	// until rewritten, a rise over the first 6 s. Three GCs: a heap profile
	// may lag two GC cycles behind.
	i, fill, serving := 0, 4*len(ring), false
	for {
		for k := 0; k < fill; k++ {
			churnCache(i, 16<<10)
			i++
		}
		if !serving {
			for k := 0; k < 3; k++ {
				runtime.GC()
			}
			go http.Serve(ln, nil)
			port := ln.Addr().(*net.TCPAddr).Port
			if err := os.WriteFile(*portFile+".tmp", []byte(fmt.Sprintf("%d\n", port)), 0644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			os.Rename(*portFile+".tmp", *portFile)
			fill, serving = 4, true
		}
		leakRecords(64 << 10)
		time.Sleep(100 * time.Millisecond)
	}
}
