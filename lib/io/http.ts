/**
 * A GET that follows redirects across http and https (node's own modules, no dependency), with an
 * idle timeout. Returns the final response with its body unread; the caller consumes or destroys it.
 */
import * as http from 'node:http';
import * as https from 'node:https';

export interface HttpGetOptions {
  headers?: Record<string, string>;
  /** Redirect hops to follow before giving up (default 10). */
  maxRedirects?: number;
  /** Fail with "timed out" when the socket is idle this long, before or during the body (default 60 s). */
  idleTimeoutMs?: number;
}

export interface HttpResponse {
  res: http.IncomingMessage;
  /** The URL that answered, after redirects. */
  url: string;
  status: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function requestOnce(url: URL, opts: HttpGetOptions): Promise<http.IncomingMessage> {
  const mod = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
  if (!mod) return Promise.reject(new Error(`unsupported protocol '${url.protocol}' in ${url.href}`));
  return new Promise((resolve, reject) => {
    let response: http.IncomingMessage | undefined;
    const req = mod.get(url, { headers: { 'user-agent': 'detrlab', ...opts.headers } }, (res) => {
      response = res;
      resolve(res);
    });
    const secs = ((opts.idleTimeoutMs ?? 60_000) / 1000).toFixed(0);
    req.setTimeout(opts.idleTimeoutMs ?? 60_000, () => {
      // the socket timeout also fires while the body streams; the body then fails with this error, not "aborted"
      const e = new Error(`timed out: no data for ${secs} s from ${url.host}`);
      response?.destroy(e);
      req.destroy(e);
    });
    req.on('error', reject);
  });
}

/** GET `url`, following up to `maxRedirects` redirects (relative Location headers included). */
export async function httpGet(url: string, opts: HttpGetOptions = {}): Promise<HttpResponse> {
  let current = new URL(url);
  const max = opts.maxRedirects ?? 10;
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(current, opts);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (!REDIRECTS.has(status) || !location) return { res, url: current.href, status };
    res.resume(); // drain the redirect body so the socket can be reused
    if (hop >= max) throw new Error(`more than ${max} redirects starting at ${url}`);
    current = new URL(location, current);
  }
}
