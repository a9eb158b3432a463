package memstore_test

import (
	"testing"

	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/memstore"
	"github.com/wactor/wactor/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.Store { return memstore.New() })
}

func TestLeases(t *testing.T) {
	storagetest.RunLeases(t, func(*testing.T) storage.Store { return memstore.New() })
}
