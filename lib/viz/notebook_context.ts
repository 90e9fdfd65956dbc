/**
 * Are we running inside a tslab kernel? Then displays go to the notebook; otherwise to the terminal.
 */
import { createRequire } from 'node:module';

const req = createRequire(__filename);

export interface TslabDisplay {
  html(s: string): void; markdown(s: string): void; svg(s: string): void; png(b: Uint8Array): void;
  jpeg(b: Uint8Array): void; text(s: string): void; raw(mime: string, b: string | Uint8Array): void;
}
interface TslabModule { display: TslabDisplay; newDisplay(): TslabDisplay }

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
