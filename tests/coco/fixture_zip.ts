/** Zip archives for tests, made with yazl in memory (and a byte patch for names yazl refuses to write). */
import * as yazl from 'yazl';

export interface ZipItem {
  name: string;
  data?: Buffer | string;
  dir?: boolean;
  mode?: number;
}

export function makeZip(items: ZipItem[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const it of items) {
    if (it.dir) zip.addEmptyDirectory(it.name);
    else
      zip.addBuffer(Buffer.isBuffer(it.data) ? it.data : Buffer.from(it.data ?? ''), it.name, {
        mode: it.mode,
        compress: true,
      });
  }
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/**
 * Replaces an entry name by another of the same byte length in both the local header and the central
 * directory: how a malicious archive (`../evil`, `/etc/x`) is made from a harmless one.
 */
export function patchEntryName(zip: Buffer, from: string, to: string): Buffer {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to)) throw new Error('names must have the same byte length');
  const out = Buffer.from(zip);
  const a = Buffer.from(from);
  let n = 0;
  for (let i = out.indexOf(a); i >= 0; i = out.indexOf(a, i + 1)) {
    out.write(to, i);
    n++;
  }
  if (n < 2) throw new Error(`expected the name in the local header and central directory, found ${n}`);
  return out;
}
