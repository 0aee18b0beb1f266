// The official `cloudflare` npm SDK (7.3.0), pointed at Kino with baseURL, unchanged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Cloudflare from 'cloudflare';
import { Kino, ACCOUNT, TOKEN, makeVideo } from './lib/kino.js';

let kino;
let cf;
const account_id = ACCOUNT;

before(async () => {
  kino = await new Kino().start();
  cf = new Cloudflare({ apiToken: TOKEN, baseURL: kino.baseURL, maxRetries: 0 });
});
after(async () => { await kino.cleanup(); });

test('stream.list on an empty account is []', async () => {
  const page = await cf.stream.list({ account_id });
  assert.deepEqual(page.result, []);
});

test('a bad token is an AuthenticationError with code 10000', async () => {
  const bad = new Cloudflare({ apiToken: 'nope-nope-nope', baseURL: kino.baseURL, maxRetries: 0 });
  await assert.rejects(bad.stream.list({ account_id }), (err) => {
    assert.equal(err.status, 401);
    assert.equal(err.errors[0].code, 10000);
    return true;
  });
});

test('videos: get, edit, list, delete; downloads: create, get, delete', async () => {
  const uid = await kino.upload(makeVideo(join(kino.dir, 'v.mp4')));
  const ready = await kino.waitForState(uid, 'ready');
  assert.equal(ready.status.state, 'ready', JSON.stringify(ready.status));

  const got = await cf.stream.get(uid, { account_id });
  assert.equal(got.uid, uid);
  assert.equal(got.readyToStream, true);
  assert.equal(typeof got.status.pctComplete, 'string');

  const edited = await cf.stream.edit(uid, { account_id, meta: { name: 'renamed' } });
  assert.equal(edited.meta.name, 'renamed');
  const listed = await cf.stream.list({ account_id });
  assert.equal(listed.result.length, 1);

  const created = await cf.stream.downloads.create(uid, { account_id, body: {} });
  assert.ok(created.default, JSON.stringify(created));
  let downloads;
  for (let i = 0; i < 600; i++) {
    downloads = await cf.stream.downloads.get(uid, { account_id });
    if (downloads.default.status !== 'inprogress') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(downloads.default.status, 'ready');
  assert.equal(downloads.default.percentComplete, 100);
  const file = await fetch(downloads.default.url);
  assert.equal(file.status, 200);
  assert.equal(file.headers.get('content-type'), 'video/mp4');

  const deleted = await cf.stream.downloads.delete(uid, { account_id });
  assert.equal(deleted, 'ok');
  assert.deepEqual(await cf.stream.downloads.get(uid, { account_id }), {});

  await cf.stream.delete(uid, { account_id });
  await assert.rejects(cf.stream.get(uid, { account_id }), (err) => err.status === 404);
});

test('copy.create and directUpload.create', async () => {
  const copy = await cf.stream.copy.create({ account_id, url: 'http://127.0.0.1:9/nothing.mp4', meta: { name: 'c' } });
  assert.match(copy.uid, /^[0-9a-f]{32}$/);
  assert.equal(copy.meta.name, 'c');
  const failed = await kino.waitForState(copy.uid, 'ready', 60000);
  assert.equal(failed.status.state, 'error');
  assert.equal(failed.status.errorReasonCode, 'ERR_FETCH_ORIGIN_ERROR');

  const direct = await cf.stream.directUpload.create({ account_id, maxDurationSeconds: 60 });
  assert.match(direct.uid, /^[0-9a-f]{32}$/);
  assert.match(direct.uploadURL, /^http:\/\/127\.0\.0\.1:/);
  const pending = await cf.stream.get(direct.uid, { account_id });
  assert.equal(pending.status.state, 'pendingupload');
});

test('keys and token', async () => {
  const key = await cf.stream.keys.create({ account_id, body: {} });
  assert.match(key.id, /^[0-9a-f]{32}$/);
  assert.ok(Buffer.from(key.pem, 'base64').toString().includes('BEGIN RSA PRIVATE KEY'));
  const jwk = JSON.parse(Buffer.from(key.jwk, 'base64').toString());
  assert.equal(jwk.kid, key.id);
  const keys = await cf.stream.keys.get({ account_id });
  assert.ok(keys.result.some((k) => k.id === key.id));

  const uid = await kino.upload(makeVideo(join(kino.dir, 't.mp4')));
  const token = await cf.stream.token.create(uid, { account_id, downloadable: true });
  assert.equal(token.token.split('.').length, 3);

  await cf.stream.keys.delete(key.id, { account_id });
  const after = await cf.stream.keys.get({ account_id });
  assert.ok(!after.result.some((k) => k.id === key.id));
});

test('webhooks update, get, delete', async () => {
  const hook = await cf.stream.webhooks.update({ account_id, notificationUrl: 'http://127.0.0.1:9/hook' });
  assert.equal(hook.notificationUrl, 'http://127.0.0.1:9/hook');
  assert.match(hook.secret, /^[0-9a-f]+$/);
  const again = await cf.stream.webhooks.update({ account_id, notificationUrl: 'http://127.0.0.1:9/other' });
  assert.equal(again.secret, hook.secret);
  const got = await cf.stream.webhooks.get({ account_id });
  assert.equal(got.notificationUrl, 'http://127.0.0.1:9/other');
  assert.equal(await cf.stream.webhooks.delete({ account_id }), 'ok');
});
