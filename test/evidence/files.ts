import { deflateSync } from 'node:zlib';
import { pngChunk } from '../../src/seed/files.ts';

/** Tiny, well-formed files of each type (and a few that must be refused), built in code. */


export const files = {
  pdf: (text = 'Promise to repay') =>
    Buffer.from(
      `%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n% ${text}\ntrailer <</Root 1 0 R>>\n%%EOF\n`,
      'latin1',
    ),
  jpeg: () =>
    Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
      Buffer.from('JFIF\0', 'latin1'),
      Buffer.from([0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
      Buffer.alloc(64, 0x20),
      Buffer.from([0xff, 0xd9]),
    ]),
  /** A real 1×1 PNG (signature, IHDR, IDAT, IEND with their CRCs). */
  png: (shade = 0x80) => {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(1, 0);
    ihdr.writeUInt32BE(1, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 0; // greyscale
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pngChunk('IHDR', ihdr),
      pngChunk('IDAT', deflateSync(Buffer.from([0, shade]))),
      pngChunk('IEND', Buffer.alloc(0)),
    ]);
  },
  /** 0.01 s of 8 kHz 16-bit mono silence. */
  wav: () => {
    const samples = Buffer.alloc(160);
    const header = Buffer.alloc(44);
    header.write('RIFF', 0, 'ascii');
    header.writeUInt32LE(36 + samples.length, 4);
    header.write('WAVE', 8, 'ascii');
    header.write('fmt ', 12, 'ascii');
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20); // PCM
    header.writeUInt16LE(1, 22); // mono
    header.writeUInt32LE(8000, 24);
    header.writeUInt32LE(16000, 28);
    header.writeUInt16LE(2, 32);
    header.writeUInt16LE(16, 34);
    header.write('data', 36, 'ascii');
    header.writeUInt32LE(samples.length, 40);
    return Buffer.concat([header, samples]);
  },
  /** An ID3v2 tag and one MPEG-1 Layer III frame (128 kbit/s, 44.1 kHz). */
  mp3: () => Buffer.concat([Buffer.from('ID3', 'latin1'), Buffer.from([3, 0, 0, 0, 0, 0, 0]), Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(413)]),
  /** A bare MPEG frame, no ID3 tag. */
  mp3Frame: () => Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(413)]),
  ftyp: (brand: string) => {
    const box = Buffer.alloc(24);
    box.writeUInt32BE(24, 0);
    box.write('ftyp', 4, 'ascii');
    box.write(brand, 8, 'ascii');
    box.writeUInt32BE(0x200, 12);
    box.write('isom', 16, 'ascii');
    box.write('mp41', 20, 'ascii');
    const mdat = Buffer.alloc(16);
    mdat.writeUInt32BE(16, 0);
    mdat.write('mdat', 4, 'ascii');
    return Buffer.concat([box, mdat]);
  },
  webp: () => {
    const b = Buffer.alloc(40);
    b.write('RIFF', 0, 'ascii');
    b.writeUInt32LE(32, 4);
    b.write('WEBPVP8 ', 8, 'ascii');
    return b;
  },
  /** A Windows executable's first bytes (the "MZ" DOS header). */
  exe: () => Buffer.concat([Buffer.from('MZ', 'latin1'), Buffer.from([0x90, 0, 3, 0, 0, 0, 4, 0]), Buffer.alloc(120), Buffer.from('This program cannot be run in DOS mode.', 'latin1')]),
  text: () => Buffer.from('I promise to pay 5000 yuan by December.\n', 'utf8'),
};

export function blob(bytes: Buffer, type = 'application/octet-stream'): Blob {
  return new Blob([new Uint8Array(bytes)], { type });
}
