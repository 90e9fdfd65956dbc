/** The switch for native kernels, apart from them so that checking it loads nothing. */
export const NATIVE_KERNELS_ENV = 'DETRLAB_NATIVE_KERNELS';
/**
 * Whether this process (or worker thread, which gets a copy of the environment) uses native kernels on wasm: on
 * unless DETRLAB_NATIVE_KERNELS=0 (detrlab's wasm kernels only).
 */
export const nativeKernelsRequested = (): boolean => process.env[NATIVE_KERNELS_ENV] !== '0';
