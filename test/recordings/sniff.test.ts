import { describe, it, expect } from 'vitest';
import { describeNonAudio, sniffAudio } from '../../functions/recordings/sniff.ts';
import { MP3, WAV } from './support.ts';

describe('sniffAudio: the type comes from the bytes', () => {
  it('recognises the real WAV and MP3 fixtures', () => {
    expect(sniffAudio(WAV.subarray(0, 12))).toEqual({ contentType: 'audio/wav', extension: 'wav' });
    expect(sniffAudio(MP3.subarray(0, 12))).toEqual({ contentType: 'audio/mpeg', extension: 'mp3' });
  });

  it('recognises an MP3 without an ID3 tag from its frame header', () => {
    const id3Size = 10 + ((MP3[6]! << 21) | (MP3[7]! << 14) | (MP3[8]! << 7) | MP3[9]!);
    expect(MP3[id3Size]).toBe(0xff);
    expect(sniffAudio(MP3.subarray(id3Size, id3Size + 12))?.extension).toBe('mp3');
  });

  it('recognises Ogg, FLAC, MP4/M4A and WebM', () => {
    expect(sniffAudio(Buffer.from('OggS\0\x02\0\0\0\0\0\0'))?.contentType).toBe('audio/ogg');
    expect(sniffAudio(Buffer.from('fLaC\0\0\0\x22\x10\0\x10\0'))?.contentType).toBe('audio/flac');
    expect(sniffAudio(Buffer.from('\0\0\0\x20ftypM4A '))?.contentType).toBe('audio/mp4');
    expect(sniffAudio(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0, 0, 0, 0, 0]))?.contentType).toBe('audio/webm');
  });

  it('refuses HTML and JSON pages, empty bodies, and a RIFF that is not WAVE', () => {
    for (const text of ['<!DOCTYPE html><html>', '  <html><body>', '{"error":"expired"}', '[1,2]', '', 'RIFF\0\0\0\0AVI LIST', 'plain text body']) {
      expect(sniffAudio(Buffer.from(text)), text).toBeUndefined();
    }
    expect(describeNonAudio(Buffer.from('\n<!doctype html>'))).toBe('html_page');
    expect(describeNonAudio(Buffer.from('{"a":1}'))).toBe('json_page');
    expect(describeNonAudio(Buffer.alloc(0))).toBe('empty_body');
    expect(describeNonAudio(Buffer.from('RIFF\0\0\0\0AVI '))).toBe('not_audio');
  });

  it('does not take a stray 0xFF byte pair for an MPEG frame', () => {
    expect(sniffAudio(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined();
  });
});

describe('replay --recordings: sample recording links pointed at a local file server', () => {
  it('rewrites every recording URL of the Synthflow and Engage Voice samples, keeping the file names', async () => {
    const { pointRecordingsAt, parseReplayArgs } = await import('../../scripts/replay.ts');
    const { readFileSync } = await import('node:fs');
    const sf = readFileSync(new URL('../../events/payloads/synthflow/call-completed.json', import.meta.url));
    const ev = readFileSync(new URL('../../events/payloads/engage-voice/agent-termination.json', import.meta.url));
    const sfOut = JSON.parse(pointRecordingsAt(sf, 'http://127.0.0.1:8080/').toString()) as { call: { recording_url: string } };
    expect(sfOut.call.recording_url).toBe('http://127.0.0.1:8080/1711646262471x768387119913843100.wav');
    const evOut = JSON.parse(pointRecordingsAt(ev, 'http://127.0.0.1:8080').toString()) as Record<string, string>;
    expect(evOut.recording_url).toBe('http://127.0.0.1:8080/202611201412050130040000123456.wav');
    expect(evOut.sess_agent_perspective_recording_url).toBe('http://127.0.0.1:8080/202611201412050130040000123456-1004217.wav');
    expect(parseReplayArgs(['engage-voice', '--recordings', 'http://127.0.0.1:8080'], {})).toMatchObject({ recordingsBase: 'http://127.0.0.1:8080' });
    expect(parseReplayArgs(['engage-voice', '--recordings'], {})).toMatch(/--recordings needs a base URL/);
  });
});
