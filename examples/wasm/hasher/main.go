// Command hasher is a stateless worker: a CPU-bound actor that keeps no
// state, deployed with stateless_worker in the manifest so that several
// instances serve one actor id at once (see examples/wactor.yaml).
//
//	digest {"data": bytes, "rounds": n} -> {"sha256": 32 bytes}
//
// digest hashes data with SHA-256, then hashes the hash, rounds times in
// all (1 to 1,000,000; 1 when absent).
package main

import (
	"crypto/sha256"

	wactor "github.com/wactor/wactor/guest-sdk/go"
)

//go:generate go run github.com/wactor/wactor/guest-sdk/go/cmd/wactorgen -type digestRequest,digestReply

// maxRounds bounds the work of one message.
const maxRounds = 1_000_000

type digestRequest struct {
	Data   []byte `cbor:"data"`
	Rounds int64  `cbor:"rounds"`
}

func (r digestRequest) Validate() error {
	if r.Rounds < 0 || r.Rounds > maxRounds {
		return wactor.NewError(wactor.CodeBadRequest, `digest needs "rounds" from 1 to 1000000`)
	}
	return nil
}

type digestReply struct {
	SHA256 []byte `cbor:"sha256"`
}

func init() {
	wactor.HandleTyped("digest", func(_ *wactor.Context, req digestRequest) (digestReply, error) {
		sum := sha256.Sum256(req.Data)
		for i := int64(1); i < req.Rounds; i++ {
			sum = sha256.Sum256(sum[:])
		}
		return digestReply{SHA256: sum[:]}, nil
	})
}

func main() {}
