import * as os from 'node:os';
import { EngineInfo } from './backend.js';

/**
 * How many data-parallel worker threads to use: one per core on the single-threaded backends (wasm runs
 * one thread per instance in Node; cpu is plain JS), one on backends that use every core themselves
 * (tfjs-node, GPUs). A positive request is taken as is.
 */
export const defaultWorkers = (requested: number, engine: Pick<EngineInfo, 'backend'>): number =>
  requested > 0 ? requested : engine.backend === 'wasm' || engine.backend === 'cpu' ? Math.max(1, os.cpus().length) : 1;
