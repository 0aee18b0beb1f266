// The official `cloudflare` npm SDK (7.3.0), unchanged, over Kino's ingest: upload by link from
// a local origin, a direct creator upload, and get/list/edit/delete of the videos.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Cloudflare from 'cloudflare';
import { Kino, ACCOUNT, TOKEN, makeVideo } from './lib/kino.js';

const account_id = ACCOUNT;
let kino;
let cf;
let origin;
let clip;

before(async () => {
  // No encode workers: finished uploads wait in `queued`, which is all these tests look at.
  kino = await new Kino({ KINO_WORKERS: '0' }).start();
  cf = new Cloudflare({ apiToken: TOKEN, baseURL: kino.baseURL, maxRetries: 0 });
  clip = readFileSync(makeVideo(join(kino.dir, 'clip.mp4'), 2, '160x120'));
  origin = createServer((req, res) => {
    if (req.url !== '/clip.mp4') {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': clip.length }).end(clip);
  });
  await new Promise((resolve) => origin.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  origin.close();
  await kino.cleanup();
});

const originUrl = (path) => `http://127.0.0.1:${origin.address().port}${path}`;

test('stream.copy.create fetches the URL into a queued video', async () => {
  const copy = await cf.stream.copy.create({
    account_id, url: originUrl('/clip.mp4'), meta: { name: 'linked' }, creator: 'sdk-user',
    requireSignedURLs: true, thumbnailTimestampPct: 0.5,
  });
  assert.match(copy.uid, /^[0-9a-f]{32}$/);
  assert.equal(copy.status.state, 'downloading');
  assert.equal(copy.meta.name, 'linked');
  assert.equal(copy.creator, 'sdk-user');
  assert.equal(copy.requireSignedURLs, true);
  assert.equal(copy.thumbnailTimestampPct, 0.5);

  const video = await kino.waitForState(copy.uid, 'queued', 60000);
  assert.equal(video.status.state, 'queued', JSON.stringify(video.status));
  assert.equal(video.size, clip.length);
  assert.equal(video.input.width, 160);
  const stored = readFileSync(join(kino.dir, 'data', 'blobs', 'videos', copy.uid, 'original'));
  assert.ok(stored.equals(clip));
});

test('stream.copy.create of a missing file ends in ERR_FETCH_ORIGIN_ERROR', async () => {
  const copy = await cf.stream.copy.create({ account_id, url: originUrl('/missing.mp4') });
  const video = await kino.waitForState(copy.uid, 'queued', 60000);
  assert.equal(video.status.state, 'error');
  assert.equal(video.status.errorReasonCode, 'ERR_FETCH_ORIGIN_ERROR');
});

test('stream.copy.create with a bad URL is a 400 the SDK reports', async () => {
  await assert.rejects(cf.stream.copy.create({ account_id, url: 'ftp://127.0.0.1/a.mp4' }), (err) => {
    assert.equal(err.status, 400);
    assert.equal(err.errors[0].code, 10002);
    return true;
  });
});

test('stream.directUpload.create gives a one-time URL a browser form can post to', async () => {
  const direct = await cf.stream.directUpload.create({
    account_id, maxDurationSeconds: 60, meta: { name: 'from-a-browser' },
  });
  assert.match(direct.uid, /^[0-9a-f]{32}$/);
  assert.equal(direct.uploadURL, `${kino.url}/upload/${direct.uid}`);
  assert.equal((await cf.stream.get(direct.uid, { account_id })).status.state, 'pendingupload');

  const post = () => {
    const form = new FormData();
    form.append('file', new Blob([clip]), 'clip.mp4');
    return fetch(direct.uploadURL, { method: 'POST', body: form });
  };
  const first = await post();
  assert.equal(first.status, 200);
  const video = await cf.stream.get(direct.uid, { account_id });
  assert.equal(video.status.state, 'queued');
  assert.equal(video.meta.name, 'from-a-browser');
  assert.equal(video.maxDurationSeconds, 60);
  const second = await post();
  assert.equal(second.status, 410);
  assert.equal((await second.json()).errors[0].code, 10012);
});

test('stream.get, list with filters, edit and delete', async () => {
  const uid = await kino.upload(join(kino.dir, 'clip.mp4'), 'listed.mp4');
  const got = await cf.stream.get(uid, { account_id });
  assert.equal(got.uid, uid);
  assert.equal(typeof got.status.pctComplete, 'string');
  assert.equal(got.duration, 2);

  const edited = await cf.stream.edit(uid, {
    account_id, meta: { name: 'renamed' }, creator: 'editor', allowedOrigins: ['example.com'],
  });
  assert.equal(edited.meta.name, 'renamed');
  assert.equal(edited.creator, 'editor');
  assert.deepEqual(edited.allowedOrigins, ['example.com']);

  const byCreator = await cf.stream.list({ account_id, creator: 'editor' });
  assert.deepEqual(byCreator.result.map((v) => v.uid), [uid]);
  const bySearch = await cf.stream.list({ account_id, search: 'RENAMED' });
  assert.deepEqual(bySearch.result.map((v) => v.uid), [uid]);
  const pending = await cf.stream.list({ account_id, status: 'pendingupload' });
  assert.ok(pending.result.every((v) => v.status.state === 'pendingupload'));
  const ascending = await cf.stream.list({ account_id, asc: true });
  const created = ascending.result.map((v) => v.created);
  assert.deepEqual(created, [...created].sort());

  await cf.stream.delete(uid, { account_id });
  await assert.rejects(cf.stream.get(uid, { account_id }), (err) => err.status === 404);
  const after = await cf.stream.list({ account_id });
  assert.ok(!after.result.some((v) => v.uid === uid));
});
