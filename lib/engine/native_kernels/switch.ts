/** The opt-in switch for native kernels, apart from them so that checking it loads nothing. */
export const NATIVE_KERNELS_ENV = 'DETRLAB_NATIVE_KERNELS';
/** Whether this process (or worker thread, which gets a copy of the environment) asks for native kernels. */
export const nativeKernelsRequested = (): boolean => process.env[NATIVE_KERNELS_ENV] === '1';
