// Wall time of one watsonx JWT verification with jose (WebCrypto): `npx tsx bench/experiments/jwt-verify.ts`.
import { SignJWT } from 'jose';
import { verifyJwt } from '../../functions/audio-webhook/jwt.ts';
const secret = 'bench-secret-0123456789';
const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(secret));
const auth = `Bearer ${token}`;
for (let i = 0; i < 2000; i++) await verifyJwt(auth, secret);
const n = 20000; const t0 = performance.now();
for (let i = 0; i < n; i++) await verifyJwt(auth, secret);
console.log('jose verify, cached key:', ((performance.now() - t0) / n * 1000).toFixed(1), 'µs wall');

// The same verification letting jose import the raw secret each time (what the handler did before the key cache).
const { jwtVerify } = await import('jose');
const raw = new TextEncoder().encode(secret);
const t1 = performance.now();
for (let i = 0; i < n; i++) await jwtVerify(token, raw, { algorithms: ['HS256'] });
console.log('jose verify, raw secret each time:', ((performance.now() - t1) / n * 1000).toFixed(1), 'µs wall');
