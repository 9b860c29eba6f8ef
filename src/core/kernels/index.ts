// Kernels to verify on besides the host's: a per-user cache of kernel images (fetched from Debian's archive or added
// from a file), booted under QEMU as Targets, and the matrix that asks several of them at once.
export { KernelCache, kernelCacheDir, checkKernelName, compareVersions, type CachedKernel, type KernelMeta } from './cache';
export { readBzImage, kernelVersionOf } from './bzImage';
export { fetchKernels, DEBIAN_SERIES, FETCHABLE, KernelFetchError, type FetchProgress } from './fetch';
export { KernelTarget, type KernelTargetConfig } from './kernelTarget';
export { MAX_VMS } from './vmSlots';
export { type VmAccel } from './qemu';
export { VmPool, type VmPoolOptions } from './vmPool';
export { verifyMatrix, resolveKernelRefs, kernelTargets, hostKernelVersion, upstreamVersion, KernelNotAvailable, type MatrixEntry, type MatrixKernel } from './matrix';
