module github.com/wactor/wactor/bench/guests/ring

go 1.23

require (
	github.com/wactor/wactor/abi v0.0.0
	github.com/wactor/wactor/guest-sdk/go v0.0.0
)

replace (
	github.com/wactor/wactor/abi => ../../../abi
	github.com/wactor/wactor/guest-sdk/go => ../../../guest-sdk/go
)
