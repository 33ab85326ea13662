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
