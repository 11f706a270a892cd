/**
 * PDF documents the bank sends or prints: letters (通知书) today, the visit pack later. One small
 * renderer over PDFKit (a kept library, pure JavaScript), with Noto Sans SC embedded (OFL-1.1,
 * from the `@embedpdf/fonts-sc` package: its GB2312 set of Simplified Chinese with Latin), so
 * that Chinese and English read the same on any machine; PDFKit embeds only the glyphs used.
 *
 * A document is a list of blocks (title, paragraphs, lines, a rule); the caller decides the words,
 * this module only lays them out on A4. Rendering is deterministic: the same blocks and the same
 * `createdAt` give the same bytes (the creation date and the document ID derive from it), so a
 * document's SHA-256 is reproducible.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
// PDFKit is loaded when the first document is rendered, not at start (160 ms of a cold start).
const pdfkit = () => import('pdfkit').then((m) => m.default);

export type PdfBlock =
  | { kind: 'title'; text: string }
  | { kind: 'heading'; text: string }
  | { kind: 'paragraph'; text: string }
  /** Lines set close together, e.g. an address block. */
  | { kind: 'lines'; lines: readonly string[]; align?: 'left' | 'right' }
  | { kind: 'rule' }
  | { kind: 'space'; lines?: number }
  /** A PNG or JPEG (a signature captured on a device), fitted into a box `height` points high. */
  | { kind: 'image'; data: Buffer; height: number }
  /** Strokes drawn on a device (a signature): points in a `width` × `height` canvas, scaled into a box `boxHeight` points high. */
  | { kind: 'strokes'; strokes: readonly (readonly { x: number; y: number }[])[]; width: number; height: number; boxHeight: number };

export interface PdfSpec {
  title: string;
  /** BCP 47, e.g. zh-CN or en: the document's language for readers and screen readers. */
  lang: string;
  author: string;
  subject?: string;
  createdAt: Date;
  blocks: readonly PdfBlock[];
  /** A small line at the foot of every page (a reference number). */
  footer?: string;
}

const require = createRequire(import.meta.url);
let fonts: { regular: Buffer; bold: Buffer } | null = null;

/** The embedded typefaces, read once per process (about 17 MB). */
function fontFiles(): { regular: Buffer; bold: Buffer } {
  if (!fonts) {
    const dir = path.join(path.dirname(require.resolve('@embedpdf/fonts-sc')), '..', 'fonts');
    fonts = { regular: readFileSync(path.join(dir, 'NotoSansHans-Regular.otf')), bold: readFileSync(path.join(dir, 'NotoSansHans-Bold.otf')) };
  }
  return fonts;
}

const MARGIN = 64;

/** Renders the document to PDF bytes. */
export async function renderPdf(spec: PdfSpec): Promise<Buffer> {
  const PDFDocument = await pdfkit();
  const { regular, bold } = fontFiles();
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, bottom: MARGIN, left: MARGIN, right: MARGIN },
    lang: spec.lang,
    displayTitle: true,
    bufferPages: true,
    info: { Title: spec.title, Author: spec.author, Subject: spec.subject ?? spec.title, Creator: 'Arrears', Producer: 'Arrears (PDFKit)', CreationDate: spec.createdAt, ModDate: spec.createdAt },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('body', regular);
  doc.registerFont('bold', bold);
  const width = doc.page.width - 2 * MARGIN;
  for (const b of spec.blocks) {
    switch (b.kind) {
      case 'title':
        doc.font('bold').fontSize(16).text(b.text, { align: 'center', width });
        doc.moveDown(1);
        break;
      case 'heading':
        doc.font('bold').fontSize(12).text(b.text, { width });
        doc.moveDown(0.3);
        break;
      case 'paragraph':
        doc.font('body').fontSize(11).text(b.text, { width, lineGap: 3, align: 'left' });
        doc.moveDown(0.6);
        break;
      case 'lines':
        doc.font('body').fontSize(10.5);
        for (const line of b.lines) doc.text(line, { width, align: b.align ?? 'left' });
        doc.moveDown(0.8);
        break;
      case 'rule': {
        const y = doc.y + 2;
        doc.moveTo(MARGIN, y).lineTo(MARGIN + width, y).lineWidth(0.5).strokeColor('#888888').stroke();
        doc.moveDown(0.8);
        break;
      }
      case 'space':
        doc.moveDown(b.lines ?? 1);
        break;
      case 'image': {
        if (doc.y + b.height > doc.page.height - MARGIN) doc.addPage();
        const y = doc.y;
        doc.image(b.data, MARGIN, y, { fit: [width / 2, b.height] });
        doc.y = y + b.height + 6;
        break;
      }
      case 'strokes': {
        if (doc.y + b.boxHeight > doc.page.height - MARGIN) doc.addPage();
        const y = doc.y;
        const scale = Math.min(b.boxHeight / b.height, width / 2 / b.width);
        doc.lineWidth(1.2).strokeColor('#000033').lineCap('round').lineJoin('round');
        for (const stroke of b.strokes) {
          if (stroke.length === 0) continue;
          doc.moveTo(MARGIN + stroke[0]!.x * scale, y + stroke[0]!.y * scale);
          for (const p of stroke.slice(1)) doc.lineTo(MARGIN + p.x * scale, y + p.y * scale);
          if (stroke.length === 1) doc.lineTo(MARGIN + stroke[0]!.x * scale + 0.5, y + stroke[0]!.y * scale);
          doc.stroke();
        }
        doc.strokeColor('#000000');
        doc.y = y + b.height * scale + 6;
        break;
      }
    }
  }
  if (spec.footer) {
    const range = doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      doc.switchToPage(i);
      const bottom = doc.page.margins.bottom;
      doc.page.margins.bottom = 0; // writing inside the margin must not open a new page
      doc.font('body').fontSize(8).fillColor('#555555').text(`${spec.footer}  ·  ${i - range.start + 1}/${range.count}`, MARGIN, doc.page.height - MARGIN / 2, { width, align: 'center', lineBreak: false });
      doc.page.margins.bottom = bottom;
      doc.fillColor('#000000');
    }
  }
  doc.end();
  return done;
}
