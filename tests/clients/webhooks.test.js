// Webhooks through the official `cloudflare` npm SDK (7.3.0), unchanged: stream.webhooks
// update/get/delete, and the notifications a subscription made that way receives, checked by a
// receiver written the way an integrator would (node:crypto HMAC, timingSafeEqual).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import Cloudflare from 'cloudflare';
import { Kino, ACCOUNT, makeVideo, TOKEN } from './lib/kino.js';

const account_id = ACCOUNT;
let kino;
let cf;
let receiver;
const deliveries = [];
let secret = '';

// Stream's recipe: sig1 = hex HMAC-SHA256(secret, `${time}.${body}`), compared in constant time.
function verify(header, body) {
  const m = /^time=(\d+),sig1=([0-9a-f]{64})$/.exec(header || '');
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
  return timingSafeEqual(Buffer.from(m[2], 'hex'), expected);
}

before(async () => {
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      deliveries.push({
        headers: req.headers, body, signatureOk: verify(req.headers['webhook-signature'], body),
      });
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  kino = await new Kino({ KINO_WEBHOOK_RETRY_BASE_MS: '50' }).start();
  cf = new Cloudflare({ apiToken: TOKEN, baseURL: kino.baseURL, maxRetries: 0 });
});

after(async () => {
  await kino.cleanup();
  await new Promise((resolve) => receiver.close(resolve));
});

const hookUrl = (path = '/hook') => `http://127.0.0.1:${receiver.address().port}${path}`;

async function waitForDelivery(pred, timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = deliveries.find(pred);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no matching delivery among ${deliveries.length}`);
}

test('update, get and delete round-trip; the secret survives a URL change', async () => {
  const first = await cf.stream.webhooks.update({ account_id, notificationUrl: hookUrl('/a') });
  assert.equal(first.notificationUrl, hookUrl('/a'));
  assert.match(first.secret, /^[0-9a-f]{32}$/);
  assert.ok(!Number.isNaN(Date.parse(first.modified)), first.modified);

  // The SDK's other spelling of the field.
  const second = await cf.stream.webhooks.update({ account_id, notification_url: hookUrl('/b') });
  assert.equal(second.notificationUrl, hookUrl('/b'));
  assert.equal(second.secret, first.secret);
  assert.deepEqual(await cf.stream.webhooks.get({ account_id }), second);

  assert.equal(await cf.stream.webhooks.delete({ account_id }), 'ok');
  await assert.rejects(cf.stream.webhooks.get({ account_id }), (err) => {
    assert.equal(err.status, 404);
    assert.equal(typeof err.errors[0].code, 'number');
    return true;
  });
  await assert.rejects(cf.stream.webhooks.delete({ account_id }), (err) => err.status === 404);
});

test('a bad notificationUrl is a BadRequestError', async () => {
  for (const notificationUrl of ['', 'ftp://127.0.0.1/x', 'no-scheme.example/hook']) {
    await assert.rejects(cf.stream.webhooks.update({ account_id, notificationUrl }), (err) => {
      assert.equal(err.status, 400, notificationUrl);
      assert.match(err.errors[0].message, /notificationUrl/);
      return true;
    });
  }
  await assert.rejects(cf.stream.webhooks.update({ account_id }), (err) => err.status === 400);
});

test('a subscription made with the SDK receives signed ready and error events', async () => {
  secret = (await cf.stream.webhooks.update({ account_id, notificationUrl: hookUrl() })).secret;

  const uid = await kino.upload(makeVideo(join(kino.dir, 'w.mp4'), 1, '160x120'));
  const ready = await waitForDelivery((d) => JSON.parse(d.body).uid === uid);
  assert.equal(ready.signatureOk, true, ready.headers['webhook-signature']);
  assert.equal(ready.headers['content-type'], 'application/json');
  assert.equal(ready.headers['webhook-event'], 'video.ready');
  assert.match(ready.headers['webhook-id'], /^[0-9a-f]{32}$/);
  const video = JSON.parse(ready.body);
  assert.equal(video.status.state, 'ready');
  assert.equal(video.readyToStream, true);
  assert.equal((await cf.stream.get(uid, { account_id })).uid, video.uid);

  // A creator's upload that is not a video: the video stays in error and is notified.
  const direct = await cf.stream.directUpload.create({ account_id, maxDurationSeconds: 60 });
  const form = new FormData();
  form.append('file', new Blob(['not a video']), 'notes.txt');
  assert.equal((await fetch(direct.uploadURL, { method: 'POST', body: form })).status, 400);
  const failed = await waitForDelivery((d) => JSON.parse(d.body).uid === direct.uid, 30000);
  assert.equal(failed.signatureOk, true);
  assert.equal(failed.headers['webhook-event'], 'video.error');
  assert.equal(JSON.parse(failed.body).status.state, 'error');

  assert.ok(deliveries.every((d) => d.signatureOk));
});
