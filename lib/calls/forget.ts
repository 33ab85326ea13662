import { SOURCES, type Source } from '#shared/model';
import { toE164 } from '#shared/phone';
import { clean } from './format.ts';
import { isSource } from '#shared/model';
import { UsageError, type Target } from './target.ts';
import {
  bucketFeatures, callsByPhone, planCalls, eraseCalls, buildReceipt, writeReceipt, phoneHash, setHold,
  type CallPlan, type ErasureRequest, type ErasureStore,
} from './erasure.ts';

/**
 * `calls forget` and `calls hold` (docs/compliance.md): list what a call (or
 * every call of a number) has in the table and the bucket, then erase it all
 * or place / lift a hold. The logic is in erasure.ts; this is the dialogue.
 */

export interface ForgetIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Asks the user; undefined when nobody can answer (no terminal). */
  ask?: (question: string) => Promise<string | undefined>;
}

export interface ForgetOptions {
  call?: { source: Source; callId: string };
  /** E.164, already normalized like `list --phone`. */
  phone?: string;
  /** Extra UTC day (YYYY-MM-DD) to look under, for a call whose items are gone. */
  day?: string;
  yes: boolean;
  dryRun: boolean;
}

function storeOf(target: Target): ErasureStore {
  const { s3, ddb, bucketName, tableName } = target.reader;
  return { s3, ddb, bucketName, tableName };
}

function describePlan(p: CallPlan): string[] {
  const versions = p.objects.length;
  const keys = new Set(p.objects.map((o) => o.key)).size;
  const lines = [`${p.source} ${clean(p.callId)}: ${p.items.length} index item(s), ${keys} object(s) in ${versions} version(s)`];
  for (const i of p.items) lines.push(`  item    ${clean(i.SK)}`);
  for (const o of p.objects) lines.push(`  ${o.deleteMarker ? 'marker' : 'object'}  ${clean(o.key)}${o.versionId ? `  version ${clean(o.versionId)}` : ''}`);
  return lines;
}

export async function forget(opts: ForgetOptions, target: Target, io: ForgetIo): Promise<number> {
  const store = storeOf(target);
  const features = await bucketFeatures(store);
  const extraDays = opts.day ? [opts.day] : [];
  let request: ErasureRequest;
  let refs;
  if (opts.phone !== undefined) {
    request = { by: 'phone', phoneHash: phoneHash(await target.receiptKey(), opts.phone) };
    refs = await callsByPhone(store, opts.phone);
    io.err(`Number recorded in the receipt as ${request.phoneHash}`);
  } else if (opts.call) {
    request = { by: 'call', ...opts.call };
    refs = [opts.call];
  } else {
    throw new Error('forget needs a call or a phone number');
  }
  const plans = (await planCalls(store, features, refs, { extraDays })).filter((p) => p.items.length || p.objects.length);
  if (!features.versioned) io.err(`The bucket is not versioned: each key is one object.`);

  if (!plans.length) {
    io.out(opts.phone !== undefined ? 'No call is stored for this number.' : `Nothing is stored for ${opts.call?.source} ${clean(opts.call?.callId ?? '')} in ${target.description}${opts.day ? '' : ' (if its index items are gone, add --day YYYY-MM-DD)'}.`);
    if (opts.phone === undefined || opts.dryRun) return opts.phone === undefined ? 1 : 0;
  }
  for (const p of plans) io.out(describePlan(p).join('\n'));

  const refused = plans.filter((p) => p.refusals.length);
  if (refused.length) {
    for (const p of refused) io.err(`Refused: ${p.source} ${clean(p.callId)} is held: ${p.refusals.map(clean).join('; ')}`);
    io.err(`Nothing was erased. Lift the hold with \`npm run calls -- hold <source> <callId> --release\` first.`);
    return 1;
  }
  const total = plans.reduce((n, p) => n + p.items.length + p.objects.length, 0);
  if (opts.dryRun) {
    io.err(`Dry run: ${plans.length} call(s), ${total} item(s) and object version(s) would be erased; nothing was.`);
    return 0;
  }
  if (plans.length && !opts.yes) {
    const answer = await io.ask?.(`Erase ${plans.length} call(s) — ${total} item(s) and object version(s) — from ${target.description}? This cannot be undone. Type yes to erase: `);
    if (answer?.trim().toLowerCase() !== 'yes') {
      io.err(answer === undefined ? 'Not confirmed (no terminal to ask): pass --yes. Nothing was erased.' : 'Not confirmed. Nothing was erased.');
      return 1;
    }
  }
  const erased = await eraseCalls(store, features, plans, { extraDays });
  const receipt = buildReceipt({ request, principal: await target.principal(), store, features, erased });
  const key = await writeReceipt(store, receipt);
  for (const c of erased) {
    for (const f of c.failed) io.err(`Failed: ${c.source} ${clean(c.callId)}: ${clean(f.what)}: ${clean(f.error)}`);
    if (c.remaining.items || c.remaining.objects) io.err(`Still there: ${c.source} ${clean(c.callId)}: ${c.remaining.items} item(s), ${c.remaining.objects} object version(s) (a delivery arrived meanwhile, or a delete failed): run forget again.`);
  }
  const { counts } = receipt;
  io.out(`Erased ${counts.calls} call(s): ${counts.items} item(s), ${counts.objects} object(s) in ${counts.versions} version(s). Receipt: ${key}`);
  return receipt.complete ? 0 : 1;
}

export interface HoldOptions {
  call: { source: Source; callId: string };
  release: boolean;
  day?: string;
}

export async function hold(opts: HoldOptions, target: Target, io: ForgetIo): Promise<number> {
  const store = storeOf(target);
  const features = await bucketFeatures(store);
  const [plan] = await planCalls(store, { ...features, objectLock: false }, [opts.call], { extraDays: opts.day ? [opts.day] : [] });
  if (!plan || (!plan.items.length && !plan.objects.length)) {
    io.err(`Nothing is stored for ${opts.call.source} ${clean(opts.call.callId)} in ${target.description}.`);
    return 1;
  }
  const result = await setHold(store, features, plan, !opts.release, await target.principal());
  const what = `${opts.call.source} ${clean(opts.call.callId)}`;
  const objects = features.objectLock
    ? `S3 legal hold ${opts.release ? 'lifted from' : 'placed on'} ${result.objects.length} object version(s)`
    : 'no S3 legal hold (the bucket has no Object Lock)';
  io.out(`${opts.release ? 'Released' : 'Held'} ${what}: ${objects}; ${result.items.length} index item(s) ${opts.release ? 'unmarked' : 'marked'}.`);
  if (!features.objectLock && !opts.release) {
    io.err('Without Object Lock only `calls forget` honours this hold; the S3 lifecycle does not. Deploy with -c objectLockDays=<days> to have S3 enforce holds (docs/compliance.md).');
  }
  return 0;
}

export type ComplianceCommand = { command: 'forget'; options: ForgetOptions } | { command: 'hold'; options: HoldOptions };

/** Checks forget / hold arguments before anything touches storage. */
export function complianceArgs(
  command: 'forget' | 'hold',
  args: readonly string[],
  values: { phone?: string | undefined; day?: string | undefined; yes?: boolean | undefined; 'dry-run'?: boolean | undefined; release?: boolean | undefined },
  env: Record<string, string | undefined>,
): ComplianceCommand {
  if (values.day !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(values.day) || Number.isNaN(Date.parse(values.day)))) {
    throw new UsageError('--day must be a date YYYY-MM-DD (UTC)');
  }
  const day = values.day !== undefined ? { day: values.day } : {};
  const call = (): { source: Source; callId: string } => {
    const [source, callId] = args;
    if (args.length !== 2 || source === undefined || !callId) throw new UsageError(`${command} needs <source> <callId>${command === 'forget' ? ' or --phone <number>' : ''}`);
    if (!isSource(source)) throw new UsageError(`source must be one of ${SOURCES.join(', ')}`);
    return { source, callId };
  };
  if (command === 'hold') {
    if (values.phone !== undefined || values.yes || values['dry-run']) throw new UsageError('hold takes <source> <callId> [--release] only');
    return { command, options: { call: call(), release: Boolean(values.release), ...day } };
  }
  if (values.release) throw new UsageError('--release belongs to hold');
  const flags = { yes: Boolean(values.yes), dryRun: Boolean(values['dry-run']), ...day };
  if (values.phone !== undefined) {
    if (args.length) throw new UsageError('forget takes either <source> <callId> or --phone <number>, not both');
    const phone = toE164(values.phone, env.DEFAULT_PHONE_REGION?.trim() || 'US');
    if (!phone) throw new UsageError('--phone is not a phone number (use +<country><number>, or set DEFAULT_PHONE_REGION)');
    return { command, options: { phone, ...flags } };
  }
  return { command, options: { call: call(), ...flags } };
}
