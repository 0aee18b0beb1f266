// Downloads as real clients use them: the MP4 in headless Chromium's <video>, the official
// `cloudflare` SDK's stream.downloads unchanged, and the curl commands of Cloudflare's
// "Download videos" page run as written, with Kino's host in place of Cloudflare's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Cloudflare from 'cloudflare';
import { chromium } from 'playwright-core';
import { Kino, ACCOUNT, TOKEN, makeVideo } from './lib/kino.js';

let kino;
let cf;
let uid;  // a ready video with a ready default download, shared by the cases below
const account_id = ACCOUNT;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls GET .../downloads until `type` leaves inprogress; returns the whole result.
async function waitForDownload(id, type = 'default', timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  let result;
  while (Date.now() < deadline) {
    result = (await kino.fetchApi(`/${id}/downloads`)).body?.result;
    if (result?.[type] && result[type].status !== 'inprogress') return result;
    await sleep(100);
  }
  return result;
}

// ffprobe's trace (on stderr) names each box it reads, in file order.
function probeTrace(path) {
  return execFileSync('bash', ['-c', 'ffprobe -v trace "$1" 2>&1', 'probe', path]).toString();
}

function boxes(path) {
  return [...probeTrace(path).matchAll(/type:'([a-z0-9 ]{4})' parent:'root'/g)].map((m) => m[1]);
}

before(async () => {
  kino = await new Kino().start();
  cf = new Cloudflare({ apiToken: TOKEN, baseURL: kino.baseURL, maxRetries: 0 });
  uid = await kino.upload(makeVideo(join(kino.dir, 'v.mp4'), 3));
  const video = await kino.waitForState(uid, 'ready');
  assert.equal(video.status.state, 'ready', JSON.stringify(video.status));
  await kino.fetchApi(`/${uid}/downloads`, { method: 'POST' });
  const result = await waitForDownload(uid);
  assert.equal(result.default.status, 'ready', JSON.stringify(result));
});
after(async () => { await kino.cleanup(); });

test('the MP4 plays to the end in headless Chromium, from another origin', async () => {
  // The page comes from a second origin, so the <video> (crossorigin) and fetch() below are
  // cross-origin requests that only work with Kino's CORS headers.
  const page_server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>player</title>');
  });
  await new Promise((resolve) => page_server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${page_server.address().port}`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--autoplay-policy=no-user-gesture-required', '--no-sandbox'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(origin);
    const url = `${kino.url}/${uid}/downloads/default.mp4`;
    const played = await page.evaluate(async (src) => {
      const video = document.createElement('video');
      video.crossOrigin = 'anonymous';
      video.muted = true;
      video.preload = 'auto';
      document.body.appendChild(video);
      const ended = new Promise((resolve, reject) => {
        video.addEventListener('ended', () => resolve('ended'));
        video.addEventListener('error', () => reject(new Error(`media error ${video.error?.code}: ${video.error?.message}`)));
        setTimeout(() => reject(new Error(`timed out at ${video.currentTime}`)), 60000);
      });
      video.src = src;
      await video.play();
      const how = await ended;
      return { how, currentTime: video.currentTime, duration: video.duration,
        width: video.videoWidth, height: video.videoHeight };
    }, url);
    assert.equal(played.how, 'ended');
    assert.ok(Math.abs(played.duration - 3) < 0.1, JSON.stringify(played));
    assert.ok(Math.abs(played.currentTime - played.duration) < 0.05, JSON.stringify(played));
    assert.ok(played.width > 0 && played.height > 0, JSON.stringify(played));

    // A cross-origin fetch reads the exposed headers, and a Range request works from script.
    const fetched = await page.evaluate(async (src) => {
      const r = await fetch(src, { headers: { Range: 'bytes=0-15' } });
      const bytes = new Uint8Array(await r.arrayBuffer());
      return { status: r.status, range: r.headers.get('content-range'),
        digest: r.headers.get('repr-digest'), etag: r.headers.get('etag'),
        box: String.fromCharCode(...bytes.slice(4, 8)) };
    }, url);
    assert.equal(fetched.status, 206);
    assert.match(fetched.range, /^bytes 0-15\/\d+$/);
    assert.match(fetched.digest, /^sha-256=:[A-Za-z0-9+/]{43}=:$/);
    assert.match(fetched.etag, /^"[0-9a-f]{64}"$/);
    assert.equal(fetched.box, 'ftyp');
  } finally {
    await browser.close();
    page_server.close();
  }
});

test('the cloudflare SDK: downloads.create, get and delete unchanged', async () => {
  const id = await kino.upload(makeVideo(join(kino.dir, 'sdk.mp4')));
  assert.equal((await kino.waitForState(id, 'ready')).status.state, 'ready');

  // The SDK sends no body and no Content-Type.
  const created = await cf.stream.downloads.create(id, { account_id });
  assert.deepEqual(Object.keys(created), ['default']);
  assert.ok(['inprogress', 'ready'].includes(created.default.status));
  assert.equal(typeof created.default.percentComplete, 'number');
  assert.equal(created.default.url, `${kino.url}/${id}/downloads/default.mp4`);

  let got;
  for (let i = 0; i < 600; i++) {
    got = await cf.stream.downloads.get(id, { account_id });
    if (got.default.status !== 'inprogress') break;
    await sleep(100);
  }
  assert.equal(got.default.status, 'ready');
  assert.equal(got.default.percentComplete, 100);
  assert.match(got.default.sha256, /^[0-9a-f]{64}$/);

  // Asking again starts nothing and answers the same ready download.
  const again = await cf.stream.downloads.create(id, { account_id });
  assert.deepEqual(again, got);

  // The SDK has no method for /downloads/audio; make one by hand so that delete has two types.
  await kino.fetchApi(`/${id}/downloads/audio`, { method: 'POST' });
  assert.equal((await waitForDownload(id, 'audio')).audio.status, 'ready');
  assert.equal(await cf.stream.downloads.delete(id, { account_id }), 'ok');
  assert.deepEqual(await cf.stream.downloads.get(id, { account_id }), {});
  assert.equal((await fetch(`${kino.url}/${id}/downloads/default.mp4`)).status, 404);
  assert.equal((await fetch(`${kino.url}/${id}/downloads/audio.m4a`)).status, 404);
});

test('the cloudflare SDK: errors are typed 4xx the SDK does not retry', async () => {
  // Default retries on: a 409 or 5xx would be sent three times; these must fail at once.
  const retrying = new Cloudflare({ apiToken: TOKEN, baseURL: kino.baseURL });
  const direct = await cf.stream.directUpload.create({ account_id, maxDurationSeconds: 60 });
  const started = Date.now();
  await assert.rejects(retrying.stream.downloads.create(direct.uid, { account_id }), (err) => {
    assert.equal(err.status, 422);
    assert.equal(err.constructor.name, 'UnprocessableEntityError');
    assert.equal(err.errors[0].code, 10004);
    return true;
  });
  assert.ok(Date.now() - started < 400, 'the SDK must not have waited to retry');
  await assert.rejects(retrying.stream.downloads.get('00000000000000000000000000000001', { account_id }),
    (err) => err.status === 404 && err.errors[0].code === 10003);
  await assert.rejects(retrying.stream.downloads.delete(direct.uid, { account_id }),
    (err) => err.status === 404 && err.errors[0].code === 10007);
});

test("Cloudflare's three curl commands, verbatim, with Kino's host", async () => {
  const id = await kino.upload(makeVideo(join(kino.dir, 'curl.mp4')));
  assert.equal((await kino.waitForState(id, 'ready')).status.state, 'ready');
  // From "Download videos": only the hosts are swapped for Kino's.
  const commands = [
    `curl -X POST \\
-H "Authorization: Bearer $TOKEN" \\
https://api.cloudflare.com/client/v4/accounts/$ACCOUNT/stream/$VIDEOID/downloads`,
    `curl -X GET \\
-H "Authorization: Bearer $TOKEN" \\
https://api.cloudflare.com/client/v4/accounts/$ACCOUNT/stream/$VIDEOID/downloads`,
    `curl -L \\
-H "Authorization: Bearer $TOKEN" \\
https://videodelivery.net/$VIDEOID/downloads/default.mp4 > download.mp4`,
  ].map((c) => c.replace('https://api.cloudflare.com', kino.url)
    .replace('https://videodelivery.net', kino.url));
  const run = (command) => execFileSync('bash', ['-c', command], {
    cwd: kino.dir,
    env: { ...process.env, TOKEN, ACCOUNT, VIDEOID: id },
    stdio: ['ignore', 'pipe', 'pipe'],  // curl's progress meter goes to stderr
  }).toString();

  const posted = JSON.parse(run(commands[0]));
  assert.equal(posted.success, true);
  assert.ok(['inprogress', 'ready'].includes(posted.result.default.status));
  assert.equal(posted.result.default.url, `${kino.url}/${id}/downloads/default.mp4`);

  let listed;
  for (let i = 0; i < 600; i++) {
    listed = JSON.parse(run(commands[1]));
    if (listed.result.default.status !== 'inprogress') break;
    await sleep(100);
  }
  assert.equal(listed.success, true);
  assert.equal(listed.result.default.status, 'ready');

  run(commands[2]);
  const file = join(kino.dir, 'download.mp4');
  assert.equal(statSync(file).size, listed.result.default.size);
  const order = boxes(file);
  assert.ok(order.indexOf('moov') >= 0 && order.indexOf('moov') < order.indexOf('mdat'), order.join(','));
  const streams = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries',
    'stream=codec_type,codec_name', '-of', 'json', file]).toString()).streams;
  assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  // The whole file decodes without an error.
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
  const sha = execFileSync('sha256sum', [file]).toString().slice(0, 64);
  assert.equal(sha, listed.result.default.sha256);
  assert.ok(readFileSync(file).subarray(4, 8).toString() === 'ftyp');
});
