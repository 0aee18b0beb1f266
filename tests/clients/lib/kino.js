// Starts the real `kino serve` binary on 127.0.0.1 port 0 with a temp data directory, for the
// client tests. KINO_BINARY names the binary (run.sh sets it).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ACCOUNT = '0123456789abcdef0123456789abcdef';
export const TOKEN = 'kino-test-token-0123456789abcdef';

export class Kino {
  constructor(env = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'kino-client-'));
    this.env = env;
    this.proc = null;
    this.url = '';
  }

  async start() {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('KINO_') && k !== 'KINO_BINARY') delete env[k];
    Object.assign(env, {
      KINO_LISTEN: '127.0.0.1:0',
      KINO_DATA_DIR: join(this.dir, 'data'),
      KINO_ACCOUNT_ID: ACCOUNT,
      KINO_API_TOKEN: TOKEN,
      KINO_LADDER: '360,240',
      KINO_X264_PRESET: 'ultrafast',
      KINO_ALLOW_PRIVATE_URLS: '1',
    }, this.env);
    const log = openSync(join(this.dir, 'kino.log'), 'a');
    this.proc = spawn(process.env.KINO_BINARY || '../../build/kino', ['serve'], {
      env, stdio: ['ignore', 'pipe', log],
    });
    this.url = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('kino did not start')), 30000);
      this.proc.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/kino: listening on (\S+)/);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      this.proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`kino exited ${code}`)); });
    });
    this.proc.removeAllListeners('exit');
    return this;
  }

  get api() { return `${this.url}/client/v4/accounts/${ACCOUNT}/stream`; }
  get baseURL() { return `${this.url}/client/v4`; }

  async stop(signal = 'SIGTERM') {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    await new Promise((resolve) => { p.on('exit', resolve); p.kill(signal); });
  }

  async kill9() { await this.stop('SIGKILL'); }

  // Starts again on the same data directory and the same port, so that URLs handed out
  // before (tus upload URLs) keep working.
  async restart() {
    if (this.proc) await this.stop();
    this.env = { ...this.env, KINO_LISTEN: new URL(this.url).host };
    return this.start();
  }

  async cleanup() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async fetchApi(path, init = {}) {
    const headers = { Authorization: `Bearer ${TOKEN}`, ...(init.headers || {}) };
    const r = await fetch(this.api + path, { ...init, headers });
    return { status: r.status, body: await r.json().catch(() => null), headers: r.headers };
  }

  // Polls the video until its state is `state` (or error); returns the video object.
  async waitForState(uid, state, timeoutMs = 120000) {
    const deadline = Date.now() + timeoutMs;
    let video;
    while (Date.now() < deadline) {
      video = (await this.fetchApi(`/${uid}`)).body?.result;
      if (video && (video.status.state === state || video.status.state === 'error')) return video;
      await new Promise((r) => setTimeout(r, 100));
    }
    return video;
  }

  // Basic multipart upload of a local file; returns the uid.
  async upload(path, name = 'video.mp4') {
    const { readFileSync } = await import('node:fs');
    const form = new FormData();
    form.append('file', new Blob([readFileSync(path)]), name);
    const r = await this.fetchApi('', { method: 'POST', body: form });
    if (r.status !== 200) throw new Error(`upload failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.result.uid;
  }
}

// A small H.264/AAC MP4 made by the ffmpeg program (tests only).
export function makeVideo(path, seconds = 2, size = '320x240') {
  execFileSync('ffmpeg', ['-nostdin', '-y', '-loglevel', 'error',
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '50',
    '-c:a', 'aac', '-b:a', '96k', '-shortest', path]);
  return path;
}
