// Package sample holds structs that exercise every kind of field
// wactorgen supports. Its codec file is generated (go generate) and
// checked: wactorgen's golden test regenerates it, and this package's
// tests round-trip and fuzz the generated code.
package sample

import (
	wactor "github.com/wactor/wactor/guest-sdk/go"
)

//go:generate go run github.com/wactor/wactor/guest-sdk/go/cmd/wactorgen -type Order,Empty

// Level is a named integer type: it encodes as its underlying int.
type Level int16

// Tags is a named slice type.
type Tags []string

// Order has a field of every supported kind.
type Order struct {
	ID      string           `cbor:"id"`
	Qty     int              `cbor:"qty"`
	Small   int8             `cbor:"small,omitempty"`
	Level   Level            `wactor:"level"`
	Count   uint32           `cbor:"count,omitempty"`
	Big     uint64           `cbor:"big,omitempty"`
	Price   float64          `cbor:"price"`
	Ratio   float32          `cbor:"ratio,omitempty"`
	Paid    bool             `cbor:"paid"`
	Blob    []byte           `cbor:"blob,omitempty"`
	Tags    Tags             `cbor:"tags,omitempty"`
	Lines   []Line           `cbor:"lines"`
	Extra   map[string]int64 `cbor:"extra,omitempty"`
	ByName  map[string]*Line `cbor:"by_name,omitempty"`
	Note    *string          `cbor:"note,omitempty"`
	Ship    *Address         `cbor:"ship,omitempty"`
	Bill    Address          `cbor:"bill"`
	Owner   wactor.Ref       `cbor:"owner"`
	Total   wactor.Int       `cbor:"total"`
	Matrix  [][]int          `cbor:"matrix,omitempty"`
	NoTag   string           ``
	Skipped string           `cbor:"-"`
	private string           //nolint:unused // unexported: never encoded
}

// Line is a nested struct, generated because Order contains it.
type Line struct {
	SKU string `cbor:"sku"`
	N   int    `cbor:"n"`
}

// Address is another nested struct.
type Address struct {
	Street string `cbor:"street"`
	City   string `cbor:"city,omitempty"`
}

// Empty has no fields.
type Empty struct{}
