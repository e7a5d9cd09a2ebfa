// Go 1.19's sync.Map on the two pathologies the Rust harness measures (syncmap-bench, section
// "Pathology"): n unique Stores each followed by a Range that stops at once, and n unique Stores
// each followed by a Load of a missing key. Prints one line per n: total milliseconds.
//
//	go run . [max_n]
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	maxN := 1 << 14
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil {
			maxN = v
		}
	}
	for n := 1 << 10; n <= maxN; n *= 2 {
		var m sync.Map
		start := time.Now()
		for i := 0; i < n; i++ {
			m.Store(i, i)
			m.Range(func(_, _ any) bool { return false })
		}
		rangeMs := float64(time.Since(start).Nanoseconds()) / 1e6

		var m2 sync.Map
		start = time.Now()
		for i := 0; i < n; i++ {
			m2.Store(i, i)
			m2.Load(i | 1<<40)
		}
		missMs := float64(time.Since(start).Nanoseconds()) / 1e6
		fmt.Printf("GoPathology n=%d range_ms=%.3f missing_ms=%.3f\n", n, rangeMs, missMs)
	}
}
