/**
 * Are we running inside a tslab kernel? Then displays go to the notebook; otherwise to the terminal.
 */
import { createRequire } from 'node:module';

const req = createRequire(__filename);

export interface TslabDisplay {
  html(s: string): void;
  markdown(s: string): void;
  svg(s: string): void;
  png(b: Uint8Array): void;
  jpeg(b: Uint8Array): void;
  text(s: string): void;
  raw(mime: string, b: string | Uint8Array): void;
}
interface TslabModule {
  display: TslabDisplay;
  newDisplay(): TslabDisplay;
}
type WriteDisplayData = (
  msg: { data: Record<string, string>; metadata: Record<string, unknown>; transient: Record<string, unknown> },
  update: boolean,
) => void;

/** The tslab module when this process is a tslab kernel executing a cell, else undefined. */
export function tslab(): TslabModule | undefined {
  if (process.env.DETRLAB_NO_NOTEBOOK === '1') return undefined;
  try {
    const jupyter = req('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
    if (jupyter.lastWriteDisplayData == null) return undefined;
    return req('tslab') as TslabModule;
  } catch {
    return undefined;
  }
}

export const inNotebook = (): boolean => tslab() !== undefined;

/**
 * One display_data output carrying several representations of the same thing (a MIME bundle, e.g. a chart
 * as image/svg+xml and image/png), so each front end picks what it renders best. tslab's `display` sends
 * one MIME type per output, so this calls the kernel's writer that `display.raw` itself uses. Binary
 * values are base64-encoded as Jupyter expects. Returns false outside a tslab kernel.
 */
export function displayBundle(
  data: Record<string, string | Uint8Array>,
  metadata: Record<string, unknown> = {},
): boolean {
  if (process.env.DETRLAB_NO_NOTEBOOK === '1') return false;
  let write: WriteDisplayData | null | undefined;
  try {
    write = (req('tslab/dist/jupyter') as { lastWriteDisplayData: WriteDisplayData | null }).lastWriteDisplayData;
  } catch {
    return false;
  }
  if (!write) return false;
  const encoded = Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v : Buffer.from(v).toString('base64')]),
  );
  write({ data: encoded, metadata, transient: {} }, false);
  return true;
}
