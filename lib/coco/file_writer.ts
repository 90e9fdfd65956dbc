/**
 * Streams a big text file (a COCO JSON) to `<file>.<pid>.tmp` with large buffered synchronous writes,
 * then `commit()` fsyncs and renames it onto `file` (atomic), or `abort()` removes the temp file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export class AtomicTextWriter {
  private readonly tmp: string;
  private fd: number;
  private parts: string[] = [];
  private pending = 0;
  bytes = 0;

  constructor(
    readonly file: string,
    private readonly flushAt = 4 << 20,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    this.fd = fs.openSync(this.tmp, 'w');
  }

  write(s: string): void {
    this.parts.push(s);
    this.pending += s.length;
    if (this.pending >= this.flushAt) this.flush();
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    fs.writeSync(this.fd, buf);
    this.bytes += buf.length;
    this.parts = [];
    this.pending = 0;
  }

  commit(): void {
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = -1;
    fs.renameSync(this.tmp, this.file);
  }

  abort(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    fs.rmSync(this.tmp, { force: true });
  }
}

/**
 * Writes the elements of one JSON array with commas between them:
 *   w.write('"images":['); const a = new ArrayItems(w); a.add(JSON.stringify(img)); …; w.write(']');
 */
export class ArrayItems {
  count = 0;
  constructor(private readonly w: AtomicTextWriter) {}
  add(json: string): void {
    this.w.write(this.count++ === 0 ? json : ',' + json);
  }
}
