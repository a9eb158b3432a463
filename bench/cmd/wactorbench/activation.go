package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/internal/cputime"
)

func init() {
	measures["activation/wazero"] = func(ctx context.Context, sp *spec) (result, error) {
		return activationWazero(ctx, sp, floorInstantiate)
	}
	measures["activation/wazero-export"] = func(ctx context.Context, sp *spec) (result, error) {
		return activationWazero(ctx, sp, floorExport)
	}
	measures["activation/wazero-call"] = func(ctx context.Context, sp *spec) (result, error) {
		return activationWazero(ctx, sp, floorCall)
	}
}

// floorMode is what the floor does with each instance besides making it.
type floorMode int

const (
	floorInstantiate floorMode = iota // nothing
	floorExport                       // looks wactor_handle up and keeps it
	floorCall                         // calls wactor_abi_version once and keeps it
)

// activationWazero is the floor under an activation: wazero alone
// instantiating sp.Guest, as built, sp.N times with its _initialize run
// (clocks and random granted, the host's imports as no-ops), all kept
// live. It reports instances per second, the process's processor time
// per instance and the growth of resident memory per instance, as
// stormWactor does for activations. With export, each instance also has
// wactor_handle looked up and kept, as any host that calls its instances
// must: wazero gives every api.Function a call engine with a native stack
// of its own (about 11.5 KiB), which lives as long as the function. With
// floorCall, each instance has wactor_abi_version called once through a
// function it keeps, as an activation's turn calls wactor_handle: the
// call writes the top of that stack, a page of its own.
func activationWazero(ctx context.Context, sp *spec, mode floorMode) (result, error) {
	wasm, err := os.ReadFile(sp.Guest)
	if err != nil {
		return nil, err
	}
	rc := wazero.NewRuntimeConfigCompiler()
	if sp.Cache != "" {
		cache, err := wazero.NewCompilationCacheWithDir(sp.Cache)
		if err != nil {
			return nil, err
		}
		rc = rc.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	defer rt.Close(ctx)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return nil, err
	}
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, err
	}
	hb := rt.NewHostModuleBuilder(abi.ImportModule)
	for _, f := range cm.ImportedFunctions() {
		if mod, name, _ := f.Import(); mod == abi.ImportModule {
			noop := api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
			hb.NewFunctionBuilder().WithGoModuleFunction(noop, f.ParamTypes(), f.ResultTypes()).Export(name)
		}
	}
	if _, err := hb.Instantiate(ctx); err != nil {
		return nil, err
	}
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize").
		WithSysWalltime().WithSysNanotime().WithRandSource(rand.Reader)
	if _, err := rt.InstantiateModule(ctx, cm, cfg); err != nil { // warm-up
		return nil, fmt.Errorf("instantiating: %w", err)
	}
	rss0, err := settledRSS()
	if err != nil {
		return nil, err
	}
	mods := make([]api.Module, 0, sp.N)
	var handles []api.Function
	if mode != floorInstantiate {
		handles = make([]api.Function, 0, sp.N)
	}
	start, cpu := time.Now(), cputime.Process()
	for range sp.N {
		mod, err := rt.InstantiateModule(ctx, cm, cfg)
		if err != nil {
			return nil, fmt.Errorf("instantiating: %w", err)
		}
		mods = append(mods, mod)
		switch mode {
		case floorExport:
			f := mod.ExportedFunction(abi.ExportHandle)
			if f == nil {
				return nil, fmt.Errorf("%s exports no %s", sp.Guest, abi.ExportHandle)
			}
			handles = append(handles, f)
		case floorCall:
			f := mod.ExportedFunction(abi.ExportABIVersion)
			if f == nil {
				return nil, fmt.Errorf("%s exports no %s", sp.Guest, abi.ExportABIVersion)
			}
			if _, err := f.Call(ctx); err != nil {
				return nil, fmt.Errorf("calling %s: %w", abi.ExportABIVersion, err)
			}
			handles = append(handles, f)
		}
	}
	d, cpuUsed := time.Since(start), cputime.Process()-cpu
	rss1, err := settledRSS()
	if err != nil {
		return nil, err
	}
	runtime.KeepAlive(handles)
	return result{
		"per_s":   float64(len(mods)) / d.Seconds(),
		"kib_per": float64(rss1-rss0) / float64(len(mods)),
		"cpu_us":  float64(cpuUsed.Microseconds()) / float64(len(mods)),
	}, nil
}
