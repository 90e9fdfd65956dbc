/**
 * Profiles: the same notebooks with different parameters. `demo` is each notebook's own defaults (the
 * embedded, CPU-sized run); `coco` is the seed's experiment on real COCO 2017 with
 * facebook/detr-resnet-50 and a real SD 1.5 + ControlNet model folder. Keys are notebook prefixes.
 */
export type ProfileName = 'demo' | 'coco';
export const PROFILE_NAMES: readonly ProfileName[] = ['demo', 'coco'];

export const PROFILES: Record<ProfileName, Record<string, Record<string, unknown>>> = {
  demo: {},
  coco: {},
};

/** Parameters a profile injects into one notebook (by its two-digit prefix). */
export function profileParameters(profile: ProfileName, notebook: string): Record<string, unknown> {
  const prefix = notebook.slice(0, 2);
  return { ...(PROFILES[profile]['*'] ?? {}), ...(PROFILES[profile][prefix] ?? {}) };
}
