import { describe, expect, it } from 'vitest';
import { accepts, describeRefused, safeFileName, sniff } from '../../src/modules/evidence/sniff.ts';
import { files } from './files.ts';

describe('sniffing the type from the bytes', () => {
  it.each([
    ['pdf', files.pdf(), 'application/pdf', 'pdf'],
    ['jpeg', files.jpeg(), 'image/jpeg', 'jpg'],
    ['png', files.png(), 'image/png', 'png'],
    ['webp', files.webp(), 'image/webp', 'webp'],
    ['wav', files.wav(), 'audio/wav', 'wav'],
    ['mp3 with an ID3 tag', files.mp3(), 'audio/mpeg', 'mp3'],
    ['mp3 frame, no tag', files.mp3Frame(), 'audio/mpeg', 'mp3'],
    ['m4a', files.ftyp('M4A '), 'audio/mp4', 'm4a'],
    ['mp4 (isom)', files.ftyp('isom'), 'video/mp4', 'mp4'],
    ['mp4 (mp42)', files.ftyp('mp42'), 'video/mp4', 'mp4'],
  ])('%s', (_name, bytes, contentType, extension) => {
    expect(sniff(bytes)).toMatchObject({ contentType, extension });
  });

  it.each([
    ['a Windows executable', files.exe()],
    ['an ELF executable', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...Array(56).fill(0)])],
    ['a ZIP archive (or an Office document)', Buffer.from([0x50, 0x4b, 0x03, 0x04, ...Array(60).fill(0)])],
    ['text', files.text()],
    ['a QuickTime movie', files.ftyp('qt  ')],
    ['a RIFF AVI', Buffer.from('RIFF\x10\0\0\0AVI LIST', 'latin1')],
  ])('refuses %s', (label, bytes) => {
    expect(sniff(bytes)).toBeNull();
    expect(describeRefused(bytes)).toBe(label);
  });

  it('refuses what is too short to tell, and bytes that only look like a frame sync', () => {
    expect(sniff(new Uint8Array([0x25, 0x50]))).toBeNull();
    expect(sniff(new Uint8Array())).toBeNull();
    expect(sniff(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toBeNull(); // bitrate 1111 is invalid
    expect(sniff(new Uint8Array([0xff, 0xf1, 0x50, 0x80]))).toBeNull(); // AAC ADTS, not layer III
  });

  it('matches types to kinds', () => {
    expect(accepts('PHOTO', 'image/webp')).toBe(true);
    expect(accepts('PHOTO', 'application/pdf')).toBe(false);
    expect(accepts('AUDIO', 'audio/wav')).toBe(true);
    expect(accepts('AUDIO', 'image/png')).toBe(false);
    expect(accepts('VIDEO', 'video/mp4')).toBe(true);
    expect(accepts('VIDEO', 'audio/mp4')).toBe(false);
    for (const kind of ['PROMISE_LETTER', 'OVERDUE_STATEMENT', 'REPAYMENT_AGREEMENT', 'NOTE'] as const) {
      expect(['application/pdf', 'image/jpeg', 'image/png'].every((t) => accepts(kind, t))).toBe(true);
      expect(accepts(kind, 'audio/mpeg')).toBe(false);
    }
  });

  it('keeps a clean file name with the extension of what the file is', () => {
    const jpeg = sniff(files.jpeg())!;
    expect(safeFileName('scan.pdf', jpeg)).toBe('scan.jpg');
    expect(safeFileName('Photo.JPEG', jpeg)).toBe('Photo.jpeg');
    expect(safeFileName('C:\\Users\\x\\还款承诺书.jpg', jpeg)).toBe('还款承诺书.jpg');
    expect(safeFileName('../../etc/passwd', jpeg)).toBe('passwd.jpg');
    expect(safeFileName('', jpeg)).toBe('evidence.jpg');
    expect(safeFileName('a"b\u0000c.jpg', jpeg)).toBe('abc.jpg');
    expect(safeFileName('x'.repeat(500), jpeg).length).toBeLessThanOrEqual(200);
  });
});
