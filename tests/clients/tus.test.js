// tus-js-client (npm) against Kino: a 50 MB video in 5 MiB chunks, Kino killed with SIGKILL in
// the middle and restarted on the same data directory and port, the same client resuming to
// completion, and the stored original byte-identical to the source.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tus from 'tus-js-client';
import { Kino, TOKEN, makeVideo } from './lib/kino.js';

const MiB = 1024 * 1024;
const TARGET = 50 * 1000 * 1000;

let kino;

before(async () => {
  // No encode workers: the test is about the bytes, not the renditions.
  kino = await new Kino({ KINO_WORKERS: '0' }).start();
});
after(async () => { await kino.cleanup(); });

// A real H.264 video of at least 50 MB made cheaply: lossless ultrafast x264 of a noisy
// 320x240 test pattern (noise keeps it from compressing).
function makeBigVideo(path) {
  execFileSync('ffmpeg', ['-nostdin', '-y', '-loglevel', 'error',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=30',
    '-vf', 'noise=alls=80:allf=t+u', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0',
    '-pix_fmt', 'yuv420p', '-fs', String(TARGET + 2 * MiB), path]);
  const size = statSync(path).size;
  assert.ok(size >= TARGET, `test video is only ${size} bytes`);
  return path;
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

test('tus-js-client survives a SIGKILL of Kino mid-upload and resumes to a byte-identical original', async (t) => {
  const source = readFileSync(makeBigVideo(join(kino.dir, 'big.mp4')));
  let killedAt = -1;
  let restarted = null;
  let offsetAfterRestart = -1;

  const uploadUrl = await new Promise((resolve, reject) => {
    const upload = new tus.Upload(source, {
      endpoint: kino.api,
      chunkSize: 5 * MiB,
      retryDelays: [250, 500, 1000, 2000, 4000, 8000, 8000],
      headers: { Authorization: `Bearer ${TOKEN}` },
      metadata: { name: 'big.mp4', filetype: 'video/mp4' },
      storeFingerprintForResuming: false,
      onBeforeRequest: (req) => {
        // The PATCH that starts past 20 MB: kill Kino as a crash would while its body is on
        // the wire, then bring Kino back on the same port.
        const offset = Number(req.getHeader('Upload-Offset'));
        if (killedAt < 0 && req.getMethod() === 'PATCH' && offset > 20 * 1000 * 1000) {
          killedAt = offset;
          restarted = new Promise((r) => setTimeout(r, 20))
            .then(() => kino.kill9()).then(() => kino.restart());
        }
      },
      onAfterResponse: (req, res) => {
        if (restarted && offsetAfterRestart < 0 && req.getMethod() === 'HEAD') {
          offsetAfterRestart = Number(res.getHeader('Upload-Offset'));
        }
      },
      onError: reject,
      onSuccess: () => resolve(upload.url),
    });
    upload.start();
  });
  await restarted;

  t.diagnostic(`${source.length} bytes; killed in the PATCH from ${killedAt}; resumed from ${offsetAfterRestart}`);
  assert.ok(killedAt > 0 && killedAt < source.length, `killed at ${killedAt}`);
  assert.ok(offsetAfterRestart >= killedAt && offsetAfterRestart < source.length,
    `the client resumed from ${offsetAfterRestart}`);
  const uid = uploadUrl.split('/').pop();
  const video = await kino.waitForState(uid, 'queued', 60000);
  assert.equal(video.status.state, 'queued', JSON.stringify(video.status));
  assert.equal(video.size, source.length);
  const stored = readFileSync(join(kino.dir, 'data', 'blobs', 'videos', uid, 'original'));
  assert.equal(sha256(stored), sha256(source));
});

test('tus-js-client uploads through a one-time direct_user URL without the token', async () => {
  const source = readFileSync(makeVideo(join(kino.dir, 'small.mp4')));
  // The creator's backend makes the upload URL with its token...
  const created = await fetch(`${kino.api}?direct_user=true`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${TOKEN}`, 'Tus-Resumable': '1.0.0',
      'Upload-Length': String(source.length),
      'Upload-Metadata': `maxDurationSeconds ${Buffer.from('60').toString('base64')}`,
    },
  });
  assert.equal(created.status, 201);
  const location = created.headers.get('location');
  assert.match(location, /\/tus\/[0-9a-f]{32}$/);

  // ...and the end user's client needs nothing else.
  await new Promise((resolve, reject) => {
    const upload = new tus.Upload(source, {
      uploadUrl: location, chunkSize: 64 * 1024, onError: reject, onSuccess: resolve,
    });
    upload.start();
  });
  const video = await kino.waitForState(location.split('/').pop(), 'queued', 30000);
  assert.equal(video.status.state, 'queued', JSON.stringify(video.status));
  assert.equal(video.maxDurationSeconds, 60);
});
