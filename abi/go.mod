module github.com/wactor/wactor/abi

go 1.23
