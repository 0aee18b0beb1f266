// Signed URLs with independent clients: tokens minted by the `jose` package from the PEM and the
// JWK that Kino hands out, and the official `cloudflare` SDK's stream.keys.* and
// stream.token.create, all used on Kino's delivery paths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import Cloudflare from 'cloudflare';
import { SignJWT, importJWK, compactVerify } from 'jose';
import { Kino, ACCOUNT, TOKEN, makeVideo } from './lib/kino.js';

let kino;
let cf;
let uid;
const account_id = ACCOUNT;

before(async () => {
  kino = await new Kino().start();
  cf = new Cloudflare({ apiToken: TOKEN, baseURL: kino.baseURL, maxRetries: 0 });
  uid = await kino.upload(makeVideo(join(kino.dir, 's.mp4'), 2, '160x120'));
  const ready = await kino.waitForState(uid, 'ready');
  assert.equal(ready.status.state, 'ready', JSON.stringify(ready.status));
  const edited = await cf.stream.edit(uid, { account_id, requireSignedURLs: true });
  assert.equal(edited.requireSignedURLs, true);
});
after(async () => { await kino.cleanup(); });

// GET a delivery path; returns the status and, for 401/403, the error code of the JSON body.
async function deliver(id, path = 'manifest/video.m3u8') {
  const r = await fetch(`${kino.url}/${id}/${path}`);
  const body = r.status === 401 || r.status === 403 ? await r.json() : await r.arrayBuffer();
  return { status: r.status, code: body.error?.code ?? 0 };
}

// A token as a user's own signing code would make it, with jose.
function mint(key, kid, claims = {}) {
  return new SignJWT({ sub: uid, kid, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setNotBefore('-1m')
    .setExpirationTime('10m')
    .sign(key);
}

test('the bare uid of a video that requires signed URLs is refused', async () => {
  assert.deepEqual(await deliver(uid), { status: 401, code: 10024 });
  assert.deepEqual(await deliver(uid, 'thumbnails/thumbnail.jpg'), { status: 401, code: 10024 });
});

test('jose tokens from the returned PEM and JWK are accepted', async () => {
  const created = await cf.stream.keys.create({ account_id, body: {} });
  const pem = Buffer.from(created.pem, 'base64').toString();
  assert.match(pem, /^-----BEGIN RSA PRIVATE KEY-----/);
  const fromPem = await mint(createPrivateKey(pem), created.id);
  assert.deepEqual(await deliver(fromPem), { status: 200, code: 0 });
  assert.deepEqual(await deliver(fromPem, 'manifest/video.mpd'), { status: 200, code: 0 });

  const jwk = JSON.parse(Buffer.from(created.jwk, 'base64').toString());
  assert.equal(jwk.kid, created.id);
  assert.equal(jwk.alg, 'RS256');
  const fromJwk = await mint(await importJWK(jwk, 'RS256'), jwk.kid);
  assert.deepEqual(await deliver(fromJwk), { status: 200, code: 0 });
  assert.deepEqual(await deliver(fromJwk, 'thumbnails/thumbnail.jpg'), { status: 200, code: 0 });

  // A token for another video of nobody: the subject must be the video itself.
  const other = await new SignJWT({ sub: 'somebody-else', kid: jwk.kid })
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
    .setExpirationTime('10m')
    .sign(await importJWK(jwk, 'RS256'));
  assert.deepEqual(await deliver(other), { status: 401, code: 10407 });
});

test('a jose token downloads only with downloadable: true', async () => {
  const created = await cf.stream.keys.create({ account_id, body: {} });
  const key = createPrivateKey(Buffer.from(created.pem, 'base64').toString());
  await cf.stream.downloads.create(uid, { account_id, body: {} });
  let downloads;
  for (let i = 0; i < 600; i++) {
    downloads = await cf.stream.downloads.get(uid, { account_id });
    if (downloads.default.status !== 'inprogress') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(downloads.default.status, 'ready');

  const plain = await mint(key, created.id);
  assert.deepEqual(await deliver(plain, 'downloads/default.mp4'), { status: 403, code: 10411 });
  const downloadable = await mint(key, created.id, { downloadable: true });
  const r = await fetch(`${kino.url}/${downloadable}/downloads/default.mp4`, {
    headers: { Range: 'bytes=0-65535' },
  });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get('content-type'), 'video/mp4');
  assert.equal((await r.arrayBuffer()).byteLength, 65536);
});

test('SDK: keys.create/get/delete, and delete revokes the key\'s tokens', async () => {
  const created = await cf.stream.keys.create({ account_id, body: {} });
  assert.match(created.id, /^[0-9a-f]{32}$/);
  assert.ok(!Number.isNaN(Date.parse(created.created)));
  const listed = await cf.stream.keys.get({ account_id });
  const item = listed.result.find((k) => k.id === created.id);
  assert.ok(item);
  assert.deepEqual(Object.keys(item).sort(), ['created', 'id']);

  const token = await mint(createPrivateKey(Buffer.from(created.pem, 'base64').toString()), created.id);
  assert.deepEqual(await deliver(token), { status: 200, code: 0 });
  await cf.stream.keys.delete(created.id, { account_id });
  assert.deepEqual(await deliver(token), { status: 401, code: 10406 });
  const after = await cf.stream.keys.get({ account_id });
  assert.ok(!after.result.some((k) => k.id === created.id));
  await assert.rejects(cf.stream.keys.delete(created.id, { account_id }), (err) => err.status === 404);
});

test('SDK: token.create with Kino\'s key and with the caller\'s key', async () => {
  const own = await cf.stream.token.create(uid, { account_id });
  assert.deepEqual(await deliver(own.token), { status: 200, code: 0 });
  assert.deepEqual(await deliver(own.token, 'downloads/default.mp4'), { status: 403, code: 10411 });

  const blocked = await cf.stream.token.create(uid, {
    account_id,
    accessRules: [{ type: 'ip.src', action: 'block', ip: ['127.0.0.0/8'] }],
  });
  assert.deepEqual(await deliver(blocked.token), { status: 403, code: 10410 });

  const created = await cf.stream.keys.create({ account_id, body: {} });
  const exp = Math.floor(Date.now() / 1000) + 600;
  const signed = await cf.stream.token.create(uid, {
    account_id, id: created.id, pem: created.pem, exp, downloadable: true, flags: { original: false },
  });
  assert.deepEqual(await deliver(signed.token, 'downloads/default.mp4'), { status: 200, code: 0 });

  // The token is a standard RS256 JWS: jose verifies its signature with the key's public half,
  // and its claims are Stream's (exp and nbf as numeric strings).
  const jwk = JSON.parse(Buffer.from(created.jwk, 'base64').toString());
  const { n, e, kty } = jwk;
  const { payload, protectedHeader } = await compactVerify(signed.token, await importJWK({ n, e, kty }, 'RS256'));
  assert.deepEqual(protectedHeader, { alg: 'RS256', kid: created.id });
  const claims = JSON.parse(new TextDecoder().decode(payload));
  assert.equal(claims.sub, uid);
  assert.equal(claims.exp, String(exp));
  assert.equal(claims.downloadable, true);

  await assert.rejects(
    cf.stream.token.create(uid, { account_id, exp: Math.floor(Date.now() / 1000) + 90000 }),
    (err) => err.status === 400 && err.errors[0].code === 10002,
  );
});

test('alg none and HS256 tokens are refused', async () => {
  const created = await cf.stream.keys.create({ account_id, body: {} });
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = { sub: uid, kid: created.id, exp: Math.floor(Date.now() / 1000) + 600 };
  const none = `${b64({ alg: 'none', kid: created.id })}.${b64(claims)}.`;
  assert.deepEqual(await deliver(none), { status: 401, code: 10402 });
  const hs = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid: created.id })
    .sign(new TextEncoder().encode('a shared secret of at least 32 bytes!'));
  assert.deepEqual(await deliver(hs), { status: 401, code: 10402 });
});
