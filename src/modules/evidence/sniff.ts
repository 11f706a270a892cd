import type { EvidenceKind } from '../../generated/prisma/enums.ts';

/**
 * The type of an evidence file, from its first bytes (magic numbers), never from the name or
 * the Content-Type the client sent: an executable renamed `letter.pdf` is still an executable.
 */
export interface Sniffed {
  contentType: string;
  extension: string;
  /** How people call it, for messages. */
  label: string;
}

const PDF: Sniffed = { contentType: 'application/pdf', extension: 'pdf', label: 'a PDF document' };
const JPEG: Sniffed = { contentType: 'image/jpeg', extension: 'jpg', label: 'a JPEG image' };
const PNG: Sniffed = { contentType: 'image/png', extension: 'png', label: 'a PNG image' };
const WEBP: Sniffed = { contentType: 'image/webp', extension: 'webp', label: 'a WebP image' };
const MP3: Sniffed = { contentType: 'audio/mpeg', extension: 'mp3', label: 'an MP3 recording' };
const M4A: Sniffed = { contentType: 'audio/mp4', extension: 'm4a', label: 'an M4A recording' };
const WAV: Sniffed = { contentType: 'audio/wav', extension: 'wav', label: 'a WAV recording' };
const MP4: Sniffed = { contentType: 'video/mp4', extension: 'mp4', label: 'an MP4 video' };

/** ISO base media (ftyp) major brands of audio-only files. */
const AUDIO_BRANDS = new Set(['M4A ', 'M4B ']);
/** ISO base media major brands of MP4 video. QuickTime (`qt  `), 3GP and HEIF are not accepted. */
const VIDEO_BRANDS = new Set(['isom', 'iso2', 'iso3', 'iso4', 'iso5', 'iso6', 'mp41', 'mp42', 'avc1', 'M4V ', 'MSNV', 'dash', 'mmp4', 'f4v ']);

function startsWith(b: Uint8Array, bytes: readonly number[], at = 0): boolean {
  if (b.length < at + bytes.length) return false;
  return bytes.every((v, i) => b[at + i] === v);
}

function ascii(b: Uint8Array, from: number, to: number): string {
  return b.length < to ? '' : String.fromCharCode(...b.subarray(from, to));
}

/** An MPEG-1/2/2.5 Layer III frame header (frame sync, a defined version, layer III, a valid bitrate and sample rate). */
function isMp3Frame(b: Uint8Array): boolean {
  if (b.length < 4 || b[0] !== 0xff || (b[1]! & 0xe0) !== 0xe0) return false;
  const version = (b[1]! >> 3) & 0b11; // 01 is reserved
  const layer = (b[1]! >> 1) & 0b11; // 01 is layer III
  const bitrate = b[2]! >> 4; // 1111 is invalid
  const sampleRate = (b[2]! >> 2) & 0b11; // 11 is reserved
  return version !== 0b01 && layer === 0b01 && bitrate !== 0b1111 && sampleRate !== 0b11;
}

/** The type of a file from its first bytes (at least 64 should be given); null when it is none of the accepted types. */
export function sniff(head: Uint8Array): Sniffed | null {
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46, 0x2d])) return PDF; // %PDF-
  if (startsWith(head, [0xff, 0xd8, 0xff])) return JPEG;
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return PNG;
  if (ascii(head, 0, 4) === 'RIFF') {
    const form = ascii(head, 8, 12);
    if (form === 'WEBP') return WEBP;
    if (form === 'WAVE') return WAV;
    return null; // AVI and other RIFF forms
  }
  if (ascii(head, 0, 3) === 'ID3' || isMp3Frame(head)) return MP3;
  if (ascii(head, 4, 8) === 'ftyp') {
    const boxSize = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0);
    if (boxSize < 16) return null;
    const brand = ascii(head, 8, 12);
    if (AUDIO_BRANDS.has(brand)) return M4A;
    if (VIDEO_BRANDS.has(brand)) return MP4;
    return null;
  }
  return null;
}

/** What a refused file looks like, for the message (best effort; null when unknown). */
export function describeRefused(head: Uint8Array): string | null {
  if (startsWith(head, [0x4d, 0x5a])) return 'a Windows executable';
  if (startsWith(head, [0x7f, 0x45, 0x4c, 0x46])) return 'an ELF executable';
  if (startsWith(head, [0xcf, 0xfa, 0xed, 0xfe]) || startsWith(head, [0xfe, 0xed, 0xfa, 0xcf]) || startsWith(head, [0xca, 0xfe, 0xba, 0xbe])) {
    return 'a Mach-O executable';
  }
  if (startsWith(head, [0x23, 0x21])) return 'a script';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return 'a ZIP archive (or an Office document)';
  if (startsWith(head, [0x1f, 0x8b])) return 'a gzip archive';
  if (startsWith(head, [0x52, 0x61, 0x72, 0x21])) return 'a RAR archive';
  if (startsWith(head, [0x37, 0x7a, 0xbc, 0xaf])) return 'a 7-Zip archive';
  if (startsWith(head, [0xd0, 0xcf, 0x11, 0xe0])) return 'a legacy Office document';
  if (ascii(head, 0, 4) === 'RIFF') return `a RIFF ${ascii(head, 8, 12).trim() || 'file'}`;
  if (ascii(head, 4, 8) === 'ftyp') {
    const brand = ascii(head, 8, 12);
    if (brand === 'qt  ') return 'a QuickTime movie';
    if (['heic', 'heix', 'mif1', 'msf1'].includes(brand)) return 'a HEIF image';
    if (brand.startsWith('3g')) return 'a 3GP video';
    return `an ISO media file of brand "${brand.trim()}"`;
  }
  if (startsWith(head, [0x47, 0x49, 0x46, 0x38])) return 'a GIF image';
  if (head.length > 0 && head.every((c) => c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c !== 0x7f))) return 'text';
  return null;
}

/** The types each kind of evidence accepts: scans of papers are PDF or an image; recordings are audio or video. */
export const ACCEPTED_TYPES: Record<EvidenceKind, readonly Sniffed[]> = {
  PROMISE_LETTER: [PDF, JPEG, PNG],
  OVERDUE_STATEMENT: [PDF, JPEG, PNG],
  REPAYMENT_AGREEMENT: [PDF, JPEG, PNG],
  NOTE: [PDF, JPEG, PNG],
  DISPUTE_DOCUMENT: [PDF, JPEG, PNG],
  DEBT_VERIFICATION: [PDF, JPEG, PNG],
  PHOTO: [JPEG, PNG, WEBP],
  AUDIO: [MP3, M4A, WAV],
  VIDEO: [MP4],
  // Rendered by sendLetter (src/modules/letters), never uploaded.
  LETTER: [PDF],
  // Printed for a visit (src/modules/visitpack), never uploaded.
  DOSSIER: [PDF],
  NOTICE: [PDF],
};

export function accepts(kind: EvidenceKind, contentType: string): boolean {
  return ACCEPTED_TYPES[kind].some((t) => t.contentType === contentType);
}

/** Every type accepted for some kind, as people read them: "PDF, JPEG, PNG, …". */
export function acceptedNames(kind?: EvidenceKind): string {
  const types = kind ? ACCEPTED_TYPES[kind] : [PDF, JPEG, PNG, WEBP, MP3, M4A, WAV, MP4];
  return types.map((t) => t.extension.toUpperCase().replace('JPG', 'JPEG')).join(', ');
}

/** Other spellings of an extension that name the same type. */
const EXTENSION_ALIASES: Record<string, readonly string[]> = { jpg: ['jpg', 'jpeg', 'jpe'], m4a: ['m4a', 'mp4a'], mp4: ['mp4', 'm4v'] };

/**
 * The file name to keep: the client's base name (no folders, no control characters, at most
 * 200 characters) with the extension of the sniffed type, so that a saved download opens in the
 * program for what it really is (`scan.pdf` holding a JPEG becomes `scan.jpg`).
 */
export function safeFileName(clientName: string | null | undefined, type: Sniffed): string {
  const base = (clientName ?? '').split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  let clean = base.normalize('NFC').replace(/[\u0000-\u001f\u007f"]/g, '').trim().replace(/^\.+/, '');
  const dot = clean.lastIndexOf('.');
  const ext = dot > 0 ? clean.slice(dot + 1).toLowerCase() : '';
  const stem = dot > 0 ? clean.slice(0, dot) : clean;
  const aliases = EXTENSION_ALIASES[type.extension] ?? [type.extension];
  clean = aliases.includes(ext) ? `${stem}.${ext}` : `${stem || 'evidence'}.${type.extension}`;
  if (clean.length > 200) clean = `${Array.from(stem).slice(0, 190).join('')}.${type.extension}`;
  return clean.startsWith('.') ? `evidence${clean}` : clean;
}
