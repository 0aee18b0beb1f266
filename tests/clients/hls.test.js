// hls.js (npm) in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// plays a video's HLS stream from Kino to the end. The page comes from a second local server,
// so every request to Kino is cross-origin and needs its CORS headers, as on a real site.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { Kino, makeVideo } from './lib/kino.js';

const require = createRequire(import.meta.url);
const hlsScript = readFileSync(require.resolve('hls.js/dist/hls.min.js'));

// The page: attach hls.js to a muted <video>, play, and report what happens on window.result.
const page = `<!doctype html>
<html><body>
<video id="v" muted playsinline></video>
<script src="/hls.min.js"></script>
<script>
  window.result = { ended: false, errors: [] };
  window.play = (src) => {
    const video = document.getElementById('v');
    const hls = new Hls({ enableWorker: false });
    hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) window.result.errors.push(d.details); });
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch((e) => window.result.errors.push(String(e))));
    video.addEventListener('ended', () => {
      window.result.ended = true;
      window.result.currentTime = video.currentTime;
      window.result.duration = video.duration;
    });
    hls.loadSource(src);
    hls.attachMedia(video);
  };
</script>
</body></html>`;

let kino;
let site;
let siteUrl;
let browser;

before(async () => {
  kino = await new Kino().start();
  site = createServer((req, res) => {
    if (req.url === '/hls.min.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(hlsScript);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(page);
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${site.address().port}/`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await kino?.cleanup();
});

// The inputs of tests/integration/pipeline_test.cc that become playable videos, made the same
// way: each plays to the end in the browser, copied top rendition or encoded ladder alike.
const V = ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=2'];
const A = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=2'];
const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
const AAC = ['-c:a', 'aac', '-ac', '2'];
const inputs = [
  ['moov_end.mp4', [...V, ...A, ...X264, ...AAC]],
  ['hevc.mkv', [...V, ...A, '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', ...AAC]],
  ['vp9.webm', ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=2', ...A,
    '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k', '-c:a', 'libopus', '-ac', '2']],
  // Made as MP4, then remuxed with a display matrix.
  ['rotated.mov', [...V, ...A, ...X264, ...AAC, '-f', 'mp4'], ['-c', 'copy', '-metadata:s:v:0', 'rotate=90']],
  ['mpeg2.ts', [...V, ...A, '-c:v', 'mpeg2video', '-q:v', '5', '-c:a', 'mp2', '-ac', '2', '-f', 'mpegts']],
  ['odd.mp4', ['-f', 'lavfi', '-i', 'testsrc=size=853x479:rate=25:duration=2', ...A,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv444p', ...AAC]],
  ['vfr.mp4', ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=2', ...A,
    '-vf', 'select=lt(n\\,20)+not(mod(n\\,3))', '-fps_mode', 'vfr', ...X264, ...AAC]],
  ['noaudio.mp4', [...V, ...X264]],
  ['mono.mp4', [...V, ...A, ...X264, '-c:a', 'aac', '-ac', '1']],
  ['surround.mp4', [...V, ...A, ...X264, '-af', 'pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0', '-c:a', 'aac']],
  ['tenbit.mp4', [...V, ...A, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p10le', ...AAC]],
  ['fps60.mp4', ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=60:duration=2', ...A, ...X264, ...AAC]],
];

// Plays `src` in a fresh tab and returns window.result once it ended or failed.
async function play(src) {
  const tab = await browser.newPage();
  try {
    await tab.goto(siteUrl);
    assert.equal(await tab.evaluate(() => Hls.isSupported()), true, 'no MSE with H.264/AAC');
    await tab.evaluate((s) => window.play(s), src);
    await tab.waitForFunction(() => window.result.ended || window.result.errors.length > 0, null,
      { timeout: 60000 });
    return await tab.evaluate(() => window.result);
  } finally {
    await tab.close();
  }
}

function assertPlayedToTheEnd(result, video) {
  assert.deepEqual(result.errors, []);
  assert.equal(result.ended, true);
  assert.ok(Math.abs(result.currentTime - result.duration) < 0.1, JSON.stringify(result));
  assert.ok(Math.abs(result.duration - video.duration) < 0.1, `${result.duration} vs ${video.duration}`);
}

test('hls.js in Chromium plays the HLS stream to the end', async (t) => {
  const uid = await kino.upload(makeVideo(join(kino.dir, 'v.mp4'), 3, '640x360'));
  const video = await kino.waitForState(uid, 'ready');
  assert.equal(video.status.state, 'ready', JSON.stringify(video.status));
  const result = await play(video.playback.hls);
  t.diagnostic(`played ${JSON.stringify(result)}; the API says duration ${video.duration}`);
  assertPlayedToTheEnd(result, video);
});

test('every playable input of the pipeline test plays to the end', async (t) => {
  const uids = [];
  const ffmpeg = (args) => execFileSync('ffmpeg', ['-nostdin', '-y', '-loglevel', 'error', ...args]);
  for (const [file, args, remux] of inputs) {
    const path = join(kino.dir, file);
    if (remux) {
      ffmpeg([...args, `${path}.tmp`]);
      ffmpeg(['-i', `${path}.tmp`, ...remux, path]);
    } else {
      ffmpeg([...args, path]);
    }
    uids.push([file, await kino.upload(path, file)]);
  }
  for (const [file, uid] of uids) {
    const video = await kino.waitForState(uid, 'ready');
    assert.equal(video.status.state, 'ready', `${file}: ${JSON.stringify(video.status)}`);
    const result = await play(video.playback.hls);
    t.diagnostic(`${file}: ${JSON.stringify(result)}`);
    assertPlayedToTheEnd(result, video);
  }
});
