// go_saw — a recording subject of the leak benchmark (label ok): a Go
// program whose live set is flat (-live-mb of 64 KiB buffers, one replaced
// each second) while it allocates short-lived garbage at a steady
// -garbage-kb-s. The heap climbs until the collector runs, then falls back
// to the live set: a sawtooth. With the default GOGC=100 the runtime also
// forces a collection every 2 minutes, which caps the period there; run
// with GOGC=off GOMEMLIMIT=192MiB the collector runs only as the heap
// nears the limit (64 MiB live at 192 KiB/s: a period of a few minutes).
// With -release (default) the pages freed by each collection are handed
// back to the kernel right after it (debug.FreeOSMemory), so resident
// memory draws the sawtooth too; without it the runtime keeps them mapped
// and resident memory stays at the high-water mark.
// Standard library only; build with `go build -o go_saw main.go`.
package main

import (
	"flag"
	"math/rand"
	"runtime"
	"runtime/debug"
	"time"
)

var sink []byte

func fill(b []byte, seed byte) {
	for i := 0; i < len(b); i += 512 {
		b[i] = seed + byte(i>>9)
	}
}

func main() {
	liveMB := flag.Int("live-mb", 64, "live set in MiB")
	rateKB := flag.Int("garbage-kb-s", 256, "garbage allocated per second, KiB")
	dur := flag.Duration("duration", time.Hour, "how long to run")
	release := flag.Bool("release", true, "return freed pages to the OS after each collection")
	flag.Parse()

	rnd := rand.New(rand.NewSource(1))
	live := make([][]byte, *liveMB*16)
	for i := range live {
		live[i] = make([]byte, 64<<10)
		fill(live[i], byte(i))
	}
	const tick = 100 * time.Millisecond
	perTick := *rateKB << 10 / 10
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	lastGC := ms.NumGC
	end := time.Now().Add(*dur)
	next := time.Now()
	for n := 0; time.Now().Before(end); n++ {
		// garbage: requests' buffers of 1-32 KiB, touched, then dropped
		for done := 0; done < perTick; {
			b := make([]byte, 1024+rnd.Intn(31<<10))
			fill(b, byte(n))
			sink = b
			done += len(b)
		}
		// churn in the live set without changing its size
		if n%10 == 0 {
			i := rnd.Intn(len(live))
			live[i] = make([]byte, 64<<10)
			fill(live[i], byte(n))
		}
		if *release && n%10 == 0 {
			runtime.ReadMemStats(&ms)
			if ms.NumGC != lastGC {
				debug.FreeOSMemory()
				runtime.ReadMemStats(&ms)
				lastGC = ms.NumGC
			}
		}
		next = next.Add(tick)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
	}
}
