/**
 * A local HTTP server on 127.0.0.1 for download tests: serves in-memory files with Range support and
 * injectable faults (cut the connection mid-body, ignore Range, redirect, lie about sizes).
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';

export interface Fault {
  /** Destroy the socket after this many body bytes, for the next `times` requests of the path. */
  cutAfter?: number;
  times?: number;
  /** Answer 200 with the whole file even when a Range is asked. */
  ignoreRange?: boolean;
  /** Answer 200 without Content-Length (body ends when the connection closes); with cutAfter, a clean close. */
  noLength?: boolean;
  /** Answer this HTTP status (e.g. 503) to the next `times` requests. */
  status?: number;
  /** Send `cutAfter` bytes, then go silent without closing (a stall). */
  stall?: boolean;
}

export interface FixtureServer {
  url: string;
  files: Map<string, Buffer>;
  faults: Map<string, Fault>;
  /** path → Location (absolute or relative) answered with 302. */
  redirects: Map<string, string>;
  /** Every request seen: path and Range header. */
  log: Array<{ path: string; range?: string }>;
  close(): Promise<void>;
}

function sendBody(res: http.ServerResponse, body: Buffer, fault: Fault | undefined): void {
  if (fault?.stall && (fault.times ?? 1) > 0) {
    fault.times = (fault.times ?? 1) - 1;
    res.write(body.subarray(0, fault.cutAfter ?? 0)); // and nothing more
    return;
  }
  if (fault?.cutAfter !== undefined && (fault.times ?? 1) > 0) {
    fault.times = (fault.times ?? 1) - 1;
    // let the client read the bytes before the reset (an RST can discard data not yet read)
    res.write(body.subarray(0, fault.cutAfter), () => setTimeout(() => res.socket?.destroy(), 40));
    return;
  }
  res.end(body);
}

function handle(s: FixtureServer, req: http.IncomingMessage, res: http.ServerResponse): void {
  const p = new URL(req.url ?? '/', 'http://x').pathname;
  s.log.push({ path: p, range: req.headers.range });
  const loc = s.redirects.get(p);
  if (loc) {
    res.writeHead(302, { location: loc });
    res.end();
    return;
  }
  const file = s.files.get(p);
  if (!file) {
    res.writeHead(404);
    res.end('not found');
    return;
  }
  const fault = s.faults.get(p);
  if (fault?.status && (fault.times ?? 1) > 0) {
    fault.times = (fault.times ?? 1) - 1;
    res.writeHead(fault.status);
    res.end('unavailable');
    return;
  }
  if (fault?.noLength && !req.headers.range) {
    // a close-delimited body written on the raw socket (node's server would add chunked encoding)
    const n = fault.cutAfter !== undefined && (fault.times ?? 1) > 0 ? fault.cutAfter : file.length;
    if (fault.cutAfter !== undefined) fault.times = (fault.times ?? 1) - 1;
    const sock = req.socket;
    sock.write('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n');
    sock.end(file.subarray(0, n));
    return;
  }
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m && !fault?.ignoreRange) {
    const start = Number(m[1]);
    if (start >= file.length) {
      res.writeHead(416, { 'content-range': `bytes */${file.length}` });
      res.end();
      return;
    }
    res.writeHead(206, {
      'content-length': file.length - start,
      'content-range': `bytes ${start}-${file.length - 1}/${file.length}`,
    });
    sendBody(res, file.subarray(start), fault);
    return;
  }
  res.writeHead(200, { 'content-length': file.length, 'accept-ranges': 'bytes' });
  sendBody(res, file, fault);
}

export async function startFixtureServer(): Promise<FixtureServer> {
  const s = { files: new Map(), faults: new Map(), redirects: new Map(), log: [] } as unknown as FixtureServer;
  const server = http.createServer((req, res) => handle(s, req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  s.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return s;
}

/** Deterministic pseudo-random bytes (so a resumed file is checkably identical). */
export function fixtureBytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}
