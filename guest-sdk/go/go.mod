module github.com/wactor/wactor/guest-sdk/go

go 1.23

require github.com/wactor/wactor/abi v0.0.0

replace github.com/wactor/wactor/abi => ../../abi
