/**
 * A TensorBoard summary writer with no TensorFlow: event files `events.out.tfevents.<secs>.<host>.<pid>.<n>`
 * (the naming of TensorBoard's `EventFileWriter`) holding scalars, PNG images and markdown text.
 * `tensorboard --logdir runs/<run>/tb` shows them. Records are appended and flushed promptly, so a
 * killed run keeps everything up to its last step (TensorBoard ignores a torn final record).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { frameRecord } from './record.js';
import { COLORSPACE_RGB, COLORSPACE_RGBA, DATA_CLASS_TENSOR, DT_STRING, SESSION_START, encodeEvent } from './protos.js';

let fileCounter = 0;

export class SummaryWriter {
  readonly file: string;
  private fd: number;
  private lastSync = 0;

  constructor(
    readonly logdir: string,
    opts: { filenameSuffix?: string } = {},
  ) {
    fs.mkdirSync(logdir, { recursive: true });
    const secs = Math.floor(Date.now() / 1000);
    this.file = path.join(
      logdir,
      `events.out.tfevents.${String(secs).padStart(10, '0')}.${os.hostname()}.${process.pid}.${fileCounter++}${opts.filenameSuffix ?? ''}`,
    );
    this.fd = fs.openSync(this.file, 'a');
    this.write({ wall_time: Date.now() / 1000, step: 0, file_version: 'brain.Event:2' });
  }

  private write(event: Parameters<typeof encodeEvent>[0]): void {
    if (this.fd < 0) throw new Error(`SummaryWriter for ${this.logdir} is closed`);
    fs.writeSync(this.fd, frameRecord(encodeEvent(event)));
    if (Date.now() - this.lastSync > 5000) this.flush();
  }

  private summary(step: number, value: object, wallTime?: number): void {
    this.write({ wall_time: wallTime ?? Date.now() / 1000, step, summary: { value: [value] } });
  }

  /** A scalar (TensorBoard's scalars dashboard), stored as `simple_value` like PyTorch's SummaryWriter. */
  scalar(tag: string, value: number, step: number, wallTime?: number): void {
    this.summary(step, { tag, simple_value: value }, wallTime);
  }

  scalars(values: Record<string, number>, step: number, prefix = ''): void {
    for (const [k, v] of Object.entries(values)) if (Number.isFinite(v)) this.scalar(prefix + k, v, step);
  }

  /** A PNG image (the images dashboard). `channels` 3 = RGB, 4 = RGBA. */
  image(tag: string, png: Uint8Array, step: number, size: { width: number; height: number; channels?: 3 | 4 }): void {
    const colorspace = size.channels === 4 ? COLORSPACE_RGBA : COLORSPACE_RGB;
    this.summary(step, {
      tag,
      image: { height: size.height, width: size.width, colorspace, encoded_image_string: png },
    });
  }

  /** Markdown text (the text dashboard): a rank-0 DT_STRING tensor tagged for the `text` plugin. */
  text(tag: string, markdown: string, step: number): void {
    this.summary(step, {
      tag,
      metadata: { plugin_data: { plugin_name: 'text' }, data_class: DATA_CLASS_TENSOR },
      tensor: { dtype: DT_STRING, tensor_shape: {}, string_val: [Buffer.from(markdown, 'utf8')] },
    });
  }

  /**
   * Marks a restart at `step` (a resumed run): TensorBoard then purges the events of earlier files with
   * step ≥ `step`, so the steps the killed run logged after its last checkpoint are not shown twice
   * (the `purge_step` of PyTorch's SummaryWriter).
   */
  sessionStart(step: number, msg = 'resumed'): void {
    this.write({ wall_time: Date.now() / 1000, step, session_log: { status: SESSION_START, msg } });
  }

  flush(): void {
    if (this.fd >= 0) {
      fs.fsyncSync(this.fd);
      this.lastSync = Date.now();
    }
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}
