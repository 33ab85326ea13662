/** Types by file extension, for links to vendor-held audio (once copied, the archiver decides from the bytes). */
const AUDIO_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg', wav: 'audio/wav', ogg: 'audio/ogg', oga: 'audio/ogg', opus: 'audio/ogg',
  m4a: 'audio/mp4', mp4: 'audio/mp4', webm: 'audio/webm', flac: 'audio/flac',
};

/** A vendor's audio link as its normalized href and the type its extension says; undefined unless it is an http(s) URL. */
export function audioLink(url: string | null | undefined, fallbackType: string): { href: string; contentType: string } | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  const ext = /\.([A-Za-z0-9]{2,5})$/.exec(parsed.pathname)?.[1]?.toLowerCase();
  const contentType = (ext !== undefined && Object.hasOwn(AUDIO_TYPES, ext) ? AUDIO_TYPES[ext] : undefined) ?? fallbackType;
  return { href: parsed.href, contentType };
}
