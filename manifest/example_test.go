package manifest_test

import (
	"errors"
	"fmt"

	"github.com/wactor/wactor/manifest"
)

func ExampleParse() {
	src := `version: 1
http:
  addr: localhost
actors:
  - type: counter
    modul: wasm/counter.wasm
    turn_timeout: 5
`
	_, err := manifest.Parse([]byte(src), ".", "wactor.yaml")
	fmt.Println(err)

	var first *manifest.Error
	if errors.As(err, &first) {
		fmt.Printf("first problem: line %d, column %d, field %s\n", first.Line, first.Column, first.Path)
	}
	// Output:
	// wactor.yaml:3:9: http.addr: "localhost" is not host:port; write e.g. 127.0.0.1:8080, [::1]:8080, or :8080 for every interface
	// wactor.yaml:6:5: actors[0].modul: unknown field "modul" (did you mean "module"?)
	// wactor.yaml:7:19: actors[0].turn_timeout: 5 has no unit; write e.g. 5s for seconds or 5ms for milliseconds
	// first problem: line 3, column 9, field http.addr
}

func ExampleParseSize() {
	for _, s := range []string{"512", "64KiB", "16MiB", "10MB", "16mb"} {
		n, err := manifest.ParseSize(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(s, "=", int64(n), "bytes =", n)
	}
	// Output:
	// 512 = 512 bytes = 512B
	// 64KiB = 65536 bytes = 64KiB
	// 16MiB = 16777216 bytes = 16MiB
	// 10MB = 10000000 bytes = 10000000B
	// "16mb" has an unknown unit "mb"; units are case-sensitive: did you mean 16MB (powers of 1000) or 16MiB (powers of 1024)?
}
