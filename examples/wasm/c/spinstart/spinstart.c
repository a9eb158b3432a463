/*
 * spinstart: a module that never finishes starting. Its constructor, which
 * _initialize runs, loops forever. It exports what ABI v1 asks for, so only
 * the start-up limit can refuse it: the host must, at deploy, within the
 * type's turn limit, rather than hang.
 */
#include <stdint.h>

static volatile int forever = 1;

__attribute__((constructor)) static void spin(void)
{
	while (forever) {
	}
}

__attribute__((export_name("wactor_abi_version"))) int32_t abi_version(void) { return 1; }
__attribute__((export_name("wactor_alloc"))) uint32_t alloc(uint32_t n) { return n ? 0 : 0; }
__attribute__((export_name("wactor_handle"))) uint64_t handle(uint32_t ptr, uint32_t len) { return (uint64_t)ptr << 32 | len; }
