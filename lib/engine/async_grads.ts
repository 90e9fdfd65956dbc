/**
 * `variableGradsAsync`: tf.variableGrads for a loss function that awaits in the middle.
 *
 * Why: DETR's loss needs values half-way through the graph (the Hungarian matcher reads the cost
 * matrix and solves it in plain JS, as DETR's `HungarianMatcher` does under `torch.no_grad()`). tf.variableGrads
 * takes a synchronous function, so the matcher reads with
 * `dataSync()` — which the webgpu backend cannot do under Node (read_sync.ts). With this helper a
 * training step can do `const out = model.forward(…); const matches = await …; return loss(out, matches)`
 * with ONE forward pass, on every backend.
 *
 * How (tfjs-core 4.22 Engine, dist/tf-core.node.js `Engine.prototype.gradients`): gradients() records
 * the tape only while its own function runs. Here the tape is opened (startTape) and a scope started
 * before `f`, so every kernel of `f` — before and after its awaits — is recorded; then gradients() is
 * called with a function that hands it that recorded tape and returns the loss. gradients() runs the
 * backward pass with the tape closed (nothing extra recorded or kept) and frees the tensors it saved.
 * Caveat: tensor work started by other async code while `f` awaits is recorded too (harmless, but it
 * lives until the backward pass); run one step at a time.
 */
import * as tf from '@tensorflow/tfjs-core';

type GradThunks = Record<string, () => tf.Tensor>;
interface TapeNode {
  saved?: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => GradThunks;
}
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  registeredVariables: Record<string, tf.Variable>;
  startTape(): void;
  endTape(): void;
  startScope(name?: string): void;
  endScope(result?: tf.TensorContainer): void;
  gradients<T extends tf.Tensor>(
    f: () => T,
    xs: tf.Tensor[],
    dy?: T | null,
    allowNoGradients?: boolean,
  ): { value: T; grads: Array<tf.Tensor | null> };
}

function engineInternals(): EngineInternals {
  const e = tf.engine() as unknown as EngineInternals;
  for (const m of ['startTape', 'endTape', 'startScope', 'endScope', 'gradients'] as const) {
    if (typeof e[m] !== 'function')
      throw new Error(`variableGradsAsync: tfjs-core ${tf.version_core} has no Engine.${m} (written for 4.22)`);
  }
  // state.activeTape exists only once a tape has been opened; gradientDepth from the start.
  if (typeof e.state?.gradientDepth !== 'number')
    throw new Error(
      `variableGradsAsync: tfjs-core ${tf.version_core} has no engine.state.gradientDepth (written for 4.22)`,
    );
  return e;
}

/** Frees what the open tape saved for a backward pass that will not happen, and closes it. */
function abandonTape(e: EngineInternals): void {
  for (const node of e.state.activeTape ?? []) for (const t of node.saved ?? []) t.dispose();
  e.state.activeTape = null;
}

/**
 * Makes the backward pass free what it no longer needs as it goes, as PyTorch's autograd does (a node's saved
 * tensors are released once its backward has run): tfjs-core 4.22 keeps every node's saved tensors and every
 * intermediate gradient until the whole backward pass ends (`Engine.gradients` disposes them afterwards), so
 * its peak is all forward activations plus all their gradients. `backpropagateGradients` (tape.js) visits
 * the nodes in reverse, calls `node.gradient(dys)` and evaluates the returned thunks at once; after that a
 * node's saved tensors and its outputs' gradients (`dys`) are used by no one. So each wrapped `gradient`
 * first frees those of the node visited before it, and the returned `release` frees the last one's.
 * A thunk that returns one of its own `dys` or saved tensors (an identity-like gradient) returns a clone
 * (same memory, its own reference), so that gradient survives the release. Values are unchanged.
 */
function releaseDuringBackward(tape: TapeNode[]): () => void {
  let done: Array<tf.Tensor | null> = [];
  const release = () => {
    for (const t of done) if (t && !t.isDisposed) t.dispose();
    done = [];
  };
  for (const node of tape) {
    const gradient = node.gradient;
    if (!gradient) continue;
    node.gradient = (dys) => {
      release();
      const own = new Set<tf.Tensor>([...dys.filter((d): d is tf.Tensor => d !== null), ...(node.saved ?? [])]);
      const thunks = gradient(dys);
      const safe: GradThunks = {};
      for (const [k, thunk] of Object.entries(thunks))
        safe[k] = () => {
          const dx = thunk();
          return own.has(dx) ? dx.clone() : dx;
        };
      done = [...dys, ...(node.saved ?? [])];
      return safe;
    };
  }
  return release;
}

/**
 * Like tf.variableGrads(f, varList) (tfjs-core `variableGrads`: trainable variables by default, grads
 * keyed by variable name, only variables the loss depends on), but `f` may be async.
 */
export async function variableGradsAsync(
  f: () => Promise<tf.Scalar>,
  varList?: tf.Variable[],
): Promise<{ value: tf.Scalar; grads: tf.NamedTensorMap }> {
  const e = engineInternals();
  const vars = varList ?? Object.values(e.registeredVariables).filter((v) => v.trainable);
  if (vars.length === 0) throw new Error('variableGradsAsync: no trainable variables');
  if (e.state.gradientDepth !== 0) throw new Error('variableGradsAsync cannot run inside another gradient computation');
  e.startScope('variableGradsAsync');
  e.startTape();
  let value: tf.Scalar, grads: Array<tf.Tensor | null>;
  try {
    const y = await f();
    if (!(y instanceof tf.Tensor) || y.rank !== 0)
      throw new Error(
        `variableGradsAsync: f must return a scalar tensor, got ${y instanceof tf.Tensor ? `rank ${y.rank}` : typeof y}`,
      );
    const tape = e.state.activeTape;
    e.endTape(); // depth 0: gradients() opens a fresh tape …
    const release = releaseDuringBackward(tape ?? []);
    ({ value, grads } = e.gradients(
      () => {
        e.state.activeTape = tape;
        return y;
      },
      vars,
      null,
      true,
    )); // … and is handed ours
    release();
  } catch (err) {
    if (e.state.gradientDepth > 0) e.endTape();
    abandonTape(e);
    e.endScope();
    throw err;
  }
  const named: tf.NamedTensorMap = {};
  vars.forEach((v, i) => {
    const g = grads[i];
    if (g) named[v.name] = g;
  });
  e.endScope({ value, grads: named }); // frees f's intermediates, keeps the results
  if (Object.keys(named).length === 0) {
    tf.dispose(value);
    throw new Error('variableGradsAsync: the loss does not depend on any of the variables');
  }
  return { value, grads: named };
}

/**
 * Runs `f` with the gradient tape off, like code under `torch.no_grad()`: its kernels are not recorded, so
 * nothing they save for a backward pass is kept, and their results are constants to any gradient computed
 * around them. For layers with nothing to train that sit before everything trainable (a frozen backbone
 * stem), where PyTorch's autograd records nothing either because no input requires grad. Outside a gradient
 * computation it just runs `f`. (tfjs-core 4.22 `Engine.isTapeOn`: gradientDepth > 0 and kernelDepth 0.)
 */
export function withoutTape<T>(f: () => T): T {
  const e = engineInternals();
  const depth = e.state.gradientDepth;
  if (depth === 0) return f();
  e.state.gradientDepth = 0;
  try {
    return f();
  } finally {
    e.state.gradientDepth = depth;
  }
}
